"""Feature by response group: box plus one dot per patient, with the test on top."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._missing import complete_cases, row_ids
from .._params import (
    AXES,
    COLORS,
    FLAG,
    MAPPING,
    MISSING,
    POSITIVE,
    SEED,
    SEQUENCE,
    TEXT,
    Columns,
    Instance,
    Interval,
    ListLike,
    Options,
    check_params,
)
from ..errors import ImmuneCorrelatesError, MissingDataWarning
from ..features.labels import GROUP_LEVEL_LABELS, axis_label, column_label, column_unit, group_level_label
from ..multiplicity import ADJUST_OPTIONS
from ..stats.groups.compare import METHODS as COMPARE_METHODS
from ..stats.groups.compare import compare_groups
from ..stats.survival.kaplan_meier import group_levels
from ._boxes import draw_boxes, group_ticks
from ._style import (
    SMALL,
    default_pair,
    difference_text,
    format_p,
    group_colors,
    house_style,
    new_axes,
    order_groups,
    plain_log_axis,
    wrap_label,
)
from .brackets import draw_brackets

__all__ = ["response_boxplot", "response_panel", "comparison_text", "group_names"]

TEST_NAMES = {
    "wilcoxon_exact": "Wilcoxon rank-sum (exact)",
    "wilcoxon_normal": "Wilcoxon rank-sum",
    "kruskal_wallis": "Kruskal-Wallis",
    "fisher_exact": "Fisher exact",
}

ADJUST_NAMES = {"fdr_bh": "Benjamini-Hochberg FDR", "holm": "Holm", "bonferroni": "Bonferroni", "none": "no"}

#: Effect-size columns of a ``compare_groups`` row, shown in this order of preference.
EFFECT_SIZES = (("rank_biserial", "rank-biserial r"), ("epsilon_squared", "epsilon²"), ("odds_ratio", "OR"))


def _num(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "NA"
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.3g}"  # 1090, not 1.09e+03


def comparison_text(row: Mapping, show_q: bool = True, contrast: tuple | None = None) -> str:
    """Annotation of one ``compare_groups`` row: test, p, q, effect size (and trend test).

    ``contrast`` (first, second group names) writes out the direction of a
    two-group effect size ("CR − NR": first minus second, as ``compare_groups``).

    Examples
    --------
    >>> comparison_text({"test": "wilcoxon_exact", "p_value": 0.0123, "q_value": 0.04,
    ...                  "rank_biserial": 0.52, "hodges_lehmann": 110.0,
    ...                  "hl_ci_lower": 20.0, "hl_ci_upper": 240.0}, contrast=("CR", "NR"))
    'Wilcoxon rank-sum (exact): p = 0.012, q = 0.040\\nCR − NR: rank-biserial r = 0.52; HL 110 (20 to 240)'
    """
    test = TEST_NAMES.get(row.get("test"), str(row.get("test")))
    first = f"{test}: {format_p(row.get('p_value'))}"
    if show_q and "q_value" in row:
        first += f", {format_p(row.get('q_value'), 'q')}"
    second = []
    for col, name in EFFECT_SIZES:
        v = row.get(col)
        if v is not None and not (isinstance(v, float) and np.isnan(v)):
            part = f"{name} = {_num(v)}"
            if contrast is not None:
                part = f"{difference_text(*contrast)}: {part}"
            if col == "rank_biserial" and "hodges_lehmann" in row and np.isfinite(row["hodges_lehmann"]):
                lo, hi = _num(row.get("hl_ci_lower")), _num(row.get("hl_ci_upper"))
                part += f"; HL {_num(row['hodges_lehmann'])} ({lo} to {hi})"
            second.append(part)
            break
    jt = row.get("jt_p_value")
    if jt is not None and np.isfinite(jt):
        second.append(f"trend (JT) {format_p(jt)}")
    return first + ("\n" + "; ".join(second) if second else "")


def _levels(kept: pd.DataFrame, group: str, groups: Sequence | None, caller: str) -> list:
    if groups is None:
        return order_groups(group_levels(kept[group]))
    present = set(kept[group].unique())
    unknown = [g for g in groups if g not in present]
    if unknown:
        raise ImmuneCorrelatesError(
            f"{caller}: group(s) {unknown} not found in column {group!r} among complete rows; "
            f"present: {group_levels(kept[group])}."
        )
    return list(groups)


def _check_positive(kept: pd.DataFrame, feature: str, caller: str) -> None:
    values = pd.to_numeric(kept[feature]).to_numpy(dtype=float)
    bad = values <= 0
    if bad.any():
        ids = row_ids(kept)
        listing = ", ".join(f"{ids.iloc[i]}={values[i]:g}" for i in np.flatnonzero(bad)[:10])
        raise ImmuneCorrelatesError(
            f"{caller}: log=True needs positive values of {feature!r}; got {listing}. "
            "Use log=False, or add a documented pseudocount to the column first."
        )


def _text_chars(width_in: float, fontsize: float) -> int:
    """How many characters of a ``fontsize`` text fit in ``width_in`` inches (a safe average width)."""
    return max(8, int(width_in * 72.0 / (0.5 * fontsize)))


def _wrap_lines(text: str, width: int) -> str:
    """Wrap each line at its natural breaks (after ``;``, ``,`` and ``:``), words whole where possible."""
    out = []
    for line in text.split("\n"):
        current = ""
        for token in re.split(r"(?<=[;,:]) ", line):
            joined = f"{current} {token}" if current else token
            if len(joined) <= width or not current:
                current = joined
            else:
                out.append(current)
                current = token
        out.extend(wrap_label(current, width).split("\n"))
    return "\n".join(out)


def _axes_width_in(ax) -> float:
    fig = ax.figure
    return ax.get_position().width * fig.get_figwidth()


@check_params(
    groups=SEQUENCE,
    ax=AXES,
    log=FLAG,
    annotate=(FLAG, Options("short")),
    comparisons=SEQUENCE,
    comparison=(Options(None), Instance(pd.DataFrame, name="a compare_groups table")),
    method=Options(*COMPARE_METHODS),
    adjust=ADJUST_OPTIONS,
    show_q=(Options("auto"), FLAG),
    group_labels=MAPPING,
    labels=MAPPING,
    colors=COLORS,
    ylabel=TEXT,
    title=TEXT,
    jitter=Interval(0, None),
    point_size=POSITIVE,
    seed=SEED,
    missing=MISSING,
)
def response_boxplot(
    data: pd.DataFrame,
    feature: str,
    group: str = "response_group",
    *,
    groups: Sequence | None = None,
    ax=None,
    log: bool = False,
    annotate: bool | str = True,
    comparisons: Sequence[tuple] | None = None,
    comparison: pd.DataFrame | None = None,
    method: str = "auto",
    adjust: str = "fdr_bh",
    show_q: bool | str = "auto",
    group_labels: Mapping | None = None,
    labels: Mapping[str, str] | None = None,
    colors: Mapping | Sequence | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    jitter: float = 0.12,
    point_size: float = 22.0,
    seed: int = 0,
    missing: str = "drop",
):
    """Box per response group plus one dot per patient, annotated with the group test.

    Parameters
    ----------
    data : DataFrame
        One row per patient, e.g. ``ic.analysis_frame(cohort)``.
    feature : str
        Numeric feature column (y axis).
    group : str
        Group column of any type: text, categorical, bool or 0/1.  Groups are
        drawn in clinical order when their labels say response (NR, PR, CR;
        False, True; "Non-responder", "Responder"), else in category order or
        sorted.  Colours follow the meaning: a responding group always gets
        the responder colour.
    groups : sequence, optional
        Which groups to draw, in this order.  With two groups they are the
        compared pair and every effect is "first − second" (written out on
        the plot).  Default: all groups; with two, the responding group first.
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    log : bool
        Logarithmic y axis (absolute counts); every value must be positive.
    annotate : bool or "short"
        Write the test, ``p`` (and ``q``) and the effect size above the axes;
        ``"short"``: only ``p`` and ``q``, legible at print size in a
        multi-panel figure (the test and effect sizes belong in its table).
    comparisons : sequence of (group, group), optional
        Pairs compared head to head with brackets above the boxes showing
        the Wilcoxon rank-sum ``p`` and the ``q`` adjusted (``adjust``) over
        the pairs drawn, as ggpubr's ``stat_compare_means``.
    comparison : DataFrame, optional
        A :func:`~immune_correlates.stats.groups.compare.compare_groups` table that
        includes ``feature`` (e.g. from a screen of many features, so that
        ``q_value`` is adjusted across them).  Default: computed here for
        this feature alone.
    method, adjust : str
        Passed to ``compare_groups`` when ``comparison`` is not given.
    show_q : bool or "auto"
        Show ``q``; ``"auto"`` shows it when ``comparison`` covers several
        features (for one feature ``q`` equals ``p``).
    group_labels : mapping, optional
        Display names of the groups (``{0: "no CR", 1: "CR"}``); long names wrap.
    labels : mapping, optional
        Display names of columns (default: the feature catalogue's label and unit).
    colors : mapping or list, optional
        Group colours (default: the house palette, fixed for response groups).
    ylabel, title : str, optional
        Axis label (default: the feature's label, unit and scale) and title.
    jitter : float
        Half-width of the horizontal spread of the dots (reproducible, ``seed``).
    point_size : float
        Dot area in points^2.
    missing : {"drop", "raise"}
        Patients missing the feature or the group are left out with a warning
        (or refused).

    Returns
    -------
    matplotlib Axes
        Boxes are patches with gid ``"box:<group>"`` (quartiles as
        ``compare_groups``' ``q1_``/``q3_``), medians lines ``"median:<group>"``,
        whiskers ``"whisker:<group>"`` (1.5 IQR rule); each group's dots are
        the collection ``"points:<group>"``; the annotation has gid
        ``"stats_annotation"``; brackets are lines ``"bracket:<a>|<b>"`` with
        texts ``"bracket_text:<a>|<b>"``.

    Notes
    -----
    Tests from :func:`~immune_correlates.stats.groups.compare.compare_groups`
    (Wilcoxon rank-sum, Kruskal-Wallis with the Jonckheere-Terpstra trend
    test); the boxes follow Tukey's (1977) 1.5 IQR whiskers.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = response_boxplot(frame, "nk_per_ul", log=True, comparisons=[("CR", "NR")])
    """
    caller = "response_boxplot"
    kept, _ = complete_cases(data, [feature, group], missing=missing, numeric=[feature], caller=caller)
    if groups is None:
        levels = _levels(kept, group, None, caller)
        pair = default_pair(levels) if len(levels) == 2 else None
    else:
        levels = _levels(kept, group, groups, caller)
        pair = tuple(levels) if len(levels) == 2 else None
    kept = kept[kept[group].isin(levels)]
    if log:
        _check_positive(kept, feature, caller)
    values = pd.to_numeric(kept[feature]).to_numpy(dtype=float)
    labels_of = kept[group].to_numpy()
    samples = [values[labels_of == g] for g in levels]
    palette = group_colors(levels, colors=colors)
    names = group_names(group, levels, group_labels)
    n_groups = len(levels)

    ax = new_axes(ax, figsize=(max(3.4, 1.3 + 0.85 * n_groups), 3.8))
    with house_style():
        draw_boxes(ax, samples, levels, palette, jitter=jitter, point_size=point_size, seed=seed)
        width_in = _axes_width_in(ax)
        group_ticks(ax, [names[g] for g in levels], [s.size for s in samples], width_in)
        if log:
            ax.set_yscale("log")
            plain_log_axis(ax.yaxis, *ax.get_ylim())
        ax.set_ylabel(axis_label(feature, labels=labels, log=log) if ylabel is None else ylabel)
        ax.set_xlabel("")
        if comparisons:
            draw_brackets(
                ax, kept, feature, group, [tuple(c) for c in comparisons], levels, names, adjust=adjust, log=log
            )
        n_lines = 0
        if annotate:
            row, several = _comparison_row(kept, feature, group, levels, pair, comparison, method, adjust, caller)
            contrast = (names[pair[0]], names[pair[1]]) if pair is not None else None
            full = comparison_text(
                row.to_dict(), show_q=several if show_q == "auto" else bool(show_q), contrast=contrast
            )
            n_lines = annotate_axes(ax, full, short=annotate == "short", width_in=width_in)
        if title is not None:
            ax.set_title(_wrap_lines(title, _text_chars(width_in, 11)), pad=8 + n_lines * SMALL * 1.25)
    return ax


def annotate_axes(ax, text: str, *, short: bool, width_in: float) -> int:
    """The comparison above the axes (only ``p = …, q = …`` when ``short``); returns its number of lines."""
    size = SMALL if short else SMALL - 1
    text = _wrap_lines(text.split("\n")[0].split(": ", 1)[-1] if short else text, _text_chars(width_in, size))
    ax.annotate(
        text,
        xy=(0.5, 1.0),
        xycoords="axes fraction",
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=size,
        color="#333333",
        gid="stats_annotation",
    )
    return text.count("\n") + 1


def group_names(group: str, levels: Sequence, group_labels: Mapping | None = None) -> dict:
    """Display name of each group: ``group_labels``, else a known name (``cr``: 1 -> "CR/CRi"), else the label."""
    known = GROUP_LEVEL_LABELS.get(group, {})
    out = {}
    for g in levels:
        if group_labels and g in group_labels:
            out[g] = str(group_labels[g])
        elif g in known and not isinstance(g, float | np.floating):
            out[g] = known[g]
        else:  # a boolean or 0/1 group names its variable ("Smoker: yes"), never "True" alone
            out[g] = group_level_label(group, g)
    return out


def _comparison_row(kept, feature, group, levels, pair, comparison, method, adjust, caller):
    if comparison is None:
        compared = list(pair) if pair is not None else levels
        return compare_groups(kept, [feature], group, groups=compared, method=method, adjust=adjust).iloc[0], False
    match = comparison[comparison["feature"] == feature]
    if match.empty:
        raise ImmuneCorrelatesError(
            f"{caller}: comparison table has no row for feature {feature!r}; it has {comparison['feature'].tolist()}."
        )
    return match.iloc[0], len(comparison) > 1


@check_params(
    groups=SEQUENCE,
    ncols=Interval(1, None, integer=True),
    log=(FLAG, Columns(), Instance(set, frozenset, name="a set of feature names")),
    labels=MAPPING,
    method=Options(*COMPARE_METHODS),
    adjust=ADJUST_OPTIONS,
    group_labels=MAPPING,
    colors=COLORS,
    comparisons=SEQUENCE,
    panel_size=(Options(None), ListLike("a (width, height) pair")),
    title=TEXT,
    missing=MISSING,
)
def response_panel(
    data: pd.DataFrame,
    features: Sequence[str],
    group: str = "response_group",
    *,
    groups: Sequence | None = None,
    ncols: int = 4,
    log: bool | Collection[str] = False,
    labels: Mapping[str, str] | None = None,
    method: str = "auto",
    adjust: str = "fdr_bh",
    group_labels: Mapping | None = None,
    colors: Mapping | Sequence | None = None,
    comparisons: Sequence[tuple] | None = None,
    panel_size: tuple[float, float] | None = None,
    title: str | None = None,
    missing: str = "drop",
):
    """One small box-and-dots axis per feature, as a paper's multi-panel figure.

    The groups are compared once for all ``features`` with
    :func:`~immune_correlates.stats.groups.compare.compare_groups`, so each panel's
    ``q`` is adjusted across the features shown.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    features : sequence of str
        Feature columns, one panel each, in reading order.
    group, groups, method, adjust, group_labels, colors, comparisons, missing
        As :func:`response_boxplot`.
    ncols : int
        Panels per row.
    log : bool or collection of str
        Log y axis for every panel, or for the features listed.
    labels : mapping, optional
        Panel titles by feature (default: the catalogue's label; the unit
        and scale are on the y axis).
    panel_size : (float, float), optional
        Width and height of one panel in inches (default: wider with more groups).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib Figure
        ``fig.axes`` holds one Axes per feature, in order.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> fig = response_panel(frame, ["cd3_per_ul", "nk_per_ul"], log=True)
    """
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise ImmuneCorrelatesError("response_panel: no features given.")
    if ncols < 1:
        raise ImmuneCorrelatesError(f"response_panel: ncols must be at least 1, got {ncols}.")
    kept, _ = complete_cases(data, [group], missing=missing, caller="response_panel")
    levels = _levels(kept, group, groups, "response_panel")
    pair = (default_pair(levels) if groups is None else tuple(levels)) if len(levels) == 2 else None
    compared = list(pair) if pair is not None else levels
    table = compare_groups(data, features, group, groups=compared, method=method, adjust=adjust, missing=missing)
    logged = set(features) if log is True else (set() if log is False else set(log))
    ncols = min(ncols, len(features))
    nrows = math.ceil(len(features) / ncols)
    if panel_size is None:  # room for each group's longest word at the tick size (words are never broken)
        names = group_names(group, levels, group_labels)
        word = max((len(w) for g in levels for w in str(names[g]).split()), default=4)
        panel_size = (max(2.8, 1.0 + len(levels) * (0.2 + word * 0.62 * 9 / 72)), 3.3 + 0.25 * bool(comparisons))
    with house_style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), layout="constrained", squeeze=False
        )
    flat = axes.ravel()
    for ax, feat in zip(flat, features):
        unit = column_unit(feat)
        scale = ", ".join(p for p in (unit, "log scale" if feat in logged else "") if p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)  # compare_groups already named them
            response_boxplot(
                data,
                feat,
                group,
                groups=levels if groups is not None else None,
                ax=ax,
                log=feat in logged,
                comparison=table,
                show_q=True,
                annotate="short",
                group_labels=group_labels,
                colors=colors,
                comparisons=comparisons,
                ylabel=scale,
                title=column_label(feat, labels=labels),
                missing=missing,
            )
    for ax in flat[len(features) :]:
        fig.delaxes(ax)
    with house_style():
        if title:
            fig.suptitle(title, fontsize=12)
        test = "Wilcoxon rank-sum test" if len(compared) == 2 else "Kruskal-Wallis test"
        fig.supxlabel(
            f"p: {test}; q: {ADJUST_NAMES.get(adjust, adjust)} adjustment across the {len(features)} features shown",
            fontsize=SMALL - 1,
            color="#555555",
        )
    return fig
