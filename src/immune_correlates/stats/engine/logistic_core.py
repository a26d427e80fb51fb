"""Vectorised Newton steps for (Firth-penalized) binary logistic regression.

Every function here works on plain arrays and accepts an optional leading
batch axis, so thousands of small models can be fitted at once:

* ``X`` has shape ``(n, p)`` or ``(B, n, p)``,
* ``y`` and ``w`` have shape ``(n,)`` or ``(B, n)``,
* ``beta`` has shape ``(p,)`` or ``(B, p)``.

``w`` are case weights (integer bootstrap counts, or 1): a row with weight 2
contributes exactly as two copies of that row, including to Firth's penalty
``0.5 * log det I(beta)`` with ``I(beta) = X' diag(w p (1 - p)) X``.

The iteration is the one of logistf (Heinze & Schemper 2002): a Newton step
``delta = I_free(beta)^{-1} U*_free(beta)`` on the free coefficients, with the
modified score ``U*(beta) = X' (w (y - p) + h (1/2 - p))`` (Firth 1993; ``h``
the diagonal of the weighted hat matrix, zero for plain maximum likelihood),
the step capped at ``max_step`` in absolute value, and step-halving until the
(penalized) log-likelihood does not decrease.  Coefficients marked ``fixed``
stay where ``beta0`` puts them, while the penalty keeps using the *full*
information matrix: these are logistf's constrained fits behind profile
penalized-likelihood intervals and likelihood-ratio tests.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from scipy.special import expit

from .linalg import solver_inverse
from .newton import Evaluation, NewtonRule, newton_iterate

__all__ = [
    "LogisticFit",
    "LogisticRule",
    "loglik",
    "information",
    "hat_diagonal",
    "penalized_loglik",
    "modified_score",
    "penalty_curvature",
    "newton_fit",
]


class LogisticFit(NamedTuple):
    """Outcome of :func:`newton_fit` (arrays carry the batch axis if given; scalars for one model)."""

    beta: np.ndarray
    llf: Any  # (B,) array, or a float for one model; penalized when firth=True
    info: np.ndarray  # Fisher information X' W X at beta (full model)
    converged: Any  # (B,) bool array, or a bool
    n_iter: Any  # (B,) int array, or an int


def _eta(beta: np.ndarray, X: np.ndarray) -> np.ndarray:
    return np.einsum("...np,...p->...n", X, beta)


def loglik(beta: np.ndarray, X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood ``sum w (y eta - log(1 + e^eta))``, overflow-safe."""
    eta = _eta(beta, X)
    return np.sum(w * (y * eta - np.logaddexp(0.0, eta)), axis=-1)


