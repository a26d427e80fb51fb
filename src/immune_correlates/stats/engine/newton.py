"""The one Newton-Raphson loop with step halving, for every regression of the package.

Logistic (ML and Firth), Cox (ML and Firth) and Fine-Gray fits, single or
batched (the screen, the bootstrap, power simulations), all run
:func:`newton_iterate`.  What differs between them is a :class:`NewtonRule`:
how a step is computed from the current point (the curvature used, a cap on
its length), when a trial point is accepted, and when a model has converged.
The loop owns what they share: a leading batch axis, coefficients held fixed
(profile and constrained fits), halving a step until it is accepted, and each
model keeping its own iteration count.

The rules live next to their objectives: :class:`CoxRule` here (``coxph``'s:
the information of the unpenalized partial likelihood as curvature, a relative
change of the objective below ``tol``), ``LogisticRule`` in
:mod:`.logistic_core` (logistf's: a capped step, the penalized Hessian where
positive definite) and the Fine-Gray rule in
:mod:`immune_correlates.stats.survival.fine_gray` (``cmprsk::crr``'s).

References
----------
Therneau TM, Grambsch PM (2000). *Modeling Survival Data*, ch. 3 (coxph's iteration).
Heinze G, Schemper M (2002). *Statistics in Medicine* 21:2409-2419 (logistf's).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["Evaluation", "IterationResult", "NewtonRule", "CoxRule", "newton_iterate", "newton_step"]


class Evaluation(NamedTuple):
    """The objective of ``B`` models at one point each, as the loop sees it."""

    value: np.ndarray  # (B,) (penalized) log-likelihood, maximised
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p) information (of the unpenalized likelihood for Firth fits)
    curvature: np.ndarray | None = None  # (B, p, p) Newton matrix, when it is not ``info``
    payload: list | None = None  # per-model extras kept with the accepted point (single fits)

    def take(self, rows: np.ndarray) -> Evaluation:
        """The evaluation of the models ``rows`` (positions in this batch)."""
        return Evaluation(
            self.value[rows],
            self.grad[rows],
            self.info[rows],
            None if self.curvature is None else self.curvature[rows],
            None if self.payload is None else [self.payload[r] for r in rows],
        )


class IterationResult(NamedTuple):
    """Outcome of :func:`newton_iterate` (leading axis = batch)."""

    beta: np.ndarray  # (B, p)
    value: np.ndarray  # (B,)
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,)
    n_iter: np.ndarray  # (B,)
    payload: list | None
    start: Evaluation  # the objective at beta0


class NewtonRule:
    """How one family of models steps, accepts a step and stops (see the module docstring).

    ``evaluations`` is the number of trial points per iteration (the full
    step and its halvings); ``stuck_converges`` says whether a model for which
    none of them is accepted is at its numerical optimum (``coxph``) or stays
    where it is, unconverged (logistf).  ``final_check`` asks for one more
    :meth:`stationary` test after the last iteration.
    """

    evaluations: int = 60
    stuck_converges: bool = True
    final_check: bool = False

    def direction(self, old: Evaluation, beta: np.ndarray, free: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The full step ``(A, p)`` of the models ``rows`` (zero on fixed coefficients)."""
        raise NotImplementedError

    def stationary(self, old: Evaluation, beta: np.ndarray, step, rows: np.ndarray) -> np.ndarray | None:
        """Models already at their optimum before stepping (``None``: the rule has no such test)."""
        return None

    def accept(self, new_value, old_value, step, old_grad) -> np.ndarray:
        """Whether each trial point is accepted (default: not below the current value, to rounding)."""
        return np.isfinite(new_value) & (new_value >= old_value - 1e-12 * np.abs(old_value))

    def done(self, old: Evaluation, new: Evaluation, old_beta, new_beta, step, halved, accepted, free) -> np.ndarray:
        """Which models have converged after this iteration (``accepted``: a trial point was taken)."""
        raise NotImplementedError


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


def newton_step(info: np.ndarray, grad: np.ndarray, free: np.ndarray, *, lstsq: bool = False) -> np.ndarray:
    """``I_free^-1 grad_free`` of a batch (``inf`` where singular): the step still available at the end.

    Cox fits judge a monotone likelihood by it (a coefficient still moving at convergence).
    """
    fi = np.flatnonzero(free)
    if fi.size == 0:
        return np.zeros((grad.shape[0], 0))
    return _solve(info[:, fi][:, :, fi], grad[:, fi], lstsq=lstsq)


