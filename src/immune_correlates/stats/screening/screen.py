"""Screen many immune features, one model per feature, all fitted together.

:func:`screen` fits ``outcome ~ feature + covariates`` (logistic, ML or Firth)
or ``Surv(duration, event) ~ feature + covariates`` (Cox, ML or Firth, Efron
ties) for every feature at once with the batched Newton solvers of
:mod:`.batched`, which reproduce :func:`~.logistic.fit_logistic` and
:func:`~.cox.fit_cox` to rounding error.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..._checks import binary_outcome, entry_times, survival_arrays
from ..._missing import complete_cases, row_ids
from ...errors import (
    ImmuneCorrelatesError,
    MissingDataWarning,
    MonotoneLikelihoodWarning,
    SeparationWarning,
    warn,
)
from ...multiplicity import adjust_pvalues
from ..engine.models import Design, fit_models, make_design, separated
from ..engine.profile import lr_pvalue
from ..regression.design_matrix import expand_covariates, screen_terms
from ._bootstrap import bootstrap_coefficients

__all__ = ["screen", "MODELS"]

#: screen model -> (family, firth); "auto" picks per feature.
MODELS = {
    "logistic": ("logistic", False),
    "firth": ("logistic", True),
    "cox": ("cox", False),
    "firth_cox": ("cox", True),
    "auto": (None, None),
}


def _family(model, outcome, duration, event):
    if model not in MODELS:
        raise ImmuneCorrelatesError(f"screen: model must be one of {list(MODELS)}, got {model!r}.")
    surv = duration is not None or event is not None
    if surv and (duration is None or event is None):
        raise ImmuneCorrelatesError("screen: a survival screen needs both duration= and event= columns.")
    family = MODELS[model][0]
    if family is None:
        if surv == (outcome is not None):
            raise ImmuneCorrelatesError(
                "screen: with model='auto' give either outcome= (binary) or duration= and event= (survival)."
            )
        return "cox" if surv else "logistic"
    if family == "logistic" and outcome is None:
        raise ImmuneCorrelatesError(f"screen: model={model!r} is a logistic model; give outcome= (a 0/1 column).")
    if family == "cox" and not surv:
        raise ImmuneCorrelatesError(f"screen: model={model!r} is a Cox model; give duration= and event= columns.")
    return family


def _feature_block(data: pd.DataFrame, features: list[str]) -> np.ndarray | None:
    """Every feature column as one ``(rows, features)`` float array, converted once.

    ``None`` when a column is missing or duplicated, holds a value that is not
    a number, or an infinite value: the caller then runs the column-by-column
    check, which names the column, patients and values.
    """
    cols = data.columns
    if not cols.is_unique and set(cols[cols.duplicated()]) & set(features):
        return None
    where = dict(zip(cols.tolist(), range(len(cols))))  # faster than pandas' indexer for text labels
    pos = np.array([where.get(f, -1) for f in features], dtype=np.int64)
    if np.any(pos < 0):
        return None
    block = data.take(pos, axis=1)
    kinds = {
        t: (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))
        and not isinstance(t, pd.CategoricalDtype)
        for t in set(block.dtypes)
    }
    if all(kinds.values()):
        F = block.to_numpy(dtype=float, na_value=np.nan)
    else:  # text or categorical columns: numbers written as text are fine, anything else is an error
        F = np.empty(block.shape)
        for j, (f, t) in enumerate(zip(features, block.dtypes)):
            col = block.iloc[:, j]
            if kinds[t]:
                F[:, j] = col.to_numpy(dtype=float, na_value=np.nan)
                continue
            conv = pd.to_numeric(col, errors="coerce")
            if (conv.isna() & col.notna()).any():
                return None
            F[:, j] = conv.to_numpy(dtype=float, na_value=np.nan)
    return None if np.isinf(F).any() else F


def prepare_screen(data, features, *, outcome, duration, event, model, covariates, missing, entry=None):
    """Validate, select complete cases per feature and build the batched :class:`Design`.

    The feature panel is checked as one block (one conversion to a float
    array, 2-D missing and infinite-value masks); only when something is
    wrong are the columns examined one by one, so that the error names the
    column, the patients and the values.

    Returns ``(design, features, ids, excluded_per_feature, base_rows, family)``.
    """
    family = _family(model, outcome, duration, event)
    features = [features] if isinstance(features, str) else list(features)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not features:
        raise ImmuneCorrelatesError("screen: give at least one feature column.")
    if len(set(features)) < len(features):
        dupes = sorted({f for f in features if features.count(f) > 1})
        raise ImmuneCorrelatesError(f"screen: feature(s) {dupes} are listed more than once; list each once.")
    ends = [outcome] if family == "logistic" else [duration, event, *([entry] if entry else [])]
    clash = sorted(set(features) & set(covariates + ends))
    if clash:
        raise ImmuneCorrelatesError(
            f"screen: {clash} are both screened features and outcome/covariate columns; remove them from features."
        )
    base_cols = ends + covariates
    numeric = base_cols if family == "cox" else covariates
    with warnings.catch_warnings(record=True) as held:  # outcome and covariates: numeric, finite (warned below)
        warnings.simplefilter("always", MissingDataWarning)
        rows, base_excl = complete_cases(data, base_cols, missing="drop", numeric=numeric, caller="screen")
    F_all = _feature_block(data, features)
    if F_all is None:  # column by column, for the message naming column, patients and values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            complete_cases(data, base_cols + features, missing="drop", numeric=numeric + features, caller="screen")
        raise ImmuneCorrelatesError("screen: the feature columns could not be read as numbers.")  # not reached
    keep = np.ones(len(data), dtype=bool) if base_excl.empty else ~data[base_cols].isna().to_numpy().any(axis=1)
    if missing == "raise" and (not keep.all() or np.isnan(F_all).any()):
        complete_cases(data, base_cols + features, missing="raise", caller="screen")
    for w in held:
        warn(str(w.message), w.category)
    ids = row_ids(rows).reset_index(drop=True)
    F = F_all[keep]
    C = rows[covariates].to_numpy(dtype=float) if covariates else None
    if family == "logistic":
        y = binary_outcome(rows[outcome].reset_index(drop=True), ids, outcome, "screen")
        design = make_design("logistic", F, C, y=y)
    else:
        time, status = survival_arrays(rows, ids, duration, event, "screen")
        t_entry = None if entry is None else entry_times(rows[entry], entry, time, duration, "screen", ids)
        design = make_design("cox", F, C, time=time, event=status, entry=t_entry)
    base_ids = list(base_excl["patient_id"]) if len(base_excl) else []
    nan = np.isnan(F)
    n_nan = nan.sum(axis=0)
    id_arr = ids.to_numpy(dtype=object)
    excluded = [base_ids + id_arr[nan[:, j]].tolist() if n_nan[j] else list(base_ids) for j in range(len(features))]
    partial = [f"{features[j]} ({int(n_nan[j])})" for j in np.flatnonzero(n_nan)]
    if partial:
        warn(
            f"screen: {len(partial)} feature(s) have missing values and were each fitted on their complete "
            f"cases: {', '.join(partial[:20])}{' ...' if len(partial) > 20 else ''}. The left-out patients "
            "are listed per feature in the `excluded` column.",
            MissingDataWarning,
        )
    return design, features, ids, excluded, rows, family


def _invalid(design: Design) -> np.ndarray:
    """Per feature (object array): why no model can be fitted ("" when it can); all checks on the panel at once."""
    W = design.avail
    X = design.X
    used = W > 0
    n_used = used.sum(axis=1)
    if design.family == "logistic":
        ev = (W * design.y).sum(axis=1)
        nonev = (W * (1 - design.y)).sum(axis=1)
    else:
        ev = (W * design.event).sum(axis=1)
        nonev = np.ones_like(ev)
    feat = X[:, :, design.coef]
    lo = np.min(np.where(used, feat, np.inf), axis=1)
    hi = np.max(np.where(used, feat, -np.inf), axis=1)
    out = np.full(X.shape[0], "", dtype=object)
    out[~(lo < hi)] = "the feature takes a single value among the rows used"
    out[nonev == 0] = "every row used is an event"
    out[ev == 0] = "no events among the rows used"
    out[n_used == 0] = "no patient has a value of this feature (with complete outcome and covariates)"
    p = design.p
    cand = np.flatnonzero(out == "")
    if cand.size and p > (2 if design.family == "logistic" else 1):  # with covariates: rank of the design
        u = used[cand][..., None]
        Xu = np.where(u, X[cand], 0.0)
        if design.family == "cox":
            Xu = np.where(u, Xu - Xu.sum(axis=1, keepdims=True) / n_used[cand][:, None, None], 0.0)
        else:
            norm = np.linalg.norm(Xu, axis=1, keepdims=True)
            Xu = Xu / np.where(norm > 0, norm, 1.0)
        S = np.linalg.svd(Xu, compute_uv=False)  # rows outside the model are 0: same singular values
        tol = S.max(axis=-1) * np.maximum(n_used[cand], p) * np.finfo(float).eps  # as numpy's matrix_rank
        deficient = (tol[:, None] < S).sum(axis=-1) < p
        out[cand[deficient]] = "collinear with the covariates"
    return out


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
    ci: str = "wald",
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
        joblib workers for the bootstrap and profile intervals.
    seed : int, SeedSequence or None
        Seeds the bootstrap; results do not depend on ``n_jobs`` or backend.
    alpha : float
        ``1 - level`` of every interval.
    ci : {"wald", "profile"}
        Interval (and logistic p-value) method.  Wald intervals are batched;
        profile intervals call :func:`fit_logistic` / :func:`fit_cox` per feature.
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
        ``fit_cox(entry=)`` (Wald intervals; the bootstrap and profile
        intervals resample or refit rows, not patients, so they are refused).
    term : str, optional
        With ``model="mixed"``: the fixed-effect column whose t-test is reported.

    Returns
    -------
    DataFrame
        One row per feature: ``feature``, ``estimate`` (log odds or log hazard
        ratio per unit), ``std_error``, ``ci_lower``, ``ci_upper``,
        ``odds_ratio``/``hazard_ratio`` with its interval, ``p_value``,
        ``q_value``, ``method`` (the model actually fitted), ``test``, ``n``,
        ``n_events``, ``n_excluded``, ``excluded`` (patient ids left out),
        ``converged``, ``note``; with ``n_boot > 0`` also ``boot_se``,
        ``boot_ci_lower``, ``boot_ci_upper``, their ratios and ``n_boot_failed``.
        p-values are Wald tests, except Firth Cox models (penalized likelihood
        ratio, as :func:`fit_cox`) and ``ci="profile"`` (likelihood ratio).

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
    if model == "mixed":  # long data: each feature the outcome of one linear mixed model (stats/longitudinal)
        from ..longitudinal.screen import screen_mixed

        other = (outcome, duration, event, covariates, n_boot, ci, entry)  # options of the other models: refused
        return screen_mixed(
            data, features, formula=formula, term=term, adjust=adjust, alpha=alpha, missing=missing, other=other
        )
    if ci not in ("wald", "profile"):
        raise ImmuneCorrelatesError(f"screen: ci must be 'wald' or 'profile', got {ci!r}.")
    if not 0 < alpha < 1:
        raise ImmuneCorrelatesError(f"screen: alpha must lie in (0, 1), got {alpha!r}.")
    if boot_ci not in ("percentile", "bca"):
        raise ImmuneCorrelatesError(f"screen: boot_ci must be 'percentile' or 'bca', got {boot_ci!r}.")
    if int(n_boot) < 0:
        raise ImmuneCorrelatesError(f"screen: n_boot must be >= 0, got {n_boot!r}.")
    if formula is not None:
        data, outcome, duration, event, covariates = screen_terms(
            data, formula, given=(outcome, duration, event, covariates)
        )
    else:  # text and categorical covariates are dummy-coded as in fit_logistic / fit_cox
        data, covariates = expand_covariates(data, covariates)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if entry is not None and duration is None:
        raise ImmuneCorrelatesError("screen: entry= applies to Cox screens; give duration= and event= too.")
    if entry is not None and (int(n_boot) > 0 or ci == "profile"):
        raise ImmuneCorrelatesError(
            "screen: with entry= (counting-process rows) only Wald intervals are available: a patient's rows "
            "must be resampled together. Use n_boot=0 and ci='wald', or fit_cox(entry=, cluster=) per feature."
        )
    design, features, ids, excluded, rows, family = prepare_screen(
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
    m, k = len(features), design.coef
    why = _invalid(design)
    valid = why == ""
    notes = {int(j): [why[j]] for j in np.flatnonzero(~valid)}  # feature -> notes; most features have none
    firth = np.full(m, MODELS[model][1] is True)
    flat = np.zeros(m, dtype=bool)
    vi = np.flatnonzero(valid)
    if family == "logistic" and model in ("logistic", "auto") and vi.size:
        sep = np.zeros(m, dtype=bool)
        sep[vi] = separated(design, vi, design.avail[vi])
        for j in np.flatnonzero(sep):
            notes.setdefault(j, []).append(
                "separation: ML estimates are infinite; "
                + (
                    "switched to Firth's penalized likelihood"
                    if model == "auto"
                    else 'the ML values only reflect where the iteration stopped (use model="firth")'
                )
            )
        if model == "auto":
            firth |= sep
        else:
            flat = sep
            if sep.any():
                warn(
                    f"screen: separation (infinite ML estimates) for {list(np.array(features)[sep])}; "
                    'use model="firth" or "auto".',
                    SeparationWarning,
                )
    fit = fit_models(design, vi, firth=firth[vi], flat=flat[vi], want_lr=family == "cox" and bool(firth[vi].any()))
    if family == "cox" and model in ("cox", "auto"):
        mono = np.zeros(m, dtype=bool)
        mono[vi] = fit.monotone
        for j in np.flatnonzero(mono):
            notes.setdefault(j, []).append(
                "monotone likelihood: the ML estimate diverges; "
                + (
                    "switched to Firth's penalized partial likelihood"
                    if model == "auto"
                    else 'its value and standard error are meaningless (use model="firth_cox")'
                )
            )
        if model == "auto" and mono.any():
            firth |= mono
            fit = fit_models(design, vi, firth=firth[vi], want_lr=True)
        elif mono.any():
            warn(
                f"screen: monotone likelihood (diverging ML estimates) for "
                f"{list(np.array(features)[mono])}; use model='firth_cox' or 'auto'.",
                MonotoneLikelihoodWarning,
            )
    est = np.full(m, np.nan)
    se = np.full(m, np.nan)
    pval = np.full(m, np.nan)
    conv = np.zeros(m, dtype=bool)
    est[vi] = fit.beta[:, k]
    with np.errstate(invalid="ignore"):
        se[vi] = np.sqrt(fit.cov[:, k, k])
        pval[vi] = 2 * ndtr(-np.abs(est[vi] / se[vi]))  # normal tail, without scipy.stats' per-call cost
    conv[vi] = fit.converged
    test = np.array(["wald"] * m, dtype=object)  # "lr" where set below
    if family == "cox":
        fl = vi[firth[vi]]
        pos = np.flatnonzero(firth[vi])
        pval[fl] = [lr_pvalue(fit.llf[i], fit.llf0[i]) for i in pos]
        test[fl] = "lr"
    z = float(ndtri(1 - alpha / 2))
    lower, upper = est - z * se, est + z * se
    if ci == "profile" and vi.size:
        from .single import profile_rows

        prof = profile_rows(rows, features, vi, family, firth, outcome, duration, event, covariates, alpha, n_jobs)
        for j, (lo_, up_, p_) in zip(vi, prof):
            lower[j], upper[j], pval[j], test[j] = lo_, up_, p_, "lr"
    for j in vi[~conv[vi]]:
        notes.setdefault(j, []).append("the Newton iteration did not converge")
    names = ("logistic", "firth") if family == "logistic" else ("cox", "firth_cox")
    method = [names[bool(f)] for f in firth]
    W = design.avail
    n_used = W.sum(axis=1).astype(int)
    n_ev = (W @ (design.y if family == "logistic" else design.event)).astype(int)
    ratio = "odds_ratio" if family == "logistic" else "hazard_ratio"
    cols = {"feature": features, "estimate": est, "std_error": se, "ci_lower": lower, "ci_upper": upper}
    with np.errstate(over="ignore", invalid="ignore"):
        cols[ratio] = np.exp(est)
        cols[f"{ratio}_ci_lower"] = np.exp(lower)
        cols[f"{ratio}_ci_upper"] = np.exp(upper)
    cols["p_value"] = pval
    cols["q_value"] = adjust_pvalues(pval, method=adjust)
    cols["method"] = method
    cols["test"] = test.tolist()
    cols["n"] = n_used
    cols["n_events"] = n_ev
    cols["n_excluded"] = np.array([len(e) for e in excluded], dtype=np.int64)
    cols["excluded"] = [", ".join(map(str, e)) if e else "" for e in excluded]
    cols["converged"] = conv
    note = [""] * m
    for j, lines in notes.items():
        note[j] = "; ".join(lines)
    cols["note"] = note
    if n_boot > 0 and vi.size:
        boot = bootstrap_coefficients(
            design, vi, firth[vi], int(n_boot), seed=seed, alpha=alpha, kind=boot_ci, n_jobs=n_jobs, progress=progress
        )
        for col in ("boot_se", "boot_ci_lower", "boot_ci_upper"):
            cols[col] = np.full(m, np.nan)
            cols[col][vi] = boot[col]
        with np.errstate(over="ignore", invalid="ignore"):
            cols[f"{ratio}_boot_ci_lower"] = np.exp(cols["boot_ci_lower"])
            cols[f"{ratio}_boot_ci_upper"] = np.exp(cols["boot_ci_upper"])
        cols["n_boot_failed"] = np.zeros(m, dtype=np.int64)
        cols["n_boot_failed"][vi] = boot["n_failed"]
    out = pd.DataFrame(cols)
    return out
