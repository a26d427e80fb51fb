"""Immune values over time: one thin line per patient, each group's mean with its interval, numbers sampled.

A spaghetti plot alone hides the group trend and a mean alone hides the patients; this
draws both, in the colours that mean the same thing in every figure of the package
(responders blue, non-responders vermillion).  Counts change multiplicatively, so they are
drawn on a log axis and summarised by the geometric mean (the mean of the logs, back
transformed) with its t interval; other features by the arithmetic mean.  Under the axis,
as under a Kaplan-Meier plot, a table says how many patients of each group were sampled
at each visit, so a mean from three patients is seen as one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from scipy import stats

from .._checks import require_columns
from .._missing import complete_cases
from .._params import (
    ALPHA,
    AXES,
    COLORS,
    FLAG,
    MAPPING,
    MISSING,
    SEQUENCE,
    TEXT,
    Instance,
    Interval,
    Options,
    check_params,
)
from ..errors import DataQualityWarning, InputError, warn
from ..features.labels import axis_label, column_label
from ..features.trajectories import log_scale
from ..stats.survival.kaplan_meier import group_levels
from ._style import (
    GREY,
    SMALL,
    group_colors,
    house_style,
    new_axes,
    order_groups,
    plain_log_axis,
    renderer_of,
    wrap_label,
)
from .response import group_names

__all__ = ["trajectories", "visit_summary"]

_TIME_LABELS = {"day": "Days from start of treatment", "week": "Weeks from start of treatment"}
_TIME_WORDS = {"day": "day", "week": "week"}


def _short(name, width: int = 22) -> str:
    """A row label of the numbers table: one line, cut with an ellipsis (the legend has the full name)."""
    name = " ".join(str(name).split())
    return name if len(name) <= width else name[: width - 1].rstrip() + "\u2026"


def _window(rows: pd.DataFrame, time: str, table: pd.DataFrame, xmax: float | None) -> dict:
    """The right end of the time axis and how many samples lie beyond it."""
    t = rows[time].to_numpy(dtype=float)
    if xmax is None:
        last = float(table["x"].max()) if len(table) else float(t.max())
        xmax = float(t.max()) if last >= t.max() else last + max(0.1 * (last - t.min()), 1.0)
        xmax = float(np.ceil(xmax))
    return {"xmax": float(xmax), "n": int((t > xmax).sum())}


def visit_summary(values: np.ndarray, *, log: bool, alpha: float = 0.05) -> tuple[float, float, float, int]:
    """Mean (geometric when ``log``) and its ``1 - alpha`` t interval of one group at one visit.

    Examples
    --------
    >>> m, lo, hi, n = visit_summary(np.array([100.0, 400.0]), log=True)
    >>> round(m, 6), n
    (200.0, 2)
    """
    x = np.asarray(values, dtype=float)
    x = np.log(x) if log else x
    n = x.size
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    m = float(x.mean())
    half = float(stats.t.ppf(1 - alpha / 2, n - 1) * x.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    back = np.exp if log else (lambda v: v)
    return float(back(m)), float(back(m - half)), float(back(m + half)), n


def _visits(rows: pd.DataFrame, time: str, visit: str | None, visits, max_spread: float) -> pd.DataFrame:
    """Visits summarised by a mean: name, x (median time), spread; scheduled ones only by default."""
    if visit is None or visit not in rows.columns:
        t = np.sort(rows[time].unique())
        return pd.DataFrame({"visit": t, "x": t})
    by = rows.groupby(visit, sort=False)[time]
    table = pd.DataFrame({"x": by.median(), "spread": by.quantile(0.75) - by.quantile(0.25)})
    if visits is None:
        table = table[table["spread"] <= max_spread]
    else:
        unknown = [v for v in visits if v not in table.index]
        if unknown:
            raise InputError(f"trajectories: visits {unknown} are not in the {visit!r} column.")
        table = table.loc[list(visits)]
    return table.sort_values("x").rename_axis("visit").reset_index()


def _repel(x: np.ndarray, half: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Column centres near ``x`` whose half-widths ``half`` do not overlap, inside ``[lo, hi]``."""
    p = x.astype(float).copy()
    for i in range(1, p.size):
        p[i] = max(p[i], p[i - 1] + half[i - 1] + half[i])
    if p.size:
        p[-1] = min(p[-1], hi - half[-1])
    for i in range(p.size - 2, -1, -1):
        p[i] = min(p[i], p[i + 1] - half[i + 1] - half[i])
    if p.size and p[0] - half[0] < lo:
        p += lo - (p[0] - half[0])
    return p


