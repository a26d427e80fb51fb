"""The house style: colour-blind-safe palette, readable sizes, p-value text, export.

Every plot in :mod:`immune_correlates.plots` draws with :func:`house_style`
active and colours groups with :func:`group_colors`, so a report's figures
look alike.  The palette is Okabe & Ito's (2008) set of eight colours that
stay distinguishable under the common colour-vision deficiencies.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from ..errors import ImmuneCorrelatesError

__all__ = [
    "OKABE_ITO", "PALETTE", "RESPONSE_COLORS", "RC_PARAMS", "house_style", "group_colors",
    "format_p", "save_figure", "new_axes", "plain_log_axis",
]

#: Okabe & Ito (2008) colour-blind-safe colours, by name.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Colours in the order groups receive them (yellow last: weak on white).
PALETTE = [OKABE_ITO[k] for k in ("blue", "vermillion", "bluish_green", "reddish_purple", "orange",
                                    "sky_blue", "black", "yellow")]

#: Fixed colours of the response groups and of common binary labels.
RESPONSE_COLORS = {
    "NR": OKABE_ITO["vermillion"],
    "PR": OKABE_ITO["orange"],
    "CR": OKABE_ITO["blue"],
}

#: Neutral grey for "not significant" and reference lines.
GREY = "#7F7F7F"

#: Matplotlib settings of the house style: readable at journal column width.
RC_PARAMS = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.6,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text in SVG
    "pdf.fonttype": 42,      # TrueType in PDF (editable in Illustrator)
    "ps.fonttype": 42,
}

#: Font size of annotations (test results, at-risk numbers).
SMALL = 8.5


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Context manager applying :data:`RC_PARAMS` (restores the old settings after).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with house_style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    with mpl.rc_context(RC_PARAMS):
        yield


def group_colors(levels: Sequence, colors: Mapping | Sequence | None = None) -> dict:
    """Colour of each group label.

    Response groups (``NR``, ``PR``, ``CR``) always get the same colours, and
    0/1 outcomes take NR's colour for 0 and CR's for 1; other labels take :data:`PALETTE` in order.  ``colors`` overrides: a mapping
    label -> colour or a list in the order of ``levels``.
    """
    levels = list(levels)
    if colors is not None:
        if isinstance(colors, Mapping):
            missing = [g for g in levels if g not in colors]
            if missing:
                raise ImmuneCorrelatesError(f"colors: no colour given for group(s) {missing}; groups: {levels}.")
            return {g: colors[g] for g in levels}
        colors = list(colors)
        if len(colors) < len(levels):
            raise ImmuneCorrelatesError(f"colors: {len(colors)} colour(s) for {len(levels)} groups {levels}.")
        return dict(zip(levels, colors))
    if levels and all(str(g) in RESPONSE_COLORS for g in levels):
        return {g: RESPONSE_COLORS[str(g)] for g in levels}
    if len(levels) == 2 and set(levels) <= {0, 1}:  # 0/1 outcomes (cr, responder): 1 like CR
        return {g: RESPONSE_COLORS["CR"] if g == 1 else RESPONSE_COLORS["NR"] for g in levels}
    return {g: PALETTE[i % len(PALETTE)] for i, g in enumerate(levels)}


def format_p(p: float, name: str = "p") -> str:
    """``"p = 0.032"``, ``"p < 0.001"``, two significant digits; ``"p = NA"`` for NaN."""
    if p is None or not np.isfinite(p):
        return f"{name} = NA"
    if p < 0.001:
        return f"{name} < 0.001"
    return f"{name} = {p:.2g}"


def new_axes(ax=None, figsize=(4.0, 3.5)):
    """``ax`` itself, or a new figure's single Axes drawn in the house style."""
    if ax is not None:
        return ax
    with house_style():
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plain_log_axis(axis) -> None:
    """Log scale labelled 1, 2, 5, 10, 20, ... in plain numbers (not 2x10^2)."""
    from matplotlib import ticker

    axis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "tif", "tiff", "eps", "ps")


def save_figure(fig, path_stem, formats: Iterable[str] = ("png", "svg", "pdf"), dpi: int = 300) -> list[Path]:
    """Write a figure in several formats next to each other.

    Parameters
    ----------
    fig : matplotlib Figure (or an Axes, whose figure is saved)
    path_stem : str or Path
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
    stem = Path(path_stem)
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
