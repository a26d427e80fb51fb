"""Bootstrap and permutation inference on the batched engine.

* :func:`bootstrap_coefficients` (behind ``screen(n_boot=...)``): percentile
  or BCa intervals of every feature's coefficient, all features refitted on
  the same patient resamples (a resample is a vector of integer case weights).
* :func:`bootstrap_discrimination`: percentile / BCa intervals of the AUC or
  Harrell's C of a score.
* :func:`optimism_corrected`: Harrell's bootstrap optimism correction of the
  AUC / C of a fitted (multivariable) model.
* :func:`permutation_test` (in :mod:`.batched.permutation`): permutation
  p-values and Westfall-Young step-down maxT adjusted p-values.

Replicate ``r`` always draws from child ``r`` of ``SeedSequence(seed)`` and the
chunks (the unit of parallel work) are fixed by the problem size alone, so
results are bit-for-bit the same whatever ``n_jobs`` or the joblib backend;
a different ``budget`` (chunk size) changes them by rounding only.

References: Efron B, Tibshirani R (1993) *An Introduction to the Bootstrap*,
ch. 13-14 (percentile, BCa); Harrell FE, Lee KL, Mark DB (1996) Stat Med
15:361-387 (optimism); Westfall PH, Young SS (1993) *Resampling-Based
Multiple Testing*, algorithm 4.1 (step-down maxT).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .._missing import complete_cases
from .._results import ResultDisplay
from ..errors import ImmuneCorrelatesError
from .batched.discrimination import auc_batch, cindex_batch
from .batched.engine import ELEMENT_BUDGET, Design, fit_models, separated
from .batched.parallel import (
    bootstrap_counts,
    chunk_ranges,
    replicate_seeds,
    replicates_per_chunk,
    run_chunks,
)

__all__ = ["norm_inter", "percentile_interval", "bca_interval", "bootstrap_coefficients", "bootstrap_discrimination",
           "optimism_corrected", "OptimismResult", "DiscriminationBootstrap"]


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
            z, z1, z2 = stats.norm.ppf([p_, k_ / (R + 1), (k_ + 1) / (R + 1)])
            out[i] = t[k_ - 1] + (z - z1) / (z2 - z1) * (t[k_] - t[k_ - 1])
    return out


def percentile_interval(boot: np.ndarray, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column of ``boot`` (``(R, m)``, NaN = failed replicate).

    The ``alpha/2`` and ``1 - alpha/2`` quantiles by :func:`norm_inter`, as
    ``boot.ci(type = "perc")``.
    """
    boot = np.asarray(boot, dtype=float)
    boot = boot.reshape(boot.shape[0], -1)
    ends = np.array([norm_inter(boot[:, j], [alpha / 2, 1 - alpha / 2]) for j in range(boot.shape[1])])
    return ends[:, 0], ends[:, 1]


def bca_interval(theta: np.ndarray, boot: np.ndarray, jack: np.ndarray, alpha: float = 0.05):
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


