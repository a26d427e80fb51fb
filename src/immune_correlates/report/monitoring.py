"""The report's "Immune monitoring over time" section, when the cohort has on-treatment samples.

Four questions, each answered without letting later information leak into earlier time:

* **What was sampled when?** Patients sampled per visit and response group (samples stop at
  progression or death, so later visits hold the patients who did well).
* **Do the cells change on treatment, and more in responders?** Trajectories of NK and CD8 T
  cells (one line per patient, geometric means with t intervals), and the log2 change from
  baseline to the landmark visit compared between groups with rank tests.
* **Does the on-treatment value predict progression afterwards?** Counting-process Cox models
  whose covariate takes each sample's value from the day it was drawn (R's
  ``tmerge(tdc())``): the latest value, and the early change from the landmark visit on.
  Neither gives the patients who lived long enough to be sampled a head start
  (guarantee-time bias).
* **Per-cycle toxicity**: grade >= 3 neutropenia in each cycle against the cycle number and the
  latest NK count known at the cycle's start, a marginal model (GEE, exchangeable working
  correlation, robust SEs) as geepack fits it.

:func:`monitoring_step` computes the tables (a step of :func:`~.pipeline.run_analysis`),
:func:`monitoring_figures` draws the trajectories and :func:`monitoring_section` lays it out.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .. import plots
from .._numbers import format_estimate_ci, p_phrase
from ..data.endpoints import DAYS_PER_MONTH
from ..data.samples import BASELINE, samples_of
from ..errors import ImmuneCorrelatesError, ImmuneCorrelatesWarning
from ..features.cycles import cycle_frame
from ..features.labels import column_label
from ..features.longitudinal import longitudinal_frame
from ..features.trajectories import change_from_baseline
from ..multiplicity import adjust_pvalues
from ..stats.groups.compare import compare_groups
from ..stats.longitudinal.gee import fit_gee
from ..stats.regression.cox import fit_cox
from ..stats.survival.time_varying import time_varying
from .formatting import inference_words, label, name_test
from .tables import format_all_groups, format_model_table

__all__ = [
    "MONITORED",
    "MONITORING_METHODS",
    "has_monitoring",
    "monitoring_step",
    "monitoring_figures",
    "monitoring_section",
]

#: Features followed over time (those the panel has); the first two are modelled.
MONITORED = ("nk_per_ul", "cd8_per_ul", "cll_per_ul", "nk_function_score", "t_function_score")
#: Preferred landmark visit for the early change (else the first scheduled on-treatment visit).
LANDMARK_VISIT = "C3D1"

#: Method paragraphs of the section (merged into the report's methods).
MONITORING_METHODS = {
    "trajectories": (
        "Immune values over time",
        "Each on-treatment sample's features were derived as at baseline; composite function scores of "
        "later samples used the baseline mean and SD of each readout, so they move on one scale. Counts are "
        "summarised per visit by geometric means with t intervals on the log scale; visits not attended are "
        "absent, never zero.",
    ),
    "change_from_baseline": (
        "Change from baseline",
        "Log2 fold change of each count from baseline to the landmark visit, compared between groups with "
        "rank tests (Wilcoxon or Kruskal-Wallis) among the patients sampled at both.",
    ),
    "time_varying_cox": (
        "On-treatment values and progression",
        "Counting-process Cox models (Andersen & Gill, Ann Stat 1982) in which a covariate takes each "
        "sample's value from the day it was drawn until the next sample, as R's tmerge(tdc()) builds them; "
        "time before a patient's first relevant sample does not enter the model. This avoids crediting "
        "patients with the time they had to survive to be sampled (guarantee-time bias; Anderson, Cain & "
        "Gelber, J Clin Oncol 1983).",
    ),
    "gee": (
        "Per-cycle toxicity",
        "Grade >= 3 neutropenia per treatment cycle modelled by generalized estimating equations (Liang & "
        "Zeger, Biometrika 1986) with an exchangeable working correlation within patients and robust "
        "(sandwich) standard errors, Wald intervals and tests, as R's geepack (Halekoh et al., J Stat Softw "
        "2006). With fewer than about 40 patients robust standard errors are too small (Mancl & DeRouen, "
        "Biometrics 2001): read these p-values as descriptive.",
    ),
}


def has_monitoring(cohort, baseline: str = BASELINE) -> bool:
    """Whether the cohort has samples at any timepoint other than ``baseline``."""
    samples = samples_of(cohort)
    return bool(len(samples)) and bool((samples["timepoint"] != baseline).any())


def _landmark(long: pd.DataFrame) -> str:
    later = long[long["timepoint"] != BASELINE]
    counts = later.groupby("timepoint")["patient_id"].nunique()
    if LANDMARK_VISIT in counts and counts[LANDMARK_VISIT] >= 10:
        return LANDMARK_VISIT
    spread = later.groupby("timepoint")["day"].agg(lambda d: d.quantile(0.75) - d.quantile(0.25))
    scheduled = later[later["timepoint"].isin(spread.index[spread <= 14])]
    order = scheduled.groupby("timepoint")["day"].median().sort_values()
    usable = [v for v in order.index if counts[v] >= 10]
    if not usable:
        raise ImmuneCorrelatesError("no scheduled on-treatment visit has 10 or more patients sampled.")
    return usable[0]


def _samples_table(long: pd.DataFrame, group: str) -> pd.DataFrame:
    rows = []
    for visit, one in long.groupby("timepoint", sort=False):
        row = {
            "Visit": visit,
            "Day, median [range]": f"{one['day'].median():.0f} [{one['day'].min():.0f}-{one['day'].max():.0f}]",
            "Patients": one["patient_id"].nunique(),
        }
        for g, n in one.groupby(group, observed=True)["patient_id"].nunique().items():
            row[f"{column_label(group)} {g}"] = int(n)
        rows.append(row)
    out = pd.DataFrame(rows)
    order = long.groupby("timepoint")["day"].median()
    return out.iloc[np.argsort(order.reindex(out["Visit"]).to_numpy(), kind="stable")].fillna(0).reset_index(drop=True)


def _td_rows(frame, long, cfg, col, samples, name, label, scale):
    data = frame.reset_index()[["patient_id", cfg.duration, cfg.event]]
    rows = time_varying(data, cfg.duration, cfg.event, samples, {name: col}, time="month")
    fit = fit_cox(rows, "stop", cfg.event, [name], entry="start", ci=cfg.ci, alpha=cfg.alpha)
    ci = fit.conf_int().loc[name]
    out = {
        "feature": label,
        "scale": scale,
        "n": int(rows.dropna(subset=[name])["patient_id"].nunique()),
        "n_events": int(fit.n_events),
        "hazard_ratio": float(np.exp(fit.params[name])),
        "hazard_ratio_ci_lower": float(np.exp(ci["lower"])),
        "hazard_ratio_ci_upper": float(np.exp(ci["upper"])),
        "p_value": float(fit.pvalues[name]),
        "test": fit.test,
        "ci_method": fit.ci_method,
    }
    return out, fit.excluded.assign(reason=lambda e: f"{label}: " + e["reason"])


def _time_dependent(frame, long, cfg, landmark, modelled) -> tuple[pd.DataFrame, pd.DataFrame]:
    long = long.assign(month=long["day"] / DAYS_PER_MONTH)
    change = change_from_baseline(long, modelled, landmark, scale="log2")
    at = long[long["timepoint"] == landmark][["patient_id", "month"]]
    rows, gone = [], []
    for f in modelled:
        logged = long.assign(value=np.log2(long[f].where(long[f] > 0)))
        r, e = _td_rows(
            frame,
            long,
            cfg,
            "value",
            logged,
            "log2_value",
            f"{column_label(f)}: latest value",
            "per doubling, from each sample on",
        )
        rows.append(r)
        gone.append(e)
        early = at.merge(change[[f"{f}_log2fc_{landmark}"]], left_on="patient_id", right_index=True)
        r, e = _td_rows(
            frame,
            long,
            cfg,
            f"{f}_log2fc_{landmark}",
            early,
            "log2_change",
            f"{column_label(f)}: change baseline to {landmark}",
            f"per doubling since baseline, from {landmark} on",
        )
        rows.append(r)
        gone.append(e)
    table = pd.DataFrame(rows)
    table["q_value"] = adjust_pvalues(table["p_value"].to_numpy(), method=cfg.adjust)
    return table, pd.concat(gone, ignore_index=True)


def _toxicity(cohort, long) -> tuple[pd.DataFrame, dict]:
    cycles = cycle_frame(cohort, pd.DataFrame(index=pd.Index([], name="patient_id")), latest=["nk_per_ul"], long=long)
    cycles["log2_nk_latest"] = np.log2(cycles["nk_per_ul_latest"].where(cycles["nk_per_ul_latest"] > 0))
    fit = fit_gee(cycles, "neutropenia_g3 ~ cycle + log2_nk_latest", "patient_id", cov_struct="exchangeable")
    s = fit.summary().set_index("term").drop(index="Intercept")
    table = pd.DataFrame(
        {
            "feature": ["Cycle number (per cycle)", "NK cells, latest value (per doubling)"],
            "scale": ["per cycle", "log2 of the last count before the cycle"],
            "n": fit.nobs,
            "n_events": int(cycles.loc[cycles["log2_nk_latest"].notna(), "neutropenia_g3"].sum()),
            "odds_ratio": s["odds_ratio"].to_numpy(),
            "odds_ratio_ci_lower": s["odds_ratio_ci_lower"].to_numpy(),
            "odds_ratio_ci_upper": s["odds_ratio_ci_upper"].to_numpy(),
            "p_value": s["p_value"].to_numpy(),
            "q_value": s["p_value"].to_numpy(),
            "test": "wald",
            "ci_method": "wald",
        }
    )
    facts = {
        "cycles": len(cycles),
        "patients": int(cycles["patient_id"].nunique()),
        "neutropenia": int(cycles["neutropenia_g3"].sum()),
        "infection": int(cycles["infection"].sum()),
        "correlation": fit.correlation,
    }
    return table, facts | {"excluded": fit.excluded}


def monitoring_step(run) -> None:
    """A step of the report's run: the long frame and the section's tables (nothing without on-treatment samples)."""
    cfg, cohort = run.config, run.cohort
    if not has_monitoring(cohort, cfg.timepoint):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImmuneCorrelatesWarning)  # their rows are listed in the exclusions
        panel = set(run.catalogue["feature"]) if len(run.catalogue) else set(MONITORED)
        features = [f for f in MONITORED if f in panel]
        long = longitudinal_frame(cohort, features)
        if cfg.group not in long.columns:
            long = long.merge(run.frame[[cfg.group]], left_on="patient_id", right_index=True, how="left")
        landmark = _landmark(long)
        modelled = [f for f in ("nk_per_ul", "cd8_per_ul") if f in features]
        change = change_from_baseline(long, modelled, landmark, scale="log2")
        groups = long.drop_duplicates("patient_id").set_index("patient_id")[cfg.group]
        joined = change.join(groups)
        cols = [f"{f}_log2fc_{landmark}" for f in modelled]
        comparison = compare_groups(joined, cols, cfg.group, adjust=cfg.adjust, alpha=cfg.alpha)
        td, td_gone = _time_dependent(run.frame, long, cfg, landmark, modelled)
        tox, facts = _toxicity(cohort, long)
    run.objects.update(monitoring_long=long, monitoring_landmark=landmark, monitoring_facts=facts)
    run.tables["monitoring_samples"] = _samples_table(long, cfg.group)
    run.tables["monitoring_change"] = comparison
    run.tables["monitoring_time_dependent"] = td
    run.tables["monitoring_neutropenia"] = tox
    run.exclude("monitoring: time-dependent Cox", td_gone)
    run.exclude("monitoring: per-cycle neutropenia", facts["excluded"])
    run.add_record("trajectories", "change_from_baseline", "time_varying_cox", "gee")


def monitoring_figures(res) -> dict:
    """The trajectories of the modelled features: ``{name: (Figure, caption)}``."""
    long = res.objects.get("monitoring_long")
    if long is None:
        return {}
    out = {}
    for f in ("nk_per_ul", "cd8_per_ul"):
        if f not in long.columns:
            continue
        ax = plots.trajectories(long, f, group=res.config.group, alpha=res.config.alpha)
        out[f"trajectory_{f}"] = (
            ax.figure,
            f"{column_label(f)} over time by {column_label(res.config.group).lower()}: one thin line per patient, "
            f"geometric mean with its {100 * (1 - res.config.alpha):g}% interval per scheduled visit, patients "
            "sampled per visit under the axis. Samples stop at progression or death.",
        )
    return out


def monitoring_section(res) -> dict | None:
    """The section: samples per visit, trajectories, change by group, time-dependent Cox, per-cycle neutropenia."""
    t = res.tables
    if "monitoring_samples" not in t:
        note = res.notes.get("monitoring")
        return {"title": "Immune monitoring over time", "text": note, "tables": [], "figures": []} if note else None
    cfg, landmark, facts = res.config, res.objects["monitoring_landmark"], res.objects["monitoring_facts"]
    level = f"{100 * (1 - cfg.alpha):g}%"
    change = t["monitoring_change"]
    levels = [c.removeprefix("median_") for c in change.columns if c.startswith("median_")]
    samples = t["monitoring_samples"]
    n_later = int(samples["Patients"].sum() - samples.loc[samples["Visit"] == BASELINE, "Patients"].sum())
    corr = facts["correlation"]
    text = " ".join(
        [
            f"{n_later} on-treatment samples at {len(samples) - 1} visits; samples stop at progression or death, so "
            "later visits hold the patients who stayed progression-free.",
            _change_words(change, levels, landmark),
            _cox_words(t["monitoring_time_dependent"], level),
            f"Per-cycle toxicity: {facts['neutropenia']} of {facts['cycles']} cycles with grade ≥ 3 neutropenia and "
            f"{facts['infection']} with an infection, in {facts['patients']} patients (working correlation within "
            f"patients {0.0 if round(corr, 2) == 0 else corr:.2f}).",
        ]
    )
    shown_change = format_all_groups(change, group=cfg.group)
    shown_change["Feature"] = [
        f"{label(f.removesuffix(f'_log2fc_{landmark}'))}, log2 change to {landmark}" for f in change["feature"]
    ]
    group_words = label(cfg.group)
    group_words = group_words[:1].lower() + group_words[1:] if group_words[1:2].islower() else group_words
    tables = [
        _table("Patients sampled at each visit, by group (baseline and each on-treatment visit).", samples),
        _table(
            f"Log2 fold change from baseline to {landmark} by {group_words}: medians with quartiles among the "
            f"patients sampled at both; rank tests; q: {cfg.adjust} adjustment across the features.",
            shown_change,
        ),
        _table(
            f"{label(cfg.duration)} and the on-treatment values: counting-process Cox models whose covariate "
            f"takes each sample's value from the day it was drawn (hazard ratio per doubling; "
            f"{_td_inference(t['monitoring_time_dependent'], cfg)}). N: patients contributing; time before a "
            "patient's first relevant sample does not enter the model.",
            format_model_table(t["monitoring_time_dependent"], "hazard_ratio", alpha=cfg.alpha, ci_method=cfg.ci),
        ),
        _table(
            f"Grade ≥ 3 neutropenia per cycle: GEE (exchangeable working correlation within patients, robust SE), "
            f"odds ratios with Wald {level} CI and Wald p (q equals p: two terms of one model). N: cycles.",
            format_model_table(t["monitoring_neutropenia"], "odds_ratio", alpha=cfg.alpha, ci_method="wald"),
        ),
    ]
    return {
        "title": "Immune monitoring over time",
        "text": text,
        "tables": tables,
        "figures": ["trajectory_nk_per_ul", "trajectory_cd8_per_ul"],
    }


def _td_inference(td: pd.DataFrame, cfg) -> str:
    tests = td["test"].dropna().unique()
    return inference_words(cfg.ci, tests[0] if len(tests) == 1 else None, alpha=cfg.alpha)


def _table(caption: str, frame: pd.DataFrame) -> dict:
    return {"caption": caption, "frame": frame, "footnotes": []}


def _change_words(change: pd.DataFrame, levels, landmark: str) -> str:
    """ "NK cells: median log2 change to C3D1 NR -0.07, PR 0.63, CR 0.86 (Kruskal-Wallis p = 0.0016)." """
    parts = []
    for _, row in change.iterrows():
        name = column_label(str(row["feature"]).removesuffix(f"_log2fc_{landmark}"))
        medians = ", ".join(f"{g} {row[f'median_{g}']:.2f}" for g in levels if np.isfinite(row[f"median_{g}"]))
        parts.append(f"{name} {medians} ({name_test(row['test'])}, {p_phrase(row['p_value'])})")
    return f"Median log2 change from baseline to {landmark} by group: " + "; ".join(parts) + "."


def _cox_words(td: pd.DataFrame, level: str) -> str:
    """ "Each doubling of the latest NK count went with a hazard of progression ... times as high (95% CI ...)." """
    parts = [
        f"{row['feature']}, hazard ratio per doubling "
        f"{format_estimate_ci(row['hazard_ratio'], row['hazard_ratio_ci_lower'], row['hazard_ratio_ci_upper'])} "
        f"({level} CI; {p_phrase(row['p_value'])})"
        for _, row in td.iterrows()
    ]
    return "Progression-free survival against the on-treatment values (time-dependent Cox): " + "; ".join(parts) + "."
