"""Each planned analysis, run on many trials at once, equals the single-fit function trial by trial."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from immune_correlates.data.design import OFA_LEN_DESIGN
from immune_correlates.design import simulate_trials
from immune_correlates.design._fits import bh_reject, cox_trials, logistic_trials, logrank_trials, wilcoxon_trials
from immune_correlates.multiplicity import adjust_pvalues
from immune_correlates.stats.groups.rank_tests import wilcoxon_rank_sum
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic
from immune_correlates.stats.survival.logrank import logrank_test

N_CHECK = 6


@pytest.fixture(scope="module")
def batch():
    # 20-patient trials with a strong effect: some separation among the first trials
    design = OFA_LEN_DESIGN.replace(n_patients=20, or_cr={"nk_function": 2.5})
    return simulate_trials(design, n_sim=40, seed=31)


def _single(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("method", ["ml", "firth"])
@pytest.mark.parametrize("test", ["wald", "lr"])
def test_batched_logistic_equals_fit_logistic_per_trial(batch, method, test):
    x, y = batch.feature("nk_function"), batch.cr
    X = np.stack([np.ones_like(x), x], axis=2)
    res = logistic_trials(X, y, firth=method == "firth", test=test)
    assert res.flagged.sum() >= 2  # the batch exercises separated trials too
    idx = list(range(N_CHECK)) + list(np.flatnonzero(res.flagged)[:2])
    for b in idx:
        ref = _single(
            fit_logistic,
            batch.trial(b),
            "cr",
            ["nk_function"],
            method=method,
            ci="wald" if test == "wald" else "profile",
        )
        if res.flagged[b] and method == "ml":  # infinite ML estimate: flagged, never used for bias
            assert not res.finite[b]
            assert ref.notes and "separation" in ref.notes[0]
            continue
        assert res.estimate[b] == pytest.approx(ref.params["nk_function"], rel=1e-6)
        assert res.se[b] == pytest.approx(ref.bse["nk_function"], rel=1e-6)
        assert res.pvalue[b] == pytest.approx(ref.pvalues["nk_function"], rel=1e-6)


@pytest.mark.parametrize("method", ["ml", "firth"])
@pytest.mark.parametrize("test", ["wald", "lr"])
def test_batched_cox_equals_fit_cox_per_trial(batch, method, test):
    x = batch.feature("nk_function")[..., None]
    # fit_cox: Wald p-values with ci="wald", (penalized) likelihood-ratio p-values with its default
    res = cox_trials(x, batch.time, batch.event, firth=method == "firth", test=test)
    ci = "wald" if test == "wald" else "profile"
    for b in range(N_CHECK):
        ref = _single(fit_cox, batch.trial(b), "pfs_months", "pfs_event", ["nk_function"], method=method, ci=ci)
        assert res.estimate[b] == pytest.approx(ref.params["nk_function"], rel=1e-6)
        assert res.se[b] == pytest.approx(ref.bse["nk_function"], rel=1e-6)
        assert res.pvalue[b] == pytest.approx(ref.pvalues["nk_function"], rel=1e-6)


def test_batched_cox_with_response_covariates_equals_fit_cox(batch):
    x = np.stack([batch.feature("nk_function"), batch.group == 1, batch.group == 2], axis=2).astype(float)
    res = cox_trials(x, batch.time, batch.event, firth=True, test="wald")
    for b in range(3):
        frame = batch.trial(b)
        frame["pr"] = (frame["response_group"] == "PR").astype(int)
        frame["crg"] = (frame["response_group"] == "CR").astype(int)
        ref = _single(fit_cox, frame, "pfs_months", "pfs_event", ["nk_function", "pr", "crg"], method="firth")
        np.testing.assert_allclose(res.beta[b], ref.params.to_numpy(), rtol=1e-6, atol=1e-9)


def test_exact_wilcoxon_pvalues_equal_wilcoxon_rank_sum(batch):
    x, y = batch.feature("t_function"), batch.cr
    W, p = wilcoxon_trials(x, y)
    for b in range(15):
        g = y[b] == 1
        if g.all() or not g.any():
            assert p[b] == 1.0
            continue
        ref = wilcoxon_rank_sum(x[b][g], x[b][~g])
        assert ref.exact
        assert W[b] == ref.statistic
        assert p[b] == pytest.approx(ref.pvalue, rel=1e-9)


def test_large_sample_wilcoxon_uses_the_corrected_normal_approximation():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 130))
    y = (rng.random((3, 130)) < 0.5).astype(float)
    _W, p = wilcoxon_trials(x, y)
    for b in range(3):
        g = y[b] == 1
        ref = wilcoxon_rank_sum(x[b][g], x[b][~g])
        assert not ref.exact
        assert p[b] == pytest.approx(ref.pvalue, rel=1e-9)


def test_median_split_logrank_equals_logrank_test(batch):
    x = batch.feature("log2_nk")
    high = (x > np.median(x, axis=1, keepdims=True)).astype(float)
    chi2, p, _ = logrank_trials(high, batch.time, batch.event)
    for b in range(10):
        frame = batch.trial(b)
        frame["high"] = high[b]
        ref = logrank_test(frame, "pfs_months", "pfs_event", "high")
        assert chi2[b] == pytest.approx(ref.statistic, rel=1e-9)
        assert p[b] == pytest.approx(ref.pvalue, rel=1e-9)


def test_bh_rejections_equal_adjust_pvalues():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=(200, 8)) ** 3, rng.uniform(size=(200, 8))], axis=1)
    got = bh_reject(p, 0.1)
    ref = np.stack([np.asarray(adjust_pvalues(row, method="fdr_bh")) <= 0.1 for row in p])
    np.testing.assert_array_equal(got, ref)
    assert got.any() and not got.all()


def test_trial_without_events_counts_as_not_rejected():
    x = np.zeros((1, 5, 1)) + np.arange(5.0)[None, :, None]
    res = cox_trials(x, np.ones((1, 5)), np.zeros((1, 5)), firth=False)
    assert res.pvalue[0] == 1.0 and not res.finite[0]
    X = np.stack([np.ones((1, 5)), np.arange(5.0)[None]], axis=2)
    res = logistic_trials(X, np.zeros((1, 5)), firth=True, test="lr")
    assert res.pvalue[0] == 1.0 and not res.finite[0]


@pytest.mark.parametrize("method", ["ml", "firth"])
def test_batched_profile_intervals_equal_single_fit_profile_intervals(batch, method):
    x, y = batch.feature("nk_function"), batch.cr
    X = np.stack([np.ones_like(x), x], axis=2)
    res = logistic_trials(X, y, firth=method == "firth", ci="profile")
    cox = cox_trials(x[..., None], batch.time, batch.event, firth=method == "firth", ci="profile")
    for b in range(4):
        frame = batch.trial(b)
        ref = _single(fit_logistic, frame, "cr", ["nk_function"], method=method, ci="profile").conf_int()
        if res.finite[b]:
            assert res.lower[b] == pytest.approx(ref.at["nk_function", "lower"], rel=1e-5)
            assert res.upper[b] == pytest.approx(ref.at["nk_function", "upper"], rel=1e-5)
        ref = _single(fit_cox, frame, "pfs_months", "pfs_event", ["nk_function"], method=method, ci="profile")
        ci = ref.conf_int()
        assert cox.lower[b] == pytest.approx(ci.at["nk_function", "lower"], rel=1e-5)
        assert cox.upper[b] == pytest.approx(ci.at["nk_function", "upper"], rel=1e-5)


def test_firth_profile_interval_is_finite_under_separation_and_ml_is_not_computed(batch):
    x, y = batch.feature("nk_function"), batch.cr
    X = np.stack([np.ones_like(x), x], axis=2)
    firth = logistic_trials(X, y, firth=True, ci="profile")
    ml = logistic_trials(X, y, firth=False, ci="profile")
    sep = np.flatnonzero(firth.flagged)
    assert sep.size
    assert np.all(np.isfinite(firth.lower[sep]) & np.isfinite(firth.upper[sep]))
    assert np.all(np.isnan(ml.lower[sep]))
    b = sep[0]
    ref = _single(fit_logistic, batch.trial(b), "cr", ["nk_function"], method="firth", ci="profile").conf_int()
    assert firth.upper[b] == pytest.approx(ref.at["nk_function", "upper"], rel=1e-5)


def test_chunk_size_does_not_change_any_result(batch):
    x, y = batch.feature("nk_function"), batch.cr
    X = np.stack([np.ones_like(x), x], axis=2)
    whole = logistic_trials(X, y, firth=True, test="lr")
    parts = logistic_trials(X, y, firth=True, test="lr", chunk=7)
    for a, b in zip(whole, parts):
        np.testing.assert_array_equal(a, b)
    whole = cox_trials(x[..., None], batch.time, batch.event, firth=False, test="lr")
    parts = cox_trials(x[..., None], batch.time, batch.event, firth=False, test="lr", chunk=9)
    for a, b in zip(whole, parts):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
