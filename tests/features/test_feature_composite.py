"""Composite function scores: mean of signed z-scores, cohort or reference standardisation."""

import statistics

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ConfigError
from immune_correlates.features import build_features, composite_score


def _z(values, x):
    """Hand z-score with the sample SD (statistics.stdev, n - 1)."""
    return (x - statistics.mean(values)) / statistics.stdev(values)


def test_nk_function_score_of_the_hand_cohort(cohort):
    fs = build_features(cohort)
    score = fs.values["nk_function_score"]
    # readouts (P1, P2, P3): cd107a 20, 10, 0 (mean 10, sd 10 -> z 1, 0, -1)
    # ifng 15, 5, - (mean 10, sd 7.0711); cytotox AUC 69.5, 22, 25; ADCC AUC 111, 40, -
    cd107a, ifng, cyt, adcc = [20, 10, 0], [15, 5], [69.5, 22, 25], [111, 40]
    p1 = (_z(cd107a, 20) + _z(ifng, 15) + _z(cyt, 69.5) + _z(adcc, 111)) / 4
    p2 = (_z(cd107a, 10) + _z(ifng, 5) + _z(cyt, 22) + _z(adcc, 40)) / 4
    p3 = (_z(cd107a, 0) + _z(cyt, 25)) / 2
    assert score[["P1", "P2", "P3"]].tolist() == pytest.approx([p1, p2, p3], rel=1e-10)
    assert p1 == pytest.approx(0.891769, abs=1e-6)  # (1 + 0.70711 + 1.15286 + 0.70711) / 4
    assert np.isnan(score["P4"])


def test_t_function_score_counts_pd1_negatively(cohort):
    fs = build_features(cohort)
    # ifng 10, 4, 2; tnf 8, 2, -; cd107a 6, -, 3; prolif 40, 20, 10; synapse only P1 (SD undefined,
    # so unused); PD-1+ % of CD8 20, 50, - enters with sign -1
    ifng, tnf, cd107a, prolif, pd1 = [10, 4, 2], [8, 2], [6, 3], [40, 20, 10], [20, 50]
    p1 = (_z(ifng, 10) + _z(tnf, 8) + _z(cd107a, 6) + _z(prolif, 40) - _z(pd1, 20)) / 5
    p2 = (_z(ifng, 4) + _z(tnf, 2) + _z(prolif, 20) - _z(pd1, 50)) / 4
    p3 = (_z(ifng, 2) + _z(cd107a, 3) + _z(prolif, 10)) / 3
    got = fs.values.loc[["P1", "P2", "P3"], "t_function_score"].tolist()
    assert got == pytest.approx([p1, p2, p3], rel=1e-10)
    std = fs.standardisation.set_index(["composite", "readout"])
    assert std.loc[("t_function_score", "pd1_pct_of_cd8"), "sign"] == -1
    assert np.isnan(std.loc[("t_function_score", "t_synapse_index"), "sd"])


def test_patient_with_too_few_readouts_gets_no_score_and_a_reason(cohort):
    fs = build_features(cohort, min_readouts=3)
    # P3 has 2 NK readouts (cd107a, cytotox AUC): fewer than 3
    assert np.isnan(fs.values.at["P3", "nk_function_score"])
    why = fs.missing.set_index(["patient_id", "feature"]).at[("P3", "nk_function_score"), "reason"]
    assert "too few readouts: 2 of 4" in why and "3 needed" in why and "nk_ifng_pct" in why
    assert fs.values.at["P1", "nk_function_score"] == pytest.approx(0.891769, abs=1e-6)


def test_reference_values_replace_cohort_standardisation():
    v = pd.DataFrame({"a": [1.0, 3.0, np.nan], "b": [10.0, 30.0, 20.0]}, index=["x", "y", "z"])
    ref = {"a": {"mean": 0.0, "sd": 2.0}, "b": (20.0, 5.0)}
    score, n, _why, std = composite_score(v, ["a", "b"], signs={"b": -1}, reference=ref, min_readouts=1)
    # x: a (1-0)/2 = 0.5; b -(10-20)/5 = 2 -> 1.25; y: 1.5 and -2 -> -0.25; z: b only -> 0
    assert score.tolist() == pytest.approx([1.25, -0.25, 0.0], rel=1e-12)
    assert n.tolist() == [2, 2, 1]
    assert set(std["source"]) == {"reference"}


def test_reference_table_as_dataframe_and_partial(cohort):
    ref = pd.DataFrame({"readout": ["nk_cd107a_pct"], "mean": [5.0], "sd": [5.0]})
    fs = build_features(cohort, reference=ref)
    std = fs.standardisation.set_index(["composite", "readout"])
    assert std.loc[("nk_function_score", "nk_cd107a_pct"), "source"] == "reference"
    assert std.loc[("nk_function_score", "nk_ifng_pct"), "source"] == "cohort"
    # P3: cd107a (0 - 5)/5 = -1 against the reference; cytotox AUC z within the cohort
    cyt = [69.5, 22, 25]
    expected = (-1 + _z(cyt, 25)) / 2
    assert fs.values.at["P3", "nk_function_score"] == pytest.approx(expected, rel=1e-10)
    assert fs.methods.at["P3", "nk_function_score"] == "reference_z_mean"


def test_invalid_reference_or_sign_is_a_config_error():
    v = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]})
    with pytest.raises(ConfigError, match="sd > 0"):
        composite_score(v, ["a", "b"], reference={"a": (1.0, 0.0)})
    with pytest.raises(ConfigError, match="sign"):
        composite_score(v, ["a", "b"], signs={"a": 2})
    with pytest.raises(ConfigError, match="not features"):
        composite_score(v, ["a", "c"])
