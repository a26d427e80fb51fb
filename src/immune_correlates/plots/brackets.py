"""Brackets over box plots with the p (and q) of chosen pairwise comparisons, as ggpubr's ``stat_compare_means``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ImmuneCorrelatesError, MissingDataWarning
from ..multiplicity import adjust_pvalues
from ..stats.groups.compare import compare_groups
from ._style import SMALL, format_p

__all__ = ["draw_brackets"]


def draw_brackets(
    ax,
    kept: pd.DataFrame,
    feature: str,
    group: str,
    pairs: list,
    levels: list,
    names: Mapping,
    *,
    adjust: str = "fdr_bh",
    log: bool = False,
) -> pd.DataFrame:
    """Brackets above the boxes with the Wilcoxon p (and q over the pairs) of each pair of groups.

    Returns the table of the pairs: ``first``, ``second``, ``p_value``, ``q_value``.
    """
    unknown = [g for pair in pairs for g in pair if g not in levels]
    if unknown or any(len(p) != 2 for p in pairs):
        raise ImmuneCorrelatesError(f"comparisons: each must be a pair of drawn groups {levels}; got {pairs}.")
    ps = []
    for a, b in pairs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            ps.append(float(compare_groups(kept, [feature], group, groups=[a, b]).iloc[0]["p_value"]))
    qs = adjust_pvalues(np.asarray(ps), method=adjust) if len(ps) > 1 else np.asarray(ps)
    # Room above the data: each bracket takes a band of the axes height.
    band = 0.1
    lo, hi = ax.get_ylim()
    k = len(pairs)
    if log:
        llo, lhi = np.log10(lo), np.log10(hi)
        ax.set_ylim(lo, 10 ** (lhi + (lhi - llo) * band * k / (1 - band * k)))
    else:
        ax.set_ylim(lo, hi + (hi - lo) * band * k / (1 - band * k))
    top = 1 - band * k
    xform = ax.get_xaxis_transform()
    order = sorted(range(k), key=lambda i: abs(levels.index(pairs[i][0]) - levels.index(pairs[i][1])))
    for rank, i in enumerate(order):
        a, b = pairs[i]
        xa, xb = sorted((levels.index(a), levels.index(b)))
        y = top + band * rank + 0.015
        ax.plot(
            [xa, xa, xb, xb],
            [y, y + 0.02, y + 0.02, y],
            transform=xform,
            color="#333333",
            linewidth=0.8,
            clip_on=False,
            gid=f"bracket:{a}|{b}",
        )
        text = format_p(ps[i]) + (f", {format_p(qs[i], 'q')}" if k > 1 else "")
        ax.text(
            (xa + xb) / 2,
            y + 0.022,
            text,
            transform=xform,
            ha="center",
            va="bottom",
            fontsize=SMALL - 1,
            color="#333333",
            gid=f"bracket_text:{a}|{b}",
        )
    return pd.DataFrame({"first": [p[0] for p in pairs], "second": [p[1] for p in pairs], "p_value": ps, "q_value": qs})
