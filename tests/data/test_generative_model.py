"""One generative model (design/model.py) behind ic.simulate and the power simulations (issue 15.1),
and response dates / causes of PFS end (issue 16.5)."""

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.data.design import DRIVERS
from immune_correlates.design import simulate_trials
from immune_correlates.errors import InputError


def test_binary_drivers_are_plus_minus_one_in_simulate_as_in_the_power_simulator():
    design = ic.TrialDesign(driver_distribution="binary", n_patients=60)
    trial = ic.simulate(design, seed=4)
    values = trial.truth[list(DRIVERS)].to_numpy()
    assert set(np.unique(values)) == {-1.0, 1.0}
    batch = simulate_trials(design, n_sim=3, seed=4)
    assert set(np.unique(batch.drivers)) == {-1.0, 1.0}
    # without measurement error the measured features are the drivers themselves
    np.testing.assert_array_equal(trial.features[list(DRIVERS)].to_numpy(), values)
    # and the immune tables read them out: two NK levels before counting noise
    nk = trial.truth["true_nk_per_ul"].to_numpy()
    expected = np.exp(np.log(350.0) + 0.6 * values[:, DRIVERS.index("log2_nk")])
    lymph = trial.tables["clinical"]["alc"].to_numpy() * 1000
    unclipped = expected < 0.5 * (lymph - trial.truth["true_cd3_per_ul"].to_numpy())
    np.testing.assert_allclose(nk[unclipped], expected[unclipped], rtol=1e-12)


def test_simulate_draws_normal_drivers_from_the_same_model_as_the_batch():
    trial = ic.simulate(ic.TrialDesign(n_patients=40), seed=2)
    values = trial.truth[list(DRIVERS)].to_numpy()
    assert len(np.unique(values)) == values.size  # continuous, not signs


@pytest.mark.slow  # more than two seconds: full suite only
def test_measurement_error_reaches_the_tables():
    design = ic.TrialDesign(n_patients=3000, measurement_sd={"log2_nk": 1.0})
    trial = ic.simulate(design, seed=5)
    true, measured = trial.truth["log2_nk"], trial.features["log2_nk"]
    assert np.corrcoef(true, measured)[0, 1] == pytest.approx(design.reliability("log2_nk") ** 0.5, abs=0.03)
    assert measured.std() == pytest.approx(1.0, abs=0.05)
    # the NK counts behind the immunophenotype table follow the measured, not the true, value
    log_nk = np.log(trial.truth["true_nk_per_ul"])
    assert np.corrcoef(log_nk, measured)[0, 1] > 0.99 > np.corrcoef(log_nk, true)[0, 1]
    # undisturbed drivers are measured exactly
    np.testing.assert_array_equal(trial.features["log2_cd3"], trial.truth["log2_cd3"])


@pytest.mark.slow  # more than two seconds: full suite only
def test_null_features_are_simulated_and_unrelated():
    design = ic.TrialDesign(n_patients=2000, n_null_features=3, null_feature_correlation=0.4)
    trial = ic.simulate(design, seed=6)
    nulls = trial.features[["null_1", "null_2", "null_3"]]
    assert list(trial.features.columns) == [*DRIVERS, "null_1", "null_2", "null_3"]
    assert np.corrcoef(nulls["null_1"], nulls["null_2"])[0, 1] == pytest.approx(0.4, abs=0.06)
    cr = trial.truth["response_group"].eq("CR").astype(float)
    assert abs(np.corrcoef(nulls["null_1"], cr)[0, 1]) < 0.08
    # usable in analyses: join to the analysis frame
    frame = ic.analysis_frame(trial.cohort, features=trial.features[["null_1"]])
    assert frame["null_1"].notna().all()


def test_default_design_tables_do_not_depend_on_the_child_streams():
    a = ic.simulate(seed=9)
    b = ic.simulate(ic.TrialDesign(n_null_features=2, measurement_sd={"t_function": 0.5}), seed=9)
    pd.testing.assert_frame_equal(a.tables["clinical"], b.tables["clinical"])
    pd.testing.assert_frame_equal(a.tables["adverse_events"], b.tables["adverse_events"])