def _numbers(ax, table: pd.DataFrame, palette: Mapping, names: Mapping) -> None:
    """Numbers sampled per group and visit as rows of text under the axis, a header row of visit names.

    The columns sit under their visits; where two visits are closer than their text is wide
    (baseline and day 14 on a one-year axis) the columns are moved apart just enough,
    measured with the renderer, and the visit names say which column is which.
    """
    base, step = 40.0, SMALL * 1.45
    xform = ax.get_xaxis_transform()
    common = {"textcoords": "offset points", "va": "top", "fontsize": SMALL, "annotation_clip": False}
    ax.annotate(
        "Number sampled",
        xy=(0, 0),
        xycoords="axes fraction",
        xytext=(-16, -base),
        ha="right",
        fontweight="bold",
        color=GREY,
        gid="n_header",
        **common,
    )
    x0 = table.columns.get_level_values(1).to_numpy(dtype=float)
    columns = [
        [
            ax.annotate(
                str(name),
                xy=(x, 0),
                xycoords=xform,
                xytext=(0, -base),
                ha="center",
                color=GREY,
                gid="n_visit",
                **common,
            )
        ]
        for x, name in zip(x0, table.columns.get_level_values(0))
    ]
    for i, (g, row) in enumerate(table.iterrows()):
        y = -(base + step * (i + 1))
        ax.annotate(
            names[g],
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-16, y),
            ha="right",
            color=palette[g],
            gid=f"n_label:{g}",
            **common,
        )
        for col, x, n in zip(columns, x0, row.to_numpy()):
            col.append(
                ax.annotate(
                    str(int(n)),
                    xy=(x, 0),
                    xycoords=xform,
                    xytext=(0, y),
                    ha="center",
                    color=palette[g],
                    gid=f"n:{g}",
                    **common,
                )
            )
    fig = ax.figure
    fig.draw_without_rendering()  # the final layout: text widths and the data scale in pixels
    renderer = renderer_of(fig)
    lo, hi = ax.get_xlim()
    per_px = (hi - lo) / max(ax.get_window_extent(renderer).width, 1.0)
    gap_px = 6.0 * fig.dpi / 72.0
    half = np.array([max(t.get_window_extent(renderer).width for t in col) + gap_px for col in columns]) / 2 * per_px
    for col, x in zip(columns, _repel(x0, half, lo, hi)):
        for t in col:
            t.xy = (x, 0)


def _clean(data, feature, time, group, id, log, missing, caller):
    require_columns(data, [id, feature], caller)  # the long frame of longitudinal_frame
    # a visit without this value was not assessed for it: nothing to draw, and the numbers sampled say so;
    # a value that cannot be placed (no time or no group) is data left out, and is reported
    assessed = data[data[feature].notna()]
    cols = [feature, time] + ([group] if group is not None else [])
    rows, _ = complete_cases(assessed, cols, missing=missing, numeric=[feature, time], caller=caller)
    if log:
        bad = rows[feature].astype(float) <= 0
        if bad.any():
            warn(
                f"{caller}: {int(bad.sum())} value(s) of {feature} are not > 0 and cannot be drawn on a log axis: "
                + ", ".join(f"{p} ({v:g})" for p, v in zip(rows.loc[bad, id], rows.loc[bad, feature])),
                DataQualityWarning,
            )
            rows = rows.loc[~bad]
    return rows.assign(**{feature: rows[feature].astype(float), time: rows[time].astype(float)})


