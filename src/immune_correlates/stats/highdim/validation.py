"""Honest validation of a penalized signature, and which of its terms are stable.

:func:`validate_signature` estimates how well a signature built by :func:`fit_penalized`
(lambda chosen by cross-validation) will discriminate in new patients, three ways:

- *apparent*: the AUC (logistic) or Harrell's C (Cox) of the final fit on the data it was
  built from (optimistic);
- *nested cross-validation*: every outer fold's signature is built, lambda chosen by an inner
  cross-validation, on the other folds only, and scores the held-out fold (Varma & Simon 2006);
- *bootstrap optimism* (Harrell, Lee & Mark 1996): the whole procedure, inner
  cross-validation included, is repeated on bootstrap resamples; the mean of (performance on
  the resample - performance on the original data) is the optimism, subtracted from the
  apparent value.  Inner folds of a resample are formed over patients, so copies of a patient
  stay in one fold.

:func:`~.stability.stability_selection` says which terms are stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._params import COLUMNS, MISSING, N_JOBS, OPTIONAL_COLUMN, SEED, Interval, Options, check_params
from ..._results import ResultDisplay
from ..._seeds import rng as make_rng
from ..._seeds import spawn
from ..engine.discrimination import auc_batch, cindex_batch
from ..engine.parallel import run_blocks
from ._cv import make_folds, stratified_folds
from ._glmnet import PathData
from ._procedure import PathSettings, cross_validated
from .penalized import LAMBDA_MIN_RATIO, N_LAMBDA, PenalizedData, fold_numbers, penalized_data

__all__ = ["validate_signature", "SignatureValidation"]


def _measure(data: PathData, score: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """AUC (logistic) or Harrell's C (Cox, larger score = earlier event) of each row of ``score``."""
    if data.family == "logistic":
        return auc_batch(score, data.labels, w)
    return cindex_batch(score, data.times, data.events, w, reverse=True)


@dataclass(frozen=True, eq=False)
class _BootstrapJob:
    data: PathData
    vp: np.ndarray
    settings: PathSettings
    rule: str
    inner: int
    seeds: tuple


def _chosen(proc, rule: str):
    idx = proc.i_1se if rule == "1se" else proc.i_min
    rows = np.arange(idx.size)
    return proc.full.beta[rows, idx], proc.full.intercept[rows, idx]


def _bootstrap_block(job: _BootstrapJob, block: range) -> np.ndarray:
    """Optimism (resample performance - original performance) and selections of replicates ``block``."""
    data, n = job.data, job.data.X.shape[0]
    strata = data.strata
    V = np.zeros((len(block), n))
    F = np.empty((len(block), n), dtype=np.int64)
    for r, rep in enumerate(block):
        rng = make_rng(job.seeds[rep])
        V[r] = np.bincount(rng.integers(0, n, n), minlength=n)
        F[r] = stratified_folds(rng, strata, np.flatnonzero(V[r] > 0), job.inner, n)
    drawn = V > 0
    events = (drawn & (strata > 0)).sum(axis=1)
    others = (drawn & (strata <= 0)).sum(axis=1)
    # a resample must allow the procedure: both outcomes in every inner training set, an event per Cox fold
    ok = (events >= job.inner) if data.family == "cox" else (np.minimum(events, others) >= 2)
    out = np.full((len(block), 1 + data.X.shape[1]), np.nan)
    if ok.any():
        proc = cross_validated(data, V[ok], F[ok], **job.settings)
        beta, b0 = _chosen(proc, job.rule)
        lp = b0[:, None] + beta @ data.X.T
        boot, orig = _measure(data, lp, V[ok]), _measure(data, lp)
        out[ok] = np.column_stack([boot - orig, beta != 0])
    return out


