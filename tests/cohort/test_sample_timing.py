"""When samples were drawn: day / sample_date of the assay tables, checked in read_cohort's one pass."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.data.samples import nominal_day


def _gates(rows):
    """Immunophenotype rows: (patient, timepoint, extra columns) -> two gates per sample."""
    out = []
    for pid, tp, extra in rows:
        for path, freq in (("Lymphocytes", 80.0), ("Lymphocytes/CD3+", 20.0)):
            out.append({"patient_id": pid, "timepoint": tp, "gating_path": path, "freq_of_parent": freq, **extra})
    return pd.DataFrame(out)


def _assays(rows):
    return pd.DataFrame(
        [
            {
                "patient_id": pid,
                "timepoint": tp,
                "assay": "cd107a",
                "cell_type": "NK",
                "condition": "stimulated",
                "value": 20.0,
                "unit": "%",
                **extra,
            }
            for pid, tp, extra in rows
        ]
    )


def _problems(err):
    return err.problems or (err,)


def _find(err, column, text):
    found = [p for p in _problems(err) if p.column == column and text in str(p)]
    assert found, f"no problem in column {column!r} mentioning {text!r}: {[str(p) for p in _problems(err)]}"
    return found[0]


def test_days_from_the_day_column_the_date_or_the_timepoint_name(tiny_clinical):
    gates = _gates(
        [
            ("A", "baseline", {}),
            ("A", "C1D15", {"day": 14}),
            ("A", "C3D1", {"sample_date": "2020-02-27"}),  # A started 2020-01-01: day 57
            ("A", "C6D1", {}),  # nominal: 28 * 5 = 140
            ("B", "baseline", {"sample_date": "2019-12-20"}),
        ]
    )
    cohort = ic.read_cohort(tiny_clinical, immunophenotype=gates)
    s = cohort.samples.set_index(["patient_id", "timepoint"])
    assert s.loc[("A", "baseline"), ["day", "day_source"]].tolist() == [0.0, "nominal"]
    assert s.loc[("A", "C1D15"), ["day", "day_source"]].tolist() == [14.0, "day"]
    assert s.loc[("A", "C3D1"), ["day", "day_source"]].tolist() == [57.0, "sample_date"]
    assert s.loc[("A", "C6D1"), ["day", "day_source"]].tolist() == [140.0, "nominal"]
    assert s.loc[("B", "baseline"), "day"] == -12.0
    assert list(cohort.samples["timepoint"][cohort.samples["patient_id"] == "A"]) == [
        "baseline",
        "C1D15",
        "C3D1",
        "C6D1",
    ]
    assert any("nominal day" in n for n in cohort.notes)


def test_nominal_days_of_cycle_day_names():
    assert [nominal_day(t) for t in ("baseline", "Baseline", "C1D1", "C1D15", "C3D1")] == [0, 0, 0, 14, 56]
    assert nominal_day("C2D8") == 35.0 and nominal_day("c2d8") == 35.0
    assert np.isnan(nominal_day("EOT")) and np.isnan(nominal_day("C0D1"))


def test_every_timing_problem_is_reported_at_once_with_file_column_patient_and_value(tiny_clinical):
    gates = _gates(
        [
            ("A", "C3D1", {"day": 60, "sample_date": "2020-02-26"}),  # date says day 56
            ("A", "EOT", {}),  # cannot be placed in time
            ("B", "baseline", {"sample_date": "2019-11-01"}),  # 61 days before the start
            ("B", "C2D1", {"day": 28}),
            ("C", "C5D1", {"day": 200}),  # C died on day 182
            ("D", "baseline", {"day": 3}),  # a baseline sample after the first dose
            ("D", "C1D15", {"day": 800}),  # D last seen on day 730
        ]
    )
    gates.loc[
        (gates["patient_id"] == "B") & (gates["timepoint"] == "C2D1") & (gates["gating_path"] != "Lymphocytes"), "day"
    ] = 30  # two days for one sample
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(tiny_clinical, immunophenotype=gates)
    err = info.value
    assert len(_problems(err)) >= 7
    assert all(p.source == "<immunophenotype DataFrame>" for p in _problems(err))
    clash = _find(err, "day", "disagree")
    assert clash.rows[0]["patient_id"] == "A" and clash.rows[0]["value"] == 60
    assert clash.rows[0]["days_from_treatment_start"] == 56
    unknown = _find(err, "timepoint", "cannot be placed in time")
    assert [(r["patient_id"], r["timepoint"]) for r in unknown.rows] == [("A", "EOT")]
    early = _find(err, "sample_date", "outside the baseline window")
    assert early.rows[0]["patient_id"] == "B" and early.rows[0]["value"] == -61
    two = _find(err, "day", "different sample days")
    assert {r["value"] for r in two.rows} == {28, 30}
    dead = _find(err, "day", "after death")
    assert dead.rows[0]["patient_id"] == "C" and dead.rows[0]["death_date"] == "2020-08-01"
    assert dead.rows[0]["limit"] == 182
    late = _find(err, "day", "after the last follow-up")
    assert late.rows[0]["patient_id"] == "D" and late.rows[0]["value"] == 800
    assert _find(err, "day", "baseline samples drawn after").rows[0]["patient_id"] == "D"
    assert "nothing was computed" in str(err)


def test_a_wider_baseline_window_is_an_option(tiny_clinical):
    gates = _gates([("B", "baseline", {"sample_date": "2019-11-01"})])
    with pytest.raises(ic.InputError, match="baseline window"):
        ic.read_cohort(tiny_clinical, immunophenotype=gates)
    cohort = ic.read_cohort(tiny_clinical, immunophenotype=gates, baseline_window=90)
    assert cohort.samples["day"].tolist() == [-61.0]
    with pytest.raises(ic.InputError, match="60 days"):
        ic.read_cohort(tiny_clinical, immunophenotype=gates, baseline_window=60)


def test_one_sample_has_one_day_in_both_tables(tiny_clinical):
    gates = _gates([("A", "C3D1", {"day": 56})])
    assays = _assays([("A", "C3D1", {"day": 58}), ("A", "baseline", {})])
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(tiny_clinical, immunophenotype=gates, function_assays=assays)
    sources = {p.source for p in _problems(info.value) if "different sample days" in str(p)}
    assert sources == {"<immunophenotype DataFrame>", "<function_assays DataFrame>"}
    ok = ic.read_cohort(tiny_clinical, immunophenotype=gates, function_assays=_assays([("A", "C3D1", {})]))
    row = ok.samples.set_index("timepoint").loc["C3D1"]
    assert row["day"] == 56 and row["tables"] == "immunophenotype, function_assays"


def test_the_sample_alc_is_one_value_per_sample(tiny_clinical):
    gates = _gates([("A", "C3D1", {"day": 56, "alc": 2.5})])
    cohort = ic.read_cohort(tiny_clinical, immunophenotype=gates)
    assert cohort.samples["alc"].tolist() == [2.5]
    gates.loc[1, "alc"] = 3.0
    with pytest.raises(ic.InputError, match="different alc") as info:
        ic.read_cohort(tiny_clinical, immunophenotype=gates)
    assert info.value.column == "alc" and {r["value"] for r in info.value.rows} == {2.5, 3.0}


def test_one_table_in_several_files(tmp_path, tiny_clinical):
    base, later = tmp_path / "flow_baseline.csv", tmp_path / "flow_on_treatment.csv"
    _gates([("A", "baseline", {}), ("B", "baseline", {})]).to_csv(base, index=False)
    _gates([("A", "C3D1", {"day": 56}), ("B", "C3D1", {"day": 57})]).to_csv(later, index=False)
    before = hashlib.sha256(later.read_bytes()).hexdigest()
    cohort = ic.read_cohort(tiny_clinical, immunophenotype=[base, later])
    assert hashlib.sha256(later.read_bytes()).hexdigest() == before  # nothing changes on disk
    assert cohort.sources["immunophenotype"] == "flow_baseline.csv + flow_on_treatment.csv"
    assert len(cohort.immunophenotype) == 8
    assert cohort.samples.groupby("timepoint")["day"].max().to_dict() == {"C3D1": 57.0, "baseline": 0.0}
    # a row in both files is a duplicate, named in each file
    _gates([("A", "C3D1", {"day": 56}), ("A", "baseline", {})]).to_csv(later, index=False)
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(tiny_clinical, immunophenotype=[base, later])
    dup = [p for p in _problems(info.value) if "also given in" in str(p)]
    assert {p.source for p in dup} == {"flow_baseline.csv", "flow_on_treatment.csv"}
    assert all(r["patient_id"] == "A" and r["timepoint"] == "baseline" for p in dup for r in p.rows)
    # an unreadable file is one problem; the other file is still checked
    bad = _gates([("Z", "baseline", {})])
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(tiny_clinical, immunophenotype=[tmp_path / "missing.csv", bad])
    texts = [str(p) for p in _problems(info.value)]
    assert any("file not found" in t for t in texts) and any("not in the clinical table" in t for t in texts)


def test_sample_dates_in_the_future_are_refused(tiny_clinical):
    gates = _gates([("A", "C3D1", {"sample_date": "2999-01-01"})])
    with pytest.raises(ic.InputError) as info:
        ic.read_cohort(tiny_clinical, immunophenotype=gates)
    assert any(p.column == "sample_date" and "future" in str(p) for p in _problems(info.value))


def test_bundled_baseline_files_have_only_baseline_samples_at_day_zero():
    cohort = ic.read_cohort(**ic.datasets.ofa_len_paths())
    assert set(cohort.samples["timepoint"]) == {"baseline"}
    assert (cohort.samples["day"] == 0).all() and set(cohort.samples["day_source"]) == {"nominal"}
    assert not any("nominal day" in n for n in cohort.notes)  # baseline at day 0 needs no note


def test_pseudonymized_cohort_leaves_no_original_id_in_the_samples(tiny_clinical):
    from immune_correlates.data.pseudonymize import pseudonymize

    cohort = ic.read_cohort(tiny_clinical, immunophenotype=_gates([("A", "C3D1", {"day": 56})]))
    coded, mapping = pseudonymize(cohort)
    assert coded.samples["patient_id"].tolist() == [mapping["A"]]
