"""The report's sections, in words a co-author reads: captions, shown tables and key findings.

A section is a dict ``{"title", "text", "tables", "figures"}``; ``tables`` are
``{"caption", "frame", "footnotes"}`` with the frame already formatted for
people (:mod:`.formatting`, :mod:`.tables`), ``figures`` are names of :func:`.figures.make_figures`.
The HTML and the ``.docx`` are both rendered from the same list
(:func:`build_sections`), so they show the same content.  To add a section,
write a function ``(res) -> dict | None`` and insert it into :data:`SECTIONS`.
"""

from __future__ import annotations

import pandas as pd

from ..features.labels import column_label
from ..plots.response import ADJUST_NAMES
from .formatting import (
    format_estimate_ci,
    format_number,
    format_p,
    format_summary,
    inference_words,
    label,
    level_label,
    ratio_header,
)
from .methods import covariate_phrase, key_findings
from .missing import missing_section
from .monitoring_section import monitoring_section
from .pipeline import AnalysisResults
from .populations import populations_section
from .tables import format_all_groups, format_comparison, format_exclusions, format_model_table, format_table_one

__all__ = ["SECTIONS", "build_sections", "lower_label", "report_tables"]

_METHOD_WORDS = {"ml": "maximum-likelihood", "firth": "Firth-penalized"}


def _in_sentence(text: str) -> str:
    """``"Non-responder"`` -> ``"non-responder"``; acronyms (``"NR"``, ``"CR/CRi"``) stay."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def lower_label(column: str) -> str:
    """A column's label inside a sentence ("progression-free survival"), keeping acronyms ("NK", "CR")."""
    text = column_label(column)
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _q_words(cfg) -> str:
    if cfg.adjust == "none":
        return "p-values not adjusted for multiplicity"
    return f"q: {ADJUST_NAMES.get(cfg.adjust, cfg.adjust)} adjustment across the features of the table"


def _table_inference(res: AnalysisResults, name: str) -> str:
    """The interval and p-value method the rows of a model table actually used, in words."""
    table = res.tables[name]
    tests = [t for t in table.get("test", pd.Series(dtype=object)).dropna().unique() if t]
    return inference_words(res.config.ci, tests[0] if len(tests) == 1 else None, alpha=res.config.alpha)


def _table(caption: str, frame: pd.DataFrame, footnotes=()) -> dict:
    return {"caption": caption, "frame": frame, "footnotes": list(footnotes)}


def _note(res, *steps) -> str:
    return " ".join(res.notes[s] for s in steps if s in res.notes)


def _key_findings(res):
    return {"title": "Key findings", "text": key_findings(res), "tables": [], "figures": []}


def _table_one(res):
    if "table_one" not in res.tables:
        return {"title": "Baseline characteristics", "text": _note(res, "table_one"), "tables": [], "figures": []}
    frame, notes = format_table_one(res.tables["table_one"])
    caption = f"Table 1. Baseline characteristics by {lower_label(res.config.group)}."
    return {
        "title": "Baseline characteristics",
        "text": _note(res, "table_one", "features"),
        "tables": [_table(caption, frame, notes)],
        "figures": [],
    }


def _trial_summary(res):
    ts = res.tables.get("trial_summary")
    caption = (
        "Efficacy and safety: proportions with exact (Clopper-Pearson) 95% CIs; Kaplan-Meier estimates "
        "for time to event, with their events and patients at risk."
    )
    return {
        "title": "Trial summary",
        "text": _note(res, "trial_summary"),
        "tables": [_table(caption, format_summary(ts))] if ts is not None else [],
        "figures": [],
    }


