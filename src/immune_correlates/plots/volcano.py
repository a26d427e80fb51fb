"""Volcano plot of a feature screen: effect against -log10 p with the FDR threshold."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ..errors import ImmuneCorrelatesError
from ..features.labels import column_label
from ._style import GREY, OKABE_ITO, SMALL, house_style, new_axes

__all__ = ["volcano", "fdr_threshold", "effect_axis_label"]

EFFECT_COLUMNS = {
    "estimate": "Log ratio per unit",
    "rank_biserial": "Rank-biserial r",
    "hodges_lehmann": "Hodges-Lehmann difference",
}


def fdr_threshold(p: np.ndarray, q: np.ndarray, *, fdr: float) -> tuple[float, bool]:
    """The p-value cut that matches ``q <= fdr``, and whether any feature passes.

    With adjusted p-values monotone in p (Benjamini-Hochberg, Holm,
    Bonferroni), the features at ``q <= fdr`` are exactly those with p at or
    below the largest p among them.  When none passes, the cut a single
    feature would need is ``fdr / m`` (the first step of each procedure).

    Examples
    --------
    >>> import numpy as np
    >>> fdr_threshold(np.array([0.001, 0.02, 0.4]), np.array([0.003, 0.03, 0.4]), fdr=0.05)
    (0.02, True)
    """
    ok = np.isfinite(p) & np.isfinite(q)
    sig = ok & (q <= fdr)
    if sig.any():
        return float(p[sig].max()), True
    return fdr / max(int(ok.sum()), 1), False


#: Distances (points) and directions tried for a label around its point, nearest first.
_RADII = (3.0, 9.0, 16.0, 24.0, 32.0, 42.0, 54.0, 68.0, 84.0, 102.0, 124.0, 150.0, 180.0, 215.0, 255.0)
_ANGLES = np.deg2rad(
    (
        0,
        180,
        30,
        150,
        -30,
        -150,
        90,
        -90,
        60,
        120,
        -60,
        -120,
        15,
        165,
        -15,
        -165,
        45,
        135,
        -45,
        -135,
        75,
        105,
        -75,
        -105,
    )
)


def _box(x0, y0, w, h, dx, dy):
    """Box (x0, y0, x1, y1) of a w x h label whose anchor side faces the direction (dx, dy) from (x0, y0)."""
    left = x0 + dx if dx > 0.3 else (x0 + dx - w if dx < -0.3 else x0 + dx - w / 2)
    bottom = y0 + dy if dy > 0.3 else (y0 + dy - h if dy < -0.3 else y0 + dy - h / 2)
    return np.array([left, bottom, left + w, bottom + h])


def _place_labels(ax, x: np.ndarray, y: np.ndarray, texts: list[str], points: np.ndarray) -> tuple[list, bool]:
    """Name points with no label on another label, a point or a reference line (greedy, deterministic).

    Each label, most significant first, takes the first free spot among
    positions ever further from its point (a leader line joins the far
    ones), in the spirit of ggrepel but without randomness.  Returns the
    labels and whether each found a free spot.
    """
    if not len(texts):
        return [], True
    fig = ax.figure
    for _ in range(3):  # a layout engine settles over a few draws; the axes must be where they stay
        before = ax.get_position().bounds
        fig.canvas.draw()
        if np.allclose(before, ax.get_position().bounds, atol=1e-4):
            break
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    obstacles = [np.r_[p - 4 * px, p + 4 * px] for p in ax.transData.transform(points)]
    for line in ax.lines:
        if line.get_gid() in ("fdr_threshold", "zero_line"):
            bb = line.get_window_extent(renderer)
            obstacles.append(np.array([bb.x0 - 1.5 * px, bb.y0 - 1.5 * px, bb.x1 + 1.5 * px, bb.y1 + 1.5 * px]))
    obstacles += [np.array(t.get_window_extent(renderer).extents) for t in ax.texts if t.get_text()]
    obstacles = np.array(obstacles).reshape(-1, 4)
    anchors = ax.transData.transform(np.column_stack([x, y]))
    made, clear, labels_placed = [], True, []
    for i in np.argsort(-y, kind="mergesort"):
        probe = ax.text(0, 0, texts[i], fontsize=SMALL)
        bb = probe.get_window_extent(renderer)
        probe.remove()
        w, h = bb.width + 2 * px, bb.height + 1 * px
        best, best_cost = None, np.inf
        for r in _RADII:
            for a in _ANGLES:
                dx, dy = r * px * np.cos(a), r * px * np.sin(a)
                box = _box(*anchors[i], w, h, dx, dy)
                inside = box[0] >= frame.x0 and box[2] <= frame.x1 and box[1] >= frame.y0 and box[3] <= frame.y1
                hit = (
                    (box[0] < obstacles[:, 2])
                    & (box[2] > obstacles[:, 0])
                    & (box[1] < obstacles[:, 3])
                    & (box[3] > obstacles[:, 1])
                )
                hits = int(hit.sum()) + (0 if inside else 100)
                crossings = 0
                if r > _RADII[1] and labels_placed:  # a leader line should not cross a label either
                    leader = _leader(anchors[i], box, px)
                    lb = np.array(labels_placed)
                    crossings = int(
                        (
                            (leader[:, None, 0] > lb[None, :, 0])
                            & (leader[:, None, 0] < lb[None, :, 2])
                            & (leader[:, None, 1] > lb[None, :, 1])
                            & (leader[:, None, 1] < lb[None, :, 3])
                        )
                        .any(axis=0)
                        .sum()
                    )
                cost = 10 * hits + crossings
                if cost < best_cost:
                    best, best_cost, best_hits = (dx, dy, box, r), cost, hits
                if cost == 0:
                    break
            if best_cost == 0:
                break
        dx, dy, box, r = best
        clear = clear and best_hits == 0
        labels_placed.append(box)
        ha = "left" if dx > 0.3 else ("right" if dx < -0.3 else "center")
        va = "bottom" if dy > 0.3 else ("top" if dy < -0.3 else "center")
        far = r > _RADII[1]
        made.append(
            ax.annotate(
                texts[i],
                xy=(x[i], y[i]),
                xytext=(dx / px + (1 if ha == "left" else -1 if ha == "right" else 0), dy / px),
                textcoords="offset points",
                fontsize=SMALL,
                ha=ha,
                va=va,
                gid="volcano_label",
                arrowprops={"arrowstyle": "-", "color": "#777777", "lw": 0.6, "shrinkA": 0, "shrinkB": 3}
                if far
                else None,
            )
        )
        made[-1].set_in_layout(False)  # inside the axes; a layout pass must not move the axes under it
        leader = _leader(anchors[i], box, px) if far else np.empty((0, 2))
        obstacles = np.vstack([obstacles, box] + [np.r_[q - 1.5 * px, q + 1.5 * px] for q in leader])  # keep off lines
    return made, clear


def _leader(anchor: np.ndarray, box: np.ndarray, px: float) -> np.ndarray:
    """Points along the leader line from a point (beyond its marker) to the nearest edge of its label."""
    end = np.clip(anchor, box[:2], box[2:])
    length = np.hypot(*(end - anchor))
    if length <= 6 * px:
        return np.empty((0, 2)).reshape(0, 2)
    t = np.linspace(6 * px / length, 1.0, 14)[:-1]
    return anchor + t[:, None] * (end - anchor)


def effect_axis_label(data: pd.DataFrame, effect: str, per: str | None = None) -> str:
    """ "Log odds ratio per SD": what the effect column is, on which scale, per what change of the feature.

    ``per`` ("SD", "unit", "doubling", ...) defaults to "SD" when a ``scale``
    column says every feature is per SD, else "unit".
    """
    if effect != "estimate":
        return EFFECT_COLUMNS.get(effect, effect)
    kind = (
        "odds ratio" if "odds_ratio" in data.columns else ("hazard ratio" if "hazard_ratio" in data.columns else None)
    )
    if kind is None and "method" in data.columns:
        text = " ".join(map(str, data["method"].dropna().unique())).lower()
        kind = "hazard ratio" if "cox" in text else ("odds ratio" if ("logistic" in text or "firth" in text) else None)
    if per is None:
        scales = data["scale"].dropna().astype(str) if "scale" in data.columns else pd.Series(dtype=str)
        per = "SD" if len(scales) and scales.str.startswith("per SD").all() else "unit"
    return f"Log {kind or 'ratio'} per {per}"


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
    endpoint: str | None = None,
    per: str | None = None,
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
        int), or nothing (``False``); ``"auto"`` names those that pass (at
        most eight, smallest p first), or the three smallest p when none does.
    labels : mapping, optional
        Display names by feature (default: the feature catalogue's labels).
    endpoint : str, optional
        The outcome screened (``"cr"``, ``"pfs_months"``); the title names it
        ("Complete remission (CR/CRi)") unless ``title`` is given.
    per : str, optional
        The change of each feature the effect refers to ("SD", "unit"),
        written on the x axis ("Log odds ratio per SD"); default from the
        table's ``scale`` column, else "unit".
    xlabel, title : str, optional

    Notes
    -----
    Labels are placed by adjustText (a force-directed layout that moves
    texts off points, lines and each other); the threshold follows
    Benjamini & Hochberg (1995) through :func:`fdr_threshold`.

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
    cut, any_pass = fdr_threshold(pv, qv, fdr=fdr)

    ax = new_axes(ax, figsize=(4.8, 4.0))
    with house_style():
        colors = np.where(sig, OKABE_ITO["vermillion"], GREY).tolist()
        ax.scatter(
            x, y, s=np.where(sig, 40, 24), c=colors, edgecolor="white", linewidth=0.5, zorder=3, gid="volcano_points"
        )
        ax.axhline(-np.log10(cut), color=OKABE_ITO["vermillion"], linestyle="--", linewidth=1.0, gid="fdr_threshold")
        ax.axvline(0.0, color=GREY, linestyle=":", linewidth=0.8, zorder=1, gid="zero_line")
        note = f"FDR {100 * fdr:g}%" + ("" if any_pass else " (none pass)")
        ax.annotate(
            note,
            xy=(1.0, -np.log10(cut)),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 2),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=SMALL,
            color=OKABE_ITO["vermillion"],
            gid="fdr_label",
        )
        if annotate == "auto":  # the passing features (at most 8, smallest p), else the 3 smallest p
            annotate = min(int(sig.sum()), 8) if sig.any() else 3
        if annotate is True:
            chosen = np.flatnonzero(sig)
        elif annotate is False or annotate is None:
            chosen = np.array([], dtype=int)
        else:
            chosen = np.argsort(pv, kind="mergesort")[: int(annotate)]
        top = max(np.nanmax(y, initial=0.0), -np.log10(cut)) * 1.2
        ax.set_ylim(0, top if top > 0 else 1.0)
        lim = np.nanmax(np.abs(x), initial=0.0) * 1.15 or 1.0
        ax.set_xlim(-lim, lim)
        names = rows[label].astype(str).to_numpy()
        ax.set_xlabel(xlabel or effect_axis_label(data, effect, per))
        ax.set_ylabel("\u2212log10 p")
        title = title if title is not None else (column_label(endpoint) if endpoint else None)
        if title:
            ax.set_title(title)
        for attempt in range(4):  # too crowded: give the labels more room above and at the sides, and place again
            made, clear = _place_labels(
                ax,
                x[chosen],
                y[chosen],
                [column_label(n, labels=labels) for n in names[chosen]],
                np.column_stack([x, y]),
            )
            if clear or attempt == 3:
                break
            for t in made:
                t.remove()
            lo, hi = ax.get_xlim()
            ax.set_xlim(lo * 1.15, hi * 1.15)
            ax.set_ylim(0, ax.get_ylim()[1] * 1.2)
    return ax
