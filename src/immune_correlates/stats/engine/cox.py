"""Batched Newton-Raphson for Cox models (ML or Firth), identical to the single fit.

:func:`newton` runs, for every model of a batch at once, the one Cox iteration
:func:`immune_correlates.stats.engine.newton.newton_iterate` with its ``CoxRule``, which also drives
:func:`~immune_correlates.stats.regression.cox.fit_cox` (single fits pass their own
evaluator): Newton steps with the
information of the unpenalized partial likelihood as curvature, step-halving
while the objective decreases, convergence on a relative change of the
objective below ``tol`` (and, for Firth, a negligible step).  Each model keeps
its own iteration count and halvings, so every batched estimate is the
single fit's estimate up to floating-point rounding.

References: Therneau & Grambsch (2000) *Modeling Survival Data*, ch. 3;
Heinze & Schemper (2001) Biometrics 57:114-119.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._cox_eval import CoxBatch, entry_groups, objective, prepare_batch, sort_times
from .newton import CoxRule, Evaluation, newton_iterate, newton_step
from .parallel import heap_temporaries

__all__ = ["CoxBatchFit", "newton", "fit_cox_batch", "monotone", "prepare_batch", "sort_times", "entry_groups"]


class CoxBatchFit(NamedTuple):
    """Per-model results of :func:`newton` (leading axis = batch)."""

    beta: np.ndarray  # (B, p)
    value: np.ndarray  # (B,) (penalized) log partial likelihood at beta
    info: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,)
    n_iter: np.ndarray  # (B,)
    last_step: np.ndarray  # (B, p_free) Newton step still available at the end


def newton(
    cb: CoxBatch,
    beta0: np.ndarray | None = None,
    *,
    firth: bool = False,
    free: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    max_halving: int = 60,
) -> CoxBatchFit:
    """Maximise the (penalized) log partial likelihood of every model of the batch.

    The iteration and its stopping rule are
    :func:`~immune_correlates.stats.engine.newton.newton_iterate`, shared with
    the single fit; only the evaluation at each point is this package's.

    Parameters
    ----------
    cb : CoxBatch
        From :func:`prepare_batch`.
    beta0 : (B, p) array, optional
        Start (default 0); coefficients outside ``free`` stay there.
    firth : bool
        Firth's penalized partial likelihood.
    free : (p,) bool array, optional
        Coefficients to maximise over (the same for every model).
    tol, max_iter, max_halving : float, int, int
        As :func:`~immune_correlates.stats.engine.newton.newton_iterate`.
    """
    B, _, p = cb.x.shape
    beta = np.zeros((B, p)) if beta0 is None else np.asarray(beta0, dtype=float)

    def evaluate(b, rows):
        sub = cb if rows.size == B else cb.take(rows)
        ob = objective(sub, b, firth)
        return Evaluation(ob.value, ob.grad, ob.info)

    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    rule = CoxRule(firth=firth, tol=tol, max_halving=max_halving)
    it = newton_iterate(evaluate, beta, rule, free=free, max_iter=max_iter)
    return CoxBatchFit(it.beta, it.value, it.info, it.converged, it.n_iter, newton_step(it.info, it.grad, free))


def monotone(fit: CoxBatchFit) -> np.ndarray:
    """(B, p) flags of ML coefficients still moving at convergence (monotone likelihood).

    The criterion of :func:`~immune_correlates.stats.regression.cox.fit_cox`: the Newton
    step still available exceeds ``1e-4 max(1, |beta|)`` and ``1e-6``.
    """
    step = np.abs(fit.last_step)
    return ~np.isfinite(step) | ((step > 1e-4 * np.maximum(1.0, np.abs(fit.beta))) & (step > 1e-6))


@heap_temporaries()
def fit_cox_batch(
    x, time, event, w=None, *, firth=False, frequency=True, tol=1e-10, max_iter=100, entry=None
) -> CoxBatchFit:
    """Fit ``B`` Cox models sharing follow-up times and events (Efron ties).

    Parameters
    ----------
    x : (B, n, p) or (n, p) array
        Designs in the original row order; rows of weight 0 are ignored.
    time, event : (n,) arrays
    w : (B, n) or (n,) array, optional
        Case weights (bootstrap counts, 0 for left-out rows).
    firth, frequency, tol, max_iter
        See :func:`newton` and :func:`prepare_batch`.
    entry : (n,) array, optional
        Entry times of counting-process rows ``(entry, time]`` (each below its time).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:
        x = x[None]
    w = np.ones((1, x.shape[1])) if w is None else np.asarray(w, dtype=float).reshape(-1, x.shape[1])
    B = max(x.shape[0], w.shape[0])
    x = np.broadcast_to(x, (B,) + x.shape[1:])
    w = np.broadcast_to(w, (B, x.shape[1]))
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    order, grp, g_start = sort_times(time, event)
    lo = None if entry is None else entry_groups(time[order], g_start, np.asarray(entry, dtype=float)[order])
    cb = prepare_batch(x[:, order], w[:, order], event[order], grp, g_start, frequency=frequency, lo=lo)
    return newton(cb, firth=firth, tol=tol, max_iter=max_iter)
