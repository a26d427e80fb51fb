"""Batched Newton-Raphson for Cox models (ML or Firth), identical to the single fit.

:func:`newton` runs, for every model of a batch at once, the iteration of
:func:`immune_correlates.stats.cox_firth.newton` (the one behind
:func:`~immune_correlates.stats.cox.fit_cox`): Newton steps with the
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

from ._cox_eval import CoxBatch, objective, prepare_batch, sort_times

__all__ = ["CoxBatchFit", "newton", "fit_cox_batch", "monotone", "prepare_batch", "sort_times"]


class CoxBatchFit(NamedTuple):
    """Per-model results of :func:`newton` (leading axis = batch)."""

    beta: np.ndarray  # (B, p)
    value: np.ndarray  # (B,) (penalized) log partial likelihood at beta
    info: np.ndarray  # (B, p, p)
    converged: np.ndarray  # (B,)
    n_iter: np.ndarray  # (B,)
    last_step: np.ndarray  # (B, p_free) Newton step still available at the end


def _solve(m: np.ndarray, g: np.ndarray, lstsq: bool = True) -> np.ndarray:
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
        As :func:`~immune_correlates.stats.cox_firth.newton`.
    """
    B, _, p = cb.x.shape
    beta = np.zeros((B, p)) if beta0 is None else np.array(beta0, dtype=float, copy=True)
    free = np.ones(p, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    cur = objective(cb, beta, firth)
    value, grad, info = cur.value.copy(), cur.grad.copy(), cur.info.copy()
    converged = np.zeros(B, dtype=bool)
    n_iter = np.zeros(B, dtype=np.int64)
    fi = np.flatnonzero(free)
    if fi.size == 0:
        return CoxBatchFit(beta, value, info, np.ones(B, dtype=bool), n_iter, np.zeros((B, 0)))
    done = np.zeros(B, dtype=bool)
    for it in range(1, max_iter + 1):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        n_iter[act] = it
        sub_cb = cb if act.size == B else cb.take(act)
        sub = info[act][:, fi][:, :, fi]
        step = _solve(sub, grad[act][:, fi])
        halved = np.zeros(act.size, dtype=bool)
        pending = np.arange(act.size)
        cv = value[act]
        for _ in range(max_halving):
            cand = beta[act[pending]].copy()
            cand[:, fi] += step[pending]
            new = objective(sub_cb if pending.size == act.size else sub_cb.take(pending), cand, firth)
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
    return CoxBatchFit(beta, value, info, converged, n_iter, last)


def monotone(fit: CoxBatchFit) -> np.ndarray:
    """(B, p) flags of ML coefficients still moving at convergence (monotone likelihood).

    The criterion of :func:`~immune_correlates.stats.cox.fit_cox`: the Newton
    step still available exceeds ``1e-4 max(1, |beta|)`` and ``1e-6``.
    """
    step = np.abs(fit.last_step)
    return ~np.isfinite(step) | ((step > 1e-4 * np.maximum(1.0, np.abs(fit.beta))) & (step > 1e-6))


def fit_cox_batch(x, time, event, w=None, *, firth=False, frequency=True, tol=1e-10, max_iter=100) -> CoxBatchFit:
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
    cb = prepare_batch(x[:, order], w[:, order], event[order], grp, g_start, frequency=frequency)
    return newton(cb, firth=firth, tol=tol, max_iter=max_iter)
