"""Cox proportional-hazards regression: :func:`fit_cox` and :class:`CoxResult`.

Maximum partial likelihood as ``survival::coxph`` (Efron or Breslow ties,
strata, case weights, robust sandwich variance with optional clusters) and
Firth's penalized partial likelihood as coxphf (Heinze & Schemper 2001) for
small cohorts with monotone likelihood.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ..._entry import entry_times
from ..._missing import row_ids
from ..._survival_checks import check_durations, event_indicator, numeric_values
from ...errors import (
    ConvergenceWarning,
    FormulaError,
    ImmuneCorrelatesError,
    ModelError,
    MonotoneLikelihoodWarning,
    plain,
    warn,
)
from ..engine import cox_core as core
from ..engine.linalg import covariance
from ..engine.newton import constrained_llf, newton
from ..engine.profile import lr_pvalue, profile_bounds
from ._model import RegressionResult, wald_table
from .concordance import ConcordanceResult, concordance_index
from .design_matrix import model_data
from .ph_test import PHTestResult, ph_test

__all__ = ["fit_cox", "CoxResult"]


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class CoxResult(RegressionResult):
    """A fitted Cox model (see :func:`fit_cox`).

    Besides the attributes of :class:`RegressionResult` (``params`` are log
    hazard ratios; ``summary()`` adds ``hazard_ratio`` columns):

    Attributes
    ----------
    llf_null : float
        Log partial likelihood at ``beta = 0`` (penalized for Firth fits).
    model_tests : DataFrame
        Tests of the whole model as ``summary(coxph)`` prints them, indexed by
        ``lr``, ``score``, ``wald`` (and ``robust_score`` with ``robust=True``):
        ``statistic``, ``df``, ``p_value``.  The Wald test uses the robust
        variance when ``robust=True``.  Firth fits report the penalized LR and
        the Wald test only.
    ties, strata, robust : str, tuple of str, bool
        How the model was fitted.
    cov_naive : DataFrame
        The model-based covariance ``I^-1`` (equal to ``cov`` unless robust).
    linear_predictor : Series
        ``x'beta`` with covariates centred at their (weighted) means, as coxph.
    formula : str or None
        The formula fitted, if any.
    anova() : DataFrame
        Likelihood-ratio test of each term (R's ``drop1(fit, test="Chisq")``).
    """

    llf_null: float
    model_tests: pd.DataFrame
    ties: str
    strata: tuple[str, ...] = ()
    robust: bool = False
    cov_naive: pd.DataFrame = None
    linear_predictor: pd.Series = None
    formula: str | None = None
    max_iter: int = 100
    tol: float = 1e-10
    _core: core.CoxData = None
    _cluster: np.ndarray | None = None  # cluster labels in the sorted order of _core

    ratio_name = "hazard_ratio"

    def _title(self) -> str:
        return f"Cox proportional hazards ({self.method}, {self.ties} ties)"

    def _profile_llf(self, k: int, value: float) -> float:
        return constrained_llf(
            self._core,
            self.params.to_numpy(),
            k,
            value,
            firth=self.method == "firth",
            tol=self.tol,
            max_iter=self.max_iter,
        )

    def _profile_intervals(self, alpha: float) -> pd.DataFrame:
        beta = self.params.to_numpy()
        ends = [
            profile_bounds(lambda b, k=k: self._profile_llf(k, b), beta[k], self.bse.iloc[k], self.llf, alpha)
            for k in range(len(beta))
        ]
        return pd.DataFrame(ends, index=self.params.index, columns=["lower", "upper"])

    def _constrained_llf(self, columns: tuple[int, ...]) -> float:
        free = np.ones(len(self.params), dtype=bool)
        free[list(columns)] = False
        start = np.where(free, self.params.to_numpy(), 0.0)
        fit = newton(self._core, start, firth=self.method == "firth", free=free, tol=self.tol, max_iter=self.max_iter)
        if not fit.converged:
            warn(
                "anova: a fit without a term did not converge; its test may be inaccurate. Increase max_iter.",
                ConvergenceWarning,
            )
        return float(fit.obj.value)

    @cached_property
    def concordance(self) -> ConcordanceResult:
        """Harrell's C of the linear predictor, as ``survival::concordance(fit)``.

        Returns a :class:`~immune_correlates.stats.regression.concordance.ConcordanceResult`
        (``concordance``, ``std_error``, interval, pair counts); comparisons are
        within strata, weighted by the case weights.
        """
        cd = self._core
        if cd.entry is not None:
            raise ModelError(
                "concordance: not available for counting-process fits (entry=) yet: pairs must be "
                "compared within (start, stop] risk sets, as survival::concordance does."
            )
        return concordance_index(
            cd.time,
            cd.status,
            self.linear_predictor.to_numpy()[cd.order],
            strata=cd.stratum,
            weights=cd.w,
            cluster=self._cluster,
            reverse=True,
            alpha=self.alpha,
        )

    def ph_test(self) -> PHTestResult:
        """Test of proportional hazards on scaled Schoenfeld residuals (see :func:`.ph_test.ph_test`)."""
        return ph_test(self)


def _codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(columns), sort=True, dropna=False).ngroup().to_numpy(np.int64)


def validate_survival_columns(
    rows: pd.DataFrame, ids: pd.Series, duration: str, event: str, weights: str | None, caller: str = "fit_cox"
):
    """Durations (finite, >= 0), 0/1 events and optional weights as arrays; errors name patient and value.

    Shared by :func:`fit_cox` and the batched screen so both refuse the same inputs.
    """
    status = event_indicator(rows[event], event, caller, ids)
    time = numeric_values(rows[duration])
    check_durations(time, duration, caller, ids)
    w = None
    if weights is not None:
        w = pd.to_numeric(rows[weights], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            listing = "; ".join(f"{p}: {plain(v)!r}" for p, v in zip(ids[bad][:20], w[bad][:20]))
            raise ImmuneCorrelatesError(
                f"{caller}: weights column {weights!r} must be finite and >= 0; found {listing}."
            )
    return time, status, w


def _check_design(
    x: np.ndarray, covariates: list[str], status: np.ndarray, w: np.ndarray | None, describe=repr
) -> None:
    dead = status * (1.0 if w is None else w)
    if not np.any(dead > 0):
        raise ModelError(
            "fit_cox: there are no events among the rows used, so no Cox model can be fitted. "
            "Check the event coding (1 = event) or use a longer follow-up."
        )
    const = [describe(c) for c, col in zip(covariates, x.T) if np.ptp(col) == 0]
    if const:
        raise ModelError(
            f"fit_cox: covariate(s) {', '.join(const)} take a single value among the rows used; "
            "a constant has no hazard ratio. Drop them from `covariates`."
        )
    xc = x - x.mean(axis=0)
    gram = xc.T @ xc
    scale = 1.0 / np.sqrt(np.diag(gram))
    if np.linalg.eigvalsh(gram * np.outer(scale, scale))[0] <= 1e-10:
        raise ModelError(
            f"fit_cox: covariates {covariates} are collinear (one is a linear combination of "
            "others); drop or merge the redundant ones."
        )


def _monotone(fit, names, firth) -> list[str]:
    """Coefficients still moving at 'convergence': the likelihood is monotone in them."""
    if firth or not fit.converged:
        return []
    step = np.abs(fit.last_step)
    flagged = ~np.isfinite(step) | ((step > 1e-4 * np.maximum(1.0, np.abs(fit.beta))) & (step > 1e-6))
    return [n for n, f in zip(names, flagged) if f]


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
    ci: str = "wald",
    alpha: float = 0.05,
    missing: str = "drop",
    weights: str | None = None,
    cluster: str | None = None,
    frequency_weights: bool = False,
    max_iter: int = 100,
    tol: float = 1e-10,
    entry: str | None = None,
) -> CoxResult:
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
    ci : {"wald", "profile"}
        Interval method of ``conf_int()``; profile uses the (penalized)
        likelihood with the other coefficients re-maximised, and the p-values
        are then likelihood-ratio tests (as ``fit_logistic``; Firth p-values
        are penalized LR tests either way).
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
        :func:`~immune_correlates.stats.counting.split_at`), at risk at event
        times ``t`` with ``entry < t <= duration``, as
        ``coxph(Surv(entry, duration, event) ~ .)``.  ``nobs`` counts rows; pass
        ``cluster=`` (the patient id) for a robust variance over a patient's rows.

    Returns
    -------
    CoxResult

    Raises
    ------
    ImmuneCorrelatesError
        Bad arguments, event not 0/1, negative or infinite durations.
    ModelError
        No events, constant or collinear covariates.

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
    >>> firth = fit_cox(df, "pfs_months", "pfs_event", ["cd8_per_ul"], method="firth", ci="profile")
    >>> round(float(firth.params["cd8_per_ul"]), 4)
    -0.0169
    """
    if ties not in ("efron", "breslow"):
        raise ImmuneCorrelatesError(f"fit_cox: ties must be 'efron' or 'breslow', got {ties!r}.")
    if method not in ("ml", "firth"):
        raise ImmuneCorrelatesError(f"fit_cox: method must be 'ml' or 'firth', got {method!r}.")
    if ci not in ("wald", "profile"):
        raise ImmuneCorrelatesError(f"fit_cox: ci must be 'wald' or 'profile', got {ci!r}.")
    if not 0 < alpha < 1:
        raise ImmuneCorrelatesError(f"fit_cox: alpha must lie in (0, 1), got {alpha!r}.")
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    if formula is None and not covariates:
        raise ImmuneCorrelatesError("fit_cox: give at least one covariate.")
    strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
    md = model_data(
        data,
        formula=formula,
        response=[duration, event],
        covariates=covariates,
        kind="cox",
        missing=missing,
        caller="fit_cox",
        strata=strata_cols,
        cluster=cluster,
        extra=[c for c in (weights, entry) if c],
        numeric=[c for c in (weights, entry) if c],
        numeric_response=True,
    )
    if len(md.response) == 3:
        if entry is not None:
            raise FormulaError("fit_cox: give entry= or Surv(entry, duration, event), not both.")
        entry, duration, event = md.response
    else:
        duration, event = md.response
    strata_cols, cluster, rows, excluded = list(md.strata), md.cluster, md.rows, md.excluded
    design = md.design.without_intercept()
    covariates = list(design.names)
    if not covariates:
        raise ImmuneCorrelatesError("fit_cox: the formula has no covariates; give at least one.")
    robust = bool(robust or cluster is not None)
    firth = method == "firth"
    if firth and robust:
        raise ImmuneCorrelatesError(
            "fit_cox: robust/cluster variances are available for method='ml' only; "
            "drop robust=/cluster= or use method='ml'."
        )
    ids = row_ids(rows).reset_index(drop=True)
    time, status, w = validate_survival_columns(rows, ids, duration, event, weights)
    t_entry = None if entry is None else entry_times(rows[entry], entry, time, duration, "fit_cox", ids)
    x = design.X
    _check_design(x, covariates, status, w, design.describe)
    cd = core.prepare(
        x,
        time,
        status,
        weights=w,
        strata=_codes(rows, strata_cols),
        ties=ties,
        frequency=frequency_weights,
        entry=t_entry,
    )
    p = len(covariates)
    fit = newton(cd, np.zeros(p), firth=firth, tol=tol, max_iter=max_iter)
    notes: list[str] = []
    if not fit.converged:
        msg = (
            f"fit_cox: Newton-Raphson did not converge in {max_iter} iterations; "
            "raise max_iter or check the covariates for extreme values."
        )
        warn(msg, ConvergenceWarning)
        notes.append(msg)
    diverged = _monotone(fit, covariates, firth)
    if diverged:
        names = ", ".join(design.describe(c) for c in diverged)
        msg = (
            f"fit_cox: the partial likelihood is monotone in {names}: the estimate diverges "
            "(e.g. every event falls in one group), so its hazard ratio, Wald standard error, "
            "p-value and interval are meaningless (likelihood-ratio and score tests remain usable). "
            "Use method='firth' (Heinze & Schemper 2001) for finite estimates."
        )
        warn(msg, MonotoneLikelihoodWarning)
        notes.append(msg)
    beta = fit.beta
    info = fit.obj.info
    cov_naive = covariance(info, [design.describe(c) for c in covariates], caller="fit_cox")
    ev0 = fit.start  # the objective at beta = 0
    llf_null = ev0.value
    llf = fit.obj.value
    cov = cov_naive
    tests = {}
    lr = max(2.0 * (llf - llf_null), 0.0)
    tests["lr"] = lr
    if not firth:
        u0 = ev0.grad
        tests["score"] = float(u0 @ np.linalg.solve(ev0.info, u0))
    if robust:
        cov, rscore = _robust(cd, fit.obj.ev, ev0.ev, cov_naive, rows, cluster)
        tests["robust_score"] = rscore
    tests["wald"] = float(beta @ np.linalg.solve(cov, beta)) if np.all(np.isfinite(cov)) else np.nan
    order = ["lr", "score", "wald", "robust_score"]
    model_tests = pd.DataFrame(
        {"statistic": [tests[k] for k in order if k in tests], "df": p},
        index=pd.Index([k for k in order if k in tests], name="test"),
    )
    model_tests["p_value"] = stats.chi2.sf(model_tests["statistic"], p)
    names = pd.Index(covariates)
    params = pd.Series(beta, index=names)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=names)

    if firth or ci == "profile":
        pvalues = pd.Series(
            [
                lr_pvalue(llf, constrained_llf(cd, beta, k, 0.0, firth=firth, tol=tol, max_iter=max_iter))
                for k in range(p)
            ],
            index=names,
        )
        test = "lr"
    else:
        pvalues = pd.Series(2 * stats.norm.sf(np.abs(beta / bse.to_numpy())), index=names)
        test = "wald"

    lp = np.empty(cd.n)
    lp[cd.order] = cd.x @ beta
    if strata_cols:
        notes.append(f"stratified by {strata_cols} (separate baseline hazards)")
    if robust:
        notes.append("robust (sandwich) standard errors" + (f", clustered by {cluster!r}" if cluster else ""))
    result = CoxResult(
        params=params,
        bse=bse,
        pvalues=pvalues,
        llf=llf,
        nobs=int(cd.n),
        n_events=int(status.sum()),
        excluded=excluded,
        method=method,
        ci_method=ci,
        test=test,
        alpha=alpha,
        cov=pd.DataFrame(cov, index=names, columns=names),
        converged=fit.converged,
        n_iter=fit.n_iter,
        notes=tuple(notes),
        design=design,
        llf_null=llf_null,
        formula=formula,
        max_iter=max_iter,
        tol=tol,
        model_tests=model_tests,
        ties=ties,
        strata=tuple(strata_cols),
        robust=robust,
        cov_naive=pd.DataFrame(cov_naive, index=names, columns=names),
        linear_predictor=pd.Series(lp, index=rows.index, name="linear_predictor"),
        _core=cd,
        _cluster=None if cluster is None else rows[cluster].to_numpy()[cd.order],
    )
    intervals = wald_table(params, bse, alpha) if ci == "wald" else result._profile_intervals(alpha)
    return replace(result, _intervals=intervals)


def _robust(cd, ev, ev0, cov_naive, rows, cluster):
    """Sandwich variance ``D'D`` from dfbeta residuals and coxph's robust score test.

    ``D = diag(w) U I^-1`` with ``U`` the score residuals at the estimate (rows
    summed within clusters first); the robust score test at ``beta = 0`` is
    ``u0' (U0'U0)^-1 u0`` with ``U0`` the weighted score residuals at zero.
    """
    resid = core.score_residuals(cd, ev) * cd.w[:, None]
    resid0 = core.score_residuals(cd, ev0) * cd.w[:, None]
    if cluster is not None:
        codes = pd.factorize(rows[cluster].to_numpy()[cd.order])[0]
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
