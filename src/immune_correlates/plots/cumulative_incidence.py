"""Cumulative incidence of a competing risk, with numbers at risk and Gray's test."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker

from .._params import AXES, COLORS, FLAG, MAPPING, MISSING, SEQUENCE, TEXT, Interval, check_params
from ..errors import ImmuneCorrelatesError, MissingDataWarning
from ..features.labels import column_unit
from ..stats.survival.competing_risks import CumulativeIncidenceResult
from ..stats.survival.competing_risks import cumulative_incidence as ci_estimate
from ..stats.survival.gray_test import gray_test
from ._style import format_p, group_colors, house_style, new_axes, order_groups
from .response import group_names
from .survival import at_risk_counts, default_times, draw_at_risk

__all__ = ["cumulative_incidence"]


@check_params(
    cause=Interval(1, None, integer=True),
    ax=AXES,
    at_risk=FLAG,
    times=SEQUENCE,
    gray=FLAG,
    censor_marks=FLAG,
    group_labels=MAPPING,
    colors=COLORS,
    xlabel=TEXT,
    ylabel=TEXT,
    title=TEXT,
    missing=MISSING,
)
def cumulative_incidence(
    data: pd.DataFrame | CumulativeIncidenceResult,
    duration: str | None = None,
    event: str | None = None,
    group: str | None = None,
    *,
    cause: int = 1,
    ax=None,
    at_risk: bool = True,
    times: Sequence[float] | None = None,
    gray: bool = True,
    censor_marks: bool = True,
    group_labels: Mapping | None = None,
    colors: Mapping | Sequence | None = None,
    xlabel: str | None = None,
    ylabel: str = "Cumulative incidence",
    title: str | None = None,
    missing: str = "drop",
):
    """Aalen-Johansen cumulative incidence curves of one cause, with numbers at risk under the ticks.

    Parameters
    ----------
    data : DataFrame or CumulativeIncidenceResult
        One row per patient (e.g. ``ic.analysis_frame(cohort)``), or a result
        of :func:`immune_correlates.cumulative_incidence` to draw as it is
        (then no Gray test is written).
    duration, event : str
        Follow-up time and event code (0 censored, 1, 2, ... cause), e.g.
        ``pfs_months`` and ``pfs_cause``.
    group : str, optional
        One curve per group (category order, else sorted).
    cause : int
        The cause whose incidence is drawn (``pfs_cause``: 1 progression,
        2 death without progression).
    ax : matplotlib Axes, optional
    at_risk : bool
        Numbers at risk (still followed and event-free) under the axis at the x ticks.
    times : sequence of float, optional
        The x ticks and at-risk times (default: round times up to the last follow-up).
    gray : bool
        Write the p-value of Gray's test (two or more groups) as the legend title.
    censor_marks : bool
        A tick on the curve at every censoring time.
    group_labels, colors : mapping, optional
        Display names and colours of the groups.
    xlabel, ylabel, title : str, optional
    missing : {"drop", "raise"}

    Returns
    -------
    matplotlib Axes
        Curves are lines with gid ``"cif:<group>"`` (x = 0 then the table's
        times, y = 0 then its estimates), censor marks ``"censor:<group>"``,
        numbers at risk ``"at_risk:<group>"``; Gray's p is the legend title
        (gid ``"gray"``).  The figure is drawn in the house style; matplotlib's
        rcParams are left as they were.

    Notes
    -----
    Estimates of :func:`immune_correlates.cumulative_incidence` (as
    ``cmprsk::cuminc``), test of :func:`immune_correlates.gray_test`.  Unlike
    ``1 - Kaplan-Meier`` with the competing events censored, the curves of
    all causes add up to the probability of any event.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = ic.plots.cumulative_incidence(frame, "pfs_months", "pfs_cause", group="cr", cause=1)
    """
    if isinstance(data, CumulativeIncidenceResult):
        ci = data
        group, cause, gray = ci.group_column, ci.cause, False
    else:
        if duration is None or event is None:
            raise ImmuneCorrelatesError("cumulative_incidence: give duration and event columns with a DataFrame.")
        ci = ci_estimate(data, duration, event, group=group, cause=cause, missing=missing)
    levels = order_groups(ci.groups)
    palette = group_colors(levels, colors=colors) if group is not None else {levels[0]: "#000000"}
    names = group_names(group, levels, group_labels) if group is not None else {g: str(g) for g in levels}
    t_max = float(ci.table["time"].max())
    ticks = default_times(t_max) if times is None else np.asarray(times, dtype=float)
    if ticks.size and (ticks < 0).any():
        raise ImmuneCorrelatesError(f"cumulative_incidence: times must be non-negative, got {ticks.tolist()}.")
    ax = new_axes(ax, figsize=(5.6, 4.0 + (0.2 * (len(levels) + 1) if at_risk else 0)))
    with house_style():
        top = _draw_incidence(ax, ci, levels, palette, names if group is not None else {}, censor_marks)
        ax.set_xlim(0, max(t_max, ticks.max() if ticks.size else 0) * 1.03)
        ax.set_ylim(0, 1.04 if top > 0.5 else max(0.25, np.ceil(top * 1.15 * 20) / 20))
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        unit = column_unit(duration) if duration else ""
        ax.set_xlabel((unit[:1].upper() + unit[1:] if unit else duration or "Time") if xlabel is None else xlabel)
        ax.set_ylabel(ylabel)
        if group is not None:
            test_text = None
            if gray and len(levels) >= 2:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", MissingDataWarning)  # the estimate above already warned
                    res = gray_test(data, duration, event, group, cause=cause, missing=missing)
                test_text = f"Gray's test {format_p(res.pvalue)}"
            leg = ax.legend(loc="best", title=test_text, handlelength=1.5, alignment="left")
            if test_text:
                leg.get_title().set(gid="gray")
        if at_risk and ticks.size:
            draw_at_risk(ax, at_risk_counts(ci, ticks).loc[levels], palette, names)
        if title:
            ax.set_title(title)
    return ax


def _draw_incidence(ax, ci, levels, palette, names, censor_marks: bool) -> float:
    """One step curve per group (gid ``cif:<group>``), ending at the group's last follow-up; the highest value."""
    top = 0.0
    for g in levels:
        r = ci.table[ci.table["group"] == g]
        t, f = np.r_[0.0, r["time"].to_numpy()], np.r_[0.0, r["estimate"].to_numpy()]
        top = max(top, float(f.max()))
        ax.plot(t, f, drawstyle="steps-post", color=palette[g], label=names.get(g), gid=f"cif:{g}")
        if censor_marks:
            cens = r["n_censored"].to_numpy() > 0
            ax.plot(
                r["time"].to_numpy()[cens],
                r["estimate"].to_numpy()[cens],
                linestyle="",
                marker="|",
                markersize=7,
                markeredgewidth=1.2,
                color=palette[g],
                gid=f"censor:{g}",
            )
    return top
