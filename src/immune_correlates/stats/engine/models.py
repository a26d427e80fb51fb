"""One design, many models: features x resamples fitted in memory-bounded chunks.

A :class:`BatchDesign` holds every feature's design matrix over the same rows
(missing values become weight 0) and the shared outcome.  :func:`fit_models`
fits any list of (feature, case-weight vector) pairs in one batched Newton
run per kind of fit (ML, ML under separation, Firth), so a screen of 500
features and its 1000 bootstrap resamples are all the same call;
:func:`profile_models` gives their likelihood-ratio p-values and profile
intervals through the one profile solver
(:func:`~.profile.profile_intervals`), each step one batched constrained fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import stats

from . import cox as bcox
from . import logistic as blog
from .linalg import covariance_batch
from .parallel import heap_temporaries
from .profile import BatchPathStarts, profile_intervals
from .separation import separation_from_arrays

__all__ = ["BatchDesign", "make_design", "FitArrays", "fit_models", "profile_models", "separated", "ELEMENT_BUDGET"]

#: Rows x coefficients of the models fitted in one batch (bounds memory: ~40 arrays this size).
ELEMENT_BUDGET = 2_000_000


@dataclass(frozen=True, eq=False)
class BatchDesign:
    """Designs of ``m`` models over ``n`` rows (Cox rows sorted by time once)."""

    family: str  # "logistic" or "cox"
    X: np.ndarray  # (m, n, p); for Cox sorted by time
    avail: np.ndarray  # (m, n) 1. where the model may use the row
    y: np.ndarray | None  # (n,) logistic outcome
    event: np.ndarray | None  # (n,) Cox events (sorted)
    order: np.ndarray  # sorted position k holds original row order[k] (identity for logistic)
    grp: np.ndarray | None
    g_start: np.ndarray | None
    coef: int  # index of the screened feature's coefficient
    names: tuple[str, ...]  # term names, the feature's as "{feature}"
    lo: np.ndarray | None = None  # Cox counting-process rows: first tied-time group after entry (sorted)

    @property
    def n(self) -> int:
        return self.X.shape[1]

    @property
    def p(self) -> int:
        return self.X.shape[2]


def make_design(family, features, covariates=None, *, y=None, time=None, event=None, entry=None) -> BatchDesign:
    """Stack ``[1,] feature, covariates`` designs; NaN feature values become weight-0 rows.

    Parameters
    ----------
    family : {"logistic", "cox"}
    features : (n, m) array, may hold NaN
    covariates : (n, q) array without NaN, optional
    y : (n,) 0/1 (logistic); time, event : (n,) arrays (Cox)
    entry : (n,) array, optional
        Cox counting-process rows ``(entry, time]``.
    """
    F = np.asarray(features, dtype=float)
    n, m = F.shape
    C = np.zeros((n, 0)) if covariates is None else np.asarray(covariates, dtype=float).reshape(n, -1)
    avail = (~np.isnan(F)).T.astype(float)
    Fz = np.where(np.isnan(F), 0.0, F).T[..., None]  # (m, n, 1)
    Cb = np.broadcast_to(C, (m,) + C.shape)
    if family == "logistic":
        X = np.concatenate([np.ones((m, n, 1)), Fz, Cb], axis=2)
        return BatchDesign(
            "logistic",
            X,
            avail,
            np.asarray(y, dtype=float),
            None,
            np.arange(n),
            None,
            None,
            1,
            ("Intercept", "{feature}") + tuple(f"c{j}" for j in range(C.shape[1])),
        )
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=float)
    order, grp, g_start = bcox.sort_times(time, event)
    X = np.concatenate([Fz, Cb], axis=2)[:, order]
    lo = None if entry is None else bcox.entry_groups(time[order], g_start, np.asarray(entry, dtype=float)[order])
    return BatchDesign(
        "cox",
        X,
        avail[:, order],
        None,
        event[order],
        order,
        grp,
        g_start,
        0,
        ("{feature}",) + tuple(f"c{j}" for j in range(C.shape[1])),
        lo,
    )


class FitArrays(NamedTuple):
    """Per-model results (leading axis = the models asked for)."""

    beta: np.ndarray  # (B, p)
    cov: np.ndarray  # (B, p, p)
    llf: np.ndarray  # (B,)
    converged: np.ndarray
    n_iter: np.ndarray
    monotone: np.ndarray  # (B,) Cox ML: some coefficient diverges


def separated(design: BatchDesign, idx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Separation (infinite ML estimates) of logistic models ``idx`` with weights ``w``."""
    X = design.X[idx]
    assert design.y is not None  # a logistic design
    if design.p == 2:
        return blog.separated_univariable(X[:, :, 1], design.y, w)
    return np.array(
        [separation_from_arrays(X[b], design.y, design.names, weights=w[b]).separated for b in range(len(idx))],
        dtype=bool,
    )


