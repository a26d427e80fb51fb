"""From a cohort to a finished report directory.

The report is a list of sections, each built by its own function from the
analysis results (:data:`SECTIONS`); a section whose step could not be
estimated says why instead of failing.  To add a section, write a function
``(res, figures) -> dict | None`` (keys ``title``, ``text``, ``tables``,
``figures``) and insert it into :data:`SECTIONS`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..data.pseudonymize import pseudonymize as _pseudonymize
from ..errors import MissingDataWarning
from ..features.labels import column_label
from ..plots.response import ADJUST_NAMES
from .config import AnalysisConfig
from .docx import tables_docx
from .figures import export_figures, make_figures
from .formatting import format_comparison, format_model_table, format_summary
from .html import figure_payload, render_report, table_payload
from .methods import covariate_phrase, key_findings, methods_section
from .pipeline import STEPS, AnalysisResults, run_analysis
from .provenance import provenance
from .writer import figure_png, write_outputs

__all__ = ["make_report", "SECTIONS", "report_tables"]


def _ci_words(cfg) -> str:
    level = f"{100 * (1 - cfg.alpha):g}%"
    return (
        f"profile-likelihood {level} intervals and likelihood-ratio p-values"
        if cfg.ci == "profile"
        else f"Wald {level} intervals"
    )


_METHOD_WORDS = {"ml": "maximum-likelihood", "firth": "Firth-penalized"}


def _q_words(cfg) -> str:
    return (
        "unadjusted p-values only" if cfg.adjust == "none" else f"{ADJUST_NAMES.get(cfg.adjust, cfg.adjust)} q-values"
    )


def _name(column: str) -> str:
    """A column's label inside a sentence ("progression-free survival"), keeping acronyms ("NK", "CR")."""
    label = column_label(column)
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _captions(res: AnalysisResults) -> dict:
    cfg = res.config
    levels = res.objects.get("compare_levels", ["?", "?"])
    adj = covariate_phrase(cfg.adjustment_terms)
    return {
        "table_one": f"Table 1. Baseline characteristics by {cfg.group}: n (%) of patients with a known value or "
        "median [Q1, Q3]; missing counts; Fisher exact, Wilcoxon rank-sum or Kruskal-Wallis p-values; "
        "absolute standardized mean differences (SMD).",
        "trial_summary": "Efficacy and safety: proportions with exact (Clopper-Pearson) 95% intervals; Kaplan-Meier "
        "estimates for time to event, with their events and patients at risk.",
        "comparison": f"Head to head: {cfg.group} = {levels[0]} against {cfg.group} = {levels[1]}; rank tests, "
        f"{_q_words(cfg)} across features.",
        "all_groups": f"All levels of {cfg.group}: Kruskal-Wallis (and Jonckheere-Terpstra trend when ordered).",
        "logistic_cr": f"{adj.capitalize()} {_METHOD_WORDS.get(cfg.logistic, cfg.logistic)} logistic models of "
        f"{_name(cfg.binary)}, one per feature, with {_ci_words(cfg)}; {_q_words(cfg)}.",
        "cox_pfs": f"{adj.capitalize()} {_METHOD_WORDS.get(cfg.cox, cfg.cox)} Cox models of {_name(cfg.duration)}, "
        f"one per feature, with {_ci_words(cfg)}; {_q_words(cfg)}.",
        "km_median_split": f"Median {_name(cfg.duration)} by median split of {column_label(cfg.km_feature)} "
        "(Kaplan-Meier).",
        "logrank_median_split": "Log-rank test of the median split.",
        "cutpoint": "Maximally selected log-rank cutpoint with its Lausen-Schumacher corrected p-value.",
        "screen_cr": f"Every derived feature against {_name(cfg.binary)}: {adj} models with the same convention as "
        f"the model tables ({_ci_words(cfg)}), {_q_words(cfg)} and Westfall-Young maxT "
        "permutation-adjusted p-values (p_maxt).",
        "screen_pfs": f"Every derived feature against {_name(cfg.duration)}: {adj} Cox models, {_ci_words(cfg)}, "
        f"{_q_words(cfg)} and Westfall-Young maxT p-values (p_maxt).",
        "exclusions": "Every patient left out of a step, with the reason.",
        "response_landmark": f"Landmark analysis: {_name(cfg.duration)} from the landmark of patients event-free at it, "
        "by response by then (Firth Cox hazard ratio, responded vs not, profile interval).",
        "response_landmark_sweep": "The landmark analysis repeated at other landmarks, with numbers at risk.",
        "response_time_dependent": "Response as a time-dependent covariate (counting-process Cox, robust SE "
        "clustered by patient) and the Mantel-Byar test.",
    }


def _note(res, *steps) -> str:
    return " ".join(res.notes[s] for s in steps if s in res.notes)


