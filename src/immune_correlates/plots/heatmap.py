"""Clustered correlation heatmap of immune features."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from .._params import AXES, FLAG, MAPPING, TEXT, HasAttributes, Instance, Options, check_params
from ..errors import ImmuneCorrelatesError
from ._style import SMALL, house_style, new_axes

__all__ = ["correlation_heatmap", "correlation_order"]

METHODS = ("spearman", "pearson", "kendall")
#: scipy.cluster.hierarchy.linkage methods.
LINKAGE = Options("single", "complete", "average", "weighted", "centroid", "median", "ward")


@check_params(
    linkage=LINKAGE,
)
def correlation_order(corr: pd.DataFrame, *, linkage: str = "average") -> list[int]:
    """Leaf order of a hierarchical clustering on the distance ``1 - r``.

    Average linkage with optimal leaf ordering (Bar-Joseph et al. 2001), so
    strongly positively correlated features sit next to each other.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame([[1, 0.1, 0.9], [0.1, 1, 0.2], [0.9, 0.2, 1]])
    >>> correlation_order(r) in ([0, 2, 1], [1, 2, 0], [1, 0, 2], [2, 0, 1])
    True
    """
    dist = squareform(np.clip(1.0 - corr.to_numpy(dtype=float), 0.0, 2.0), checks=False)
    z = hierarchy.linkage(dist, method=linkage, optimal_ordering=True)
    return hierarchy.leaves_list(z).tolist()


@check_params(
    method=Options(*METHODS),
    cluster=FLAG,
    linkage=LINKAGE,
    ax=AXES,
    annotate=(Options(None), FLAG),
    dendrogram=FLAG,
    labels=MAPPING,
    cmap=(Instance(str, name="a colormap name"), HasAttributes("N", "colors", name="a matplotlib colormap")),
    title=TEXT,
)
def correlation_heatmap(
    data: pd.DataFrame,
    features: Sequence[str],
    *,
    method: str = "spearman",
    cluster: bool = True,
    linkage: str = "average",
    ax=None,
    annotate: bool | None = None,
    dendrogram: bool = True,
    labels: Mapping[str, str] | None = None,
    cmap: str = "RdBu_r",
    title: str | None = None,
):
    """Correlations between features, rows and columns ordered by clustering.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    features : sequence of str
        Numeric feature columns (at least two).
    method : {"spearman", "pearson", "kendall"}
        Correlation, over the patients complete in each pair of features.
    cluster : bool
        Order by average-linkage clustering on ``1 - r`` (see
        :func:`correlation_order`); otherwise keep the order given.
    linkage : str
        SciPy linkage method.
    ax : matplotlib Axes, optional
    annotate : bool, optional
        Write r in the cells (default: when at most 12 features).
    dendrogram : bool
        Draw the clustering tree above the heatmap (when ``cluster``).
    labels : mapping, optional
        Display names by feature.
    cmap : str
        Diverging colour map centred at 0 (red-blue reads under the common
        colour-vision deficiencies).
    title : str, optional

    Returns
    -------
    matplotlib Axes
        The heatmap (a QuadMesh whose array is the reordered matrix; tick
        labels give the order).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ax = correlation_heatmap(frame, ["cd3_per_ul", "cd4_per_ul", "cd8_per_ul", "nk_per_ul"])
    """
    caller = "correlation_heatmap"
    features = list(features)
    if len(features) < 2:
        raise ImmuneCorrelatesError(f"{caller}: need at least two features, got {features}.")
    absent = [f for f in features if f not in data.columns]
    if absent:
        raise ImmuneCorrelatesError(f"{caller}: column(s) {absent} not found in data.")
    values = data[features].apply(pd.to_numeric, errors="coerce")
    corr = values.corr(method=method)
    undefined = [f for f in features if values[f].nunique() < 2]
    if undefined:
        raise ImmuneCorrelatesError(
            f"{caller}: feature(s) {undefined} are constant or have too few values for a correlation; leave them out."
        )
    if corr.isna().to_numpy().any():
        pairs = [(a, b) for a in features for b in features if a < b and np.isnan(corr.loc[a, b])]
        raise ImmuneCorrelatesError(f"{caller}: too few patients with both values for {pairs[:5]}.")
    order = correlation_order(corr, linkage=linkage) if cluster else list(range(len(features)))
    ordered = corr.iloc[order, order]
    names = [(labels or {}).get(f, f) for f in ordered.index]
    annotate = len(features) <= 12 if annotate is None else annotate
    n = len(features)
    ax = new_axes(ax, figsize=(0.55 * n + 2.6, 0.5 * n + 1.9))
    with house_style():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)  # seaborn 0.13 calls cmap.set_bad
            sns.heatmap(
                ordered.to_numpy(),
                ax=ax,
                vmin=-1,
                vmax=1,
                center=0,
                cmap=cmap,
                square=True,
                annot=annotate,
                fmt=".2f",
                annot_kws={"fontsize": SMALL - 1},
                linewidths=0.5,
                linecolor="white",
                xticklabels=names,
                yticklabels=names,
                cbar_kws={"label": f"{method.capitalize()} r", "shrink": 0.75},
            )
        ax.tick_params(axis="x", labelrotation=90, length=0)
        ax.tick_params(axis="y", labelrotation=0, length=0)
        if cluster and dendrogram:
            tree = ax.inset_axes([0.0, 1.01, 1.0, 0.14])
            z = hierarchy.linkage(
                squareform(np.clip(1.0 - corr.to_numpy(), 0.0, 2.0), checks=False),
                method=linkage,
                optimal_ordering=True,
            )
            hierarchy.dendrogram(z, ax=tree, no_labels=True, color_threshold=0, above_threshold_color="#555555")
            tree.set_xlim(0, 10 * n)
            tree.set_axis_off()
            tree.set_gid("dendrogram")
        if title:
            (tree if cluster and dendrogram else ax).set_title(title)
    return ax
