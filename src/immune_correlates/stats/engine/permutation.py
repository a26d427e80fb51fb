"""Permutation engine: Wald statistics of a panel under joint row permutations, and step-down maxT.

The rows of the feature panel are permuted *jointly* (one permutation for
all features), keeping the outcome and the covariates in place: the features
keep their correlation with each other, which is what makes the maxT
adjustment sharper than Bonferroni or Holm.  :func:`wald_block` refits the
models of a block of (permutation, feature) pairs and returns the Wald
``|z|`` of the feature's coefficient; the user-facing
:func:`~immune_correlates.stats.screening.permutation.permutation_test` cuts the work
into blocks and adds the maxstat statistic.

References: Westfall PH, Young SS (1993) *Resampling-Based Multiple Testing*,
algorithm 4.1; Phipson B, Smyth GK (2010) Stat Appl Genet Mol Biol 9:39.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .models import BatchDesign, fit_models, separated
from .parallel import permutations

__all__ = ["maxt_stepdown", "PermutationJob", "wald_block"]


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


@dataclasses.dataclass(frozen=True, eq=False)
class PermutationJob:
    """What every permutation block needs (shipped to each worker once)."""

    design: BatchDesign
    valid: np.ndarray  # (mv,) feature models that could be fitted on the observed data
    firth: np.ndarray  # (mv,) bool: Firth for that feature (as on the observed data)
    seeds: tuple  # child SeedSequence of each permutation


def wald_block(job: PermutationJob, block: range) -> np.ndarray:
    """Wald ``|z|`` of the flat (permutation ``r``, valid feature ``j``) models ``r * mv + j`` in ``block``."""
    d, valid = job.design, job.valid
    mv, n, k = valid.size, d.n, d.coef
    flat = np.arange(block.start, block.stop)
    rep, jj = np.divmod(flat, mv)
    P = permutations([job.seeds[r] for r in range(rep[0], rep[-1] + 1)], n)
    inv = np.argsort(d.order)
    sig = inv[P[:, d.order]][rep - rep[0]]  # (B, n) sorted coordinates of each model's permutation
    feat = valid[jj]
    X = d.X[feat]  # a copy (fancy indexing)
    X[:, :, k] = np.take_along_axis(d.X[feat, :, k], sig, axis=1)
    avail = np.take_along_axis(d.avail[feat], sig, axis=1)
    dp = dataclasses.replace(d, X=X, avail=avail)
    models = np.arange(flat.size)
    fr = job.firth[jj]
    flat_stop = np.zeros(models.size, dtype=bool)
    if d.family == "logistic" and not fr.all():
        flat_stop[~fr] = separated(dp, models[~fr], avail[~fr][:, inv])
    fit = fit_models(dp, models, firth=fr, flat=flat_stop)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(fit.beta[:, k] / np.sqrt(fit.cov[:, k, k]))
