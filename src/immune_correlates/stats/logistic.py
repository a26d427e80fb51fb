"""Binary logistic regression by maximum likelihood or Firth's penalized likelihood.

Small trials (a few dozen patients, a handful of responders) make maximum
likelihood estimates infinite whenever a feature separates responders from
non-responders.  :func:`fit_logistic` checks for separation first (Konis's
linear programmes, :mod:`.separation`), warns when ML cannot give finite
estimates, and offers Firth's bias-reduced estimates (Firth 1993; Heinze &
Schemper 2002) with profile penalized-likelihood intervals as logistf
reports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from .._missing import complete_cases, row_ids
from ..errors import (
    ConvergenceWarning,
    ImmuneCorrelatesError,
    InputError,
    ModelError,
    SeparationWarning,
    warn,
)
from ._logistic_core import newton_fit
from ._model import RegressionResult, wald_table
from ._profile import lr_pvalue, profile_bounds
from .batched.discrimination import auc_batch
from .separation import SeparationResult, separation_from_arrays

__all__ = ["LogisticResult", "fit_logistic", "weighted_auc"]

INTERCEPT = "Intercept"


class _Prepared(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    names: list[str]
    index: pd.Index
    excluded: pd.DataFrame


def _as_list(covariates: str | Sequence[str]) -> list[str]:
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    dupes = sorted({c for c in covs if covs.count(c) > 1})
    if dupes:
        raise ImmuneCorrelatesError(f"covariates {dupes} are listed more than once; list each once.")
    if INTERCEPT in covs:
        raise ImmuneCorrelatesError(
            f"a covariate may not be called {INTERCEPT!r}: the model adds its own intercept term. "
            "Rename that column."
        )
    return covs


def binary_outcome_values(series: pd.Series, ids: pd.Series, outcome: str, caller: str) -> np.ndarray:
    """A 0/1 (or boolean) outcome as floats; any other value is an error naming the patients."""
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    values = pd.to_numeric(series, errors="coerce")
    bad = ~values.isin([0, 1])
    if bad.any():
        rows = [{"patient_id": ids[i], "value": series[i]} for i in series.index[bad]]
        raise InputError(
            f"{caller}: the outcome must be coded 0/1 (or True/False); these values are not",
            column=outcome,
            rows=rows,
            hint="Recode the outcome as 1 (event, e.g. complete remission) and 0, then call again.",
        )
    return values.to_numpy(dtype=float)


def _check_design(X: np.ndarray, names: list[str], caller: str) -> None:
    for j, name in enumerate(names[1:], start=1):
        col = X[:, j]
        if np.ptp(col) == 0:
            raise ModelError(
                f"{caller}: covariate {name!r} is constant (every used row has {col[0]:g}), so its "
                "effect cannot be estimated and the design matrix is rank deficient. "
                "Remove it from the covariates."
            )
    scaled = X / np.linalg.norm(X, axis=0)
    rank = np.linalg.matrix_rank(scaled)
    if rank < X.shape[1]:
        _, _, vt = np.linalg.svd(scaled)
        null = vt[rank:]
        involved = [names[j] for j in np.flatnonzero(np.any(np.abs(null) > 1e-8, axis=0))]
        raise ModelError(
            f"{caller}: covariates {involved} are collinear (one is a linear combination of the others "
            "and the intercept) in the rows used, so the design matrix is rank deficient. "
            "Drop one of them or combine them into a single feature."
        )


def _prepare(data, outcome, covariates, weights, missing, caller) -> _Prepared:
    covs = _as_list(covariates)
    extra = [weights] if weights is not None else []
    kept, excluded = complete_cases(
        data, [outcome, *covs, *extra], missing=missing, numeric=[*covs, *extra], caller=caller
    )
    ids = row_ids(kept)
    y = binary_outcome_values(kept[outcome], ids, outcome, caller)
    X = np.column_stack([np.ones(len(kept))] + [kept[c].to_numpy(dtype=float) for c in covs])
    w = np.ones(len(kept)) if weights is None else kept[weights].to_numpy(dtype=float)
    if np.any(w < 0):
        rows = [{"patient_id": ids.iloc[i], "value": w[i]} for i in np.flatnonzero(w < 0)]
        raise InputError(f"{caller}: case weights must be >= 0", column=weights, rows=rows)
    return _Prepared(X, y, w, [INTERCEPT, *covs], kept.index, excluded)


def weighted_auc(score: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """C statistic: probability that an event scores above a non-event (ties count 1/2); see ``auc_batch``."""
    return float(auc_batch(score, y, w)[0])


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LogisticResult(RegressionResult):
    """A fitted logistic regression (see :func:`fit_logistic`).

    Besides :class:`RegressionResult`'s attributes: ``llf_null`` (intercept-only
    fit, same method; for Firth, logistf's null model: every slope fixed at 0
    while the penalty keeps the full model's information), ``lr_statistic``, ``lr_df``, ``lr_pvalue`` (likelihood-ratio
    test of all covariates), ``fitted`` (probabilities of the rows used),
    ``auc`` (C statistic of ``fitted``), ``separation`` (the
    :class:`SeparationResult` found before fitting), ``outcome``, ``covariates``.
    """

    llf_null: float = float("nan")
    lr_statistic: float = float("nan")
    lr_df: int = 0
    lr_pvalue: float = float("nan")
    fitted: pd.Series = None
    auc: float = float("nan")
    separation: SeparationResult = None
    outcome: str = ""
    covariates: tuple[str, ...] = ()

    ratio_name = "odds_ratio"

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Predicted probabilities for the rows of ``data`` (NaN where a covariate is missing)."""
        missing_cols = [c for c in self.covariates if c not in data.columns]
        if missing_cols:
            raise ImmuneCorrelatesError(f"predict: column(s) {missing_cols} not found in data.")
        columns = [np.ones(len(data))]
        for c in self.covariates:
            values = pd.to_numeric(data[c], errors="coerce")
            bad = values.isna() & data[c].notna()
            if bad.any():
                rows = [{"patient_id": p, "value": v} for p, v in zip(row_ids(data)[bad], data[c][bad])]
                raise InputError("predict: covariate values must be numeric", column=c, rows=rows)
            columns.append(values.to_numpy(dtype=float))
        X = np.column_stack(columns)
        return pd.Series(expit(X @ self.params.to_numpy()), index=data.index, name="probability")

    def _title(self) -> str:
        kind = "Firth-penalized" if self.method == "firth" else "maximum likelihood"
        return f"Logistic regression ({kind}) of {self.outcome}"

    def _notes(self) -> list[str]:
        lines = super()._notes()
        lines.append(
            f"LR test of the model: chi2 = {self.lr_statistic:.4g} on {self.lr_df} df, p = {self.lr_pvalue:.4g}; "
            f"AUC = {self.auc:.3f}"
        )
        return lines


