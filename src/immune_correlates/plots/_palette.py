"""The look of every figure: Okabe & Ito's colour-blind-safe palette, fixed response colours, sizes, :func:`house_style`.

The palette is Okabe & Ito's (2008) set of eight colours that stay distinguishable under the
common colour-vision deficiencies; the response groups keep fixed colours across a report
(:data:`RESPONSE_COLORS`), other groups take :data:`PALETTE` in order.  :data:`RC_PARAMS` are the
matplotlib settings that :func:`house_style` applies.  Which colour a group label gets is decided
in :mod:`._groups`; :mod:`._style` re-exports every name of this module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib as mpl

__all__ = ["OKABE_ITO", "RESPONSE_COLORS", "GREY", "PALETTE", "INK", "RC_PARAMS", "SMALL", "house_style"]


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


#: Fixed colours of the response groups and of common binary labels: in every figure of a
#: report, vermillion means "no response", orange "partial response", blue "response".
RESPONSE_COLORS = {
    "NR": OKABE_ITO["vermillion"],
    "PR": OKABE_ITO["orange"],
    "CR": OKABE_ITO["blue"],
}


#: Neutral grey for "not significant" and reference lines.
GREY = "#7F7F7F"


#: Colours of groups that are not response groups (a feature split at its median, a sex, an arm),
#: in the order groups receive them.  None of the response colours is among them, so one colour
#: keeps one meaning across the figures of a report.
PALETTE = [
    OKABE_ITO["bluish_green"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    GREY,
    "#8C510A",  # brown (ColorBrewer BrBG), distinct from the Okabe-Ito set under colour-vision deficiencies
    OKABE_ITO["yellow"],
]


#: Colour of estimates that belong to no group (forest plots, volcano points): black ink.
INK = "#222222"


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
    "pdf.fonttype": 42,  # TrueType in PDF (editable in Illustrator)
    "ps.fonttype": 42,
}


#: Font size of annotations (test results, at-risk numbers).
SMALL = 8.5


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Context manager applying :data:`RC_PARAMS` (restores the old settings after).

    Backend, interactive mode and every other rcParam are as before on exit
    (interactive mode as the body left it: loading the notebook backend
    inside the context switches it on, as it would outside).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> with house_style():
    ...     fig, ax = plt.subplots()
    >>> plt.close(fig)
    """
    # matplotlib's rc_context puts every rcParam back on exit, "interactive" included.  When the
    # first figure of a Jupyter session is made inside it, IPython loads the inline backend and
    # switches interactive mode on; resetting it then would stop every later figure from
    # displaying.  So the interactive state the body leaves is kept, everything else restored.
    state = {}
    try:
        with mpl.rc_context(RC_PARAMS):
            try:
                yield
            finally:
                state["interactive"] = mpl.is_interactive()
    finally:
        if "interactive" in state and mpl.is_interactive() != state["interactive"]:
            mpl.interactive(state["interactive"])
