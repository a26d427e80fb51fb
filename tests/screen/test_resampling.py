"""Bootstrap, optimism and permutation results equal single fits on resampled rows; seeds are chunk-proof."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates.stats.engine.discrimination import auc_batch, cindex_batch
from immune_correlates.stats.engine.models import fit_models, make_design
from immune_correlates.stats.engine.parallel import bootstrap_counts, replicate_seeds
from immune_correlates.stats.regression.concordance import concordance_index
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic, weighted_auc
from immune_correlates.stats.screening.resampling import (
    bca_interval,
    bootstrap_coefficients,
    maxt_stepdown,
    optimism_corrected,
    percentile_interval,
    permutation_test,
)
from immune_correlates.stats.screening.screen import screen
from immune_correlates.stats.survival.cutpoint import optimal_cutpoint

from .conftest import random_cohort

FEATS = [f"f{j}" for j in range(4)]


def _resampled(df, counts):
    return df.iloc[np.repeat(np.arange(len(df)), counts.astype(int))].reset_index(drop=True)


@pytest.mark.parametrize("firth", [False, True])
@pytest.mark.slow  # more than two seconds: full suite only
def test_cox_weights_as_bootstrap_equal_fit_cox_on_resampled_rows(firth):
    df = random_cohort(7)
    design = make_design(
        "cox",
        df[FEATS].to_numpy(),
        df[["age", "stage"]].to_numpy(),
        time=df["time"].to_numpy(),
        event=df["status"].to_numpy(),
    )
    counts = bootstrap_counts(replicate_seeds(11, 3), len(df))
    idx = np.repeat(np.arange(4), 3)
    fit = fit_models(design, idx, np.tile(counts, (4, 1)), firth=firth)
    for b, (j, w) in enumerate(zip(idx, np.tile(counts, (4, 1)))):
        ref = fit_cox(
            _resampled(df, w), "time", "status", [FEATS[j], "age", "stage"], method="firth" if firth else "ml"
        )
        np.testing.assert_allclose(fit.beta[b], ref.params.to_numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov[b])), ref.bse.to_numpy(), rtol=1e-8)
        assert fit.llf[b] == pytest.approx(ref.llf, rel=1e-10)


@pytest.mark.parametrize("firth", [False, True])
@pytest.mark.slow  # more than two seconds: full suite only
def test_logistic_weights_as_bootstrap_equal_fit_logistic_on_resampled_rows(firth):
    df = random_cohort(8)
    df.loc[3, "f1"] = np.nan  # the resampled single fit drops the copies of this row too
    design = make_design("logistic", df[FEATS].to_numpy(), df[["age"]].to_numpy(), y=df["y"].to_numpy())
    counts = bootstrap_counts(replicate_seeds(5, 4), len(df))
    idx = np.repeat(np.arange(4), 4)
    W = np.tile(counts, (4, 1))
    fit = fit_models(design, idx, W, firth=firth)
    for b, (j, w) in enumerate(zip(idx, W)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = fit_logistic(_resampled(df, w), "y", [FEATS[j], "age"], method="firth" if firth else "ml")
        np.testing.assert_allclose(fit.beta[b], ref.params.to_numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(np.sqrt(np.diag(fit.cov[b])), ref.bse.to_numpy(), rtol=1e-8)


def test_screen_bootstrap_replicates_are_single_fits_and_do_not_depend_on_chunks_or_jobs():
    df = random_cohort(9)
    tab = screen(df, FEATS, duration="time", event="status", model="firth_cox", n_boot=40, seed=123)
    design = make_design("cox", df[FEATS].to_numpy(), time=df["time"].to_numpy(), event=df["status"].to_numpy())
    runs = [
        bootstrap_coefficients(design, np.arange(4), True, 40, seed=123, budget=b, n_jobs=j)
        for b, j in [(10**7, 1), (10**7, 2), (1000, 1)]
    ]
    np.testing.assert_array_equal(runs[0]["replicates"], runs[1]["replicates"])  # same chunks, n_jobs 1 vs 2
    np.testing.assert_allclose(runs[0]["replicates"], runs[2]["replicates"], rtol=1e-13)  # other chunks: rounding
    np.testing.assert_array_equal(tab["boot_ci_lower"], runs[0]["boot_ci_lower"])
    counts = bootstrap_counts(replicate_seeds(123, 40), len(df))
    for r in (0, 17):
        ref = fit_cox(_resampled(df, counts[r]), "time", "status", ["f2"], method="firth")
        assert runs[0]["replicates"][r, 2] == pytest.approx(ref.params["f2"], rel=1e-8)
    lo, hi = percentile_interval(runs[0]["replicates"], alpha=0.05)
    np.testing.assert_array_equal(tab["boot_ci_lower"], lo)
    np.testing.assert_array_equal(tab["boot_ci_upper"], hi)


def test_batched_auc_and_c_equal_single_implementations():
    df = random_cohort(10)
    rng = np.random.default_rng(1)
    S = rng.normal(size=(5, len(df)))
    S[:, :6] = 0.5  # ties in the score
    W = bootstrap_counts(replicate_seeds(2, 5), len(df))
    y, t, e = df["y"].to_numpy(float), df["time"].to_numpy(float), df["status"].to_numpy(float)
    auc = auc_batch(S, y, W)
    c = cindex_batch(S, t, e, W)
    for b in range(5):
        assert auc[b] == pytest.approx(weighted_auc(S[b], y, W[b]), rel=1e-12)
        assert c[b] == pytest.approx(concordance_index(t, e, S[b], weights=W[b], reverse=True).concordance, rel=1e-12)


def test_optimism_correction_equals_harrell_loop_over_single_fits():
    df = random_cohort(12, n=45)
    covs = ["f0", "f1"]
    res = optimism_corrected(df, covs, outcome="y", model="firth", n_boot=6, seed=4)
    counts = bootstrap_counts(replicate_seeds(4, 6), len(df))
    full = fit_logistic(df, "y", covs, method="firth")
    X = np.column_stack([np.ones(len(df)), df[covs].to_numpy()])
    opt = []
    for w in counts:
        fit = fit_logistic(_resampled(df, w), "y", covs, method="firth")
        lp = X @ fit.params.to_numpy()
        opt.append(weighted_auc(lp, df["y"].to_numpy(float), w) - weighted_auc(lp, df["y"].to_numpy(float)))
    assert res.apparent == pytest.approx(full.auc, rel=1e-12)
    assert res.optimism == pytest.approx(np.mean(opt), rel=1e-10)
    assert res.corrected == pytest.approx(full.auc - np.mean(opt), rel=1e-10)
    cox = optimism_corrected(df, covs, duration="time", event="status", model="cox", n_boot=4, seed=4)
    ref = fit_cox(df, "time", "status", covs)
    assert cox.apparent == pytest.approx(ref.concordance.concordance, rel=1e-12)


def test_maxt_stepdown_matches_definition_by_loops():
    rng = np.random.default_rng(3)
    C = np.array([[1, 0.6, 0.2], [0.6, 1, 0.1], [0.2, 0.1, 1]])
    tp = np.abs(rng.multivariate_normal(np.zeros(3), C, size=300))
    tobs = np.array([2.5, 0.4, 1.9])
    got = maxt_stepdown(tobs, tp)
    order = np.argsort(-tobs)
    want = np.empty(3)
    prev = 0.0
    for rank, j in enumerate(order):
        rest = order[rank:]
        p = (1 + np.sum(tp[:, rest].max(axis=1) >= tobs[j])) / 301
        prev = max(prev, p)
        want[j] = prev
    np.testing.assert_allclose(got, want)


def test_permutation_test_p_values_and_maxt_are_honest():
    df = random_cohort(13)
    res = permutation_test(df, FEATS, duration="time", event="status", model="cox", n_perm=60, seed=2)
    tab = screen(df, FEATS, duration="time", event="status", model="cox")
    np.testing.assert_allclose(res["statistic"], np.abs(tab["estimate"] / tab["std_error"]))
    assert np.all(res["p_maxt"] >= res["p_perm"] - 1e-15)
    assert np.all((res["p_perm"] > 0) & (res["p_perm"] <= 1))
    again = permutation_test(df, FEATS, duration="time", event="status", model="cox", n_perm=60, seed=2, n_jobs=2)
    pd.testing.assert_frame_equal(res, again)


def test_cutpoint_inside_permutations_matches_maxstat_and_single_permutations():
    df = random_cohort(14)
    res = permutation_test(
        df, FEATS[:2], duration="time", event="status", model="cox", n_perm=50, seed=6, cutpoint=True
    )
    for f, stat in zip(FEATS[:2], res["statistic"]):
        assert stat == pytest.approx(optimal_cutpoint(df, f, "time", "status").statistic, rel=1e-12)
    assert np.all(res["p_perm"] <= 1) and np.all(res["p_maxt"] >= res["p_perm"] - 1e-15)
    # a feature with a missing value takes the per-permutation complete-case path; the other
    # feature sees the same permutations, so its permutation p-value is unchanged
    df2 = df.copy()
    df2.loc[5, "f1"] = np.nan
    with pytest.warns(Warning):
        res2 = permutation_test(
            df2, FEATS[:2], duration="time", event="status", model="cox", n_perm=50, seed=6, cutpoint=True
        )
    assert res2.loc[0, "p_perm"] == res.loc[0, "p_perm"]
    with pytest.warns(Warning):
        ref = optimal_cutpoint(df2, "f1", "time", "status")
    assert res2.loc[1, "statistic"] == pytest.approx(ref.statistic, rel=1e-12)
    assert 0 < res2.loc[1, "p_perm"] <= 1


FIX = __import__("pathlib").Path(__file__).resolve().parents[1] / "reference" / "fixtures"


def test_percentile_and_bca_intervals_match_boot_ci_on_lung():
    reps = pd.read_csv(FIX / "boot_lung_replicates.csv")
    t0, t = reps["t"].iloc[0], reps["t"].iloc[1:].to_numpy()
    jack = pd.read_csv(FIX / "boot_lung_jack.csv")["jack"].to_numpy()
    ref = pd.read_csv(FIX / "boot_lung_ci.csv")
    for row in ref.itertuples():
        a = 1 - row.conf
        if row.type == "percentile":
            lo, hi = percentile_interval(t[:, None], alpha=a)
        else:
            lo, hi = bca_interval(np.array([t0]), t[:, None], jack[:, None], alpha=a)
        assert lo[0] == pytest.approx(row.lower, rel=1e-9) and hi[0] == pytest.approx(row.upper, rel=1e-9)