def _tab(res, name, frame=None):
    if name not in res.tables:
        return []
    return [table_payload(res.tables[name] if frame is None else frame, _captions(res).get(name, ""))]


def _fig(figs, name):
    return [figs[name]] if name in figs else []


def _key_findings(res, figs):
    return {"title": "Key findings", "text": key_findings(res), "tables": [], "figures": []}


def _table_one_shown(t1: pd.DataFrame, group: str) -> pd.DataFrame:
    """Table 1 as read: label, one column per group (``cr = 1`` for a 0/1 group), overall, missing, test, p, SMD."""
    groups = list(t1.columns[t1.columns.get_loc("summary") + 1 : t1.columns.get_loc("overall")])
    names = {g: f"{group} = {g}" for g in groups if g in ("0", "1")}
    shown = t1[["label", *groups, "overall", "n_missing", "test", "p_value", "smd"]].rename(
        columns={"label": "", "n_missing": "missing", "p_value": "p", "smd": "SMD", **names}
    )
    shown["test"] = shown["test"].str.replace("_", " ")
    return shown


def _table_one(res, figs):
    shown = _table_one_shown(res.tables["table_one"], res.config.group) if "table_one" in res.tables else None
    return {
        "title": "Baseline characteristics",
        "text": _note(res, "table_one", "features"),
        "tables": _tab(res, "table_one", shown),
        "figures": [],
    }


def _trial_summary(res, figs):
    ts = res.tables.get("trial_summary")
    return {
        "title": "Trial summary",
        "text": _note(res, "trial_summary"),
        "tables": _tab(res, "trial_summary", format_summary(ts) if ts is not None else None),
        "figures": [],
    }


def _comparison(res, figs):
    cfg = res.config
    levels = res.objects.get("compare_levels")
    shown = format_comparison(res.tables["comparison"], levels) if levels else None
    return {
        "title": f"{column_label(cfg.group)} groups compared",
        "text": _note(res, "comparison")
        or f"Features compared between groups of {cfg.group}; p-values adjusted across features by {cfg.adjust}.",
        "tables": _tab(res, "comparison", shown) + _tab(res, "all_groups"),
        "figures": _fig(figs, "response_panel"),
    }


def _logistic(res, figs):
    cfg = res.config
    shown = format_model_table(res.tables["logistic_cr"], "odds_ratio") if "logistic_cr" in res.tables else None
    return {
        "title": f"{column_label(cfg.binary)}: logistic models",
        "text": _note(res, "logistic")
        or f"Outcome {cfg.binary}; {cfg.logistic} logistic regression, "
        f"{covariate_phrase(cfg.adjustment_terms)}; {_ci_words(cfg)}.",
        "tables": _tab(res, "logistic_cr", shown),
        "figures": _fig(figs, "forest_logistic"),
    }


def _survival(res, figs):
    cfg = res.config
    shown = format_model_table(res.tables["cox_pfs"], "hazard_ratio") if "cox_pfs" in res.tables else None
    return {
        "title": f"{column_label(cfg.duration)}: survival",
        "text": _note(res, "cox", "kaplan_meier")
        or f"Duration {cfg.duration}, event {cfg.event}; Cox "
        f"{cfg.cox}, {covariate_phrase(cfg.adjustment_terms)}; "
        f"{_ci_words(cfg)}.",
        "tables": _tab(res, "cox_pfs", shown)
        + _tab(res, "km_median_split")
        + _tab(res, "logrank_median_split")
        + _tab(res, "cutpoint"),
        "figures": _fig(figs, "forest_cox") + _fig(figs, "kaplan_meier"),
    }


def _response_survival(res, figs):
    tables = []
    for name in ("response_landmark", "response_landmark_sweep", "response_time_dependent"):
        tables += _tab(res, name)
    return {
        "title": "Response and survival",
        "text": " ".join(
            filter(None, [res.objects.get("response_survival_text", ""), _note(res, "response_survival")])
        ),
        "tables": tables,
        "figures": [],
    }


def _screen(res, figs):
    cfg = res.config
    tables = []
    for name, ratio in (("screen_cr", "odds_ratio"), ("screen_pfs", "hazard_ratio")):
        if name in res.tables:
            tables += _tab(res, name, format_model_table(res.tables[name], ratio))
    n = len(res.tables.get("screen_cr", res.tables.get("screen_pfs", [])))
    text = (
        f"{n} features, each scaled as in its row; {cfg.n_perm} permutations (seed {cfg.seed}) for the "
        "family-wise maxT adjustment."
        if n
        else ""
    )
    return {
        "title": "Screening the whole panel",
        "text": " ".join(filter(None, [_note(res, "screen_cr", "screen_pfs"), text])),
        "tables": tables,
        "figures": _fig(figs, "volcano_cr") + _fig(figs, "volcano_pfs"),
    }