@check_params(
    ax=AXES,
    id=Instance(str, name="a column name"),
    visit=(Options(None), Instance(str, name="a column name")),
    visits=SEQUENCE,
    log=(Options(None), FLAG),
    alpha=ALPHA,
    mean=FLAG,
    numbers=FLAG,
    max_spread=Interval(0, None),
    xmax=(Options(None), Interval()),
    group_labels=MAPPING,
    colors=COLORS,
    labels=MAPPING,
    xlabel=TEXT,
    ylabel=TEXT,
    title=TEXT,
    missing=MISSING,
)
def trajectories(
    data: pd.DataFrame,
    feature: str,
    time: str = "day",
    group: str | None = "response_group",
    *,
    ax=None,
    id: str = "patient_id",
    visit: str | None = "timepoint",
    visits: Sequence | None = None,
    log: bool | None = None,
    alpha: float = 0.05,
    mean: bool = True,
    numbers: bool = True,
    max_spread: float = 14.0,
    xmax: float | None = None,
    group_labels: Mapping | None = None,
    colors: Mapping | Sequence | None = None,
    labels: Mapping[str, str] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    missing: str = "drop",
):
    """One thin line per patient over time, each group's mean with its interval, numbers sampled under the axis.

    Parameters
    ----------
    data : DataFrame
        The long frame (:func:`~immune_correlates.longitudinal_frame`): one row per
        patient and visit.
    feature : str
        The value drawn (``nk_per_ul``, ``t_function_score``, ...).
    time : str
        Time column (days from the start of treatment).
    group : str or None
        Colour and mean by this column (any dtype: text, categorical, bool, 0/1), in
        clinical order when the labels say response; None draws one group.
    ax : matplotlib Axes, optional
    id : str
        Patient column (one line per value).
    visit : str or None
        Column naming the visit; means are drawn per visit at its median time.  Without
        it, per distinct time.
    visits : sequence, optional
        Visits to summarise (default: those whose times vary by at most ``max_spread``
        between patients, i.e. the scheduled ones: an end-of-treatment visit months apart
        between patients has no meaningful mean, though its points are drawn).
    log : bool, optional
        Log axis and geometric means (default: for counts and ratios).
    alpha : float
        Intervals are ``1 - alpha`` t intervals of the (log) mean.
    mean, numbers : bool
        Draw the group means; the numbers sampled under the axis.
    xmax : float, optional
        Right end of the time axis.  Default: a little after the last summarised visit, so
        the scheduled visits are not squeezed by a few late end-of-treatment samples; the
        samples beyond it are counted in the legend ("n samples after day ... not shown").
    group_labels, colors, labels : mapping, optional
        Display names and colours of groups; display names of columns.
    xlabel, ylabel, title : str, optional
    missing : {"drop", "raise"}
        Rows with a value but no time or group (listed in a warning).  Rows without the
        value were not assessed for it: they are not drawn and not counted as sampled.

    Returns
    -------
    matplotlib Axes
        Patient lines have gid ``"patient:<id>"``, means ``"mean:<group>"`` (x = visit
        times, y = means), intervals ``"ci:<group>"``, numbers ``"n:<group>"``, their row
        labels ``"n_label:<group>"`` and the visit names ``"n_visit"``.

    References
    ----------
    Weissgerber TL, et al. (2015). Beyond bar and line graphs: time for a new data
    presentation paradigm. *PLoS Biol* 13:e1002128.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> long = ic.longitudinal_frame(ic.datasets.load_ofa_len(), ["nk_per_ul"])
    >>> ax = ic.plots.trajectories(long, "nk_per_ul")
    >>> ax.get_yscale(), ax.get_xlabel()
    ('log', 'Days from start of treatment')
    """
    caller = "trajectories"
    log = log_scale(feature) if log is None else bool(log)
    rows = _clean(data, feature, time, group, id, log, missing, caller)
    if rows.empty:
        raise InputError(f"{caller}: no row has {feature!r} and {time!r}.")
    levels = order_groups(group_levels(rows[group])) if group is not None else ["all"]
    palette = group_colors(levels, colors=colors) if group is not None else {"all": "#000000"}
    names = group_names(group, levels, group_labels) if group is not None else {"all": "All patients"}
    table = _visits(rows, time, visit, visits, max_spread)
    hidden = _window(rows, time, table, xmax)
    rows = rows[rows[time] <= hidden["xmax"]]
    key = rows[group] if group is not None else pd.Series("all", index=rows.index)
    k = len(levels)
    chars = max(len(line) for g in levels for line in wrap_label(names[g], 24).split("\n"))
    ax = new_axes(ax, figsize=(8.4 + 0.06 * max(0, chars - 16), 4.2 + (0.21 * (k + 2) if numbers else 0)))
    with house_style():
        counts = _draw(ax, rows, feature, time, id, key, levels, palette, names, table, visit, log, alpha, mean)
        _axes(ax, rows, feature, time, log, labels, xlabel, ylabel, title)
        handles = [
            Line2D(
                [],
                [],
                color=palette[g],
                lw=2.2,
                marker="o",
                ms=5,
                label=wrap_label(f"{names[g]} (n = {rows.loc[key == g, id].nunique()})", 24),
            )
            for g in levels
        ]
        head = "\n".join(
            ([column_label(group, labels=labels)] if group is not None else [])
            + [
                "thin lines: patients",
                "thick: " + ("geometric mean" if log else "mean"),
                f"with {100 * (1 - alpha):g}% CI",
            ]
        )
        if hidden["n"]:
            head += f"\n{hidden['n']} sample(s) after\n{_TIME_WORDS.get(time, time)} {hidden['xmax']:g} not shown"
        leg = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            borderaxespad=0.0,
            title=head,
            alignment="left",
            handlelength=1.8,
        )
        leg.get_title().set(fontsize=SMALL + 0.5)
        if numbers and mean and len(table):
            _numbers(ax, counts, palette, {g: _short(names[g]) for g in levels})
    return ax


