"""Immune features: population frequencies, absolute counts, function scores, composites.

The entry points are :func:`derive_features` (a DataFrame of features, one
row per patient) and :func:`build_features` (a :class:`FeatureSet` that also
says how each value was obtained, its quality and why values are missing).
Panels are data: :func:`load_panel` reads a TOML file or a dict.
"""

from ..data.flowjo import read_flowjo
from ..data.flowjo_workspace import FlowJoWorkspace, read_flowjo_workspace
from .build import FeatureSet, build_features, derive_features
from .catalogue import feature_catalogue
from .composite import composite_score
from .counts import bead_count, dual_platform_count
from .cycles import cycle_frame
from .function import background_subtract
from .ics import IcsResult, ics_functions
from .labels import axis_label, column_label, column_unit
from .longitudinal import longitudinal_frame
from .lysis import lysis_auc, lytic_units, parse_et_ratio
from .panel import FeatureSpec, Panel, default_panel, load_panel
from .populations import population_frequencies
from .quality import poisson_cv
from .trajectories import change_from_baseline, trajectory_slopes
from .transforms import SplitGroups, dichotomise, log2_features, log2_transform, scale_per_sd, split_groups

__all__ = [
    "axis_label",
    "column_label",
    "column_unit",
    "FeatureSet",
    "FlowJoWorkspace",
    "IcsResult",
    "FeatureSpec",
    "Panel",
    "background_subtract",
    "bead_count",
    "build_features",
    "change_from_baseline",
    "cycle_frame",
    "composite_score",
    "default_panel",
    "derive_features",
    "dichotomise",
    "dual_platform_count",
    "feature_catalogue",
    "ics_functions",
    "load_panel",
    "longitudinal_frame",
    "log2_features",
    "log2_transform",
    "lysis_auc",
    "lytic_units",
    "parse_et_ratio",
    "poisson_cv",
    "population_frequencies",
    "read_flowjo",
    "read_flowjo_workspace",
    "scale_per_sd",
    "split_groups",
    "SplitGroups",
    "trajectory_slopes",
]
