"""Reading, validation, endpoints, simulation and the trial summary."""

from .cohort import Cohort, read_cohort
from .design import TrialDesign
from .endpoints import DAYS_PER_MONTH, derive_endpoints
from .frame import analysis_frame
from .simulate import SimulatedTrial, simulate
from .summary import trial_summary

__all__ = ["Cohort", "read_cohort", "TrialDesign", "DAYS_PER_MONTH", "derive_endpoints", "analysis_frame",
           "SimulatedTrial", "simulate", "trial_summary"]
