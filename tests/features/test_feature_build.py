"""derive_features / build_features on the hand-made cohort: values, reasons, quality, exclusion."""

import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import DataQualityWarning, InputError
from immune_correlates.features import FeatureSet, build_features, derive_features

API_COLUMNS = [
    "cd3_per_ul",
    "cd4_per_ul",
    "cd8_per_ul",
    "nk_per_ul",
    "cd4_cd8_ratio",
    "t_function_score",
    "nk_function_score",
]


def test_derive_features_has_one_row_per_clinical_patient_and_the_api_columns(cohort):
    values = derive_features(cohort)
    assert list(values.index) == ["P1", "P2", "P3", "P4"]
    assert values.index.name == "patient_id"
    assert set(API_COLUMNS) <= set(values.columns)
    assert values.loc["P4"].isna().all()  # no immune data at all
    assert values.attrs == {}


def test_counts_and_ratio_of_the_hand_cohort(cohort):
    v = derive_features(cohort)
    # P1 dual (2000 lymphocytes/uL): CD3 50% -> 1000; CD8 50% x 30% -> 300; NK 50% x 20% -> 200
    # P2 bead (0.2 cells/uL per event): CD3 12000 -> 2400; CD8 4800 -> 960; NK 1800 -> 360
    # P3 dual (1000/uL): CD3 20% -> 200; NK 80% x 5% -> 40; no CD8 row
    expected = {
        "cd3_per_ul": [1000, 2400, 200],
        "cd4_per_ul": [600, 1200, 100],
        "cd8_per_ul": [300, 960, np.nan],
        "nk_per_ul": [200, 360, 40],
        "treg_per_ul": [60, 60, 8],
        "pd1_cd8_per_ul": [60, 480, np.nan],
        "nk_cd56bright_per_ul": [20, 18, 8],
        "nk_cd56dim_cd16_per_ul": [160, 324, 28],
        # CD4:CD8 = 60%/30% = 2; (40% x 50%)/(40% x 40%) = 1.25
        "cd4_cd8_ratio": [2.0, 1.25, np.nan],
        "treg_pct_of_cd4": [10, 5, 8],
        "pd1_pct_of_cd8": [20, 50, np.nan],
    }
    for col, want in expected.items():
        np.testing.assert_allclose(v.loc[["P1", "P2", "P3"], col].to_numpy(), want, rtol=1e-12, err_msg=col)


def test_functional_counts_are_fraction_times_count(cohort):
    v = derive_features(cohort)
    # IFN-g+ CD8 per uL: P1 10% x 300 = 30; P2 4% x 960 = 38.4; P3 no CD8 count
    np.testing.assert_allclose(v["cd8_ifng_per_ul"].to_numpy()[:3], [30.0, 38.4, np.nan], rtol=1e-12)
    # CD107a+ NK per uL: 20% x 200 = 40; 10% x 360 = 36; 0% x 40 = 0
    np.testing.assert_allclose(v["nk_cd107a_per_ul"].to_numpy()[:3], [40.0, 36.0, 0.0], rtol=1e-12)


def test_methods_record_the_count_method_per_value(cohort):
    fs = build_features(cohort)
    assert fs.methods.loc[["P1", "P2", "P3", "P4"], "cd3_per_ul"].tolist() == ["dual", "bead", "dual", ""]
    assert fs.methods.at["P2", "cd8_ifng_per_ul"] == "bead"
    assert fs.methods.at["P1", "nk_adcc_auc"] == "trapezoid_auc_log2_et"


