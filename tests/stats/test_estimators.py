"""The scikit-learn estimators: scikit-learn's own checks, equality with the fit_* functions, pipelines.

How the survival estimators are checked.  scikit-learn's ``check_estimator`` has no tag for a
structured target: its checks call ``fit(X, y)`` with a plain numeric ``y``, which a Cox model
must refuse (an event indicator and a time are needed).  So, as scikit-learn 1.9 documents for
estimators that cannot pass a check, ``CoxRegression`` and ``PenalizedCox`` run ``check_estimator``
with ``expected_failed_checks`` naming exactly the checks that fit with a plain ``y``
(:data:`PLAIN_Y_CHECKS`; scikit-learn runs them and requires them to fail).  Those same checks
are then run in full on a test-only subclass whose ``fit``/``score`` turn the check's ``y`` into
a structured one (time ``|y| + 1``, every row an event), so that what they test (parameters left
alone, pickling, ``n_features_in_``, NaN refusal, idempotence, order and subset invariance,
read-only memory maps, ...) is tested on the estimators' own code.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

import immune_correlates as ic
from immune_correlates.estimators import (
    CoxRegression,
    FirthLogisticRegression,
    PenalizedCox,
    PenalizedLogistic,
    survival_y,
)

#: Checks that call fit / score with a plain numeric y (scikit-learn 1.9.1), which a survival estimator refuses.
PLAIN_Y_CHECKS = [
    "check_estimators_dtypes",
    "check_fit_score_takes_y",
    "check_sample_weights_pandas_series",
    "check_sample_weights_not_an_array",
    "check_sample_weights_list",
    "check_sample_weights_shape",
    "check_sample_weights_not_overwritten",
    "check_sample_weight_equivalence_on_dense_data",
    "check_all_zero_sample_weights_error",
    "check_dtype_object",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
]
REASON = "scikit-learn passes a plain numeric y; a survival estimator needs a structured (event, time) y"

#: Fits 15 samples with 30 features: no unpenalized model (Firth or Cox) is identifiable there.
NOT_IDENTIFIABLE = {
    "check_sample_weight_equivalence_on_dense_data": "the check fits 15 samples with 30 features: an "
    "unpenalized model is not identifiable when features outnumber patients (weights as repeated rows are "
    "tested in test_firth_weights_equal_repeated_rows and test_cox_weights_equal_repeated_rows)"
}


def _as_survival(y):
    if y is None:
        return y  # the estimator's own error
    y = np.asarray(y)
    if np.iscomplexobj(y) or y.dtype.names is not None:
        return y  # the estimator's own error (complex data), or already structured
    return survival_y(np.ones(y.shape[0]), np.abs(y.astype(float)) + 1.0)


class _PlainYCox(CoxRegression):
    """Test-only: the check's plain y becomes (every row an event, time |y| + 1)."""

    def fit(self, X, y, sample_weight=None):
        return super().fit(X, _as_survival(y), sample_weight)

    def score(self, X, y, sample_weight=None):
        return super().score(X, _as_survival(y), sample_weight)


class _PlainYPenalizedCox(PenalizedCox):
    """Test-only: as :class:`_PlainYCox` for the penalized Cox model."""

    def fit(self, X, y):
        return super().fit(X, _as_survival(y))

    def score(self, X, y, sample_weight=None):
        return super().score(X, _as_survival(y), sample_weight)


def _failed(results):
    return {r["check_name"]: repr(r["exception"])[:300] for r in results if r["status"] == "failed"}


def _run(est, expected=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.ImmuneCorrelatesWarning)  # separated / monotone check data
        return check_estimator(est, expected_failed_checks=expected, on_fail=None, on_skip=None)


def test_firth_logistic_passes_check_estimator():
    """With Wald intervals in ``result_``: the profile intervals of the default are a fit_logistic matter (below)."""
    results = _run(FirthLogisticRegression(ci="wald"), NOT_IDENTIFIABLE)
    assert _failed(results) == {}
    assert len(results) > 50


