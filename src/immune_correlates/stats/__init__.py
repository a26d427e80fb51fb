"""Statistical models and tests, each checked against R (see docs/validation.md).

Regression: :func:`fit_logistic` (ML, Firth), :func:`fit_cox` (ML, Firth;
Efron/Breslow ties, strata, robust variance), :func:`ph_test`,
:func:`concordance_index`, :func:`detect_separation`.  Survival curves:
:func:`kaplan_meier`, :func:`logrank_test`, :func:`optimal_cutpoint`.  Group
comparisons: :func:`compare_groups` and the rank tests behind it.
"""

from .compare import compare_groups
from .competing_risks import CumulativeIncidenceResult, cumulative_incidence
from .concordance import ConcordanceResult, concordance_index
from .cox import CoxResult, fit_cox
from .cutpoint import CutpointResult, optimal_cutpoint
from .fine_gray import FineGrayResult, fit_fine_gray
from .gray_test import GrayTestResult, gray_test
from .kaplan_meier import KaplanMeierResult, kaplan_meier
from .logistic import LogisticResult, detect_separation, fit_logistic
from .logrank import LogrankResult, logrank_test
from .mantel_byar import MantelByarResult, mantel_byar, simon_makuch
from .multiplicity import adjust_pvalues
from .ph_test import PHTestResult, ph_test
from .proportions import binomial_ci, fisher_exact
from .rank_tests import jonckheere_terpstra, kruskal_wallis, wilcoxon_rank_sum
from .resampling import (
    bca_interval,
    bootstrap_discrimination,
    maxt_stepdown,
    optimism_corrected,
    percentile_interval,
    permutation_test,
)
from .roc import RocResult, roc_curve
from .screen import screen
from .separation import SeparationResult, separation_from_arrays
from .table_one import table_one
from .time_dependent import landmark, landmark_sweep, split_at

__all__ = [
    "compare_groups", "ConcordanceResult", "concordance_index", "CoxResult", "fit_cox", "CutpointResult",
    "optimal_cutpoint", "KaplanMeierResult", "kaplan_meier", "LogisticResult", "fit_logistic", "LogrankResult",
    "logrank_test", "adjust_pvalues", "PHTestResult", "ph_test", "binomial_ci", "fisher_exact",
    "jonckheere_terpstra", "kruskal_wallis", "wilcoxon_rank_sum", "SeparationResult", "detect_separation",
    "separation_from_arrays", "RocResult", "roc_curve", "screen", "bca_interval", "bootstrap_discrimination",
    "maxt_stepdown", "optimism_corrected", "percentile_interval", "permutation_test",
    "table_one",
]
__all__ += ["CumulativeIncidenceResult", "FineGrayResult", "GrayTestResult", "cumulative_incidence", "fit_fine_gray",
            "gray_test"]
__all__ += ["MantelByarResult", "mantel_byar", "simon_makuch", "landmark", "landmark_sweep", "split_at"]
