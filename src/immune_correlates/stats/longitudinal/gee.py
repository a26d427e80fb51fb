"""Generalized estimating equations for repeated outcomes, as ``geepack::geeglm`` computes them.

A patient treated for twelve cycles contributes twelve yes/no answers to "grade >= 3
neutropenia in this cycle?", and they are not independent: a patient prone to it in
cycle 2 is prone to it in cycle 5.  A GEE (Liang & Zeger 1986) models the mean of each
answer (``logit P(neutropenia) = b0 + b1 nk_per_ul + b2 cycle``) and lets the working
correlation within a patient take an assumed form; the robust ("sandwich") standard
errors stay valid even when that form is wrong, as long as there are enough patients.

statsmodels' :class:`~statsmodels.genmod.generalized_estimating_equations.GEE` is the
engine.  Its dependence estimators are set to geepack's (Halekoh, Højsgaard & Yan 2006):

- scale: the mean squared Pearson residual (divisor N, not N - p), for every family;
- exchangeable: alpha = mean over all within-patient pairs of ``r_j r_k / scale``
  (statsmodels' estimator with ``ddof_scale=0``);
- AR(1): alpha solves geepack's estimating equation over *all* within-patient pairs,
  ``sum (r_j r_k / scale - alpha^d) d alpha^(d - 1) = 0`` with ``d = |t_j - t_k|``
  (``_geepack.GeepackAR1``; statsmodels' own ``Autoregressive`` uses another estimator);
- standard errors: the robust sandwich; p-values: Wald chi-square on 1 df.

References
----------
Liang KY, Zeger SL (1986). Longitudinal data analysis using generalized linear models.
*Biometrika* 73:13-22.
Halekoh U, Højsgaard S, Yan J (2006). The R package geepack for generalized estimating
equations. *J Stat Softw* 15(2):1-11.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ..._missing import row_ids
from ..._params import ALPHA, MISSING, Instance, Interval, Options, check_params
from ...errors import ConvergenceWarning, InputError, ModelError, warn
from ..regression.design_matrix import model_data
from ._gee_model import GEEModel
from ._gee_result import GEEResult

__all__ = ["GEEModel", "GEEResult", "fit_gee"]

FAMILIES = ("binomial", "poisson", "gaussian")
COV_STRUCTS = ("independence", "exchangeable", "ar1")


def _outcome(rows: pd.DataFrame, column: str, family: str, caller: str) -> np.ndarray:
    raw = rows[column]
    values = pd.to_numeric(raw.astype(float) if raw.dtype == bool else raw, errors="coerce").to_numpy(dtype=float)
    if family == "binomial":
        bad, what = ~np.isin(values, (0.0, 1.0)), "coded 0/1 (or True/False) for family='binomial'"
    elif family == "poisson":
        bad, what = ~(values >= 0), "counts >= 0 for family='poisson'"
    else:
        bad, what = ~np.isfinite(values), "numbers for family='gaussian'"
    if bad.any():
        ids = row_ids(rows).to_numpy()
        raise InputError(
            f"{caller}: the outcome must be {what}",
            column=column,
            rows=[{"patient_id": ids[i], "value": raw.iloc[i]} for i in np.flatnonzero(bad)],
            hint="Recode the outcome, or choose the family that describes it.",
        )
    return values


def _times(rows: pd.DataFrame, group_codes: np.ndarray, time: str | None, cov_struct: str, caller: str):
    """Time of each row within its group: ``time``'s values, else the position in data order (1, 2, ...)."""
    if time is None:
        pos = pd.Series(np.ones(len(rows))).groupby(group_codes).cumsum().to_numpy()
        return pos
    raw = rows[time]
    t = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    ids = row_ids(rows).to_numpy()
    bad = ~np.isfinite(t)
    if cov_struct == "ar1":
        bad |= np.isfinite(t) & (t != np.round(t))
    if bad.any():
        raise InputError(
            f"{caller}: time= must hold "
            + ("whole numbers (visit or cycle numbers) for cov_struct='ar1'" if cov_struct == "ar1" else "numbers"),
            column=time,
            rows=[{"patient_id": ids[i], "value": raw.iloc[i]} for i in np.flatnonzero(bad)],
        )
    dup = pd.DataFrame({"g": group_codes, "t": t}).duplicated(keep=False).to_numpy()
    if dup.any():
        raise InputError(
            f"{caller}: two rows of one group share a time; each observation of a patient needs its own time",
            column=time,
            rows=[{"patient_id": ids[i], "value": raw.iloc[i]} for i in np.flatnonzero(dup)],
        )
    return t


