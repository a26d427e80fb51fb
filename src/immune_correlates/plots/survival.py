"""Kaplan-Meier curves with bands, censor ticks, numbers at risk and the log-rank p."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker

from ..errors import ImmuneCorrelatesError, MissingDataWarning
from ..stats.kaplan_meier import KaplanMeierResult
from ..stats.kaplan_meier import kaplan_meier as km_estimate
from ..stats.logrank import logrank_test
from ._style import (
    GREY,
    SMALL,
    format_p,
    group_colors,
    house_style,
    new_axes,
    order_groups,
)

__all__ = ["kaplan_meier", "at_risk_table", "at_risk_counts", "default_times"]


def default_times(t_max: float, n: int = 6) -> np.ndarray:
    """Round tick times from 0 to ``t_max`` (steps of 1, 2, 3, 6, 12, ... for months)."""
    if not np.isfinite(t_max) or t_max <= 0:
        return np.array([0.0])
    locator = ticker.MaxNLocator(nbins=n, steps=[1, 2, 3, 6, 10])
    ticks = locator.tick_values(0.0, float(t_max))
    return ticks[(ticks >= 0) & (ticks <= t_max * (1 + 1e-9))]


def at_risk_counts(km: KaplanMeierResult, times: Sequence[float]) -> pd.DataFrame:
    """Numbers at risk of a fitted :class:`KaplanMeierResult` at ``times``.

    The number at risk at ``t`` is the number still followed just before
    ``t`` (duration >= t): ``n_risk`` of the first row of ``km.table`` at or
    after ``t``, and 0 after the last follow-up time.

    Examples
    --------
    >>> import pandas as pd
    >>> from immune_correlates.stats.kaplan_meier import kaplan_meier as fit
    >>> km = fit(pd.DataFrame({"t": [1, 2, 4, 5], "e": [1, 0, 1, 1]}), "t", "e")
    >>> at_risk_counts(km, [0, 3, 6]).loc["all"].tolist()
    [4, 2, 0]
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    rows = {}
    for g in order_groups(km.groups):
        r = km.table[km.table["group"] == g]
        t, n = r["time"].to_numpy(), r["n_risk"].to_numpy()
        idx = np.searchsorted(t, times, side="left")
        rows[g] = np.where(idx < t.size, n[np.minimum(idx, t.size - 1)], 0).astype(int)
    out = pd.DataFrame.from_dict(rows, orient="index", columns=times)
    out.index.name = km.group_column or "group"
    out.columns.name = "time"
    return out


def at_risk_table(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str | None = None,
    times: Sequence[float] | None = None,
    *,
    missing: str = "drop",
) -> pd.DataFrame:
    """Numbers at risk per group at given times, the table printed under a KM plot.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
        Follow-up time and event indicator (1 event, 0 censored).
    group : str, optional
        Column defining the curves (category order, else sorted).
    times : sequence of float, optional
        Time points (default: the round tick times :func:`kaplan_meier` uses).
    missing : {"drop", "raise"}

    Returns
    -------
    DataFrame
        Index: group (``"all"`` without ``group``); columns: the times;
        values: patients with ``duration >= time`` (int).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 4, 5], "e": [1, 0, 1, 1]})
    >>> at_risk_table(df, "t", "e", times=[0, 2, 4.5]).iloc[0].tolist()
    [4, 3, 1]
    """
    km = km_estimate(data, duration, event, group=group, missing=missing)
    if times is None:
        times = default_times(km.table["time"].max())
    return at_risk_counts(km, times)