class CoxRule(NewtonRule):
    """``survival::coxph``'s iteration (coxphf's for Firth), shared by single and batched Cox fits.

    * Newton step ``I_free^-1 grad_free`` with the information of the
      unpenalized partial likelihood as curvature (the free set is the same
      for every model of the batch);
    * halve the step (up to ``max_halving`` evaluations) while the objective
      decreases; if no uphill point is found the model is at its numerical
      optimum and stops (converged);
    * converged when the relative change of the objective is at most ``tol``
      after a full (unhalved) step and, for Firth (linear convergence), the
      step is negligible in standard-error units (``step' I step <= 1e-18``).
    """

    stuck_converges = True

    def __init__(self, *, firth: bool, tol: float = 1e-10, max_halving: int = 60) -> None:
        self.firth, self.tol, self.evaluations = firth, tol, max_halving

    def direction(self, old, beta, free, rows):
        fi = np.flatnonzero(free[0])
        step = np.zeros_like(beta)
        step[:, fi] = _solve(old.info[:, fi][:, :, fi], old.grad[:, fi])
        return step

    def done(self, old, new, old_beta, new_beta, step, halved, accepted, free):
        change = np.abs(new.value - old.value) / np.maximum(np.abs(new.value), 1e-300)
        small = np.ones(len(new.value), dtype=bool)
        if self.firth:
            fi = np.flatnonzero(free[0])
            stp = step[:, fi]
            small = np.einsum("bi,bij,bj->b", stp, old.info[:, fi][:, :, fi], stp) <= 1e-18
        return ~accepted | ((change <= self.tol) & ~halved & small)


def newton_iterate(
    evaluate: Callable[[np.ndarray, np.ndarray], Evaluation],
    beta0: np.ndarray,
    rule: NewtonRule,
    *,
    free: np.ndarray | None = None,
    max_iter: int = 100,
) -> IterationResult:
    """Maximise the objective of every model of a batch by Newton steps with step halving.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(beta, rows) -> Evaluation``: the objective of the models
        ``rows`` (an index array into the batch) at ``beta`` (``(len(rows), p)``).
    beta0 : (B, p) array
        Start; coefficients outside ``free`` stay there.
    rule : NewtonRule
        The family's step, acceptance and convergence rules.
    free : (p,) or (B, p) bool array, optional
        Coefficients to maximise over (default all).
    max_iter : int
        Iterations allowed; each model keeps its own count.
    """
    beta = np.array(beta0, dtype=float, copy=True)
    B, p = beta.shape
    free = np.ones((B, p), dtype=bool) if free is None else np.broadcast_to(np.asarray(free, dtype=bool), (B, p))
    start = evaluate(beta, np.arange(B))
    value, grad, info = start.value.copy(), start.grad.copy(), start.info.copy()
    curv = None if start.curvature is None else start.curvature.copy()
    payload = None if start.payload is None else list(start.payload)
    converged = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=np.int64)
    if not free.any():
        return IterationResult(beta, value, grad, info, np.ones(B, dtype=bool), n_iter, payload, start)
    done = np.zeros(B, dtype=bool)

    def state(rows):
        return Evaluation(value[rows], grad[rows], info[rows], None if curv is None else curv[rows])

    for it in range(1, max_iter + 1):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        n_iter[act] = it
        old = state(act)
        step = rule.direction(old, beta[act], free[act], act)
        stop = rule.stationary(old, beta[act], step, act)
        if stop is not None and stop.any():
            converged[act[stop]] = done[act[stop]] = True
            n_iter[act[stop]] = it - 1
            act, step, old = act[~stop], step[~stop], old.take(np.flatnonzero(~stop))
            if act.size == 0:
                continue
        old_beta = beta[act].copy()
        halved = np.zeros(act.size, dtype=bool)
        accepted = np.zeros(act.size, dtype=bool)
        pending = np.arange(act.size)
        for _ in range(rule.evaluations):
            cand = old_beta[pending] + step[pending]
            new = evaluate(cand, act[pending])
            ok = rule.accept(new.value, old.value[pending], step[pending], old.grad[pending])
            acc = pending[ok]
            if acc.size:
                rows = act[acc]
                beta[rows] = cand[ok]
                value[rows], grad[rows], info[rows] = new.value[ok], new.grad[ok], new.info[ok]
                if curv is not None and new.curvature is not None:
                    curv[rows] = new.curvature[ok]
                if payload is not None and new.payload is not None:
                    for r, k in zip(rows, np.flatnonzero(ok)):
                        payload[r] = new.payload[k]
                accepted[acc] = True
            pending = pending[~ok]
            if pending.size == 0:
                break
            step[pending] = step[pending] / 2.0
            halved[pending] = True
        conv = rule.done(old, state(act), old_beta, beta[act], step, halved, accepted, free[act])
        if rule.stuck_converges:
            conv = conv | ~accepted
        converged[act[conv]] = done[act[conv]] = True
    if rule.final_check:
        act = np.flatnonzero(~done)
        if act.size:
            stop = rule.stationary(state(act), beta[act], None, act)
            converged[act[stop]] = True
    return IterationResult(beta, value, grad, info, converged, n_iter, payload, start)
