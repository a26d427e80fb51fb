"""Cross-validation of penalized paths as ``cv.glmnet`` computes it, on scikit-learn's splitters.

Folds come from scikit-learn (``StratifiedKFold`` on the outcome, or on the event indicator
for Cox models, shuffled with a seed from :mod:`immune_correlates._seeds`; any scikit-learn
splitter or a list of ``(train, test)`` index pairs may be given instead); when every outcome
group is smaller than the number of folds, each group is dealt round-robin over the folds.  The error of each
lambda is glmnet's (4.1-6): the binomial deviance of the held-out patients (probabilities
clipped to ``[1e-5, 1 - 1e-5]``) averaged within folds, or for Cox models the "grouped"
partial-likelihood deviance of Verweij & van Houwelingen (1993), the deviance of the whole
data minus that of the training part at the training fit, per event of the fold.  ``cvm``
is the weighted mean over folds, ``cvsd`` its standard error, ``lam_min`` the largest lambda
at the smallest ``cvm`` and ``lam_1se`` the largest lambda within one ``cvsd`` of it.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from ..._seeds import rng as make_rng
from ..._seeds import seed_sequence
from ...errors import InputError
from ._glmnet import PathData, cox_layout, cox_saturated

__all__ = ["make_folds", "stratified_folds", "CVCurve", "cv_curve", "FoldCoefficients", "at_lambdas"]


class FoldCoefficients(NamedTuple):
    """Each fold's coefficients at the full-data lambdas (``(K, L, p)`` and ``(K, L)``)."""

    beta: np.ndarray
    intercept: np.ndarray


def at_lambdas(fits, n_lambda: np.ndarray, s: np.ndarray) -> FoldCoefficients:
    """Coefficients of each fold's own path at lambdas ``s``, linearly interpolated in lambda (glmnet's ``lambda.interp``).

    ``cv.glmnet`` fits every fold on its own automatic path and reads it at the full-data
    lambdas this way (``alignment = "lambda"``); a lambda outside a fold's path takes the
    nearest end.
    """
    K = fits.beta.shape[0]
    beta = np.empty((K, s.size, fits.beta.shape[2]))
    b0 = np.empty((K, s.size))
    for k in range(K):
        lam = fits.lambdas[k, : n_lambda[k]]
        if lam.size == 1:
            beta[k], b0[k] = fits.beta[k, 0], fits.intercept[k, 0]
            continue
        t = np.clip(s, lam[-1], lam[0])
        frac = (lam[0] - t) / (lam[0] - lam[-1])
        pos = (lam[0] - lam) / (lam[0] - lam[-1])
        coord = np.interp(frac, pos, np.arange(lam.size))
        left, right = np.floor(coord).astype(int), np.ceil(coord).astype(int)
        with np.errstate(invalid="ignore", divide="ignore"):
            wl = (frac - pos[right]) / (pos[left] - pos[right])
        wl = np.where((left == right) | (np.abs(pos[left] - pos[right]) < np.finfo(float).eps), 1.0, wl)
        beta[k] = wl[:, None] * fits.beta[k, left] + (1 - wl)[:, None] * fits.beta[k, right]
        b0[k] = wl * fits.intercept[k, left] + (1 - wl) * fits.intercept[k, right]
    return FoldCoefficients(beta, b0)


def stratified_folds(rng: np.random.Generator, strata: np.ndarray, members: np.ndarray, K: int, n: int) -> np.ndarray:
    """Fold numbers (``-1`` outside ``members``) dealt round-robin within each stratum after shuffling."""
    ids = np.full(n, -1, dtype=np.int64)
    start = 0
    for s in np.unique(strata[members]):
        rows = members[strata[members] == s]
        rows = rows[rng.permutation(rows.size)]
        ids[rows] = (start + np.arange(rows.size)) % K
        start += rows.size
    return ids


