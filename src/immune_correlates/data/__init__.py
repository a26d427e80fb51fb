"""Reading and validating cohorts, trial designs and endpoints.

The analysis frame (endpoints joined with features) is built in
:mod:`immune_correlates.features.frame`, the trial summary estimated in
:mod:`immune_correlates.stats.groups.trial_summary`, and cohorts are simulated in
:mod:`immune_correlates.design`.
"""

from .cohort import Cohort, read_cohort
from .design import TrialDesign
from .endpoints import DAYS_PER_MONTH, derive_endpoints

__all__ = ["Cohort", "read_cohort", "TrialDesign", "DAYS_PER_MONTH", "derive_endpoints"]
