"""The bootstrap behind ``screen(n_boot=...)``: resampled batched fits and their intervals.

Kept apart from :mod:`.resampling` (the user-facing bootstrap, optimism and
permutation functions) so that :mod:`.screen` can use it without importing
them back: ``screen -> _bootstrap -> batched``; ``resampling -> screen``.

Replicate ``r`` always draws from child ``r`` of ``SeedSequence(seed)`` and the
blocks of (resample, feature) models are fixed by the problem size alone
(:func:`~.batched.parallel.model_blocks`), so results are bit-for-bit the
same whatever ``n_jobs`` or the joblib backend; a different ``budget`` (block
size) changes them by rounding only.

References: Efron B, Tibshirani R (1993) *An Introduction to the Bootstrap*,
ch. 13-14 (percentile, BCa); Davison AC, Hinkley DV (1997) *Bootstrap Methods
and their Application*, 5.2-5.3.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import ndtri

from ..._params import ALPHA, check_params
from ..engine.models import BatchDesign, fit_models, separated
from ..engine.parallel import (
    BLOCK_ELEMENTS,
    bootstrap_counts,
    model_blocks,
    replicate_seeds,
    run_blocks,
)

__all__ = [
    "norm_inter",
    "percentile_interval",
    "bca_interval",
    "resample_ok",
    "fit_weighted",
    "bootstrap_coefficients",
    "BootstrapJob",
]


def norm_inter(t: np.ndarray, probs) -> np.ndarray:
    """Quantiles of replicates ``t`` as R's ``boot:::norm.inter``.

    With ``R`` finite replicates sorted, the ``p`` quantile is the order
    statistic ``k = (R + 1) p`` when that is an integer, else the linear
    interpolation between order statistics ``k`` and ``k + 1`` on the normal
    quantile scale; outside ``[1, R]`` the extreme replicate (Davison &
    Hinkley 1997, eq. 5.8).
    """
    t = np.sort(np.asarray(t, dtype=float)[np.isfinite(t)])
    probs = np.atleast_1d(np.asarray(probs, dtype=float))
    R = t.size
    out = np.full(probs.shape, np.nan)
    if R == 0:
        return out
    rk = (R + 1) * probs
    k = np.trunc(rk).astype(np.int64)
    for i, (p_, r_, k_) in enumerate(zip(probs, rk, k)):
        if not np.isfinite(p_):
            continue
        if k_ <= 0:
            out[i] = t[0]
        elif k_ >= R:
            out[i] = t[-1]
        elif k_ == r_:
            out[i] = t[k_ - 1]
        else:
            z, z1, z2 = ndtri([p_, k_ / (R + 1), (k_ + 1) / (R + 1)])  # normal quantiles, without stats' overhead
            out[i] = t[k_ - 1] + (z - z1) / (z2 - z1) * (t[k_] - t[k_ - 1])
    return out


@check_params(
    alpha=ALPHA,
)
def percentile_interval(boot: np.ndarray, *, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of ``boot`` (``(R, m)``, NaN = failed replicate).

    The ``alpha/2`` and ``1 - alpha/2`` quantiles by :func:`norm_inter`, as
    ``boot.ci(type = "perc")``.
    """
    boot = np.asarray(boot, dtype=float)
    boot = boot.reshape(boot.shape[0], -1)
    ends = np.array([norm_inter(boot[:, j], [alpha / 2, 1 - alpha / 2]) for j in range(boot.shape[1])])
    return ends[:, 0], ends[:, 1]


