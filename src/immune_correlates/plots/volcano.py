"""Volcano plot of a feature screen: effect against -log10 p with the FDR threshold."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .._params import ALPHA, AXES, FLAG, MAPPING, TEXT, Interval, ListLike, Options, check_params
from ..errors import ImmuneCorrelatesError
from ..features.labels import column_label
from ._style import GREY, INK, SMALL, house_style, new_axes, renderer_of

__all__ = ["volcano", "fdr_threshold", "effect_axis_label"]

EFFECT_COLUMNS = {
    "estimate": "Log ratio per unit",
    "rank_biserial": "Rank-biserial r",
    "hodges_lehmann": "Hodges-Lehmann difference",
}


@check_params(
    fdr=ALPHA,
)
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
_RADII = (2.5, 5.0, 8.0, 11.0)
_ANGLES = np.deg2rad((0, 180, 30, 150, -30, -150, 90, -90, 60, 120, -60, -120))
_KEY_ANGLES = np.deg2rad(np.arange(0, 360, 15))


def _box(x0, y0, w, h, dx, dy):
    """Box (x0, y0, x1, y1) of a w x h label whose anchor side faces the direction (dx, dy) from (x0, y0)."""
    left = x0 + dx if dx > 0.3 else (x0 + dx - w if dx < -0.3 else x0 + dx - w / 2)
    bottom = y0 + dy if dy > 0.3 else (y0 + dy - h if dy < -0.3 else y0 + dy - h / 2)
    return np.array([left, bottom, left + w, bottom + h])


def box_distances(box: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Distance from a box (x0, y0, x1, y1) to each point (0 inside), in the points' units."""
    dx = np.maximum.reduce([box[0] - points[:, 0], np.zeros(len(points)), points[:, 0] - box[2]])
    dy = np.maximum.reduce([box[1] - points[:, 1], np.zeros(len(points)), points[:, 1] - box[3]])
    return np.hypot(dx, dy)


def _obstacles(ax, renderer, px: float) -> list:
    """Boxes a label must not cover: the reference lines and the texts already drawn."""
    out = []
    for line in ax.lines:
        if line.get_gid() in ("fdr_threshold", "zero_line"):
            bb = line.get_window_extent(renderer)
            out.append(np.array([bb.x0 - 1.5 * px, bb.y0 - 1.5 * px, bb.x1 + 1.5 * px, bb.y1 + 1.5 * px]))
    return out + [np.array(t.get_window_extent(renderer).extents) for t in ax.texts if t.get_text()]


def _spot(anchor, others, own: int, size, frame, taken, px, *, best_effort: bool = False):
    """The nearest free spot for a w x h text by its point, closer to it than to any other point.

    None when there is none; with ``best_effort`` (a key number) the free spot
    with the widest margin between its own point and the nearest other one.
    """
    w, h = size
    radii, angles = (_RADII + (14.0,), _KEY_ANGLES) if best_effort else (_RADII, _ANGLES)
    best, best_margin = None, -np.inf
    for r in radii:
        for a in angles:
            dx, dy = r * px * np.cos(a), r * px * np.sin(a)
            box = _box(*anchor, w, h, dx, dy)
            if box[0] < frame.x0 or box[2] > frame.x1 or box[1] < frame.y0 or box[3] > frame.y1:
                continue
            if len(taken) and _overlaps(box, np.array(taken)).any():
                continue
            d = box_distances(box, others)
            margin = np.delete(d, own).min(initial=np.inf) - 1.25 * d[own]  # clearly nearer its own point
            if margin > px:
                return dx, dy
            if margin > best_margin:
                best, best_margin = (dx, dy), margin
    return best if best_effort else None


def _overlaps(box, boxes) -> np.ndarray:
    return (box[0] < boxes[:, 2]) & (box[2] > boxes[:, 0]) & (box[1] < boxes[:, 3]) & (box[3] > boxes[:, 1])


def _settle(ax) -> None:
    """Draw until a layout engine stops moving the axes (labels are placed in display units)."""
    for _ in range(3):
        before = ax.get_position().bounds
        ax.figure.canvas.draw()
        if np.allclose(before, ax.get_position().bounds, atol=1e-4):
            break


def _text_size(ax, text, renderer, px):
    probe = ax.text(0, 0, text, fontsize=SMALL)
    bb = probe.get_window_extent(renderer)
    probe.remove()
    return bb.width + 2 * px, bb.height + px


