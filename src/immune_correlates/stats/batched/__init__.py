"""Batched logistic and Cox solvers: many models, one vectorised Newton-Raphson.

Every model of a batch shares the rows (and, for Cox, one time ordering)
and has its own design and case weights: a feature with missing values is a
weight-0 row, a bootstrap resample a vector of integer counts.  The solvers
reproduce :func:`~immune_correlates.stats.logistic.fit_logistic` and
:func:`~immune_correlates.stats.cox.fit_cox` to rounding error.
"""

from .cox import fit_cox_batch
from .engine import Design, fit_models, make_design
from .logistic import newton as fit_logistic_batch

__all__ = ["fit_cox_batch", "fit_logistic_batch", "Design", "fit_models", "make_design"]