def _test_in_caption(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Drop a ``Test`` column that says the same on every row; its name goes into the caption instead."""
    tests = frame["Test"].dropna().unique() if "Test" in frame else []
    if len(tests) == 1:
        return frame.drop(columns="Test"), f"p: {tests[0]}; "
    return frame, ""


def _comparison(res):
    cfg = res.config
    levels = res.objects.get("compare_levels")
    tables = []
    if levels and "comparison" in res.tables:
        a, b = (level_label(cfg.group, v) for v in levels)
        b = _in_sentence(b)
        shown, test = _test_in_caption(
            format_comparison(res.tables["comparison"], levels, group=cfg.group, alpha=cfg.alpha)
        )
        tables.append(
            _table(
                f"{a} against {b}: medians with quartiles; Hodges-Lehmann difference ({a} minus {b}, in the "
                f"feature's unit) with its {100 * (1 - cfg.alpha):g}% CI and the rank-biserial correlation "
                f"(positive: higher in {a}); {test}{_q_words(cfg)}. Quartiles here are R's default (type 7), "
                "Table 1's gtsummary's (type 2), so they can differ slightly.",
                shown,
            )
        )
    if "all_groups" in res.tables:
        shown, test = _test_in_caption(format_all_groups(res.tables["all_groups"], group=cfg.group))
        trend = "p (trend): Jonckheere-Terpstra test across the ordered groups; " if "p (trend)" in shown else ""
        tables.append(_table(f"All groups of {lower_label(cfg.group)}: {test}{trend}{_q_words(cfg)}.", shown))
    two = [level_label(cfg.group, v) for v in levels] if levels and "all_groups" not in res.tables else None
    return {
        "title": f"{two[0]} against {two[1][:1].lower() + two[1][1:]}"
        if two
        else f"{column_label(cfg.group)} groups compared",
        "text": _note(res, "comparison"),
        "tables": tables,
        "figures": ["response_panel"],
    }


def _model_caption(res, name: str, family: str, endpoint: str) -> str:
    cfg = res.config
    method = _METHOD_WORDS.get(getattr(cfg, family), getattr(cfg, family))
    model = "logistic" if family == "logistic" else "Cox"
    return (
        f"{covariate_phrase(cfg.adjustment_terms).capitalize()} {method} {model} models of "
        f"{lower_label(endpoint)}, one per feature; {_table_inference(res, name)}; {_q_words(cfg)}. "
        "Scale: the change in the feature that each ratio refers to."
    )


def _logistic(res):
    cfg = res.config
    tables = []
    if "logistic_cr" in res.tables:
        shown = format_model_table(res.tables["logistic_cr"], "odds_ratio", alpha=cfg.alpha, ci_method=cfg.ci)
        tables.append(_table(_model_caption(res, "logistic_cr", "logistic", cfg.binary), shown))
    return {
        "title": f"{column_label(cfg.binary)}: logistic models",
        "text": _note(res, "logistic"),
        "tables": tables,
        "figures": ["forest_logistic"],
    }


def _km_tables(res) -> list[dict]:
    cfg = res.config
    out = []
    if "km_median_split" in res.tables:
        km = res.tables["km_median_split"]
        shown = pd.DataFrame(
            {
                "Group": km["group"],
                f"Median, months ({100 * (1 - cfg.alpha):g}% CI)": [
                    format_estimate_ci(m, lo, hi).replace("not estimable", "not reached")
                    for m, lo, hi in km[["median", "ci_lower", "ci_upper"]].to_numpy(float)
                ],
            }
        )
        lr = res.tables.get("logrank_median_split")
        text = ""
        if lr is not None and len(lr):
            r = lr.iloc[0]
            text = f" Log-rank test: chi-square {format_number(r['statistic'])} on {int(r['df'])} df, p = {format_p(r['p_value'])}."
        out.append(
            _table(
                f"Median {lower_label(cfg.duration)} by median split of {label(cfg.km_feature)} (Kaplan-Meier).{text}",
                shown,
            )
        )
    if "cutpoint" in res.tables:
        cp = res.tables["cutpoint"].iloc[0]
        shown = pd.DataFrame(
            [
                {
                    "Feature": label(cp["feature"]),
                    "Cutpoint": format_number(cp["cutpoint"]),
                    "Standardized log-rank statistic": format_number(cp["statistic"]),
                    "p (corrected)": format_p(cp["p_value"]),
                    "N": int(cp["n"]),
                    "Events": int(cp["n_events"]),
                }
            ]
        )
        out.append(
            _table(
                "Maximally selected log-rank cutpoint; p corrected for the search over cutpoints "
                "(Lausen & Schumacher 1992).",
                shown,
            )
        )
    return out


def _survival(res):
    cfg = res.config
    tables = []
    if "cox_pfs" in res.tables:
        shown = format_model_table(res.tables["cox_pfs"], "hazard_ratio", alpha=cfg.alpha, ci_method=cfg.ci)
        tables.append(_table(_model_caption(res, "cox_pfs", "cox", cfg.duration), shown))
    return {
        "title": f"{column_label(cfg.duration)}: Cox models and Kaplan-Meier curves",
        "text": _note(res, "cox", "kaplan_meier"),
        "tables": tables + _km_tables(res),
        "figures": ["forest_cox", "kaplan_meier"],
    }


def _ratio_cells(table: pd.DataFrame) -> list[str]:
    return [format_estimate_ci(*r) for r in table[["hazard_ratio", "ci_lower", "ci_upper"]].to_numpy(float)]


def _inference_of_rows(table: pd.DataFrame, alpha: float) -> str:
    pairs = {(c, t) for c, t in zip(table["ci_method"], table["test"]) if t}
    if len(pairs) != 1:
        return ""
    return inference_words(*pairs.pop(), alpha=alpha)


def _response_tables(res) -> list[dict]:
    cfg, t, out = res.config, res.tables, []
    hr = ratio_header("hazard_ratio", cfg.alpha)
    if "response_landmark_sweep" in t:
        sw = t["response_landmark_sweep"]
        shown = pd.DataFrame(
            {
                "Landmark, months": sw["landmark"].map(lambda v: f"{v:g}"),
                "At risk": sw["n_at_risk"],
                "Responded by then": sw["n_status"],
                "Events after": sw["n_events"],
                hr: _ratio_cells(sw),
                "p": sw["p_value"].map(format_p),
            }
        )
        if sw["note"].astype(str).str.len().any():
            shown["Note"] = sw["note"].fillna("")
        out.append(
            _table(
                f"Landmark analyses: {lower_label(cfg.duration)} from each landmark of the patients event-free at it, "
                "responded by then against not (Firth-penalized Cox models; "
                f"{_inference_of_rows(sw, cfg.alpha)}).",
                shown,
            )
        )
    if "response_time_dependent" in t:
        td = t["response_time_dependent"].iloc[0]
        shown = pd.DataFrame(
            [
                {
                    "Patients": td["n_patients"],
                    "Events": td["n_events"],
                    hr: format_estimate_ci(td["hazard_ratio"], td["ci_lower"], td["ci_upper"]),
                    "p": format_p(td["p_value"]),
                    "Mantel-Byar chi-square": format_number(td["mantel_byar_chi2"]),
                    "Mantel-Byar p": format_p(td["mantel_byar_p"]),
                }
            ]
        )
        out.append(
            _table(
                "Response as a time-dependent covariate: Cox model (robust variance clustered by patient; "
                f"{inference_words(td['ci_method'], td['test'] or None, alpha=cfg.alpha)}) and the Mantel-Byar test.",
                shown,
            )
        )
    return out


def _missing(res):
    name = next((n for n in ("logistic_cr", "cox_pfs") if n in res.tables), None)
    return missing_section(res, ci_words=_table_inference(res, name) if name else "")


def _response_survival(res):
    text = " ".join(filter(None, [res.objects.get("response_survival_text", ""), _note(res, "response_survival")]))
    return {"title": "Response and survival", "text": text, "tables": _response_tables(res), "figures": []}


def _screen(res):
    cfg = res.config
    tables = []
    for name, ratio, family, endpoint in (
        ("screen_cr", "odds_ratio", "logistic", cfg.binary),
        ("screen_pfs", "hazard_ratio", "cox", cfg.duration),
    ):
        if name in res.tables:
            caption = _model_caption(res, name, family, endpoint).replace(", one per feature", ", every feature")
            if "p_maxt" in res.tables[name]:
                caption += " p (maxT): Westfall-Young family-wise adjusted p-value."
            tables.append(
                _table(caption, format_model_table(res.tables[name], ratio, alpha=cfg.alpha, ci_method=cfg.ci))
            )
    n = len(res.tables.get("screen_cr", res.tables.get("screen_pfs", [])))
    text = (
        f"{n} features, each scaled as in its row; {cfg.n_perm} permutations (seed {cfg.seed}) for the "
        "family-wise maxT adjustment."
        if n and cfg.n_perm
        else ""
    )
    return {
        "title": "Screening the whole panel",
        "text": " ".join(filter(None, [_note(res, "screen_cr", "screen_pfs"), text])),
        "tables": tables,
        "figures": ["volcano_cr", "volcano_pfs"],
    }


def _populations(res):
    return populations_section(res, note=_note(res, "populations"))


def _exclusions(res):
    frame = format_exclusions(res.exclusions, res.warnings, dict(res.notes))
    if not len(frame):
        return {
            "title": "Exclusions and warnings",
            "text": "No patient was left out and no warning was raised.",
            "tables": [],
            "figures": [],
        }
    return {
        "title": "Exclusions and warnings",
        "text": "",
        "tables": [
            _table(
                "Every patient left out of a step, every step not estimated and every warning, with the reason.", frame
            )
        ],
        "figures": [],
    }


#: The report's sections, in order.  Each is ``(res) -> dict | None``.
SECTIONS = [
    _key_findings,
    _table_one,
    _trial_summary,
    _comparison,
    _logistic,
    _survival,
    _missing,
    _response_survival,
    monitoring_section,
    _screen,
    _populations,
    _exclusions,
]


def build_sections(res: AnalysisResults, figures: dict) -> list[dict]:
    """The sections of a report; figure names not drawn (``figures``) are dropped."""
    out = []
    for section in SECTIONS:
        s = section(res)
        if s:
            s["figures"] = [f for f in s["figures"] if f in figures]
            out.append(s)
    return out


def report_tables(res: AnalysisResults) -> list[tuple[str, str, pd.DataFrame]]:
    """Every shown table of a report as ``(section title, caption, DataFrame)``."""
    return [(s["title"], t["caption"], t["frame"]) for s in build_sections(res, {}) for t in s["tables"]]