def _resample_ok(design: Design, idx: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Resamples in which the model is estimable: both outcomes / an event, a non-constant feature."""
    Wa = W * design.avail[idx][:, np.argsort(design.order)]
    outc = design.y if design.family == "logistic" else design.event[np.argsort(design.order)]
    ev = Wa @ outc if outc.ndim == 1 else None
    ok = ev > 0
    if design.family == "logistic":
        ok &= (Wa.sum(axis=1) - ev) > 0
    feat = design.X[idx][:, :, design.coef][:, np.argsort(design.order)]
    used = Wa > 0
    lo = np.min(np.where(used, feat, np.inf), axis=1)
    hi = np.max(np.where(used, feat, -np.inf), axis=1)
    return ok & (lo < hi)


def _fit_weighted(design, idx, firth, W):
    """Coefficient of the feature for models ``idx`` with case weights ``W`` (NaN where not estimable)."""
    flat = np.zeros(idx.size, dtype=bool)
    if design.family == "logistic" and not np.all(firth):
        ml = np.flatnonzero(~firth)
        flat[ml] = separated(design, idx[ml], (W * design.avail[idx])[ml])
    fit = fit_models(design, idx, W, firth=firth, flat=flat)
    est = fit.beta[:, design.coef]
    good = _resample_ok(design, idx, W) & fit.converged & np.isfinite(est)
    return np.where(good, est, np.nan), fit


def bootstrap_coefficients(design: Design, idx, firth, n_boot: int, *, seed=None, alpha=0.05, kind="percentile",
                           n_jobs=1, progress=False, budget=ELEMENT_BUDGET) -> dict:
    """Bootstrap the feature coefficient of models ``idx`` of ``design`` (``screen``'s engine).

    Returns a dict of ``(len(idx),)`` arrays ``boot_se``, ``boot_ci_lower``,
    ``boot_ci_upper``, ``n_failed`` (resamples without events, with a
    constant feature, or not converged) and the ``(n_boot, len(idx))``
    replicates under ``replicates``.
    """
    idx = np.asarray(idx)
    firth = np.broadcast_to(np.asarray(firth, bool), idx.shape)
    seeds = replicate_seeds(seed, n_boot)
    n = design.n
    per_rep = max(1, idx.size * n * design.p)
    size = replicates_per_chunk(idx.size, per_rep, budget)  # never depends on n_jobs: same chunks, same bits

    def chunk(rr):
        counts = bootstrap_counts([seeds[r] for r in rr], n)
        R = counts.shape[0]
        models = np.tile(idx, R)
        W = np.repeat(counts, idx.size, axis=0)
        est, _ = _fit_weighted(design, models, np.tile(firth, R), W)
        return est.reshape(R, idx.size)

    boot = np.concatenate(run_chunks(chunk, chunk_ranges(n_boot, size), n_jobs=n_jobs, progress=progress,
                                     desc="bootstrap"), axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(boot, axis=0, ddof=1)
    if kind == "percentile":
        lo, hi = percentile_interval(boot, alpha)
    else:
        theta, _ = _fit_weighted(design, idx, firth, np.ones((idx.size, n)))
        jack = np.full((n, idx.size), np.nan)
        W = np.repeat(1.0 - np.eye(n), idx.size, axis=0)
        models = np.tile(idx, n)
        used = design.avail[models][:, np.argsort(design.order)] * (1.0 - W) > 0
        est, _ = _fit_weighted(design, models, np.tile(firth, n), W)
        jack[:] = np.where(used.any(axis=1), est, np.nan).reshape(n, idx.size)
        lo, hi = bca_interval(theta, boot, jack, alpha)
    return {"boot_se": se, "boot_ci_lower": lo, "boot_ci_upper": hi,
            "n_failed": np.sum(np.isnan(boot), axis=0), "replicates": boot}


@dataclass(frozen=True, eq=False, repr=False)
class DiscriminationBootstrap(ResultDisplay):
    """Bootstrap interval of an AUC or Harrell's C (see :func:`bootstrap_discrimination`)."""

    measure: str
    estimate: float
    ci_lower: float
    ci_upper: float
    std_error: float
    n_boot: int
    ci_type: str
    alpha: float
    replicates: np.ndarray

    def summary(self) -> pd.DataFrame:
        """One row: ``measure``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``ci_type``."""
        return pd.DataFrame([{"measure": self.measure, "estimate": self.estimate, "std_error": self.std_error,
                              "ci_lower": self.ci_lower, "ci_upper": self.ci_upper, "ci_type": self.ci_type,
                              "n_boot": self.n_boot}])


def _endpoint(data, cols, outcome, duration, event, missing, caller):
    if (outcome is None) == (duration is None or event is None):
        raise ImmuneCorrelatesError(f"{caller}: give either outcome= (binary) or duration= and event= (survival).")
    ends = [outcome] if outcome is not None else [duration, event]
    rows, excluded = complete_cases(data, ends + list(cols), missing=missing, numeric=ends + list(cols), caller=caller)
    if outcome is not None:
        return rows, excluded, {"y": rows[outcome].to_numpy(float)}
    return rows, excluded, {"time": rows[duration].to_numpy(float), "event": rows[event].to_numpy(float)}


def _measure(scores, W, ep, reverse):
    if "y" in ep:
        return auc_batch(scores, ep["y"], W)
    return cindex_batch(scores, ep["time"], ep["event"], W, reverse=reverse)


def bootstrap_discrimination(data, score, *, outcome=None, duration=None, event=None, n_boot=1000,
                             ci="percentile", alpha=0.05, seed=None, reverse=True, missing="drop"):
    """Bootstrap interval of the AUC (binary outcome) or Harrell's C (survival) of a score column.

    Parameters
    ----------
    data : DataFrame
    score : str
        Column whose larger values predict the event (``reverse=True``) or,
        for survival with ``reverse=False``, longer survival.
    outcome or duration, event : str
    n_boot, ci, alpha, seed
        Resamples, ``"percentile"`` or ``"bca"`` (jackknife acceleration), level, seed.

    Returns
    -------
    DiscriminationBootstrap

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> res = bootstrap_discrimination(frame, "nk_per_ul", outcome="cr", n_boot=200, seed=1)  # doctest: +SKIP
    """
    if ci not in ("percentile", "bca"):
        raise ImmuneCorrelatesError(f"bootstrap_discrimination: ci must be 'percentile' or 'bca', got {ci!r}.")
    rows, _, ep = _endpoint(data, [score], outcome, duration, event, missing, "bootstrap_discrimination")
    s = rows[score].to_numpy(float)
    n = s.size
    sgn = 1.0 if (reverse or "y" not in ep) else -1.0
    theta = float(_measure(s[None] * sgn, None, ep, reverse)[0])
    W = bootstrap_counts(replicate_seeds(seed, n_boot), n)
    boot = _measure(np.broadcast_to(s * sgn, W.shape), W, ep, reverse)
    lo, hi = percentile_interval(boot[:, None], alpha)
    if ci == "bca":
        jack = _measure(np.broadcast_to(s * sgn, (n, n)), 1.0 - np.eye(n), ep, reverse)
        lo, hi = bca_interval(np.array([theta]), boot[:, None], jack[:, None], alpha)
    return DiscriminationBootstrap("auc" if "y" in ep else "c_index", theta, float(lo[0]), float(hi[0]),
                                   float(np.nanstd(boot, ddof=1)), n_boot, ci, alpha, boot)


@dataclass(frozen=True, eq=False, repr=False)
class OptimismResult(ResultDisplay):
    """Harrell's optimism-corrected discrimination (see :func:`optimism_corrected`)."""

    measure: str
    apparent: float
    optimism: float
    corrected: float
    n_boot: int
    n_failed: int
    method: str

    def summary(self) -> pd.DataFrame:
        """One row: ``measure``, ``apparent``, ``optimism``, ``corrected``, ``n_boot``, ``n_failed``."""
        return pd.DataFrame([{"measure": self.measure, "apparent": self.apparent, "optimism": self.optimism,
                              "corrected": self.corrected, "n_boot": self.n_boot, "n_failed": self.n_failed,
                              "method": self.method}])

    def _title(self) -> str:
        return f"Optimism-corrected {self.measure} ({self.method}, {self.n_boot} bootstrap resamples)"


def optimism_corrected(data, covariates, *, outcome=None, duration=None, event=None, model="firth", n_boot=200,
                       seed=None, missing="drop", n_jobs=1) -> OptimismResult:
    """Harrell's bootstrap optimism correction of a model's AUC (logistic) or C (Cox).

    For each resample the model is refitted; its optimism is its AUC / C on
    the resample minus that on the original data; the corrected value is the
    apparent one minus the mean optimism (Harrell, Lee & Mark 1996).
    Failed resamples (no events, not converged) are left out and counted.

    Parameters
    ----------
    data : DataFrame
    covariates : sequence of str
        The model's terms (at least one).
    outcome or duration, event : str
    model : {"firth", "logistic", "cox", "firth_cox"}
    n_boot, seed, missing, n_jobs

    Returns
    -------
    OptimismResult

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> res = optimism_corrected(frame, ["nk_per_ul", "cd8_per_ul"], outcome="cr", n_boot=100, seed=1)  # doctest: +SKIP
    """
    from .batched.engine import make_design
    from .screen import MODELS

    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise ImmuneCorrelatesError("optimism_corrected: give at least one covariate.")
    if model not in MODELS or model == "auto":
        raise ImmuneCorrelatesError(f"optimism_corrected: model must be one of logistic, firth, cox, firth_cox; "
                                    f"got {model!r}.")
    family, firth = MODELS[model]
    rows, _, ep = _endpoint(data, covariates, outcome, duration, event, missing, "optimism_corrected")
    if (family == "logistic") != ("y" in ep):
        raise ImmuneCorrelatesError(f"optimism_corrected: model={model!r} does not fit this endpoint.")
    F = rows[[covariates[0]]].to_numpy(float)
    C = rows[covariates[1:]].to_numpy(float) if len(covariates) > 1 else None
    design = make_design(family, F, C, **ep)
    n = design.n
    inv = np.argsort(design.order)
    Xo = design.X[0][inv]  # original order
    one = np.zeros(1, dtype=np.int64)
    est, fit = _fit_weighted(design, one, np.array([firth]), np.ones((1, n)))
    app = float(_measure(Xo @ fit.beta[0], None, ep, True)[0])
    seeds = replicate_seeds(seed, n_boot)

    def chunk(rr):
        W = bootstrap_counts([seeds[r] for r in rr], n)
        R = W.shape[0]
        e, f = _fit_weighted(design, np.zeros(R, np.int64), np.full(R, firth), W)
        lp = f.beta @ Xo.T  # (R, n)
        opt = _measure(lp, W, ep, True) - _measure(lp, None, ep, True)
        return np.where(np.isnan(e), np.nan, opt)

    opt = np.concatenate(run_chunks(chunk, chunk_ranges(n_boot, replicates_per_chunk(1, n * design.p, ELEMENT_BUDGET)),
                                    n_jobs=n_jobs))
    o = float(np.nanmean(opt))
    return OptimismResult("auc" if family == "logistic" else "c_index", app, o, app - o, n_boot,
                          int(np.isnan(opt).sum()), model)


from .batched.permutation import maxt_stepdown, permutation_test  # noqa: E402  (re-exported)

__all__ += ["permutation_test", "maxt_stepdown"]