def _fit(model: GEEModel, caller: str):
    """Fit with statsmodels; statsmodels' own warnings become ours, in words."""
    gee = model.statsmodels()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = gee.fit(maxiter=model.max_iter, ctol=model.tol, ddof_scale=0)
    history = getattr(res, "fit_history", {}) or {}
    n_iter = max(len(history.get("params", [])) - 1, 0)
    converged = not any("Iteration limit" in str(w.message) or "converge" in str(w.message).lower() for w in caught)
    if not converged:
        warn(
            f"{caller}: the estimating equations were not solved to {model.tol:g} in {model.max_iter} iterations; "
            "the estimates may be off. Check the data (a patient with a constant outcome, a covariate that "
            "separates) or raise max_iter.",
            ConvergenceWarning,
        )
    return gee, res, converged, n_iter


@check_params(
    formula=Instance(str, name="a formula such as 'neutropenia_g3 ~ nk_per_ul + cycle'"),
    groups=Instance(str, name="the name of the column that identifies patients"),
    family=Options(*FAMILIES),
    cov_struct=Options(*COV_STRUCTS),
    time=(Options(None), Instance(str, name="a column name")),
    alpha=ALPHA,
    missing=MISSING,
    max_iter=Interval(1, None, integer=True),
    tol=Interval(0, None, closed="neither"),
)
def fit_gee(
    data: pd.DataFrame,
    formula: str,
    groups: str = "patient_id",
    *,
    family: str = "binomial",
    cov_struct: str = "exchangeable",
    time: str | None = None,
    alpha: float = 0.05,
    missing: str = "drop",
    max_iter: int = 500,
    tol: float = 1e-10,
) -> GEEResult:
    """Marginal model of a repeated outcome (GEE) with robust standard errors, as ``geepack::geeglm``.

    Parameters
    ----------
    data : DataFrame
        One row per observation (a patient's cycle or visit), e.g. ``ic.cycle_frame(cohort)``.
    formula : str
        ``"outcome ~ covariates"`` in the grammar of the other models (``C(x)``, ``np.log2(x)``,
        interactions); the outcome is 0/1 (binomial), a count (poisson) or a number (gaussian).
    groups : str
        Column identifying the patient (the cluster); rows of a patient need not be adjacent.
    family : {"binomial", "poisson", "gaussian"}
        With the canonical link: logit, log, identity.
    cov_struct : {"exchangeable", "ar1", "independence"}
        Working correlation within a patient.
    time : str, optional
        Column of whole-number visit or cycle numbers used by ``"ar1"`` (geepack's
        ``waves``): observations ``d`` steps apart correlate ``alpha^d``.  Without it, the
        rows of a patient in data order are taken as consecutive.
    alpha : float
        ``conf_int()`` is a ``1 - alpha`` Wald interval on the robust SE.
    missing : {"drop", "raise"}
        Rows with a missing value in a model column, the group or the time are left out
        (listed in ``excluded`` and warned about) or refused.
    max_iter, tol : int, float
        Iterations and convergence tolerance of the estimating equations (geepack's
        ``maxit`` and ``epsilon``; tighter than geepack's default so results sit at the solution).

    Returns
    -------
    GEEResult
        ``params``, ``bse`` (robust), ``pvalues`` (Wald chi-square), ``conf_int()``,
        ``summary()`` (with odds or rate ratios), ``correlation``, ``working_correlation()``,
        ``scale``, ``excluded``.

    Notes
    -----
    With few patients (fewer than about 40) the sandwich standard errors are too small
    and the p-values too optimistic (Mancl & DeRouen 2001): read them as descriptive.
    Equal to ``geeglm(..., std.err = "san.se")`` with ``geese.control(epsilon = 1e-12)``
    to 1e-6 (``tests/reference/gee.R``).

    References
    ----------
    Liang KY, Zeger SL (1986). *Biometrika* 73:13-22.
    Halekoh U, Højsgaard S, Yan J (2006). *J Stat Softw* 15(2):1-11.
    Mancl LA, DeRouen TA (2001). A covariance estimator for GEE with improved small-sample
    properties. *Biometrics* 57:126-134.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import immune_correlates as ic
    >>> rng = np.random.default_rng(1)
    >>> cycles = pd.DataFrame({"patient_id": np.repeat([f"P{i}" for i in range(30)], 6),
    ...                        "cycle": np.tile(np.arange(1, 7), 30),
    ...                        "nk_per_ul": np.repeat(rng.lognormal(5.7, 0.5, 30), 6)})
    >>> risk = 1 / (1 + np.exp(0.5 + 0.003 * cycles["nk_per_ul"] + 0.2 * cycles["cycle"]))
    >>> cycles["neutropenia_g3"] = (rng.random(len(cycles)) < risk).astype(int)
    >>> fit = ic.fit_gee(cycles, "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id")
    >>> list(fit.params.index), fit.n_groups
    (['Intercept', 'nk_per_ul', 'cycle'], 30)
    """
    caller = "fit_gee"
    extra = [groups] + ([time] if time is not None and time != groups else [])
    absent = [c for c in extra if isinstance(data, pd.DataFrame) and c not in data.columns]
    if absent:
        raise InputError(f"{caller}: column(s) {absent} not found in data. Available columns: {list(data.columns)}.")
    md = model_data(
        data, formula=formula, response=(None,), covariates=(), kind="gee", missing=missing, caller=caller, extra=extra
    )
    rows, design = md.rows, md.design
    if "Intercept" not in design.names:
        raise ModelError(f"{caller}: the model needs an intercept; remove '-1' / '0 +' from the formula.")
    y = _outcome(rows, md.response[0], family, caller)
    codes, uniques = pd.factorize(rows[groups], sort=False)
    t = _times(rows, codes, time, cov_struct, caller)
    model = GEEModel(design.X, y, codes, t, design.names, family, cov_struct, max_iter, tol)
    gee, res, converged, n_iter = _fit(model, caller)
    return _assemble(model, gee, res, design, md.excluded, len(uniques), alpha, converged, n_iter)


