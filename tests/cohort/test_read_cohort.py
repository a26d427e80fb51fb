"""read_cohort: formats, typing, and a clear error for each kind of bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def raw_tables():
    return {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}


def test_every_file_format_gives_the_same_cohort(tmp_path, raw_tables):
    reference = ic.read_cohort(**ofa_len_paths())
    for fmt in ("tsv", "xlsx", "parquet", "frame"):
        args = {}
        for name, table in raw_tables.items():
            if fmt == "frame":
                args[name] = table
                continue
            path = tmp_path / f"{name}.{fmt}"
            if fmt == "tsv":
                table.to_csv(path, sep="\t", index=False)
            elif fmt == "xlsx":
                table.to_excel(path, index=False)
            else:
                table.to_parquet(path, index=False)
            args[name] = path
        cohort = ic.read_cohort(**args)
        pd.testing.assert_frame_equal(cohort.clinical, reference.clinical, check_dtype=False)
        for name in ("immunophenotype", "function_assays", "adverse_events"):
            got = getattr(cohort, name).reset_index(drop=True)
            want = getattr(reference, name).reset_index(drop=True)
            pd.testing.assert_frame_equal(got.astype(str), want.astype(str), obj=f"{fmt} {name}")


def test_reading_changes_nothing_on_disk_or_in_memory(raw_tables):
    paths = ofa_len_paths()
    before = {k: _sha(p) for k, p in paths.items()}
    copies = {k: t.copy() for k, t in raw_tables.items()}
    ic.read_cohort(**paths)
    ic.read_cohort(**raw_tables)
    assert {k: _sha(p) for k, p in paths.items()} == before
    for k, t in raw_tables.items():
        pd.testing.assert_frame_equal(t, copies[k])


def test_columns_are_typed_and_codes_normalised(tiny_clinical):
    cohort = ic.read_cohort(tiny_clinical)
    clin = cohort.clinical
    assert list(clin.index) == ["A", "B", "C", "D"]
    assert clin["treatment_start"].dtype.kind == "M"
    assert clin["mrd_negative"].tolist()[:2] == [1.0, 0.0] and np.isnan(clin["mrd_negative"].iloc[2])
    assert clin["alc"].tolist()[:2] == [40.5, 12.0]
    assert "No immunophenotype table was given." in cohort.notes


def test_column_names_are_matched_ignoring_case_and_spaces(tiny_clinical):
    renamed = tiny_clinical.rename(columns={"patient_id": " Patient_ID ", "best_response": "BEST_RESPONSE"})
    assert ic.read_cohort(renamed).n_patients == 4


def _error(call) -> str:
    with pytest.raises(ic.InputError) as info:
        call()
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_missing_required_column_is_named(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical.drop(columns="last_followup")))
    assert "<clinical DataFrame>" in msg and "last_followup" in msg


def test_non_numeric_cell_names_file_column_patient_and_value(tmp_path, tiny_clinical):
    bad = tiny_clinical.assign(alc=["40.5", "n/a", "", "<0.1"])
    path = tmp_path / "clinic.csv"
    bad.to_csv(path, index=False)
    msg = _error(lambda: ic.read_cohort(path))
    assert "'clinic.csv'" in msg and "'alc'" in msg
    assert "patient_id='B'" in msg and "value='n/a'" in msg
    assert "patient_id='D'" in msg and "value='<0.1'" in msg  # every offender, not just the first


def test_unknown_response_code_is_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical.assign(best_response=["CR", "VGPR", "SD", "cri"])))
    assert "best_response" in msg and "VGPR" in msg and "patient_id='B'" in msg
    assert "'cri'" not in msg  # case-insensitive match of a valid code


def test_event_codes_other_than_yes_no_are_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical.assign(mrd_negative=["1", "2", "", "0"])))
    assert "mrd_negative" in msg and "value='2'" in msg and "patient_id='B'" in msg


@pytest.mark.parametrize("value", ["03/27/2020", "2020-13-01", "43921", "27.03.2020"])
def test_non_iso_dates_are_rejected(tiny_clinical, value):
    msg = _error(
        lambda: ic.read_cohort(tiny_clinical.assign(last_followup=[value, "2021-01-01", "2020-08-01", "2022-03-01"]))
    )
    assert "last_followup" in msg and f"value={value!r}" in msg and "patient_id='A'" in msg


def test_progression_before_treatment_start_is_an_error(tiny_clinical):
    bad = tiny_clinical.assign(progression_date=["", "2019-12-01", "2020-05-01", ""])
    msg = _error(lambda: ic.read_cohort(bad))
    assert "progression_date is before treatment_start" in msg and "patient_id='B'" in msg and "2019-12-01" in msg


def test_progression_after_death_is_an_error(tiny_clinical):
    bad = tiny_clinical.assign(
        progression_date=["", "2020-07-01", "2020-09-01", ""],
        last_followup=["2021-01-01", "2020-12-01", "2020-10-01", "2022-03-01"],
    )
    msg = _error(lambda: ic.read_cohort(bad))
    assert "progression_date is after death_date" in msg and "patient_id='C'" in msg


def test_duplicate_patients_are_listed(tiny_clinical):
    dup = pd.concat([tiny_clinical, tiny_clinical.iloc[[1]]], ignore_index=True)
    msg = _error(lambda: ic.read_cohort(dup))
    assert "duplicate patients" in msg and msg.count("patient_id='B'") == 2


def test_ids_differing_only_by_case_or_spaces_are_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical.assign(patient_id=["A", "B", "C", "a"])))
    assert "upper/lower case" in msg
    msg = _error(lambda: ic.read_cohort(tiny_clinical.assign(patient_id=["A", "B ", "C", "D"])))
    assert "spaces" in msg and "'B '" in msg


def _immuno(**overrides):
    base = {
        "patient_id": ["A", "A"],
        "timepoint": ["baseline"] * 2,
        "gating_path": ["Lymphocytes", "Lymphocytes/CD3+"],
        "freq_of_parent": ["90", "5.5"],
        "event_count": ["50000", "2750"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_percent_outside_0_100_is_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical, immunophenotype=_immuno(freq_of_parent=["90", "120"])))
    assert "<immunophenotype DataFrame>" in msg and "freq_of_parent" in msg and "value='120'" in msg
    assays = pd.DataFrame(
        {
            "patient_id": ["A"],
            "timepoint": ["baseline"],
            "assay": ["cd107a"],
            "cell_type": ["NK"],
            "condition": ["stimulated"],
            "value": ["150"],
            "unit": ["%"],
        }
    )
    msg = _error(lambda: ic.read_cohort(tiny_clinical, function_assays=assays))
    assert "'value'" in msg and "patient_id='A'" in msg and "150" in msg


def test_negative_counts_are_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical, immunophenotype=_immuno(event_count=["50000", "-5"])))
    assert "event_count" in msg and "value='-5'" in msg and "patient_id='A'" in msg


def test_assay_patients_missing_from_clinical_are_rejected(tiny_clinical):
    msg = _error(lambda: ic.read_cohort(tiny_clinical, immunophenotype=_immuno(patient_id=["A", "Z9"])))
    assert "not in the clinical table" in msg and "patient_id='Z9'" in msg


def test_empty_and_header_only_files_are_rejected(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert "empty" in _error(lambda: ic.read_cohort(empty))
    header = tmp_path / "header.csv"
    header.write_text("patient_id,treatment_start,best_response,last_followup\n")
    assert "no rows" in _error(lambda: ic.read_cohort(header))


def test_patients_without_a_table_are_kept_and_reported(tiny_clinical):
    cohort = ic.read_cohort(tiny_clinical, immunophenotype=_immuno())
    assert cohort.n_patients == 4
    gaps = cohort.exclusions
    assert sorted(gaps["patient_id"]) == ["B", "C", "D"]
    assert set(gaps["table"]) == {"immunophenotype"}


def test_error_lists_at_most_twenty_rows_then_a_count():
    ids = [f"P{i}" for i in range(30)]
    frame = pd.DataFrame(
        {"patient_id": ids, "treatment_start": "2020-01-01", "best_response": "XX", "last_followup": "2021-01-01"}
    )
    msg = _error(lambda: ic.read_cohort(frame))
    assert "... and 10 more" in msg and msg.count("value='XX'") == 20
