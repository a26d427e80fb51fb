"""Newton-Raphson for the Cox partial likelihood, plain or Firth-penalized.

Firth's penalty for the Cox model (Heinze & Schemper 2001) maximises

    l*(beta) = l(beta) + 0.5 log det I(beta),

which keeps estimates finite under monotone likelihood (a covariate that
perfectly orders the events, e.g. every event in one group).  As in coxphf,
standard errors are ``sqrt(diag(I(beta*)^-1))`` at the penalized estimate,
profile intervals and likelihood-ratio p-values use the penalized likelihood,
and a constrained fit (one coefficient held fixed) keeps the full-model
penalty ``0.5 log det I`` of all coefficients.

The solver follows ``survival::coxph``: Newton steps with the (unpenalized)
information as curvature, halving the step while the objective decreases,
stopping on a relative change of the objective below ``tol``.

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

from . import _cox_core as core

__all__ = ["Objective", "objective", "newton", "constrained_llf"]


@dataclass(frozen=True, eq=False)
class Objective:
    """The (penalized) log partial likelihood and its derivatives at one beta."""

    value: float
    grad: np.ndarray
    info: np.ndarray
    ev: core.Eval


def _inverse(info: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


def objective(cd: core.CoxData, beta: np.ndarray, firth: bool) -> Objective:
    """Log partial likelihood (plus Firth penalty when ``firth``), score and information."""
    ev = core.evaluate(cd, beta)
    info = core.information(cd, ev)
    if not firth:
        return Objective(ev.loglik, ev.score, info, ev)
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(ev.loglik):
        return Objective(-np.inf, ev.score, info, ev)
    grad = ev.score + core.firth_score(cd, ev, info, _inverse(info))
    return Objective(ev.loglik + 0.5 * logdet, grad, info, ev)


@dataclass(frozen=True, eq=False)
class NewtonFit:
    beta: np.ndarray
    obj: Objective
    n_iter: int
    converged: bool
    last_step: np.ndarray
    start: Objective  # the objective at beta0


def newton(
    cd: core.CoxData,
    beta0: np.ndarray,
    *,
    firth: bool = False,
    free: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> NewtonFit:
    """Maximise the (penalized) log partial likelihood over the ``free`` coefficients.

    Coefficients outside ``free`` stay at their ``beta0`` values (profile fits).
    """
    beta = np.array(beta0, dtype=float)
    free = np.ones(beta.size, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    cur = start = objective(cd, beta, firth)
    step = np.zeros(int(free.sum()))
    if not free.any():
        return NewtonFit(beta, cur, 0, True, step, start)
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        sub = cur.info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(sub, cur.grad[free])
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(sub, cur.grad[free], rcond=None)[0]
        halved = False
        for _ in range(60):
            cand = beta.copy()
            cand[free] += step
            new = objective(cd, cand, firth)
            if np.isfinite(new.value) and new.value >= cur.value - 1e-12 * abs(cur.value):
                break
            step = step / 2.0
            halved = True
        else:  # no increase found: at the numerical optimum
            converged = True
            break
        change = abs(new.value - cur.value) / max(abs(new.value), 1e-300)
        beta, cur = cand, new
        # The Firth iteration uses I, not the Hessian of l*, so it converges linearly:
        # also ask for a negligible step, in standard-error units (scale-free).
        small = not firth or float(step @ sub @ step) <= 1e-18
        if change <= tol and not halved and small:
            converged = True
            break
    sub = cur.info[np.ix_(free, free)]
    try:
        last = np.linalg.solve(sub, cur.grad[free])
    except np.linalg.LinAlgError:
        last = np.full(int(free.sum()), np.inf)
    return NewtonFit(beta, cur, it, converged, last, start)


def constrained_llf(
    cd: core.CoxData, beta_hat: np.ndarray, k: int, value: float, *, firth: bool, tol: float, max_iter: int
) -> float:
    """Maximum (penalized) log-likelihood with coefficient ``k`` fixed at ``value``."""
    start = np.array(beta_hat, dtype=float)
    start[k] = value
    free = np.ones(start.size, dtype=bool)
    free[k] = False
    return newton(cd, start, firth=firth, free=free, tol=tol, max_iter=max_iter).obj.value
