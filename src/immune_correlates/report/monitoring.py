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
from ..data.endpoints import DAYS_PER_MONTH
from ..data.samples import BASELINE, samples_of
from ..errors import ImmuneCorrelatesError, ImmuneCorrelatesWarning
from ..features.cycles import cycle_frame
from ..features.labels import column_label, group_level_label
from ..features.longitudinal import longitudinal_frame
from ..features.trajectories import change_from_baseline
from ..multiplicity import adjust_pvalues
from ..stats.groups.compare import compare_groups
from ..stats.longitudinal import fit_mixed
from ..stats.longitudinal.gee import fit_gee
from ..stats.regression.cox import fit_cox
from ..stats.survival.time_varying import time_varying

__all__ = [
    "MONITORED",
    "MONITORING_METHODS",
    "has_monitoring",
    "monitoring_step",
    "monitoring_figures",
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
    "mixed_model": (
        "Change over time",
        "Linear mixed models (REML, as R's lme4) of log2 counts on months since the start of treatment, by group "
        "(month x group), with a random intercept and slope per patient, on the samples up to the last scheduled "
        "visit. Each group's slope with t-tests and intervals on Satterthwaite degrees of freedom (lmerTest; "
        "Kuznetsova et al., J Stat Softw 2017) and the type III F-test that the slopes differ.",
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
            row[group_level_label(group, g)] = int(n)
        rows.append(row)
    out = pd.DataFrame(rows)
    order = long.groupby("timepoint")["day"].median()
    return out.iloc[np.argsort(order.reindex(out["Visit"]).to_numpy(), kind="stable")].fillna(0).reset_index(drop=True)


def _td_rows(frame, long, cfg, col, samples, name, label, scale, words):
    data = frame.reset_index()[["patient_id", cfg.duration, cfg.event]]
    rows = time_varying(data, cfg.duration, cfg.event, samples, {name: col}, time="month")
    fit = fit_cox(rows, "stop", cfg.event, [name], entry="start", ci=cfg.ci, alpha=cfg.alpha)
    ci = fit.conf_int().loc[name]
    used = set(rows.dropna(subset=[name])["patient_id"])
    out = {
        "feature": label,
        "scale": scale,
        "n": len(used),
        "n_events": int(fit.n_events),
        "hazard_ratio": float(np.exp(fit.params[name])),
        "hazard_ratio_ci_lower": float(np.exp(ci["lower"])),
        "hazard_ratio_ci_upper": float(np.exp(ci["upper"])),
        "p_value": float(fit.pvalues[name]),
        "test": fit.test,
        "ci_method": fit.ci_method,
    }
    return out, _td_excluded(fit.excluded, used, label, words)


def _td_excluded(excluded: pd.DataFrame, used: set, label: str, words: tuple[str, str]) -> pd.DataFrame:
    """One row per patient for the counting-process intervals a time-dependent model left out, in words.

    Intervals before a patient's first value carry no covariate yet: the patient enters the model at that
    value (delayed entry), or not at all when there is none.
    """
    if excluded.empty:
        return excluded
    ids = pd.unique(excluded["patient_id"])
    reasons = [
        f"{label}: follow-up before {words[0]} not modelled (the patient enters the model there)"
        if pid in used
        else f"{label}: {words[1]}, not in this model"
        for pid in ids
    ]
    return pd.DataFrame({"patient_id": ids, "reason": reasons})


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
            ("the first sample with a value", "no sample with a value"),
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
            (f"the {landmark} sample", f"no {landmark} sample with a baseline value"),
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


def _scheduled(long: pd.DataFrame) -> pd.DataFrame:
    """Samples up to the last scheduled visit (visits whose days vary by at most 14 days between patients)."""
    later = long[long["timepoint"] != BASELINE]
    spread = later.groupby("timepoint")["day"].agg(lambda d: d.quantile(0.75) - d.quantile(0.25))
    scheduled = later[later["timepoint"].isin(spread.index[spread <= 14])]
    until = scheduled["day"].max() if len(scheduled) else long["day"].max()
    return long[long["day"] <= until]


def _level(value) -> str:
    """A group level as a formula literal: numpy scalars as plain Python numbers (1, not np.int64(1))."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else repr(float(value) if isinstance(value, float) else value)


def _mixed(long: pd.DataFrame, cfg, modelled) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Slopes of log2 counts per month in each group (Satterthwaite t) and the month x group F-test."""
    data = _scheduled(long).assign(month=lambda d: d["day"] / DAYS_PER_MONTH, grp=lambda d: d[cfg.group])
    data = data.dropna(subset=["grp"])
    levels = [
        g
        for g in (data["grp"].cat.categories if hasattr(data["grp"], "cat") else sorted(data["grp"].unique()))
        if (data["grp"] == g).any()
    ]
    slopes, tests = [], []
    for f in modelled:
        one = data.assign(y=np.log2(data[f].where(data[f] > 0))).dropna(subset=["y"])
        fit = fit_mixed(one, "y ~ month * C(grp) + (month | patient_id)", alpha=cfg.alpha)
        row = fit.anova().loc["month:C(grp)"]
        tests.append(
            {
                "feature": f,
                "num_df": row["num_df"],
                "den_df": row["den_df"],
                "statistic": row["statistic"],
                "p_value": row["p_value"],
                "n": fit.nobs,
                "patients": fit.n_groups["patient_id"],
            }
        )
        for g in levels:
            each = fit_mixed(one, f"y ~ month * C(grp, Treatment({_level(g)})) + (month | patient_id)", alpha=cfg.alpha)
            ci = each.conf_int().loc["month"]
            slopes.append(
                {
                    "feature": f,
                    "group": g,
                    "estimate": each.params["month"],
                    "ci_lower": ci["lower"],
                    "ci_upper": ci["upper"],
                    "df": each.df["month"],
                    "p_value": each.pvalues["month"],
                    "patients": int(one.loc[one["grp"] == g, "patient_id"].nunique()),
                }
            )
    return pd.DataFrame(slopes), pd.DataFrame(tests)


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
        slopes, interaction = _mixed(long, cfg, modelled)
    run.objects.update(monitoring_long=long, monitoring_landmark=landmark, monitoring_facts=facts)
    run.tables["monitoring_samples"] = _samples_table(long, cfg.group)
    run.tables["monitoring_change"] = comparison
    run.tables["monitoring_time_dependent"] = td
    run.tables["monitoring_neutropenia"] = tox
    run.tables["monitoring_slopes"] = slopes
    run.tables["monitoring_slope_test"] = interaction
    run.exclude("monitoring_time_dependent", td_gone)
    run.exclude("monitoring_neutropenia", facts["excluded"])
    run.add_record("trajectories", "mixed_model", "change_from_baseline", "time_varying_cox", "gee")


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
