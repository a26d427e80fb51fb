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
from typing import NamedTuple

import numpy as np

from . import cox_core as core
from .linalg import solver_inverse

__all__ = ["Objective", "objective", "newton", "newton_iterate", "BatchObjective", "constrained_llf"]


@dataclass(frozen=True, eq=False)
class Objective:
    """The (penalized) log partial likelihood and its derivatives at one beta."""

    value: float
    grad: np.ndarray
    info: np.ndarray
    ev: core.Eval


def _inverse(info: np.ndarray) -> np.ndarray:
    return solver_inverse(info)  # inside the iteration only (see _linalg's policy)


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


class BatchObjective(NamedTuple):
    """Objective of ``B`` models at once, as the solver sees it."""

    value: np.ndarray  # (B,) (penalized) log partial likelihood
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p) information of the unpenalized partial likelihood
    payload: list | None = None  # per-model extras kept with the accepted point (single fits: the Objective)


class IterationResult(NamedTuple):
    """Outcome of :func:`newton_iterate` (leading axis = batch)."""

    beta: np.ndarray  # (B, p)
    value: np.ndarray  # (B,)
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,)
    n_iter: np.ndarray  # (B,)
    last_step: np.ndarray  # (B, p_free) Newton step still available at the end (inf if singular)
    payload: list | None
    start: BatchObjective  # the objective at beta0


def _solve(m: np.ndarray, g: np.ndarray, lstsq: bool = True) -> np.ndarray:
    """Batched ``m^-1 g``; singular models fall back to least squares (or ``inf``)."""
    try:
        return np.linalg.solve(m, g[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.empty_like(g)
        for i in range(g.shape[0]):
            try:
                out[i] = np.linalg.solve(m[i], g[i])
            except np.linalg.LinAlgError:
                out[i] = np.linalg.lstsq(m[i], g[i], rcond=None)[0] if lstsq else np.inf
        return out


def newton_iterate(
    evaluate,
    beta0: np.ndarray,
    *,
    firth: bool = False,
    free: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    max_halving: int = 60,
) -> IterationResult:
    """The Cox Newton-Raphson iteration, for one model or a batch sharing a layout.

    ``evaluate(beta, rows) -> BatchObjective`` gives the objective of the
    models ``rows`` (an index array into the batch) at ``beta`` (``(len(rows),
    p)``).  Single fits (:func:`newton`) and the batched engine
    (:func:`immune_correlates.stats.engine.cox.newton`) pass their own
    evaluator and share this loop, so both stop by the same rule:

    * Newton step ``I_free^-1 grad_free`` with the information of the
      unpenalized partial likelihood as curvature (coxph; coxphf for Firth);
    * halve the step (up to ``max_halving`` times) while the objective
      decreases; if no uphill point is found the model is at its numerical
      optimum and stops (converged);
    * converged when the relative change of the objective is at most ``tol``
      after a full (unhalved) step and, for Firth (linear convergence), the
      step is negligible in standard-error units (``step' I step <= 1e-18``).

    Each model keeps its own iteration count and halvings.
    """
    beta = np.array(beta0, dtype=float, copy=True)
    B, p = beta.shape
    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    start = evaluate(beta, np.arange(B))
    value, grad, info = start.value.copy(), start.grad.copy(), start.info.copy()
    payload = None if start.payload is None else list(start.payload)
    converged = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=np.int64)
    fi = np.flatnonzero(free)
    if fi.size == 0:
        return IterationResult(
            beta, value, grad, info, np.ones(B, dtype=bool), n_iter, np.zeros((B, 0)), payload, start
        )
    done = np.zeros(B, dtype=bool)
    for it in range(1, max_iter + 1):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        n_iter[act] = it
        sub = info[act][:, fi][:, :, fi]
        step = _solve(sub, grad[act][:, fi])
        halved = np.zeros(act.size, dtype=bool)
        pending = np.arange(act.size)
        cv = value[act]
        for _ in range(max_halving):
            cand = beta[act[pending]].copy()
            cand[:, fi] += step[pending]
            new = evaluate(cand, act[pending])
            ok = np.isfinite(new.value) & (new.value >= cv[pending] - 1e-12 * np.abs(cv[pending]))
            acc = pending[ok]
            if acc.size:
                rows = act[acc]
                change = np.abs(new.value[ok] - cv[acc]) / np.maximum(np.abs(new.value[ok]), 1e-300)
                small = np.ones(acc.size, dtype=bool)
                if firth:
                    stp = step[acc]
                    small = np.einsum("bi,bij,bj->b", stp, sub[acc], stp) <= 1e-18
                beta[rows] = cand[ok]
                value[rows], grad[rows], info[rows] = new.value[ok], new.grad[ok], new.info[ok]
                if payload is not None:
                    for r, k in zip(rows, np.flatnonzero(ok)):
                        payload[r] = new.payload[k]
                conv = (change <= tol) & ~halved[acc] & small
                converged[rows[conv]] = True
                done[rows[conv]] = True
            pending = pending[~ok]
            if pending.size == 0:
                break
            step[pending] = step[pending] / 2.0
            halved[pending] = True
        else:  # no increase found along the step: at the numerical optimum
            converged[act[pending]] = True
            done[act[pending]] = True
    last = _solve(info[:, fi][:, :, fi], grad[:, fi], lstsq=False)
    return IterationResult(beta, value, grad, info, converged, n_iter, last, payload, start)


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

    Coefficients outside ``free`` stay at their ``beta0`` values (profile
    fits).  The iteration is :func:`newton_iterate` with this module's
    single-model evaluator.
    """

    def evaluate(beta, rows):
        obj = objective(cd, beta[0], firth)
        return BatchObjective(np.array([obj.value]), obj.grad[None], obj.info[None], [obj])

    it = newton_iterate(
        evaluate, np.asarray(beta0, dtype=float)[None], firth=firth, free=free, tol=tol, max_iter=max_iter
    )
    return NewtonFit(
        it.beta[0], it.payload[0], int(it.n_iter[0]), bool(it.converged[0]), it.last_step[0], it.start.payload[0]
    )


def constrained_llf(
    cd: core.CoxData, beta_hat: np.ndarray, k: int, value: float, *, firth: bool, tol: float, max_iter: int
) -> float:
    """Maximum (penalized) log-likelihood with coefficient ``k`` fixed at ``value``."""
    start = np.array(beta_hat, dtype=float)
    start[k] = value
    free = np.ones(start.size, dtype=bool)
    free[k] = False
    return newton(cd, start, firth=firth, free=free, tol=tol, max_iter=max_iter).obj.value
