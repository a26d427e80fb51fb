"""Forest plot of odds or hazard ratios from a model summary or a screen table."""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.transforms import ScaledTranslation

from .._numbers import format_estimate_ci
from .._params import (
    AXES,
    COLOR,
    FLAG,
    MAPPING,
    PROPORTION,
    TEXT,
    HasAttributes,
    Instance,
    Interval,
    Options,
    check_params,
)
from ..errors import ImmuneCorrelatesError
from ..features.labels import column_label
from ..stats.missing.meta import MetaAnalysisResult
from ._style import (
    GREY,
    INK,
    SMALL,
    format_p,
    house_style,
    new_axes,
    plain_log_axis,
    text_columns,
)
from .meta_forest import meta_forest

__all__ = ["forest", "forest_table"]

RATIO_COLUMNS = ("odds_ratio", "hazard_ratio", "ratio")
RATIO_LABELS = {
    "odds_ratio": "Odds ratio",
    "hazard_ratio": "Hazard ratio",
    "ratio": "Ratio",
    "odds": "Odds ratio",
    "hazard": "Hazard ratio",
}
SORTS = ("estimate", "p_value", None)


def _ratio_kind(frame: pd.DataFrame, ratio: str | None) -> str:
    if ratio is not None:
        return ratio
    for col in RATIO_COLUMNS:
        if col in frame.columns:
            return col
    for col in ("model", "method"):
        if col in frame.columns:
            text = " ".join(map(str, frame[col].dropna().unique())).lower()
            if "cox" in text:
                return "hazard_ratio"
            if "logistic" in text:
                return "odds_ratio"
    return "ratio"


@check_params(
    label=TEXT,
    estimate=TEXT,
    lower=TEXT,
    upper=TEXT,
    exponentiate=(Options(None), FLAG),
    ratio=(Options(None), Options(*RATIO_COLUMNS)),
    sort=Options(*SORTS),
    drop_intercept=FLAG,
)
def forest_table(
    results,
    *,
    label: str | None = None,
    estimate: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    exponentiate: bool | None = None,
    ratio: str | None = None,
    sort: str | None = "estimate",
    drop_intercept: bool = True,
) -> pd.DataFrame:
    """The rows a forest plot draws, top to bottom: ``label``, ``ratio``, ``lower``, ``upper``, ...

    Accepts what :func:`forest` accepts; see there.  Extra columns ``p_value``,
    ``q_value``, ``n``, ``n_events`` are carried over when present.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> t = pd.DataFrame({"term": ["Intercept", "nk_per_ul"], "estimate": [0.1, np.log(2)],
    ...                   "ci_lower": [-1, 0.0], "ci_upper": [1, np.log(4)]})
    >>> forest_table(t)[["label", "ratio", "lower", "upper"]].round(3).values.tolist()
    [['nk_per_ul', 2.0, 1.0, 4.0]]
    """
    nobs = events = None
    if hasattr(results, "summary") and not isinstance(results, pd.DataFrame):
        nobs, events = getattr(results, "nobs", None), getattr(results, "n_events", None)
        if ratio is None and getattr(results, "ratio_name", None) in RATIO_COLUMNS:
            ratio = results.ratio_name
        results = results.summary()
    if not isinstance(results, pd.DataFrame):
        raise ImmuneCorrelatesError(
            f"forest: results must be a model result or a DataFrame (model summary or screen table), "
            f"got {type(results).__name__}."
        )
    frame = results.reset_index(drop=True)
    label = label or next((c for c in ("term", "feature") if c in frame.columns), None)
    if label is None or label not in frame.columns:
        raise ImmuneCorrelatesError(
            f"forest: no label column ({label or 'term/feature'}) in results; columns: {list(frame.columns)}."
        )
    kind = _ratio_kind(frame, ratio)
    if estimate is None:
        if kind in frame.columns and f"{kind}_ci_lower" in frame.columns:
            estimate, lower, upper = kind, f"{kind}_ci_lower", f"{kind}_ci_upper"
            exponentiate = False if exponentiate is None else exponentiate
        else:
            estimate, lower, upper = "estimate", "ci_lower", "ci_upper"
            exponentiate = True if exponentiate is None else exponentiate
    lower = lower or "ci_lower"
    upper = upper or "ci_upper"
    absent = [c for c in (estimate, lower, upper) if c not in frame.columns]
    if absent:
        raise ImmuneCorrelatesError(
            f"forest: column(s) {absent} not in results; columns: {list(frame.columns)}. "
            "Pass estimate=, lower=, upper= (and exponentiate=) to name them."
        )
    if drop_intercept:
        frame = frame[frame[label].astype(str) != "Intercept"]
    vals = frame[[estimate, lower, upper]].to_numpy(dtype=float)
    if exponentiate:
        with np.errstate(over="ignore"):
            vals = np.exp(vals)
    out = pd.DataFrame(
        {"label": frame[label].astype(str).to_numpy(), "ratio": vals[:, 0], "lower": vals[:, 1], "upper": vals[:, 2]}
    )
    if "reference" in frame.columns:  # a factor level's row names the level it is compared with
        refs = frame["reference"].to_numpy()
        out["label"] = [f"{lab} (vs {r})" if pd.notna(r) else lab for lab, r in zip(out["label"], refs)]
    for col in ("p_value", "q_value", "n", "n_events"):
        if col in frame.columns:
            out[col] = frame[col].to_numpy()
    if nobs is not None and "n" not in out:
        out["n"], out["n_events"] = nobs, events
    if sort == "estimate":
        out = out.sort_values("ratio", ascending=False, na_position="last", kind="mergesort")
    elif sort == "p_value":
        if "p_value" not in out:
            raise ImmuneCorrelatesError("forest: sort='p_value' needs a p_value column.")
        out = out.sort_values("p_value", na_position="last", kind="mergesort")
    out = out.reset_index(drop=True)
    out.attrs["ratio_kind"] = kind
    return out