def test_simulated_response_dates_and_causes():
    trial = ic.simulate(ic.TrialDesign(n_patients=200), seed=12)
    frame = ic.analysis_frame(trial.cohort, features=pd.DataFrame(index=pd.Index([], name="patient_id")))
    responder = frame["responder"] == 1
    assert frame.loc[responder, "response_months"].notna().all()
    assert frame.loc[~responder, "response_months"].isna().all()
    assert (frame.loc[responder, "response_months"] > 0).all()
    assert (frame.loc[responder, "response_months"] <= frame.loc[responder, "pfs_months"]).all()
    assert frame["response_months"].median() == pytest.approx(3.0, rel=0.2)
    assert ((frame["pfs_cause"] > 0) == (frame["pfs_event"] == 1)).all()
    assert set(frame["pfs_cause"]) <= {0, 1, 2}


def test_batch_has_causes_and_response_times():
    design = ic.TrialDesign(death_free_rate_per_month=0.02)
    batch = simulate_trials(design, n_sim=50, seed=3)
    assert ((batch.cause > 0) == (batch.event == 1)).all()
    assert (batch.cause == 2).any() and (batch.cause == 1).any()
    assert np.isnan(batch.response_time[batch.group == 0]).all()
    resp = batch.response_time[batch.group > 0]
    assert (resp > 0).all() and (resp <= batch.time[batch.group > 0]).all()
    frame = batch.trial(0)
    assert {"pfs_cause", "response_months"} <= set(frame.columns)
    ci = ic.cumulative_incidence(frame, "pfs_months", "pfs_cause", cause=2)
    assert ci.table["n_event"].sum() == (batch.cause[0] == 2).sum()


def test_bundled_cohort_has_response_dates_for_its_24_responders(ofa_len):
    frame = ic.analysis_frame(ofa_len)
    assert frame["response_months"].notna().sum() == 24 == frame["responder"].sum()
    assert (frame["response_months"].dropna() <= frame.loc[frame["responder"] == 1, "pfs_months"]).all()
    assert frame["pfs_cause"].value_counts().to_dict() == {1: 31, 0: 2, 2: 1}


def test_pfs_cause_by_hand(tiny_clinical):
    ep = ic.derive_endpoints(ic.read_cohort(tiny_clinical).clinical)
    # A censored, B progressed, C progressed (then died), D censored
    assert ep["pfs_cause"].tolist() == [0, 1, 1, 0]
    assert "response_months" not in ep
    died = tiny_clinical.assign(
        progression_date=["", "", "", ""],
        death_date=["", "2020-06-01", "", ""],
        last_followup=["2021-01-01", "2020-06-01", "2020-08-01", "2022-03-01"],
    )
    assert ic.derive_endpoints(ic.read_cohort(died).clinical)["pfs_cause"].tolist() == [0, 2, 0, 0]


def test_response_months_by_hand(tiny_clinical):
    clin = tiny_clinical.assign(response_date=["2020-04-01", "2020-03-02", "", "2020-05-31"])
    ep = ic.derive_endpoints(ic.read_cohort(clin).clinical)
    np.testing.assert_allclose(ep["response_months"].to_numpy()[[0, 1, 3]], np.array([91, 61, 91]) / 30.4375)
    assert np.isnan(ep["response_months"].iloc[2])


@pytest.mark.parametrize(
    "dates,message,patient,value",
    [
        (["2020-04-01", "2020-03-02", "2020-04-01", ""], "best_response is not a response", "C", "2020-04-01"),
        (["2020-01-01", "", "", ""], "not after treatment_start", "A", "2020-01-01"),
        (["", "2020-07-02", "", ""], "after progression_date", "B", "2020-07-02"),
        (["2021-02-01", "", "", ""], "after last_followup", "A", "2021-02-01"),
    ],
)
def test_bad_response_dates_name_file_column_patient_value(tiny_clinical, dates, message, patient, value):
    with pytest.raises(InputError, match=message) as err:
        ic.read_cohort(tiny_clinical.assign(response_date=dates))
    assert err.value.column == "response_date"
    assert [(r["patient_id"], r["value"]) for r in err.value.rows] == [(patient, value)]
    assert patient in str(err.value) and value in str(err.value)
