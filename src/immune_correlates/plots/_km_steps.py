"""The steps of :func:`immune_correlates.plots.kaplan_meier`, each short and named, with its options grouped.

``estimate_curves`` (the fit, groups, names and colours), ``figure_size``,
``draw_curves`` (steps, bands, censor marks, median lines), ``label_axes``,
``draw_legend`` (log-rank p, hazard ratios, medians); the numbers at risk are
drawn by :func:`immune_correlates.plots.survival.draw_at_risk`.  Options come
grouped in a :class:`KMSpec`: what to draw (:class:`KMDraw`), which tests to
write (:class:`KMTests`) and the names shown (:class:`KMText`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
from ._style import SMALL, format_p, group_colors, order_groups, wrap_label
from .response import group_names

__all__ = ["KMDraw", "KMTests", "KMText", "KMSpec", "KMFit", "default_times"]

_CALLER = "kaplan_meier"


@dataclass(frozen=True)
class KMDraw:
    """What is drawn: the confidence band, censor marks, numbers at risk, median lines."""

    conf_int: bool = True
    censor_marks: bool = True
    at_risk: bool = True
    median_lines: bool = False


@dataclass(frozen=True)
class KMTests:
    """What is written in the legend's title: the log-rank p and Cox hazard ratios (True, or results)."""

    logrank: bool | LogrankResult = True
    hazard_ratio: bool | pd.DataFrame = False


@dataclass(frozen=True)
class KMText:
    """Names shown: groups, rows of the numbers at risk, columns, axes and title."""

    group_labels: Mapping | None = None
    risk_labels: Mapping | None = None
    labels: Mapping | None = None
    xlabel: str | None = None
    ylabel: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class KMSpec:
    """Every option of a Kaplan-Meier plot, grouped."""

    draw: KMDraw = field(default_factory=KMDraw)
    tests: KMTests = field(default_factory=KMTests)
    text: KMText = field(default_factory=KMText)
    colors: Mapping | Sequence | None = None
    conf_type: str = "log"
    alpha: float = 0.05
    times: Sequence[float] | None = None
    missing: str = "drop"


@dataclass(frozen=True)
class KMFit:
    """The estimate and everything drawn from it."""

    km: KaplanMeierResult
    data: object
    duration: str | None
    event: str | None
    group: str | None
    levels: list
    grouped: bool
    names: dict
    palette: dict
    risk_names: dict
    ticks: np.ndarray
    from_result: bool


def default_times(t_max: float, n: int = 6) -> np.ndarray:
    """Round tick times from 0 to ``t_max`` (steps of 1, 2, 3, 6, 12, ... for months)."""
    if not np.isfinite(t_max) or t_max <= 0:
        return np.array([0.0])
    locator = ticker.MaxNLocator(nbins=n, steps=[1, 2, 3, 6, 10])
    ticks = locator.tick_values(0.0, float(t_max))
    return ticks[(ticks >= 0) & (ticks <= t_max * (1 + 1e-9))]


def _split(data, duration, event, group, split, labels):
    if group is None:
        raise ImmuneCorrelatesError(f"{_CALLER}: split= needs group= naming the numeric feature to split.")
    sg = split_groups(data, group, split=split, among=[duration, event], labels=labels)
    return sg.frame, sg.column, dict(sg.short)


def estimate_curves(data, duration, event, group, *, split, spec: KMSpec) -> KMFit:
    """The Kaplan-Meier fit (or the one given), its groups in clinical order, names, colours and ticks."""
    from_result = isinstance(data, KaplanMeierResult)
    risk_names = {}
    if from_result:
        km, group = data, data.group_column
    else:
        if duration is None or event is None:
            raise ImmuneCorrelatesError(f"{_CALLER}: give duration= and event= columns (or a KaplanMeierResult).")
        if split is not None:
            data, group, risk_names = _split(data, duration, event, group, split, spec.text.labels)
        km = km_estimate(
            data, duration, event, group=group, conf_type=spec.conf_type, alpha=spec.alpha, missing=spec.missing
        )
    risk_names.update(spec.text.risk_labels or {})
    grouped = group is not None and km.groups != ["all"]
    levels = order_groups(km.groups)
    t_max = float(km.table["time"].max())
    ticks = default_times(t_max) if spec.times is None else np.asarray(spec.times, dtype=float)
    if ticks.size and (ticks < 0).any():
        raise ImmuneCorrelatesError(f"{_CALLER}: times must be non-negative, got {ticks.tolist()}.")
    return KMFit(
        km=km,
        data=data,
        duration=duration,
        event=event,
        group=group,
        levels=levels,
        grouped=grouped,
        names=group_names(group, levels, spec.text.group_labels) if grouped else {g: str(g) for g in levels},
        palette=group_colors(levels, colors=spec.colors) if grouped else dict.fromkeys(levels, "#000000"),
        risk_names=risk_names,
        ticks=ticks,
        from_result=from_result,
    )


def figure_size(fit: KMFit, spec: KMSpec) -> tuple[float, float]:
    """Wider for a wide legend (long names, hazard ratios of 3+ groups); taller for the numbers at risk."""
    k = len(fit.levels)
    width = 7.6 if k > 1 else 5.6
    if fit.grouped:
        chars = max(len(line) for g in fit.levels for line in wrap_label(fit.names[g], 32).split("\n"))
        if (isinstance(spec.tests.hazard_ratio, pd.DataFrame) or spec.tests.hazard_ratio) and k > 2:
            first = len(str(fit.names[fit.levels[0]]))
            chars = max(chars, min(48, max(len(str(fit.names[g])) + first + 34 for g in fit.levels)))
        width += 0.07 * max(0, chars - 30)
    return width, 4.0 + (0.2 * (k + 1) if spec.draw.at_risk else 0)


