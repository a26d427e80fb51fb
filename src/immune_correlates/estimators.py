"""scikit-learn estimators around the package's models: for ``Pipeline``, ``cross_val_score``, ``GridSearchCV``.

- :class:`FirthLogisticRegression`: Firth's penalized-likelihood logistic regression
  (``coef_`` equal to ``fit_logistic(method="firth")``), finite under separation.
- :class:`CoxRegression`: the Cox model (``coef_`` equal to :func:`fit_cox`, Efron ties by
  default).
- :class:`PenalizedLogistic`, :class:`PenalizedCox`: the elastic net of :func:`fit_penalized`
  (glmnet's objective), lambda given (``lam``) or chosen by cross-validation (``lam_``).

Survival estimators take ``y`` as a structured array with fields ``event`` (bool or 0/1) and
``time``, as scikit-survival does (:func:`survival_y` makes one); ``predict`` returns a risk
score (higher = higher hazard) and ``score`` Harrell's C (the package's one C,
:func:`~immune_correlates.stats.regression.concordance.concordance_index`).  Classifiers
are binary only.  Every fitted estimator keeps the package's result object in ``result_``
(intervals, tests, the lambda path).

scikit-learn is imported when this module is (``immune_correlates.estimators``), never by
``import immune_correlates``.

Examples
--------
>>> import numpy as np
>>> from sklearn.model_selection import cross_val_score
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((40, 3))
>>> y = (X[:, 0] + rng.standard_normal(40) > 0).astype(int)
>>> pipe = make_pipeline(StandardScaler(), FirthLogisticRegression())
>>> scores = cross_val_score(pipe, X, y, cv=4, scoring="roc_auc")
>>> bool(0.5 < scores.mean() <= 1.0)
True
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .errors import ImmuneCorrelatesWarning

__all__ = [
    "FirthLogisticRegression",
    "CoxRegression",
    "PenalizedLogistic",
    "PenalizedCox",
    "survival_y",
]

BINARY_ONLY = "Only binary classification is supported."


def survival_y(event, time) -> np.ndarray:
    """A structured array with fields ``event`` (bool) and ``time`` (float), the ``y`` of the Cox estimators.

    >>> y = survival_y([1, 0], [5.0, 8.5])
    >>> y["event"].tolist(), y["time"].tolist()
    ([True, False], [5.0, 8.5])
    """
    event, time = np.asarray(event), np.asarray(time, dtype=float)
    out = np.empty(event.shape[0], dtype=[("event", bool), ("time", float)])
    out["event"], out["time"] = event.astype(bool), time
    return out


def _survival_target(y, n: int):
    """``(event, time)`` from a structured array or a DataFrame with ``event`` and ``time``; ValueError otherwise."""
    if y is None:
        raise ValueError("This estimator requires y to be passed, but the target y is None.")
    if isinstance(y, pd.DataFrame) and {"event", "time"} <= set(y.columns):
        event, time = y["event"].to_numpy(), y["time"].to_numpy(dtype=float)
    else:
        arr = np.asarray(y)
        if arr.dtype.names is None or not {"event", "time"} <= set(arr.dtype.names):
            raise ValueError(
                "y must be a structured array with fields 'event' and 'time' (as scikit-survival's), "
                "e.g. immune_correlates.estimators.survival_y(event, time); got "
                f"{type(y).__name__} of dtype {getattr(arr, 'dtype', '?')}."
            )
        event, time = arr["event"], arr["time"].astype(float)
    if event.shape[0] != n:
        raise ValueError(f"y has {event.shape[0]} rows but X has {n}.")
    if not np.all(np.isin(event, (0, 1))):
        raise ValueError("y['event'] must be boolean or 0/1.")
    if not np.all(np.isfinite(time)) or np.any(time < 0):
        raise ValueError("y['time'] must be finite and >= 0.")
    return event.astype(float), time


def _two_samples(est, X):
    if X.shape[0] < 2:
        raise ValueError(f"{type(est).__name__} needs at least 2 samples; got n_samples = {X.shape[0]}.")


def _frame(X, y_cols: dict | None = None, weights=None) -> tuple[pd.DataFrame, list[str]]:
    """X as a DataFrame with internal column names (so no feature name can clash with the outcome)."""
    cols = [f"_x{j}" for j in range(X.shape[1])]
    df = pd.DataFrame(X, columns=cols)
    for name, values in (y_cols or {}).items():
        df[name] = values
    if weights is not None:
        df["_w"] = weights
    return df, cols


def _sample_weight(sample_weight, n: int, target=None):
    """Frequency weights as floats (None stays None): finite, >= 0, not all zero, both classes weighted."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=float).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} values but X has {n} rows.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("sample_weight must be finite and >= 0.")
    if not np.any(w > 0):
        raise ValueError("Sample weights are all zero: there is nothing to fit.")
    if target is not None and np.unique(target[w > 0]).size < 2:
        raise ValueError("Only one class has a positive sample weight; two classes are needed.")
    return w


