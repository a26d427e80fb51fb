"""Cell-population abundance by response: a volcano of a differential-abundance table and a heatmap of the panel.

Both are thin: :func:`abundance_volcano` draws a :func:`~immune_correlates.differential_abundance`
table with :func:`~immune_correlates.plots.volcano`; :func:`abundance_heatmap` draws the
samples' centred log-ratios (:func:`~immune_correlates.abundance_features`), one column per
sample grouped by response, one row per population.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._params import (
    ALPHA,
    AXES,
    FLAG,
    MAPPING,
    OPTIONAL_COLUMN,
    SEQUENCE,
    TEXT,
    HasAttributes,
    Instance,
    Options,
    check_params,
)
from ..errors import InputError
from ..features.labels import column_label
from ..stats.highdim.abundance import TRANSFORMS, abundance_features
from ._style import SMALL, group_colors, house_style, new_axes, order_groups
from .heatmap import correlation_order
from .volcano import ANNOTATE, volcano

__all__ = ["abundance_volcano", "abundance_heatmap"]

_SCALES = {
    "clr": "centred log2-ratio",
    "log_proportion": "log2 proportion",
    "proportion": "proportion of cells",
}


@check_params(ax=AXES, fdr=ALPHA, annotate=ANNOTATE, labels=MAPPING, title=TEXT)
def abundance_volcano(
    data: pd.DataFrame,
    *,
    ax=None,
    fdr: float = 0.05,
    annotate: bool | int | str = "auto",
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
):
    """Volcano of a :func:`differential_abundance` table: log2 abundance ratio against ``-log10 p``.

    Parameters
    ----------
    data : DataFrame
        The table returned by :func:`~immune_correlates.differential_abundance` (its
        ``attrs["levels"]`` name the axis: "log2 abundance ratio, CR / NR").
    ax : matplotlib Axes, optional
    fdr, annotate, labels, title
        As :func:`~immune_correlates.plots.volcano`; populations at ``q <= fdr`` are named.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import immune_correlates as ic
    >>> counts, samples = ic.design.simulate_population_counts({"NR": 8, "CR": 8}, fold_changes={0: 3.0}, seed=2)
    >>> table = ic.differential_abundance(counts, samples, group="group")
    >>> ax = abundance_volcano(table)
    >>> ax.get_xlabel()
    'log2 abundance ratio, NR / CR'
    """
    if not isinstance(data, pd.DataFrame) or "population" not in data.columns:
        raise InputError("abundance_volcano: data must be the table of differential_abundance (a 'population' column).")
    levels = data.attrs.get("levels")
    xlabel = "log2 abundance ratio" + (f", {levels[1]} / {levels[0]}" if levels else "")
    return volcano(
        data,
        "estimate",
        label="population",
        ax=ax,
        fdr=fdr,
        annotate=annotate,
        labels=labels,
        xlabel=xlabel,
        title=title,
    )


def _in_sentence(text: str) -> str:
    """``"Response group"`` -> ``"response group"``; acronyms (``"CR"``) stay."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _sample_table(counts, samples, group):
    values = abundance_features(counts, transform="proportion")  # checks the counts, indexes by sample_id
    if samples is None or group is None:
        return values.index, pd.Series("all samples", index=values.index)
    table = samples.set_index("sample_id") if "sample_id" in samples.columns else samples
    if group not in table.columns:
        raise InputError(f"abundance_heatmap: the sample table has no column {group!r}.")
    missing = [s for s in values.index if s not in table.index]
    if missing:
        raise InputError(
            "abundance_heatmap: these samples have counts but no row in the sample table",
            rows=[{"sample_id": s} for s in missing],
        )
    return values.index, table.loc[values.index, group]


