"""Power against sample size (one line per effect size), from a power curve."""

from __future__ import annotations

import numpy as np

from .._params import AXES, FLAG, PROPORTION, TEXT, Options, check_params
from ..errors import ImmuneCorrelatesError
from ._style import GREY, PALETTE, SMALL, house_style, new_axes

__all__ = ["plot_power"]

_RATIO_LABEL = {"odds_ratio": "OR", "hazard_ratio": "HR"}


@check_params(
    ax=AXES,
    x=Options("n", "effect"),
    estimand=TEXT,
    target=(Options(None), PROPORTION),
    band=FLAG,
)
def plot_power(
    curve, *, ax=None, x: str = "n", estimand: str | None = None, target: float | None = 0.8, band: bool = True
):
    """Plot power (or another estimand) of a :class:`~immune_correlates.design.PowerCurve`.

    Parameters
    ----------
    curve : PowerCurve
        From :func:`immune_correlates.design.power_curve`.
    ax : matplotlib Axes, optional
    x : {"n", "effect"}
        Horizontal axis: sample size (one line per effect size) or effect
        size on the ratio scale (one line per sample size).
    estimand : str, optional
        Row of the curve's table to plot (default ``power``; ``power_any`` for screens).
    target : float or None
        Draw a dashed reference line at this power (default 80%).
    band : bool
        Shade +/- 1.96 Monte Carlo standard errors around each line.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> from immune_correlates.design import power_curve
    >>> curve = power_curve(analysis="wilcoxon", n=[20, 34], effect=[0.5, 1.0], n_sim=50, seed=1)
    >>> ax = plot_power(curve)
    >>> len(ax.lines) >= 2
    True
    """
    from ..design.analyses import ScreenAnalysis

    estimand = estimand or ("power_any" if isinstance(curve.analysis, ScreenAnalysis) else "power")
    table = curve.table[curve.table["estimand"] == estimand]
    if table.empty:
        raise ImmuneCorrelatesError(
            f"plot_power: the curve has no estimand {estimand!r}; it has {sorted(curve.table['estimand'].unique())}."
        )
    ratio = _RATIO_LABEL.get(curve.analysis.ratio_name, "ratio")
    ax = new_axes(ax)
    line_key, x_col = ("effect", "n") if x == "n" else ("n", "ratio")
    with house_style():
        for i, (key, sub) in enumerate(table.groupby(line_key, dropna=False, sort=True)):
            sub = sub.sort_values(x_col)
            color = PALETTE[i % len(PALETTE)]
            if line_key == "effect":
                label = "design effect" if not np.isfinite(key) else f"{ratio} {np.exp(key):.2g} per SD"
            else:
                label = f"n = {int(key)}"
            xs, ys = sub[x_col].to_numpy(float), sub["value"].to_numpy(float)
            ax.plot(xs, ys, marker="o", ms=3.5, color=color, label=label)
            if band:
                half = 1.96 * sub["mc_se"].to_numpy(float)
                ax.fill_between(xs, ys - half, ys + half, color=color, alpha=0.15, linewidth=0)
        if target is not None and estimand.startswith("power"):
            ax.axhline(target, color=GREY, linestyle="--", linewidth=0.8)
            ax.text(ax.get_xlim()[0], target, f" {target:.0%}", va="bottom", ha="left", fontsize=SMALL, color=GREY)
        ax.set_xlabel("Patients" if x == "n" else f"{ratio} per SD of {curve.analysis.feature or 'feature'}")
        name = estimand.replace("_", " ")
        ax.set_ylabel(name[:1].upper() + name[1:])
        if estimand.startswith("power") or estimand in ("type1_error", "fdr", "fwer"):
            ax.set_ylim(0, 1)
        ax.set_title(curve.analysis.label, fontsize=SMALL + 1)
        ax.legend(loc="lower right")
    return ax