def _profile_machinery(X, y, w, firth, beta, llf, scale, names, max_iter, tol, flat_tol):
    """Constrained (penalized) llf callbacks and an interval function, as logistf computes them."""
    k_all = X.shape[1]
    path: dict[int, list[tuple[float, np.ndarray]]] = {k: [(beta[k], beta)] for k in range(k_all)}

    def constrained(k: int, value: float) -> float:
        # path following: start from the line through the two solutions profiled
        # nearest to this value (on a separated profile the other coefficients
        # move linearly with this one, far beyond what a few capped steps reach)
        near = sorted(path[k], key=lambda item: abs(item[0] - value))[:2]
        start = near[0][1].copy()
        if len(near) == 2 and near[0][0] != near[1][0]:
            slope = (near[0][1] - near[1][1]) / (near[0][0] - near[1][0])
            start = start + slope * (value - near[0][0])
        start[k] = value
        fixed = np.zeros(k_all, dtype=bool)
        fixed[k] = True
        fit = newton_fit(X, y, w, firth=firth, beta0=start, fixed=fixed, max_iter=max_iter, tol=tol, flat_tol=flat_tol)
        if not fit.converged:
            warn(
                f"fit_logistic: the constrained fit with {names[k]} = {value:.6g} (profile likelihood) did "
                f"not converge in {max_iter} iterations; that interval end may be inaccurate. "
                "Increase max_iter.",
                ConvergenceWarning)
        path[k].append((value, fit.beta))
        return float(fit.llf)

    def intervals(alpha: float) -> pd.DataFrame:
        ends = [profile_bounds(lambda b, k=k: constrained(k, b), beta[k], scale[k], llf, alpha) for k in range(k_all)]
        return pd.DataFrame(ends, index=names, columns=["lower", "upper"])

    return constrained, intervals


