"""Cox proportional-hazards regression: :func:`fit_cox`.

Maximum partial likelihood as ``survival::coxph`` (Efron or Breslow ties,
strata, case weights, robust sandwich variance with optional clusters) and
Firth's penalized partial likelihood as coxphf (Heinze & Schemper 2001) for
small cohorts with monotone likelihood.  The steps: the one design-matrix
layer (:func:`.design_matrix.model_data`), the survival columns checked by
:mod:`immune_correlates._checks`, the one Newton loop
(:func:`~..engine.cox_fit.fit_cox_model`), and the package's inference
convention (profile intervals with likelihood-ratio p-values, or Wald with
Wald) in :func:`_inference`.  The input (complete rows, the design and its
checks) is prepared in :mod:`._cox_input`; the result and the fitted model
live in :mod:`._cox_result`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import (
    ALPHA,
    CI,
    FLAG,
    FORMULA,
    MAX_ITER,
    METHOD,
    MISSING,
    OPTIONAL_COLUMN,
    TOL,
    Instance,
    Options,
    check_params,
)
from ...data.imputed import ImputedData
from ...errors import ConvergenceWarning, ModelError, MonotoneLikelihoodWarning, warn
from ..engine import cox_core as core
from ..engine.linalg import covariance
from ..engine.rubin import PooledResult
from ._cox_input import _codes, _CoxInput, _prepare
from ._cox_result import CoxModel, CoxResult
from ._model import profile_inference, wald_table
from .imputed import fit_imputed

__all__ = ["fit_cox", "CoxResult", "CoxModel"]


def _monotone(fit, names, firth) -> list[str]:
    """Coefficients still moving at 'convergence': the likelihood is monotone in them."""
    if firth or not fit.converged:
        return []
    step = np.abs(fit.last_step)
    flagged = ~np.isfinite(step) | ((step > 1e-4 * np.maximum(1.0, np.abs(fit.beta))) & (step > 1e-6))
    return [n for n, f in zip(names, flagged) if f]


@check_params(
    formula=FORMULA,
    ties=Options("efron", "breslow"),
    method=METHOD,
    strata=(Options(None), Instance(str, list, tuple, name="a column name or a list of them")),
    robust=FLAG,
    ci=CI,
    alpha=ALPHA,
    missing=MISSING,
    weights=OPTIONAL_COLUMN,
    cluster=OPTIONAL_COLUMN,
    frequency_weights=FLAG,
    max_iter=MAX_ITER,
    tol=TOL,
    entry=OPTIONAL_COLUMN,
)
def fit_cox(
    data: pd.DataFrame,
    duration: str | None = None,
    event: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    formula: str | None = None,
    ties: str = "efron",
    method: str = "ml",
    strata: str | Sequence[str] | None = None,
    robust: bool = False,
    ci: str = "profile",
    alpha: float = 0.05,
    missing: str = "drop",
    weights: str | None = None,
    cluster: str | None = None,
    frequency_weights: bool = False,
    max_iter: int = 100,
    tol: float = 1e-10,
    entry: str | None = None,
) -> CoxResult | PooledResult:
    """Fit a Cox proportional-hazards model.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    duration, event : str
        Follow-up time (finite, >= 0) and event indicator (0/1 or bool).
    covariates : sequence of str
        Covariate columns, in order: numeric ones as they are, boolean ones
        as 0/1, text and categorical ones dummy-coded as R (treatment
        contrasts, the first category or sorted value the reference).
    formula : str, optional
        Instead of ``duration``, ``event`` and ``covariates``: a formula as
        ``coxph``'s, ``"Surv(pfs_months, pfs_event) ~ nk_per_ul + C(sex) +
        strata(site)"``, with ``strata(x)`` and ``cluster(x)`` terms allowed
        on the right (the grammar of :func:`fit_logistic`'s formulas).
    ties : {"efron", "breslow"}
        Handling of tied event times, as ``coxph(ties=)``.
    method : {"ml", "firth"}
        Maximum partial likelihood, or Firth's penalized partial likelihood
        (Heinze & Schemper 2001; finite under monotone likelihood).  Firth
        p-values are penalized likelihood-ratio tests (coxphf's default);
        coxphf uses Breslow ties, so pass ``ties="breslow"`` to reproduce it.
    strata : str or sequence of str, optional
        Column(s) whose levels get separate baseline hazards (``strata()``).
    robust : bool
        Sandwich variance from dfbeta residuals (``coxph(robust=TRUE)``);
        implied by ``cluster``.  ML only.
    ci : {"profile", "wald"}
        The package's convention (``docs/inference.md``): profile (penalized)
        partial-likelihood intervals, the other coefficients re-maximised,
        with likelihood-ratio p-values (penalized LR for Firth, coxphf's
        default); ``"wald"``: Wald intervals with Wald p-values, as
        ``summary(coxph)`` prints them.  With ``robust=True`` or ``cluster=``
        the intervals and p-values are Wald with the sandwich variance
        whatever ``ci`` says (a likelihood interval would ignore the
        clustering); ``ci_method`` and ``test`` record what was used.
    alpha : float
        ``1 - level`` of the intervals.
    missing : {"drop", "raise"}
        What to do with incomplete rows (see :func:`complete_cases`).
    weights : str, optional
        Column of non-negative case weights (``coxph(weights=)``).  Unlike
        coxph, non-integer weights do not switch on the robust variance by
        themselves: pass ``robust=True`` for coxph's default in that case.
    cluster : str, optional
        Column grouping correlated rows for the robust variance.
    frequency_weights : bool
        Read integer weights as row counts in Efron's tie correction, so a
        fit equals one on duplicated rows (bootstrap); coxph's convention
        otherwise.  Breslow ties are the same either way.
    max_iter, tol : int, float
        Newton-Raphson limits; convergence when the relative change of the
        (penalized) log-likelihood is at most ``tol`` (coxph: ``eps=1e-9``).
    entry : str, optional
        Column of entry times: rows are counting-process intervals
        ``(entry, duration]`` (left truncation, time-varying covariates from
        :func:`~immune_correlates.stats.survival.time_dependent.split_at`), at risk at event
        times ``t`` with ``entry < t <= duration``, as
        ``coxph(Surv(entry, duration, event) ~ .)``.  ``nobs`` counts rows; pass
        ``cluster=`` (the patient id) for a robust variance over a patient's rows.

    Returns
    -------
    CoxResult

    Raises
    ------
    ParameterError
        A bad option (``ties``, ``method``, ``ci``, ``alpha`` ...).
    InputError
        Event not 0/1, negative or infinite durations, entry times not
        before their stop times, negative weights (patients and values named).
    ModelError
        No events, fewer patients than coefficients, constant or collinear
        covariates, robust variance asked with Firth.

    Warns
    -----
    MonotoneLikelihoodWarning
        An ML coefficient diverges (e.g. every event in one group).

    References
    ----------
    Cox DR (1972). Regression models and life-tables. *JRSS B* 34:187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored
    data. *JASA* 72:557-565.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional
    hazards model. *JASA* 84:1074-1078.
    Heinze G, Schemper M (2001). A solution to the problem of monotone
    likelihood in Cox regression. *Biometrics* 57:114-119.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"pfs_months": [5, 8, 12, 3, 20, 15, 7, 30],
    ...                    "pfs_event": [1, 1, 0, 1, 0, 1, 1, 0],
    ...                    "cd8_per_ul": [120, 300, 410, 90, 520, 250, 180, 600]})
    >>> res = fit_cox(df, "pfs_months", "pfs_event", ["cd8_per_ul"])
    >>> round(float(res.params["cd8_per_ul"]), 4)
    -0.0285
    >>> round(res.concordance.concordance, 3)
    0.958
    >>> firth = fit_cox(df, "pfs_months", "pfs_event", ["cd8_per_ul"], method="firth")
    >>> round(float(firth.params["cd8_per_ul"]), 4)
    -0.0169
    """
    if isinstance(data, ImputedData):  # multiple imputation: fit every completed data set, pool (Rubin)
        return fit_imputed(fit_cox, locals())
    prep = _prepare(data, duration, event, covariates, formula, strata, cluster, weights, entry, missing)
    firth = method == "firth"
    robust = bool(robust or prep.cluster is not None)
    if firth and robust:
        raise ModelError(
            "fit_cox: robust/cluster variances are available for method='ml' only; "
            "drop robust=/cluster= or use method='ml'."
        )
    cd = core.prepare(
        prep.design.X,
        prep.time,
        prep.status,
        weights=prep.w,
        strata=_codes(prep.rows, prep.strata),
        ties=ties,
        frequency=frequency_weights,
        entry=prep.entry,
    )
    clusters = None if prep.cluster is None else prep.rows[prep.cluster].to_numpy()[cd.order]
    model = CoxModel(cd, prep.design.names, firth, max_iter, tol, clusters)
    fit = model.fit(np.zeros(len(prep.design.names)))
    notes = _fit_notes(fit, prep, firth, max_iter, robust)
    return _assemble(
        prep, model, fit, notes, method=method, ci=ci, alpha=alpha, robust=robust, ties=ties, formula=formula
    )


def _fit_notes(fit, prep: _CoxInput, firth: bool, max_iter: int, robust: bool) -> list[str]:
    """Warnings of the fit (non-convergence, monotone likelihood) and what was done, in words."""
    notes: list[str] = []
    if not fit.converged:
        msg = (
            f"fit_cox: Newton-Raphson did not converge in {max_iter} iterations; "
            "raise max_iter or check the covariates for extreme values."
        )
        warn(msg, ConvergenceWarning)
        notes.append(msg)
    diverged = _monotone(fit, prep.design.names, firth)
    if diverged:
        names = ", ".join(prep.design.describe(c) for c in diverged)
        msg = (
            f"fit_cox: the partial likelihood is monotone in {names}: the estimate diverges "
            "(e.g. every event falls in one group), so its hazard ratio, Wald standard error, "
            "p-value and interval are meaningless (likelihood-ratio and score tests remain usable). "
            "Use method='firth' (Heinze & Schemper 2001) for finite estimates."
        )
        warn(msg, MonotoneLikelihoodWarning)
        notes.append(msg)
    if prep.strata:
        notes.append(f"stratified by {prep.strata} (separate baseline hazards)")
    if robust:
        notes.append(
            "robust (sandwich) standard errors"
            + (f", clustered by {prep.cluster!r}" if prep.cluster else "")
            + "; Wald intervals and p-values (a likelihood-based interval would ignore the clustering)"
        )
    return notes


def _model_tests(model: CoxModel, fit, cov: np.ndarray, robust_score: float | None) -> pd.DataFrame:
    """Tests of the whole model as ``summary(coxph)`` prints them (LR, score, Wald, robust score)."""
    beta, ev0 = fit.beta, fit.start
    tests = {"lr": max(2.0 * (fit.obj.value - ev0.value), 0.0)}
    if not model.firth:
        tests["score"] = float(ev0.grad @ np.linalg.solve(ev0.info, ev0.grad))
    if robust_score is not None:
        tests["robust_score"] = robust_score
    tests["wald"] = float(beta @ np.linalg.solve(cov, beta)) if np.all(np.isfinite(cov)) else np.nan
    order = [k for k in ("lr", "score", "wald", "robust_score") if k in tests]
    out = pd.DataFrame({"statistic": [tests[k] for k in order], "df": beta.size}, index=pd.Index(order, name="test"))
    out["p_value"] = stats.chi2.sf(out["statistic"], beta.size)
    return out


def _inference(model: CoxModel, params: pd.Series, bse: pd.Series, llf: float, ci: str, alpha: float, diverged):
    """p-values and intervals of one convention: ``(pvalues, intervals, ci_method, test)``."""
    if ci == "wald":
        pvalues = pd.Series(2 * stats.norm.sf(np.abs(params / bse)), index=params.index)
        return pvalues, wald_table(params, bse, alpha), "wald", "wald"
    pvalues, intervals = profile_inference(model, params, bse, llf, alpha, diverged)
    return pvalues, intervals, "profile", "lr"


def _assemble(prep, model, fit, notes, *, method, ci, alpha, robust, ties, formula) -> CoxResult:
    names = pd.Index(prep.design.names)
    cd = model.data
    cov_naive = covariance(fit.obj.info, [prep.design.describe(c) for c in names], caller="fit_cox")
    cov, rscore = cov_naive, None
    if robust:
        cov, rscore = _robust(cd, fit.obj.ev, fit.start.ev, cov_naive, model.cluster)
    params = pd.Series(fit.beta, index=names)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=names)
    diverged = tuple(_monotone(fit, prep.design.names, model.firth))
    ci = "wald" if robust else ci
    pvalues, intervals, ci_method, test = _inference(model, params, bse, fit.obj.value, ci, alpha, diverged)
    lp = np.empty(cd.n)
    lp[cd.order] = cd.x @ fit.beta
    return CoxResult(
        params=params,
        bse=bse,
        pvalues=pvalues,
        llf=fit.obj.value,
        nobs=int(cd.n),
        n_events=int(prep.status.sum()),
        excluded=prep.excluded,
        method=method,
        ci_method=ci_method,
        test=test,
        alpha=alpha,
        cov=pd.DataFrame(cov, index=names, columns=names),
        converged=fit.converged,
        n_iter=fit.n_iter,
        notes=tuple(notes),
        design=prep.design,
        model=model,
        diverged=diverged,
        _intervals=intervals,
        llf_null=fit.start.value,
        formula=formula,
        model_tests=_model_tests(model, fit, cov, rscore),
        ties=ties,
        strata=tuple(prep.strata),
        robust=robust,
        cov_naive=pd.DataFrame(cov_naive, index=names, columns=names),
        linear_predictor=pd.Series(lp, index=prep.rows.index, name="linear_predictor"),
    )


def _robust(cd, ev, ev0, cov_naive, cluster):
    """Sandwich variance ``D'D`` from dfbeta residuals and coxph's robust score test.

    ``D = diag(w) U I^-1`` with ``U`` the score residuals at the estimate (rows
    summed within clusters first); the robust score test at ``beta = 0`` is
    ``u0' (U0'U0)^-1 u0`` with ``U0`` the weighted score residuals at zero.
    """
    resid = core.score_residuals(cd, ev) * cd.w[:, None]
    resid0 = core.score_residuals(cd, ev0) * cd.w[:, None]
    if cluster is not None:
        codes = pd.factorize(cluster)[0]
        n_cl = codes.max() + 1
        agg = np.zeros((n_cl, resid.shape[1]))
        np.add.at(agg, codes, resid)
        agg0 = np.zeros((n_cl, resid.shape[1]))
        np.add.at(agg0, codes, resid0)
        resid, resid0 = agg, agg0
    dfbeta = resid @ cov_naive
    u0 = resid0.sum(axis=0)
    rscore = float(u0 @ np.linalg.solve(resid0.T @ resid0, u0))
    return dfbeta.T @ dfbeta, rscore
