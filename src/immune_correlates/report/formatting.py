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
  (:func:`format_model_table`, :func:`format_comparison`, ...).

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
    "format_model_table",
    "format_comparison",
    "format_all_groups",
    "format_exclusions",
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


def format_model_table(
    table: pd.DataFrame, ratio: str, *, alpha: float = 0.05, ci_method: str | None = None
) -> pd.DataFrame:
    """One model row per feature, as a manuscript prints it.

    Columns ``Feature`` (label), ``Scale`` (in words), ``N``, ``Events``,
    ``OR (95% CI)`` or ``HR (95% CI)``, ``p``, ``q`` (and ``p (maxT)`` after a
    permutation adjustment).  Refuses a table whose rows pair an interval
    and a p-value from different methods (each row's ``test`` against
    ``ci_method``, when given).

    Examples
    --------
    >>> t = pd.DataFrame({"feature": ["nk_per_ul"], "scale": ["per SD of log2(nk_per_ul + 1) (SD = 0.9)"],
    ...                   "n": [34], "n_events": [8], "odds_ratio": [3.121], "odds_ratio_ci_lower": [1.2512],
    ...                   "odds_ratio_ci_upper": [10.69], "p_value": [0.0125], "q_value": [0.0873]})
    >>> format_model_table(t, "odds_ratio").iloc[0].astype(str).tolist()
    ['NK cells', 'per SD of log2(NK cells + 1)', '34', '8', '3.12 (1.25–10.7)', '0.013', '0.087']
    """
    if ci_method is not None and "test" in table:
        for test in table["test"].dropna().unique():
            check_pairing(ci_method, test)
    out = pd.DataFrame(
        {
            "Feature": table["feature"].map(label),
            "Scale": table["scale"].map(scale_words) if "scale" in table else "",
            "N": table["n"],
            "Events": table["n_events"],
            ratio_header(ratio, alpha): [
                format_estimate_ci(*r) for r in table[[ratio, f"{ratio}_ci_lower", f"{ratio}_ci_upper"]].to_numpy(float)
            ],
            "p": table["p_value"].map(format_p),
            "q": table["q_value"].map(format_p),
        }
    )
    if "p_maxt" in table:
        out["p (maxT)"] = table["p_maxt"].map(format_p)
    return out


def _median_iqr(m, a, b) -> str:
    return f"{format_number(m)} [{format_number(a)}, {format_number(b)}]" if _finite(m) else "\u2013"


