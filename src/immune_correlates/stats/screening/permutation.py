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

The parallel work is cut into blocks fixed by the problem size
(:mod:`.batched.parallel`), so results do not depend on ``n_jobs`` or backend.

References: Westfall PH, Young SS (1993) *Resampling-Based Multiple Testing*,
algorithm 4.1; Phipson B, Smyth GK (2010) Stat Appl Genet Mol Biol 9:39
(``(1 + b) / (1 + B)``); Lausen B, Schumacher M (1992) Biometrics 48:73-85;
Hothorn T, Lausen B (2003) Comput Stat Data Anal 43:121-137.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._params import COLUMNS, FLAG, MISSING, N_JOBS, OPTIONAL_COLUMN, SEED, Interval, Options, check_params
from ...errors import ParameterError
from ..engine.parallel import (
    BLOCK_ELEMENTS,
    chunk_ranges,
    model_blocks,
    permutations,
    replicate_seeds,
    replicates_per_chunk,
    run_blocks,
)
from ..engine.permutation import PermutationJob, maxt_stepdown, wald_block
from ..survival.cutpoint import logrank_scores, split_statistics
from .screen import prepare_screen, screen

__all__ = ["permutation_test", "maxt_stepdown"]


def _maxstat(x, time, event, minprop, maxprop):
    keep = ~np.isnan(x)
    scores = logrank_scores(time[keep], event[keep])
    return float(np.max(split_statistics(x[keep], scores, minprop, maxprop)[1]))


@dataclass(frozen=True, eq=False)
class _MaxstatJob:
    F: np.ndarray  # (n, m) features, original row order, NaN = missing
    time: np.ndarray
    event: np.ndarray
    scores: np.ndarray  # log-rank scores of the complete data
    minprop: float
    maxprop: float
    seeds: tuple


def _maxstat_block(job: _MaxstatJob, rr: range) -> np.ndarray:
    """Maximally selected log-rank statistic of every feature under permutations ``rr``."""
    n, m = job.F.shape
    P = permutations([job.seeds[r] for r in rr], n)
    out = np.empty((len(rr), m))
    pinv = np.argsort(P, axis=1)
    for j in range(m):
        x = job.F[:, j]
        if np.isnan(x).any():  # complete cases (and their log-rank scores) change with the permutation
            out[:, j] = [_maxstat(x[p], job.time, job.event, job.minprop, job.maxprop) for p in P]
            continue
        _, _, mm, _, e, v = split_statistics(x, job.scores, job.minprop, job.maxprop)
        o = np.argsort(x, kind="stable")
        cs = np.cumsum(job.scores[pinv[:, o]], axis=1)[:, mm - 1]
        out[:, j] = np.max(np.abs((cs - e) / np.sqrt(v)), axis=1)
    return out


@check_params(
    outcome=OPTIONAL_COLUMN,
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    model=Options("firth", "logistic", "cox", "firth_cox", "auto"),
    covariates=COLUMNS,
    n_perm=Interval(1, None, integer=True),
    seed=SEED,
    cutpoint=FLAG,
    minprop=Interval(0, 0.5, closed="neither"),
    maxprop=Interval(0.5, 1, closed="neither"),
    n_jobs=N_JOBS,
    progress=FLAG,
    missing=MISSING,
)
def permutation_test(
    data,
    features,
    *,
    outcome=None,
    duration=None,
    event=None,
    model="firth",
    covariates=(),
    n_perm=1000,
    seed=None,
    cutpoint=False,
    minprop=0.1,
    maxprop=0.9,
    n_jobs=1,
    progress=False,
    missing="drop",
) -> pd.DataFrame:
    """Permutation p-values and Westfall-Young maxT adjusted p-values for a feature screen.

    Parameters
    ----------
    data, features, outcome, duration, event, model, covariates, missing
        As :func:`~immune_correlates.stats.screening.screen.screen`.
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
    tab = screen(
        data,
        features,
        outcome=outcome,
        duration=duration,
        event=event,
        model=model,
        covariates=covariates,
        missing=missing,
        ci="wald",  # the statistic is the Wald z of each feature
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design, features, _, _, rows, family = prepare_screen(  # warned once by the screen above
            data,
            features,
            outcome=outcome,
            duration=duration,
            event=event,
            model=model,
            covariates=covariates,
            missing="drop",
        )
    seeds = tuple(replicate_seeds(seed, n_perm))
    run = {"n_jobs": n_jobs, "progress": progress, "desc": "permutations"}
    if cutpoint:
        if family != "cox" or len(list(covariates)) > 0:
            raise ParameterError("permutation_test: cutpoint=True needs a survival outcome and no covariates.")
        t_obs, t_perm = _maxstat_permutations(design, rows, duration, event, minprop, maxprop, seeds, run)
        how = "maxstat"
    else:
        t_obs, t_perm = _wald_permutations(design, tab, seeds, run)
        how = "wald"
    hits = np.sum(np.where(np.isfinite(t_perm), t_perm, -np.inf) >= t_obs * (1 - 1e-12), axis=0)
    p_perm = np.where(np.isfinite(t_obs), (1.0 + hits) / (1.0 + n_perm), np.nan)
    return pd.DataFrame(
        {
            "feature": features,
            "statistic": t_obs,
            "p_perm": p_perm,
            "p_maxt": maxt_stepdown(t_obs, t_perm),
            "method": tab["method"].to_numpy(),
            "test": how,
            "n_perm": n_perm,
        }
    )


def _maxstat_permutations(design, rows, duration, event, minprop, maxprop, seeds, run):
    """Maximally selected log-rank statistics of the features and of every permutation of them."""
    m, n = design.X.shape[0], design.n
    inv = np.argsort(design.order)
    time = rows[duration].to_numpy(float)
    ev = rows[event].to_numpy(float)
    F = design.X[:, :, 0][:, inv].T.copy()  # (n, m) original order
    F[design.avail[:, inv].T == 0] = np.nan
    t_obs = np.array([_maxstat(F[:, j], time, ev, minprop, maxprop) for j in range(m)])
    job = _MaxstatJob(F, time, ev, logrank_scores(time, ev), minprop, maxprop, seeds)
    blocks = chunk_ranges(len(seeds), replicates_per_chunk(m, m * n, BLOCK_ELEMENTS))
    return t_obs, np.concatenate(run_blocks(_maxstat_block, job, blocks, **run), axis=0)


def _wald_permutations(design, tab: pd.DataFrame, seeds, run):
    """|Wald z| of the features (the screen's) and of every permutation of the outcome."""
    m, n = len(tab), design.n
    valid = np.flatnonzero(tab["estimate"].notna().to_numpy())
    firth = (tab["method"] == "firth").to_numpy()[valid]
    t_obs = np.abs(tab["estimate"] / tab["std_error"]).to_numpy()
    t_perm = np.full((len(seeds), m), np.nan)
    if valid.size:
        job = PermutationJob(design, valid, firth, seeds)
        z = run_blocks(wald_block, job, model_blocks(len(seeds), valid.size, n * design.p), **run)
        t_perm[:, valid] = np.concatenate(z).reshape(len(seeds), valid.size)
    return t_obs, t_perm
