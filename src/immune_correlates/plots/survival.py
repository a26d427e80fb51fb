"""Kaplan-Meier curves with bands, censor ticks, numbers at risk and the log-rank p."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._params import (
    ALPHA,
    AXES,
    COLORS,
    FLAG,
    MAPPING,
    MISSING,
    NUMBER,
    SEQUENCE,
    TEXT,
    HasAttributes,
    Instance,
    Options,
    check_params,
)
from ..stats.survival.kaplan_meier import KaplanMeierResult
from ..stats.survival.kaplan_meier import kaplan_meier as km_estimate
from ..stats.survival.logrank import LogrankResult
from ._km_steps import (
    KMDraw,
    KMSpec,
    KMTests,
    KMText,
    default_times,
    draw_curves,
    draw_legend,
    estimate_curves,
    figure_size,
    label_axes,
)
from ._style import (
    GREY,
    SMALL,
    house_style,
    new_axes,
    order_groups,
)

__all__ = ["kaplan_meier", "at_risk_table", "at_risk_counts", "default_times", "KMSpec", "KMDraw", "KMTests", "KMText"]


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


@check_params(
    missing=MISSING,
)
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


@check_params(
    ax=AXES,
    split=(Options(None, "median"), NUMBER),
    conf_int=FLAG,
    conf_type=Options("log", "log-log", "plain"),
    alpha=ALPHA,
    censor_marks=FLAG,
    at_risk=FLAG,
    times=SEQUENCE,
    logrank=(FLAG, HasAttributes("statistic", "pvalue", name="a log-rank result")),
    hazard_ratio=(FLAG, Instance(pd.DataFrame, name="a hazard-ratio table")),
    median_lines=FLAG,
    group_labels=MAPPING,
    risk_labels=MAPPING,
    labels=MAPPING,
    colors=COLORS,
    xlabel=TEXT,
    ylabel=TEXT,
    title=TEXT,
    missing=MISSING,
)
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
    The options are grouped into a :class:`KMSpec` (what to draw, which tests,
    which names) and drawn in named steps (:mod:`._km_steps`: estimate, size,
    curves, axes, legend, numbers at risk); the flat keywords stay for
    existing code.  Estimates from :func:`immune_correlates.stats.survival.kaplan_meier.kaplan_meier`
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
    spec = KMSpec(
        draw=KMDraw(conf_int=conf_int, censor_marks=censor_marks, at_risk=at_risk, median_lines=median_lines),
        tests=KMTests(logrank=logrank, hazard_ratio=hazard_ratio),
        text=KMText(
            group_labels=group_labels, risk_labels=risk_labels, labels=labels, xlabel=xlabel, ylabel=ylabel, title=title
        ),
        colors=colors,
        conf_type=conf_type,
        alpha=alpha,
        times=times,
        missing=missing,
    )
    fit = estimate_curves(data, duration, event, group, split=split, spec=spec)
    ax = new_axes(ax, figsize=figure_size(fit, spec))
    with house_style():
        draw_curves(ax, fit, spec)
        label_axes(ax, fit, spec)
        draw_legend(ax, fit, spec)
        if spec.draw.at_risk and fit.ticks.size:
            row_names = (
                {g: fit.risk_names.get(g, _short(fit.names[g])) for g in fit.levels}
                if fit.grouped
                else {fit.levels[0]: ""}
            )
            _draw_at_risk(ax, at_risk_counts(fit.km, fit.ticks), fit.palette, row_names)
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
