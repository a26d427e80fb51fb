"""Elastic-net logistic and Cox models with glmnet's objective, path and cross-validation.

:func:`fit_penalized` fits a multivariable signature when there are more candidate features
than a small trial can support: the lasso (``l1_ratio=1``) selects, the ridge (``0``) shrinks,
the elastic net mixes them.  Coefficients at a given lambda equal glmnet's
(``tests/reference/glmnet.R``); ``lam=None`` chooses lambda by cross-validation as
``cv.glmnet`` does.  Penalized estimates are shrunk towards zero and chosen by the data, so
they come without standard errors or p-values: judge the signature with
:func:`validate_signature` (nested cross-validation, bootstrap optimism) and its selections
with :func:`stability_selection`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..._checks import binary_outcome, survival_arrays
from ..._missing import complete_cases, row_ids
from ..._params import (
    COLUMNS,
    MISSING,
    OPTIONAL_COLUMN,
    SEED,
    HasAttributes,
    Instance,
    Interval,
    ListLike,
    Options,
    check_params,
)
from ..._results import ResultDisplay
from ...errors import ConvergenceWarning, InputError, ModelError, warn
from ..regression.design_matrix import expand_covariates
from ._cv import make_folds
from ._glmnet import PathData, fit_path
from ._procedure import PathSettings, cross_validated

__all__ = [
    "fit_penalized",
    "PenalizedResult",
    "PenalizedData",
    "penalized_data",
    "fold_numbers",
    "CV_OPTION",
    "N_LAMBDA",
    "LAMBDA_MIN_RATIO",
]

#: ``cv=``: a number of folds, a scikit-learn splitter, or a list of (train, test) index pairs.
CV_OPTION = (
    Interval(3, None, integer=True),
    HasAttributes("split", "get_n_splits", name="a scikit-learn splitter"),
    ListLike("a list of (train, test) index pairs"),
    Instance(Iterator, name="an iterator of (train, test) index pairs"),
)
#: ``n_lambda=``: points of glmnet's lambda path; ``lambda_min_ratio=``: its smallest lambda over the largest.
N_LAMBDA = Interval(2, None, integer=True)
LAMBDA_MIN_RATIO = (Options(None), Interval(0, 1, closed="neither"))


class PenalizedData(NamedTuple):
    """The rows used, as the solver takes them, and what to report about them."""

    data: PathData
    terms: list[str]
    ids: pd.Series
    excluded: pd.DataFrame
    vp: np.ndarray  # penalty factors, rescaled to sum to the number of terms (as glmnet)


def penalized_data(data, outcome, covariates, duration, event, unpenalized, missing, caller) -> PenalizedData:
    """Complete cases, dummy-coded covariates, checked outcome; the shared front door of the penalized fits."""
    if (outcome is None) == (duration is None or event is None):
        raise InputError(f"{caller}: give outcome= (a 0/1 column) or duration= and event= (survival), not both.")
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if len(covariates) < 2:
        raise InputError(f"{caller}: a penalized model needs at least two covariates; got {covariates}.")
    ends = [outcome] if outcome is not None else [duration, event]
    rows, excluded = complete_cases(data, ends + covariates, missing=missing, caller=caller)
    coded, terms = expand_covariates(rows, covariates, caller=caller)
    X = coded[terms].to_numpy(dtype=float)
    ids = row_ids(rows).reset_index(drop=True)
    unpenalized = [unpenalized] if isinstance(unpenalized, str) else list(unpenalized)
    unknown = [u for u in unpenalized if u not in covariates]
    if unknown:
        raise InputError(f"{caller}: unpenalized= names {unknown}, which are not among the covariates.")
    origin = {t: next(c for c in covariates if t == c or t.startswith(f"{c}[")) for t in terms}
    vp = np.array([0.0 if origin[t] in unpenalized else 1.0 for t in terms])
    if not vp.any():
        raise InputError(f"{caller}: every covariate is unpenalized; leave at least one penalized.")
    vp = vp * vp.size / vp.sum()
    if outcome is not None:
        y = binary_outcome(rows[outcome].reset_index(drop=True), ids, outcome, caller)
        if y.min() == y.max():
            raise ModelError(f"{caller}: every row used has {outcome} = {int(y[0])}; both outcomes are needed.")
        pdata = PathData("logistic", X, y=y)
    else:
        time, status = survival_arrays(rows.reset_index(drop=True), ids, duration, event, caller)
        if not status.any():
            raise ModelError(f"{caller}: no events among the rows used; a Cox model needs events.")
        pdata = PathData("cox", X, time=np.asarray(time, float), event=np.asarray(status, float))
    return PenalizedData(pdata, list(terms), ids, excluded, vp)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class PenalizedResult(ResultDisplay):
    """An elastic-net fit (see :func:`fit_penalized`).

    Attributes
    ----------
    params : Series
        Coefficients on the covariates' own scale, by term (the logistic intercept is
        ``Intercept``); zero for terms the lasso left out.
    lam, l1_ratio : float
        The lambda of ``params`` and glmnet's ``alpha``.
    lam_min, lam_1se : float or None
        Cross-validated choices (``None`` when ``lam`` was given).
    path : DataFrame
        One row per lambda of glmnet's path: ``lam``, ``dev_ratio``, ``n_nonzero`` and, after
        cross-validation, ``cvm``, ``cvsd``, ``cvup``, ``cvlo``.
    coef_path : DataFrame
        Coefficients (original scale) along the path, one row per lambda, a column per term.
    family, measure, rule : str
    nobs, n_events : int
    excluded : DataFrame
    standardization : DataFrame
        ``mean`` and ``sd`` (population SD) of each column, glmnet's standardisation.
    model : PenalizedData
        The rows and settings to refit (the result pickles).
    """

    params: pd.Series
    lam: float
    l1_ratio: float
    lam_min: float | None
    lam_1se: float | None
    rule: str | None
    path: pd.DataFrame
    coef_path: pd.DataFrame
    family: str
    measure: str
    nobs: int
    n_events: int
    excluded: pd.DataFrame
    standardization: pd.DataFrame
    n_folds: int
    kkt: float
    model: PenalizedData

    @property
    def selected(self) -> list[str]:
        """Terms with a non-zero coefficient (the intercept aside)."""
        return [t for t, v in self.params.items() if t != "Intercept" and v != 0]

    def summary(self) -> pd.DataFrame:
        """One row per term: ``term``, ``estimate``, ``standardized`` (per SD), ``selected`` and the ratio."""
        sd = self.standardization["sd"].reindex(self.params.index)
        ratio = "odds_ratio" if self.family == "logistic" else "hazard_ratio"
        return pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "standardized": (self.params * sd).to_numpy(),
                ratio: np.exp(self.params.to_numpy()),
                "selected": (self.params != 0).to_numpy() & (self.params.index != "Intercept"),
            }
        )

    def linear_predictor(self, data: pd.DataFrame) -> pd.Series:
        """``Intercept + X b`` (logistic) or ``X b`` (Cox risk score) for the rows of ``data``."""
        coded, _ = expand_covariates(data, list(dict.fromkeys(self._columns())), caller="linear_predictor")
        terms = [t for t in self.params.index if t != "Intercept"]
        missing = [t for t in terms if t not in coded.columns]
        if missing:
            raise InputError(f"linear_predictor: data lacks the model's columns {missing}.")
        eta = coded[terms].to_numpy(dtype=float) @ self.params[terms].to_numpy()
        return pd.Series(eta + self.params.get("Intercept", 0.0), index=data.index, name="linear_predictor")

    def _columns(self):
        return [t.split("[", 1)[0] for t in self.params.index if t != "Intercept"]

    def _title(self) -> str:
        kind = {1.0: "lasso", 0.0: "ridge"}.get(self.l1_ratio, f"elastic net (l1_ratio={self.l1_ratio:g})")
        model = "logistic" if self.family == "logistic" else "Cox (Breslow ties)"
        return f"Penalized {model} regression, {kind}, lambda = {self.lam:.4g}"

    def _notes(self) -> list[str]:
        notes = [f"{len(self.selected)} of {len(self.standardization)} terms selected; {self.nobs} patients."]
        if self.rule:
            notes.append(
                f"lambda chosen by {self.n_folds}-fold cross-validation ({self.measure}), rule '{self.rule}': "
                f"lam_min = {self.lam_min:.4g}, lam_1se = {self.lam_1se:.4g}."
            )
        notes.append(
            "Penalized coefficients are shrunk towards zero and selected by the data: no standard errors or "
            "p-values. Validate the signature (validate_signature) and its selection (stability_selection)."
        )
        if len(self.excluded):
            notes.append(f"{len(self.excluded)} patient(s) left out for missing values (see `excluded`).")
        return notes


@check_params(
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    l1_ratio=Interval(0, 1),
    lam=(Options(None), Interval(0, None, closed="neither")),
    cv=CV_OPTION,
    seed=SEED,
    rule=Options("1se", "min"),
    n_lambda=N_LAMBDA,
    lambda_min_ratio=LAMBDA_MIN_RATIO,
    unpenalized=COLUMNS,
    missing=MISSING,
)
def fit_penalized(
    data: pd.DataFrame,
    outcome: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    duration: str | None = None,
    event: str | None = None,
    l1_ratio: float = 1.0,
    lam: float | None = None,
    cv=10,
    seed=None,
    rule: str = "1se",
    n_lambda: int = 100,
    lambda_min_ratio: float | None = None,
    unpenalized: Sequence[str] = (),
    missing: str = "drop",
) -> PenalizedResult:
    """Elastic-net logistic (``outcome``) or Cox (``duration``, ``event``) regression, as glmnet.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str, optional
        0/1 outcome (logistic model).
    covariates : sequence of str
        Candidate terms (at least two); text columns are dummy-coded as in :func:`fit_logistic`.
    duration, event : str, optional
        Follow-up time and 0/1 event (Cox model, Breslow ties, as glmnet).
    l1_ratio : float
        glmnet's ``alpha``: 1 lasso, 0 ridge, in between the elastic net.
    lam : float, optional
        glmnet's ``lambda``.  ``None``: chosen by cross-validation (``rule``).
    cv : int, scikit-learn splitter or list of (train, test) pairs
        Folds for choosing lambda (default 10, stratified on the outcome or event).
    seed : int, SeedSequence, Generator or None
        Shuffles the folds.
    rule : {"1se", "min"}
        ``lam_1se`` (glmnet's default for coefficients and predictions: the largest lambda
        within one standard error of the best) or ``lam_min``.
    n_lambda, lambda_min_ratio : int, float
        glmnet's path: ``n_lambda`` values from ``lambda_max`` down to ``lambda_min_ratio x
        lambda_max`` (default 1e-4, or 0.01 when there are more terms than patients).
    unpenalized : sequence of str
        Covariates kept in the model unpenalized (glmnet's ``penalty.factor = 0``), e.g.
        the stratification factors of the trial.
    missing : {"drop", "raise"}

    Returns
    -------
    PenalizedResult

    Notes
    -----
    Objective (Friedman, Hastie & Tibshirani 2010; Simon et al. 2011): ``-loglik / n +
    lam * sum_j (l1_ratio |b~_j| + (1 - l1_ratio) / 2 b~_j^2)`` on columns standardised by
    their mean and population SD (``b~_j = sd_j b_j``), the intercept unpenalised, Cox with
    Breslow ties.  Solved to the optimality conditions' rounding error by proximal Newton
    steps with exact penalized quadratic subproblems (:mod:`._glmnet`); the coefficients equal
    glmnet 4.1-6 (run with ``thresh = 1e-20``) to better than 1e-6 relative.

    References
    ----------
    Friedman J, Hastie T, Tibshirani R (2010) J Stat Softw 33(1):1-22;
    Simon N, Friedman J, Hastie T, Tibshirani R (2011) J Stat Softw 39(5):1-13;
    Verweij PJM, van Houwelingen HC (1993) Stat Med 12:2305-2314 (cross-validated partial likelihood).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(3)
    >>> X = pd.DataFrame(rng.standard_normal((60, 6)), columns=[f"f{i}" for i in range(6)])
    >>> X["cr"] = (X["f0"] - X["f1"] + rng.standard_normal(60) > 0).astype(int)
    >>> res = fit_penalized(X, "cr", [f"f{i}" for i in range(6)], lam=0.05)
    >>> res.selected
    ['f0', 'f1', 'f5']
    >>> cvfit = fit_penalized(X, "cr", [f"f{i}" for i in range(6)], cv=5, seed=1)
    >>> cvfit.lam == cvfit.lam_1se and cvfit.lam_1se >= cvfit.lam_min
    True
    """
    caller = "fit_penalized"
    prep = penalized_data(data, outcome, covariates, duration, event, unpenalized, missing, caller)
    pdata, n = prep.data, prep.data.X.shape[0]
    ones = np.ones((1, n))
    settings = PathSettings(alpha=l1_ratio, vp=prep.vp, n_lambda=n_lambda, lambda_min_ratio=lambda_min_ratio)
    fold_ids = None if lam is not None else fold_numbers(make_folds(pdata, cv, seed), n, caller)
    proc = cross_validated(pdata, ones, None if fold_ids is None else fold_ids[None], **settings)
    full, L = proc.full, int(proc.full.n_lambda[0])
    path = pd.DataFrame(
        {
            "lam": full.lambdas[0, :L],
            "dev_ratio": full.dev_ratio[0, :L],
            "n_nonzero": (full.beta[0, :L] != 0).sum(axis=1),
        }
    )
    lam_min = lam_1se = None
    if lam is None:
        cvm, cvsd = proc.cvm[0, :L], proc.cvsd[0, :L]
        path = path.assign(cvm=cvm, cvsd=cvsd, cvup=cvm + cvsd, cvlo=cvm - cvsd)
        lam_min, lam_1se = float(path["lam"][proc.i_min[0]]), float(path["lam"][proc.i_1se[0]])
        k = int(proc.i_1se[0] if rule == "1se" else proc.i_min[0])
        beta, b0, chosen, kkt, ok = (
            full.beta[0, k],
            full.intercept[0, k],
            float(path["lam"][k]),
            full.kkt[0, k],
            full.converged[0, k],
        )
    else:
        grid = np.r_[full.lambdas[0, :L][full.lambdas[0, :L] > lam], lam][None]  # warm starts down the path to lam
        at = fit_path(pdata, ones, grid, alpha=l1_ratio, vp=prep.vp, auto=False)
        beta, b0, chosen, kkt, ok = at.beta[0, -1], at.intercept[0, -1], float(lam), at.kkt[0, -1], at.converged[0, -1]
    if not ok:
        warn(
            f"{caller}: the fit at lambda = {chosen:.4g} did not meet the optimality conditions to 1e-9 "
            f"(largest violation {kkt:.2g}).",
            ConvergenceWarning,
        )
    n_folds = 0 if fold_ids is None else int(fold_ids.max()) + 1
    return _assemble(
        prep, full, L, path, beta, b0, chosen, l1_ratio, lam_min, lam_1se, rule if lam is None else None, n_folds, kkt
    )


def fold_numbers(folds, n: int, caller: str) -> np.ndarray:
    """The fold of each row from ``(train, test)`` pairs that split the rows into disjoint test sets."""
    ids = np.full(n, -1, dtype=np.int64)
    for k, (_, te) in enumerate(folds):
        if np.any(ids[te] >= 0):
            raise InputError(f"{caller}: cv= must split the patients into folds: a patient is in two test sets.")
        ids[te] = k
    if np.any(ids < 0) or len(folds) < 3:
        raise InputError(
            f"{caller}: cv= must split the patients into at least 3 folds, each patient in exactly one test set "
            f"(as cv.glmnet's foldid); got {len(folds)} folds covering {int(np.sum(ids >= 0))} of {n} patients."
        )
    return ids


def _assemble(prep, full, L, path, beta, b0, lam, l1_ratio, lam_min, lam_1se, rule, n_folds, kkt):
    pdata = prep.data
    terms = prep.terms
    logistic = pdata.family == "logistic"
    names = (["Intercept"] if logistic else []) + terms
    values = np.r_[b0, beta] if logistic else beta
    coef_path = pd.DataFrame(full.beta[0, :L], columns=terms, index=pd.Index(path["lam"], name="lam"))
    if logistic:
        coef_path.insert(0, "Intercept", full.intercept[0, :L])
    X = pdata.X
    std = pd.DataFrame({"mean": X.mean(axis=0), "sd": X.std(axis=0)}, index=terms)
    n_events = int(pdata.labels.sum()) if logistic else int(pdata.events.sum())
    return PenalizedResult(
        params=pd.Series(values, index=names),
        lam=float(lam),
        l1_ratio=float(l1_ratio),
        lam_min=lam_min,
        lam_1se=lam_1se,
        rule=rule,
        path=path,
        coef_path=coef_path,
        family=pdata.family,
        measure="deviance",
        nobs=int(X.shape[0]),
        n_events=n_events,
        excluded=prep.excluded,
        standardization=std,
        n_folds=n_folds,
        kkt=float(kkt),
        model=prep,
    )
