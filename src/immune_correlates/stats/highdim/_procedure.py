"""glmnet's whole procedure for many problems at once: path, folds, cross-validated error, chosen lambda.

A problem is a vector of case weights over the rows (all ones: the data; 0/1: an outer
cross-validation fold's training rows; counts: a bootstrap resample) and, for its inner
cross-validation, a fold number per row.  Each problem gets glmnet's automatic lambda path,
each of its folds its own path read at the problem's lambdas (``cv.glmnet``'s alignment), the
cross-validated deviance curve and the ``lam_min`` / ``lam_1se`` choice.  The problems are
solved together by :func:`._glmnet.fit_path`, so validating a signature by nested
cross-validation or by Harrell's bootstrap costs a few batched path fits, not thousands of
separate ones.
"""

from __future__ import annotations

from typing import NamedTuple, TypedDict

import numpy as np

from ._cv import at_lambdas, cv_curve
from ._glmnet import PathData, PathFit, fit_path, lambda_path

__all__ = ["PathSettings", "Procedure", "cross_validated", "default_ratio", "take"]


def default_ratio(n, p: int):
    """glmnet's ``lambda.min.ratio``: 0.01 when there are fewer rows than columns, else 1e-4."""
    return np.where(np.asarray(n, dtype=float) < p, 0.01, 1e-4)


def take(fits: PathFit, idx) -> PathFit:
    """The problems ``idx`` of a batched fit."""
    return PathFit(*(a[idx] for a in fits))


class PathSettings(TypedDict):
    """The options of :func:`cross_validated` a public call fixes once and passes on (``**settings``)."""

    alpha: float
    vp: np.ndarray
    n_lambda: int
    lambda_min_ratio: float | None


class Procedure(NamedTuple):
    """Per problem: its path, the cross-validated curve and the chosen lambdas (indices into the path)."""

    full: PathFit  # (B, L) each problem's own automatic path
    cvm: np.ndarray  # (B, L), NaN beyond the problem's path
    cvsd: np.ndarray  # (B, L)
    i_min: np.ndarray  # (B,)
    i_1se: np.ndarray  # (B,)


def cross_validated(
    data: PathData,
    V: np.ndarray,
    fold_ids: np.ndarray | None,
    *,
    alpha: float,
    vp: np.ndarray,
    n_lambda: int,
    lambda_min_ratio: float | None,
) -> Procedure:
    """glmnet + cv.glmnet for each problem (weights ``V``, ``(B, n)``; ``fold_ids`` ``(B, n)``, -1 outside).

    ``fold_ids=None``: the path only (no cross-validation; the curves are NaN).
    """
    B = V.shape[0]
    p = data.X.shape[1]
    ratio = default_ratio(V.sum(axis=1), p) if lambda_min_ratio is None else lambda_min_ratio
    lams, _ = lambda_path(data, V, alpha=alpha, vp=vp, n_lambda=n_lambda, min_ratio=ratio)
    full = fit_path(data, V, lams, alpha=alpha, vp=vp, auto=True)
    cvm = np.full((B, n_lambda), np.nan)
    cvsd = np.full((B, n_lambda), np.nan)
    i_min = np.zeros(B, dtype=np.int64)
    i_1se = np.zeros(B, dtype=np.int64)
    if fold_ids is None:
        return Procedure(full, cvm, cvsd, i_min, i_1se)
    K = int(fold_ids.max()) + 1
    Vf = np.repeat(V, K, axis=0) * (np.repeat(fold_ids, K, axis=0) != np.tile(np.arange(K), B)[:, None])
    fratio = default_ratio(Vf.sum(axis=1), p) if lambda_min_ratio is None else lambda_min_ratio
    flams, _ = lambda_path(data, Vf, alpha=alpha, vp=vp, n_lambda=n_lambda, min_ratio=fratio)
    folds = fit_path(data, Vf, flams, alpha=alpha, vp=vp, auto=True)
    for b in range(B):
        L = int(full.n_lambda[b])
        sub = take(folds, slice(b * K, (b + 1) * K))
        coefs = at_lambdas(sub, sub.n_lambda, full.lambdas[b, :L])
        tests = [np.flatnonzero((fold_ids[b] == k) & (V[b] > 0)) for k in range(K)]
        curve = cv_curve(data, coefs, tests, V[b], L)
        cvm[b, :L], cvsd[b, :L] = curve.cvm, curve.cvsd
        i_min[b], i_1se[b] = curve.i_min, curve.i_1se
    return Procedure(full, cvm, cvsd, i_min, i_1se)
