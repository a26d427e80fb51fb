"""A catalogue of messy inputs: each gets a correct result or a clear error, never a wrong number."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths


@pytest.fixture(scope="module")
def raw():
    return {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}


def _edit(raw, table, column, row, value):
    out = {k: v.copy() for k, v in raw.items()}
    out[table].loc[row, column] = value
    return out


CELL_CASES = [  # table, column, row, bad value, words expected in the message
    ("clinical", "treatment_start", 2, "12/03/2011", "ISO dates"),
    ("clinical", "last_followup", 5, "40512", "ISO dates"),  # an Excel serial number stored as text
    ("clinical", "death_date", 7, "2013-02-30", "ISO dates"),
    ("clinical", "alc", 4, "n/a", "not numbers"),
    ("clinical", "alc", 4, "<0.1", "not numbers"),
    ("clinical", "alc", 4, "ND", "not numbers"),
    ("clinical", "alc", 4, "inf", "infinite"),
    ("clinical", "alc", 4, "-3", ">= 0"),
    ("clinical", "mrd_negative", 1, "2", "yes/no code"),
    ("clinical", "del17p", 1, "positive", "yes/no code"),
    ("clinical", "best_response", 3, "VGPR", "not one of"),
    ("clinical", "cycles_received", 3, "2.5", "whole numbers"),
    ("immunophenotype", "freq_of_parent", 10, "12%", "not numbers"),
    ("immunophenotype", "freq_of_parent", 10, "101", "<= 100"),
    ("immunophenotype", "event_count", 10, "-1", ">= 0"),
    ("immunophenotype", "event_count", 10, "Infinity", "infinite"),
    ("function_assays", "value", 3, "n/a", "not numbers"),
    ("function_assays", "unit", 3, "percent", "not one of"),
    ("adverse_events", "grade", 0, "6", "<= 5"),
    ("adverse_events", "cycle", 0, "0", ">= 1"),
]


@pytest.mark.parametrize("table, column, row, value, words", CELL_CASES, ids=[f"{c[1]}={c[3]}" for c in CELL_CASES])
@pytest.mark.slow  # more than two seconds: full suite only
def test_bad_cell_is_named_with_file_column_patient_and_value(raw, table, column, row, value, words):
    tables = _edit(raw, table, column, row, value)
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(**tables)
    msg = str(info.value)
    patient = tables[table].loc[row, "patient_id"]
    assert f"<{table} DataFrame>" in msg and f"'{column}'" in msg and words in msg
    assert f"patient_id={patient!r}" in msg and f"value={value!r}" in msg


def test_ids_differing_only_by_case_are_ambiguous_or_unknown(raw):
    tables = _edit(raw, "immunophenotype", "patient_id", 0, raw["immunophenotype"].loc[0, "patient_id"].lower())
    with pytest.raises(ic.InputError, match="differ only by upper/lower case"):
        ic.read_cohort(**tables)
    lower = {k: v.copy() for k, v in raw.items()}
    lower["immunophenotype"]["patient_id"] = lower["immunophenotype"]["patient_id"].str.lower()
    with pytest.raises(ic.InputError, match="not in the clinical table") as info:
        ic.read_cohort(**lower)
    assert "patient_id='ol001'" in str(info.value)


def test_missing_and_extra_columns(raw):
    with pytest.raises(ic.InputError, match="required column"):
        ic.read_cohort(raw["clinical"].drop(columns="best_response"))
    extra = raw["clinical"].assign(site="A", notes="free text")
    cohort = ic.read_cohort(extra)
    assert {"site", "notes"} <= set(cohort.clinical.columns)


def test_excel_dates_stored_as_dates_are_read_correctly(tmp_path, raw):
    clinical = raw["clinical"].copy()
    for col in ("treatment_start", "progression_date", "death_date", "last_followup"):
        clinical[col] = pd.to_datetime(clinical[col].replace("", None))
    path = tmp_path / "clinical.xlsx"
    clinical.to_excel(path, index=False)
    from_xlsx = ic.read_cohort(path)
    from_csv = ic.read_cohort(ofa_len_paths()["clinical"])
    pd.testing.assert_series_equal(from_xlsx.clinical["treatment_start"], from_csv.clinical["treatment_start"])


def test_r_style_event_codes_are_refused_by_models():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    with pytest.raises(ic.ImmuneCorrelatesError, match="must be 0/1"):
        ic.fit_cox(frame.assign(e=frame["pfs_event"] + 1), "pfs_months", "e", ["nk_per_ul"])
    with pytest.raises(ic.ImmuneCorrelatesError, match="0/1"):
        ic.fit_logistic(frame.assign(y=frame["cr"] + 1), "y", ["nk_per_ul"])


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.analysis_frame(ic.datasets.load_ofa_len())


def test_outcome_with_one_class_is_a_model_error(frame):
    with pytest.raises(ic.ModelError, match="both outcomes"):
        ic.fit_logistic(frame.assign(y=0), "y", ["nk_per_ul"], method="firth")


def test_constant_feature_is_a_model_error_naming_it(frame):
    with pytest.raises(ic.ModelError, match="'z' is constant"):
        ic.fit_logistic(frame.assign(z=1.0), "cr", ["z"], method="firth")
    with pytest.raises(ic.ImmuneCorrelatesError, match="single distinct value"):
        ic.optimal_cutpoint(frame.assign(z=1.0), "z", "pfs_months", "pfs_event")


def test_all_missing_feature_says_no_row_is_complete(frame):
    with pytest.raises(ic.MissingDataError, match="no row is complete"):
        ic.fit_logistic(frame.assign(z=np.nan), "cr", ["z"], method="firth")
    with pytest.raises(ic.MissingDataError, match="no row is complete"):
        ic.fit_cox(frame.assign(z=np.nan), "pfs_months", "pfs_event", ["z"])


def test_separating_feature_warns_under_ml_and_is_finite_under_firth(frame):
    sep = frame.assign(z=frame["cr"] * 10.0 + np.arange(len(frame)) / 100)
    with pytest.warns(ic.SeparationWarning, match="z"):
        ic.fit_logistic(sep, "cr", ["z"], method="ml")
    firth = ic.fit_logistic(sep, "cr", ["z"], method="firth", ci="profile")
    assert np.isfinite(firth.params["z"]) and firth.params["z"] > 0


def test_zero_events_in_a_group(frame):
    g = np.where(frame["pfs_event"] == 0, "event-free", "other")
    data = frame.assign(g=g, gi=(g == "event-free").astype(float))
    lr = ic.logrank_test(data, "pfs_months", "pfs_event", "g")
    assert np.isfinite(lr.statistic) and 0 <= lr.pvalue <= 1
    with pytest.warns(ic.MonotoneLikelihoodWarning, match="gi"):
        ic.fit_cox(data, "pfs_months", "pfs_event", ["gi"])
    firth = ic.fit_cox(data, "pfs_months", "pfs_event", ["gi"], method="firth")
    assert np.isfinite(firth.params["gi"]) and firth.params["gi"] < 0


SURVIVAL_CALLS = {
    "kaplan_meier": lambda d: ic.kaplan_meier(d, "t", "e"),
    "logrank_test": lambda d: ic.logrank_test(d, "t", "e", "response_group"),
    "optimal_cutpoint": lambda d: ic.optimal_cutpoint(d, "nk_per_ul", "t", "e"),
    "fit_cox": lambda d: ic.fit_cox(d, "t", "e", ["nk_per_ul"]),
    "screen": lambda d: ic.screen(d, ["nk_per_ul"], duration="t", event="e", model="cox"),
}


@pytest.mark.parametrize("name", list(SURVIVAL_CALLS))
def test_every_survival_function_refuses_bad_events_and_durations_alike(frame, name):
    base = frame.assign(t=frame["pfs_months"], e=frame["pfs_event"])
    patient = base.index[3]
    bad_event = base.assign(e=base["e"].where(base.index != patient, 2))
    with pytest.raises(ic.ImmuneCorrelatesError, match=r"must be 0/1 \(0 censored, 1 event\)") as info:
        SURVIVAL_CALLS[name](bad_event)
    assert f"patient_id='{patient}', value=2" in str(info.value)
    bad_time = base.assign(t=base["t"].where(base.index != patient, -1.0))
    with pytest.raises(ic.ImmuneCorrelatesError, match="must be finite and >= 0") as info:
        SURVIVAL_CALLS[name](bad_time)
    assert f"patient_id='{patient}', value=-1.0" in str(info.value)
