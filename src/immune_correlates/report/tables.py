"""The report's tables as a manuscript prints them, built on the number and name rules of :mod:`.formatting`.

``format_model_table`` (one model row per feature), ``format_comparison`` and
``format_all_groups`` (groups compared), ``format_table_one`` (Table 1 as
gtsummary prints it) and ``format_exclusions`` (patients left out, steps not
estimated and warnings, by step).
"""

from __future__ import annotations

import re

import pandas as pd

from .._numbers import format_estimate_ci, format_number, format_p
from .formatting import _finite, check_pairing, label, label_unit, level_label, name_test, ratio_header, scale_words

__all__ = [
    "format_model_table",
    "format_comparison",
    "format_all_groups",
    "format_table_one",
    "format_exclusions",
    "step_name",
]


def format_model_table(
    table: pd.DataFrame, ratio: str, *, alpha: float = 0.05, ci_method: str | None = None
) -> pd.DataFrame:
    """One model row per feature, as a manuscript prints it.

    Columns ``Feature`` (label), ``Scale`` (in words), ``N``, ``Events``,
    ``OR (95% CI)`` or ``HR (95% CI)``, ``p``, ``q`` (when the table has ``q_value``; and ``p (maxT)`` after a
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
        }
    )
    if "q_value" in table:  # terms of one model (no multiplicity across features) have none
        out["q"] = table["q_value"].map(format_p)
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
    "trial_summary": "Trial summary",
    "imputation": "Multiple imputation",
    "populations": "Cell populations",
    "populations:abundance": "Cell populations (differential abundance)",
    "monitoring": "Immune monitoring over time",
    "features": "Deriving features",
    "table_one": "Table 1",
    "comparison": "Groups compared",
    "logistic": "Logistic models",
    "cox": "Cox models",
    "kaplan_meier": "Kaplan-Meier curves",
    "screen_cr": "Screen (binary endpoint)",
    "screen_pfs": "Screen (survival)",
    "response_survival": "Response and survival",
    "monitoring_time_dependent": "Immune monitoring (time-dependent Cox)",
    "monitoring_neutropenia": "Immune monitoring (per-cycle neutropenia)",
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
    if str(step) in _STEP_NAMES:
        return _STEP_NAMES[str(step)]
    head, _, feature = str(step).partition(":")
    name = _STEP_NAMES.get(head, head.replace("_", " ").capitalize())
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
