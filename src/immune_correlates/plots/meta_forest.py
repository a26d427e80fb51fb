"""Forest plot of a meta-analysis: trials with their weights, the pooled diamond, the prediction interval.

:func:`immune_correlates.plots.forest` draws a
:class:`~immune_correlates.stats.missing.meta.MetaAnalysisResult` with :func:`meta_forest`, as
``metafor::forest(rma_fit)`` does: a square per trial (area proportional to its weight) with
its interval, the pooled estimate as a diamond spanning its confidence interval, the
prediction interval as a line through it, and the heterogeneity in words underneath.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..features.labels import column_label
from ._style import GREY, OKABE_ITO, SMALL, format_p, house_style, new_axes, plain_log_axis, text_columns

__all__ = ["meta_forest"]

RATIO_WORDS = {
    "odds_ratio": ("Odds ratio", "OR"),
    "hazard_ratio": ("Hazard ratio", "HR"),
    "shr": ("Subdistribution HR", "SHR"),
}
_METHOD_NAMES = {"REML": "REML", "DL": "DerSimonian-Laird", "PM": "Paule-Mandel"}


def _fmt(v: float) -> str:
    return f"{v:.2f}" if abs(v) < 100 else f"{v:.3g}"


def meta_forest(
    result,
    *,
    ax=None,
    labels: Mapping[str, str] | None = None,
    color: str = OKABE_ITO["blue"],
    show_values: bool = True,
    prediction: bool = True,
    xlabel: str | None = None,
    title: str | None = None,
):
    """Draw a meta-analysis (see the module docstring); called by :func:`immune_correlates.plots.forest`.

    Returns
    -------
    matplotlib Axes
        Trials are the collection with gid ``"meta_studies"`` (marker areas proportional to the
        weights), their intervals ``"meta_intervals"``, the pooled diamond the polygon
        ``"meta_diamond"``, the prediction interval the line ``"meta_prediction"``.
    """
    exp = result.ratio is not None
    tf = np.exp if exp else (lambda v: v)
    st = result.studies
    k = len(st)
    est, lo, hi = (tf(st[c].to_numpy(float)) for c in ("estimate", "ci_lower", "ci_upper"))
    w = st["weight"].to_numpy(float)
    pooled = tf(np.array([result.estimate, result.ci_lower, result.ci_upper]))
    pred = tf(np.array([result.pi_lower, result.pi_upper]))
    random_effects = result.method != "FE"
    show_pi = prediction and random_effects
    ys = np.arange(k, 0, -1).astype(float) + 1.0  # trials from the top; the pooled row at y = 0.5
    y_pool = 0.5
    ends = np.concatenate([lo, hi, pooled, pred if show_pi else pooled])
    ends = ends[np.isfinite(ends) & ((ends > 0) if exp else True)]
    null = 1.0 if exp else 0.0
    lo_x, hi_x = min(ends.min(), null), max(ends.max(), null)
    if exp:
        pad = 0.06 * (np.log10(hi_x) - np.log10(lo_x) or 1.0)
        xmin, xmax = 10 ** (np.log10(lo_x) - pad), 10 ** (np.log10(hi_x) + pad)
    else:
        pad = 0.06 * (hi_x - lo_x or 1.0)
        xmin, xmax = lo_x - pad, hi_x + pad
    ax = new_axes(ax, figsize=(8.6, 0.36 * (k + 2) + 1.9))
    with house_style():
        ax.hlines(ys, lo, hi, color=color, linewidth=1.3, gid="meta_intervals")
        size = 30 + 220 * w / w.max()
        ax.scatter(est, ys, s=size, marker="s", color=color, zorder=3, linewidth=0, gid="meta_studies")
        h = 0.32
        diamond = [(pooled[1], y_pool), (pooled[0], y_pool + h), (pooled[2], y_pool), (pooled[0], y_pool - h)]
        ax.fill(*zip(*diamond), color="black", zorder=3, gid="meta_diamond")
        if show_pi:
            ax.hlines(
                y_pool,
                pred[0],
                pred[1],
                color="black",
                linewidth=1.0,
                linestyle=(0, (4, 2)),
                zorder=2,
                gid="meta_prediction",
            )
        ax.axvline(null, color=GREY, linestyle="--", linewidth=1.0, zorder=1)
        ax.axhline(1.25, color=GREY, linewidth=0.6)
        if exp:
            ax.set_xscale("log")
            ax.set_xlim(xmin, xmax)
            plain_log_axis(ax.xaxis, xmin, xmax)
        else:
            ax.set_xlim(xmin, xmax)
        model = f"Random effects ({_METHOD_NAMES[result.method]})" if random_effects else "Fixed effect"
        names = [column_label(str(s), labels=labels) for s in st["label"]]
        ax.set_yticks([*ys, y_pool], [*names, model])
        ax.get_yticklabels()[-1].set_fontweight("bold")
        ax.set_ylim(-0.2, k + 1.7)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        level = f"{100 * (1 - result.alpha):g}% CI"
        words, short = RATIO_WORDS.get(result.ratio, ("Effect", "Estimate")) if exp else ("Estimate", "Estimate")
        scale = ", log scale" if exp else ""
        ax.set_xlabel(xlabel or f"{words} ({level}{scale})")
        if show_values:
            _values(ax, ys, y_pool, est, lo, hi, w, pooled, short, level)
        test = "z" if result.test == "z" else "Hartung-Knapp t"
        lines = [
            f"Heterogeneity: \u03c4\u00b2 = {result.tau2:.3g}, I\u00b2 = {result.i2:.0f}%, "
            f"Q = {result.q:.2f} on {result.q_df} df, {format_p(result.q_pvalue)}",
            f"Pooled effect: {test} test, {format_p(result.pvalue)}"
            + (f"; dashed: {100 * (1 - result.alpha):g}% prediction interval for a new trial" if show_pi else ""),
        ]
        ax.annotate(
            "\n".join(lines),
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(0, -34),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=SMALL,
            gid="meta_heterogeneity",
        )
        if title:
            ax.set_title(title, pad=18)
    return ax


def _values(ax, ys, y_pool, est, lo, hi, w, pooled, short, level) -> None:
    cols = [
        ("Weight", [f"{v:.1f}%" for v in w] + ["100%"], 44),
        (
            f"{short} ({level})",
            [f"{_fmt(a)} ({_fmt(b)}\u2013{_fmt(c)})" for a, b, c in zip(est, lo, hi)]
            + [f"{_fmt(pooled[0])} ({_fmt(pooled[1])}\u2013{_fmt(pooled[2])})"],
            110,
        ),
    ]
    text_columns(ax, cols, [*ys, y_pool], gid="meta", bold_at=y_pool)