def test_every_missing_value_has_exactly_one_reason(cohort):
    fs = build_features(cohort)
    nan_cells = {(p, f) for p, f in fs.values.isna().stack().loc[lambda s: s].index}
    listed = set(zip(fs.missing["patient_id"], fs.missing["feature"]))
    assert nan_cells == listed and len(fs.missing) == len(listed)
    assert (fs.missing["reason"].str.len() > 0).all()
    why = fs.missing.set_index(["patient_id", "feature"])["reason"]
    assert why[("P3", "cd8_per_ul")] == "no row for gate 'Lymphocytes/CD3+/CD8+' at timepoint 'baseline'"
    assert why[("P4", "cd3_per_ul")] == "no immunophenotype rows at timepoint 'baseline'"
    assert why[("P3", "cd8_ifng_per_ul")].startswith("cd8_per_ul missing: no row for gate")
    assert "never reaches 20%" in why[("P2", "nk_cytotox_lu20")]


def test_quality_table_has_events_poisson_cv_and_low_event_flags(cohort):
    q = build_features(cohort).quality.set_index(["patient_id", "feature"])
    row = q.loc[("P1", "cd4_per_ul")]
    # 6000 events: CV = 1/sqrt(6000) = 0.012910
    assert row["events"] == 6000 and row["poisson_cv"] == pytest.approx(1 / 6000**0.5, rel=1e-12)
    assert not row["low_events"] and row["method"] == "dual"
    bright = q.loc[("P2", "nk_cd56bright_per_ul")]
    # 90 events < 100: flagged; P2 is counted with beads (5000 bead events), so the CV adds both
    # Poisson errors: sqrt(1/90 + 1/5000) = 0.1064
    assert bright["method"] == "bead"
    assert bright["low_events"] and bright["poisson_cv"] == pytest.approx((1 / 90 + 1 / 5000) ** 0.5, rel=1e-12)
    assert "90 events < 100" in bright["flags"]
    # ratio: events of the smaller gate (CD8 3000 for P1)
    assert q.loc[("P1", "cd4_cd8_ratio"), "events"] == 3000
    assert q.loc[("P3", "nk_cd107a_pct"), "flags"].startswith("unstimulated above stimulated")
    assert q.loc[("P1", "t_function_score"), "flags"] == "5 of 6 readouts"
    assert int(q["low_events"].sum()) == 6  # P2 bright x2, P3 Treg x2, P3 bright x2


def test_min_events_threshold_is_configurable(cohort):
    q = build_features(cohort, min_events=50).quality
    assert int(q["low_events"].sum()) == 0


def test_exclude_flagged_sets_low_event_values_missing_and_reports_them(cohort):
    with pytest.warns(DataQualityWarning, match="excluded 6 value"):
        fs = build_features(cohort, exclude_flagged=True)
    assert np.isnan(fs.values.at["P2", "nk_cd56bright_per_ul"])
    assert np.isnan(fs.values.at["P3", "treg_pct_of_cd4"])
    assert fs.values.at["P1", "nk_cd56bright_per_ul"] == pytest.approx(20.0)
    ex = fs.excluded
    assert set(zip(ex["patient_id"], ex["feature"])) == {
        ("P2", "nk_cd56bright_per_ul"),
        ("P2", "nk_cd56bright_pct_of_nk"),
        ("P3", "treg_per_ul"),
        ("P3", "treg_pct_of_cd4"),
        ("P3", "nk_cd56bright_per_ul"),
        ("P3", "nk_cd56bright_pct_of_nk"),
    }
    assert ex["reason"].str.startswith("excluded: ").all()
    assert "80 events < min_events 100" in ex.set_index(["patient_id", "feature"]).at[("P3", "treg_per_ul"), "reason"]
    assert fs.summary().at["treg_per_ul", "n_excluded"] == 1
    # the same call without exclusion keeps the values and does not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = derive_features(cohort)
    assert kept.at["P2", "nk_cd56bright_per_ul"] == pytest.approx(18.0)


def test_cohort_without_function_assays_still_gets_every_patient(make_cohort):
    empty = pd.DataFrame(columns=["patient_id", "timepoint", "assay", "cell_type", "condition", "value", "unit"])
    fs = build_features(make_cohort(function_assays=empty))
    assert fs.values["nk_function_score"].isna().all()
    assert fs.values.at["P1", "cd3_per_ul"] == pytest.approx(1000.0)
    why = fs.missing.set_index(["patient_id", "feature"])["reason"]
    assert why[("P1", "nk_cd107a_pct")] == "no function_assays table given"


