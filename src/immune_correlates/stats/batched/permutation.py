"""Permutation p-values and Westfall-Young step-down maxT over a whole feature panel.

The rows of the feature panel are permuted *jointly* (one permutation for
all features), keeping the outcome and the covariates in place: the features
keep their correlation with each other, which is what makes the maxT
adjustment sharper than Bonferroni or Holm.  The statistic is the Wald
``|z|`` of the feature's coefficient from the batched fit (ML, Firth or the
per-feature choice of ``model="auto"`` on the observed data), or, with
``cutpoint=True`` (survival only), the maximally selected standardized
log-rank statistic of the dichotomised feature (maxstat), so the search for
the best cutpoint is repeated inside every permutation.

References: Westfall PH, Young SS (1993) *Resampling-Based Multiple Testing*,
algorithm 4.1; Phipson B, Smyth GK (2010) Stat Appl Genet Mol Biol 9:39
(``(1 + b) / (1 + B)``); Lausen B, Schumacher M (1992) Biometrics 48:73-85;
Hothorn T, Lausen B (2003) Comput Stat Data Anal 43:121-137.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from ...errors import ImmuneCorrelatesError
from ..cutpoint import logrank_scores, split_statistics
from .engine import ELEMENT_BUDGET, fit_models, separated
from .parallel import (
    chunk_ranges,
    permutations,
    replicate_seeds,
    replicates_per_chunk,
    run_chunks,
)

__all__ = ["permutation_test", "maxt_stepdown"]


def maxt_stepdown(t_obs: np.ndarray, t_perm: np.ndarray) -> np.ndarray:
    """Westfall-Young step-down maxT adjusted p-values (NaN statistics are left out).

    ``t_obs`` is ``(m,)``, ``t_perm`` ``(B, m)``; larger is more extreme.
    """
    t_obs = np.asarray(t_obs, float)
    out = np.full(t_obs.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(t_obs))
    if ok.size == 0:
        return out
    o = ok[np.argsort(-t_obs[ok], kind="stable")]
    tp = np.where(np.isfinite(t_perm[:, o]), t_perm[:, o], -np.inf)
    succ = np.maximum.accumulate(tp[:, ::-1], axis=1)[:, ::-1]  # max over the less significant ones
    hits = np.sum(succ >= t_obs[o] * (1 - 1e-12), axis=0)
    p = np.maximum.accumulate((1.0 + hits) / (1.0 + t_perm.shape[0]))
    out[o] = np.minimum(p, 1.0)
    return out


def _maxstat(x, time, event, minprop, maxprop):
    keep = ~np.isnan(x)
    scores = logrank_scores(time[keep], event[keep])
    return float(np.max(split_statistics(x[keep], scores, minprop, maxprop)[1]))


def permutation_test(data, features, *, outcome=None, duration=None, event=None, model="firth", covariates=(),
                     n_perm=1000, seed=None, cutpoint=False, minprop=0.1, maxprop=0.9, n_jobs=1, progress=False,
                     missing="drop") -> pd.DataFrame:
    """Permutation p-values and Westfall-Young maxT adjusted p-values for a feature screen.

    Parameters
    ----------
    data, features, outcome, duration, event, model, covariates, missing
        As :func:`~immune_correlates.stats.screen.screen`.
    n_perm : int
        Joint permutations of the feature rows.
    seed : int, SeedSequence or None
        Permutation ``r`` uses child ``r`` of ``SeedSequence(seed)``.
    cutpoint : bool
        Statistic = maximally selected log-rank statistic (survival, no
        covariates), the cutpoint searched again in every permutation.
    minprop, maxprop : float
        Range of the cutpoint search (as :func:`optimal_cutpoint`).
    n_jobs, progress
        joblib workers; tqdm bar.

    Returns
    -------
    DataFrame
        ``feature``, ``statistic``, ``p_perm`` (``(1 + b) / (1 + B)``),
        ``p_maxt`` (step-down maxT), ``method``, ``n_perm``.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> permutation_test(frame, ["cd8_per_ul", "nk_per_ul"], duration="pfs_months",
    ...                  event="pfs_event", model="cox", n_perm=200, seed=1)  # doctest: +SKIP
    """
    from ..screen import prepare_screen, screen

    tab = screen(data, features, outcome=outcome, duration=duration, event=event, model=model,
                 covariates=covariates, missing=missing)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design, features, ids, _, rows, family = prepare_screen(  # warned once by the screen above
            data, features, outcome=outcome, duration=duration, event=event, model=model, covariates=covariates,
            missing="drop")
    m, n = len(features), design.n
    valid = np.flatnonzero(tab["estimate"].notna().to_numpy())
    firth = tab["method"].isin(["firth", "firth_cox"]).to_numpy()[valid]
    seeds = replicate_seeds(seed, n_perm)
    inv = np.argsort(design.order)
    if cutpoint:
        if family != "cox" or len(list(covariates)) > 0:
            raise ImmuneCorrelatesError("permutation_test: cutpoint=True needs a survival outcome and no covariates.")
        time = rows[duration].to_numpy(float)
        ev = rows[event].to_numpy(float)
        F = design.X[:, :, 0][:, inv].T.copy()  # (n, m) original order
        F[design.avail[:, inv].T == 0] = np.nan
        t_obs = np.array([_maxstat(F[:, j], time, ev, minprop, maxprop) for j in range(m)])

        scores = logrank_scores(time, ev)

        def chunk(rr):
            P = permutations([seeds[r] for r in rr], n)
            out = np.empty((len(rr), m))
            pinv = np.argsort(P, axis=1)
            for j in range(m):
                x = F[:, j]
                if np.isnan(x).any():  # complete cases (and their log-rank scores) change with the permutation
                    out[:, j] = [_maxstat(x[p], time, ev, minprop, maxprop) for p in P]
                    continue
                _, _, mm, _, e, v = split_statistics(x, scores, minprop, maxprop)
                o = np.argsort(x, kind="stable")
                cs = np.cumsum(scores[pinv[:, o]], axis=1)[:, mm - 1]
                out[:, j] = np.max(np.abs((cs - e) / np.sqrt(v)), axis=1)
            return out
        how = "maxstat"
    else:
        t_obs = np.abs(tab["estimate"] / tab["std_error"]).to_numpy()
        k = design.coef

        def chunk(rr):
            P = permutations([seeds[r] for r in rr], n)
            R = P.shape[0]
            sig = inv[P[:, design.order]]  # sorted coordinates of each permutation
            Xp = np.repeat(design.X[valid][None], R, axis=0)
            Ap = np.repeat(design.avail[valid][None], R, axis=0)
            for r in range(R):
                Xp[r, :, :, k] = design.X[valid][:, sig[r], k]
                Ap[r] = design.avail[valid][:, sig[r]]
            dp = dataclasses.replace(design, X=Xp.reshape((-1,) + design.X.shape[1:]), avail=Ap.reshape(-1, n))
            models = np.arange(R * valid.size)
            fr = np.tile(firth, R)
            flat = np.zeros(models.size, dtype=bool)
            if family == "logistic" and not fr.all():
                flat[~fr] = separated(dp, models[~fr], dp.avail[models[~fr]][:, inv])
            fit = fit_models(dp, models, firth=fr, flat=flat)
            with np.errstate(invalid="ignore", divide="ignore"):
                z = np.abs(fit.beta[:, k] / np.sqrt(fit.cov[:, k, k]))
            out = np.full((R, m), np.nan)
            out[:, valid] = z.reshape(R, valid.size)
            return out
        how = "wald"
    size = replicates_per_chunk(m, m * n * design.p, ELEMENT_BUDGET)
    t_perm = np.concatenate(run_chunks(chunk, chunk_ranges(n_perm, size), n_jobs=n_jobs, progress=progress,
                                       desc="permutations"), axis=0)
    hits = np.sum(np.where(np.isfinite(t_perm), t_perm, -np.inf) >= t_obs * (1 - 1e-12), axis=0)
    p_perm = np.where(np.isfinite(t_obs), (1.0 + hits) / (1.0 + n_perm), np.nan)
    return pd.DataFrame({"feature": features, "statistic": t_obs, "p_perm": p_perm,
                         "p_maxt": maxt_stepdown(t_obs, t_perm), "method": tab["method"].to_numpy(),
                         "test": how, "n_perm": n_perm})