@check_params(
    results=(
        Options(None),
        Instance(pd.DataFrame, name="a table"),
        HasAttributes("params", "summary", name="a fitted model"),
        HasAttributes("estimate", "std_error", name="a meta-analysis"),
    ),
    ax=AXES,
    label=TEXT,
    estimate=TEXT,
    lower=TEXT,
    upper=TEXT,
    exponentiate=(Options(None), FLAG),
    ratio=(Options(None), Options(*RATIO_COLUMNS)),
    sort=Options(*SORTS),
    q_threshold=PROPORTION,
    drop_intercept=FLAG,
    labels=MAPPING,
    show_values=FLAG,
    color=COLOR,
    level=(Options(None), Interval(0, 1, closed="neither")),
    per=TEXT,
    xlabel=TEXT,
    title=TEXT,
)
def forest(
    data=None,
    *,
    results=None,
    ax=None,
    label: str | None = None,
    estimate: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    exponentiate: bool | None = None,
    ratio: str | None = None,
    sort: str | None = "estimate",
    q_threshold: float = 0.05,
    drop_intercept: bool = True,
    labels: Mapping[str, str] | None = None,
    show_values: bool = True,
    color: str = INK,
    level: float | None = None,
    per: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
):
    """Ratios and intervals on a log axis with a line at 1, one row per term or feature.

    Parameters
    ----------
    data : model result, meta-analysis, or DataFrame
        (or ``results=``) A :class:`MetaAnalysisResult` (drawn by :func:`.meta_forest.meta_forest`:
        trials sized by weight, the pooled diamond and the prediction interval), a fitted
        ``LogisticResult``/``CoxResult`` or pooled result, its ``summary()``, or a
        ``screen``/other table with ``feature`` (or ``term``), ``estimate``,
        ``ci_lower``, ``ci_upper`` on the log scale (or ``odds_ratio`` /
        ``hazard_ratio`` with ``_ci_lower``/``_ci_upper`` columns, used when
        present), and optionally ``p_value``, ``q_value``, ``n``, ``n_events``.
    ax : matplotlib Axes, optional
    label, estimate, lower, upper : str, optional
        Column names overriding the detection above.
    exponentiate : bool, optional
        Whether ``estimate/lower/upper`` are log ratios (default: yes for
        ``estimate``, no for ratio columns).
    ratio : {"odds_ratio", "hazard_ratio", "ratio"}, optional
        What is drawn, for the axis label (default: from the columns, the
        result class, or a ``model``/``method`` column naming Cox or logistic).
    sort : {"estimate", "p_value", None}
        Largest ratio on top, smallest p on top, or input order.
    q_threshold : float
        Rows with ``q_value`` below it get a filled marker, others an open one
        (all filled when there is no ``q_value`` column).
    drop_intercept : bool
        Leave out the logistic ``Intercept`` row.
    labels : mapping, optional
        Display names by term/feature.
    show_values : bool
        Write "ratio (lower-upper)" and q (or p) to the right of the axes.
    level : float, optional
        Confidence level of the intervals, for the labels (default: the model
        result's ``1 - alpha``, else 0.95).
    per : str, optional
        What one unit of each term is ("SD"), written on the axis ("Odds
        ratio per SD"); default "SD" when the table's ``scale`` column says
        every feature is per SD.
    color, xlabel, title : optional

    Notes
    -----
    Terms of one factor (formula terms such as ``C(sex)[T.M]``) are drawn
    together under a bold row naming the variable.  The columns at the right
    give the ratio with its interval, p, q, N and events where known.

    Returns
    -------
    matplotlib Axes
        Intervals are the LineCollection with gid ``"forest_intervals"``,
        estimates the collection ``"forest_points"``; the row labels are the
        y tick labels (with ``n`` and events when known).  Interval ends that
        are infinite or off the axis are drawn to the edge with an arrow.

    Examples
    --------
    >>> import pandas as pd
    >>> screen = pd.DataFrame({"feature": ["cd3_per_ul", "nk_per_ul"], "estimate": [0.2, -0.7],
    ...                        "ci_lower": [-0.3, -1.4], "ci_upper": [0.7, 0.0], "q_value": [0.6, 0.04],
    ...                        "n": [34, 34], "n_events": [8, 8], "method": ["cox", "cox"]})
    >>> ax = forest(screen)
    >>> ax.get_xlabel()
    'Hazard ratio (95% CI, log scale)'
    """
    if (data is None) == (results is None):
        raise ImmuneCorrelatesError("forest: give the table or model result once, as data= (or results=).")
    results = data if results is None else results
    if isinstance(results, MetaAnalysisResult):  # trials, weights, the pooled diamond
        return meta_forest(
            results, ax=ax, labels=labels, color=color, show_values=show_values, xlabel=xlabel, title=title
        )
    rows = forest_table(
        results,
        label=label,
        estimate=estimate,
        lower=lower,
        upper=upper,
        exponentiate=exponentiate,
        ratio=ratio,
        sort=sort,
        drop_intercept=drop_intercept,
    )
    if rows.empty:
        raise ImmuneCorrelatesError("forest: nothing to draw (no rows besides the intercept).")
    kind = rows.attrs["ratio_kind"]
    rows = _group_factor_levels(rows)
    if level is None:
        level = 1 - getattr(results, "alpha", 0.05) if not isinstance(results, pd.DataFrame) else 0.95
    ci_text = f"{100 * level:g}% CI"
    entries = _entries(rows, labels)  # (text, row index or None for a variable's header)
    layout = _layout(rows, entries, q_threshold)
    ax = new_axes(ax, figsize=(8.4, 0.3 * len(entries) + 1.5))
    with house_style():
        _draw_estimates(ax, layout, color)
        _forest_axes(ax, layout, entries)
        per = per or _per_from_scale(results)
        ax.set_xlabel(xlabel or f"{RATIO_LABELS.get(kind, kind)}{f' per {per}' if per else ''} ({ci_text}, log scale)")
        if show_values:
            _value_columns(ax, rows.iloc[layout["idx"]].reset_index(drop=True), layout["y"], kind, ci_text)
        if "q_value" in rows:
            _q_legend(ax, color, q_threshold)
        if title:
            ax.set_title(title, pad=16)
    return ax