def _quiet(fn, *args, **kwargs):
    """Run a package fit, turning its warnings into the same warnings (not errors) at the estimator's caller."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ImmuneCorrelatesWarning)
        out = fn(*args, **kwargs)
    for w in caught:
        warnings.warn(str(w.message), w.category, stacklevel=3)
    return out


class _BinaryClassifier(ClassifierMixin, BaseEstimator):
    """Shared: binary targets, probabilities from the linear predictor."""

    def _binary_target(self, y):
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.size > 2:
            raise ValueError(BINARY_ONLY)
        if self.classes_.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of two classes; got one class: {self.classes_[0]!r}."
            )
        return (y == self.classes_[1]).astype(float)

    def decision_function(self, X):
        """Linear predictor (log odds of ``classes_[1]``)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """Probabilities of ``classes_[0]`` and ``classes_[1]`` (columns in that order)."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """The more probable class."""
        positive = self.decision_function(X) > 0
        return self.classes_[positive.astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


class FirthLogisticRegression(_BinaryClassifier):
    """Firth's bias-reduced logistic regression (``fit_logistic(method="firth")``) as a scikit-learn classifier.

    Parameters
    ----------
    max_iter : int
    tol : float
        Newton limits, as :func:`fit_logistic`.
    ci : {"profile", "wald"}
        Intervals of ``result_`` (the package's convention: profile penalized likelihood);
        ``"wald"`` skips the profiles when only predictions are wanted (cross-validation loops).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    classes_ : ndarray of shape (2,)
        The event is ``classes_[1]``.
    result_ : LogisticResult
        The package's fit (profile penalized-likelihood intervals with ``result_.conf_int()``).

    References
    ----------
    Firth D (1993) Biometrika 80:27-38; Heinze G, Schemper M (2002) Stat Med 21:2409-2419.
    """

    def __init__(self, *, max_iter: int = 100, tol: float = 1e-10, ci: str = "profile"):
        self.max_iter = max_iter
        self.tol = tol
        self.ci = ci

    def fit(self, X, y, sample_weight=None):
        """Fit to ``X`` (n, p) and a binary ``y``; ``sample_weight`` are frequency weights."""
        from .stats.regression.logistic import fit_logistic

        X, y = validate_data(self, X, y, y_numeric=False)
        target = self._binary_target(y)
        sample_weight = _sample_weight(sample_weight, X.shape[0], target)
        df, cols = _frame(X, {"_y": target}, sample_weight)
        res = _quiet(
            fit_logistic,
            df,
            "_y",
            cols,
            method="firth",
            max_iter=self.max_iter,
            tol=self.tol,
            ci=self.ci,
            weights="_w" if sample_weight is not None else None,
        )
        self.coef_ = res.params[cols].to_numpy()[None, :]
        self.intercept_ = np.array([res.params["Intercept"]])
        self.n_iter_ = np.array([res.n_iter])
        self.result_ = res
        return self


class _SurvivalEstimator(BaseEstimator):
    """Shared: structured ``y``, risk-score ``predict``, Harrell's C ``score``."""

    def predict(self, X):
        """Risk score ``X @ coef_`` (higher = higher hazard)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return X @ self.coef_

    def score(self, X, y, sample_weight=None):
        """Harrell's C of the risk score (``concordance_index(..., reverse=True)``)."""
        from .stats.regression.concordance import concordance_index

        event, time = _survival_target(y, len(X))
        return concordance_index(time, event, self.predict(X), weights=sample_weight, reverse=True).concordance

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags


class CoxRegression(_SurvivalEstimator):
    """The Cox proportional-hazards model of :func:`fit_cox` as a scikit-learn estimator.

    Parameters
    ----------
    ties : {"efron", "breslow"}
    method : {"ml", "firth"}
    max_iter : int
    tol : float
    ci : {"profile", "wald"}
        Intervals of ``result_`` (profile likelihood by default, as :func:`fit_cox`);
        ``"wald"`` skips the profiles when only predictions are wanted (cross-validation loops).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Log hazard ratios, equal to ``fit_cox(...).params``.
    result_ : CoxResult
    """

    def __init__(
        self, *, ties: str = "efron", method: str = "ml", max_iter: int = 100, tol: float = 1e-10, ci: str = "profile"
    ):
        self.ties = ties
        self.method = method
        self.max_iter = max_iter
        self.tol = tol
        self.ci = ci

    def fit(self, X, y, sample_weight=None):
        """Fit to ``X`` and ``y`` (structured: ``event``, ``time``)."""
        from .stats.regression.cox import fit_cox

        X = validate_data(self, X)
        _two_samples(self, X)
        event, time = _survival_target(y, X.shape[0])
        sample_weight = _sample_weight(sample_weight, X.shape[0])
        df, cols = _frame(X, {"_time": time, "_event": event}, sample_weight)
        res = _quiet(
            fit_cox,
            df,
            "_time",
            "_event",
            cols,
            ties=self.ties,
            method=self.method,
            max_iter=self.max_iter,
            tol=self.tol,
            ci=self.ci,
            weights="_w" if sample_weight is not None else None,
        )
        self.coef_ = res.params[cols].to_numpy()
        self.n_iter_ = np.array([res.n_iter])
        self.result_ = res
        return self


def _penalized_kwargs(est):
    return {
        "l1_ratio": est.l1_ratio,
        "lam": est.lam,
        "cv": est.cv,
        "seed": est.seed,
        "rule": est.rule,
        "n_lambda": est.n_lambda,
        "lambda_min_ratio": est.lambda_min_ratio,
    }


def _two_features(est, X):
    if X.shape[1] < 2:
        raise ValueError(f"{type(est).__name__} needs at least 2 features (as glmnet); got n_features = {X.shape[1]}.")


class _PenalizedParams:
    def __init__(self, *, l1_ratio=1.0, lam=None, cv=10, seed=None, rule="1se", n_lambda=100, lambda_min_ratio=None):
        self.l1_ratio = l1_ratio
        self.lam = lam
        self.cv = cv
        self.seed = seed
        self.rule = rule
        self.n_lambda = n_lambda
        self.lambda_min_ratio = lambda_min_ratio


class PenalizedLogistic(_PenalizedParams, _BinaryClassifier):
    """Elastic-net logistic regression with glmnet's objective (:func:`fit_penalized`).

    Parameters
    ----------
    l1_ratio, lam, cv, seed, rule, n_lambda, lambda_min_ratio
        As :func:`fit_penalized`.

    Attributes
    ----------
    lam_ : float
        The lambda used: ``lam`` when given, else the cross-validated choice (``lam`` itself
        is never changed).
    coef_, intercept_, classes_
    result_ : PenalizedResult
    """

    def fit(self, X, y):
        """Fit to ``X`` and a binary ``y``."""
        from .stats.highdim.penalized import fit_penalized

        X, y = validate_data(self, X, y)
        _two_features(self, X)
        target = self._binary_target(y)
        df, cols = _frame(X, {"_y": target})
        res = _quiet(fit_penalized, df, "_y", cols, **_penalized_kwargs(self))
        self.coef_ = res.params[cols].to_numpy()[None, :]
        self.intercept_ = np.array([res.params["Intercept"]])
        self.lam_ = res.lam
        self.result_ = res
        return self


class PenalizedCox(_PenalizedParams, _SurvivalEstimator):
    """Elastic-net Cox regression with glmnet's objective and Breslow ties (:func:`fit_penalized`).

    Parameters
    ----------
    l1_ratio, lam, cv, seed, rule, n_lambda, lambda_min_ratio
        As :func:`fit_penalized` (folds stratified on the event indicator).

    Attributes
    ----------
    lam_ : float
    coef_ : ndarray of shape (n_features,)
    result_ : PenalizedResult
    """

    def fit(self, X, y):
        """Fit to ``X`` and ``y`` (structured: ``event``, ``time``)."""
        from .stats.highdim.penalized import fit_penalized

        X = validate_data(self, X)
        _two_samples(self, X)
        _two_features(self, X)
        event, time = _survival_target(y, X.shape[0])
        df, cols = _frame(X, {"_time": time, "_event": event})
        res = _quiet(fit_penalized, df, covariates=cols, duration="_time", event="_event", **_penalized_kwargs(self))
        self.coef_ = res.params[cols].to_numpy()
        self.lam_ = res.lam
        self.result_ = res
        return self
