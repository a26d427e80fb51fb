"""immune_correlates: do a patient's baseline T cells and NK cells predict who responds?

>>> import immune_correlates as ic
>>> cohort = ic.datasets.load_ofa_len()
>>> frame = ic.analysis_frame(cohort)
"""

from . import datasets, plots
from .data import (
    DAYS_PER_MONTH,
    Cohort,
    TrialDesign,
    derive_endpoints,
    read_cohort,
)
from .design import power, power_curve
from .design.simulate_cohort import SimulatedTrial, simulate
from .features.frame import analysis_frame
from .stats.trial_summary import trial_summary
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
    ParameterError,
    SingularInformationWarning,
)
from .features import (
    FeatureSet,
    FlowJoWorkspace,
    build_features,
    derive_features,
    feature_catalogue,
    load_panel,
    ics_functions,
    read_flowjo_workspace,
)
from .stats import (
    CoxResult,
    KaplanMeierResult,
    LogisticResult,
    adjust_pvalues,
    binomial_ci,
    compare_groups,
    concordance_index,
    detect_separation,
    fit_cox,
    fit_logistic,
    kaplan_meier,
    landmark,
    landmark_sweep,
    logrank_test,
    mantel_byar,
    optimal_cutpoint,
    ph_test,
    screen,
    table_one,
    simon_makuch,
    split_at,
)
from .stats.competing_risks import CumulativeIncidenceResult, cumulative_incidence
from .stats.fine_gray import FineGrayResult, fit_fine_gray
from .stats.gray_test import GrayTestResult, gray_test

__version__ = "0.1.0"

__all__ = [
    "datasets", "plots", "Cohort", "SimulatedTrial", "TrialDesign", "DAYS_PER_MONTH", "analysis_frame", "derive_endpoints",
    "read_cohort", "simulate", "trial_summary",
    "FeatureSet", "build_features", "derive_features", "feature_catalogue", "load_panel",
    "FlowJoWorkspace", "read_flowjo_workspace", "ics_functions",
    "CoxResult", "KaplanMeierResult", "LogisticResult", "adjust_pvalues", "binomial_ci", "compare_groups",
    "concordance_index", "detect_separation", "fit_cox", "fit_logistic", "kaplan_meier", "logrank_test",
    "optimal_cutpoint", "ph_test", "power", "power_curve", "screen",
    "ConfigError", "ConvergenceWarning", "DataQualityWarning", "ImmuneCorrelatesError", "ImmuneCorrelatesWarning",
    "InputError", "MissingDataError", "MissingDataWarning", "ModelError", "MonotoneLikelihoodWarning",
    "SeparationWarning",
    "table_one",
    "ParameterError", "SingularInformationWarning",
]
__all__ += ["CumulativeIncidenceResult", "FineGrayResult", "GrayTestResult", "cumulative_incidence", "fit_fine_gray",
            "gray_test"]
__all__ += ["landmark", "landmark_sweep", "mantel_byar", "simon_makuch", "split_at"]