def test_other_timepoint_gives_values_only_where_measured(make_cohort, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm["alc"] = np.where(imm["timepoint"] == "C3D1", 1.5, np.nan)  # the C3D1 sample's own lymphocyte count
    fs = build_features(make_cohort(immunophenotype=imm), timepoint="C3D1")
    # P1 at C3D1 has only a CD3+ row (99% of a missing Lymphocytes gate is still 99% of lymphocytes)
    assert fs.values.at["P1", "cd3_per_ul"] == pytest.approx(1.5 * 1000 * 0.99, rel=1e-12)
    assert fs.values.drop(columns="cd3_per_ul").loc["P1"].isna().all()
    assert fs.missing.set_index(["patient_id", "feature"]).at[("P1", "cd4_per_ul"), "reason"] == (
        "no row for gate 'Lymphocytes/CD3+/CD4+' at timepoint 'C3D1'"
    )
    assert fs.values.loc[["P2", "P3", "P4"]].isna().all().all()


def test_later_samples_never_borrow_the_baseline_lymphocyte_count(cohort):
    """After anti-CD20 therapy the ALC falls many-fold: a dual-platform count needs the sample's own ALC."""
    fs = build_features(cohort, timepoint="C3D1")
    assert np.isnan(fs.values.at["P1", "cd3_per_ul"])
    reason = fs.missing.set_index(["patient_id", "feature"]).at[("P1", "cd3_per_ul"), "reason"]
    assert reason.startswith("no alc for the 'C3D1' sample")
    assert build_features(cohort).values.at["P1", "cd3_per_ul"] == pytest.approx(2.0 * 1000 * 0.50, rel=1e-12)


def test_input_errors_name_the_source_file(make_cohort, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm.loc[3, "freq_of_parent"] = 101.0
    with pytest.raises(InputError, match="flow.csv"):
        derive_features(make_cohort(immunophenotype=imm))


def test_feature_set_displays_and_summarises(cohort):
    fs = build_features(cohort)
    assert isinstance(fs, FeatureSet)
    s = fs.summary()
    assert s.at["cd3_per_ul", "n"] == 3 and s.at["cd3_per_ul", "median"] == pytest.approx(1000.0)
    assert s.at["cd3_per_ul", "methods"] == "dual 2, bead 1"
    html = fs._repr_html_()
    assert "FeatureSet" in html and "cd4_cd8_ratio" in html
    assert "missing value" in repr(fs)
    assert "6 value(s) from gates with fewer than 100 events" in repr(fs)
    assert "t_function_score: readout t_synapse_index left out" in html
    assert list(fs.catalogue["feature"]) == list(fs.values.columns)


def test_missing_parent_gate_raises_or_is_recorded_for_every_feature_kind(make_cohort, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm = imm.loc[~((imm["patient_id"] == "P2") & (imm["gating_path"] == "Lymphocytes/CD3+/CD8+"))]
    # P2 keeps its PD-1+ row (child of the removed CD8+ gate)
    with pytest.raises(InputError, match="'P2'.*Lymphocytes/CD3\\+/CD8\\+/PD-1\\+"):
        derive_features(make_cohort(immunophenotype=imm))
    fs = build_features(make_cohort(immunophenotype=imm), errors="missing")
    why = fs.missing.set_index(["patient_id", "feature"])["reason"]
    assert why[("P2", "pd1_cd8_per_ul")] == "missing parent gate 'Lymphocytes/CD3+/CD8+'"
    # PD-1+ as percent of CD8+ is its own freq_of_parent and needs no other row
    assert fs.values.at["P2", "pd1_pct_of_cd8"] == pytest.approx(50.0)
    assert why[("P2", "cd8_per_ul")].startswith("no row for gate 'Lymphocytes/CD3+/CD8+'")
    assert fs.values.at["P2", "cd3_per_ul"] == pytest.approx(2400.0)