def _draw(ax, rows, feature, time, id, key, levels, palette, names, table, visit, log, alpha, mean) -> pd.DataFrame:
    """Patient lines and group means; returns the numbers sampled (groups x visits)."""
    span = float(rows[time].max() - rows[time].min()) or 1.0
    counts = pd.DataFrame(0, index=levels, columns=pd.MultiIndex.from_arrays([table["visit"], table["x"]]))
    for j, g in enumerate(levels):
        sub = rows[key == g].sort_values([id, time], kind="stable")
        for pid, one in sub.groupby(id, sort=False):
            ax.plot(
                one[time],
                one[feature],
                color=palette[g],
                lw=0.6,
                alpha=0.35,
                marker="o",
                ms=2.2,
                mew=0,
                zorder=1,
                gid=f"patient:{pid}",
            )
        if not (mean and len(table)):
            continue
        at = sub[visit] if visit is not None and visit in sub.columns else sub[time]
        summ = [visit_summary(sub.loc[at == v, feature].to_numpy(), log=log, alpha=alpha) for v in table["visit"]]
        m, lo, hi, n = (np.array(c, dtype=float) for c in zip(*summ))
        counts.loc[g] = n.astype(int)
        x = table["x"].to_numpy(dtype=float) + (j - (len(levels) - 1) / 2) * 0.012 * span
        ok = n > 0
        ax.plot(x[ok], m[ok], color=palette[g], lw=2.2, marker="o", ms=5, zorder=3, gid=f"mean:{g}")
        err = np.vstack([m - lo, hi - m])
        has = ok & np.isfinite(lo)
        if has.any():
            bars = ax.errorbar(
                x[has],
                m[has],
                yerr=err[:, has],
                fmt="none",
                ecolor=palette[g],
                elinewidth=1.4,
                capsize=3,
                zorder=3,
            )
            for part in (*bars.lines[1], *bars.lines[2]):
                part.set_gid(f"ci:{g}")
    return counts


def _axes(ax, rows, feature, time, log, labels, xlabel, ylabel, title) -> None:
    lo_t, hi_t = float(rows[time].min()), float(rows[time].max())
    pad = 0.03 * ((hi_t - lo_t) or 1.0)
    ax.set_xlim(lo_t - pad, hi_t + pad)
    if log:
        ax.set_yscale("log")
        v = rows[feature]
        plain_log_axis(ax.yaxis, float(v.min()) / 1.15, float(v.max()) * 1.15)
        ax.set_ylim(float(v.min()) / 1.15, float(v.max()) * 1.15)
    ax.set_xlabel(xlabel if xlabel is not None else _TIME_LABELS.get(time, column_label(time, labels=labels)))
    ax.set_ylabel(ylabel if ylabel is not None else axis_label(feature, labels=labels, log=log))
    if title:
        ax.set_title(title)
