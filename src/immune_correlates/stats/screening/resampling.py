"""Bootstrap and permutation inference on the batched engine.

* :func:`bootstrap_coefficients` (behind ``screen(n_boot=...)``, in
  :mod:`._bootstrap`): percentile or BCa intervals of every feature's
  coefficient, all features refitted on the same patient resamples (a
  resample is a vector of integer case weights).
* :func:`bootstrap_discrimination`: percentile / BCa intervals of the AUC or
  Harrell's C of a score.
* :func:`optimism_corrected`: Harrell's bootstrap optimism correction of the
  AUC / C of a fitted (multivariable) model.
* :func:`permutation_test` (in :mod:`.permutation`): permutation
  p-values and Westfall-Young step-down maxT adjusted p-values.

Replicate ``r`` always draws from child ``r`` of ``SeedSequence(seed)`` and the
blocks (the unit of computation, see :mod:`.batched.parallel`) are fixed by
the problem size alone, so results are bit-for-bit the same whatever
``n_jobs`` or the joblib backend; a different ``budget`` (block size) changes
them by rounding only.

References: Efron B, Tibshirani R (1993) *An Introduction to the Bootstrap*,
ch. 13-14 (percentile, BCa); Harrell FE, Lee KL, Mark DB (1996) Stat Med
15:361-387 (optimism); Westfall PH, Young SS (1993) *Resampling-Based
Multiple Testing*, algorithm 4.1 (step-down maxT).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._missing import complete_cases
from ..._params import ALPHA, FLAG, MISSING, N_JOBS, OPTIONAL_COLUMN, SEED, Interval, Options, check_params
from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError
from ..engine.discrimination import auc_batch, cindex_batch
from ..engine.models import BatchDesign, make_design
from ..engine.parallel import (
    BLOCK_ELEMENTS,
    bootstrap_counts,
    chunk_ranges,
    replicate_seeds,
    replicates_per_chunk,
    run_blocks,
)
from ._bootstrap import (
    bca_interval,
    bootstrap_coefficients,
    fit_weighted,
    norm_inter,
    percentile_interval,
)
from .permutation import maxt_stepdown, permutation_test
from .screen import MODELS

__all__ = [
    "norm_inter",
    "percentile_interval",
    "bca_interval",
    "bootstrap_coefficients",
    "bootstrap_discrimination",
    "optimism_corrected",
    "OptimismResult",
    "DiscriminationBootstrap",
    "permutation_test",
    "maxt_stepdown",
]


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
        return pd.DataFrame(
            [
                {
                    "measure": self.measure,
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "ci_lower": self.ci_lower,
                    "ci_upper": self.ci_upper,
                    "ci_type": self.ci_type,
                    "n_boot": self.n_boot,
                }
            ]
        )


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


@check_params(
    outcome=OPTIONAL_COLUMN,
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    n_boot=Interval(1, None, integer=True),
    ci=Options("percentile", "bca"),
    alpha=ALPHA,
    seed=SEED,
    reverse=FLAG,
    missing=MISSING,
)
def bootstrap_discrimination(
    data,
    score,
    *,
    outcome=None,
    duration=None,
    event=None,
    n_boot=1000,
    ci="percentile",
    alpha=0.05,
    seed=None,
    reverse=True,
    missing="drop",
):
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
    rows, _, ep = _endpoint(data, [score], outcome, duration, event, missing, "bootstrap_discrimination")
    s = rows[score].to_numpy(float)
    n = s.size
    sgn = 1.0 if (reverse or "y" not in ep) else -1.0
    theta = float(_measure(s[None] * sgn, None, ep, reverse)[0])
    W = bootstrap_counts(replicate_seeds(seed, n_boot), n)
    boot = _measure(np.broadcast_to(s * sgn, W.shape), W, ep, reverse)
    lo, hi = percentile_interval(boot[:, None], alpha=alpha)
    if ci == "bca":
        jack = _measure(np.broadcast_to(s * sgn, (n, n)), 1.0 - np.eye(n), ep, reverse)
        lo, hi = bca_interval(np.array([theta]), boot[:, None], jack[:, None], alpha=alpha)
    return DiscriminationBootstrap(
        "auc" if "y" in ep else "c_index",
        theta,
        float(lo[0]),
        float(hi[0]),
        float(np.nanstd(boot, ddof=1)),
        n_boot,
        ci,
        alpha,
        boot,
    )


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
        return pd.DataFrame(
            [
                {
                    "measure": self.measure,
                    "apparent": self.apparent,
                    "optimism": self.optimism,
                    "corrected": self.corrected,
                    "n_boot": self.n_boot,
                    "n_failed": self.n_failed,
                    "method": self.method,
                }
            ]
        )

    def _title(self) -> str:
        return f"Optimism-corrected {self.measure} ({self.method}, {self.n_boot} bootstrap resamples)"


@dataclass(frozen=True, eq=False)
class _OptimismJob:
    design: BatchDesign
    firth: bool
    Xo: np.ndarray  # (n, p) design in the original row order
    ep: dict
    seeds: tuple


def _optimism_block(job: _OptimismJob, rr: range) -> np.ndarray:
    """Optimism (resample AUC / C minus original-data AUC / C) of the refits on resamples ``rr``."""
    W = bootstrap_counts([job.seeds[r] for r in rr], job.design.n)
    R = W.shape[0]
    e, f = fit_weighted(job.design, np.zeros(R, np.int64), np.full(R, job.firth), W)
    lp = f.beta @ job.Xo.T  # (R, n)
    opt = _measure(lp, W, job.ep, True) - _measure(lp, None, job.ep, True)
    return np.where(np.isnan(e), np.nan, opt)


@check_params(
    outcome=OPTIONAL_COLUMN,
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    model=Options("firth", "logistic", "cox", "firth_cox"),
    n_boot=Interval(1, None, integer=True),
    seed=SEED,
    missing=MISSING,
    n_jobs=N_JOBS,
)
def optimism_corrected(
    data,
    covariates,
    *,
    outcome=None,
    duration=None,
    event=None,
    model="firth",
    n_boot=200,
    seed=None,
    missing="drop",
    n_jobs=1,
) -> OptimismResult:
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
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not covariates:
        raise ImmuneCorrelatesError("optimism_corrected: give at least one covariate.")
    family, firth = MODELS[model][0], bool(MODELS[model][1])
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
    _est, fit = fit_weighted(design, one, np.array([firth]), np.ones((1, n)))
    app = float(_measure(Xo @ fit.beta[0], None, ep, True)[0])
    job = _OptimismJob(design, firth, Xo, ep, tuple(replicate_seeds(seed, n_boot)))
    blocks = chunk_ranges(n_boot, replicates_per_chunk(1, n * design.p, BLOCK_ELEMENTS))
    opt = np.concatenate(run_blocks(_optimism_block, job, blocks, n_jobs=n_jobs))
    o = float(np.nanmean(opt))
    return OptimismResult(
        "auc" if family == "logistic" else "c_index", app, o, app - o, n_boot, int(np.isnan(opt).sum()), model
    )