def _curve_label(fit: KMFit, g, medians, spec: KMSpec):
    if not fit.grouped:
        return None
    label = wrap_label(fit.names[g], 32)  # a narrow legend keeps the axes wide
    if spec.draw.median_lines:
        med = medians.loc[g, "median"]
        label += f" (median {med:.1f})" if np.isfinite(med) else " (median not reached)"
    return label


def draw_curves(ax, fit: KMFit, spec: KMSpec) -> None:
    """One step curve per group (gid ``km:<group>``), its band, censor marks and median line."""
    medians = fit.km.median()
    k = len(fit.levels)
    for g in fit.levels:
        r = fit.km.table[fit.km.table["group"] == g]
        t, s, c = np.r_[0.0, r["time"].to_numpy()], np.r_[1.0, r["survival"].to_numpy()], fit.palette[g]
        ax.plot(t, s, drawstyle="steps-post", color=c, label=_curve_label(fit, g, medians, spec), gid=f"km:{g}")
        if spec.draw.conf_int:
            lo, hi = np.r_[1.0, r["ci_lower"].to_numpy()], np.r_[1.0, r["ci_upper"].to_numpy()]
            alpha = {1: 0.18, 2: 0.14}.get(k, 0.09)
            ax.fill_between(t, lo, hi, step="post", color=c, alpha=alpha, linewidth=0, gid=f"band:{g}")
        if spec.draw.censor_marks:
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
        med = medians.loc[g, "median"]
        if spec.draw.median_lines and np.isfinite(med):
            ax.plot([0, med, med], [0.5, 0.5, 0.0], linestyle=":", linewidth=1.0, color=c, gid=f"median:{g}")


def label_axes(ax, fit: KMFit, spec: KMSpec) -> None:
    """Ticks at the at-risk times; the x axis names the time unit, the y axis the endpoint."""
    t_max = float(fit.km.table["time"].max())
    ax.set_xlim(0, max(t_max, fit.ticks.max() if fit.ticks.size else 0) * 1.03)
    ax.set_ylim(0, 1.04)
    ax.set_xticks(fit.ticks)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    dur, labels = fit.duration or "", spec.text.labels
    unit = column_unit(dur) if dur else ""
    default_x = unit[:1].upper() + unit[1:] if unit else column_label(dur, labels=labels) or "Time"
    ax.set_xlabel(spec.text.xlabel if spec.text.xlabel is not None else default_x)
    endpoint = column_label(dur, labels=labels) if dur in ENDPOINT_LABELS or (labels and dur in labels) else ""
    default_y = f"{endpoint} probability" if endpoint else "Survival probability"
    ax.set_ylabel(spec.text.ylabel if spec.text.ylabel is not None else default_y)


def _computed(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)  # the Kaplan-Meier fit already warned
        return fn(*args, **kwargs)


def _legend_title(fit: KMFit, spec: KMSpec) -> list[str]:
    """The log-rank p and hazard ratios (given, or computed from the data when asked for)."""
    lines, tests = [], spec.tests
    if not (fit.grouped and len(fit.levels) >= 2):
        return lines
    if isinstance(tests.logrank, LogrankResult):
        lines.append(f"Log-rank {format_p(tests.logrank.pvalue)}")
    elif tests.logrank and not fit.from_result:
        lr = _computed(logrank_test, fit.data, fit.duration, fit.event, fit.group, missing=spec.missing)
        lines.append(f"Log-rank {format_p(lr.pvalue)}")
    if isinstance(tests.hazard_ratio, pd.DataFrame):
        table = tests.hazard_ratio
        lines.append(_hazard_ratio_text(table, fit.names, table.attrs.get("alpha", spec.alpha)))
    elif tests.hazard_ratio and not fit.from_result:
        table = _computed(
            group_hazard_ratios,
            fit.data,
            fit.duration,
            fit.event,
            fit.group,
            levels=fit.levels,
            alpha=spec.alpha,
            missing=spec.missing,
        )
        lines.append(_hazard_ratio_text(table, fit.names, spec.alpha))
    return lines


def _median_text(fit: KMFit, alpha: float) -> str:
    m = fit.km.median().iloc[0]
    if not np.isfinite(m["median"]):
        return "Median not reached"
    upper = f"{m['ci_upper']:.1f})" if np.isfinite(m["ci_upper"]) else "NR)"
    return f"Median {m['median']:.1f} ({100 * (1 - alpha):g}% CI {m['ci_lower']:.1f}\u2013" + upper


def draw_legend(ax, fit: KMFit, spec: KMSpec) -> None:
    """The legend beside the axes (it never hides a curve), titled with the tests; the median of one curve."""
    if spec.draw.median_lines and not fit.grouped:
        ax.annotate(
            _median_text(fit, spec.alpha),
            xy=(0.97, 0.96),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=SMALL + 0.5,
            gid="median_text",
        )
    if not fit.grouped:
        return
    title = _legend_title(fit, spec)
    leg = ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        title="\n".join(title) or None,
        handlelength=1.5,
        alignment="left",
        borderaxespad=0.0,
    )
    if title:
        leg.get_title().set(fontsize=SMALL + 0.5, gid="logrank")


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