def fit_logistic(
    data: pd.DataFrame,
    outcome: str,
    covariates: str | Sequence[str] = (),
    method: str = "ml",
    ci: str = "wald",
    alpha: float = 0.05,
    missing: str = "drop",
    *,
    weights: str | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticResult:
    """Fit ``logit P(outcome = 1) = b0 + b1 x1 + ...`` by ML or Firth's method.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    outcome : str
        Column coded 0/1 (or boolean); 1 is the event modelled (e.g. CR).
    covariates : str or sequence of str
        Numeric covariate columns, in the order of the output; ``[]`` fits the
        intercept-only model.
    method : {"ml", "firth"}
        Maximum likelihood, or Firth's penalized likelihood
        ``l(b) + 0.5 log det I(b)`` (finite even under separation).
    ci : {"wald", "profile"}
        Wald intervals and Wald p-values, or profile (penalized) likelihood
        intervals and likelihood-ratio p-values (logistf's convention: the
        penalty of the constrained fits uses the full model's information).
    alpha : float
        ``1 - level`` of the intervals.
    missing : {"drop", "raise"}
        Rows incomplete in the used columns are left out and listed in
        ``excluded`` (with a warning), or refused.
    weights : str, optional
        Column of non-negative case weights (a weight of 2 counts the row
        twice; ``nobs`` and ``n_events`` then count weights).
    max_iter, tol : int, float
        Newton iterations allowed and convergence tolerance on the step.

    Returns
    -------
    LogisticResult

    Raises
    ------
    InputError
        The outcome has values other than 0/1 (patients and values listed).
    ModelError
        Only one outcome class; a constant or collinear covariate.

    Warns
    -----
    SeparationWarning
        ``method="ml"`` on separated data: some estimates are infinite.
    ConvergenceWarning
        The iteration stopped before converging.

    Notes
    -----
    Firth D (1993) Biometrika 80:27-38; Heinze G, Schemper M (2002) Statistics
    in Medicine 21:2409-2419 (the logistf algorithm: modified score, step
    halving, profile penalized-likelihood intervals); Konis K (2007) for the
    separation check.  Firth standard errors are the square roots of the
    diagonal of the inverse Fisher information at the penalized estimate, as
    brglm2 and logistf report.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cr": [0, 0, 0, 1, 0, 1, 1, 1], "nk": [1.0, 2, 3, 4, 5, 6, 7, 8]})
    >>> res = fit_logistic(df, "cr", "nk", method="firth", ci="profile")
    >>> res.summary()[["term", "estimate", "odds_ratio", "p_value"]]  # doctest: +SKIP
    """
    caller = "fit_logistic"
    if method not in ("ml", "firth"):
        raise ImmuneCorrelatesError(f"{caller}: method must be 'ml' or 'firth', got {method!r}.")
    if ci not in ("wald", "profile"):
        raise ImmuneCorrelatesError(f"{caller}: ci must be 'wald' or 'profile', got {ci!r}.")
    if not 0 < alpha < 1:
        raise ImmuneCorrelatesError(f"{caller}: alpha must lie in (0, 1), got {alpha!r}.")
    prep = _prepare(data, outcome, covariates, weights, missing, caller)
    X, y, w, names = prep.X, prep.y, prep.w, prep.names
    n_events = float(np.sum(w * y))
    n_non = float(np.sum(w * (1 - y)))
    if n_events == 0 or n_non == 0:
        only = 1 if n_events else 0
        raise ModelError(
            f"{caller}: every one of the {len(y)} rows used has {outcome} = {only}; a logistic model "
            "needs both outcomes (events and non-events) to estimate anything. Check the outcome "
            "coding or the rows selected."
        )
    _check_design(X[w > 0], names, caller)
    firth = method == "firth"
    sep = separation_from_arrays(X, y, names, w)
    notes: list[str] = []
    flat_tol = None
    if sep.separated and not firth:
        flat_tol = 1e-10
        msg = (
            f"{sep.kind} separation: the maximum likelihood estimates of {', '.join(sep.infinite_terms)} "
            f"are infinite (the reported values only reflect where the iteration stopped). "
            f'Use method="firth" for finite, bias-reduced estimates.'
        )
        warn(f"{caller}: {msg}", SeparationWarning)
        notes.append(msg)
    elif sep.separated:
        notes.append(
            f"{sep.kind} separation for {', '.join(sep.infinite_terms)}: maximum likelihood estimates "
            "would be infinite; Firth's penalized estimates are finite."
        )
    fit = newton_fit(X, y, w, firth=firth, max_iter=max_iter, tol=tol, flat_tol=flat_tol)
    if not fit.converged:
        msg = f"the Newton iteration did not converge in {fit.n_iter} iterations (max_iter={max_iter})."
        warn(f"{caller}: {msg} Increase max_iter or check the data.", ConvergenceWarning)
        notes.append(msg)
    beta, llf = fit.beta, float(fit.llf)
    with np.errstate(all="ignore"):
        try:
            cov = np.linalg.inv(fit.info)
        except np.linalg.LinAlgError:
            cov = np.full_like(fit.info, np.nan)
    bse = np.sqrt(np.diag(cov))
    params = pd.Series(beta, index=names)
    bse_s = pd.Series(bse, index=names)
    k_all = len(names)
    if k_all > 1:
        fixed = np.ones(k_all, dtype=bool)
        fixed[0] = False
        null = newton_fit(X, y, w, firth=firth, fixed=fixed, max_iter=max_iter, tol=tol)
        llf_null = float(null.llf)
    else:
        llf_null = llf
    lr_stat = max(2.0 * (llf - llf_null), 0.0)
    lr_df = k_all - 1
    lr_p = float(stats.chi2.sf(lr_stat, lr_df)) if lr_df > 0 else float("nan")
    if ci == "wald":
        pvalues = pd.Series(2 * stats.norm.sf(np.abs(beta / bse)), index=names)
        intervals, interval_fn, test = wald_table(params, bse_s, alpha), None, "wald"
    else:
        # first bracket width: the Wald SE, except for an infinite ML estimate,
        # whose SE only reflects where the iteration stopped
        scale = np.where([t in sep.infinite_terms and not firth for t in names], 1.0 + np.abs(beta), bse)
        constrained, interval_fn = _profile_machinery(
            X, y, w, firth, beta, llf, scale, names, max_iter, tol, flat_tol
        )
        pvalues = pd.Series([lr_pvalue(llf, constrained(k, 0.0)) for k in range(k_all)], index=names)
        intervals, test = interval_fn(alpha), "lr"
    prob = expit(X @ beta)
    return LogisticResult(
        params=params,
        bse=bse_s,
        pvalues=pvalues,
        llf=llf,
        nobs=int(round(w.sum())),
        n_events=int(round(n_events)),
        excluded=prep.excluded,
        method=method,
        ci_method=ci,
        test=test,
        alpha=alpha,
        cov=pd.DataFrame(cov, index=names, columns=names),
        converged=bool(fit.converged),
        n_iter=int(fit.n_iter),
        notes=tuple(notes),
        _intervals=intervals,
        _interval_fn=interval_fn,
        llf_null=llf_null,
        lr_statistic=lr_stat,
        lr_df=lr_df,
        lr_pvalue=lr_p,
        fitted=pd.Series(prob, index=prep.index, name="probability"),
        auc=weighted_auc(prob, y, w),
        separation=sep,
        outcome=outcome,
        covariates=tuple(names[1:]),
    )
