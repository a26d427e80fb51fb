"""Swimmer plot: one bar per patient with response, progression, death and ongoing follow-up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .._missing import complete_cases, row_ids
from .._params import AXES, COLORS, FLAG, MAPPING, MISSING, OPTIONAL_COLUMN, TEXT, Options, check_params
from ..errors import ImmuneCorrelatesError
from ..features.labels import column_label, column_unit
from ..stats.survival.kaplan_meier import group_levels
from ._style import SMALL, group_colors, house_style, new_axes, order_groups
from .response import group_names

__all__ = ["swimmer"]


@check_params(
    progression=OPTIONAL_COLUMN,
    progression_event=OPTIONAL_COLUMN,
    response=OPTIONAL_COLUMN,
    group=OPTIONAL_COLUMN,
    ax=AXES,
    group_labels=MAPPING,
    labels=MAPPING,
    colors=COLORS,
    show_ids=(Options(None), FLAG),
    title=TEXT,
    missing=MISSING,
)
def swimmer(
    data: pd.DataFrame,
    duration: str = "os_months",
    event: str = "os_event",
    *,
    progression: str | None = "pfs_months",
    progression_event: str | None = "pfs_event",
    response: str | None = "response_months",
    group: str | None = "response_group",
    ax=None,
    group_labels: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping | Sequence | None = None,
    show_ids: bool | None = None,
    title: str | None = None,
    missing: str = "drop",
):
    """One horizontal bar per patient: time on study, response, progression, death, ongoing follow-up.

    Parameters
    ----------
    data : DataFrame
        One row per patient (e.g. ``ic.analysis_frame(cohort)``); the index
        or a ``patient_id`` column names the bars.
    duration, event : str
        Follow-up (bar length) and death indicator (``os_months``, ``os_event``).
    progression, progression_event : str or None
        Time of progression-free survival and its event; a progression
        marker is drawn where the event is a progression (``pfs_cause`` == 1
        when the frame has it, else an event not at the time of death).
    response : str or None
        Time of first response (``response_months``); the response lasts
        until progression or the end of follow-up and is drawn as a band on
        the bar.  Left out when the column is absent.
    group : str or None
        Colour of the bars (response group by default, colours by meaning).
    ax : matplotlib Axes, optional
    group_labels, labels, colors : mapping, optional
        Names of groups, of columns, and group colours.
    show_ids : bool, optional
        Patient ids on the y axis (default: up to 60 patients).
    title : str, optional
    missing : {"drop", "raise"}
        Patients without follow-up are left out with a warning (or refused).

    Returns
    -------
    matplotlib Axes
        Bars are patches with gid ``"swim:<patient>"``; responses
        ``"response:<patient>"``; markers are line collections with gid
        ``"progression"``, ``"death"`` and ``"ongoing"`` (arrows for patients
        alive at last follow-up).

    Notes
    -----
    The layout follows the swimmer plots of oncology trial reports (e.g.
    Stone et al. 2019); bars are sorted by follow-up, longest on top.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = swimmer(frame)
    """
    kept, t_end, ids, died = _patients(data, duration, event, group, missing)
    n = len(kept)
    y = np.arange(n, dtype=float)
    levels = order_groups(group_levels(kept[group])) if group else []
    palette = group_colors(levels, colors=colors) if group else {}
    names = group_names(group, levels, group_labels) if group else {}
    ax = new_axes(ax, figsize=(6.4, 1.6 + 0.17 * n))
    with house_style():
        for yi, t, g, pid in zip(y, t_end, kept[group] if group else [None] * n, ids):
            ax.barh(yi, t, height=0.62, color=palette.get(g, "#7F7F7F"), alpha=0.85, linewidth=0, gid=f"swim:{pid}")
        handles = [Patch(color=palette[g], alpha=0.85, label=names[g]) for g in levels]
        if response and response in kept.columns:
            handles += _draw_responses(ax, kept, y, ids, t_end, response, progression)
        if progression and progression_event and {progression, progression_event} <= set(kept.columns):
            handles += _draw_progression(ax, kept, y, t_end, died, progression, progression_event)
        handles += _draw_outcomes(ax, y, t_end, died)
        _label_swimmer(ax, ids, t_end, duration, labels, show_ids)
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            fontsize=SMALL,
            title=column_label(group, labels=labels) if group else None,
            title_fontsize=SMALL,
            alignment="left",
        )
        if title:
            ax.set_title(title)
    return ax


def _patients(data, duration, event, group, missing):
    """Patients with follow-up, longest on top: the rows, end times, ids and deaths."""
    caller = "swimmer"
    needed = [duration, event] + ([group] if group else [])
    kept, _ = complete_cases(data, needed, missing=missing, numeric=[duration, event], caller=caller)
    if kept.empty:
        raise ImmuneCorrelatesError(f"{caller}: no patient has {duration!r} and {event!r}.")
    t_end = kept[duration].to_numpy(float)
    if (t_end < 0).any():
        raise ImmuneCorrelatesError(f"{caller}: {duration!r} has negative times; fix them first.")
    ids = row_ids(kept).astype(str).to_numpy()
    order = np.argsort(t_end, kind="mergesort")  # longest at the top (y = n - 1)
    kept, t_end, ids = kept.iloc[order], t_end[order], ids[order]
    return kept, t_end, ids, kept[event].to_numpy(float) == 1


def _draw_responses(ax, kept, y, ids, t_end, response, progression) -> list:
    """A black band from response to progression (or the end of follow-up), a triangle at its onset."""
    onset = pd.to_numeric(kept[response], errors="coerce").to_numpy(float)
    stop = (
        pd.to_numeric(kept[progression], errors="coerce").to_numpy(float)
        if progression and progression in kept.columns
        else t_end
    )
    stop = np.where(np.isfinite(stop), np.minimum(stop, t_end), t_end)
    has = np.isfinite(onset)
    for yi, a, b, pid in zip(y[has], onset[has], stop[has], ids[has]):
        ax.barh(yi, max(b - a, 0.0), left=a, height=0.22, color="black", gid=f"response:{pid}")
    ax.plot(onset[has], y[has], linestyle="", marker="^", markersize=5, color="black", gid="response_onset")
    return [
        Line2D([], [], color="black", marker="^", linewidth=2.5, markersize=5, label="Response (onset to progression)")
    ]


#: The progression marker: white with a black edge, so no group colour (orange PR bars) can be mistaken for it.
_PROGRESSION = {
    "linestyle": "",
    "marker": "D",
    "markersize": 6,
    "color": "white",
    "markeredgecolor": "black",
    "markeredgewidth": 1.0,
}


def _draw_progression(ax, kept, y, t_end, died, progression, progression_event) -> list:
    t_prog = pd.to_numeric(kept[progression], errors="coerce").to_numpy(float)
    ev = pd.to_numeric(kept[progression_event], errors="coerce").to_numpy(float) == 1
    if "pfs_cause" in kept.columns and progression == "pfs_months":
        prog = pd.to_numeric(kept["pfs_cause"], errors="coerce").to_numpy(float) == 1
    else:
        prog = ev & ~(died & np.isclose(t_prog, t_end))
    ax.plot(t_prog[prog], y[prog], gid="progression", **_PROGRESSION)
    return [Line2D([], [], label="Progression", **_PROGRESSION)]


def _draw_outcomes(ax, y, t_end, died) -> list:
    """A cross at death, an arrow after the bar of a patient still followed."""
    ax.plot(t_end[died], y[died], linestyle="", marker="X", markersize=6, color="black", gid="death")
    pad = 0.012 * max(t_end.max(), 1.0)
    arrow = {"linestyle": "", "marker": r"$\rightarrow$", "markersize": 8, "color": "#333333"}
    ax.plot(t_end[~died] + pad, y[~died], gid="ongoing", **arrow)
    return [
        Line2D([], [], linestyle="", marker="X", markersize=6, color="black", label="Death"),
        Line2D([], [], label="Alive, follow-up ongoing", **arrow),
    ]


def _label_swimmer(ax, ids, t_end, duration, labels, show_ids) -> None:
    n = len(ids)
    y = np.arange(n, dtype=float)
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, t_end.max() * 1.06 if t_end.max() > 0 else 1.0)
    show = n <= 60 if show_ids is None else show_ids
    ax.set_yticks(y if show else [], ids if show else [])
    ax.tick_params(axis="y", length=0, labelsize=max(5.0, min(SMALL, 260.0 / max(n, 1))))
    ax.set_ylabel("Patient")
    unit = column_unit(duration)
    name = column_label(duration, labels=labels)
    ax.set_xlabel(f"{name}: {unit}" if unit else name)