def _exclusions(res, figs):
    notes = [f"{k}: {v}" for k, v in res.notes.items()]
    text = "; ".join(notes + list(res.warnings)) or "No warnings were raised."
    return {"title": "Exclusions and warnings", "text": text, "tables": _tab(res, "exclusions"), "figures": []}


#: The report's sections, in order.  Each is ``(res, figures) -> dict | None``.
SECTIONS = [
    _key_findings,
    _table_one,
    _trial_summary,
    _comparison,
    _logistic,
    _survival,
    _response_survival,
    _screen,
    _exclusions,
]


def report_tables(res: AnalysisResults) -> list[tuple[str, str, pd.DataFrame]]:
    """The tables of a report as people read them: ``(heading, caption, DataFrame)`` (for the ``.docx``)."""
    cap = _captions(res)
    t = res.tables
    out = []
    if "table_one" in t:
        out.append(("Table 1", cap["table_one"], _table_one_shown(t["table_one"], res.config.group)))
    if "trial_summary" in t:
        out.append(("Trial summary", cap["trial_summary"], format_summary(t["trial_summary"])))
    if "comparison" in t:
        out.append(
            ("Groups compared", cap["comparison"], format_comparison(t["comparison"], res.objects["compare_levels"]))
        )
    for name, ratio, head in (
        ("logistic_cr", "odds_ratio", "Logistic models"),
        ("cox_pfs", "hazard_ratio", "Cox models"),
        ("screen_cr", "odds_ratio", "Screen: binary endpoint"),
        ("screen_pfs", "hazard_ratio", "Screen: survival"),
    ):
        if name in t:
            out.append((head, cap[name], format_model_table(t[name], ratio)))
    return out


def make_report(
    cohort,
    out_dir: str | Path,
    *,
    config: AnalysisConfig | None = None,
    inputs: dict | None = None,
    command: list[str] | None = None,
    pseudonymize: bool = False,
    title: str | None = None,
    progress=None,
    figure_formats: tuple[str, ...] = ("png",),
) -> Path:
    """Analyse ``cohort`` and write ``report.html``, ``report.docx``, ``tables/``, ``figures/`` and ``results.json``.

    Parameters
    ----------
    cohort : Cohort
    out_dir : path
    config : AnalysisConfig, optional
    inputs : dict, optional
        Table name to input path (its file name and SHA-256 go into the provenance) or a label.
    command : list of str, optional
        Recorded in the provenance (paths reduced to file names).
    pseudonymize : bool
        Replace patient ids by stable codes in every output.
    title : str, optional
    progress : callable, optional
        Called with the name of each finished step (``len(STEPS) + 2`` calls).
    figure_formats : tuple of str
        Formats of ``figures/`` besides the PNG always written, e.g. ``("png", "pdf")`` (300 dpi, embedded fonts).

    Returns
    -------
    Path
        The output directory.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> make_report(ic.datasets.load_ofa_len(), "report/")  # doctest: +SKIP
    """
    config = config or AnalysisConfig()
    if pseudonymize:
        cohort, _ = _pseudonymize(cohort)
    res = run_analysis(cohort, config, progress=progress)
    prov = provenance(inputs or {}, seed=config.seed, command=command, config=config.to_dict())
    prov["pseudonymized"] = bool(pseudonymize)
    with warnings.catch_warnings():
        # The figures redraw what run_analysis computed; its exclusions table already lists these rows.
        warnings.simplefilter("ignore", MissingDataWarning)
        figures = make_figures(res)
    if progress is not None:
        progress("figures")
    pngs = {name: figure_png(f, prov) for name, (f, _) in figures.items()}
    figs = {name: figure_payload(pngs[name], cap) for name, (_, cap) in figures.items()}
    title = title or "Baseline T-cell and NK-cell correlates of response"
    subtitle = f"{cohort.n_patients} patients. Generated by immune_correlates {prov['package']['immune_correlates']}."
    sections = [s for s in (section(res, figs) for section in SECTIONS) if s]
    methods = methods_section(res)
    html = render_report(title, subtitle, sections, prov, methods=[(m["heading"], m["text"]) for m in methods])
    results = {
        "provenance": prov,
        "config": config.to_dict(),
        "warnings": list(res.warnings),
        "notes": dict(res.notes),
        "record": list(res.record),
        "methods": methods,
        "key_findings": key_findings(res),
        "tables": {k: v for k, v in res.tables.items() if isinstance(v, pd.DataFrame)},
    }
    docx = tables_docx(title, report_tables(res))
    out = write_outputs(out_dir, tables=res.tables, figures=pngs, results=results, html=html, docx=docx)
    extra = [f for f in figure_formats if f.lower() != "png"]
    if extra:
        export_figures(figures, out / "figures", extra)
    for f, _ in figures.values():
        plt.close(f)
    if progress is not None:
        progress("written")
    return out


#: Progress ticks of :func:`make_report`: one per analysis step, the figures and the writing.
N_PROGRESS = len(STEPS) + 2