def _inv(info: np.ndarray) -> np.ndarray:
    """Covariances of a batch: NaN for singular information (the policy of :mod:`.linalg`)."""
    return covariance_batch(info)[0]


def _fit_group(design, X, w, firth, flat, beta0, fixed, tol, max_iter):
    B = X.shape[0]
    p = design.p
    if design.family == "logistic":
        fixed_mask = None
        if fixed is not None:
            fixed_mask = np.zeros(p, dtype=bool)
            fixed_mask[fixed] = True
        fit = blog.newton(
            X,
            design.y,
            w,
            firth=firth,
            beta0=beta0,
            fixed=fixed_mask,
            flat_tol=1e-10 if flat else None,
            tol=tol,
            max_iter=max_iter,
        )
        return FitArrays(fit.beta, _inv(fit.info), fit.llf, fit.converged, fit.n_iter, np.zeros(B, bool))
    cb = bcox.prepare_batch(X, w, design.event, design.grp, design.g_start, frequency=True, lo=design.lo)
    free = None
    if fixed is not None:
        free = np.ones(p, dtype=bool)
        free[fixed] = False
    fit = bcox.newton(cb, beta0, firth=firth, free=free, tol=tol, max_iter=max_iter)
    mono = np.zeros(B, bool) if firth or fixed is not None else bcox.monotone(fit).any(axis=1)
    return FitArrays(fit.beta, _inv(fit.info), fit.value, fit.converged, fit.n_iter, mono)