def _assemble(model, gee, res, design, excluded, n_groups, alpha, converged, n_iter) -> GEEResult:
    names = list(model.names)
    params = pd.Series(np.asarray(res.params, dtype=float), index=names)
    cov = pd.DataFrame(np.asarray(res.cov_robust, dtype=float), index=names, columns=names)
    naive = pd.DataFrame(np.asarray(res.cov_naive, dtype=float), index=names, columns=names)
    bse = pd.Series(np.sqrt(np.diag(cov.to_numpy())), index=names)
    pvalues = pd.Series(stats.chi2.sf((params / bse) ** 2, 1), index=names)
    from ._geepack import pearson_residuals

    scale = float(np.mean(np.concatenate(pearson_residuals(gee)) ** 2))
    dep = gee.cov_struct.dep_params
    correlation = float(dep) if model.cov_struct != "independence" else float("nan")
    sizes = np.bincount(model.groups)
    notes = []
    if n_groups < 40:
        notes.append(
            f"only {n_groups} patients: robust standard errors are too small with fewer than about 40 "
            "(Mancl & DeRouen 2001); read the p-values as descriptive."
        )
    return GEEResult(
        params=params,
        bse=bse,
        pvalues=pvalues,
        cov=cov,
        cov_naive=naive,
        correlation=correlation,
        scale=scale,
        nobs=len(model.y),
        n_groups=n_groups,
        cluster_sizes=(int(sizes.min()), int(sizes.max())),
        family=model.family,
        cov_struct=model.cov_struct,
        alpha=alpha,
        excluded=excluded,
        design=design,
        model=model,
        converged=converged,
        n_iter=n_iter,
        notes=tuple(notes),
    )
