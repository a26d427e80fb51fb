"""Inverting information matrices: one guarded inverse, one policy for singular information.

**Policy.** A covariance matrix reported to the user (standard errors, Wald
tests and intervals) is the inverse of the (observed, possibly penalized)
information.  When that matrix is singular, the model is not identified in
some direction (an aliased term: a constant column, two collinear features,
a dummy of an empty level).  Then every entry of the covariance is NaN and a
:class:`~immune_correlates.errors.SingularInformationWarning` names the terms
involved, as R reports ``NA`` for aliased coefficients; the package never
reports a pseudo-inverse as if it were a covariance.  "Singular" means that
LAPACK finds a zero pivot or the inverse is not finite; a nearly singular
matrix (an estimate running off to infinity under separation or a monotone
likelihood) is inverted as it is, and the separation and monotone-likelihood
checks report that case.

Batched fits (screens, power simulations) use :func:`covariance_batch`: the
singular fits of a batch get NaN, the others their exact inverse, and the
caller reports the flagged rows; no warning per fit.

Inside an iteration (a Firth hat matrix, a Newton step) a value must exist to
go on: :func:`solver_inverse` falls back to the Moore-Penrose inverse there.
It is never reported as a covariance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import SingularInformationWarning, warn

__all__ = ["covariance", "covariance_batch", "solver_inverse", "aliased_terms"]


def aliased_terms(info: np.ndarray, names: Sequence[str] | None = None) -> list[str]:
    """The terms taking part in the null space of a singular information matrix.

    Examples
    --------
    >>> aliased_terms(np.array([[2.0, 2.0, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 1.0]]), ["a", "b", "c"])
    ['a', 'b']
    """
    info = np.asarray(info, dtype=float)
    p = info.shape[0]
    names = list(names) if names is not None else [f"x{j}" for j in range(p)]
    if not np.all(np.isfinite(info)):
        return [n for j, n in enumerate(names) if not np.all(np.isfinite(info[j]))]
    d = np.sqrt(np.abs(np.diag(info)))
    zero = d <= 0
    scale = np.where(zero, 1.0, d)
    corr = info / scale[:, None] / scale[None, :]
    vals, vecs = np.linalg.eigh(corr)
    tol = max(p, 1) * np.finfo(float).eps * max(float(np.max(np.abs(vals))), 1.0) * 1e3
    null = vecs[:, np.abs(vals) <= tol]
    involved = zero | (np.abs(null) > 1e-6).any(axis=1)
    return [n for j, n in enumerate(names) if involved[j]]


def covariance(info: np.ndarray, names: Sequence[str] | None = None, *, caller: str = "") -> np.ndarray:
    """Inverse of one information matrix, NaN (with a warning) when it is singular.

    Parameters
    ----------
    info : (p, p) array
        Observed (penalized) information.
    names : sequence of str, optional
        Term names, used in the warning.
    caller : str
        The public function, used in the warning.

    Returns
    -------
    (p, p) array
        The covariance, or all NaN when ``info`` is singular (see the module
        docstring for the policy).

    Examples
    --------
    >>> covariance(np.array([[4.0, 0.0], [0.0, 1.0]]))
    array([[0.25, 0.  ],
           [0.  , 1.  ]])
    """
    info = np.asarray(info, dtype=float)
    cov = None
    if np.all(np.isfinite(info)):
        with np.errstate(all="ignore"):
            try:
                cov = np.linalg.inv(info)
            except np.linalg.LinAlgError:
                cov = None
        if cov is not None and not np.all(np.isfinite(cov)):
            cov = None
    if cov is not None:
        return cov
    terms = aliased_terms(info, names)
    who = f"{caller}: " if caller else ""
    listing = ", ".join(repr(t) for t in terms) if terms else "(no single term identified)"
    warn(
        f"{who}the information matrix is singular: {listing} cannot be told apart from the other terms "
        "(a constant or collinear column, or a level with no patients). Their standard errors, Wald tests "
        "and intervals are NaN (R reports NA); drop or combine these terms and fit again.",
        SingularInformationWarning,
    )
    return np.full_like(info, np.nan)


def covariance_batch(info: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses of a stack of information matrices; NaN for each singular one.

    Parameters
    ----------
    info : (B, p, p) array

    Returns
    -------
    cov : (B, p, p) array
    singular : (B,) bool array
        The fits whose covariance is NaN (non-finite or singular information).

    Examples
    --------
    >>> cov, singular = covariance_batch(np.array([[[2.0]], [[0.0]]]))
    >>> cov.ravel().tolist(), singular.tolist()
    ([0.5, nan], [False, True])
    """
    info = np.asarray(info, dtype=float)
    B = info.shape[0]
    cov = np.full_like(info, np.nan)
    ok = np.all(np.isfinite(info.reshape(B, -1)), axis=1)
    if info.shape[1] == 0:
        return cov, np.zeros(B, bool)
    idx = np.flatnonzero(ok)
    cov[idx] = _invert_each(info[idx], singular=lambda m: np.full_like(m, np.nan))
    singular = ~np.all(np.isfinite(cov.reshape(B, -1)), axis=1)
    cov[singular] = np.nan
    return cov, singular


def solver_inverse(m: np.ndarray) -> np.ndarray:
    """Inverse of one matrix or a stack, Moore-Penrose for the singular ones (iteration internals only).

    Examples
    --------
    >>> solver_inverse(np.array([[1.0, 1.0], [1.0, 1.0]]))
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    m = np.asarray(m, dtype=float)
    if m.ndim == 2:
        return _invert_each(m[None], singular=np.linalg.pinv)[0]
    return _invert_each(m, singular=np.linalg.pinv)


def _invert_each(m: np.ndarray, *, singular) -> np.ndarray:
    """Inverse of each matrix of a ``(B, p, p)`` stack: one batched call, then one by one only when a
    matrix is singular, ``singular(matrix)`` standing in for its inverse."""
    with np.errstate(all="ignore"):
        try:
            return np.linalg.inv(m)
        except np.linalg.LinAlgError:
            out = np.empty_like(m)
            for b in range(m.shape[0]):
                try:
                    out[b] = np.linalg.inv(m[b])
                except np.linalg.LinAlgError:
                    out[b] = singular(m[b])
            return out
