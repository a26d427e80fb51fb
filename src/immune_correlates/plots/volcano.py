"""Volcano plot of a feature screen: effect against -log10 p with the FDR threshold."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ImmuneCorrelatesError
from ._style import GREY, OKABE_ITO, SMALL, house_style, new_axes

__all__ = ["volcano", "fdr_threshold"]

EFFECT_COLUMNS = {
    "estimate": "Estimate (log ratio per unit)",
    "rank_biserial": "Rank-biserial r",
    "hodges_lehmann": "Hodges-Lehmann difference",
}


def fdr_threshold(p: np.ndarray, q: np.ndarray, fdr: float) -> tuple[float, bool]:
    """The p-value cut that matches ``q <= fdr``, and whether any feature passes.

    With adjusted p-values monotone in p (Benjamini-Hochberg, Holm,
    Bonferroni), the features at ``q <= fdr`` are exactly those with p at or
    below the largest p among them.  When none passes, the cut a single
    feature would need is ``fdr / m`` (the first step of each procedure).

    Examples
    --------
    >>> import numpy as np
    >>> fdr_threshold(np.array([0.001, 0.02, 0.4]), np.array([0.003, 0.03, 0.4]), 0.05)
    (0.02, True)
    """
    ok = np.isfinite(p) & np.isfinite(q)
    sig = ok & (q <= fdr)
    if sig.any():
        return float(p[sig].max()), True
    return fdr / max(int(ok.sum()), 1), False


def _place_labels(ax, x: np.ndarray, y: np.ndarray, texts: list[str]) -> None:
    """Name points without overlaps: text on the inner side, stacked downwards when crowded."""
    if not len(texts):
        return
    to_pt = 72.0 / ax.figure.dpi
    disp = ax.transData.transform(np.column_stack([x, y])) * to_pt  # in points
    mid = np.mean(ax.get_xlim())
    gap = SMALL * 1.35
    placed: list[tuple[float, float, bool]] = []  # (x, y, on the right) of labels already placed, in points
    for i in np.argsort(-disp[:, 1], kind="mergesort"):
        right = x[i] <= mid  # points on the right half get their label on the left
        px, py = disp[i]
        ty = py + 3
        for qx, qy, qr in placed:
            if qr == right and abs(qx - px) < 110 and abs(qy - ty) < gap:
                ty = qy - gap
        placed.append((px, ty, right))
        moved = abs(ty - (py + 3)) > 0.5
        if moved:
            ty -= 0.5 * gap  # leave the crowd: label below the point, joined by a line
        dx = (14 if moved else 5) * (1 if right else -1)
        ax.annotate(texts[i], xy=(x[i], y[i]), xytext=(dx, ty - py), textcoords="offset points",
                    fontsize=SMALL, ha="left" if right else "right", va="bottom", gid="volcano_label",
                    arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.6, "shrinkA": 1, "shrinkB": 3}
                    if moved else None)


def volcano(
    data: pd.DataFrame,
    effect: str | None = None,
    p: str = "p_value",
    q: str = "q_value",
    label: str | None = None,
    *,
    ax=None,
    fdr: float = 0.05,
    annotate: bool | int | str = "auto",
    labels: Mapping[str, str] | None = None,
    xlabel: str | None = None,
    title: str | None = None,
):
    """Effect size against ``-log10 p``, features at ``q <= fdr`` highlighted and named.

    Parameters
    ----------
    data : DataFrame
        A screen or ``compare_groups`` table, one row per feature.
    effect : str, optional
        Effect column (default: ``estimate``, else ``rank_biserial``, else
        ``hodges_lehmann``).
    p, q : str
        Raw and adjusted p-value columns.
    label : str, optional
        Feature name column (default ``feature``, else ``term``).
    ax : matplotlib Axes, optional
    fdr : float
        The false discovery rate drawn as a horizontal line (see
        :func:`fdr_threshold`).
    annotate : "auto", bool or int
        Name the features that pass (``True``), the ``n`` smallest p (an
        int), or nothing (``False``); ``"auto"`` names those that pass, or the
        three smallest p when none does.
    labels : mapping, optional
        Display names by feature.
    xlabel, title : str, optional

    Returns
    -------
    matplotlib Axes
        Points are the collection with gid ``"volcano_points"`` (offsets =
        effect, -log10 p, in the rows' order after dropping missing p); the
        threshold is the line ``"fdr_threshold"``; names are annotations
        ``"volcano_label"``.

    Examples
    --------
    >>> import pandas as pd
    >>> screen = pd.DataFrame({"feature": ["a", "b", "c"], "estimate": [0.5, -1.2, 0.1],
    ...                        "p_value": [0.2, 0.001, 0.8], "q_value": [0.3, 0.003, 0.8]})
    >>> ax = volcano(screen)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "volcano_label"]
    ['b']
    """
    if not isinstance(data, pd.DataFrame):
        raise ImmuneCorrelatesError(f"volcano: data must be a DataFrame, got {type(data).__name__}.")
    effect = effect or next((c for c in EFFECT_COLUMNS if c in data.columns), None)
    label = label or next((c for c in ("feature", "term") if c in data.columns), None)
    need = [c for c in (effect, p, q, label) if c is None or c not in data.columns]
    if need:
        raise ImmuneCorrelatesError(
            f"volcano: needs an effect, {p!r}, {q!r} and a label column; missing {need} "
            f"in {list(data.columns)}. Name them with effect=, p=, q=, label=."
        )
    rows = data[[label, effect, p, q]].dropna(subset=[effect, p])
    x = rows[effect].to_numpy(dtype=float)
    pv = rows[p].to_numpy(dtype=float)
    qv = rows[q].to_numpy(dtype=float)
    y = -np.log10(np.clip(pv, np.finfo(float).tiny, 1.0))
    sig = np.isfinite(qv) & (qv <= fdr)
    cut, any_pass = fdr_threshold(pv, qv, fdr)

    ax = new_axes(ax, figsize=(4.8, 4.0))
    with house_style():
        colors = np.where(sig, OKABE_ITO["vermillion"], GREY).tolist()
        ax.scatter(x, y, s=np.where(sig, 40, 24), c=colors, edgecolor="white", linewidth=0.5, zorder=3,
                   gid="volcano_points")
        ax.axhline(-np.log10(cut), color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.0,
                   gid="fdr_threshold")
        ax.axvline(0.0, color=GREY, linestyle=":", linewidth=0.8, zorder=1)
        note = f"FDR {100 * fdr:g}%" + ("" if any_pass else " (none pass)")
        ax.annotate(note, xy=(1.0, -np.log10(cut)), xycoords=("axes fraction", "data"), xytext=(-2, 2),
                    textcoords="offset points", ha="right", va="bottom", fontsize=SMALL,
                    color=OKABE_ITO["vermillion"], gid="fdr_label")
        if annotate == "auto":
            annotate = True if sig.any() else 3
        if annotate is True:
            chosen = np.flatnonzero(sig)
        elif annotate is False or annotate is None:
            chosen = np.array([], dtype=int)
        else:
            chosen = np.argsort(pv, kind="mergesort")[: int(annotate)]
        top = max(np.nanmax(y, initial=0.0), -np.log10(cut)) * 1.12
        ax.set_ylim(0, top if top > 0 else 1.0)
        lim = np.nanmax(np.abs(x), initial=0.0) * 1.15 or 1.0
        ax.set_xlim(-lim, lim)
        names = rows[label].astype(str).to_numpy()
        _place_labels(ax, x[chosen], y[chosen], [(labels or {}).get(n, n) for n in names[chosen]])
        ax.set_xlabel(xlabel or EFFECT_COLUMNS.get(effect, effect))
        ax.set_ylabel("−log10 p")
        if title:
            ax.set_title(title)
    return ax
