"""Kaplan-Meier curves with bands, censor ticks, numbers at risk and the log-rank p."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import ticker

from ..errors import ImmuneCorrelatesError, MissingDataWarning
from ..features.labels import ENDPOINT_LABELS, column_label, column_unit
from ..features.transforms import split_groups
from ..stats.survival.hazard_ratios import group_hazard_ratios
from ..stats.survival.kaplan_meier import KaplanMeierResult
from ..stats.survival.kaplan_meier import kaplan_meier as km_estimate
from ..stats.survival.logrank import LogrankResult, logrank_test
from ._style import (
    GREY,
    SMALL,
    format_p,
    group_colors,
    house_style,
    new_axes,
    order_groups,
    wrap_label,
)
from .response import group_names

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
    >>> from immune_correlates.stats.survival.kaplan_meier import kaplan_meier as fit
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


def _short(name, width: int = 26) -> str:
    """An at-risk row label: one line, cut with an ellipsis past ``width`` (the legend has the full name)."""
    name = str(name)
    return name if len(name) <= width else name[: width - 1].rstrip() + "\u2026"


def _hazard_ratio_text(table: pd.DataFrame, names: Mapping, alpha: float, width: int = 48) -> str:
    """Lines "B vs A: HR 0.45 (95% CI 0.20–0.98)" from :func:`group_hazard_ratios`' table, long group
    names wrapped at ``width`` characters so the legend beside the axes stays narrow."""
    lines = []
    for _, row in table.iterrows():
        hr = (
            f"HR {row['hazard_ratio']:.2f} ({100 * (1 - alpha):g}% CI {row['ci_lower']:.2f}\u2013{row['ci_upper']:.2f})"
        )
        if len(table) > 1:
            hr = f"{names.get(row['group'], row['group'])} vs {names.get(row['reference'], row['reference'])}: {hr}"
        lines.append(wrap_label(hr, width))
    return "\n".join(lines)


def kaplan_meier(
    data,
    duration: str | None = None,
    event: str | None = None,
    group: str | None = None,
    *,
    ax=None,
    split: str | float | None = None,
    conf_int: bool = True,
    conf_type: str = "log",
    alpha: float = 0.05,
    censor_marks: bool = True,
    at_risk: bool = True,
    times: Sequence[float] | None = None,
    logrank: bool | LogrankResult = True,
    hazard_ratio: bool | pd.DataFrame = False,
    median_lines: bool = False,
    group_labels: Mapping | None = None,
    risk_labels: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping | Sequence | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    missing: str = "drop",
):
    """Kaplan-Meier step curves with numbers at risk aligned under the tick times.

    Parameters
    ----------
    data : DataFrame or KaplanMeierResult
        One row per patient (e.g. ``ic.analysis_frame(cohort)``), or a fitted
        :class:`~immune_correlates.stats.survival.kaplan_meier.KaplanMeierResult`,
        drawn as it is (pass the log-rank result and hazard-ratio table you
        computed as ``logrank=`` and ``hazard_ratio=``: the curves alone do
        not hold the patients to compute them).
    duration, event : str
        Follow-up time and event indicator (``pfs_months``, ``pfs_event``).
    group : str, optional
        One curve per group, any dtype (text, categorical, bool, 0/1), in
        clinical order when the labels say response, else category order or
        sorted.  With ``split``, a numeric feature split into two groups.
    ax : matplotlib Axes, optional
    split : "median" or float, optional
        Split the numeric ``group`` column at its median (over patients with
        follow-up) or at this value; the legend names the feature and the
        split ("NK cells > median (523 cells/µL)").
    conf_int : bool
        Shade the pointwise confidence band.
    conf_type, alpha
        Band as :func:`immune_correlates.stats.survival.kaplan_meier.kaplan_meier`.
    censor_marks : bool
        A tick on the curve at every censoring time.
    at_risk : bool
        Numbers at risk under the axis, one labelled row per group, at the x ticks.
    times : sequence of float, optional
        The x ticks and at-risk times (default: round times up to the last
        follow-up, see :func:`default_times`).
    logrank : bool or LogrankResult
        Write the log-rank p (two or more groups): computed from ``data``
        (True), or this result of
        :func:`~immune_correlates.stats.survival.logrank.logrank_test`.
    hazard_ratio : bool or DataFrame
        Add the Cox hazard ratio (and its Wald interval) of each group against
        the first to the legend's title: computed from ``data`` (True), or this
        table of :func:`~immune_correlates.stats.survival.hazard_ratios.group_hazard_ratios`.
    median_lines : bool
        Dotted lines to each curve's median, and the median in the legend.
    group_labels, colors : mapping, optional
        Display names and colours of the groups.
    risk_labels : mapping, optional
        Row labels of the numbers at risk (default: the group names; with
        ``split``, the short "≤ cut" / "> cut").
    labels : mapping, optional
        Display names of columns (default: the catalogue's and endpoints' labels).
    xlabel, ylabel, title : str, optional
        Default: the unit of ``duration`` ("Months from start of treatment")
        and its endpoint ("Progression-free survival probability").
    missing : {"drop", "raise"}

    Returns
    -------
    matplotlib Axes
        Curves are lines with gid ``"km:<group>"`` (x = 0 then the table's
        times, y = 1 then its survival), bands ``"band:<group>"``, censor
        marks ``"censor:<group>"``, medians ``"median:<group>"``, numbers at
        risk annotations ``"at_risk:<group>"`` at x = the tick times, their
        row labels ``"at_risk_label:<group>"``; the log-rank p (and hazard
        ratios) are the legend's title (gid ``"logrank"``).

    Notes
    -----
    Estimates from :func:`immune_correlates.stats.survival.kaplan_meier.kaplan_meier`
    (Kaplan & Meier 1958), :func:`immune_correlates.stats.survival.logrank.logrank_test`
    and :func:`immune_correlates.stats.regression.cox.fit_cox` (Cox 1972); the numbers at
    risk from :func:`at_risk_counts` of the same fit.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="nk_per_ul", split="median",
    ...                   hazard_ratio=True)
    """
    caller = "kaplan_meier"
    from_result = isinstance(data, KaplanMeierResult)
    risk_names = {}
    if from_result:
        km = data
        group = km.group_column
    else:
        if duration is None or event is None:
            raise ImmuneCorrelatesError(f"{caller}: give duration= and event= columns (or a KaplanMeierResult).")
        if split is not None:
            if group is None:
                raise ImmuneCorrelatesError(f"{caller}: split= needs group= naming the numeric feature to split.")
            if split != "median" and not (isinstance(split, int | float) and not isinstance(split, bool)):
                raise ImmuneCorrelatesError(f"{caller}: split must be 'median' or a number, got {split!r}.")
            sg = split_groups(data, group, split=split, among=[duration, event], labels=labels)
            data, group, risk_names = sg.frame, sg.column, dict(sg.short)
        km = km_estimate(data, duration, event, group=group, conf_type=conf_type, alpha=alpha, missing=missing)
    risk_names.update(risk_labels or {})
    grouped = group is not None and km.groups != ["all"]
    levels = order_groups(km.groups)
    palette = group_colors(levels, colors=colors) if grouped else dict.fromkeys(levels, "#000000")
    names = group_names(group, levels, group_labels) if grouped else {g: str(g) for g in levels}
    t_max = float(km.table["time"].max())
    ticks = default_times(t_max) if times is None else np.asarray(times, dtype=float)
    if ticks.size and (ticks < 0).any():
        raise ImmuneCorrelatesError(f"{caller}: times must be non-negative, got {ticks.tolist()}.")
    medians = km.median()
    k = len(levels)
    width = 7.6 if k > 1 else 5.6
    if grouped:  # a wide legend (long names, hazard ratios of 3+ groups) gets its own room, not the axes'
        chars = max(len(line) for g in levels for line in wrap_label(names[g], 32).split("\n"))
        if (isinstance(hazard_ratio, pd.DataFrame) or hazard_ratio) and k > 2:
            chars = max(chars, min(48, max(len(str(names[g])) + len(str(names[levels[0]])) + 34 for g in levels)))
        width += 0.07 * max(0, chars - 30)
    ax = new_axes(ax, figsize=(width, 4.0 + (0.2 * (k + 1) if at_risk else 0)))
    with house_style():
        for g in levels:
            r = km.table[km.table["group"] == g]
            t = np.r_[0.0, r["time"].to_numpy()]
            s = np.r_[1.0, r["survival"].to_numpy()]
            c = palette[g]
            label = wrap_label(names[g], 32) if grouped else None  # a narrow legend keeps the axes wide
            if median_lines and grouped:
                med = medians.loc[g, "median"]
                label += f" (median {med:.1f})" if np.isfinite(med) else " (median not reached)"
            ax.plot(t, s, drawstyle="steps-post", color=c, label=label, gid=f"km:{g}")
            if conf_int:
                lo = np.r_[1.0, r["ci_lower"].to_numpy()]
                hi = np.r_[1.0, r["ci_upper"].to_numpy()]
                ax.fill_between(
                    t, lo, hi, step="post", color=c, alpha={1: 0.18, 2: 0.14}.get(k, 0.09), linewidth=0, gid=f"band:{g}"
                )
            if censor_marks:
                cens = r["n_censor"].to_numpy() > 0
                ax.plot(
                    r["time"].to_numpy()[cens],
                    r["survival"].to_numpy()[cens],
                    linestyle="",
                    marker="|",
                    markersize=7,
                    markeredgewidth=1.2,
                    color=c,
                    gid=f"censor:{g}",
                )
            if median_lines:
                med = medians.loc[g, "median"]
                if np.isfinite(med):
                    ax.plot([0, med, med], [0.5, 0.5, 0.0], linestyle=":", linewidth=1.0, color=c, gid=f"median:{g}")
        ax.set_xlim(0, max(t_max, ticks.max() if ticks.size else 0) * 1.03)
        ax.set_ylim(0, 1.04)
        ax.set_xticks(ticks)
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
        dur = duration or ""
        unit = column_unit(dur) if dur else ""
        ax.set_xlabel(
            xlabel
            if xlabel is not None
            else (unit[:1].upper() + unit[1:] if unit else column_label(dur, labels=labels) or "Time")
        )
        endpoint = column_label(dur, labels=labels) if dur in ENDPOINT_LABELS or (labels and dur in labels) else ""
        ax.set_ylabel(
            ylabel if ylabel is not None else (f"{endpoint} probability" if endpoint else "Survival probability")
        )
        legend_title = []
        if isinstance(logrank, LogrankResult) and grouped and k >= 2:
            legend_title.append(f"Log-rank {format_p(logrank.pvalue)}")
        elif not isinstance(logrank, LogrankResult) and logrank and grouped and k >= 2 and not from_result:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingDataWarning)  # kaplan_meier above already warned
                lr = logrank_test(data, duration, event, group, missing=missing)
            legend_title.append(f"Log-rank {format_p(lr.pvalue)}")
        if isinstance(hazard_ratio, pd.DataFrame) and grouped and k >= 2:
            legend_title.append(_hazard_ratio_text(hazard_ratio, names, hazard_ratio.attrs.get("alpha", alpha)))
        elif not isinstance(hazard_ratio, pd.DataFrame) and hazard_ratio and grouped and k >= 2 and not from_result:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MissingDataWarning)  # kaplan_meier above already warned
                table = group_hazard_ratios(data, duration, event, group, levels=levels, alpha=alpha, missing=missing)
            legend_title.append(_hazard_ratio_text(table, names, alpha))
        if median_lines and not grouped:
            m = medians.iloc[0]
            text = (
                "Median not reached"
                if not np.isfinite(m["median"])
                else (
                    f"Median {m['median']:.1f} ({100 * (1 - alpha):g}% CI {m['ci_lower']:.1f}–"
                    + (f"{m['ci_upper']:.1f})" if np.isfinite(m["ci_upper"]) else "NR)")
                )
            )
            ax.annotate(
                text,
                xy=(0.97, 0.96),
                xycoords="axes fraction",
                ha="right",
                va="top",
                fontsize=SMALL + 0.5,
                gid="median_text",
            )
        if grouped:
            # Outside the axes, right of the curves: it never hides a curve, band or censor mark.
            leg = ax.legend(
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                title="\n".join(legend_title) or None,
                handlelength=1.5,
                alignment="left",
                borderaxespad=0.0,
            )
            if legend_title:
                leg.get_title().set(fontsize=SMALL + 0.5, gid="logrank")
        if at_risk and ticks.size:
            row_names = {g: risk_names.get(g, _short(names[g])) for g in levels} if grouped else {levels[0]: ""}
            _draw_at_risk(ax, at_risk_counts(km, ticks), palette, row_names)
        if title:
            ax.set_title(title)
    return ax


def _draw_at_risk(ax, table: pd.DataFrame, palette: Mapping, names: Mapping) -> None:
    """Numbers at risk as rows of text under the x axis, centred on the ticks."""
    base = 40.0  # points below the axis: clears tick labels and the x label
    step = SMALL * 1.45
    ax.annotate(
        "Number at risk",
        xy=(0.0, 0.0),
        xycoords="axes fraction",
        xytext=(-16, -base),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=SMALL,
        fontweight="bold",
        color=GREY,
        annotation_clip=False,
        gid="at_risk_header",
    )
    xform = ax.get_xaxis_transform()
    for i, (g, row) in enumerate(table.iterrows()):
        y = -(base + step * (i + 1))
        color = palette[g]
        ax.annotate(
            names[g],
            xy=(0.0, 0.0),
            xycoords="axes fraction",
            xytext=(-16, y),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=SMALL,
            color=color,
            annotation_clip=False,
            gid=f"at_risk_label:{g}",
        )
        for t, n in row.items():
            ax.annotate(
                str(n),
                xy=(t, 0.0),
                xycoords=xform,
                xytext=(0, y),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=SMALL,
                color=color,
                annotation_clip=False,
                gid=f"at_risk:{g}",
            )


#: Public name of the numbers-at-risk drawing, shared with the cumulative-incidence and Simon-Makuch plots.
draw_at_risk = _draw_at_risk
