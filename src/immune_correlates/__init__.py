"""immune_correlates: do a patient's baseline T cells and NK cells predict who responds?

>>> import immune_correlates as ic
>>> cohort = ic.datasets.load_ofa_len()
>>> frame = ic.analysis_frame(cohort)

``ic.plots`` (matplotlib, seaborn) is imported on first use, so that fitting a model never
loads a plotting library.
"""

import importlib

from . import datasets
from .data import (
    DAYS_PER_MONTH,
    Cohort,
    FlowJoWorkspace,
    ImputedData,
    TrialDesign,
    derive_endpoints,
    read_cohort,
    read_flowjo_workspace,
)
from .design import power, power_curve
from .design.simulate_cohort import SimulatedTrial, simulate
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
    ParameterError,
    SeparationWarning,
    SingularFitWarning,
    SingularInformationWarning,
)
from .features import (
    FeatureSet,
    build_features,
    change_from_baseline,
    cycle_frame,
    derive_features,
    feature_catalogue,
    ics_functions,
    load_panel,
    longitudinal_frame,
    trajectory_slopes,
)
from .features.frame import analysis_frame
from .stats import (
    CoxResult,
    CumulativeIncidenceResult,
    FineGrayResult,
    GEEResult,
    GrayTestResult,
    KaplanMeierResult,
    LogisticResult,
    MetaAnalysisResult,
    MixedResult,
    PenalizedResult,
    PooledResult,
    SignatureValidation,
    StabilityResult,
    abundance_features,
    adjust_pvalues,
    binomial_ci,
    compare_groups,
    concordance_index,
    cumulative_incidence,
    detect_separation,
    differential_abundance,
    fit_cox,
    fit_fine_gray,
    fit_gee,
    fit_logistic,
    fit_mixed,
    fit_penalized,
    gray_test,
    impute,
    kaplan_meier,
    landmark,
    landmark_sweep,
    logrank_test,
    mantel_byar,
    meta_analysis,
    meta_analysis_by,
    optimal_cutpoint,
    ph_test,
    pool,
    screen,
    screen_populations,
    simon_makuch,
    split_at,
    stability_selection,
    table_one,
    time_varying,
    validate_signature,
)
from .stats.groups.trial_summary import trial_summary

__version__ = "0.1.0"

#: Subpackages imported on first access: plotting libraries load only when drawing (``ic.plots``),
#: scikit-learn only for its estimators (``ic.estimators``).
_LAZY = {"plots": ".plots", "estimators": ".estimators"}


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name], __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    # data
    "Cohort",
    "DAYS_PER_MONTH",
    "TrialDesign",
    "read_cohort",
    "derive_endpoints",
    "datasets",
    # features
    "FeatureSet",
    "build_features",
    "derive_features",
    "feature_catalogue",
    "load_panel",
    "analysis_frame",
    "FlowJoWorkspace",
    "read_flowjo_workspace",
    "ics_functions",
    # statistics
    "trial_summary",
    "fit_logistic",
    "LogisticResult",
    "detect_separation",
    "fit_cox",
    "CoxResult",
    "ph_test",
    "concordance_index",
    "kaplan_meier",
    "KaplanMeierResult",
    "logrank_test",
    "optimal_cutpoint",
    "split_at",
    "landmark",
    "landmark_sweep",
    "mantel_byar",
    "simon_makuch",
    "cumulative_incidence",
    "CumulativeIncidenceResult",
    "gray_test",
    "GrayTestResult",
    "fit_fine_gray",
    "FineGrayResult",
    "fit_mixed",
    "MixedResult",
    # repeated measures over time
    "longitudinal_frame",
    "change_from_baseline",
    "trajectory_slopes",
    "cycle_frame",
    "time_varying",
    "fit_gee",
    "GEEResult",
    "compare_groups",
    "binomial_ci",
    "table_one",
    "screen",
    "adjust_pvalues",
    # missing data and more than one trial
    "impute",
    "ImputedData",
    "pool",
    "PooledResult",
    "meta_analysis",
    "meta_analysis_by",
    "MetaAnalysisResult",
    # high-dimensional panels
    "differential_abundance",
    "abundance_features",
    "screen_populations",
    "fit_penalized",
    "PenalizedResult",
    "validate_signature",
    "SignatureValidation",
    "stability_selection",
    "StabilityResult",
    # design and simulation
    "simulate",
    "SimulatedTrial",
    "power",
    "power_curve",
    # plots
    "plots",
    # errors and warnings
    "ImmuneCorrelatesError",
    "InputError",
    "MissingDataError",
    "ModelError",
    "ConfigError",
    "ParameterError",
    "ImmuneCorrelatesWarning",
    "ConvergenceWarning",
    "DataQualityWarning",
    "MissingDataWarning",
    "MonotoneLikelihoodWarning",
    "SeparationWarning",
    "SingularFitWarning",
    "SingularInformationWarning",
]