@check_params(
    group=OPTIONAL_COLUMN,
    transform=Options(*TRANSFORMS),
    populations=SEQUENCE,
    cluster=FLAG,
    ax=AXES,
    labels=MAPPING,
    cmap=(Instance(str, name="a colour map name"), HasAttributes("N", "name", name="a matplotlib Colormap")),
    title=TEXT,
)
def abundance_heatmap(
    counts: pd.DataFrame,
    samples: pd.DataFrame | None = None,
    *,
    group: str | None = None,
    transform: str = "clr",
    populations: Sequence[str] | None = None,
    cluster: bool = True,
    ax=None,
    labels: Mapping[str, str] | None = None,
    cmap: str = "RdBu_r",
    title: str | None = None,
):
    """Each population's abundance in each sample, samples grouped by response.

    Parameters
    ----------
    counts : DataFrame
        Cell counts, samples x populations, indexed by ``sample_id``.
    samples : DataFrame, optional
        Sample table (indexed by ``sample_id``) with ``group``.
    group : str, optional
        Column of ``samples`` whose groups order the columns (clinical order: non-responders
        first) and colour the strip above them.
    transform : {"clr", "log_proportion", "proportion"}
        Scale of :func:`abundance_features`; each row is then centred at its mean and divided by
        its SD across samples, so colours compare samples within a population.
    populations : sequence of str, optional
        Rows to draw, in this order (e.g. a differential-abundance table sorted by estimate).
    cluster : bool
        Without ``populations``: order rows by clustering of their correlations.
    ax : matplotlib Axes, optional
    labels : mapping, optional
        Display names by population.
    cmap : str
        Diverging colour map centred at 0.
    title : str, optional

    Returns
    -------
    matplotlib Axes
        The heatmap (a QuadMesh with gid ``"abundance"``); the group strip is an inset Axes with
        gid ``"group_strip"``.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> counts, samples = ic.design.simulate_population_counts({"NR": 8, "CR": 8}, n_populations=12, seed=2)
    >>> ax = abundance_heatmap(counts, samples, group="group")
    >>> len(ax.get_yticklabels())
    12
    """
    _, groups = _sample_table(counts, samples, group)
    values = abundance_features(counts, transform=transform)
    if populations is not None:
        unknown = [p for p in populations if p not in values.columns]
        if unknown:
            raise InputError(f"abundance_heatmap: populations {unknown} are not columns of the counts.")
        values = values[list(populations)]
    elif cluster and values.shape[1] > 2:
        values = values.iloc[:, correlation_order(values.corr())]
    levels = order_groups(sorted(groups.dropna().unique().tolist(), key=str))
    order = np.concatenate([np.flatnonzero((groups == g).to_numpy()) for g in levels])
    values = values.iloc[order]
    groups = groups.iloc[order]
    z = (values - values.mean()) / values.std(ddof=1).replace(0, np.nan)
    n_pop, n_smp = values.shape[1], values.shape[0]
    ax = new_axes(ax, figsize=(max(4.0, 0.16 * n_smp + 2.8), max(3.0, 0.2 * n_pop + 1.4)))
    with house_style():
        lim = float(np.nanmax(np.abs(z.to_numpy()))) if np.isfinite(z.to_numpy()).any() else 1.0
        mesh = ax.pcolormesh(z.to_numpy().T, cmap=cmap, vmin=-lim, vmax=lim, gid="abundance")
        ax.set_ylim(n_pop, 0)
        ax.set_yticks(np.arange(n_pop) + 0.5)
        ax.set_yticklabels([(labels or {}).get(p, p) for p in values.columns], fontsize=SMALL)
        ax.set_xticks([])
        ax.set_xlabel(f"Samples (n={n_smp})" + (f", by {_in_sentence(column_label(group))}" if group else ""))
        ax.tick_params(axis="y", length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.8, pad=0.02)
        bar.set_label(f"{_SCALES[transform]} (SD from the population's mean)")
        if group is not None:
            _group_strip(ax, groups, levels, title)
        elif title:
            ax.set_title(title)
    return ax


def _group_strip(ax, groups: pd.Series, levels: list, title: str | None) -> None:
    """A colour strip above the columns (one colour per group) and its legend under the axis."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch
    from matplotlib.transforms import offset_copy

    colors = group_colors(levels)
    strip = ax.inset_axes([0.0, 1.01, 1.0, 0.035])
    codes = np.array([levels.index(g) for g in groups])
    strip.pcolormesh(
        codes[None, :], cmap=ListedColormap([colors[g] for g in levels]), vmin=-0.5, vmax=len(levels) - 0.5
    )
    strip.set_xlim(0, codes.size)
    strip.set_xticks([])
    strip.set_yticks([])
    strip.set_axis_off()
    strip.set_gid("group_strip")
    edges = np.r_[0, np.cumsum([int((groups == g).sum()) for g in levels])]
    for lo in edges[1:-1]:
        ax.axvline(lo, color="white", linewidth=1.5)
    handles = [Patch(color=colors[g], label=f"{g} (n={hi - lo})") for g, lo, hi in zip(levels, edges[:-1], edges[1:])]
    below_label = offset_copy(ax.transAxes, fig=ax.figure, y=-2.2 * SMALL - 6, units="points")
    widest = max(len(h.get_label()) for h in handles) * 0.6 * SMALL + 30  # points per legend entry
    per_row = max(1, int(0.8 * ax.figure.get_figwidth() * 72 // widest))
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=below_label,
        ncol=min(len(levels), per_row),
        frameon=False,
        fontsize=SMALL,
        handlelength=1.0,
    )
    if title:  # above the strip (0.035 of the axes' height)
        ax.set_title(title, pad=0.05 * ax.get_position().height * ax.figure.get_figheight() * 72 + 6)
