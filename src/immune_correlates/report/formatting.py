"""Tables for people: the trial summary as "70.6% (52.5-84.9)", model rows as "2.93 (1.25-10.7)".

The CSV files keep every number at full precision; these functions only shape
what is printed on the terminal, shown in the HTML report and written to the
``.docx`` for a manuscript.
"""

from __future__ import annotations

import math

import pandas as pd

from ..features.labels import column_label

__all__ = ["SUMMARY_LABELS", "format_summary", "format_model_table", "format_comparison"]

SUMMARY_LABELS = {
    "n_patients": "Patients",
    "orr": "Overall response (CR, CRi, nPR, PR)",
    "cr_cri": "Complete remission (CR or CRi)",
    "mrd_negative_cr": "MRD-negative complete remission",
    "median_pfs_months": "Median progression-free survival",
    "os_5y": "Overall survival at 5 years",
    "patient_cycles": "Treatment cycles given",
    "neutropenia_g3plus_cycles": "Cycles with grade >= 3 neutropenia",
    "pneumonia": "Pneumonia (patients)",
    "neutropenic_fever": "Neutropenic fever (patients)",
}


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _interval(lo, hi, fmt) -> str:
    return f"{fmt(lo) if _finite(lo) else 'NR'}-{fmt(hi) if _finite(hi) else 'NR'}"


def _estimate(row) -> str:
    if isinstance(row.get("note"), str) and row["note"].startswith("not assessed"):
        return "not assessed"
    unit = str(row["unit"])
    v, lo, hi = row["value"], row["ci_lower"], row["ci_upper"]
    if unit in ("patients", "cycles"):
        return f"{int(v)}" if _finite(v) else "not assessed"
    if unit == "months":
        if not _finite(v):
            return "not reached"
        return f"{v:.1f} months ({_interval(lo, hi, lambda x: f'{x:.1f}')})"
    if not _finite(v):
        return "not estimable"
    pct = lambda x: f"{100 * x:.1f}"
    return f"{pct(v)}% ({_interval(lo, hi, pct)})"


def _counts(row) -> str:
    if pd.notna(row.get("events")):
        if str(row["unit"]) == "months":
            return f"{int(row['events'])} events in {int(row['at_risk'])} patients"
        return f"{int(row['events'])} events by then; {int(row['at_risk'])} still at risk"
    if str(row["unit"]) in ("patients", "cycles") or pd.isna(row["numerator"]):
        return ""
    return f"{int(row['numerator'])}/{int(row['denominator'])}"


def format_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """The trial summary for people: ``Measure``, ``Estimate (95% CI)``, ``Counts``, ``Note``.

    Parameters
    ----------
    summary : DataFrame
        :func:`~immune_correlates.trial_summary` (indexed by ``metric`` or with a ``metric`` column).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> t = format_summary(ic.trial_summary(ic.datasets.load_ofa_len()))
    >>> t.loc[1, "Estimate (95% CI)"], t.loc[4, "Estimate (95% CI)"]
    ('70.6% (52.5-84.9)', '16.0 months (12.9-26.3)')
    """
    s = summary.reset_index() if "metric" not in summary.columns else summary
    rows = []
    for _, row in s.iterrows():
        note = row.get("note", "")
        rows.append(
            {
                "Measure": SUMMARY_LABELS.get(row["metric"], row["metric"]),
                "Estimate (95% CI)": _estimate(row),
                "Counts": _counts(row),
                "Note": note if isinstance(note, str) else "",
            }
        )
    return pd.DataFrame(rows)


def _num(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _ratio(v, lo, hi) -> str:
    f = lambda x: f"{x:.3g}" if math.isfinite(x) else ("inf" if x > 0 else "0")
    return f"{f(v)} ({f(lo)}-{f(hi)})"


def format_model_table(table: pd.DataFrame, ratio: str) -> pd.DataFrame:
    """One model row per feature: ``Feature``, ``Scale``, ``n``, ``Events``, ratio with CI, ``p``, ``q``."""
    name = "Odds ratio (95% CI)" if ratio == "odds_ratio" else "Hazard ratio (95% CI)"
    out = pd.DataFrame(
        {
            "Feature": table["feature"].map(column_label),
            "Scale": table.get("scale", ""),
            "n": table["n"],
            "Events": table["n_events"],
            name: [_ratio(*r) for r in table[[ratio, f"{ratio}_ci_lower", f"{ratio}_ci_upper"]].to_numpy(float)],
            "p": table["p_value"].map(lambda p: f"{p:.3g}"),
            "q": table["q_value"].map(lambda p: f"{p:.3g}"),
        }
    )
    if "p_maxt" in table:
        out["p (maxT)"] = table["p_maxt"].map(lambda p: f"{p:.3g}")
    return out


def format_comparison(table: pd.DataFrame, levels) -> pd.DataFrame:
    """Head-to-head rows: ``Feature``, median [Q1, Q3] per group, test, ``p``, ``q``."""
    out = pd.DataFrame({"Feature": table["feature"].map(column_label)})
    for g in levels:
        out[f"{g}: median [Q1, Q3] (n)"] = [
            f"{_num(m)} [{_num(a)}, {_num(b)}] ({int(k)})" if _finite(m) else f"- ({int(k)})"
            for m, a, b, k in table[[f"median_{g}", f"q1_{g}", f"q3_{g}", f"n_{g}"]].to_numpy(float)
        ]
    out["Test"] = table["test"]
    out["p"] = table["p_value"].map(lambda p: f"{p:.3g}")
    out["q"] = table["q_value"].map(lambda p: f"{p:.3g}")
    return out