def make_folds(data: PathData, cv, seed, groups: np.ndarray | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(train, test)`` index pairs: ``cv`` folds stratified on the outcome / event, or the given splitter's.

    ``StratifiedKFold`` refuses when every outcome group has fewer patients than folds (a dozen
    patients, ten folds); then each group is shuffled and dealt round-robin over the folds
    (:func:`stratified_folds`, as the inner folds of :func:`validate_signature`), so every fold
    still holds about its share of each outcome.
    """
    from sklearn.model_selection import StratifiedKFold

    strata = data.strata
    rows = np.arange(data.X.shape[0])
    if isinstance(cv, int | np.integer):
        counts = np.bincount(strata.astype(int), minlength=2)
        if data.family == "logistic" and counts.min() < 2:
            raise InputError(
                f"cross-validation needs at least 2 patients with each outcome; there are {counts[1]} events "
                f"and {counts[0]} non-events. Give lam= instead."
            )
        if data.family == "cox" and counts[1] < cv:
            raise InputError(
                f"{int(cv)}-fold cross-validation of a Cox model needs at least one event per fold; there are "
                f"{counts[1]} events. Use cv={max(counts[1], 3)} or fewer folds, or give lam=."
            )
        if rows.size < cv:
            raise InputError(
                f"{int(cv)}-fold cross-validation needs at least {int(cv)} patients; there are {rows.size}. "
                "Use fewer folds, or give lam=."
            )
        if counts.max() < cv:  # StratifiedKFold refuses: no stratum fills the folds; deal each stratum round-robin
            ids = stratified_folds(make_rng(seed), strata, rows, int(cv), rows.size)
            return [(np.flatnonzero(ids != k), np.flatnonzero(ids == k)) for k in range(int(cv))]
        state = int(seed_sequence(seed).generate_state(1)[0])
        splitter = StratifiedKFold(n_splits=int(cv), shuffle=True, random_state=state)
        with warnings.catch_warnings():  # fewer events than folds: some folds get none, as they must
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            return [(tr, te) for tr, te in splitter.split(rows, strata)]
    if hasattr(cv, "split"):
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(rows, strata, groups)]
    return [(np.asarray(tr), np.asarray(te)) for tr, te in cv]


class CVCurve(NamedTuple):
    """Cross-validated error along the lambdas."""

    cvm: np.ndarray
    cvsd: np.ndarray
    i_min: int
    i_1se: int


def _logistic_error(data, fits, tests, w):
    """Per fold and lambda: weighted mean binomial deviance of the held-out rows."""
    out, wsum = [], []
    for k, te in enumerate(tests):
        eta = fits.intercept[k][:, None] + fits.beta[k] @ data.X[te].T  # (L, n_test)
        p = np.clip(expit(eta), 1e-5, 1 - 1e-5)
        y = data.labels[te]
        dev = -2.0 * (y * np.log(p) + (1 - y) * np.log(1 - p))
        out.append(dev @ w[te] / w[te].sum())
        wsum.append(w[te].sum())
    return np.array(out), np.array(wsum)


def cox_deviance(data: PathData, rows: np.ndarray, w: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """glmnet's ``coxnet.deviance`` of linear predictors ``eta`` (``(L, n)``) on ``rows``: ``2 (lsat - loglik)``.

    Breslow partial likelihood with the rows' weights rescaled to sum to their number.
    """
    ws = w[rows] * rows.size / w[rows].sum()
    cox = cox_layout(data.times[rows], data.events[rows])
    o = cox.order
    e = eta[:, rows][:, o]
    d = data.events[rows][o].astype(float)
    ww = ws[o]
    m = e.max(axis=1, keepdims=True)
    S0 = np.cumsum((ww * np.exp(e - m))[:, ::-1], axis=1)[:, ::-1][:, cox.first]
    loglik = np.sum(ww * d * (e - np.log(S0) - m), axis=1)
    lsat = -cox_saturated((ww * d)[None], cox)[0]
    return 2.0 * (lsat - loglik)


def _cox_error(data, fits, tests, w):
    everyone = np.flatnonzero(w > 0)  # the problem's rows (a bootstrap resample's drawn patients)
    out, wsum = [], []
    for k, te in enumerate(tests):
        train = np.setdiff1d(everyone, te)
        eta = fits.beta[k] @ data.X.T  # (L, n)
        full = cox_deviance(data, everyone, w, eta)
        part = cox_deviance(data, train, w, eta)
        events = np.sum(w[te] * data.events[te])
        out.append((full - part) / events)
        wsum.append(events)
    return np.array(out), np.array(wsum)


def cv_curve(data: PathData, fits, tests, w: np.ndarray, n_lambda: int) -> CVCurve:
    """``cvm``, ``cvsd`` and the ``lam_min`` / ``lam_1se`` indices over the first ``n_lambda`` lambdas.

    ``fits`` holds each fold's coefficients at the full-data lambdas (:func:`at_lambdas`);
    ``tests`` the held-out rows of each fold and ``w`` the problem's case weights (0 for rows
    outside it, counts for a bootstrap resample).
    """
    err, wsum = (_logistic_error if data.family == "logistic" else _cox_error)(data, fits, tests, w)
    err = err[:, :n_lambda]
    cvm = wsum @ err / wsum.sum()
    N = len(tests)
    cvsd = np.sqrt(wsum @ (err - cvm) ** 2 / wsum.sum() / (N - 1))
    i_min = int(np.flatnonzero(cvm <= np.nanmin(cvm))[0])  # lambdas decrease: the first is the largest
    i_1se = int(np.flatnonzero(cvm <= cvm[i_min] + cvsd[i_min])[0])
    return CVCurve(cvm, cvsd, i_min, i_1se)
