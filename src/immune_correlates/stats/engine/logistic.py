"""Batched Newton-Raphson for logistic regression (ML or Firth), identical to the single fit.

:func:`newton` runs the iteration of
:func:`immune_correlates.stats.engine.logistic_core.newton_fit` (the one behind
:func:`~immune_correlates.stats.regression.logistic.fit_logistic`: logistf's capped
Newton steps with step-halving, true penalized Hessian where positive
definite, Fisher scoring elsewhere) on a leading batch axis, with the same
stopping rules per model.  Only the linear algebra differs: instead of an
SVD of every ``W^1/2 X`` and the ``n x n`` hat matrix, the hat diagonal,
``log det I`` and the penalty's curvature come from ``J = I^-1`` and third
moments of the design (``O(n p^3)`` per model), which is what makes thousands
of Firth fits fast.

The curvature of the penalty (see
:func:`~immune_correlates.stats.engine.logistic_core.penalty_curvature`) needs
``X' diag(c) (H o H) diag(c) X`` with ``H = S X J X' S``, ``S = diag(sqrt(w v))``;
since ``(x_i' J x_j)^2 = (x_i (x) x_i)' (J (x) J) (x_j (x) x_j)`` this is
``T (J (x) J) T'`` with ``T[k, ab] = sum_i c_i s_i^2 x_ik x_ia x_ib``.

References: Firth (1993) Biometrika 80:27-38; Heinze & Schemper (2002)
Statistics in Medicine 21:2409-2419.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import expit

from .linalg import solver_inverse
from .logistic_core import newton_fit
from .parallel import heap_temporaries

__all__ = ["LogisticBatchFit", "newton", "separated_univariable"]


class LogisticBatchFit(NamedTuple):
    """Per-model results of :func:`newton` (leading axis = batch)."""

    beta: np.ndarray  # (B, p)
    llf: np.ndarray  # (B,) penalized when firth
    info: np.ndarray  # (B, p, p) Fisher information at beta
    converged: np.ndarray
    n_iter: np.ndarray


def _gram(X, v):
    """``X' diag(v) X`` per model (stacked matmul: faster than einsum here)."""
    return np.swapaxes(X, 1, 2) @ (v[..., None] * X)


def _outer(X):
    """``(B, n, p*p)`` products ``x_ia x_ib`` of every row (fixed during the iteration)."""
    k = X.shape[-1]
    return (X[..., :, None] * X[..., None, :]).reshape(X.shape[0], X.shape[1], k * k)


def _state(beta, X, y, w, firth, Z=None):
    eta = (X @ beta[..., None])[..., 0]
    p = expit(eta)
    ll = np.sum(w * (y * eta - np.logaddexp(0.0, eta)), axis=-1)
    v = p * (1.0 - p)
    s2 = w * v
    info = _gram(X, s2)
    resid = w * (y - p)
    newton_m = info
    if firth:
        sign, logdet = np.linalg.slogdet(info)
        logdet = np.where(sign > 0, logdet, -np.inf)
        ll = ll + 0.5 * logdet
        J = solver_inverse(info)  # Moore-Penrose for a singular model only, inside the iteration
        k = X.shape[-1]
        h = s2 * (Z @ J.reshape(-1, k * k, 1))[..., 0]  # s_i^2 x_i' J x_i
        resid = resid + h * (0.5 - p)
        first = _gram(X, h * (1.0 - 6.0 * v) / 2.0)
        c = (1.0 - 2.0 * p) / 2.0
        T = np.swapaxes(X * (c * s2)[..., None], 1, 2) @ Z
        KJ = (J[:, :, None, :, None] * J[:, None, :, None, :]).reshape(X.shape[0], k * k, k * k)
        second = T @ KJ @ np.swapaxes(T, 1, 2)
        newton_m = info - (first - 2.0 * second)
    score = (np.swapaxes(X, 1, 2) @ resid[..., None])[..., 0]
    return ll, score, info, newton_m


@heap_temporaries()
def newton(
    X,
    y,
    w=None,
    *,
    firth=False,
    beta0=None,
    fixed=None,
    max_iter=100,
    tol=1e-10,
    max_step=5.0,
    max_halving=60,
    flat_tol=None,
) -> LogisticBatchFit:
    """Maximise the (penalized) log-likelihood of every model of the batch.

    The iteration, its arguments and stopping rules are those of
    :func:`~immune_correlates.stats.engine.logistic_core.newton_fit`; only the
    evaluation at each point is this module's.  ``X`` is ``(B, n, p)``, ``y``
    and ``w`` broadcast to ``(B, n)``.
    """
    X = np.asarray(X, dtype=float)
    B, n, _k = X.shape
    y = np.broadcast_to(np.asarray(y, dtype=float).reshape((-1, n)), (B, n))
    w = np.ones((B, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float).reshape((-1, n)), (B, n))
    Z = _outer(X) if firth else None

    def evaluate(beta, rows):
        if rows.size == B and np.array_equal(rows, np.arange(B)):
            return _state(beta, X, y, w, firth, Z)
        return _state(beta, X[rows], y[rows], w[rows], firth, None if Z is None else Z[rows])

    fit = newton_fit(
        X,
        y,
        w,
        firth=firth,
        beta0=beta0,
        fixed=fixed,
        max_iter=max_iter,
        tol=tol,
        max_step=max_step,
        max_halving=max_halving,
        flat_tol=flat_tol,
        evaluate=evaluate,
    )
    return LogisticBatchFit(*fit)


def separated_univariable(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(B,) whether ``logit P(y) = b0 + b1 x`` has infinite ML estimates (rows with ``w > 0``).

    With one covariate and an intercept, (quasi-)complete separation is a
    threshold on ``x`` with all events on one side (ties allowed) and all
    non-events on the other: exactly what the linear programmes of
    :mod:`~immune_correlates.stats.engine.separation` detect in this case.
    """
    use = w > 0
    ev, ne = use & (y > 0.5), use & (y <= 0.5)
    with np.errstate(invalid="ignore"):
        max1 = np.max(np.where(ev, x, -np.inf), axis=-1)
        min1 = np.min(np.where(ev, x, np.inf), axis=-1)
        max0 = np.max(np.where(ne, x, -np.inf), axis=-1)
        min0 = np.min(np.where(ne, x, np.inf), axis=-1)
    return (max0 <= min1) | (max1 <= min0)
