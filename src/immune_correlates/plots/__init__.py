"""Association plots in one house style: every function takes ``data=`` and column names.

Axes-level functions accept ``ax=`` and return the matplotlib Axes;
:func:`response_panel` is figure-level and returns the Figure.

>>> import immune_correlates as ic
>>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
>>> ax = ic.plots.kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group")  # doctest: +SKIP
"""

from ._style import (
    OKABE_ITO,
    PALETTE,
    RESPONSE_COLORS,
    format_p,
    group_colors,
    house_style,
    save_figure,
)
from .abundance import abundance_heatmap, abundance_volcano
from .cumulative_incidence import cumulative_incidence
from .forest import forest, forest_table
from .heatmap import correlation_heatmap, correlation_order
from .imputation import imputation_traces, observed_vs_imputed
from .penalized import penalized_path, stability
from .power import plot_power
from .response import response_boxplot, response_panel
from .roc import roc
from .simon_makuch import simon_makuch
from .survival import at_risk_counts, at_risk_table, kaplan_meier
from .swimmer import swimmer
from .trajectories import trajectories
from .volcano import fdr_threshold, volcano

__all__ = [
    "response_boxplot",
    "response_panel",
    "forest",
    "forest_table",
    "kaplan_meier",
    "at_risk_table",
    "at_risk_counts",
    "volcano",
    "fdr_threshold",
    "roc",
    "correlation_heatmap",
    "correlation_order",
    "plot_power",
    "save_figure",
    "house_style",
    "group_colors",
    "format_p",
    "OKABE_ITO",
    "PALETTE",
    "RESPONSE_COLORS",
    "swimmer",
    "imputation_traces",
    "observed_vs_imputed",
]
__all__ += ["cumulative_incidence"]
__all__ += ["simon_makuch"]
__all__ += ["trajectories"]
__all__ += ["abundance_volcano", "abundance_heatmap", "penalized_path", "stability"]
