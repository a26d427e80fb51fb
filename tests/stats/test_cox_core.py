"""The vectorised partial-likelihood core: analytic score, information and Firth
gradient equal finite differences of the log-likelihood, for Efron and Breslow ties,
with strata and non-integer case weights."""

from __future__ import annotations

import numpy as np
import pytest

from immune_correlates.stats.engine import cox_core as core


def design(seed: int = 0, n: int = 80):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n), rng.normal(50, 10, n)])
    time = rng.integers(1, 15, n).astype(float)  # many ties
    status = rng.integers(0, 2, n).astype(float)
    w = rng.uniform(0.3, 2.0, n)
    strata = rng.integers(0, 3, n)
    return x, time, status, w, strata


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("frequency", [False, True])
def test_score_and_information_equal_finite_differences(ties, frequency):
    x, time, status, w, strata = design()
    if frequency:
        w = np.round(w * 2) + 1
    cd = core.prepare(x, time, status, weights=w, strata=strata, ties=ties, frequency=frequency)
    beta = np.array([0.3, -0.5, 0.02])
    ev = core.evaluate(cd, beta)
    h = 1e-6
    eye = np.eye(3)
    num_score = [
        (core.evaluate(cd, beta + h * e).loglik - core.evaluate(cd, beta - h * e).loglik) / (2 * h) for e in eye
    ]
    np.testing.assert_allclose(ev.score, num_score, rtol=1e-6, atol=1e-6)
    num_info = -np.array(
        [(core.evaluate(cd, beta + h * e).score - core.evaluate(cd, beta - h * e).score) / (2 * h) for e in eye]
    )
    np.testing.assert_allclose(core.information(cd, ev), num_info, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_firth_gradient_equals_finite_difference_of_half_log_det_information(ties):
    x, time, status, w, strata = design(1)
    cd = core.prepare(x, time, status, weights=w, strata=strata, ties=ties)
    beta = np.array([0.2, 0.4, -0.03])

    def half_logdet(b):
        return 0.5 * np.linalg.slogdet(core.information(cd, core.evaluate(cd, b)))[1]

    ev = core.evaluate(cd, beta)
    info = core.information(cd, ev)
    analytic = core.firth_score(cd, ev, info, np.linalg.inv(info))
    h = 1e-5
    num = [(half_logdet(beta + h * e) - half_logdet(beta - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(analytic, num, rtol=1e-6, atol=1e-8)


def test_score_residuals_sum_to_the_score():
    x, time, status, w, strata = design(2)
    cd = core.prepare(x, time, status, weights=w, strata=strata, ties="efron")
    ev = core.evaluate(cd, np.array([0.1, 0.2, 0.01]))
    np.testing.assert_allclose(
        (core.score_residuals(cd, ev) * cd.w[:, None]).sum(axis=0), ev.score, rtol=1e-10, atol=1e-10
    )


def test_breslow_loglik_stays_exact_when_exp_of_linear_predictor_overflows():
    x, time, status, _, _ = design(3)
    x = x.copy()
    last = np.argmax(time)
    x[:, 2] = 0.0
    x[last, 2] = 80.0  # in every risk set; eta about 990 there: exp() overflows unshifted
    beta = np.array([0.1, 0.2, 12.5])
    cd = core.prepare(x, time, status, ties="breslow")
    ours = core.evaluate(cd, beta).loglik
    from scipy.special import logsumexp

    eta = x @ beta
    direct = sum(eta[i] - logsumexp(eta[time >= time[i]]) for i in np.flatnonzero(status))
    assert np.isfinite(ours) and ours == pytest.approx(direct, rel=1e-10)