@check_params(
    alpha=ALPHA,
)
def bca_interval(theta: np.ndarray, boot: np.ndarray, jack: np.ndarray, *, alpha: float = 0.05):
    """Bias-corrected and accelerated interval, as ``boot.ci(type = "bca", L = jackknife influence)``.

    ``z0 = qnorm(mean(boot < theta))``, acceleration
    ``a = sum(L^3) / (6 sum(L^2)^1.5)`` with the jackknife influence values
    ``L_i = (n - 1) (mean(jack) - jack_i)``, and the ends are the
    :func:`norm_inter` quantiles at ``pnorm(z0 + (z0 + z) / (1 - a (z0 + z)))``
    (Efron 1987; Davison & Hinkley 1997, 5.3.2).

    Parameters
    ----------
    theta : (m,) estimates on the data
    boot : (R, m) bootstrap replicates (NaN: failed)
    jack : (n, m) leave-one-out estimates (NaN: row not used by that estimate)
    """
    theta, boot, jack = np.atleast_1d(theta), np.atleast_2d(boot), np.atleast_2d(jack)
    ok = np.isfinite(boot)
    lo, hi = np.full(theta.shape, np.nan), np.full(theta.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z0 = stats.norm.ppf(np.sum((boot < theta) & ok, axis=0) / ok.sum(axis=0))
        d = np.nanmean(jack, axis=0) - jack
        acc = np.nansum(d**3, axis=0) / (6.0 * np.nansum(d**2, axis=0) ** 1.5)
        zq = z0[None, :] + stats.norm.ppf([[alpha / 2], [1 - alpha / 2]])
        adj = stats.norm.cdf(z0 + zq / (1 - acc * zq))
    for j in range(theta.size):
        if np.all(np.isfinite(adj[:, j])):
            lo[j], hi[j] = norm_inter(boot[:, j], adj[:, j])
    return lo, hi


def resample_ok(design: BatchDesign, idx: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Resamples in which the model is estimable: both outcomes / an event, a non-constant feature."""
    Wa = W * design.avail[idx][:, np.argsort(design.order)]
    outc = design.y if design.y is not None else np.asarray(design.event)[np.argsort(design.order)]
    ev = Wa @ outc
    ok = ev > 0
    if design.family == "logistic":
        ok &= (Wa.sum(axis=1) - ev) > 0
    feat = design.X[idx][:, :, design.coef][:, np.argsort(design.order)]
    used = Wa > 0
    lo = np.min(np.where(used, feat, np.inf), axis=1)
    hi = np.max(np.where(used, feat, -np.inf), axis=1)
    return ok & (lo < hi)


def fit_weighted(design, idx, firth, W):
    """Coefficient of the feature for models ``idx`` with case weights ``W`` (NaN where not estimable)."""
    flat = np.zeros(idx.size, dtype=bool)
    if design.family == "logistic" and not np.all(firth):
        ml = np.flatnonzero(~firth)
        flat[ml] = separated(design, idx[ml], (W * design.avail[idx])[ml])
    fit = fit_models(design, idx, W, firth=firth, flat=flat)
    est = fit.beta[:, design.coef]
    good = resample_ok(design, idx, W) & fit.converged & np.isfinite(est)
    return np.where(good, est, np.nan), fit


@dataclass(frozen=True, eq=False)
class BootstrapJob:
    """What every bootstrap block needs (shipped to each worker once): the design, models and seeds."""

    design: BatchDesign
    idx: np.ndarray  # (m,) feature models
    firth: np.ndarray  # (m,) bool
    seeds: tuple  # child SeedSequence of each replicate


def bootstrap_block(job: BootstrapJob, block: range) -> np.ndarray:
    """Feature coefficients of the flat models ``r * m + j`` in ``block`` (NaN: not estimable)."""
    m, n = job.idx.size, job.design.n
    flat = np.arange(block.start, block.stop)
    rep, feat = np.divmod(flat, m)
    counts = bootstrap_counts([job.seeds[r] for r in range(rep[0], rep[-1] + 1)], n)
    est, _ = fit_weighted(job.design, job.idx[feat], job.firth[feat], counts[rep - rep[0]])
    return est


def bootstrap_coefficients(
    design: BatchDesign,
    idx,
    firth,
    n_boot: int,
    *,
    seed=None,
    alpha=0.05,
    kind="percentile",
    n_jobs=1,
    progress=False,
    budget=BLOCK_ELEMENTS,
) -> dict:
    """Bootstrap the feature coefficient of models ``idx`` of ``design`` (``screen``'s engine).

    The ``n_boot x len(idx)`` refits are cut into blocks of at most
    ``budget`` rows x coefficients (whole replicates or parts of one) and
    run through :func:`~.batched.parallel.run_blocks`.

    Returns a dict of ``(len(idx),)`` arrays ``boot_se``, ``boot_ci_lower``,
    ``boot_ci_upper``, ``n_failed`` (resamples without events, with a
    constant feature, or not converged) and the ``(n_boot, len(idx))``
    replicates under ``replicates``.

    Examples
    --------
    >>> import numpy as np
    >>> from immune_correlates.stats.engine.models import make_design
    >>> rng = np.random.default_rng(0)
    >>> d = make_design("cox", rng.normal(size=(30, 2)), time=rng.exponential(size=30), event=np.ones(30))
    >>> bootstrap_coefficients(d, [0, 1], False, 20, seed=1)["replicates"].shape
    (20, 2)
    """
    idx = np.asarray(idx, dtype=np.int64)
    firth = np.array(np.broadcast_to(np.asarray(firth, bool), idx.shape))
    job = BootstrapJob(design, idx, firth, tuple(replicate_seeds(seed, n_boot)))
    n = design.n
    blocks = model_blocks(n_boot, idx.size, n * design.p, budget)  # never depends on n_jobs: same blocks, same bits
    parts = run_blocks(bootstrap_block, job, blocks, n_jobs=n_jobs, progress=progress, desc="bootstrap")
    boot = (np.concatenate(parts) if parts else np.zeros(0)).reshape(n_boot, idx.size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(boot, axis=0, ddof=1)
    if kind == "percentile":
        lo, hi = percentile_interval(boot, alpha=alpha)
    else:
        theta, _ = fit_weighted(design, idx, firth, np.ones((idx.size, n)))
        jack = np.full((n, idx.size), np.nan)
        W = np.repeat(1.0 - np.eye(n), idx.size, axis=0)
        models = np.tile(idx, n)
        used = design.avail[models][:, np.argsort(design.order)] * (1.0 - W) > 0
        est, _ = fit_weighted(design, models, np.tile(firth, n), W)
        jack[:] = np.where(used.any(axis=1), est, np.nan).reshape(n, idx.size)
        lo, hi = bca_interval(theta, boot, jack, alpha=alpha)
    return {
        "boot_se": se,
        "boot_ci_lower": lo,
        "boot_ci_upper": hi,
        "n_failed": np.sum(np.isnan(boot), axis=0),
        "replicates": boot,
    }
