"""immune_correlates: do a patient's baseline T cells and NK cells predict who responds?

>>> import immune_correlates as ic
>>> cohort = ic.datasets.load_ofa_len()
>>> frame = ic.analysis_frame(cohort)
"""

from . import datasets
from .data import (
    DAYS_PER_MONTH,
    Cohort,
    SimulatedTrial,
    TrialDesign,
    analysis_frame,
    derive_endpoints,
    read_cohort,
    simulate,
    trial_summary,
)
from .errors import (
    ConfigError,
    ConvergenceWarning,
    DataQualityWarning,
    ImmuneCorrelatesError,
    ImmuneCorrelatesWarning,
    InputError,
    MissingDataError,
    MissingDataWarning,
    ModelError,
    MonotoneLikelihoodWarning,
    SeparationWarning,
)

__version__ = "0.1.0"

__all__ = [
    "datasets", "Cohort", "SimulatedTrial", "TrialDesign", "DAYS_PER_MONTH", "analysis_frame", "derive_endpoints",
    "read_cohort", "simulate", "trial_summary",
    "ConfigError", "ConvergenceWarning", "DataQualityWarning", "ImmuneCorrelatesError", "ImmuneCorrelatesWarning",
    "InputError", "MissingDataError", "MissingDataWarning", "ModelError", "MonotoneLikelihoodWarning",
    "SeparationWarning",
]
