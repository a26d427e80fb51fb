"""Diagnostics of multiple imputation: convergence traces and observed against imputed values.

Both take the :class:`~immune_correlates.data.imputed.ImputedData` that
:func:`immune_correlates.impute` returns, as mice's ``plot(imp)`` and ``stripplot(imp)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, MaxNLocator

from .. import _seeds
from .._params import (
    AXES,
    FLAG,
    MAPPING,
    TEXT,
    Instance,
    ListLike,
    Options,
    check_params,
)
from ..data.imputed import ImputedData
from ..errors import ParameterError
from ..features.labels import column_label
from ._style import GREY, OKABE_ITO, SMALL, house_style, new_axes

__all__ = ["imputation_traces", "observed_vs_imputed"]

OBSERVED = OKABE_ITO["blue"]
IMPUTED = OKABE_ITO["vermillion"]


_IMPUTED = Instance(ImputedData, name="the ImputedData that ic.impute returns")


@check_params(
    imputed=_IMPUTED,
    labels=MAPPING,
    figsize=(Options(None), ListLike("a (width, height) pair")),
)
def imputation_traces(
    imputed: ImputedData,
    columns: Sequence[str] | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    figsize: tuple[float, float] | None = None,
):
    """Mean and SD of each column's imputed values per iteration, one line per chain (mice's ``plot(imp)``).

    Chains that mix (lines crossing, no trend after the first iterations) indicate convergence;
    a trend or chains apart mean more iterations (``n_iter``) or a different imputation model.

    Parameters
    ----------
    imputed : ImputedData
    columns : sequence of str, optional
        Imputed columns to show (default: all).
    labels : mapping, optional
        Display names by column.
    figsize : tuple, optional

    Returns
    -------
    matplotlib Figure
        One row per column, panels "mean" and "SD"; each chain is a Line2D with gid ``"chain"``.

    Examples
    --------
    >>> import pandas as pd, immune_correlates as ic
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0, None, 7.0], "y": [1.2, 2.1, 2.8, 4.1, 5.2, 6.1, 6.8]})
    >>> fig = ic.plots.imputation_traces(ic.impute(df, m=3, seed=1, n_iter=4))
    >>> [ax.get_title() for ax in fig.axes]
    ['x: mean', 'x: SD']
    """
    names = list(imputed.columns) if columns is None else list(columns)
    unknown = [c for c in names if c not in imputed.columns]
    if unknown or not names:
        raise ParameterError(
            f"imputation_traces: columns={unknown or names!r} is not allowed; columns must be imputed columns, "
            f"one of {list(imputed.columns)}."
        )
    tr = imputed.traces
    colors = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
    with house_style():
        fig, axes = plt.subplots(
            len(names), 2, figsize=figsize or (7.0, 2.1 * len(names) + 0.6), squeeze=False, layout="constrained"
        )
        for row, col in zip(axes, names):
            sub = tr[tr["column"] == col]
            kind = imputed.columns[col].kind
            for ax, stat, word in ((row[0], "mean", "mean"), (row[1], "sd", "SD")):
                for chain, lines in sub.groupby("chain"):
                    ax.plot(lines["iteration"], lines[stat], color=colors[chain % 20], linewidth=1.0, gid="chain")
                ax.set_title(f"{column_label(col, labels=labels)}: {word}", fontsize=SMALL + 1)
                ax.set_xlabel("Iteration")
                if kind == "binary" and stat == "mean":
                    ax.set_ylabel(f"share {imputed.columns[col].levels[-1]}")
                elif kind == "categorical" and stat == "mean":
                    ax.set_ylabel("mean category code")
                # fixed ticks, all inside the panel
                ax.xaxis.set_major_locator(FixedLocator(np.arange(1, imputed.n_iter + 1, -(-imputed.n_iter // 6))))
                ax.set_xlim(0.8, imputed.n_iter + 0.2)
                lo, hi = ax.get_ylim()
                if np.nanmin(sub[stat]) >= 0:  # an SD, a share, a count: no negative ticks
                    lo = max(lo, 0.0)
                ticks = MaxNLocator(nbins=4).tick_values(lo, hi)
                ax.yaxis.set_major_locator(FixedLocator(ticks))
                ax.set_ylim(ticks[0], ticks[-1])
    return fig


@check_params(
    imputed=_IMPUTED,
    log=FLAG,
    ax=AXES,
    label=TEXT,
)
def observed_vs_imputed(
    imputed: ImputedData,
    column: str,
    *,
    ax=None,
    log: bool = False,
    label: str | None = None,
):
    """Observed values of a column beside its imputed values in each imputation (mice's ``stripplot``).

    Numeric columns: one strip of points for the observed values (blue, left) and one per
    imputation (vermillion); imputed values should look like plausible observed values (under
    MAR they may differ in distribution, not in range).  Binary and categorical columns: the
    share of each level among the observed values and, averaged over the imputations (range as
    a line), among the imputed ones.

    Parameters
    ----------
    imputed : ImputedData
    column : str
        An imputed column.
    ax : matplotlib Axes, optional
    log : bool
        Log-scale value axis (counts).
    label : str, optional
        Axis label (default: the column's label).

    Returns
    -------
    matplotlib Axes
        Points in collections with gid ``"observed"`` and ``"imputed"`` (numeric), or bars
        (categorical).

    Examples
    --------
    >>> import pandas as pd, immune_correlates as ic
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0, None, 7.0], "y": [1.2, 2.1, 2.8, 4.1, 5.2, 6.1, 6.8]})
    >>> ax = ic.plots.observed_vs_imputed(ic.impute(df, m=3, seed=1, n_iter=4), "x")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Observed', '1', '2', '3']
    """
    if column not in imputed.columns:
        raise ParameterError(
            f"observed_vs_imputed: column={column!r} is not allowed; column must be an imputed column, "
            f"one of {list(imputed.columns)}."
        )
    col = imputed.columns[column]
    observed = imputed.data[column].drop(imputed.data.index[col.rows]).dropna()
    text = label or column_label(column)
    if col.kind == "numeric":
        return _strips(observed.to_numpy(float), col.values.astype(float), imputed.m, text, log, ax)
    return _shares(observed, col.values, text, ax)


def _strips(observed, values, m, text, log, ax):
    rng = _seeds.rng(0)  # jitter only: the same picture every time
    ax = new_axes(ax, figsize=(max(3.6, 0.32 * (m + 2) + 1.6), 3.4))
    with house_style():
        ax.scatter(
            rng.uniform(-0.25, 0.25, len(observed)) - 1.0,  # one slot apart from the imputations
            observed,
            s=14,
            color=OBSERVED,
            alpha=0.7,
            linewidth=0,
            gid="observed",
        )
        xs = np.repeat(np.arange(1, m + 1), values.shape[0])
        ys = values.T.ravel()
        ax.scatter(xs + rng.uniform(-0.2, 0.2, len(xs)), ys, s=14, color=IMPUTED, alpha=0.8, linewidth=0, gid="imputed")
        ax.set_xticks([-1.0, *range(1, m + 1)], ["Observed", *[str(i) for i in range(1, m + 1)]])
        if m > 12:
            for tick in ax.get_xticklabels()[1:]:
                tick.set_fontsize(SMALL - 1)
        ax.set_xlim(-1.6, m + 0.6)
        ax.axvline(0.0, color=GREY, linewidth=0.6, linestyle=":")
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("Imputation")
        ax.set_ylabel(text)
        ax.set_title(f"{text}: {len(observed)} observed, {values.shape[0]} imputed per data set", fontsize=SMALL + 1)
    return ax


def _shares(observed: pd.Series, values: np.ndarray, text: str, ax):
    levels = list(pd.unique(pd.Series(list(observed.to_numpy()) + list(values.ravel()))))
    try:
        levels = sorted(levels)
    except TypeError:
        pass
    obs_share = np.array([np.mean(observed.to_numpy() == lev) for lev in levels])
    per_imp = np.array([[np.mean(values[:, i] == lev) for i in range(values.shape[1])] for lev in levels])
    ax = new_axes(ax, figsize=(max(3.6, 1.1 * len(levels) + 1.4), 3.2))
    x = np.arange(len(levels))
    with house_style():
        ax.bar(x - 0.2, obs_share, width=0.38, color=OBSERVED, label="Observed", gid="observed")
        ax.bar(
            x + 0.2, per_imp.mean(axis=1), width=0.38, color=IMPUTED, label="Imputed (mean; line: range)", gid="imputed"
        )
        ax.vlines(x + 0.2, per_imp.min(axis=1), per_imp.max(axis=1), color="black", linewidth=1.0, gid="imputed_range")
        ax.set_xticks(x, [str(v) for v in levels])
        ax.set_ylim(0, 1)
        ax.set_ylabel("Share of patients")
        ax.set_xlabel(text)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=1, fontsize=SMALL, borderaxespad=0.2)
    return ax
