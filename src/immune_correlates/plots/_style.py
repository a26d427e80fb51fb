"""The house style: the one import of every plot for palette, group colours, axes, p-value text and export.

Every plot in :mod:`immune_correlates.plots` draws with :func:`house_style`
active and colours groups with :func:`group_colors`, so a report's figures
look alike.  The palette, sizes and :func:`house_style` live in :mod:`._palette`,
what a group label says about response (order, pair, colour) in :mod:`._groups`;
both are re-exported here.  This module holds the axes (new axes, log ticks,
spines), the text of labels and p-values, survival step curves and
:func:`save_figure`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .._numbers import p_phrase
from .._params import (
    POSITIVE,
    Instance,
    ListLike,
    check_params,
)
from ..errors import ImmuneCorrelatesError
from ._groups import RESPONSE_ORDER, default_pair, group_colors, order_groups, response_role
from ._palette import GREY, INK, OKABE_ITO, PALETTE, RC_PARAMS, RESPONSE_COLORS, SMALL, house_style

__all__ = [
    "text_columns",
    "renderer_of",
    "OKABE_ITO",
    "PALETTE",
    "RESPONSE_COLORS",
    "RC_PARAMS",
    "house_style",
    "group_colors",
    "format_p",
    "save_figure",
    "new_axes",
    "plain_log_axis",
    "order_groups",
    "nice_log_ticks",
    "despine",
    "response_role",
    "default_pair",
    "wrap_label",
    "difference_text",
    "INK",
    "curve_until_nobody_at_risk",
    "GREY",
    "SMALL",
    "RESPONSE_ORDER",
]


def curve_until_nobody_at_risk(t: np.ndarray, y: np.ndarray, last: float) -> tuple[np.ndarray, np.ndarray]:
    """A survival step curve drawn only while someone is at risk.

    Flat to ``last`` (the group's last follow-up) when it ends above 0; cut at
    the time it reaches 0 (nobody left at risk), never run on at 0.

    Examples
    --------
    >>> curve_until_nobody_at_risk(np.array([0, 2, 5.0]), np.array([1, 0.5, 0.0]), 67.0)
    (array([0., 2., 5.]), array([1. , 0.5, 0. ]))
    >>> curve_until_nobody_at_risk(np.array([0, 2.0]), np.array([1, 0.5]), 9.0)
    (array([0., 2., 9.]), array([1. , 0.5, 0.5]))
    """
    t, y = np.asarray(t, dtype=float), np.asarray(y, dtype=float)
    zero = np.flatnonzero(y <= 0)
    if zero.size:
        return t[: zero[0] + 1], y[: zero[0] + 1]
    if t.size and last > t[-1]:
        return np.r_[t, last], np.r_[y, y[-1]]
    return t, y


def wrap_label(text, width: int = 14) -> str:
    """Break a long label into lines of at most ``width`` characters (words kept whole when possible)."""
    import textwrap

    text = str(text)
    if len(text) <= width:
        return text
    # whole words only: "Non-responder" is never cut into "Non-respo / nder"
    return "\n".join(textwrap.wrap(text, width=width, break_on_hyphens=False, break_long_words=False)) or text


def difference_text(first, second) -> str:
    """``"Responder − Non-responder"``: the direction of a two-group effect."""
    return f"{first} \u2212 {second}"


def format_p(p: float, name: str = "p") -> str:
    """``"p = 0.032"``, ``"p < 0.001"``: the report's p-values (:func:`immune_correlates._numbers.p_phrase`).

    ``"p = NA"`` for NaN.
    """
    if p is None or not np.isfinite(p):
        return f"{name} = NA"
    return p_phrase(p, name)


def new_axes(ax=None, figsize=(4.0, 3.5)):
    """``ax`` itself, or a new figure's single Axes drawn in the house style."""
    if ax is not None:
        despine(ax)
        return ax
    with house_style():
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


#: Mantissa sets for log-axis ticks, coarsest first.
_LOG_SUBS = (
    (1.0,),
    (1.0, 2.0, 5.0),
    (1.0, 2.0, 3.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)


def nice_log_ticks(lo: float, hi: float, min_ticks: int = 4, max_ticks: int = 9) -> np.ndarray:
    """Round tick values in ``[lo, hi]`` for a log axis (1-2-5 series, finer for narrow ranges).

    The coarsest of 1; 1-2-5; 1-2-3-5; 1-1.5-2-3-5-7; 1..9 (times powers of
    ten) that puts at least ``min_ticks`` ticks in the range; if even the
    finest has fewer than three, evenly spaced round values; if the coarsest
    has too many, every ``k``-th decade.
    """
    lo, hi = min(lo, hi), max(lo, hi)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo <= 0:
        return np.array([])
    decades = np.arange(np.floor(np.log10(lo)) - 1, np.ceil(np.log10(hi)) + 1)
    eps = 1e-9
    prev = ticks = np.array([])
    for subs in _LOG_SUBS:
        ticks = np.array([m * 10.0**d for d in decades for m in subs])
        ticks = ticks[(ticks >= lo * (1 - eps)) & (ticks <= hi * (1 + eps))]
        if ticks.size > max_ticks and subs == _LOG_SUBS[0]:
            return ticks[:: int(np.ceil(ticks.size / max_ticks))]
        if ticks.size >= min_ticks:
            return ticks if ticks.size <= max_ticks else prev
        prev = ticks
    if ticks.size >= 3:
        return ticks
    from matplotlib import (
        ticker,  # a narrow range (e.g. 1.01-1.08): evenly spaced round values
    )

    linear = ticker.MaxNLocator(nbins=5, steps=[1, 2, 5, 10]).tick_values(lo, hi)
    return linear[(linear > 0) & (linear >= lo * (1 - eps)) & (linear <= hi * (1 + eps))]


def plain_log_axis(axis, lo: float | None = None, hi: float | None = None) -> None:
    """Log axis with round ticks (:func:`nice_log_ticks`) written as plain numbers (not 2x10^2)."""
    from matplotlib import ticker

    if lo is None or hi is None:
        lo, hi = axis.get_view_interval()
    ticks = nice_log_ticks(lo, hi)
    if ticks.size:
        axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def despine(ax, left: bool = False) -> None:
    """House style on any Axes (also one made outside :func:`house_style`): no top/right spines."""
    ax.spines[["top", "right"]].set_visible(False)
    if left:
        ax.spines["left"].set_visible(False)


_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "tif", "tiff", "eps", "ps")
#: Formats :func:`save_figure` writes.
FIGURE_FORMATS = _FORMATS


@check_params(
    formats=(Instance(str, name="a format name"), ListLike("a list of formats")),
    dpi=POSITIVE,
)
def save_figure(fig, path, *, formats: Iterable[str] = ("png", "pdf"), dpi: int = 300) -> list[Path]:
    """Write a figure in several formats next to each other, ready for a journal.

    PNG (and other raster formats) at ``dpi`` (300 by default, what journals
    ask for); PDF and EPS with embedded TrueType (Type 42) fonts; SVG with
    text kept as text.  These font settings hold only while saving.

    Parameters
    ----------
    fig : matplotlib Figure (or an Axes, whose figure is saved)
    path : str or Path
        Path without extension (``figures/km_pfs``); parent folders are made.
        An extension given here is replaced.
    formats : iterable of str
        File types, e.g. ``("png", "svg", "pdf")``.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile, pathlib
    >>> fig, ax = plt.subplots()
    >>> with tempfile.TemporaryDirectory() as d:
    ...     [p.name for p in save_figure(fig, pathlib.Path(d) / "fig", formats=("png",))]
    ['fig.png']
    >>> plt.close(fig)
    """
    formats = [f.lower().lstrip(".") for f in ([formats] if isinstance(formats, str) else formats)]
    unknown = [f for f in formats if f not in _FORMATS]
    if unknown or not formats:
        raise ImmuneCorrelatesError(f"save_figure: unknown format(s) {unknown or formats}; use some of {_FORMATS}.")
    fig = getattr(fig, "figure", fig) if not isinstance(fig, mpl.figure.Figure) else fig
    stem = Path(path)
    if stem.suffix.lstrip(".").lower() in _FORMATS:
        stem = stem.with_suffix("")
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with house_style():
        for f in formats:
            path = stem.with_name(f"{stem.name}.{f}")
            fig.savefig(path, format=f, dpi=dpi)
            written.append(path)
    return written


def text_columns(ax, columns, y, *, gid: str, bold_at: float | None = None) -> None:
    """Columns of text to the right of the axes, aligned with rows at ``y`` (a forest plot's table).

    ``columns`` holds ``(header, texts, width in points)``; headers are bold above the axes, the texts
    sit at their rows (``gid`` ``"<gid>_header"`` and ``"<gid>_value"``), the row at ``bold_at`` in bold.
    A column wider than its ``width`` (measured with the renderer) pushes the next one right.
    """
    renderer = renderer_of(ax.figure)
    x = 10.0
    for head, texts, width in columns:
        made = [
            ax.annotate(
                head,
                xy=(1.0, 1.0),
                xycoords="axes fraction",
                xytext=(x, 4),
                textcoords="offset points",
                va="bottom",
                ha="left",
                fontsize=SMALL,
                fontweight="bold",
                gid=f"{gid}_header",
            )
        ]
        for yi, text in zip(y, texts):
            made.append(
                ax.annotate(
                    text,
                    xy=(1.0, yi),
                    xycoords=("axes fraction", "data"),
                    xytext=(x, 0),
                    textcoords="offset points",
                    va="center",
                    ha="left",
                    fontsize=SMALL,
                    gid=f"{gid}_value",
                    fontweight="bold" if bold_at is not None and yi == bold_at else "normal",
                )
            )
        widest = max(t.get_window_extent(renderer).width for t in made) * 72.0 / ax.figure.dpi
        x += max(width, widest + 8.0)


def renderer_of(fig):
    """The renderer that measures ``fig``'s texts, whatever the backend.

    Agg-based canvases (inline, the report's PNGs) have ``get_renderer``; the vector ones
    (``MPLBACKEND=pdf`` or ``svg``) do not, and matplotlib makes one for them.
    """
    get = getattr(fig.canvas, "get_renderer", None)
    return get() if get is not None else fig._get_renderer()
