"""Endpoints by hand, the published trial table, and the bundled data set's provenance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.design import make_ofa_len


def test_endpoints_match_hand_computation(tiny_clinical):
    ep = ic.derive_endpoints(ic.read_cohort(tiny_clinical).clinical)
    assert ep["cr"].tolist() == [1, 0, 0, 1]
    assert ep["responder"].tolist() == [1, 1, 0, 1]
    assert ep["response_group"].astype(str).tolist() == ["CR", "PR", "NR", "CR"]
    assert ep["response_group"].cat.ordered and list(ep["response_group"].cat.categories) == ["NR", "PR", "CR"]
    # A: censored at last follow-up 2021-01-01, 366 days after 2020-01-01 (leap year).
    # B: progression 2020-07-01 = 182 days. C: progression 2020-05-01 (90 days after 2020-02-01) before
    # death 2020-08-01 (182 days). D: censored 2022-03-01, 730 days after 2020-03-01.
    assert ep["pfs_days"].tolist() == [366, 182, 90, 730]
    assert ep["pfs_event"].tolist() == [0, 1, 1, 0]
    assert ep["os_days"].tolist() == [366, 335, 182, 730]
    assert ep["os_event"].tolist() == [0, 0, 1, 0]
    np.testing.assert_allclose(ep["pfs_months"], np.array([366, 182, 90, 730]) / 30.4375, rtol=1e-15)


PUBLISHED = {  # Vitale et al., Clin Cancer Res 2016: metric -> (value, numerator, denominator, decimals)
    "n_patients": (34, 34, 34, 0),
    "orr": (0.71, 24, 34, 2),
    "cr_cri": (0.24, 8, 34, 2),
    "mrd_negative_cr": (0.09, 3, 34, 2),
    "median_pfs_months": (16, None, None, 0),
    "os_5y": (0.53, None, None, 2),
    "patient_cycles": (574, 574, None, 0),
    "neutropenia_g3plus_cycles": (0.18, None, 574, 2),
    "pneumonia": (0.24, 8, 34, 2),
    "neutropenic_fever": (0.09, 3, 34, 2),
}


def test_trial_summary_reproduces_the_published_table(ofa_len):
    summary = ic.trial_summary(ofa_len)
    assert list(summary.index) == list(PUBLISHED)
    assert list(summary.columns)[:6] == ["value", "numerator", "denominator", "ci_lower", "ci_upper", "unit"]
    for metric, (value, num, den, decimals) in PUBLISHED.items():
        row = summary.loc[metric]
        assert round(row["value"], decimals) == value, metric
        if num is not None:
            assert row["numerator"] == num, metric
        if den is not None:
            assert row["denominator"] == den, metric
    assert summary.loc["median_pfs_months", "value"] == 16.0


def test_trial_summary_intervals_are_clopper_pearson(ofa_len):
    from scipy import stats

    summary = ic.trial_summary(ofa_len)
    ci = stats.binomtest(24, 34).proportion_ci(method="exact")
    np.testing.assert_allclose(summary.loc["orr", ["ci_lower", "ci_upper"]].astype(float), [ci.low, ci.high], rtol=1e-8)


@pytest.mark.slow  # more than two seconds: full suite only
def test_bundled_files_regenerate_byte_for_byte(capsys):
    assert make_ofa_len.main(["--check"]) == 0


def test_same_seed_same_tables_different_seed_different_tables():
    a, b, c = ic.simulate(seed=7), ic.simulate(seed=7), ic.simulate(seed=8)
    for name in a.tables:
        assert a.tables[name].to_csv() == b.tables[name].to_csv()
    assert a.tables["clinical"].to_csv() != c.tables["clinical"].to_csv()


def test_every_patient_reaches_the_analysis_frame_or_the_exclusions(ofa_len):
    frame = ic.analysis_frame(ofa_len, features=pd.DataFrame(index=pd.Index([], name="patient_id")))
    assert list(frame.index) == list(ofa_len.clinical.index)
    assays = set(ofa_len.function_assays["patient_id"])
    lacking = set(ofa_len.clinical.index) - assays
    assert len(lacking) == 2
    assert set(ofa_len.exclusions.loc[ofa_len.exclusions["table"] == "function_assays", "patient_id"]) == lacking


def test_simulated_truth_shows_cr_above_pr_above_nr(ofa_len):
    truth, meta = ic.datasets.ofa_len_truth()
    means = truth.groupby("response_group")[["log2_cd3", "log2_nk", "t_function", "nk_function"]].mean()
    assert (means.loc["CR"] > means.loc["PR"]).all() and (means.loc["PR"] > means.loc["NR"]).all()
    assert meta["design"]["or_cr"] == {"log2_cd3": 0.4, "log2_nk": 0.5, "t_function": 0.6, "nk_function": 0.7}


def test_design_rejects_impossible_parameters():
    with pytest.raises(ic.ConfigError, match="p_cr \\+ p_pr"):
        ic.TrialDesign(p_cr=0.6, p_pr=0.5)
    with pytest.raises(ic.ConfigError, match="unknown drivers"):
        ic.TrialDesign(or_cr={"cd19": 1.0})


def test_written_trial_reads_back_identically(tmp_path):
    trial = ic.simulate(seed=11)
    trial.write(tmp_path)
    again = ic.read_cohort(
        *(tmp_path / f"{n}.csv" for n in ("clinical", "immunophenotype", "function_assays", "adverse_events"))
    )
    pd.testing.assert_frame_equal(again.clinical, trial.cohort.clinical)
    assert not list(tmp_path.glob(".*.tmp"))


def test_clustered_cycle_interval_matches_hand_computation():
    # Three patients: 2 of 4, 0 of 4, 2 of 2 cycles. p = 4/10 = 0.4.
    # residuals k - p m: 2 - 1.6 = 0.4, 0 - 1.6 = -1.6, 2 - 0.8 = 1.2; squares sum 0.16 + 2.56 + 1.44 = 4.16.
    # var = 3/2 * 4.16 / 100 = 0.0624; se(logit) = sqrt(0.0624) / (0.4 * 0.6) = 1.040833...
    # interval: expit(logit(0.4) -/+ 1.959964 * 1.040833).
    import math

    from immune_correlates.stats.groups.trial_summary import clustered_proportion_ci

    lo, hi = clustered_proportion_ci(np.array([2, 0, 2]), np.array([4, 4, 2]))
    se = math.sqrt(0.0624) / 0.24
    centre = math.log(0.4 / 0.6)
    z = 1.959963984540054
    assert lo == pytest.approx(1 / (1 + math.exp(-(centre - z * se))), rel=1e-12)
    assert hi == pytest.approx(1 / (1 + math.exp(-(centre + z * se))), rel=1e-12)


def test_cycle_interval_is_wider_than_the_naive_binomial_one(ofa_len):
    from scipy import stats

    row = ic.trial_summary(ofa_len).loc["neutropenia_g3plus_cycles"]
    naive = stats.binomtest(103, 574).proportion_ci(method="exact")
    assert row["ci_lower"] < row["value"] < row["ci_upper"]
    assert row["ci_upper"] - row["ci_lower"] > naive.high - naive.low
