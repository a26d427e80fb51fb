"""Reading and validating: cohorts, trial designs, endpoints and the flow-cytometry readers.

Readers live here: :func:`read_cohort` (CSV, TSV, XLSX, Parquet), FlowJo's CSV
export (:mod:`.flowjo`), FlowJo workspaces (:mod:`.flowjo_workspace`) and
re-gating of FCS files (:mod:`.regate`), with the grammar of gating paths
(:mod:`.gating`).  May import only the package floor (``errors``, ``_checks``,
``_params``, ...).

The analysis frame (endpoints joined with features) is built in
:mod:`immune_correlates.features.frame`, the trial summary estimated in
:mod:`immune_correlates.stats.groups.trial_summary`, and cohorts are simulated in
:mod:`immune_correlates.design`.
"""

from .cohort import Cohort, read_cohort
from .design import TrialDesign
from .endpoints import DAYS_PER_MONTH, derive_endpoints
from .flowjo import read_flowjo
from .flowjo_workspace import FlowJoWorkspace, read_flowjo_workspace
from .imputed import ImputedData

__all__ = [
    "Cohort",
    "read_cohort",
    "TrialDesign",
    "DAYS_PER_MONTH",
    "derive_endpoints",
    "read_flowjo",
    "FlowJoWorkspace",
    "read_flowjo_workspace",
    "ImputedData",
]