@pytest.mark.xfail(
    strict=True,
    raises=np.linalg.LinAlgError,
    reason="fit_logistic(method='firth', ci='profile') fails ('SVD did not converge') when covariates sit far from 0 "
    "(scikit-learn's check_fit_check_is_fitted data, mean 100): the profile of the intercept diverges; reported",
)
def test_firth_profile_intervals_on_uncentred_covariates():
    rng = np.random.RandomState(42)
    X, y = rng.normal(loc=100, size=(100, 2)), rng.randint(0, 2, 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        FirthLogisticRegression().fit(X, y)


def test_cox_passes_check_estimator_apart_from_the_plain_y_checks():
    results = _run(CoxRegression(), dict.fromkeys(PLAIN_Y_CHECKS, REASON))
    assert _failed(results) == {}
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert xfailed == set(PLAIN_Y_CHECKS)  # each one really fails on a plain y, and nothing else does


@pytest.mark.slow  # more than two seconds: full suite only
def test_cox_passes_the_plain_y_checks_once_y_is_structured():
    results = _run(_PlainYCox(), NOT_IDENTIFIABLE)
    assert _failed(results) == {}
    ran = {r["check_name"] for r in results if r["status"] == "passed"}
    assert set(PLAIN_Y_CHECKS) - {"check_sample_weight_equivalence_on_dense_data"} <= ran


@pytest.mark.slow
def test_penalized_logistic_passes_check_estimator():
    assert _failed(_run(PenalizedLogistic(seed=0))) == {}


@pytest.mark.slow
def test_penalized_cox_passes_check_estimator_and_the_plain_y_checks_once_structured():
    results = _run(PenalizedCox(seed=0), dict.fromkeys(set(PLAIN_Y_CHECKS) - _NO_WEIGHTS, REASON))
    assert _failed(results) == {}
    assert _failed(_run(_PlainYPenalizedCox(seed=0))) == {}


#: Checks of sample_weight that do not run for estimators whose fit takes no sample_weight.
_NO_WEIGHTS = {c for c in PLAIN_Y_CHECKS if "sample_weight" in c}


# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        f = ic.analysis_frame(ic.datasets.load_ofa_len())
    cols = ["cd4_per_ul", "cd8_per_ul", "nk_per_ul", "cd4_cd8_ratio"]
    return f.dropna(subset=[*cols, "cr", "pfs_months", "pfs_event"]).reset_index(), cols


def test_firth_coefficients_equal_fit_logistic(frame):
    f, cols = frame
    est = FirthLogisticRegression().fit(f[cols], f["cr"])
    ref = ic.fit_logistic(f, "cr", cols, method="firth")
    np.testing.assert_allclose(est.coef_[0], ref.params[cols], rtol=1e-10)
    assert est.intercept_[0] == pytest.approx(ref.params["Intercept"], rel=1e-10)
    np.testing.assert_allclose(est.predict_proba(f[cols])[:, 1], ref.fitted, rtol=1e-10)
    assert list(est.feature_names_in_) == cols


def test_firth_weights_equal_repeated_rows(frame):
    f, cols = frame
    w = np.tile([1, 2, 0, 3], len(f))[: len(f)]
    weighted = FirthLogisticRegression().fit(f[cols], f["cr"], sample_weight=w)
    repeated = FirthLogisticRegression().fit(f[cols].to_numpy().repeat(w, axis=0), f["cr"].to_numpy().repeat(w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)


def test_cox_weights_equal_repeated_rows(frame):
    f, cols = frame
    w = np.tile([1, 2, 0, 3], len(f))[: len(f)]
    y = survival_y(f["pfs_event"], f["pfs_months"])
    weighted = CoxRegression(ties="breslow").fit(f[cols], y, sample_weight=w)
    repeated = CoxRegression(ties="breslow").fit(f[cols].to_numpy().repeat(w, axis=0), y.repeat(w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)


def test_cox_coefficients_equal_fit_cox_and_score_is_harrells_c(frame):
    f, cols = frame
    y = survival_y(f["pfs_event"], f["pfs_months"])
    est = CoxRegression().fit(f[cols], y)
    ref = ic.fit_cox(f, "pfs_months", "pfs_event", cols)
    np.testing.assert_allclose(est.coef_, ref.params[cols], rtol=1e-10)
    risk = est.predict(f[cols])
    c = ic.concordance_index(f["pfs_months"], f["pfs_event"], risk, reverse=True).concordance
    assert est.score(f[cols], y) == pytest.approx(c, rel=1e-14)
    breslow = CoxRegression(ties="breslow").fit(f[cols], y)
    np.testing.assert_allclose(
        breslow.coef_, ic.fit_cox(f, "pfs_months", "pfs_event", cols, ties="breslow").params[cols], rtol=1e-10
    )
    df_y = pd.DataFrame({"time": f["pfs_months"], "event": f["pfs_event"]})
    np.testing.assert_allclose(CoxRegression().fit(f[cols], df_y).coef_, est.coef_, rtol=1e-14)


def test_penalized_estimators_equal_fit_penalized_and_keep_lam(frame):
    f, cols = frame
    est = PenalizedLogistic(lam=0.02, l1_ratio=0.5).fit(f[cols], f["cr"])
    ref = ic.fit_penalized(f, "cr", cols, lam=0.02, l1_ratio=0.5)
    np.testing.assert_allclose(est.coef_[0], ref.params[cols], rtol=1e-12)
    assert est.lam == 0.02 and est.lam_ == 0.02
    cvd = PenalizedCox(seed=3, cv=5).fit(f[cols], survival_y(f["pfs_event"], f["pfs_months"]))
    assert cvd.lam is None and cvd.lam_ == cvd.result_.lam_1se
    ref = ic.fit_penalized(f, covariates=cols, duration="pfs_months", event="pfs_event", cv=5, seed=3)
    np.testing.assert_allclose(cvd.coef_, ref.params[cols], rtol=1e-12)


def test_binary_only(frame):
    f, cols = frame
    y3 = np.arange(len(f)) % 3
    for est in (FirthLogisticRegression(), PenalizedLogistic(lam=0.1)):
        with pytest.raises(ValueError, match="^Only binary classification is supported.$"):
            est.fit(f[cols], y3)


@pytest.mark.slow  # more than two seconds: full suite only
def test_pipeline_cross_validation_grid_search_and_pickle(frame):
    f, cols = frame
    X, y = f[cols], f["cr"]
    pipe = make_pipeline(StandardScaler(), PenalizedLogistic(seed=0, cv=3))
    scores = cross_val_score(pipe, X, y, cv=KFold(4, shuffle=True, random_state=0), scoring="roc_auc")
    assert scores.shape == (4,) and np.all((scores >= 0) & (scores <= 1))
    ys = survival_y(f["pfs_event"], f["pfs_months"])
    grid = GridSearchCV(PenalizedCox(), {"lam": [0.02, 0.1], "l1_ratio": [0.5, 1.0]}, cv=KFold(3)).fit(X, ys)
    assert grid.best_params_["lam"] in (0.02, 0.1)
    c_scores = cross_val_score(make_pipeline(StandardScaler(), CoxRegression(ci="wald")), X, ys, cv=KFold(3))
    assert np.all((c_scores > 0) & (c_scores < 1))
    fitted = grid.best_estimator_
    back = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(back.predict(X), fitted.predict(X))
    assert clone(fitted).get_params() == fitted.get_params()


def test_survival_y_is_required_with_a_clear_message(frame):
    f, cols = frame
    with pytest.raises(ValueError, match="structured array with fields 'event' and 'time'"):
        CoxRegression().fit(f[cols], f["pfs_months"])


def test_estimators_are_loaded_lazily():
    import subprocess
    import sys

    code = (
        "import sys, immune_correlates as ic; assert 'sklearn' not in sys.modules; "
        "ic.estimators.CoxRegression; assert 'sklearn' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