def _layout(rows: pd.DataFrame, entries: list, q_threshold: float) -> dict:
    """Row positions, estimates, limits clipped to the axis and the x range of a forest plot."""
    m = len(entries)
    y_of = np.arange(m)[::-1].astype(float)
    idx = np.array([i for _, i in entries if i is not None])
    y = np.array([yy for yy, (_, i) in zip(y_of, entries) if i is not None])
    ratio_v, lo, hi = (rows[c].to_numpy(dtype=float)[idx] for c in ("ratio", "lower", "upper"))
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in (ratio_v, lo, hi)] + [np.array([1.0])])
    pad = max(0.08 * (np.log10(finite.max()) - np.log10(finite.min())), 0.08)
    xmin, xmax = 10 ** (np.log10(finite.min()) - pad), 10 ** (np.log10(finite.max()) + pad)
    has_q = "q_value" in rows
    sig = (rows["q_value"].to_numpy(dtype=float)[idx] < q_threshold) if has_q else np.ones(idx.size, bool)
    return {
        "m": m,
        "y_of": y_of,
        "idx": idx,
        "y": y,
        "ratio": ratio_v,
        "lo": lo,
        "hi": hi,
        "sig": sig,
        "xmin": xmin,
        "xmax": xmax,
        "lo_c": np.where(np.isfinite(lo) & (lo > 0), lo, xmin),
        "hi_c": np.where(np.isfinite(hi), hi, xmax),
    }


