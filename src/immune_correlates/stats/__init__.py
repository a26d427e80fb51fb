"""Estimators: models, tests, curves, screens and resampling, each checked against R.

The folder is grouped by family (bottom to top; a family imports only from those below it,
pinned by ``tests/api/test_layers.py``):

- :mod:`.engine`: shared numerics (covariance policy, profile likelihood, the Newton loop,
  separation, AUC) and the batched solvers; no user-facing estimator.
- :mod:`.regression`: :func:`fit_logistic`, :func:`fit_cox`, :func:`ph_test`,
  :func:`concordance_index`, the design-matrix (formula) layer.
- :mod:`.longitudinal`: repeated measures of one patient: :func:`fit_mixed` (linear mixed models
  as lme4, with lmerTest's and pbkrtest's small-sample tests), the batched mixed-model screen, and
  :func:`fit_gee` (marginal models of per-cycle outcomes, as geepack).
- :mod:`.survival`: :func:`kaplan_meier`, :func:`logrank_test`, :func:`optimal_cutpoint`,
  counting-process data and response over time, competing risks and Fine-Gray.
- :mod:`.groups`: :func:`compare_groups` and the rank tests, exact proportions,
  :func:`table_one`, :func:`roc_curve`, the trial summary.
- :mod:`.missing`: :func:`impute` (multiple imputation by chained equations), :func:`pool`
  (Rubin's rules), :func:`meta_analysis` and :func:`meta_analysis_by` (pooling trials).
- :mod:`.screening`: :func:`screen`, the bootstrap, optimism correction and permutation tests.
- :mod:`.highdim`: :func:`differential_abundance` of cell populations, :func:`fit_penalized`
  (elastic net as glmnet), signature validation and stability selection.

See ``docs/validation.md`` for the R reference of every estimator.
"""

from ..multiplicity import adjust_pvalues
from .engine.separation import SeparationResult, separation_from_arrays
from .groups.compare import compare_groups
from .groups.proportions import binomial_ci, fisher_exact
from .groups.rank_tests import jonckheere_terpstra, kruskal_wallis, wilcoxon_rank_sum
from .groups.roc import RocResult, roc_curve
from .groups.table_one import table_one
from .highdim import (
    PenalizedResult,
    SignatureValidation,
    StabilityResult,
    abundance_features,
    differential_abundance,
    fit_penalized,
    screen_populations,
    stability_selection,
    validate_signature,
)
from .longitudinal import MixedResult, fit_mixed
from .longitudinal.gee import GEEResult, fit_gee
from .missing import MetaAnalysisResult, PooledResult, impute, meta_analysis, meta_analysis_by, pool
from .regression.concordance import ConcordanceResult, concordance_index
from .regression.cox import CoxResult, fit_cox
from .regression.logistic import LogisticResult, detect_separation, fit_logistic
from .regression.ph_test import PHTestResult, ph_test
from .screening.resampling import (
    bca_interval,
    bootstrap_discrimination,
    maxt_stepdown,
    optimism_corrected,
    percentile_interval,
    permutation_test,
)
from .screening.screen import screen
from .survival.competing_risks import CumulativeIncidenceResult, cumulative_incidence
from .survival.cutpoint import CutpointResult, optimal_cutpoint
from .survival.fine_gray import FineGrayResult, fit_fine_gray
from .survival.gray_test import GrayTestResult, gray_test
from .survival.kaplan_meier import KaplanMeierResult, kaplan_meier
from .survival.logrank import LogrankResult, logrank_test
from .survival.mantel_byar import MantelByarResult, mantel_byar, simon_makuch
from .survival.time_dependent import landmark, landmark_sweep, split_at
from .survival.time_varying import time_varying

__all__ = [
    # regression
    "fit_logistic",
    "LogisticResult",
    "detect_separation",
    "SeparationResult",
    "separation_from_arrays",
    "fit_cox",
    "CoxResult",
    "ph_test",
    "PHTestResult",
    "concordance_index",
    "ConcordanceResult",
    # repeated measures
    "fit_mixed",
    "MixedResult",
    # longitudinal
    "fit_gee",
    "GEEResult",
    # survival
    "kaplan_meier",
    "KaplanMeierResult",
    "logrank_test",
    "LogrankResult",
    "optimal_cutpoint",
    "CutpointResult",
    "split_at",
    "time_varying",
    "landmark",
    "landmark_sweep",
    "mantel_byar",
    "simon_makuch",
    "MantelByarResult",
    "cumulative_incidence",
    "CumulativeIncidenceResult",
    "gray_test",
    "GrayTestResult",
    "fit_fine_gray",
    "FineGrayResult",
    # groups
    "compare_groups",
    "wilcoxon_rank_sum",
    "kruskal_wallis",
    "jonckheere_terpstra",
    "binomial_ci",
    "fisher_exact",
    "table_one",
    "roc_curve",
    "RocResult",
    # missing data and more than one trial
    "impute",
    "pool",
    "PooledResult",
    "meta_analysis",
    "meta_analysis_by",
    "MetaAnalysisResult",
    # many features, resampling, multiplicity
    "screen",
    "adjust_pvalues",
    "bca_interval",
    "bootstrap_discrimination",
    "maxt_stepdown",
    "optimism_corrected",
    "percentile_interval",
    "permutation_test",
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
]
