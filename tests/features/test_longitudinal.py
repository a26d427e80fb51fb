"""The long frame, change from baseline, per-patient slopes and the per-cycle frame."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import DataQualityWarning, ImmuneCorrelatesError, MissingDataWarning


@pytest.fixture(scope="module")
def long(ofa_len):
    return ic.longitudinal_frame(ofa_len)


@pytest.mark.slow  # more than two seconds: full suite only
def test_one_row_per_sample_with_day_features_and_endpoints(ofa_len, long):
    samples = ofa_len.samples
    assert len(long) == len(samples)
    assert not long.duplicated(["patient_id", "timepoint"]).any()
    assert list(long.columns[:5]) == ["patient_id", "timepoint", "day", "day_source", "sample_alc"]
    for col in ("nk_per_ul", "cd8_per_ul", "t_function_score", "response_group", "pfs_days", "pfs_event", "age"):
        assert col in long.columns
    # a patient's endpoints repeat on each of its rows and equal the analysis frame's
    frame = ic.analysis_frame(ofa_len, features=pd.DataFrame(index=pd.Index([], name="patient_id")))
    merged = long.merge(frame[["pfs_months"]], left_on="patient_id", right_index=True, suffixes=("", "_ref"))
    assert np.array_equal(merged["pfs_months"], merged["pfs_months_ref"])
    # patients in clinical order, days increasing within a patient
    order = {p: i for i, p in enumerate(ofa_len.clinical.index)}
    assert long["patient_id"].map(order).is_monotonic_increasing
    assert (long.groupby("patient_id")["day"].diff().dropna() > 0).all()


def test_baseline_rows_equal_the_baseline_features(ofa_len, long):
    base = long[long["timepoint"] == "baseline"].set_index("patient_id")
    derived = ic.derive_features(ofa_len)
    cols = list(derived.columns)
    np.testing.assert_array_equal(base[cols].to_numpy(float), derived.loc[base.index, cols].to_numpy(float))
    assert (base["day"] == 0).all()


def test_absent_visits_are_absent_rows_never_zeros(ofa_len, long):
    truth = ic.datasets.ofa_len_sample_truth()
    later = long[long["timepoint"] != "baseline"]
    assert len(later) == len(truth)
    assert set(zip(later["patient_id"], later["timepoint"])) == set(zip(truth["patient_id"], truth["timepoint"]))
    # the functional assays are not run at C1D15 or end of treatment: NaN with a reason, not 0
    c1d15 = long[long["timepoint"] == "C1D15"]
    assert c1d15["nk_function_score"].isna().all()
    why = long.attrs["missing"]
    assert not why[(why["timepoint"] == "C1D15") & (why["feature"] == "nk_cd107a_pct")].empty


def test_on_treatment_counts_follow_the_true_counts(long):
    truth = ic.datasets.ofa_len_sample_truth().set_index(["patient_id", "timepoint"])
    later = long[long["timepoint"] != "baseline"].set_index(["patient_id", "timepoint"])
    for feature, true in (("nk_per_ul", "true_nk_per_ul"), ("cd8_per_ul", "true_cd8_per_ul")):
        ratio = np.log(later[feature] / truth.loc[later.index, true])
        assert abs(np.median(ratio)) < 0.05 and np.std(ratio) < 0.15  # counting noise only
    assert np.allclose(later["day"], truth.loc[later.index, "day"])


def test_composite_scores_of_later_samples_use_the_baseline_scale(ofa_len, long):
    base = long[long["timepoint"] == "baseline"]["nk_function_score"]
    assert abs(base.mean()) < 1e-9  # standardised within the baseline cohort
    later = long[long["timepoint"] == "C6D1"]["nk_function_score"].dropna()
    assert later.mean() > 0.3  # function improves on lenalidomide: not re-centred at 0


@pytest.mark.slow  # more than two seconds: full suite only
def test_feature_selection_and_errors(ofa_len):
    two = ic.longitudinal_frame(ofa_len, ["nk_per_ul", "cd8_per_ul"])
    assert [c for c in two.columns if c.endswith("_per_ul")] == ["nk_per_ul", "cd8_per_ul"]
    with pytest.raises(ImmuneCorrelatesError, match="unknown feature"):
        ic.longitudinal_frame(ofa_len, ["nk_per_ml"])


def test_change_from_baseline(long):
    change = ic.change_from_baseline(long, ["nk_per_ul", "t_function_score"], "C3D1")
    assert list(change.columns) == ["day_C3D1", "nk_per_ul_log2fc_C3D1", "t_function_score_change_C3D1"]
    base = long[long["timepoint"] == "baseline"].set_index("patient_id")
    c3 = long[long["timepoint"] == "C3D1"].set_index("patient_id")
    pid = c3.index[0]
    assert change.at[pid, "nk_per_ul_log2fc_C3D1"] == pytest.approx(
        np.log2(c3.at[pid, "nk_per_ul"] / base.at[pid, "nk_per_ul"])
    )
    without = change.index.difference(c3.index)
    assert len(without) and change.loc[without].isna().all().all()
    groups = long.drop_duplicates("patient_id").set_index("patient_id")["response_group"]
    by_group = change["nk_per_ul_log2fc_C3D1"].groupby(groups).median()
    assert by_group["CR"] > by_group["PR"] > by_group["NR"]  # expansion larger in responders
    with pytest.raises(ImmuneCorrelatesError, match="no sample at timepoint"):
        ic.change_from_baseline(long, "nk_per_ul", "C24D1")


def test_log2_change_of_a_zero_count_is_missing_and_said():
    data = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P2", "P2"],
            "timepoint": ["baseline", "C3D1"] * 2,
            "day": [0, 56, 0, 57],
            "cll_per_ul": [5000.0, 0.0, 3000.0, 30.0],
        }
    )
    with pytest.warns(DataQualityWarning, match="not > 0"):
        change = ic.change_from_baseline(data, "cll_per_ul", "C3D1")
    assert np.isnan(change.at["P1", "cll_per_ul_log2fc_C3D1"])
    assert change.at["P2", "cll_per_ul_log2fc_C3D1"] == pytest.approx(np.log2(0.01))
    assert change.attrs["excluded"]["patient_id"].tolist() == ["P1"]


def test_trajectory_slopes_by_hand(long):
    slopes = ic.trajectory_slopes(long, ["nk_per_ul"], until=140)
    pid = slopes.index[slopes["nk_per_ul_n_samples"] >= 3][0]
    rows = long[(long["patient_id"] == pid) & (long["day"] <= 140)]
    t = rows["day"] / ic.DAYS_PER_MONTH
    expected = np.polyfit(t, np.log2(rows["nk_per_ul"]), 1)[0]
    assert slopes.at[pid, "nk_per_ul_slope"] == pytest.approx(expected, rel=1e-10)
    assert slopes.at[pid, "nk_per_ul_n_samples"] == len(rows)
    one = slopes.index[slopes["nk_per_ul_n_samples"] == 1]
    assert slopes.loc[one, "nk_per_ul_slope"].isna().all()
    assert slopes.attrs["unit"] == "log2 units per 30.4375 day"


@pytest.mark.slow  # more than two seconds: full suite only
def test_cycle_frame_has_the_published_cycles_and_neutropenia(ofa_len):
    cycles = ic.cycle_frame(ofa_len, ["nk_per_ul"], latest=["nk_per_ul"])
    assert len(cycles) == 574 and cycles["neutropenia_g3"].sum() == 103
    summary = ic.trial_summary(ofa_len)
    assert cycles["neutropenia_g3"].mean() == pytest.approx(summary.at["neutropenia_g3plus_cycles", "value"])
    per_patient = cycles.groupby("patient_id")["cycle"].max()
    assert (per_patient == ofa_len.clinical.loc[per_patient.index, "cycles_received"]).all()
    assert (
        cycles.groupby("patient_id")["infection"].max().sum()
        == ofa_len.adverse_events.query("term == 'Pneumonia'")["patient_id"].nunique()
    )
    # the latest value is never from a sample after the cycle's first day
    known = cycles.dropna(subset=["nk_per_ul_latest_day"])
    assert (known["nk_per_ul_latest_day"] <= known["day"]).all()
    assert cycles.loc[cycles["cycle"] == 1, "nk_per_ul_latest"].equals(cycles.loc[cycles["cycle"] == 1, "nk_per_ul"])


def test_cycle_frame_lists_events_after_the_last_cycle():
    cohort = ic.datasets.load_ofa_len()
    ae = cohort.adverse_events.copy()
    first = cohort.clinical.index[0]
    k = int(cohort.clinical.at[first, "cycles_received"])
    ae.loc[len(ae)] = [first, k + 3, "Neutrophil count decreased", 4]
    late = ic.read_cohort(cohort.clinical.reset_index(), adverse_events=ae)
    with pytest.warns(MissingDataWarning, match="after the"):
        cycles = ic.cycle_frame(late, pd.DataFrame(index=pd.Index([], name="patient_id")))
    assert cycles.attrs["excluded"]["patient_id"].tolist() == [first]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(ic.cycle_frame(cohort, pd.DataFrame(index=pd.Index([], name="patient_id")))) == 574
