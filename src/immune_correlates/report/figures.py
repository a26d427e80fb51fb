"""The report's figures, drawn by :mod:`immune_correlates.plots` from the analysis results."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib.pyplot as plt

from .. import plots
from ..features.labels import column_label
from .methods import covariate_phrase
from .pipeline import AnalysisResults

__all__ = ["make_figures", "export_figures"]


def make_figures(res: AnalysisResults) -> dict:
    """Figures by name, each with its caption: ``{name: (Figure, caption)}``."""
    cfg = res.config
    out = {}
    per = "SD" if cfg.per_sd else None
    counts = [f for f in res.features if f.endswith("_per_ul")]
    if "comparison" in res.tables:
        fig = plots.response_panel(res.frame, list(res.features), group=cfg.group, log=counts, adjust=cfg.adjust)
        out["response_panel"] = (
            fig,
            (
                f"Baseline features by {column_label(cfg.group).lower()}: one dot per patient; "
                f"rank tests (Wilcoxon for two groups, Kruskal-Wallis with the Jonckheere-Terpstra "
                f"trend test for more), {cfg.adjust} adjustment across features."
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
        plots.forest(table, ax=ax, per=per, title=column_label(endpoint))
        out[name] = (
            fig,
            (
                f"{models} models of {column_label(endpoint).lower()}: {what} per SD of each feature "
                f"(transforms in the table) with {cfg.ci} intervals."
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
                f"Screen of the whole panel against {column_label(endpoint).lower()}: {what} per SD "
                f"against -log10 p; the line marks BH q = 0.10."
            ),
        )
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
            f"Kaplan-Meier estimates of {column_label(cfg.duration).lower()} by median split "
            f"of {column_label(kf)} (cut at {res.objects['km_cut']:.3g}); numbers at risk under "
            f"the axis; log-rank p and Cox hazard ratio (Wald interval)."
        ),
    )
    return out


def export_figures(figures: dict, directory: str | Path, formats: Iterable[str], dpi: int = 300) -> list[Path]:
    """Write every figure of :func:`make_figures` as ``directory/<name>.<format>`` (journal-ready, see
    :func:`immune_correlates.plots.save_figure`)."""
    written = []
    for name, (fig, _) in figures.items():
        written += plots.save_figure(fig, Path(directory) / name, formats=tuple(formats), dpi=dpi)
    return written
