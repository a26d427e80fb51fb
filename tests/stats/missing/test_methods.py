"""The elementary imputation methods against their definitions (van Buuren 2018, sec. 3.4; mice's
``mice.impute.pmm``, ``.norm.draw``, ``matchindex``, ``augment``): the donor pool, type-1 matching,
the Bayesian parameter draw and the augmentation of categorical models."""

import numpy as np
import pytest
from scipy import stats

from immune_correlates.stats.missing import methods as mt


def _regression(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    y = 1.0 + 2.0 * x + rng.normal(scale=0.5, size=n)
    return X, y


def test_donors_are_the_k_nearest_and_drawn_uniformly():
    yhat_obs = np.arange(100.0)
    rng = np.random.default_rng(1)
    picks = np.concatenate([mt.match_donors(yhat_obs, np.array([50.2]), 5, rng) for _ in range(5000)])
    assert set(picks) == {48, 49, 50, 51, 52}
    counts = np.bincount(picks, minlength=100)[48:53]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_ties_at_the_edge_of_the_donor_pool_are_broken_at_random():
    yhat_obs = np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0])
    rng = np.random.default_rng(2)
    picks = np.concatenate([mt.match_donors(yhat_obs, np.array([1.0]), 5, rng) for _ in range(6000)])
    assert set(picks) == {1, 2, 3, 4, 5, 6}  # six tied candidates for five places: each equally likely
    assert stats.chisquare(np.bincount(picks, minlength=8)[1:7]).pvalue > 1e-3


def test_the_pool_is_never_larger_than_the_observed_cases():
    assert mt.match_donors(np.array([3.0, 4.0]), np.array([10.0, -1.0]), 5, np.random.default_rng(0)).max() <= 1


def test_norm_draw_is_the_posterior_of_the_normal_linear_model():
    """sigma*^2 = RSS / chi2_df and beta* | sigma* ~ N(beta_hat, sigma*^2 (X'X)^-1) (Rubin 1987, p. 167)."""
    X, y = _regression()
    n, p = X.shape
    coef_ls = np.linalg.lstsq(X, y, rcond=None)[0]
    rss = float(np.sum((y - X @ coef_ls) ** 2))
    v = np.linalg.inv(X.T @ X)
    rng = np.random.default_rng(3)
    draws = [mt.norm_draw(X, y, rng) for _ in range(6000)]
    coef = np.array([d[0] for d in draws])
    beta = np.array([d[1] for d in draws])
    sigma = np.array([d[2] for d in draws])
    np.testing.assert_allclose(coef[0], coef_ls, rtol=1e-10)
    # RSS / sigma*^2 is chi-square on n - p df
    assert stats.kstest(rss / sigma**2, stats.chi2(n - p).cdf).pvalue > 1e-3
    # standardised by sigma*, beta* - beta_hat is N(0, (X'X)^-1)
    z = (beta - coef_ls) / sigma[:, None]
    assert np.all(np.abs(z.mean(axis=0)) < 4 * np.sqrt(np.diag(v) / len(z)))
    np.testing.assert_allclose(np.cov(z.T), v, rtol=0.08, atol=0.08 * np.max(np.abs(v)))


def test_pmm_matches_observed_predictions_with_the_fit_and_missing_ones_with_the_draw():
    """Type-1 matching: with one donor, the imputed value is the observed value whose least-squares
    prediction is nearest to the missing case's prediction under the drawn parameters."""
    X, y = _regression(40, seed=4)
    X_obs, y_obs, X_mis = X[:30], y[:30], X[30:]
    for seed in range(20):
        coef, beta, _ = mt.norm_draw(X_obs, y_obs, np.random.default_rng(seed))
        expected = y_obs[np.argmin(np.abs((X_obs @ coef)[None, :] - (X_mis @ beta)[:, None]), axis=1)]
        got = mt.pmm(X_obs, y_obs, X_mis, np.random.default_rng(seed), donors=1)
        np.testing.assert_array_equal(got, expected)


def test_pmm_imputes_observed_values_only():
    X, y = _regression(40, seed=5)
    y = np.round(np.abs(y) * 100)  # counts
    got = mt.pmm(X[:30], y[:30], X[30:], np.random.default_rng(0))
    assert set(got) <= set(y[:30])


def test_augmentation_rows_as_white_daniel_royston():
    rng = np.random.default_rng(6)
    Z = np.column_stack([rng.normal(size=20), rng.integers(0, 2, size=20)])
    X = np.column_stack([np.ones(20), Z])
    X_aug, codes, w = mt.augment(X, 3)
    p, k = 2, 3
    assert X_aug.shape == (2 * p * k, 3) and np.all(X_aug[:, 0] == 1)
    assert w.sum() == pytest.approx(p + 1) and np.all(w == w[0])
    assert sorted(np.bincount(codes).tolist()) == [2 * p] * k
    # each row moves one predictor by half an SD (within its range); the others sit at their means
    for row in X_aug[:, 1:]:
        moved = np.flatnonzero(~np.isclose(row, Z.mean(axis=0)))
        assert len(moved) <= 1
    assert np.all(X_aug[:, 1:] >= Z.min(axis=0) - 1e-12) and np.all(X_aug[:, 1:] <= Z.max(axis=0) + 1e-12)


def test_logreg_stays_finite_under_perfect_prediction_and_follows_the_model():
    x = np.linspace(-2, 2, 40)
    X = np.column_stack([np.ones(40), x])
    y = (x > 0).astype(float)  # separated: ML estimates would be infinite
    rng = np.random.default_rng(7)
    X_mis = np.array([[1.0, -1.5], [1.0, 1.5]])
    draws = np.array([mt.logreg(X, y, X_mis, rng) for _ in range(200)])
    assert set(np.unique(draws)) <= {0.0, 1.0}
    assert draws[:, 0].mean() < 0.1 and draws[:, 1].mean() > 0.9


def test_polyreg_draws_categories_that_follow_the_predictor():
    rng = np.random.default_rng(8)
    x = rng.normal(size=150)
    codes = np.digitize(x + rng.normal(scale=0.3, size=150), [-0.5, 0.5])  # 0, 1, 2 by x
    X = np.column_stack([np.ones(150), x])
    X_mis = np.array([[1.0, -1.5], [1.0, 0.0], [1.0, 1.5]])
    draws = np.array([mt.polyreg(X, codes, X_mis, 3, rng) for _ in range(150)])
    assert set(np.unique(draws)) <= {0.0, 1.0, 2.0}
    modes = [np.bincount(draws[:, j].astype(int), minlength=3).argmax() for j in range(3)]
    assert modes == [0, 1, 2]


def test_multinomial_fit_equals_logistic_for_two_categories():
    from immune_correlates.stats.engine.logistic_core import newton_fit

    rng = np.random.default_rng(9)
    X = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = (rng.random(60) < 0.4).astype(int)
    w = rng.uniform(0.5, 2, size=60)
    B, cov = mt._multinomial_fit(X, y, w, 2)
    ref = newton_fit(X, y.astype(float), w)
    np.testing.assert_allclose(B[:, 0], ref.beta, rtol=1e-8)
    np.testing.assert_allclose(cov, np.linalg.inv(ref.info), rtol=1e-6)
