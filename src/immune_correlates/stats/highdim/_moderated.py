"""Empirical-Bayes moderated t-statistics for many linear models sharing one design.

The model of Smyth (2004): for population ``g`` the residual variance ``s_g^2`` on ``d``
degrees of freedom is a draw of ``sigma_g^2 chi^2_d / d``, and ``1 / sigma_g^2`` follows a
scaled chi-square prior with ``d0`` degrees of freedom and scale ``s0^2``.  The prior is
estimated from the ``s_g^2`` of every population by the method of moments on
``log s_g^2`` (its mean and variance, through the digamma and trigamma functions); each
variance is then shrunk to ``(d0 s0^2 + d s_g^2) / (d0 + d)`` and the moderated t has
``d0 + d`` degrees of freedom (capped at the pooled residual degrees of freedom), as limma's
``lmFit`` + ``eBayes`` (limma 3.54, ``robust = FALSE``, ``trend = FALSE``).

Everything is vectorised over a leading batch axis so that permutations of a design are
moderated in one call.

References
----------
Smyth GK (2004). Linear models and empirical Bayes methods for assessing differential
expression in microarray experiments. *Statistical Applications in Genetics and Molecular
Biology* 3:Article 3.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import special

__all__ = ["trigamma_inverse", "fit_f_dist", "LinearFits", "least_squares", "Moderated", "moderate"]


def trigamma_inverse(x: np.ndarray) -> np.ndarray:
    """``y`` with ``trigamma(y) = x`` (Newton's method on ``1 / trigamma``, Smyth 2004, appendix).

    >>> float(np.round(special.polygamma(1, trigamma_inverse(np.array([0.3])))[0], 12))
    0.3
    """
    x = np.asarray(x, dtype=float)
    y = np.empty_like(x)
    big, small = x > 1e7, x < 1e-6
    y[big] = 1.0 / np.sqrt(x[big])
    y[small] = 1.0 / x[small]
    mid = ~(big | small)
    xm = x[mid]
    ym = 0.5 + 1.0 / xm
    for _ in range(50):
        tri = special.polygamma(1, ym)
        step = tri * (1.0 - tri / xm) / special.polygamma(2, ym)
        ym = ym + step
        if xm.size == 0 or np.max(-step / ym) < 1e-8:
            break
    y[mid] = ym
    return y


def fit_f_dist(s2: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """Prior scale ``s0^2`` and degrees of freedom ``d0`` of the variances ``s2`` (``(B, G)``).

    Method of moments on ``log s2`` as limma's ``fitFDist`` (no covariate): variances below
    ``1e-5`` times their median are raised to it; when the spread of ``log s2`` is no more
    than sampling alone explains, ``d0`` is infinite and ``s0^2`` the mean variance.
    Returns two ``(B,)`` arrays.
    """
    s2 = np.atleast_2d(np.asarray(s2, dtype=float))
    G = s2.shape[1]
    x = np.maximum(s2, 0.0)
    med = np.median(x, axis=1, keepdims=True)
    med = np.where(med == 0, 1.0, med)
    x = np.maximum(x, 1e-5 * med)
    e = np.log(x) - special.digamma(df / 2.0) + np.log(df / 2.0)
    emean = e.mean(axis=1)
    evar = np.sum((e - emean[:, None]) ** 2, axis=1) / (G - 1) - special.polygamma(1, df / 2.0)
    d0 = np.full(emean.shape, np.inf)
    s0 = x.mean(axis=1)
    ok = evar > 0
    if ok.any():
        d0[ok] = 2.0 * trigamma_inverse(evar[ok])
        s0[ok] = np.exp(emean[ok] + special.digamma(d0[ok] / 2.0) - np.log(d0[ok] / 2.0))
    return s0, d0


class LinearFits(NamedTuple):
    """Least-squares fits of ``G`` responses on one design (``B`` designs at once)."""

    coef: np.ndarray  # (B, p, G)
    unscaled: np.ndarray  # (B, p, p): (X'X)^-1
    s2: np.ndarray  # (B, G) residual variances
    df: int  # residual degrees of freedom


def least_squares(X: np.ndarray, Y: np.ndarray) -> LinearFits:
    """Ordinary least squares of every column of ``Y`` (``(n, G)``, or ``(B, n, G)``) on ``X`` (``(n, p)``).

    The design must have full column rank (the caller checks it and names the aliased terms).
    """
    X = np.asarray(X, dtype=float)
    Yb = Y[None] if Y.ndim == 2 else Y
    n, p = X.shape
    unscaled = np.linalg.inv(X.T @ X)
    coef = unscaled @ (X.T @ Yb)  # (B, p, G)
    resid = Yb - X @ coef
    df = n - p
    B = Yb.shape[0]
    return LinearFits(coef, np.broadcast_to(unscaled, (B, p, p)), np.einsum("bng,bng->bg", resid, resid) / df, df)


class Moderated(NamedTuple):
    """Moderated t of one coefficient for ``G`` populations (``B`` designs at once)."""

    estimate: np.ndarray  # (B, G)
    std_error: np.ndarray  # (B, G): stdev.unscaled * sqrt(posterior variance)
    t: np.ndarray  # (B, G)
    df_total: np.ndarray  # (B,)
    df_prior: np.ndarray  # (B,)
    s2_prior: np.ndarray  # (B,)
    s2_post: np.ndarray  # (B, G)


def moderate(fits: LinearFits, coef: int) -> Moderated:
    """Empirical-Bayes moderated t-statistics of coefficient ``coef`` (limma's ``eBayes``)."""
    s0, d0 = fit_f_dist(fits.s2, fits.df)
    d = fits.df
    G = fits.s2.shape[1]
    finite = np.isfinite(d0)[:, None]
    with np.errstate(invalid="ignore"):
        post = np.where(
            finite, (d * fits.s2 + np.where(finite, d0[:, None], 0.0) * s0[:, None]) / (d + d0[:, None]), s0[:, None]
        )
    df_total = np.minimum(d + d0, d * G)
    est = fits.coef[:, coef, :]
    se = np.sqrt(fits.unscaled[:, coef, coef])[:, None] * np.sqrt(post)
    return Moderated(est, se, est / se, df_total, d0, s0, post)