def kaplan_meier(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str | None = None,
    *,
    ax=None,
    conf_int: bool = True,
    conf_type: str = "log",
    alpha: float = 0.05,
    censor_marks: bool = True,
    at_risk: bool = True,
    times: Sequence[float] | None = None,
    logrank: bool = True,
    median_lines: bool = False,
    group_labels: Mapping | None = None,
    colors: Mapping | Sequence | None = None,
    xlabel: str | None = None,
    ylabel: str = "Survival probability",
    title: str | None = None,
    missing: str = "drop",
):
    """Kaplan-Meier step curves with numbers at risk aligned under the tick times.

    Parameters
    ----------
    data : DataFrame
        One row per patient (e.g. ``ic.analysis_frame(cohort)``).
    duration, event : str
        Follow-up time and event indicator (``pfs_months``, ``pfs_event``).
    group : str, optional
        One curve per group (category order, else sorted).
    ax : matplotlib Axes, optional
    conf_int : bool
        Shade the pointwise confidence band.
    conf_type, alpha
        Band as :func:`immune_correlates.stats.kaplan_meier.kaplan_meier`.
    censor_marks : bool
        A tick on the curve at every censoring time.
    at_risk : bool
        Numbers at risk under the axis, one row per group, at the x ticks.
    times : sequence of float, optional
        The x ticks and at-risk times (default: round times up to the last
        follow-up, see :func:`default_times`).
    logrank : bool
        Write the log-rank p (two or more groups).
    median_lines : bool
        Dotted lines to each curve's median, and the median in the legend.
    group_labels, colors : mapping, optional
        Display names and colours of the groups.
    xlabel, ylabel, title : str, optional
        ``xlabel`` defaults to ``duration``.
    missing : {"drop", "raise"}

    Returns
    -------
    matplotlib Axes
        Curves are lines with gid ``"km:<group>"`` (x = 0 then the table's
        times, y = 1 then its survival), bands ``"band:<group>"``, censor
        marks ``"censor:<group>"``, medians ``"median:<group>"``, numbers at
        risk annotations ``"at_risk:<group>"`` at x = the tick times; the
        log-rank p is the legend's title (gid ``"logrank"``).

    Notes
    -----
    Estimates from :func:`immune_correlates.stats.kaplan_meier.kaplan_meier`
    and :func:`immune_correlates.stats.logrank.logrank_test`; the numbers at
    risk from :func:`at_risk_counts` of the same fit.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group")
    """
    km = km_estimate(data, duration, event, group=group, conf_type=conf_type, alpha=alpha, missing=missing)
    levels = order_groups(km.groups)
    palette = group_colors(levels, colors) if group is not None else {"all": "#000000"}
    names = {g: str((group_labels or {}).get(g, g)) for g in levels}
    t_max = float(km.table["time"].max())
    ticks = default_times(t_max) if times is None else np.asarray(times, dtype=float)
    if ticks.size and (ticks < 0).any():
        raise ImmuneCorrelatesError(f"kaplan_meier: times must be non-negative, got {ticks.tolist()}.")
    medians = km.median()
    k = len(levels)
    ax = new_axes(ax, figsize=(5.6, 4.0 + (0.2 * (k + 1) if at_risk else 0)))
    with house_style():
        for g in levels:
            r = km.table[km.table["group"] == g]
            t = np.r_[0.0, r["time"].to_numpy()]
            s = np.r_[1.0, r["survival"].to_numpy()]
            c = palette[g]
            label = names[g] if group is not None else None
            if median_lines and group is not None:
                med = medians.loc[g, "median"]
                label += f" (median {med:.1f})" if np.isfinite(med) else " (median not reached)"
            ax.plot(t, s, drawstyle="steps-post", color=c, label=label, gid=f"km:{g}")
            if conf_int:
                lo = np.r_[1.0, r["ci_lower"].to_numpy()]
                hi = np.r_[1.0, r["ci_upper"].to_numpy()]
                ax.fill_between(t, lo, hi, step="post", color=c, alpha=0.12 if k > 1 else 0.18, linewidth=0,
                                gid=f"band:{g}")
            if censor_marks:
                cens = r["n_censor"].to_numpy() > 0
                ax.plot(r["time"].to_numpy()[cens], r["survival"].to_numpy()[cens], linestyle="", marker="|",
                        markersize=7, markeredgewidth=1.2, color=c, gid=f"censor:{g}")
            if median_lines:
                med = medians.loc[g, "median"]
                if np.isfinite(med):
                    ax.plot([0, med, med], [0.5, 0.5, 0.0], linestyle=":", linewidth=1.0, color=c,
                            gid=f"median:{g}")
        ax.set_xlim(0, max(t_max, ticks.max() if ticks.size else 0) * 1.03)
        ax.set_ylim(0, 1.04)
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        ax.set_xlabel(duration if xlabel is None else xlabel)
        ax.set_ylabel(ylabel)
        test_text = None
        if logrank and group is not None and k >= 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingDataWarning)  # kaplan_meier above already warned
                lr = logrank_test(data, duration, event, group, missing=missing)
            test_text = f"Log-rank {format_p(lr.pvalue)}"
        if median_lines and group is None:
            m = medians.iloc[0]
            text = "Median not reached" if not np.isfinite(m["median"]) else (
                f"Median {m['median']:.1f} ({100 * (1 - alpha):g}% CI {m['ci_lower']:.1f}–"
                + (f"{m['ci_upper']:.1f})" if np.isfinite(m["ci_upper"]) else "NR)")
            )
            ax.annotate(text, xy=(0.97, 0.96), xycoords="axes fraction", ha="right", va="top",
                        fontsize=SMALL + 0.5, gid="median_text")
        if group is not None:
            leg = ax.legend(loc="best", title=test_text, handlelength=1.5, alignment="left")
            if test_text:
                leg.get_title().set(fontsize=SMALL + 0.5, gid="logrank")
        if at_risk and ticks.size:
            table = at_risk_counts(km, ticks).loc[levels]
            _draw_at_risk(ax, table, palette, names)
        if title:
            ax.set_title(title)
    return ax


def _draw_at_risk(ax, table: pd.DataFrame, palette: Mapping, names: Mapping) -> None:
    """Numbers at risk as rows of text under the x axis, centred on the ticks."""
    base = 40.0  # points below the axis: clears tick labels and the x label
    step = SMALL * 1.45
    ax.annotate("Number at risk", xy=(0.0, 0.0), xycoords="axes fraction", xytext=(-16, -base),
                textcoords="offset points", ha="right", va="top", fontsize=SMALL, fontweight="bold",
                color=GREY, annotation_clip=False, gid="at_risk_header")
    xform = ax.get_xaxis_transform()
    for i, (g, row) in enumerate(table.iterrows()):
        y = -(base + step * (i + 1))
        color = palette[g] if len(table) > 1 else "#000000"
        ax.annotate(names[g] if len(table) > 1 else "", xy=(0.0, 0.0), xycoords="axes fraction",
                    xytext=(-16, y), textcoords="offset points", ha="right", va="top", fontsize=SMALL,
                    color=color, annotation_clip=False, gid=f"at_risk_label:{g}")
        for t, n in row.items():
            ax.annotate(str(n), xy=(t, 0.0), xycoords=xform, xytext=(0, y), textcoords="offset points",
                        ha="center", va="top", fontsize=SMALL, color=color, annotation_clip=False,
                        gid=f"at_risk:{g}")


#: Public name of the numbers-at-risk drawing, shared with :mod:`.simon_makuch`.
draw_at_risk = _draw_at_risk
