"""The words and shown tables of the report's "Immune monitoring over time" section.

The numbers come from :func:`.monitoring.monitoring_step`; this module only says them, in the
report's conventions (:mod:`.formatting`, :mod:`.tables`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._numbers import format_ci, format_estimate_ci, format_number, format_p, p_phrase
from ..data.samples import BASELINE
from ..features.labels import column_label
from ..plots.response import ADJUST_NAMES
from .formatting import inference_words, label, level_label, name_test
from .tables import format_all_groups, format_model_table

__all__ = ["monitoring_section"]


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
            _slope_words(t, cfg.group),
            _change_words(change, levels, landmark, cfg.group),
            _cox_words(t["monitoring_time_dependent"], level),
            f"Per-cycle toxicity: {facts['neutropenia']} of {facts['cycles']} cycles with grade ≥ 3 neutropenia and "
            f"{facts['infection']} with an infection, in {facts['patients']} patients; "
            + _gee_words(t["monitoring_neutropenia"], level, corr),
        ]
    )
    shown_change = format_all_groups(change, group=cfg.group)
    shown_change["Feature"] = [
        f"{label(f.removesuffix(f'_log2fc_{landmark}'))}, log2 change to {landmark}" for f in change["feature"]
    ]
    group_words = _in_words(cfg.group)
    tables = [
        _table(
            f"Patients sampled at each visit (baseline and each on-treatment visit), in all and by {_in_words(cfg.group)}.",
            samples,
        ),
        _table(
            f"Change over time by {group_words}: slope of the log2 count per month in each group, from a linear "
            "mixed model (month x group, random intercept and slope per patient, REML) of the samples up to the "
            f"last scheduled visit; t-tests and {level} CI on Satterthwaite degrees of freedom (lmerTest). "
            "0.1 per month is about 7% more cells each month.",
            _slopes_shown(t["monitoring_slopes"], cfg),
        ),
        _table(
            f"Log2 fold change from baseline to {landmark} by {group_words}: medians with quartiles among the "
            f"patients sampled at both; rank tests; {_q_words(cfg)}.",
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
            f"odds ratios with Wald {level} CI and Wald p (two terms of one model: no multiplicity adjustment). "
            "N: cycles.",
            format_model_table(t["monitoring_neutropenia"], "odds_ratio", alpha=cfg.alpha, ci_method="wald"),
        ),
    ]
    return {
        "title": "Immune monitoring over time",
        "text": text,
        "tables": tables,
        "figures": ["trajectory_nk_per_ul", "trajectory_cd8_per_ul"],
    }


def _gee_words(table: pd.DataFrame, level: str, corr: float) -> str:
    """The per-cycle model in one clause: the odds of neutropenia per doubling of the latest NK count."""
    row = table.iloc[-1]  # the NK term (the first is the cycle number)
    return (
        f"odds of grade ≥ 3 neutropenia in a cycle per doubling of the latest NK count before it "
        f"{format_number(row['odds_ratio'])} ({level} CI {format_ci(row['odds_ratio_ci_lower'], row['odds_ratio_ci_upper'])}; "
        f"{p_phrase(row['p_value'])}; GEE, working correlation within patients "
        f"{0.0 if round(corr, 2) == 0 else corr:.2f})."
    )


def _in_words(column: str) -> str:
    text = label(column)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _q_words(cfg) -> str:
    if cfg.adjust == "none":
        return "p-values not adjusted for multiplicity"
    return f"q: {ADJUST_NAMES.get(cfg.adjust, cfg.adjust)} adjustment across the features"


def _slopes_shown(slopes: pd.DataFrame, cfg) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Feature": slopes["feature"].map(label),
            "Group": [level_label(cfg.group, g) for g in slopes["group"]],
            "Patients": slopes["patients"],
            f"Slope, log2 per month ({100 * (1 - cfg.alpha):g}% CI)": [
                format_estimate_ci(*r) for r in slopes[["estimate", "ci_lower", "ci_upper"]].to_numpy(float)
            ],
            "df": slopes["df"].map(lambda v: format_number(v, sig=3)),
            "p": slopes["p_value"].map(format_p),
        }
    )


def _slope_words(t: dict, group: str) -> str:
    """ "NK cells: the monthly change differs between groups (F = 8.58 on 2 and 22.9 df, p = 0.002)." """
    parts = [
        f"{label(row['feature'])} (F = {format_number(row['statistic'])} on {row['num_df']:.0f} and "
        f"{format_number(row['den_df'])} df, {p_phrase(row['p_value'])})"
        for _, row in t["monitoring_slope_test"].iterrows()
    ]
    return (
        f"Do the monthly changes differ between {_in_words(group)} groups (mixed model, F-test of month x group)? "
        + "; ".join(parts)
        + "."
    )


def _td_inference(td: pd.DataFrame, cfg) -> str:
    tests = td["test"].dropna().unique()
    return inference_words(cfg.ci, tests[0] if len(tests) == 1 else None, alpha=cfg.alpha)


def _table(caption: str, frame: pd.DataFrame) -> dict:
    return {"caption": caption, "frame": frame, "footnotes": []}


def _change_words(change: pd.DataFrame, levels, landmark: str, group: str) -> str:
    """ "NK cells: median log2 change to C3D1 NR -0.07, PR 0.63, CR 0.86 (Kruskal-Wallis p = 0.0016)." """
    parts = []
    for _, row in change.iterrows():
        name = column_label(str(row["feature"]).removesuffix(f"_log2fc_{landmark}"))
        medians = ", ".join(
            f"{level_label(group, g)} {row[f'median_{g}']:.2f}" for g in levels if np.isfinite(row[f"median_{g}"])
        )
        parts.append(f"{name} {medians} ({name_test(row['test'])}, {p_phrase(row['p_value'])})")
    return f"Median log2 change from baseline to {landmark} by group: " + "; ".join(parts) + "."


def _cox_words(td: pd.DataFrame, level: str) -> str:
    """ "Each doubling of the latest NK count went with a hazard of progression ... times as high (95% CI ...)." """
    parts = [
        f"{row['feature']}, hazard ratio per doubling {format_number(row['hazard_ratio'])} "
        f"({level} CI {format_ci(row['hazard_ratio_ci_lower'], row['hazard_ratio_ci_upper'])}; "
        f"{p_phrase(row['p_value'])})"
        for _, row in td.iterrows()
    ]
    return "Progression-free survival against the on-treatment values (time-dependent Cox): " + "; ".join(parts) + "."