def _nested(data: PathData, outer_folds, inner: int, seed, settings: PathSettings, rule: str):
    n = data.X.shape[0]
    strata = data.strata
    K = len(outer_folds)
    V = np.zeros((K, n))
    F = np.empty((K, n), dtype=np.int64)
    for k, ((train, _), ss) in enumerate(zip(outer_folds, spawn(seed, K))):
        V[k, train] = 1.0
        F[k] = stratified_folds(make_rng(ss), strata, train, inner, n)
    proc = cross_validated(data, V, F, **settings)
    beta, b0 = _chosen(proc, rule)
    pooled = np.empty(n)
    per_fold = np.empty(K)
    for k, (_, test) in enumerate(outer_folds):
        lp = b0[k] + data.X @ beta[k]
        pooled[test] = lp[test]
        w = np.zeros(n)
        w[test] = 1.0
        per_fold[k] = _measure(data, lp[None], w[None])[0]
    return float(_measure(data, pooled[None])[0]), per_fold


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class SignatureValidation(ResultDisplay):
    """Apparent, nested cross-validated and optimism-corrected discrimination of a penalized signature.

    Attributes
    ----------
    measure : str
        ``"auc"`` (logistic) or ``"c_index"`` (Cox, Harrell's C).
    apparent, optimism, corrected : float
        The final fit's discrimination on its own data, the bootstrap optimism and their difference.
    nested_cv : float
        Discrimination of the pooled out-of-fold linear predictors (outer folds).
    nested_cv_folds : ndarray
        Each outer fold's discrimination of its own held-out patients.
    selection_frequency : Series
        Fraction of bootstrap signatures that contain each term.
    lam : float
        The lambda of the final fit (cross-validated on all patients).
    n_boot, n_failed, outer, inner : int
    rule : str
    """

    measure: str
    apparent: float
    optimism: float
    corrected: float
    nested_cv: float
    nested_cv_folds: np.ndarray
    selection_frequency: pd.Series
    lam: float
    n_boot: int
    n_failed: int
    outer: int
    inner: int
    rule: str
    nobs: int
    n_events: int

    def summary(self) -> pd.DataFrame:
        """One row per estimate: ``estimate``, ``value`` and how it was obtained."""
        folds = self.nested_cv_folds[np.isfinite(self.nested_cv_folds)]
        return pd.DataFrame(
            {
                "estimate": ["apparent", "optimism-corrected (bootstrap)", "nested cross-validation"],
                "value": [self.apparent, self.corrected, self.nested_cv],
                "spread": [np.nan, np.nan, float(np.std(folds, ddof=1)) if folds.size > 1 else np.nan],
                "how": [
                    "final signature on the patients it was built from",
                    f"apparent minus the mean optimism of {self.n_boot - self.n_failed} bootstrap repetitions of "
                    "the whole procedure",
                    f"{self.outer} outer folds, lambda by {self.inner}-fold inner cross-validation "
                    "(spread: SD over outer folds)",
                ],
            }
        )

    def _title(self) -> str:
        name = "AUC" if self.measure == "auc" else "Harrell's C"
        return f"Validation of a penalized signature ({name}, lambda rule '{self.rule}')"

    def _notes(self) -> list[str]:
        top = self.selection_frequency.sort_values(ascending=False).head(5)
        listed = ", ".join(f"{t} ({v:.0%})" for t, v in top.items())
        notes = [f"Terms most often in the bootstrap signatures: {listed}."]
        if self.n_failed:
            notes.append(
                f"{self.n_failed} bootstrap resamples could not run the procedure (too few events drawn) and were "
                "left out."
            )
        return notes


