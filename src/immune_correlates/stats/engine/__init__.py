"""The engine: the numerics every estimator shares, and many models fitted at once.

Shared numerics: ``linalg`` (the one covariance / guarded-inverse policy), ``profile``
(the one profile-likelihood solver and likelihood-ratio p-values), ``newton`` (the one
Newton-Raphson loop with step halving, and the Cox objective), ``logistic_core`` and
``cox_core`` (log-likelihoods, scores and information), ``separation`` (the linear
programmes that detect separation), ``discrimination`` (the one AUC / C).

Batched solvers (``cox``, ``logistic``, ``models``), seeds, blocks, tasks and the allocator
setting (``parallel``), permutation helpers.  No user-facing function lives here except
``separation_from_arrays``; the engine imports only the package floor (``errors``,
``_results``), never :mod:`..regression` or any other family.

Every model of a batch shares the rows (and, for Cox, one time ordering)
and has its own design and case weights: a feature with missing values is a
weight-0 row, a bootstrap resample a vector of integer counts.  The solvers
reproduce :func:`~immune_correlates.stats.regression.logistic.fit_logistic` and
:func:`~immune_correlates.stats.regression.cox.fit_cox` to rounding error.
"""

from .cox import fit_cox_batch
from .logistic import newton as fit_logistic_batch
from .models import BatchDesign, fit_models, make_design

__all__ = ["fit_cox_batch", "fit_logistic_batch", "BatchDesign", "fit_models", "make_design"]
