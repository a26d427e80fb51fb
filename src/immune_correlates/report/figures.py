"""The report's figures, drawn by :mod:`immune_correlates.plots` from the analysis results."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt

from .. import plots
from ..features.labels import column_label
from .formatting import format_number, inference_words
from .methods import covariate_phrase
from .missing import missing_figures
from .monitoring import monitoring_figures
from .pipeline import AnalysisResults
from .populations import population_figures
from .sections import lower_label


def _inference(res: AnalysisResults, key: str) -> str:
    tests = [t for t in res.tables[key].get("test", []).dropna().unique() if t]
    return inference_words(res.config.ci, tests[0] if len(tests) == 1 else None, alpha=res.config.alpha)


def _adjust_words(cfg) -> str:
    from ..plots.response import ADJUST_NAMES

    return f"{ADJUST_NAMES.get(cfg.adjust, cfg.adjust)} adjustment" if cfg.adjust != "none" else "no adjustment"


__all__ = ["make_figures", "export_figures"]


def make_figures(res: AnalysisResults) -> dict:
    """Figures by name, each with its caption: ``{name: (Figure, caption)}``."""
    cfg = res.config
    out = {}
    per = "SD" if cfg.per_sd else None
    counts = [f for f in res.features if f.endswith("_per_ul")]
    if "comparison" in res.tables:
        fig = plots.response_panel(res.frame, list(res.features), group=cfg.group, log=counts, adjust=cfg.adjust)
        two = len(res.objects.get("compare_levels") or []) == 2 and res.frame[cfg.group].nunique() == 2
        test = "Wilcoxon rank-sum test" if two else "Kruskal-Wallis test"
        out["response_panel"] = (
            fig,
            (
                f"Baseline features by {lower_label(cfg.group)}: one dot per patient, boxes of the quartiles; "
                f"p from the {test}, q adjusted across the features shown ({_adjust_words(cfg)}). "
                "Effect sizes and tests are in the table above."
            ),
        )
    models = covariate_phrase(cfg.adjustment_terms).capitalize()
    for name, key, endpoint, what in (
        ("forest_logistic", "logistic_cr", cfg.binary, "odds ratio"),
        ("forest_cox", "cox_pfs", cfg.duration, "hazard ratio"),
    ):
        if key not in res.tables:
            continue
        table = res.tables[key]
        fig, ax = plt.subplots(figsize=(8.6, 0.42 * len(table) + 1.9), layout="constrained")
        plots.forest(table, ax=ax, per=per, title=column_label(endpoint), q_threshold=0.10)  # as the key findings
        out[name] = (
            fig,
            (
                f"{models} models of {lower_label(endpoint)}: {what} per SD of each feature "
                f"(transforms in the table); {_inference(res, key)}; filled squares: q < 0.10 "
                f"({_adjust_words(cfg)}), as in the key findings."
            ),
        )
    for name, key, endpoint, what in (
        ("volcano_cr", "screen_cr", cfg.binary, "log odds ratio"),
        ("volcano_pfs", "screen_pfs", cfg.duration, "log hazard ratio"),
    ):
        if key not in res.tables:
            continue
        fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
        plots.volcano(
            res.tables[key], effect="estimate", label="feature", ax=ax, fdr=0.10, annotate=8, endpoint=endpoint, per=per
        )
        out[name] = (
            fig,
            (
                f"Screen of the whole panel against {lower_label(endpoint)}: {what} per SD against "
                f"\u2212log10 p ({_inference(res, key)}); black points and the dashed line: q \u2264 0.10 "
                f"({_adjust_words(cfg)}). A name that cannot sit by its point is a number, listed beside the plot."
            ),
        )
    out.update(missing_figures(res))
    out.update(monitoring_figures(res))
    out.update(population_figures(res))
    kf = cfg.km_feature
    if "km" not in res.objects:
        return out
    fig, ax = plt.subplots(figsize=(8.2, 5.2), layout="constrained")
    plots.kaplan_meier(
        res.objects["km"],
        cfg.duration,
        ax=ax,
        logrank=res.objects["logrank"],
        hazard_ratio=res.objects["km_hazard_ratio"],
        risk_labels=res.objects["km_split"].short,
    )
    out["kaplan_meier"] = (
        fig,
        (
            f"Kaplan-Meier estimates of {lower_label(cfg.duration)} by median split "
            f"of {column_label(kf)} (cut at {format_number(res.objects['km_cut'])}); numbers at risk under "
            f"the axis; log-rank p; hazard ratio from a Cox model with its {_ci_words(res)}."
        ),
    )
    return out


def _ci_words(res) -> str:
    """The interval the Kaplan-Meier legend's hazard ratio carries, named by the method the run used."""
    hr = res.objects["km_hazard_ratio"]
    method = hr["ci_method"].iloc[0] if "ci_method" in hr and len(hr) else res.config.ci
    words = "profile-likelihood" if method == "profile" else "Wald"
    return f"{words} {100 * (1 - res.config.alpha):g}% CI"


def export_figures(figures: dict, directory: str | Path, formats: Iterable[str], dpi: int = 300) -> list[Path]:
    """Write every figure of :func:`make_figures` as ``directory/<name>.<format>`` (journal-ready, see
    :func:`immune_correlates.plots.save_figure`)."""
    written = []
    for name, (fig, _) in figures.items():
        written += plots.save_figure(fig, Path(directory) / name, formats=tuple(formats), dpi=dpi)
    return written