@check_params(
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    l1_ratio=Interval(0, 1),
    cv=Interval(3, None, integer=True),
    outer=Interval(3, None, integer=True),
    n_boot=Interval(0, None, integer=True),
    seed=SEED,
    rule=Options("1se", "min"),
    n_lambda=N_LAMBDA,
    lambda_min_ratio=LAMBDA_MIN_RATIO,
    unpenalized=COLUMNS,
    n_jobs=N_JOBS,
    missing=MISSING,
)
def validate_signature(
    data: pd.DataFrame,
    outcome: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    duration: str | None = None,
    event: str | None = None,
    l1_ratio: float = 1.0,
    cv: int = 10,
    outer: int = 5,
    n_boot: int = 200,
    seed=None,
    rule: str = "1se",
    n_lambda: int = 100,
    lambda_min_ratio: float | None = None,
    unpenalized: Sequence[str] = (),
    n_jobs: int = 1,
    missing: str = "drop",
) -> SignatureValidation:
    """How well a penalized signature will discriminate in new patients (nested CV and bootstrap optimism).

    Parameters
    ----------
    data, outcome, covariates, duration, event, l1_ratio, rule, n_lambda, lambda_min_ratio, unpenalized, missing
        As :func:`fit_penalized`.
    cv : int
        Folds of the cross-validation that chooses lambda (inside every repetition).
    outer : int
        Outer folds of the nested cross-validation (stratified on the outcome or event).
    n_boot : int
        Bootstrap repetitions of the whole procedure (0: no optimism correction).
    seed : int, SeedSequence, Generator or None
        Seeds every fold and resample: repetition ``r`` draws from its own child seed, so the
        result does not depend on ``n_jobs``.
    n_jobs : int
        joblib workers for the bootstrap.

    Returns
    -------
    SignatureValidation

    References
    ----------
    Harrell FE, Lee KL, Mark DB (1996) Stat Med 15:361-387 (bootstrap optimism);
    Varma S, Simon R (2006) BMC Bioinformatics 7:91 (nested cross-validation);
    Steyerberg EW (2019) *Clinical Prediction Models*, 2nd ed., ch. 17.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> X = pd.DataFrame(rng.standard_normal((50, 8)), columns=[f"f{i}" for i in range(8)])
    >>> X["cr"] = (1.5 * X["f0"] + rng.standard_normal(50) > 0.5).astype(int)
    >>> res = validate_signature(X, "cr", [f"f{i}" for i in range(8)], cv=5, outer=5, n_boot=20, seed=1)
    >>> bool(res.corrected <= res.apparent)
    True
    """
    caller = "validate_signature"
    prep: PenalizedData = penalized_data(data, outcome, covariates, duration, event, unpenalized, missing, caller)
    pdata, n = prep.data, prep.data.X.shape[0]
    settings = PathSettings(alpha=l1_ratio, vp=prep.vp, n_lambda=n_lambda, lambda_min_ratio=lambda_min_ratio)
    s_final, s_outer, s_inner, s_boot = spawn(seed, 4, caller=caller)
    folds = fold_numbers(make_folds(pdata, cv, s_final), n, caller)
    proc = cross_validated(pdata, np.ones((1, n)), folds[None], **settings)
    beta, b0 = _chosen(proc, rule)
    apparent = float(_measure(pdata, (b0[0] + pdata.X @ beta[0])[None])[0])
    lam = float(proc.full.lambdas[0, (proc.i_1se if rule == "1se" else proc.i_min)[0]])
    nested, per_fold = _nested(pdata, make_folds(pdata, outer, s_outer), cv, s_inner, settings, rule)
    optimism, n_failed, freq = np.nan, 0, np.full(len(prep.terms), np.nan)
    if n_boot:
        job = _BootstrapJob(pdata, prep.vp, settings, rule, int(cv), tuple(spawn(s_boot, n_boot)))
        size = max(1, 2000 // (int(cv) + 1))
        blocks = [range(lo, min(lo + size, n_boot)) for lo in range(0, n_boot, size)]
        out = np.concatenate(run_blocks(_bootstrap_block, job, blocks, n_jobs=n_jobs))
        opt = out[:, 0]
        n_failed = int(np.isnan(opt).sum())
        optimism = float(np.nanmean(opt))
        freq = np.nanmean(out[:, 1:], axis=0) if n_failed < n_boot else freq
    if pdata.family == "logistic":
        n_events = int(pdata.labels.sum())
    else:
        n_events = int(pdata.events.sum())
    return SignatureValidation(
        measure="auc" if pdata.family == "logistic" else "c_index",
        apparent=apparent,
        optimism=optimism,
        corrected=apparent - optimism,
        nested_cv=nested,
        nested_cv_folds=per_fold,
        selection_frequency=pd.Series(freq, index=prep.terms, name="selection_frequency"),
        lam=lam,
        n_boot=int(n_boot),
        n_failed=n_failed,
        outer=int(outer),
        inner=int(cv),
        rule=rule,
        nobs=n,
        n_events=n_events,
    )
