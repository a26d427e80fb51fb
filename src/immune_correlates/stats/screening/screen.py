"""Screen many immune features, one model per feature, all fitted together.

:func:`screen` fits ``outcome ~ feature + covariates`` (logistic, ML or Firth)
or ``Surv(duration, event) ~ feature + covariates`` (Cox, ML or Firth, Efron
ties) for every feature at once with the batched Newton solvers of
:mod:`..engine`, which reproduce :func:`~..regression.logistic.fit_logistic`
and :func:`~..regression.cox.fit_cox` to rounding error, profile intervals
included (:func:`~..engine.models.profile_models`).  The steps: model columns
(formula or covariates), the design (:mod:`._prepare`), the fits (with the
switch to Firth of ``model="auto"``), the inference of one convention, the
table, and the bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..._params import (
    ALPHA,
    CI,
    COLUMNS,
    FLAG,
    FORMULA,
    MISSING,
    N_JOBS,
    OPTIONAL_COLUMN,
    SEED,
    Instance,
    Interval,
    Options,
    check_params,
)
from ...data.imputed import ImputedData
from ...errors import MonotoneLikelihoodWarning, ParameterError, SeparationWarning, warn
from ...multiplicity import ADJUST_OPTIONS, adjust_pvalues
from ..engine.models import BatchDesign, FitArrays, fit_models, profile_models, separated
from ..engine.parallel import heap_temporaries
from ..missing.screen_pool import screen_imputed
from ..regression.design_matrix import expand_covariates, screen_terms
from ._bootstrap import bootstrap_coefficients
from ._prepare import MODELS, invalid_models, prepare_screen

__all__ = ["screen", "MODELS", "prepare_screen"]


class _Fits(NamedTuple):
    """The unconstrained fits of the valid features and what was decided for each feature."""

    fit: FitArrays
    valid: np.ndarray  # indices of the features that can be modelled
    firth: np.ndarray  # (m,) Firth's likelihood used
    flat: np.ndarray  # (m,) ML under separation (flat-likelihood stop)
    diverged: np.ndarray  # (m,) ML estimate infinite (separation, monotone likelihood)
    notes: dict  # feature -> list of notes


class _Inference(NamedTuple):
    estimate: np.ndarray
    std_error: np.ndarray
    p_value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    converged: np.ndarray
    test: str


@check_params(
    outcome=OPTIONAL_COLUMN,
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    model=Options(*MODELS, "mixed"),
    adjust=ADJUST_OPTIONS,
    n_boot=Interval(0, None, integer=True),
    n_jobs=N_JOBS,
    seed=SEED,
    alpha=ALPHA,
    ci=CI,
    progress=FLAG,
    missing=MISSING,
    boot_ci=Options("percentile", "bca"),
    formula=FORMULA,
    entry=OPTIONAL_COLUMN,
    term=(Options(None), Instance(str, name="a fixed-effect column name")),
    covariates=COLUMNS,
)
def screen(
    data: pd.DataFrame,
    features: str | Sequence[str],
    *,
    outcome: str | None = None,
    duration: str | None = None,
    event: str | None = None,
    model: str = "firth",
    covariates: str | Sequence[str] = (),
    adjust: str = "fdr_bh",
    n_boot: int = 0,
    n_jobs: int = 1,
    seed=None,
    alpha: float = 0.05,
    ci: str = "profile",
    progress: bool = False,
    missing: str = "drop",
    boot_ci: str = "percentile",
    formula: str | None = None,
    entry: str | None = None,
    term: str | None = None,
) -> pd.DataFrame:
    """Fit one (covariate-adjusted) model per feature and tabulate the feature's effect.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    features : str or sequence of str
        Numeric feature columns, each screened in its own model.
    outcome : str, optional
        0/1 outcome (logistic models).
    duration, event : str, optional
        Follow-up time and 0/1 event (Cox models, Efron ties).
    model : {"firth", "logistic", "cox", "firth_cox", "auto", "mixed"}
        Firth or ML logistic, ML or Firth Cox; ``"auto"`` fits ML and switches
        a feature to Firth under separation (logistic) or monotone likelihood
        (Cox), saying so in ``note``.  ``"mixed"``: long data, each feature the
        outcome of the linear mixed model ``formula=`` (no left side, lme4's
        random effects) and ``term=`` the column reported, with its t-test on
        Satterthwaite df (:func:`fit_mixed`, batched; rows ``feature``,
        ``term``, ``estimate``, ``std_error``, ``df``, ``p_value``,
        ``q_value``, ``n``, ``n_groups``, ...).
    covariates : sequence of str
        Adjustment covariates, in every model.
    adjust : {"fdr_bh", "holm", "bonferroni", "none"}
        Multiplicity adjustment of ``q_value`` (see :func:`adjust_pvalues`).
    n_boot : int
        Bootstrap resamples of patients for the ``boot_*`` interval columns
        (0: none).  Every feature is refitted on the same resamples, with the
        method of its point estimate.
    n_jobs : int
        joblib workers for the bootstrap (``-1``: one per core).
    seed : None, int, SeedSequence or Generator
        Seeds the bootstrap (see :mod:`immune_correlates._seeds`); results do
        not depend on ``n_jobs`` or the joblib backend.
    alpha : float
        ``1 - level`` of every interval.
    ci : {"profile", "wald"}
        The package's convention (``docs/inference.md``): profile (penalized)
        likelihood intervals with likelihood-ratio p-values, as
        ``fit_logistic`` / ``fit_cox`` give them, computed for the whole panel
        at once by the one profile solver (each of its steps one batched
        constrained fit); ``"wald"``: Wald intervals with Wald p-values.
    progress : bool
        A tqdm bar over bootstrap chunks.
    missing : {"drop", "raise"}
        Complete cases per feature (outcome, covariates and that feature), the
        left-out patients listed per row, or refuse incomplete data.
    boot_ci : {"percentile", "bca"}
        Bootstrap interval type.
    formula : str, optional
        ``"cr ~ age + C(sex)"`` or ``"Surv(pfs_months, pfs_event) ~ age"``
        instead of ``outcome``/``duration``/``event`` and ``covariates``: the
        right side are the adjustment covariates of every model, with the
        grammar and dummy coding of :func:`fit_logistic`'s formulas.
    entry : str, optional
        Cox models on counting-process rows ``(entry, duration]``, as
        ``fit_cox(entry=)`` (the bootstrap would resample rows, not
        patients, so it is refused).
    term : str, optional
        With ``model="mixed"``: the fixed-effect column whose t-test is reported.

    Returns
    -------
    DataFrame
        One row per feature: ``feature``, ``estimate`` (log odds or log hazard
        ratio per unit), ``std_error``, ``ci_lower``, ``ci_upper``,
        ``odds_ratio``/``hazard_ratio`` with its interval, ``p_value``,
        ``q_value``, ``family`` (``"logistic"`` or ``"cox"``), ``method``
        (``"ml"`` or ``"firth"``: the fit actually used), ``ci_method``, ``test``, ``n``,
        ``n_events``, ``n_excluded``, ``excluded`` (patient ids left out),
        ``converged``, ``note``; with ``n_boot > 0`` also ``boot_se``,
        ``boot_ci_lower``, ``boot_ci_upper``, their ratios and ``n_boot_failed``.
        p-values are (penalized) likelihood-ratio tests with ``ci="profile"``
        and Wald tests with ``ci="wald"``, never mixed (``test``).

    Notes
    -----
    The batched fits raise glibc's mmap threshold for the duration of the
    call (see :func:`~immune_correlates.stats.engine.parallel.heap_temporaries`:
    temporaries of a few MB come from the heap instead of fresh mappings) and
    restore it when the screen returns; every block of the bootstrap runs
    with one BLAS thread, so its numbers do not depend on ``n_jobs``.

    References
    ----------
    Firth D (1993) Biometrika 80:27-38; Heinze G, Schemper M (2002) Stat Med
    21:2409-2419; Heinze G, Schemper M (2001) Biometrics 57:114-119;
    Benjamini Y, Hochberg Y (1995) JRSS B 57:289-300.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> tab = ic.screen(frame, ["cd8_per_ul", "nk_per_ul"], outcome="cr", model="firth")  # doctest: +SKIP
    >>> tab[["feature", "odds_ratio", "p_value", "q_value"]]  # doctest: +SKIP
    """
    if isinstance(data, ImputedData):  # multiple imputation: screen every completed data set, pool (Rubin)
        return screen_imputed(screen, locals())
    if model == "mixed":  # long data: each feature the outcome of one linear mixed model (stats/longitudinal)
        from ..longitudinal.screen import screen_mixed

        other = (outcome, duration, event, covariates, n_boot, None if ci == "profile" else ci, entry)
        return screen_mixed(  # the options of the other models are refused there
            data,
            features,
            formula=formula,  # type: ignore[arg-type]  # screen_mixed refuses a missing formula by name
            term=term,
            adjust=adjust,
            alpha=alpha,
            missing=missing,
            other=other,
        )
    data, outcome, duration, event, covariates = _model_columns(
        data, formula, outcome, duration, event, covariates, entry, n_boot
    )
    design, names, _, excluded, _, family = prepare_screen(
        data,
        features,
        outcome=outcome,
        duration=duration,
        event=event,
        model=model,
        covariates=covariates,
        missing=missing,
        entry=entry,
    )
    with heap_temporaries():  # glibc's setting is restored on return
        fits = _fit_features(design, names, family, model)
        inference = _infer(design, fits, ci, alpha)
    table = _table(names, design, fits, inference, excluded, family, adjust, ci)
    if n_boot > 0 and fits.valid.size:
        boot = bootstrap_coefficients(
            design,
            fits.valid,
            fits.firth[fits.valid],
            n_boot,
            seed=seed,
            alpha=alpha,
            kind=boot_ci,
            n_jobs=n_jobs,
            progress=progress,
        )
        _add_bootstrap(table, boot, fits.valid, family)
    return table


def _model_columns(data, formula, outcome, duration, event, covariates, entry, n_boot):
    """Outcome and adjustment columns from ``formula=`` or the column arguments (factors dummy-coded)."""
    if formula is not None:
        data, outcome, duration, event, covariates = screen_terms(
            data, formula, given=(outcome, duration, event, covariates)
        )
    else:  # text and categorical covariates are dummy-coded as in fit_logistic / fit_cox
        data, covariates = expand_covariates(data, covariates)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if entry is not None and duration is None:
        raise ParameterError("screen: entry= applies to Cox screens; give duration= and event= too.")
    if entry is not None and n_boot > 0:
        raise ParameterError(
            "screen: with entry= (counting-process rows) the bootstrap is not available: a patient's rows "
            "must be resampled together. Use n_boot=0, or fit_cox(entry=, cluster=) per feature."
        )
    return data, outcome, duration, event, covariates


def _fit_features(design: BatchDesign, features: list[str], family: str, model: str) -> _Fits:
    """Fit every valid feature; under ``model="auto"`` switch separated / monotone ones to Firth."""
    m = len(features)
    why = invalid_models(design)
    valid = np.flatnonzero(why == "")
    notes = {int(j): [why[j]] for j in np.flatnonzero(why != "")}  # feature -> notes; most features have none
    firth = np.full(m, MODELS[model][1] is True)
    flat = np.zeros(m, dtype=bool)
    diverged = np.zeros(m, dtype=bool)
    if family == "logistic" and model in ("logistic", "auto") and valid.size:
        sep = np.zeros(m, dtype=bool)
        sep[valid] = separated(design, valid, design.avail[valid])
        _flag(
            notes,
            sep,
            features,
            model,
            "separation: ML estimates are infinite",
            "Firth's penalized likelihood",
            'use model="firth"',
            SeparationWarning,
        )
        firth |= sep if model == "auto" else False
        flat = sep & ~firth
        diverged = flat.copy()
    fit = fit_models(design, valid, firth=firth[valid], flat=flat[valid])
    if family == "cox" and model in ("cox", "auto"):
        mono = np.zeros(m, dtype=bool)
        mono[valid] = fit.monotone
        _flag(
            notes,
            mono,
            features,
            model,
            "monotone likelihood: the ML estimate diverges",
            "Firth's penalized partial likelihood",
            "use model='firth_cox'",
            MonotoneLikelihoodWarning,
        )
        if model == "auto" and mono.any():
            firth |= mono
            fit = fit_models(design, valid, firth=firth[valid])
        else:
            diverged = mono
    for j in valid[~fit.converged]:
        notes.setdefault(int(j), []).append("the Newton iteration did not converge")
    return _Fits(fit, valid, firth, flat, diverged, notes)


def _flag(notes, flagged, features, model, what, switch, advice, category) -> None:
    """Note each flagged feature; warn once (``model="auto"`` switches them instead)."""
    for j in np.flatnonzero(flagged):
        notes.setdefault(int(j), []).append(
            f"{what}; " + (f"switched to {switch}" if model == "auto" else f"the ML values are meaningless ({advice})")
        )
    if flagged.any() and model != "auto":
        warn(f"screen: {what} for {list(np.array(features)[flagged])}; {advice} or 'auto'.", category)


def _infer(design: BatchDesign, fits: _Fits, ci: str, alpha: float) -> _Inference:
    """Estimates with intervals and p-values of one convention (profile with LR, or Wald with Wald)."""
    m, k, vi, fit = fits.firth.size, design.coef, fits.valid, fits.fit
    est, se, pval = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    lower, upper, conv = np.full(m, np.nan), np.full(m, np.nan), np.zeros(m, dtype=bool)
    est[vi], conv[vi] = fit.beta[:, k], fit.converged
    with np.errstate(invalid="ignore"):
        se[vi] = np.sqrt(fit.cov[:, k, k])
    if ci == "wald":
        with np.errstate(invalid="ignore"):
            pval[vi] = 2 * ndtr(-np.abs(est[vi] / se[vi]))  # normal tail, without scipy.stats' per-call cost
        z = float(ndtri(1 - alpha / 2))
        lower, upper = est - z * se, est + z * se
        return _Inference(est, se, pval, lower, upper, conv, "wald")
    if vi.size:
        pval[vi], lower[vi], upper[vi] = profile_models(
            design, vi, fit, firth=fits.firth[vi], flat=fits.flat[vi], alpha=alpha, diverged=fits.diverged[vi]
        )
    return _Inference(est, se, pval, lower, upper, conv, "lr")


def _table(features, design, fits, inf: _Inference, excluded, family, adjust, ci) -> pd.DataFrame:
    """One row per feature, in the order given."""
    m = len(features)
    W = design.avail
    ratio = "odds_ratio" if family == "logistic" else "hazard_ratio"
    cols = {"feature": features, "estimate": inf.estimate, "std_error": inf.std_error}
    cols.update(ci_lower=inf.lower, ci_upper=inf.upper)
    with np.errstate(over="ignore", invalid="ignore"):
        cols[ratio] = np.exp(inf.estimate)
        cols[f"{ratio}_ci_lower"] = np.exp(inf.lower)
        cols[f"{ratio}_ci_upper"] = np.exp(inf.upper)
    cols["p_value"] = inf.p_value
    cols["q_value"] = adjust_pvalues(inf.p_value, method=adjust)
    cols["family"] = family
    cols["method"] = np.where(fits.firth, "firth", "ml")
    cols["ci_method"] = ci
    cols["test"] = inf.test
    cols["n"] = W.sum(axis=1).astype(int)
    cols["n_events"] = (W @ (design.y if family == "logistic" else design.event)).astype(int)
    cols["n_excluded"] = np.array([len(e) for e in excluded], dtype=np.int64)
    cols["excluded"] = [", ".join(map(str, e)) if e else "" for e in excluded]
    cols["converged"] = inf.converged
    note = [""] * m
    for j, lines in fits.notes.items():
        note[j] = "; ".join(lines)
    cols["note"] = note
    return pd.DataFrame(cols)


def _add_bootstrap(table: pd.DataFrame, boot: dict, valid: np.ndarray, family: str) -> None:
    """The bootstrap columns (NaN for features that were not modelled)."""
    m = len(table)
    ratio = "odds_ratio" if family == "logistic" else "hazard_ratio"
    for col in ("boot_se", "boot_ci_lower", "boot_ci_upper"):
        values = np.full(m, np.nan)
        values[valid] = boot[col]
        table[col] = values
    with np.errstate(over="ignore", invalid="ignore"):
        table[f"{ratio}_boot_ci_lower"] = np.exp(table["boot_ci_lower"])
        table[f"{ratio}_boot_ci_upper"] = np.exp(table["boot_ci_upper"])
    failed = np.zeros(m, dtype=np.int64)
    failed[valid] = boot["n_failed"]
    table["n_boot_failed"] = failed