@heap_temporaries()
def fit_models(
    design: BatchDesign,
    idx,
    w=None,
    *,
    firth=False,
    flat=False,
    beta0=None,
    fixed: int | None = None,
    tol=1e-10,
    max_iter=100,
    budget=ELEMENT_BUDGET,
) -> FitArrays:
    """Fit models ``idx`` (feature indices, with repeats) with case weights ``w`` (``(B, n)``, original order).

    ``firth`` and ``flat`` (ML with the flat-likelihood stop, for separated
    logistic data) are scalars or ``(B,)`` arrays; models of each kind are
    fitted together, ``budget // (n p)`` at a time.  ``beta0`` (``(B, p)``)
    starts the iteration; with ``fixed`` (a coefficient index) that
    coefficient stays at its ``beta0`` value (constrained fits of a profile).
    """
    idx = np.asarray(idx, dtype=np.int64)
    B = idx.size
    W = design.avail[idx] if w is None else np.asarray(w, dtype=float)[:, design.order] * design.avail[idx]
    firth = np.broadcast_to(np.asarray(firth, bool), (B,))
    flat = np.broadcast_to(np.asarray(flat, bool), (B,))
    p = design.p
    out = FitArrays(
        np.full((B, p), np.nan),
        np.full((B, p, p), np.nan),
        np.full(B, np.nan),
        np.zeros(B, bool),
        np.zeros(B, np.int64),
        np.zeros(B, bool),
    )
    size = max(1, budget // max(design.n * p, 1))
    for fv in (False, True):
        for lv in (False, True):
            sel = np.flatnonzero((firth == fv) & (flat == lv))
            for lo in range(0, sel.size, size):
                s = sel[lo : lo + size]
                b0 = None if beta0 is None else np.asarray(beta0, dtype=float)[s]
                res = _fit_group(design, design.X[idx[s]], W[s], fv, lv and not fv, b0, fixed, tol, max_iter)
                for name, arr in zip(FitArrays._fields, res):
                    getattr(out, name)[s] = arr
    return out


def profile_models(
    design: BatchDesign,
    idx,
    fit: FitArrays,
    *,
    firth,
    flat,
    alpha: float,
    diverged=None,
    xtol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Likelihood-ratio p-values and profile intervals of the feature's coefficient of models ``idx``.

    ``fit`` holds their unconstrained fits.  Every step of the solver is one
    batched constrained fit (the feature's coefficient held, the others
    re-maximised), started, as :func:`fit_logistic`'s, on the path of the
    previous ones (logistic) or at the estimate (Cox, as ``fit_cox``), so the
    results equal the single fits' to the solver's tolerance.  ``diverged``
    (``(B,)`` bool): infinite ML estimates, whose profile stays open on the
    side the estimate ran off to (that end is infinite without a search; the
    first bracket is ``1 + |beta|``).

    Returns ``(p_value, lower, upper)``, each ``(B,)``.
    """
    idx = np.asarray(idx, dtype=np.int64)
    k = design.coef
    firth = np.broadcast_to(np.asarray(firth, bool), idx.shape)
    flat = np.broadcast_to(np.asarray(flat, bool), idx.shape)
    diverged = np.zeros(idx.size, bool) if diverged is None else np.asarray(diverged, bool)
    est = fit.beta[:, k]
    with np.errstate(invalid="ignore"):
        se = np.sqrt(fit.cov[:, k, k])
    scale = np.where(diverged, 1.0 + np.abs(est), se)
    starts = BatchPathStarts(fit.beta, follow=design.family == "logistic")

    def constrained(rows, values):
        b0 = starts.start(rows, k, values)
        res = fit_models(design, idx[rows], firth=firth[rows], flat=flat[rows], beta0=b0, fixed=k)
        llf, beta = res.llf.copy(), res.beta.copy()
        bad = np.flatnonzero(~res.converged) if starts.follow else np.zeros(0, np.int64)
        if bad.size:  # an extrapolated start can be far off: start those at the estimate (as the single fits)
            again = fit.beta[rows[bad]].copy()
            again[:, k] = values[bad]
            res2 = fit_models(
                design, idx[rows[bad]], firth=firth[rows[bad]], flat=flat[rows[bad]], beta0=again, fixed=k
            )
            take = res2.converged | (res2.llf > llf[bad])
            llf[bad[take]], beta[bad[take]] = res2.llf[take], res2.beta[take]
        starts.record(rows, values, beta)
        return llf

    use = np.isfinite(est) & np.isfinite(fit.llf)
    rows = np.flatnonzero(use)
    llf0 = np.full(idx.size, np.nan)
    if rows.size:
        llf0[rows] = constrained(rows, np.zeros(rows.size))
    pval = np.full(idx.size, np.nan)
    pval[rows] = stats.chi2.sf(np.maximum(2.0 * (fit.llf[rows] - llf0[rows]), 0.0), 1)
    lower, upper = np.full(idx.size, np.nan), np.full(idx.size, np.nan)
    for sides, sel in (
        ((0, 1), use & ~diverged),
        ((0,), use & diverged & (est > 0)),
        ((1,), use & diverged & (est <= 0)),
    ):
        if not sel.any():
            continue
        lo, hi = profile_intervals(
            constrained, est, scale, fit.llf, alpha, sel, max_expand=59, xtol=xtol, max_iter=200, sides=sides
        )
        lower[sel] = lo[sel] if 0 in sides else -np.inf
        upper[sel] = hi[sel] if 1 in sides else np.inf
    return pval, lower, upper