def format_comparison(table: pd.DataFrame, levels, *, group: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Two groups head to head: ``Feature`` (with unit), median [Q1, Q3] (N) per group, the
    Hodges-Lehmann difference with its interval, the rank-biserial correlation, test, ``p``, ``q``.

    ``levels`` are the two compared levels as in the table's columns
    (``n_<level>``); ``group`` names them for people (:func:`level_label`).
    """
    out = pd.DataFrame({"Feature": table["feature"].map(label_unit)})
    for g in levels:
        name = level_label(group, g)
        out[f"{name}: median [Q1, Q3] (N)"] = [
            f"{_median_iqr(m, a, b)} ({int(k)})"
            for m, a, b, k in table[[f"median_{g}", f"q1_{g}", f"q3_{g}", f"n_{g}"]].to_numpy(float)
        ]
    if "hodges_lehmann" in table:
        out[f"Difference (HL, {100 * (1 - alpha):g}% CI)"] = [
            format_estimate_ci(*r) for r in table[["hodges_lehmann", "hl_ci_lower", "hl_ci_upper"]].to_numpy(float)
        ]
    if "rank_biserial" in table:
        out["Rank-biserial r"] = table["rank_biserial"].map(lambda v: format_number(v, sig=2))
    out["Test"] = table["test"].map(name_test)
    out["p"] = table["p_value"].map(format_p)
    out["q"] = table["q_value"].map(format_p)
    return out


def format_all_groups(table: pd.DataFrame, *, group: str | None = None) -> pd.DataFrame:
    """All levels of a group: ``Feature``, median [Q1, Q3] (N) per level, Kruskal-Wallis ``p``, ``q``,
    and the Jonckheere-Terpstra trend ``p (trend)`` when the levels are ordered."""
    levels = [c[2:] for c in table.columns if c.startswith("n_")]
    out = pd.DataFrame({"Feature": table["feature"].map(label_unit)})
    for g in levels:
        name = level_label(group, g)
        out[f"{name}: median [Q1, Q3] (N)"] = [
            f"{_median_iqr(m, a, b)} ({int(k)})"
            for m, a, b, k in table[[f"median_{g}", f"q1_{g}", f"q3_{g}", f"n_{g}"]].to_numpy(float)
        ]
    out["Test"] = table["test"].map(name_test)
    out["p"] = table["p_value"].map(format_p)
    out["q"] = table["q_value"].map(format_p)
    if "jt_p_value" in table:
        out["p (trend)"] = table["jt_p_value"].map(format_p)
    return out


_STEP_NAMES = {
    "read_cohort": "Reading the data",
    "features": "Deriving features",
    "table_one": "Table 1",
    "comparison": "Groups compared",
    "logistic": "Logistic models",
    "cox": "Cox models",
    "kaplan_meier": "Kaplan-Meier curves",
    "screen_cr": "Screen (binary endpoint)",
    "screen_pfs": "Screen (survival)",
    "response_survival": "Response and survival",
}


#: Functions that raise warnings -> the step of the report they belong to.
_CALLER_STEPS = {
    "compare_groups": "Groups compared",
    "screen": "Screen",
    "kaplan_meier": "Kaplan-Meier curves",
    "logrank_test": "Log-rank test",
    "optimal_cutpoint": "Cutpoint",
    "fit_cox": "Cox models",
    "fit_logistic": "Logistic models",
    "table_one": "Table 1",
    "group_hazard_ratios": "Kaplan-Meier curves",
}


def step_name(step: str) -> str:
    """A pipeline step for people: ``"logistic:nk_per_ul"`` -> ``"Logistic models: NK cells"``."""
    head, _, feature = str(step).partition(":")
    name = _STEP_NAMES.get(head, head.replace("_", " "))
    return f"{name}: {label(feature)}" if feature else name


def _reason_words(reason: str) -> str:
    """A reason for people: ``"nk_adcc_lu20: lysis ..."`` -> ``"NK ADCC (LU20): lysis ..."``."""
    return re.sub(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b", lambda m: label(m.group(0)), str(reason))


def format_exclusions(exclusions: pd.DataFrame, warnings=(), notes: dict | None = None) -> pd.DataFrame:
    """Every patient left out, every step not estimated and every warning as one table:
    ``Patient``, ``Step``, ``Reason`` (features by label; never a warning's class name).

    ``warnings`` are messages (``"Caller: text"``; a leading ``ClassName:`` is dropped), ``notes``
    the pipeline's ``step -> text`` notes.

    Examples
    --------
    >>> ex = pd.DataFrame({"step": ["features"], "patient_id": ["OL002"],
    ...                    "reason": ["t_synapse_index: no synapse row at timepoint 'baseline'"]})
    >>> format_exclusions(ex, ["MissingDataWarning: fit: left out OL003"]).values.tolist()
    [['OL002', 'Deriving features', "T-cell synapse index: no synapse row at timepoint 'baseline'"], ['', 'Warning', 'left out OL003']]
    """
    rows = [
        {"Patient": str(r.patient_id), "Step": step_name(r.step), "Reason": _reason_words(r.reason)}
        for r in exclusions.itertuples()
    ]
    for step, text in (notes or {}).items():
        rows.append({"Patient": "", "Step": step_name(step), "Reason": _reason_words(text)})
    for w in warnings:
        text = re.sub(r"^[A-Z][A-Za-z]*(Warning|Error): ", "", str(w))
        caller = re.match(r"^([a-z_]+): ", text)
        step = _CALLER_STEPS.get(caller.group(1), "Warning") if caller else "Warning"
        text = text[caller.end() :] if caller else text
        # sentences that point at API objects ("listed in the `excluded` column") mean nothing in a report
        text = " ".join(t for t in re.split(r"(?<=\.) ", text) if "`" not in t)
        rows.append({"Patient": "", "Step": step, "Reason": _reason_words(text)})
    return pd.DataFrame(rows, columns=["Patient", "Step", "Reason"])


_SUPERSCRIPTS = "\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"


def format_table_one(t1: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Table 1 as gtsummary's ``tbl_summary(by=) |> add_overall() |> add_p()`` prints it, and its footnotes.

    ``Characteristic``; one column per group headed ``"Responder, N = 24"`` and
    ``"Overall, N = 34"``; ``p`` (gtsummary's ``style_pvalue``) with a
    superscript naming its test in a footnote; ``SMD``.  Levels of a
    categorical variable are indented under it, a dichotomous variable is one
    row, missing values an ``Unknown`` row (gtsummary's ``missing = "ifany"``).

    Parameters
    ----------
    t1 : DataFrame
        :func:`~immune_correlates.table_one` (its ``attrs["group_n"]`` give the Ns).

    Returns
    -------
    (DataFrame, list of str)
        The table as shown and its footnotes (statistics, then one per test).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> t1 = ic.table_one(ic.analysis_frame(ic.datasets.load_ofa_len()), "responder", ["age", "del17p"])
    >>> shown, notes = format_table_one(t1)
    >>> list(shown.columns)
    ['Characteristic', 'Non-responder, N = 10¹', 'Responder, N = 24¹', 'Overall, N = 34¹', 'p', 'SMD']
    >>> shown.iloc[1].tolist(), notes
    (['del(17p)', '4 (40%)', '7 (29%)', '11 (32%)', '0.7³', '0.23'], ['¹ Median [Q1, Q3]; n (%)', '² Wilcoxon rank-sum test (normal approximation)', "³ Fisher's exact test"])
    """
    from .._numbers import style_pvalue

    counts = t1.attrs.get("group_n", {})
    groups = list(t1.columns[t1.columns.get_loc("summary") + 1 : t1.columns.get_loc("overall")])
    heads = {g: f"{g}, N = {counts[g]}" if g in counts else g for g in groups}
    heads["overall"] = f"Overall, N = {counts['overall']}" if "overall" in counts else "Overall"
    tests = [t for t in dict.fromkeys(t1["test"]) if t]
    mark = {t: _SUPERSCRIPTS[i + 1] for i, t in enumerate(tests)}
    rows = []
    for _, block in t1.groupby("variable", sort=False):
        for _, r in block.iterrows():
            head = r["level"] == "" or r["kind"] == "dichotomous"
            row = {"Characteristic": r["label"] if head else f"\u2003{r['level']}"}
            row.update({heads[g] + _SUPERSCRIPTS[0]: r[g] for g in [*groups, "overall"]})
            row["p"] = style_pvalue(r["p_value"]) + mark.get(r["test"], "") if head and _finite(r["p_value"]) else ""
            row["SMD"] = f"{r['smd']:.2f}" if head and _finite(r["smd"]) else ""
            rows.append(row)
        first = block.iloc[0]
        if int(first["n_missing"] or 0) > 0:  # gtsummary's "Unknown" row, after the variable's levels
            unknown = {heads[g] + _SUPERSCRIPTS[0]: str(first[f"missing_{g}"]) for g in groups}
            unknown[heads["overall"] + _SUPERSCRIPTS[0]] = str(first["n_missing"])
            rows.append({"Characteristic": "\u2003Unknown", **unknown, "p": "", "SMD": ""})
    summaries = " ; ".join(dict.fromkeys(t1["summary"].dropna())).replace(" ; ", "; ")
    notes = [f"{_SUPERSCRIPTS[0]} {summaries.replace('median', 'Median')}"]
    notes += [f"{mark[t]} {name_test(t)}" for t in tests]
    return pd.DataFrame(rows), notes
