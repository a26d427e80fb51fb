"""Binary logistic regression by maximum likelihood or Firth's penalized likelihood.

Small trials (a few dozen patients, a handful of responders) make maximum
likelihood estimates infinite whenever a feature separates responders from
non-responders.  :func:`fit_logistic` checks for separation first (Konis's
linear programmes, :mod:`.separation`), warns when ML cannot give finite
estimates, and offers Firth's bias-reduced estimates (Firth 1993; Heinze &
Schemper 2002) with profile penalized-likelihood intervals as logistf
reports them.  Models come from column names or a formula
(:mod:`.formula`); ``anova()`` tests each term (R's ``drop1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from ..._checks import binary_outcome, case_weights
from ..._missing import row_ids
from ..._params import ALPHA, CI, FORMULA, MAX_ITER, METHOD, MISSING, OPTIONAL_COLUMN, TOL, check_params
from ...data.imputed import ImputedData
from ...errors import ConvergenceWarning, ModelError, SeparationWarning, warn
from ..engine.discrimination import auc_batch
from ..engine.linalg import covariance
from ..engine.rubin import PooledResult
from ..engine.separation import SeparationResult, separation_from_arrays
from ._logistic_result import LogisticModel, LogisticResult
from ._model import profile_inference, wald_table
from .design_matrix import Design, model_data
from .imputed import fit_imputed

__all__ = ["LogisticResult", "fit_logistic", "detect_separation", "weighted_auc"]

INTERCEPT = "Intercept"


class _LogisticInput(NamedTuple):
    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    names: list[str]
    index: pd.Index
    excluded: pd.DataFrame
    design: Design
    outcome: str


def _check_design(X: np.ndarray, design: Design, caller: str) -> None:
    names = design.names
    for j, name in enumerate(names):
        col = X[:, j]
        if name != INTERCEPT and np.ptp(col) == 0:
            what = design.describe(name)
            raise ModelError(
                f"{caller}: covariate {what} is constant (every used row has {col[0]:g}), so its "
                "effect cannot be estimated and the design matrix is rank deficient. "
                + (
                    "Merge that level with another or leave it out."
                    if what != repr(name)
                    else "Remove it from the covariates."
                )
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


def _prepare(data, outcome, covariates, weights, missing, caller, formula=None) -> _LogisticInput:
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if INTERCEPT in covs:
        raise ModelError(
            f"{caller}: a covariate may not be called {INTERCEPT!r}: the model adds its own intercept term. "
            "Rename that column."
        )
    md = model_data(
        data,
        formula=formula,
        response=[outcome],
        covariates=covs,
        kind="logistic",
        missing=missing,
        caller=caller,
        extra=[weights] if weights else [],
        numeric=[weights] if weights else [],
    )
    kept, outcome = md.rows, md.response[0]
    ids = row_ids(kept)
    y = binary_outcome(kept[outcome], ids, outcome, caller)
    w = np.ones(len(kept)) if weights is None else case_weights(kept[weights], weights, caller, ids)
    design = md.design
    return _LogisticInput(design.X, y, w, list(design.names), kept.index, md.excluded, design, outcome)


def weighted_auc(score: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """C statistic: probability that an event scores above a non-event (ties count 1/2); see ``auc_batch``."""
    return float(auc_batch(score, y, w)[0])


@check_params(formula=FORMULA, missing=MISSING)
def detect_separation(
    data: pd.DataFrame,
    outcome: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    formula: str | None = None,
    missing: str = "drop",
) -> SeparationResult:
    """Check whether logistic maximum likelihood estimates are infinite.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        0/1 (or boolean) outcome column.
    covariates : str or sequence of str
        Covariate columns (text, categorical and boolean ones dummy-coded as
        :func:`fit_logistic` does); the model has an intercept.
    formula : str, optional
        A model formula instead of ``outcome`` and ``covariates``; the check
        is per model-matrix column, so a separated factor level is named.
    missing : {"drop", "raise"}
        What to do with incomplete rows (see :func:`fit_logistic`).

    Returns
    -------
    SeparationResult

    Notes
    -----
    Linear programmes of Konis (2007), *Linear programming algorithms for
    detecting separated data in binary logistic regression models* (DPhil
    thesis, Oxford); separation as defined by Albert & Anderson (1984),
    Biometrika 71:1-10.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"cr": [0, 0, 0, 1, 1, 1], "nk": [1.0, 2, 3, 4, 5, 6]})
    >>> res = detect_separation(df, "cr", "nk")
    >>> res.kind, res.infinite_terms
    ('complete', ('Intercept', 'nk'))
    """
    prepared = _prepare(data, outcome, covariates, None, missing, "detect_separation", formula)
    return separation_from_arrays(prepared.X, prepared.y, prepared.names, weights=prepared.w)


@check_params(
    method=METHOD,
    ci=CI,
    alpha=ALPHA,
    missing=MISSING,
    formula=FORMULA,
    weights=OPTIONAL_COLUMN,
    max_iter=MAX_ITER,
    tol=TOL,
)
def fit_logistic(
    data: pd.DataFrame,
    outcome: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    method: str = "ml",
    ci: str = "profile",
    alpha: float = 0.05,
    missing: str = "drop",
    formula: str | None = None,
    weights: str | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticResult | PooledResult:
    """Fit ``logit P(outcome = 1) = b0 + b1 x1 + ...`` by ML or Firth's method.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    outcome : str
        Column coded 0/1 (or boolean); 1 is the event modelled (e.g. CR).
    covariates : str or sequence of str
        Covariate columns, in the order of the output; ``[]`` fits the
        intercept-only model.  Numeric columns enter as they are, boolean
        ones as 0/1 named as the column; text and categorical columns are
        dummy-coded as R does (treatment contrasts; the reference is the
        first category of a categorical, else the first value in sorted
        order), with columns named ``sex[T.M]``.
    method : {"ml", "firth"}
        Maximum likelihood, or Firth's penalized likelihood
        ``l(b) + 0.5 log det I(b)`` (finite even under separation).
    ci : {"profile", "wald"}
        The package's convention (``docs/inference.md``): profile (penalized)
        likelihood intervals with likelihood-ratio p-values (logistf's: the
        penalty of the constrained fits uses the full model's information);
        ``"wald"``: Wald intervals with Wald p-values, as R's ``summary(glm)``
        and ``confint.default``.  An interval and a p-value always come from
        the same method (``ci_method``, ``test``).
    alpha : float
        ``1 - level`` of the intervals.
    missing : {"drop", "raise"}
        Rows incomplete in the used columns are left out and listed in
        ``excluded`` (with a warning), or refused.
    weights : str, optional
        Column of non-negative case weights (a weight of 2 counts the row
        twice; ``nobs`` and ``n_events`` then count weights).
    formula : str, optional
        A Wilkinson formula instead of ``outcome`` and ``covariates``, e.g.
        ``"cr ~ nk_per_ul + C(sex, Treatment('F')) + np.log2(cd8_per_ul)"``:
        formulaic's grammar (``+ : * -1``, ``C()``, ``I()``, ``bs()``,
        ``cr(x, df=3, constraints="center")``, ``np.log2`` and the other
        functions of :data:`.formula.NUMPY_FUNCTIONS`).  It is parsed, never
        run as Python: anything else is refused with a ``FormulaError``.
    max_iter, tol : int, float
        Newton iterations allowed and convergence tolerance on the step.

    Returns
    -------
    LogisticResult

    Raises
    ------
    InputError
        The outcome has values other than 0/1 (patients and values listed);
        a formula that is not plain data (``FormulaError``).
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
    >>> df["arm"] = ["a", "b", "a", "b", "a", "b", "a", "b"]
    >>> adj = fit_logistic(df, formula="cr ~ nk + C(arm)", method="firth")
    >>> list(adj.params.index)
    ['Intercept', 'nk', 'C(arm)[T.b]']
    >>> adj.anova().index.tolist()
    ['nk', 'C(arm)']
    """
    if isinstance(data, ImputedData):  # multiple imputation: fit every completed data set, pool (Rubin)
        return fit_imputed(fit_logistic, locals())
    caller = "fit_logistic"
    prep = _prepare(data, outcome, covariates, weights, missing, caller, formula)
    n_events = _check_estimable(prep, caller)
    sep, notes, flat_tol = _separation(prep, method == "firth", caller)
    model = LogisticModel(prep.X, prep.y, prep.w, tuple(prep.names), method == "firth", max_iter, tol, flat_tol)
    fit = model.fit()
    if not fit.converged:
        msg = f"the Newton iteration did not converge in {fit.n_iter} iterations (max_iter={max_iter})."
        warn(f"{caller}: {msg} Increase max_iter or check the data.", ConvergenceWarning)
        notes.append(msg)
    return _assemble(prep, model, fit, sep, n_events, notes, method=method, ci=ci, alpha=alpha, formula=formula)


def _check_estimable(prep: _LogisticInput, caller: str) -> float:
    """Both outcomes present, an intercept, enough patients, no constant or collinear column."""
    y, w, names = prep.y, prep.w, prep.names
    n_events = float(np.sum(w * y))
    if n_events == 0 or float(np.sum(w * (1 - y))) == 0:
        only = 1 if n_events else 0
        raise ModelError(
            f"{caller}: every one of the {len(y)} rows used has {prep.outcome} = {only}; a logistic model "
            "needs both outcomes (events and non-events) to estimate anything. Check the outcome "
            "coding or the rows selected."
        )
    if INTERCEPT not in names:
        raise ModelError(f"{caller}: the model needs an intercept; remove '-1' / '0 +' from the formula.")
    used = int(np.sum(w > 0))
    if used <= len(names):
        raise ModelError(
            f"{caller}: {used} patient(s) for {len(names)} coefficients ({', '.join(names)}); a logistic "
            "model needs more patients than coefficients. Fit fewer covariates or include more patients."
        )
    _check_design(prep.X[w > 0], prep.design, caller)
    return n_events


def _separation(prep: _LogisticInput, firth: bool, caller: str):
    """Separation check before fitting: a warning for ML (infinite estimates), a note for Firth."""
    sep = separation_from_arrays(prep.X, prep.y, prep.names, weights=prep.w)
    notes: list[str] = []
    flat_tol = None
    which = ", ".join(prep.design.describe(t) if t != INTERCEPT else t for t in sep.infinite_terms)
    if sep.separated and not firth:
        flat_tol = 1e-10
        msg = (
            f"{sep.kind} separation: the maximum likelihood estimates of {which} "
            f"are infinite (the reported values only reflect where the iteration stopped). "
            f'Use method="firth" for finite, bias-reduced estimates.'
        )
        warn(f"{caller}: {msg}", SeparationWarning)
        notes.append(msg)
    elif sep.separated:
        notes.append(
            f"{sep.kind} separation for {which}: maximum likelihood estimates "
            "would be infinite; Firth's penalized estimates are finite."
        )
    return sep, notes, flat_tol


def _model_test(model: LogisticModel, llf: float) -> tuple[float, float, int, float]:
    """Likelihood-ratio test of all covariates: the null fit (for Firth logistf's: slopes at 0, full penalty)."""
    k_all = len(model.names)
    if k_all > 1:
        fixed = np.ones(k_all, dtype=bool)
        fixed[0] = False
        llf_null = float(replace(model, flat_tol=None).fit(fixed=fixed).llf)
    else:
        llf_null = llf
    stat = max(2.0 * (llf - llf_null), 0.0)
    return llf_null, stat, k_all - 1, float(stats.chi2.sf(stat, k_all - 1)) if k_all > 1 else float("nan")


def _inference(model, params, bse, llf, ci, alpha, diverged):
    """p-values and intervals of one convention: Wald with Wald, or profile with likelihood ratio."""
    if ci == "wald":
        pvalues = pd.Series(2 * stats.norm.sf(np.abs(params / bse)), index=params.index)
        return pvalues, wald_table(params, bse, alpha), "wald"
    pvalues, intervals = profile_inference(model, params, bse, llf, alpha, diverged)
    return pvalues, intervals, "lr"


def _assemble(prep, model, fit, sep, n_events, notes, *, method, ci, alpha, formula) -> LogisticResult:
    names, w = prep.names, prep.w
    beta, llf = fit.beta, float(fit.llf)
    cov = covariance(fit.info, names, caller="fit_logistic")
    bse = np.sqrt(np.diag(cov))
    llf_null, lr_stat, lr_df, lr_p = _model_test(model, llf)
    params, bse_s = pd.Series(beta, index=names), pd.Series(bse, index=names)
    diverged = tuple(sep.infinite_terms) if method != "firth" else ()
    pvalues, intervals, test = _inference(model, params, bse_s, llf, ci, alpha, diverged)
    prob = expit(prep.X @ beta)
    return LogisticResult(
        params=params,
        bse=bse_s,
        diverged=diverged,
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
        design=prep.design,
        _intervals=intervals,
        llf_null=llf_null,
        lr_statistic=lr_stat,
        lr_df=lr_df,
        lr_pvalue=lr_p,
        fitted=pd.Series(prob, index=prep.index, name="probability"),
        auc=weighted_auc(prob, prep.y, w),
        separation=sep,
        outcome=prep.outcome,
        covariates=tuple(names[1:]),
        formula=formula,
        model=model,
    )
