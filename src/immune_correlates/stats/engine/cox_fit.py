"""One Cox model: the (Firth-penalized) log partial likelihood and its fit by the one Newton loop.

Firth's penalty for the Cox model (Heinze & Schemper 2001) maximises

    l*(beta) = l(beta) + 0.5 log det I(beta),

which keeps estimates finite under monotone likelihood (a covariate that
perfectly orders the events, e.g. every event in one group).  As in coxphf,
standard errors are ``sqrt(diag(I(beta*)^-1))`` at the penalized estimate,
profile intervals and likelihood-ratio p-values use the penalized likelihood,
and a constrained fit (one coefficient held fixed) keeps the full-model
penalty ``0.5 log det I`` of all coefficients.

The iteration is :func:`~.newton.newton_iterate` with :class:`~.newton.CoxRule`
(``survival::coxph``'s rule); the batched fits of :mod:`.cox` run the same.

References
----------
Heinze G, Schemper M (2001). A solution to the problem of monotone likelihood
in Cox regression. *Biometrics* 57:114-119.
Firth D (1993). Bias reduction of maximum likelihood estimates.
*Biometrika* 80:27-38.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import cox_core as core
from .linalg import solver_inverse
from .newton import CoxRule, Evaluation, newton_iterate, newton_step

__all__ = ["Objective", "objective", "CoxFit", "fit_cox_model", "constrained_llf"]


@dataclass(frozen=True, eq=False)
class Objective:
    """The (penalized) log partial likelihood and its derivatives at one beta."""

    value: float
    grad: np.ndarray
    info: np.ndarray
    ev: core.Eval


def objective(cd: core.CoxData, beta: np.ndarray, firth: bool) -> Objective:
    """Log partial likelihood (plus Firth penalty when ``firth``), score and information."""
    ev = core.evaluate(cd, beta)
    info = core.information(cd, ev)
    if not firth:
        return Objective(ev.loglik, ev.score, info, ev)
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(ev.loglik):
        return Objective(-np.inf, ev.score, info, ev)
    grad = ev.score + core.firth_score(cd, ev, info, solver_inverse(info))  # inside the iteration only
    return Objective(ev.loglik + 0.5 * logdet, grad, info, ev)


@dataclass(frozen=True, eq=False)
class CoxFit:
    """A fitted Cox model: estimate, objective there, iterations and the step still available."""

    beta: np.ndarray
    obj: Objective
    n_iter: int
    converged: bool
    last_step: np.ndarray  # the Newton step at the end (large: a monotone likelihood)
    start: Objective  # the objective at beta0


def fit_cox_model(
    cd: core.CoxData,
    beta0: np.ndarray,
    *,
    firth: bool = False,
    free: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> CoxFit:
    """Maximise the (penalized) log partial likelihood over the ``free`` coefficients.

    Coefficients outside ``free`` stay at their ``beta0`` values (profile fits).
    """

    def evaluate(beta, rows):
        obj = objective(cd, beta[0], firth)
        return Evaluation(np.array([obj.value]), obj.grad[None], obj.info[None], None, [obj])

    beta0 = np.asarray(beta0, dtype=float)[None]
    free = np.ones(beta0.shape[1], dtype=bool) if free is None else np.asarray(free, dtype=bool)
    it = newton_iterate(evaluate, beta0, CoxRule(firth=firth, tol=tol), free=free, max_iter=max_iter)
    last = newton_step(it.info, it.grad, free)
    assert it.payload is not None and it.start.payload is not None  # the evaluator keeps each Objective
    return CoxFit(it.beta[0], it.payload[0], int(it.n_iter[0]), bool(it.converged[0]), last[0], it.start.payload[0])


def constrained_llf(
    cd: core.CoxData, beta_hat: np.ndarray, k: int, value: float, *, firth: bool, tol: float, max_iter: int
) -> float:
    """Maximum (penalized) log-likelihood with coefficient ``k`` fixed at ``value``."""
    start = np.array(beta_hat, dtype=float)
    start[k] = value
    free = np.ones(start.size, dtype=bool)
    free[k] = False
    return fit_cox_model(cd, start, firth=firth, free=free, tol=tol, max_iter=max_iter).obj.value
