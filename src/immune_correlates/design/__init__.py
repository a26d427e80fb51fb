"""Design and power of small immune-correlate studies, by simulation.

>>> from immune_correlates.design import power
>>> res = power(analysis="firth", n_sim=200, seed=1)  # doctest: +SKIP
"""

from .analyses import (
    ANALYSES,
    Analysis,
    CoxAnalysis,
    LogisticAnalysis,
    LogrankAnalysis,
    ScreenAnalysis,
    WilcoxonAnalysis,
    make_analysis,
)
from .population_counts import simulate_population_counts
from .power_analysis import PowerCurve, PowerResult, power, power_curve, run_power_cli
from .simulate_batch import TrialBatch, simulate_trials

__all__ = [
    "power",
    "power_curve",
    "run_power_cli",
    "PowerResult",
    "PowerCurve",
    "simulate_trials",
    "simulate_population_counts",
    "TrialBatch",
    "Analysis",
    "LogisticAnalysis",
    "WilcoxonAnalysis",
    "CoxAnalysis",
    "LogrankAnalysis",
    "ScreenAnalysis",
    "make_analysis",
    "ANALYSES",
]
