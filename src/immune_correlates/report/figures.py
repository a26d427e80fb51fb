"""The report's figures, drawn by :mod:`immune_correlates.plots` from the analysis results."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .. import plots
from .methods import covariate_phrase
from .pipeline import AnalysisResults

__all__ = ["make_figures"]


def make_figures(res: AnalysisResults) -> dict:
    """Figures by name, each with its caption: ``{name: (Figure, caption)}``."""
    cfg = res.config
    out = {}
    counts = [f for f in res.features if f.endswith("_per_ul")]
    if "comparison" in res.tables:
        fig = plots.response_panel(res.frame, list(res.features), group=cfg.group, log=counts, adjust=cfg.adjust)
        out["response_panel"] = (fig, f"Baseline features by {cfg.group}: one dot per patient; rank tests, "
                                      f"{cfg.adjust} adjustment across features.")
    for name, key, what in (("forest_logistic", "logistic_cr", f"odds ratio of {cfg.binary}"),
                            ("forest_cox", "cox_pfs", f"hazard ratio of {cfg.event}")):
        if key not in res.tables:
            continue
        table = res.tables[key]
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(table) + 1.6))
        plots.forest(table, ax=ax)
        out[name] = (fig, f"{covariate_phrase(cfg.adjustment_terms).capitalize()} models: {what} per SD of each feature (scales in the table) with "
                          f"{cfg.ci} intervals.")
    for name, key, what in (("volcano_cr", "screen_cr", f"log odds ratio of {cfg.binary}"),
                            ("volcano_pfs", "screen_pfs", f"log hazard ratio of {cfg.event}")):
        if key not in res.tables:
            continue
        table = res.tables[key]
        fig, ax = plt.subplots(figsize=(6.5, 4.8))
        plots.volcano(table, effect="estimate", label="feature", ax=ax, fdr=0.10, annotate=8)
        out[name] = (fig, f"Screen of the whole panel: {what} per SD against -log10 p; the line marks BH q = 0.10.")
    kf = cfg.km_feature
    if "km_frame" not in res.objects:
        return out
    fig, ax = plt.subplots(figsize=(7.0, 5.2))
    plots.kaplan_meier(res.objects["km_frame"], cfg.duration, cfg.event, group=f"{kf}_group", ax=ax)
    out["kaplan_meier"] = (fig, f"Kaplan-Meier estimates of {cfg.duration} by median split of {kf} "
                                f"(cut at {res.objects['km_cut']:.3g}); numbers at risk under the axis; log-rank p.")
    return out
