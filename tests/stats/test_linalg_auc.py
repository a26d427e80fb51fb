"""One AUC and one guarded inverse (issue 15)."""

import numpy as np
import pytest

from immune_correlates.errors import SingularInformationWarning
from immune_correlates.stats.engine.discrimination import auc_batch
from immune_correlates.stats.engine.linalg import (
    aliased_terms,
    covariance,
    covariance_batch,
    solver_inverse,
)


def _pairwise_auc(s, y, w):
    pos, neg = y == 1, y == 0
    cmp = (s[pos][:, None] > s[neg][None]) + 0.5 * (s[pos][:, None] == s[neg][None])
    den = w[pos].sum() * w[neg].sum()
    return (w[pos] @ cmp @ w[neg]) / den if den > 0 else np.nan


def test_auc_batch_equals_pairwise_definition_with_ties_weights_and_per_row_outcomes():
    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(2, 25))
        s = rng.integers(0, 4, (4, n)).astype(float)
        y = rng.integers(0, 2, (4, n))
        w = rng.integers(0, 3, (4, n)).astype(float)
        got = auc_batch(s, y, w)
        want = np.array([_pairwise_auc(s[b], y[b], w[b]) for b in range(4)])
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_auc_batch_is_the_auc_of_roc_curve_and_fit_logistic():
    import pandas as pd

    import immune_correlates as ic

    df = pd.DataFrame({"y": [0, 0, 1, 1, 0, 1, 1, 0], "s": [0.1, 0.4, 0.35, 0.8, 0.35, 0.9, 0.2, 0.5]})
    roc = ic.stats.roc_curve(df, "y", "s")
    assert roc.auc == auc_batch(df["s"].to_numpy(), df["y"].to_numpy())[0]
    fit = ic.fit_logistic(df, "y", ["s"])
    assert fit.auc == pytest.approx(roc.auc, abs=1e-15)  # a monotone transform of s has the same AUC


def test_covariance_of_singular_information_is_nan_with_a_warning_naming_the_aliased_terms():
    info = np.array([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    assert aliased_terms(info, ["Intercept", "a", "b"]) == ["Intercept", "a"]
    with pytest.warns(SingularInformationWarning, match=r"fit_x: .*'Intercept', 'a' cannot be told apart"):
        cov = covariance(info, ["Intercept", "a", "b"], caller="fit_x")
    assert np.isnan(cov).all()
    good = np.array([[2.0, 1.0], [1.0, 2.0]])
    np.testing.assert_allclose(covariance(good) @ good, np.eye(2), atol=1e-15)


def test_covariance_batch_flags_only_the_singular_fits():
    info = np.stack([np.eye(2) * 2, np.ones((2, 2)), np.full((2, 2), np.nan)])
    cov, singular = covariance_batch(info)
    assert singular.tolist() == [False, True, True]
    np.testing.assert_array_equal(cov[0], np.eye(2) / 2)
    assert np.isnan(cov[1:]).all()


def test_solver_inverse_falls_back_to_moore_penrose_per_slice():
    m = np.stack([np.eye(2) * 4, np.ones((2, 2))])
    out = solver_inverse(m)
    np.testing.assert_array_equal(out[0], np.eye(2) / 4)
    np.testing.assert_allclose(out[1], np.linalg.pinv(np.ones((2, 2))))


def test_one_profile_solver_single_fit_is_the_batch_of_one_and_ends_are_exact_roots():
    from scipy import stats

    from immune_correlates.stats.engine.profile import profile_bounds, profile_intervals

    # binomial log-likelihood in the log odds b (k events of n): skewed, not quadratic
    def llf(b, k, n):
        return k * b - n * np.logaddexp(0.0, b)

    k = np.array([3.0, 10.0, 20.0])
    n = np.array([20.0, 20.0, 20.0])  # the last one: every patient an event, the upper end is infinite
    est = np.r_[np.log(k[:2] / (n[:2] - k[:2])), 30.0]
    top = llf(est, k, n)
    se = np.r_[np.sqrt(1 / (n[:2] * (k[:2] / n[:2]) * (1 - k[:2] / n[:2]))), 1.0]
    lo, hi = profile_intervals(lambda idx, b: llf(b, k[idx], n[idx]), est, se, top, 0.05, xtol=1e-12)
    target = stats.chi2.ppf(0.95, 1) / 2
    for i in range(2):
        for end in (lo[i], hi[i]):
            assert top[i] - llf(end, k[i], n[i]) == pytest.approx(target, abs=1e-9)
        single = profile_bounds(lambda b, i=i: llf(b, k[i], n[i]), est[i], se[i], top[i], 0.05, xtol=1e-12)
        assert single == pytest.approx((lo[i], hi[i]), rel=1e-10)
    assert hi[2] == np.inf and np.isfinite(lo[2])
    # only the fits asked for are computed
    lo_u, hi_u = profile_intervals(
        lambda idx, b: llf(b, k[idx], n[idx]), est, se, top, 0.05, np.array([True, False, True])
    )
    assert np.isnan(lo_u[1]) and np.isnan(hi_u[1]) and np.isfinite(lo_u[0])