def _place_labels(ax, chosen: np.ndarray, points: np.ndarray, texts: list[str]) -> tuple[list, list]:
    """Name each chosen point by a label nearer to it than to any other point, or by a numbered key.

    Most significant first, each label takes the nearest free spot (off the
    other labels, the reference lines and the axes' edge) from which its own
    point is the nearest; no leader lines.  Where no such spot exists, a
    number takes its place and ``"number  name"`` joins the key beside the
    plot, so a label asked for is never dropped.  Returns the annotations and
    the key entries.
    """
    if not len(chosen):
        return [], []
    _settle(ax)
    renderer = renderer_of(ax.figure)
    px = ax.figure.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    anchors = ax.transData.transform(points)
    taken = _obstacles(ax, renderer, px) + [np.r_[p - 3.5 * px, p + 3.5 * px] for p in anchors]
    made, key = [], []
    for i, text in zip(chosen, texts):
        size = _text_size(ax, text, renderer, px)
        spot = _spot(anchors[i], anchors, i, size, frame, taken, px)
        if spot is None:
            text = str(len(key) + 1)
            size = _text_size(ax, text, renderer, px)
            spot = _spot(anchors[i], anchors, i, size, frame, taken, px, best_effort=True) or (3 * px, 3 * px)
            key.append(f"{text}  {texts[list(chosen).index(i)]}")
        dx, dy = spot
        taken.append(_box(*anchors[i], *size, dx, dy))
        made.append(
            ax.annotate(
                text,
                xy=tuple(points[i]),
                xytext=(dx / px, dy / px),
                textcoords="offset points",
                fontsize=SMALL,
                ha="left" if dx > 0.3 else ("right" if dx < -0.3 else "center"),
                va="bottom" if dy > 0.3 else ("top" if dy < -0.3 else "center"),
                gid="volcano_label" if not text.isdigit() else "volcano_key_number",
            )
        )
        made[-1].set_in_layout(False)  # inside the axes; a layout pass must not move the axes under it
    return made, key


def _label_points(ax, chosen, points, texts) -> None:
    """Place the names, and the key of numbered ones beside the plot; the key is drawn before the
    final placement, so the layout that makes room for it does not move the points under the names."""
    key_text = None
    for attempt in range(4):
        made, key = _place_labels(ax, chosen, points, texts)
        wanted = "\n".join(key)
        current = key_text.get_text() if key_text is not None else ""
        if wanted == current:
            return
        if attempt == 3:  # layout still moving: keep these names and state their key as it is now
            if key_text is not None:
                key_text.set_text(wanted)
            return
        for t in made:
            t.remove()
        if key_text is not None:
            key_text.remove()
        key_text = (
            ax.text(1.03, 1.0, wanted, transform=ax.transAxes, ha="left", va="top", fontsize=SMALL, gid="volcano_key")
            if wanted
            else None
        )


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


#: ``annotate=`` of the volcano plots: "auto", None, on/off, how many, or which features to name.
ANNOTATE = (Options("auto", None), FLAG, Interval(0, None, integer=True), ListLike("a list of feature names"))


@check_params(
    ax=AXES,
    fdr=ALPHA,
    annotate=ANNOTATE,
    labels=MAPPING,
    endpoint=TEXT,
    per=TEXT,
    xlabel=TEXT,
    title=TEXT,
)
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
    Each name sits by its point, nearer to it than to any other point, off
    the other names and the reference lines, without leader lines; where no
    such spot exists the point gets a number and the name is listed with it
    beside the plot (text gid ``"volcano_key"``), so no name asked for is
    dropped.  The threshold follows Benjamini & Hochberg (1995) through
    :func:`fdr_threshold`.

    Returns
    -------
    matplotlib Axes
        Points are the collection with gid ``"volcano_points"`` (offsets =
        effect, -log10 p, in the rows' order after dropping missing p); the
        threshold is the line ``"fdr_threshold"``; names are annotations
        ``"volcano_label"``, numbers by points ``"volcano_key_number"``.

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
        colors = np.where(sig, INK, GREY).tolist()
        ax.scatter(
            x, y, s=np.where(sig, 40, 24), c=colors, edgecolor="white", linewidth=0.5, zorder=3, gid="volcano_points"
        )
        ax.axhline(-np.log10(cut), color=GREY, linestyle="--", linewidth=1.0, gid="fdr_threshold")
        ax.axvline(0.0, color=GREY, linestyle=":", linewidth=0.8, zorder=1, gid="zero_line")
        note = f"FDR {100 * fdr:g}%" + ("" if any_pass else " (none pass)")
        ax.annotate(
            note,
            xy=(0.0, -np.log10(cut)),
            xycoords=("axes fraction", "data"),
            xytext=(2, 2),
            textcoords="offset points",
            ha="left",
            va="bottom",
            fontsize=SMALL,
            color=GREY,
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
        texts = [column_label(n, labels=labels) for n in names[chosen]]
        _label_points(ax, chosen, np.column_stack([x, y]), texts)
    return ax
