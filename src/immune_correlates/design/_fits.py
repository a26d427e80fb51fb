"""The planned analyses of many trials at once, on the batched engine.

Every function takes arrays with a leading trial axis and returns per-trial
arrays.  Logistic and Cox fits go through
:mod:`immune_correlates.stats.engine` (the same Newton iterations as
:func:`~immune_correlates.stats.regression.logistic.fit_logistic` and
:func:`~immune_correlates.stats.regression.cox.fit_cox`); the rank and log-rank tests
are closed-form array code equal to
:func:`~immune_correlates.stats.groups.rank_tests.wilcoxon_rank_sum` and
:func:`~immune_correlates.stats.survival.logrank.logrank_test` on untied data.

Each trial has its own follow-up times, while the batched Cox engine shares
one time ordering across a batch.  :func:`cox_trials` therefore sorts each
trial by its own times and lays it out on ``2n`` shared slots: rank ``k``
owns slot ``2k`` (event, weight 1 if the patient had the event) and slot
``2k + 1`` (censored, weight 1 otherwise), the two slots tied at time ``k``.
A weight-0 slot drops out of every sum, so each trial's partial likelihood
(and Firth penalty) is exactly its own.  Simulated times are continuous, so
trials have no tied times.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats

from ..stats.engine import cox as bcox
from ..stats.engine import logistic as blog
from ..stats.engine.linalg import covariance_batch
from ..stats.engine.profile import profile_intervals
from ..stats.groups.rank_tests import mann_whitney_pmf

__all__ = ["FitSummary", "logistic_trials", "cox_trials", "wilcoxon_trials", "logrank_trials", "bh_reject"]


class FitSummary(NamedTuple):
    """Per-trial results for the coefficient of interest."""

    estimate: np.ndarray  # (B,)
    se: np.ndarray
    pvalue: np.ndarray  # of the requested test
    lower: np.ndarray  # Wald interval
    upper: np.ndarray
    finite: np.ndarray  # bool: estimate exists (no separation / monotone likelihood, fit converged)
    flagged: np.ndarray  # bool: separation (logistic) or monotone likelihood (Cox) in the data
    beta: np.ndarray  # (B, p) all coefficients


def _wald(beta, cov, coef, alpha):
    se = np.sqrt(np.maximum(cov[:, coef, coef], 0.0))
    est = beta[:, coef]
    z = stats.norm.isf(alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs(est / se))
    return est, se, p, est - z * se, est + z * se


def _inv(m):
    return covariance_batch(m)[0]


def _chunked(fn, B: int, chunk: int, *arrays, **kw) -> FitSummary:
    """``fn`` on consecutive blocks of ``chunk`` trials (bounds memory), results concatenated."""
    if chunk >= B:
        return fn(*arrays, **kw)
    parts = [fn(*(a[lo : lo + chunk] for a in arrays), **kw) for lo in range(0, B, chunk)]
    return FitSummary(*(np.concatenate(field) for field in zip(*parts)))


def logistic_trials(
    X, y, *, firth: bool, test: str = "wald", coef: int = 1, alpha: float = 0.05, ci: str = "wald", chunk: int = 8192
) -> FitSummary:
    """Logistic regression of ``y`` on the design ``X`` (with intercept column) in every trial.

    Parameters
    ----------
    X : (B, n, p) array
    y : (B, n) 0/1 array
    firth : bool
        Firth's penalized likelihood; otherwise ML (separated trials stop on
        a flat likelihood, as ``fit_logistic`` does, and count as not finite).
    test : {"wald", "lr"}
        Wald test, or (penalized) likelihood-ratio test against the fit with
        coefficient ``coef`` fixed at 0 (for Firth, logistf's convention: the
        constrained fit keeps the full model's penalty).
    ci : {"wald", "profile"}
        Wald interval, or profile (penalized) likelihood interval (as
        ``fit_logistic(ci="profile")``; not computed for separated ML fits).
    chunk : int
        Trials per call of the engine (bounds memory).
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    return _chunked(_logistic_block, X.shape[0], chunk, X, y, firth=firth, test=test, coef=coef, alpha=alpha, ci=ci)


def _logistic_block(X, y, *, firth, test, coef, alpha, ci) -> FitSummary:
    B, n, p = X.shape
    if p == 2:
        sep = blog.separated_univariable(X[:, :, 1], y, np.ones_like(y))
    else:
        sep = _separated_any(X, y)
    degenerate = (y.sum(axis=1) == 0) | (y.sum(axis=1) == n)
    beta = np.full((B, p), np.nan)
    cov = np.full((B, p, p), np.nan)
    llf = np.full(B, np.nan)
    conv = np.zeros(B, bool)
    groups = [(~degenerate, None)] if firth else [(~degenerate & ~sep, None), (~degenerate & sep, 1e-10)]
    for sel, flat in groups:
        idx = np.flatnonzero(sel)
        if not idx.size:
            continue
        fit = blog.newton(X[idx], y[idx], firth=firth, flat_tol=flat)
        beta[idx], llf[idx], conv[idx] = fit.beta, fit.llf, fit.converged
        cov[idx] = _inv(fit.info)
    est, se, p_wald, lo, hi = _wald(beta, cov, coef, alpha)
    finite = ~degenerate & conv & (firth | ~sep)
    if test == "lr":
        pval = np.full(B, np.nan)
        fixed = np.zeros(p, bool)
        fixed[coef] = True
        for sel, flat in groups:
            idx = np.flatnonzero(sel)
            if not idx.size:
                continue
            start = np.where(fixed, 0.0, beta[idx])
            fit0 = blog.newton(X[idx], y[idx], firth=firth, beta0=start, fixed=fixed, flat_tol=flat)
            lr = np.maximum(2 * (llf[idx] - fit0.llf), 0.0)
            pval[idx] = stats.chi2.sf(lr, 1)
    else:
        pval = p_wald
    pval = np.where(degenerate, 1.0, pval)
    if ci == "profile":
        fixed = np.zeros(p, bool)
        fixed[coef] = True

        def constrained(rows, values):
            start = beta[rows].copy()
            start[:, coef] = values
            return blog.newton(X[rows], y[rows], firth=firth, beta0=start, fixed=fixed).llf

        lo, hi = profile_intervals(constrained, est, se, llf, alpha, finite)
    return FitSummary(est, se, pval, lo, hi, finite, sep & ~degenerate, beta)


def _separated_any(X, y):
    from ..stats.engine.separation import separation_from_arrays

    names = [f"x{j}" for j in range(X.shape[2])]
    return np.array(
        [separation_from_arrays(X[b], y[b], names, weights=np.ones(X.shape[1])).separated for b in range(X.shape[0])],
        dtype=bool,
    )


def _slots(x, time, event):
    """Each trial sorted by its own times, laid out on 2n shared (event, censored) slots."""
    B, n, _p = x.shape
    order = np.argsort(time, axis=1, kind="stable")
    xs = np.take_along_axis(x, order[..., None], axis=1)
    ev = np.take_along_axis(event, order, axis=1)
    x2 = np.repeat(xs, 2, axis=1)
    w2 = np.empty((B, 2 * n))
    w2[:, 0::2], w2[:, 1::2] = ev, 1.0 - ev
    d2 = np.tile([1.0, 0.0], n)
    grp = np.repeat(np.arange(n), 2)
    g_start = np.arange(0, 2 * n, 2)
    return x2, w2, d2, grp, g_start


def cox_trials(
    x,
    time,
    event,
    *,
    firth: bool,
    test: str = "wald",
    coef: int = 0,
    alpha: float = 0.05,
    ci: str = "wald",
    chunk: int = 4096,
) -> FitSummary:
    """Cox regression (Efron ties; none occur) of every trial's own follow-up on ``x``.

    Parameters
    ----------
    x : (B, n, p) array
    time, event : (B, n) arrays
    firth : bool
        Firth's penalized partial likelihood (Heinze & Schemper 2001).
    test : {"wald", "lr"}
        Wald test, or (penalized) likelihood-ratio test against the fit with
        coefficient ``coef`` fixed at 0 (``fit_cox``'s Firth p-values).
    ci : {"wald", "profile"}
        Wald interval, or profile (penalized) partial-likelihood interval
        (not computed for ML fits with monotone likelihood).
    chunk : int
        Trials per call of the engine (bounds memory).
    """
    x = np.asarray(x, float)
    time = np.asarray(time, float)
    event = np.asarray(event, float)
    B, _n, p = x.shape
    beta = np.full((B, p), np.nan)
    cov = np.full((B, p, p), np.nan)
    pval_lr = np.full(B, np.nan)
    conv = np.zeros(B, bool)
    mono = np.zeros(B, bool)
    value = np.full(B, np.nan)
    lo_p, hi_p = np.full(B, np.nan), np.full(B, np.nan)
    no_events = event.sum(axis=1) == 0
    for lo_ in range(0, B, chunk):
        idx = np.arange(lo_, min(lo_ + chunk, B))
        idx = idx[~no_events[idx]]
        if not idx.size:
            continue
        x2, w2, d2, grp, g_start = _slots(x[idx], time[idx], event[idx])
        cb = bcox.prepare_batch(x2, w2, d2, grp, g_start, frequency=True)
        fit = bcox.newton(cb, firth=firth)
        beta[idx], conv[idx], value[idx] = fit.beta, fit.converged, fit.value
        info_ok = np.all(np.isfinite(fit.info.reshape(idx.size, -1)), axis=1)
        cov[idx[info_ok]] = _inv(fit.info[info_ok])
        if firth:
            # monotone likelihood is a property of the data: flag it from the ML fit
            mono[idx] = bcox.monotone(bcox.newton(cb, firth=False)).any(axis=1)
        else:
            mono[idx] = bcox.monotone(fit).any(axis=1)
        if test == "lr":
            free = np.ones(p, bool)
            free[coef] = False
            start = fit.beta.copy()
            start[:, coef] = 0.0
            fit0 = bcox.newton(cb, start, firth=firth, free=free)
            pval_lr[idx] = stats.chi2.sf(np.maximum(2 * (fit.value - fit0.value), 0.0), 1)
        if ci == "profile":
            free = np.ones(p, bool)
            free[coef] = False
            fb = fit.beta

            def constrained(rows, values, cb=cb, fb=fb, free=free):
                start = fb[rows].copy()
                start[:, coef] = values
                return bcox.newton(cb.take(rows), start, firth=firth, free=free).value

            sub_cov = np.full((idx.size, p, p), np.nan)
            sub_cov[info_ok] = _inv(fit.info[info_ok])
            sub_se = np.sqrt(np.maximum(sub_cov[:, coef, coef], 0.0))
            use = conv[idx] & (firth | ~mono[idx])
            lo_p[idx], hi_p[idx] = profile_intervals(constrained, fit.beta[:, coef], sub_se, fit.value, alpha, use)
    est, se, p_wald, lo, hi = _wald(beta, cov, coef, alpha)
    if ci == "profile":
        lo, hi = lo_p, hi_p
    pval = pval_lr if test == "lr" else p_wald
    pval = np.where(no_events | ~np.isfinite(pval), 1.0, pval)
    finite = ~no_events & conv & (firth | ~mono)
    return FitSummary(est, se, pval, lo, hi, finite, mono, beta)


def wilcoxon_trials(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided Wilcoxon rank-sum test of ``x`` between ``y == 1`` and ``y == 0`` in every trial.

    Exact (Mann-Whitney counts) when both groups are smaller than 50, else
    normal with continuity correction, as ``wilcox.test`` for untied data.
    Returns ``(W, pvalue)`` with ``W = #(x_CR > x_other)``; trials with an
    empty group get ``W = NaN`` and ``p = 1``.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float) > 0.5
    B, n = x.shape
    ranks = np.argsort(np.argsort(x, axis=1, kind="stable"), axis=1) + 1.0
    n1 = y.sum(axis=1).astype(int)
    W = np.sum(np.where(y, ranks, 0.0), axis=1) - n1 * (n1 + 1) / 2.0
    p = np.ones(B)
    for m in np.unique(n1):
        sel = n1 == m
        k = n - m
        if m == 0 or k == 0:
            W[sel] = np.nan
            continue
        w = W[sel]
        if m < 50 and k < 50:
            cdf = np.cumsum(mann_whitney_pmf(int(m), int(k)))
            wi = np.rint(w).astype(int)
            lower = cdf[wi]
            upper = 1.0 - np.where(wi > 0, cdf[np.maximum(wi - 1, 0)], 0.0)
            p[sel] = np.minimum(2 * np.where(w > m * k / 2, upper, lower), 1.0)
        else:
            z = w - m * k / 2
            sigma = np.sqrt(m * k * (n + 1) / 12)
            zz = (z - np.sign(z) * 0.5) / sigma
            p[sel] = 2 * np.minimum(stats.norm.cdf(zz), stats.norm.sf(zz))
    return W, p


def logrank_trials(group, time, event) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-group log-rank test (untied times) in every trial.

    Returns ``(chi2, pvalue, peto_log_hr)`` where ``peto_log_hr = (O1 - E1) / V``
    estimates the log hazard ratio of group 1 against group 0.
    """
    g = np.asarray(group, float)
    _B, n = g.shape
    order = np.argsort(time, axis=1, kind="stable")
    gs = np.take_along_axis(g, order, axis=1)
    ds = np.take_along_axis(np.asarray(event, float), order, axis=1)
    at_risk = n - np.arange(n, dtype=float)
    at_risk1 = np.cumsum(gs[:, ::-1], axis=1)[:, ::-1]
    frac = at_risk1 / at_risk
    o_e = np.sum(ds * (gs - frac), axis=1)
    var = np.sum(ds * frac * (1 - frac), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(var > 0, o_e**2 / var, 0.0)
        hr = np.where(var > 0, o_e / var, np.nan)
    return chi2, stats.chi2.sf(chi2, 1), hr


def bh_reject(p: np.ndarray, q: float) -> np.ndarray:
    """(B, k) Benjamini-Hochberg discoveries at FDR ``q`` of each row of p-values."""
    p = np.asarray(p, float)
    B, k = p.shape
    order = np.argsort(p, axis=1, kind="stable")
    ps = np.take_along_axis(p, order, axis=1)
    ok = ps <= q * np.arange(1, k + 1) / k
    last = np.where(ok.any(axis=1), k - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
    rej_sorted = np.arange(k)[None, :] <= last[:, None]
    out = np.zeros((B, k), bool)
    np.put_along_axis(out, order, rej_sorted, axis=1)
    return out