def _draw_estimates(ax, L: dict, color: str) -> None:
    """Intervals, squares (filled when q passes) and arrows where an interval runs off the axis."""
    y, ok = L["y"], np.isfinite(L["ratio"])
    ax.hlines(y[ok], L["lo_c"][ok], L["hi_c"][ok], color=color, linewidth=1.4, gid="forest_intervals")
    faces = np.where(L["sig"][ok], color, "white").tolist()
    ax.scatter(
        L["ratio"][ok],
        y[ok],
        s=36,
        marker="s",
        zorder=3,
        edgecolor=color,
        linewidth=1.2,
        facecolor=faces,
        gid="forest_points",
    )
    clip_lo = ok & ~(np.isfinite(L["lo"]) & (L["lo"] > 0))
    clip_hi = ok & ~np.isfinite(L["hi"])
    for sel, marker, x in ((clip_lo, "<", L["xmin"]), (clip_hi, ">", L["xmax"])):
        if sel.any():
            ax.scatter(
                np.full(sel.sum(), x),
                y[sel],
                marker=marker,
                s=22,
                color=color,
                zorder=3,
                clip_on=False,
                gid="forest_clipped",
            )
    ax.axvline(1.0, color=GREY, linestyle="--", linewidth=1.0, zorder=1, gid="forest_reference")


def _forest_axes(ax, L: dict, entries: list) -> None:
    ax.set_xscale("log")
    ax.set_xlim(L["xmin"], L["xmax"])
    plain_log_axis(ax.xaxis, L["xmin"], L["xmax"])
    ax.set_ylim(-0.7, L["m"] - 0.3)
    ax.set_yticks(L["y_of"], [text for text, _ in entries])
    for tick, (_, i) in zip(ax.get_yticklabels(), entries):
        if i is None:
            tick.set_fontweight("bold")
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)


def _q_legend(ax, color: str, q_threshold: float) -> None:
    square = {"marker": "s", "linestyle": "", "color": color}
    handles = [
        Line2D([], [], markerfacecolor=color, label=f"q < {q_threshold:g}", **square),
        Line2D([], [], markerfacecolor="white", label=f"q \u2265 {q_threshold:g}", **square),
    ]
    # below the x-axis label at a fixed distance (points, not a fraction of the axes: a forest of two
    # rows is short, and a fraction of it would put the key on the label)
    below = ax.transAxes + ScaledTranslation(0.0, -46 / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.0, 0.0),
        bbox_transform=below,
        ncols=2,
        fontsize=SMALL,
        handletextpad=0.3,
        borderaxespad=0.0,
    )


_FACTOR = re.compile(r"^(?:C\((?P<cvar>[^,)]+)[^)]*\)|(?P<var>[^\[]+))\[T\.(?P<level>.+)\]$")


def _factor(label: str):
    """(variable, level) of a dummy term such as ``C(sex)[T.M]`` or ``sex[T.M]``; None otherwise."""
    m = _FACTOR.match(str(label))
    if not m:
        return None
    return (m.group("cvar") or m.group("var")).strip(), m.group("level")


def _group_factor_levels(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with the levels of each factor next to each other, at the place of its first level."""
    keys = [(_factor(lab) or (lab, None))[0] for lab in rows["label"]]
    first = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    order = sorted(range(len(rows)), key=lambda i: (first[keys[i]], i))
    return rows.iloc[order].reset_index(drop=True)


def _entries(rows: pd.DataFrame, labels) -> list:
    """Display rows: a bold header per factor, its levels indented under it; other terms as they are."""
    out, seen = [], set()
    for i, lab in enumerate(rows["label"]):
        f = _factor(lab)
        if f is None:
            out.append((column_label(lab, labels=labels), i))
            continue
        var, level = f
        if var not in seen:
            seen.add(var)
            out.append((column_label(var, labels=labels), None))
        out.append((f"   {labels.get(lab, level) if labels else level}", i))
    return out


def _per_from_scale(results) -> str | None:
    if isinstance(results, pd.DataFrame) and "scale" in results.columns:
        scales = results["scale"].dropna().astype(str)
        if len(scales) and scales.str.startswith("per SD").all():
            return "SD"
    return None


def _value_columns(ax, rows: pd.DataFrame, y: np.ndarray, kind: str, ci_text: str) -> None:
    """Estimate (CI), p, q, N and events as aligned text columns to the right of the axes."""
    short = {"odds_ratio": "OR", "hazard_ratio": "HR"}.get(kind, "Ratio")
    ratio, lo, hi = rows["ratio"].to_numpy(float), rows["lower"].to_numpy(float), rows["upper"].to_numpy(float)
    columns = [
        (
            f"{short} ({ci_text})",
            [format_estimate_ci(r, a, b) for r, a, b in zip(ratio, lo, hi)],
            92,
        )
    ]
    for col, head, width in (("p_value", "p", 40), ("q_value", "q", 40)):
        if col in rows:
            columns.append(
                (
                    head,
                    [format_p(v, "").replace(" = ", "").replace(" < ", "<").strip() for v in rows[col].to_numpy(float)],
                    width,
                )
            )
    for col, head, width in (("n", "N", 26), ("n_events", "Events", 36)):
        if col in rows and rows[col].notna().any():
            columns.append((head, ["" if pd.isna(v) else f"{int(v)}" for v in rows[col]], width))
    text_columns(ax, columns, y, gid="forest")
