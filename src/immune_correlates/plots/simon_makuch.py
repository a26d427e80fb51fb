"""Simon-Makuch curves: survival by a group that patients join during follow-up (e.g. response).

A Kaplan-Meier plot "by response" puts every eventual responder in the
responder curve from time 0, although nobody can progress before responding
while counted there.  Simon-Makuch curves count a patient among the
non-responders until the response and among the responders afterwards, and
usually start at a landmark; the Mantel-Byar p-value tests the same risk sets.

Reference: Simon R, Makuch RW (1984). *Stat Med* 3:35-44.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker

from .._params import AXES, COLORS, FLAG, OPTIONAL_COLUMN, SEQUENCE, TEXT, Interval, ListLike, check_params
from ..stats.survival.mantel_byar import counting_rows, group_at_risk, mantel_byar
from ..stats.survival.mantel_byar import simon_makuch as sm_estimate
from ._style import curve_until_nobody_at_risk, format_p, group_colors, house_style, new_axes
from .survival import default_times, draw_at_risk

__all__ = ["simon_makuch"]


@check_params(
    id=OPTIONAL_COLUMN,
    start_at=Interval(0, None),
    ax=AXES,
    labels=ListLike("two curve labels"),
    times=SEQUENCE,
    at_risk=FLAG,
    test=FLAG,
    colors=COLORS,
    xlabel=TEXT,
    ylabel=TEXT,
    title=TEXT,
)
def simon_makuch(
    data: pd.DataFrame,
    duration: str,
    event: str,
    switch: str = "response_months",
    *,
    id: str | None = "patient_id",
    start_at: float = 0.0,
    ax=None,
    labels: Sequence[str] = ("Not (yet) responded", "Responded"),
    times: Sequence[float] | None = None,
    at_risk: bool = True,
    test: bool = True,
    colors: Mapping | None = None,
    xlabel: str | None = None,
    ylabel: str = "Progression-free probability",
    title: str | None = None,
):
    """Simon-Makuch step curves with time-updated numbers at risk and the Mantel-Byar p.

    Parameters
    ----------
    data : DataFrame
        One row per patient with the switch time (missing = never).
    duration, event : str
        Follow-up from baseline and 0/1 event.
    switch : str
        Time the patient joins the group (default ``"response_months"``).
    id : str, optional
        Patient id column.
    start_at : float
        Start the curves here (a landmark; 0 = baseline).
    ax : matplotlib Axes, optional
    labels : (str, str)
        Names of the curves before / after the switch.
    times : sequence of float, optional
        x ticks and the times of the numbers at risk.
    at_risk, test : bool
        Numbers at risk under the axis; Mantel-Byar p in the legend title.
    colors : mapping, optional
        ``{0: colour, 1: colour}``.
    xlabel, ylabel, title : str, optional

    Returns
    -------
    matplotlib Axes
        Curves are lines with gid ``"sm:0"`` / ``"sm:1"``; numbers at risk
        are annotations ``"at_risk:0"`` / ``"at_risk:1"``; the legend title
        (gid ``"mantel_byar"``) carries the Mantel-Byar p-value.

    References
    ----------
    Simon R, Makuch RW (1984). *Stat Med* 3:35-44.
    Mantel N, Byar DP (1974). *JASA* 69:81-86.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())  # response_months: time of response
    >>> ax = simon_makuch(frame, "pfs_months", "pfs_event")
    >>> [line.get_gid() for line in ax.get_lines()]
    ['sm:0', 'sm:1']
    """
    table = sm_estimate(data, duration, event, switch, id=id, start_at=start_at)
    start, stop, _, grp, _ = counting_rows(data, duration, event, switch, id, None, "responded")
    t_max = float(stop.max())
    ticks = default_times(t_max) if times is None else np.asarray(times, dtype=float)
    ticks = ticks[ticks >= start_at] if start_at > 0 and times is None else ticks
    if start_at > 0 and times is None:
        ticks = np.unique(np.r_[start_at, ticks])
    palette = group_colors([0, 1], colors=colors)
    names = {0: labels[0], 1: labels[1]}
    ax = new_axes(ax, figsize=(5.6, 4.0 + (0.6 if at_risk else 0)))
    with house_style():
        for g in (0, 1):
            r = table[table["group"] == g]
            t, sv = r["time"].to_numpy(), r["survival"].to_numpy()
            last = float(stop[grp == g].max()) if np.any(grp == g) else t[-1]
            t, sv = curve_until_nobody_at_risk(t, sv, last)
            ax.plot(t, sv, drawstyle="steps-post", color=palette[g], label=names[g], gid=f"sm:{g}")
        ax.set_xlim(start_at, max(t_max, ticks.max() if ticks.size else 0) * 1.03)
        ax.set_ylim(0, 1.04)
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel(duration if xlabel is None else xlabel)
        ax.set_ylabel(ylabel)
        head = None
        if test:
            mb = mantel_byar(data, duration, event, switch, id=id)
            head = f"Mantel-Byar {format_p(mb.pvalue)}"
        leg = ax.legend(loc="best", title=head, handlelength=1.5, alignment="left")
        if head:
            leg.get_title().set(gid="mantel_byar")
        if at_risk and ticks.size:
            counts = group_at_risk(start, stop, grp, ticks, origin=start_at)
            draw_at_risk(ax, pd.DataFrame(counts, index=[0, 1], columns=ticks), palette, names)
        if title:
            ax.set_title(title)
    return ax