def information(X: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fisher information ``X' diag(w p (1 - p)) X``."""
    return np.einsum("...ni,...n,...nj->...ij", X, w * p * (1.0 - p), X)


def _weighted_design(X: np.ndarray, p: np.ndarray, w: np.ndarray):
    """Thin SVD of ``W^1/2 X``: its ``U`` spans the hat matrix, its ``s`` gives ``log det I``."""
    sw = np.sqrt(w * p * (1.0 - p))
    U, s, _ = np.linalg.svd(sw[..., None] * X, full_matrices=False)
    with np.errstate(divide="ignore"):
        logdet = 2.0 * np.sum(np.log(s), axis=-1)
    return U, logdet


def hat_diagonal(X: np.ndarray, p: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Diagonal of the hat matrix ``W^1/2 X I^-1 X' W^1/2``, ``W = diag(w p (1 - p))``."""
    U, _ = _weighted_design(X, p, w)
    return np.sum(U * U, axis=-1)


def penalized_loglik(beta: np.ndarray, X: np.ndarray, y: np.ndarray, w: np.ndarray, firth: bool = True) -> np.ndarray:
    """``l(beta) + 0.5 log det I(beta)`` (Firth 1993), or ``l(beta)`` if not ``firth``."""
    ll = loglik(beta, X, y, w)
    if not firth:
        return ll
    p = expit(_eta(beta, X))
    return ll + 0.5 * _weighted_design(X, p, w)[1]


def modified_score(beta: np.ndarray, X: np.ndarray, y: np.ndarray, w: np.ndarray, firth: bool = True) -> np.ndarray:
    """Firth's modified score ``X' (w (y - p) + h (1/2 - p))`` (plain score if not ``firth``)."""
    p = expit(_eta(beta, X))
    resid = w * (y - p)
    if firth:
        resid = resid + hat_diagonal(X, p, w) * (0.5 - p)
    return np.einsum("...np,...n->...p", X, resid)


def penalty_curvature(X: np.ndarray, p: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Minus the Hessian of ``0.5 log det I(beta)`` for the logit link.

    With the hat matrix ``H = U U'`` (``U`` from the thin SVD of ``W^1/2 X``),
    ``h = diag(H)``, ``v = p (1 - p)`` and ``c = (1 - 2p) / 2``, the Hessian of
    the penalty is ``X' diag(h (1 - 6v) / 2) X - 2 X' diag(c) (H o H) diag(c) X``.
    Written with ``H`` (entries in [-1, 1]) it stays finite where ``I`` is
    nearly singular, far out on a profile.
    """
    v = p * (1.0 - p)
    H = U @ np.swapaxes(U, -1, -2)
    h = np.diagonal(H, axis1=-2, axis2=-1)
    Xt = np.swapaxes(X, -1, -2)
    cX = ((1.0 - 2.0 * p) / 2.0)[..., None] * X
    first = Xt @ ((h * (1.0 - 6.0 * v) / 2.0)[..., None] * X)
    second = np.swapaxes(cX, -1, -2) @ ((H * H) @ cX)
    return -(first - 2.0 * second)


def _state(beta, X, y, w, firth):
    """Penalized llf, modified score, information and Newton matrix at ``beta`` (batched).

    The Newton matrix is minus the Hessian of the penalized log-likelihood
    where that is positive definite, else the Fisher information (logistf's
    choice); both have the same fixed point, the Hessian converges faster
    far out on a profile where the penalty dominates.
    """
    eta = _eta(beta, X)
    p = expit(eta)
    ll = np.sum(w * (y * eta - np.logaddexp(0.0, eta)), axis=-1)
    info = information(X, p, w)
    resid = w * (y - p)
    newton = info
    if firth:
        U, logdet = _weighted_design(X, p, w)
        ll = ll + 0.5 * logdet
        resid = resid + np.sum(U * U, axis=-1) * (0.5 - p)
        newton = info + penalty_curvature(X, p, U)
    score = np.einsum("...np,...n->...p", X, resid)
    return ll, score, info, newton


class LogisticRule(NewtonRule):
    """logistf's iteration for :func:`~.newton.newton_iterate` (see :func:`newton_fit`)."""

    stuck_converges = False  # no uphill point along the step: stay (the fit reports non-convergence)

    def __init__(self, X, *, firth, tol, max_step, max_halving, flat_tol):
        self.X, self.firth, self.tol, self.max_step, self.flat_tol = X, firth, tol, max_step, flat_tol
        self.evaluations = max_halving + 1
        self.eye = np.eye(X.shape[-1])
        scale = np.max(np.abs(X), axis=1)  # (B, k): convergence is judged in the units of each column
        scale[scale == 0] = 1.0
        self.scale = scale
        self.rows = None  # models of the current iteration (set by direction)

    def direction(self, old, beta, free, rows):
        self.rows = rows
        mask2 = free[:, :, None] & free[:, None, :]
        sub = np.where(mask2, old.curvature, self.eye)
        if self.firth:  # fall back to the Fisher information where -Hessian is not positive definite
            not_pd = np.linalg.eigvalsh(sub)[..., 0] <= 0
            sub[not_pd] = np.where(mask2[not_pd], old.info[not_pd], self.eye)
        sc = np.where(free, old.grad, 0.0)
        try:
            delta = np.linalg.solve(sub, sc[..., None])[..., 0]
        except np.linalg.LinAlgError:
            delta = (solver_inverse(sub) @ sc[..., None])[..., 0]  # per model: Moore-Penrose where singular
        # Cap the change of the linear predictor (not of the coefficients), so the iteration does not
        # depend on the units of a covariate: x -> c x gives the same path with beta -> beta / c.
        biggest = np.max(np.abs(np.einsum("bnp,bp->bn", self.X[rows], delta)), axis=-1, initial=0.0)
        return delta / np.maximum(biggest / self.max_step, 1.0)[:, None]

    def accept(self, new_value, old_value, step, old_grad):
        return new_value >= old_value - 1e-12 * (np.abs(old_value) + 1.0)

    def done(self, old, new, old_beta, new_beta, step, halved, accepted, free):
        rows = self.rows
        moved = np.max(np.abs(np.einsum("bnp,bp->bn", self.X[rows], new_beta - old_beta)), axis=-1, initial=0.0)
        grad = np.max(np.abs(np.where(free, new.grad, 0.0)) / self.scale[rows], axis=-1, initial=0.0)
        small = (moved <= self.tol) & (grad <= np.sqrt(self.tol))
        if self.flat_tol is not None:
            flat = np.abs(new.value - old.value) <= self.flat_tol * (np.abs(new.value) + 0.1)
            small |= flat & (grad <= np.sqrt(self.flat_tol))
        return small


def newton_fit(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray | None = None,
    *,
    firth: bool = False,
    beta0: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
    max_step: float = 5.0,
    max_halving: int = 60,
    flat_tol: float | None = None,
    evaluate=None,
) -> LogisticFit:
    """Maximise the (penalized) log-likelihood by Newton steps with step-halving.

    Parameters
    ----------
    X : array, shape (n, p) or (B, n, p)
        Design matrix (intercept column included by the caller).
    y : array, shape (n,) or (B, n)
        Outcomes 0/1.
    w : array, optional
        Case weights (default 1).
    firth : bool
        Maximise ``l + 0.5 log det I`` (Firth) instead of ``l``.
    beta0 : array, optional
        Start (default 0); fixed coefficients keep their start value.
    fixed : bool array, shape (p,) or (B, p), optional
        Coefficients held at ``beta0``.
    max_iter, tol : int, float
        Convergence: largest change of the linear predictor ``<= tol`` and
        largest free modified score, divided by its column's largest absolute
        value, ``<= sqrt(tol)``.  Both are invariant to the units of a covariate.
    max_step : float
        Largest change of the linear predictor (log odds) in one step; logistf
        caps the coefficients instead (``maxstep``), which makes the number of
        iterations depend on a covariate's units.  The fixed point is the same.
        Firth fits take true Newton steps (minus the Hessian of the penalized
        log-likelihood) where that matrix is positive definite, and Fisher
        scoring steps (logistf's) elsewhere.  Step-halving keeps every step
        uphill.
    max_halving : int
        Step-halvings allowed per iteration.
    flat_tol : float, optional
        Also stop when the relative change of the log-likelihood and the
        largest free score (below its square root) fall below it (``glm``'s deviance criterion).  Meant for maximum likelihood under
        separation, where the estimates drift to infinity and never settle.
    evaluate : callable, optional
        ``evaluate(beta, rows) -> (llf, score, info, newton_matrix)`` for the
        models ``rows`` (an index array into the batch) at ``beta``; defaults to
        the SVD-based evaluation here.  The batched engine passes its own
        (faster for many small models) and shares this iteration
        (:func:`~.newton.newton_iterate` with :class:`LogisticRule`).

    Returns
    -------
    LogisticFit
    """
    X = np.asarray(X, dtype=float)
    single = X.ndim == 2
    if single:
        X = X[None]
    B, n, k = X.shape
    y = np.broadcast_to(np.asarray(y, dtype=float).reshape((-1, n)), (B, n))
    w = np.ones((B, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float).reshape((-1, n)), (B, n))
    beta = np.zeros((B, k)) if beta0 is None else np.array(np.broadcast_to(beta0, (B, k)), dtype=float)
    free = np.ones((B, k), dtype=bool) if fixed is None else ~np.broadcast_to(np.asarray(fixed, bool), (B, k))
    if evaluate is None:

        def evaluate(b, rows):
            return _state(b, X[rows], y[rows], w[rows], firth)

    rule = LogisticRule(X, firth=firth, tol=tol, max_step=max_step, max_halving=max_halving, flat_tol=flat_tol)
    it = newton_iterate(lambda b, rows: Evaluation(*evaluate(b, rows)), beta, rule, free=free, max_iter=max_iter)
    if single:
        return LogisticFit(it.beta[0], float(it.value[0]), it.info[0], bool(it.converged[0]), int(it.n_iter[0]))
    return LogisticFit(it.beta, it.value, it.info, it.converged, it.n_iter)
