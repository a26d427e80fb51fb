"""How the report prints numbers, names and tables: the one place for the report's formatting rules.

The CSV files of a report keep every number at full precision and the
machine names of columns (``nk_per_ul``, ``hazard_ratio``); what a person
reads (the HTML report, ``report.docx``, the printed summary) goes through
the helpers below, so every section speaks the same way:

* **p-values** as journals print them (:func:`format_p`): two significant
  digits, ``<0.001`` below 0.001, never ``4.820e-05``;
* **estimates and intervals** to two or three significant digits
  (:func:`format_number`, :func:`format_ci`, :func:`format_estimate_ci`), with
  a true minus sign and an en dash between positive limits;
* **names**: features, endpoints and covariates by their catalogue label
  (:func:`label`, :func:`label_unit`), tests (:data:`TEST_NAMES`) and the
  inference method (:func:`inference_words`) in words;
* **tables**: headers such as ``"OR (95% CI)"``, ``"p"``, ``"q"``, ``"N"``
  (:mod:`.tables`: format_model_table, format_comparison, format_table_one, ...).

Sections written by other modules (mixed models, imputation, high-dimensional
panels) should build their shown tables with these helpers.
"""

from __future__ import annotations

import math
import re

import pandas as pd

from .._numbers import MINUS, format_ci, format_estimate_ci, format_number, format_p, p_phrase
from ..features.labels import column_label, column_unit, group_level_label

__all__ = [
    "SUMMARY_LABELS",
    "TEST_NAMES",
    "MINUS",
    "format_p",
    "p_phrase",
    "format_number",
    "format_ci",
    "format_estimate_ci",
    "label",
    "label_unit",
    "level_label",
    "scale_words",
    "name_test",
    "inference_words",
    "check_pairing",
    "ratio_header",
    "format_summary",
]

_DASH = "\u2013"

SUMMARY_LABELS = {
    "n_patients": "Patients",
    "orr": "Overall response (CR, CRi, nPR, PR)",
    "cr_cri": "Complete remission (CR or CRi)",
    "mrd_negative_cr": "MRD-negative complete remission",
    "median_pfs_months": "Median progression-free survival",
    "os_5y": "Overall survival at 5 years",
    "patient_cycles": "Treatment cycles given",
    "neutropenia_g3plus_cycles": "Cycles with grade \u2265 3 neutropenia",
    "pneumonia": "Pneumonia (patients)",
    "neutropenic_fever": "Neutropenic fever (patients)",
}

#: Tests by the names the result tables give them -> in words.
TEST_NAMES = {
    "wilcoxon_exact": "Wilcoxon rank-sum test (exact)",
    "wilcoxon_normal": "Wilcoxon rank-sum test (normal approximation)",
    "wilcoxon_rank_sum": "Wilcoxon rank-sum test",
    "kruskal_wallis": "Kruskal-Wallis test",
    "fisher_exact": "Fisher's exact test",
    "fisher": "Fisher's exact test",
    "lr": "likelihood-ratio test",
    "wald": "Wald test",
    "logrank": "log-rank test",
    "jonckheere": "Jonckheere-Terpstra trend test",
}

_CI_WORDS = {"profile": "profile-likelihood", "wald": "Wald"}
_TEST_OF_CI = {"profile": "lr", "wald": "wald"}
_P_WORDS = {"lr": "likelihood-ratio", "wald": "Wald"}


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def label(column) -> str:
    """The catalogue's label of a column (``nk_per_ul`` -> ``"NK cells"``); see :func:`~immune_correlates.features.labels.column_label`."""
    return column_label(str(column))


def label_unit(column) -> str:
    """Label and unit: ``"NK cells (cells/µL)"``; only the label when the column has no unit.

    Examples
    --------
    >>> label_unit("nk_per_ul"), label_unit("cd4_cd8_ratio")
    ('NK cells (cells/µL)', 'CD4:CD8 ratio')
    """
    unit = column_unit(str(column))
    return f"{label(column)} ({unit})" if unit else label(column)


def level_label(group: str | None, level) -> str:
    """A group level for people (``responder = 1`` -> ``"Responder"``); see
    :func:`~immune_correlates.features.labels.group_level_label`."""
    return group_level_label(group, level) if group else str(level)


def scale_words(scale) -> str:
    """A model row's scale in words: ``"per SD of log2(nk_per_ul + 1) (SD = 0.92)"`` ->
    ``"per SD of log2(NK cells + 1)"`` (the SD stays in the CSV).

    Examples
    --------
    >>> scale_words("per SD of log2(nk_per_ul + 1) (SD = 0.9203)")
    'per SD of log2(NK cells + 1)'
    >>> scale_words("t_function_score")
    'per unit of T-cell function score'
    """
    if not isinstance(scale, str) or not scale:
        return ""
    text = re.sub(r" \(SD = [^)]*\)$", "", scale)
    text = re.sub(r"[A-Za-z][A-Za-z0-9_]*_[A-Za-z0-9_]+", lambda m: label(m.group(0)), text)
    return text if text.startswith("per ") else f"per unit of {text}"


def name_test(test) -> str:
    """A test in words (``"wilcoxon_exact"`` -> ``"Wilcoxon rank-sum test (exact)"``)."""
    if not isinstance(test, str):
        return ""
    return TEST_NAMES.get(test, test.replace("_", " "))


def inference_words(ci_method: str, test: str | None = None, *, alpha: float = 0.05) -> str:
    """The interval and p-value method in words, e.g. ``"profile-likelihood 95% CI, likelihood-ratio p"``.

    Raises :class:`ValueError` when ``test`` is not the one that goes with
    ``ci_method`` (see :func:`check_pairing`).

    Examples
    --------
    >>> inference_words("profile", "lr"), inference_words("wald", alpha=0.1)
    ('profile-likelihood 95% CI, likelihood-ratio p', 'Wald 90% CI, Wald p')
    """
    check_pairing(ci_method, test)
    return f"{_CI_WORDS[ci_method]} {100 * (1 - alpha):g}% CI, {_P_WORDS[_TEST_OF_CI[ci_method]]} p"


def check_pairing(ci_method: str, test: str | None = None) -> None:
    """Refuse an interval and a p-value from different methods (profile goes with LR, Wald with Wald).

    Examples
    --------
    >>> check_pairing("profile", "lr")
    >>> check_pairing("wald", "lr")
    Traceback (most recent call last):
    ...
    ValueError: an interval by 'wald' shown with a p-value by 'lr': interval and p-value must come from one method.
    """
    if ci_method not in _CI_WORDS:
        raise ValueError(f"unknown interval method {ci_method!r}; expected 'profile' or 'wald'.")
    if test is not None and test != _TEST_OF_CI[ci_method]:
        raise ValueError(
            f"an interval by {ci_method!r} shown with a p-value by {test!r}: "
            "interval and p-value must come from one method."
        )


def ratio_header(ratio: str, alpha: float = 0.05) -> str:
    """``"OR (95% CI)"`` or ``"HR (95% CI)"``."""
    short = {"odds_ratio": "OR", "hazard_ratio": "HR"}.get(ratio, ratio)
    return f"{short} ({100 * (1 - alpha):g}% CI)"


def _interval(lo, hi, fmt) -> str:
    return f"{fmt(lo) if _finite(lo) else 'NR'}{_DASH}{fmt(hi) if _finite(hi) else 'NR'}"


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
    ('70.6% (52.5–84.9)', '16.0 months (12.9–26.3)')
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
    out = pd.DataFrame(rows)
    return out if out["Note"].astype(bool).any() else out.drop(columns="Note")
