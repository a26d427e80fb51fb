"""FlowJo table export -> long immunophenotype format (tests/data/flowjo_export.csv)."""

from pathlib import Path

import pandas as pd
import pytest

from immune_correlates.errors import InputError
from immune_correlates.features import population_frequencies, read_flowjo
from immune_correlates.features.counts import absolute_count
from immune_correlates.features.populations import GateTable

DATA = Path(__file__).resolve().parents[1] / "data"
EXPORT, SAMPLE_MAP = DATA / "flowjo_export.csv", DATA / "flowjo_sample_map.csv"


def test_export_becomes_long_rows_and_summary_rows_are_ignored():
    long = read_flowjo(EXPORT, SAMPLE_MAP)
    # 3 samples x 6 gates (the Beads gate and the Median statistic are not populations)
    assert len(long) == 18
    assert "Beads" not in set(long["gating_path"])
    # the Beads gate count becomes bead_events of every row of its sample
    assert set(long.loc[long["patient_id"] == "P02", "bead_events"]) == {6000.0}
    assert set(long["patient_id"]) == {"P01", "P02"}
    row = long.set_index(["patient_id", "timepoint", "gating_path"]).loc[("P02", "baseline", "Lymphocytes/CD3+/CD8+")]
    assert row["freq_of_parent"] == 50.0 and row["event_count"] == 1500.0
    assert row["beads_per_tube"] == 50000.0 and row["sample_volume_ul"] == 50.0


def test_frequencies_from_the_export_match_hand_products():
    freq = population_frequencies(read_flowjo(EXPORT, SAMPLE_MAP))
    # P01 baseline: CD4 = 60% x 55% = 33%; NK = 40% x 12.5% = 5%; P02: CD8 = 50% x 50% = 25%
    assert freq.at["P01", "Lymphocytes/CD3+/CD4+"] == pytest.approx(33.0, rel=1e-12)
    assert freq.at["P01", "Lymphocytes/CD3-/CD56+"] == pytest.approx(5.0, rel=1e-12)
    assert freq.at["P02", "Lymphocytes/CD3+/CD8+"] == pytest.approx(25.0, rel=1e-12)
    later = population_frequencies(read_flowjo(EXPORT, SAMPLE_MAP), timepoint="C3D1")
    # P01 C3D1: CD8 = 70% x 40% = 28%
    assert later.at["P01", "Lymphocytes/CD3+/CD8+"] == pytest.approx(28.0, rel=1e-12)


def test_bead_gate_gives_single_platform_counts():
    long = read_flowjo(EXPORT, SAMPLE_MAP)
    table = GateTable(long, "baseline")
    clinical = pd.DataFrame({"alc": [float("nan"), float("nan")]}, index=pd.Index(["P01", "P02"], name="patient_id"))
    cd4 = absolute_count(table, clinical, "Lymphocytes/CD3+/CD4+")
    # P01: 2970 CD4 events / 4500 bead events x 50000 beads / 50 uL = 660 cells/uL
    # P02: 1200 / 6000 x 50000 / 50 = 200 cells/uL
    assert cd4.values.tolist() == pytest.approx([660.0, 200.0], rel=1e-12)
    assert cd4.method.tolist() == ["bead", "bead"]


def test_sample_map_as_dict():
    mapping = {
        "Specimen_001_P01_BL.fcs": ("P01", "baseline"),
        "Specimen_002_P02_BL.fcs": ("P02", "baseline"),
        "Specimen_003_P01_C3D1.fcs": ("P01", "C3D1"),
    }
    long = read_flowjo(EXPORT, mapping)
    assert len(long) == 18 and "beads_per_tube" not in long.columns
    # without the bead gate, Beads is read as a (parentless) population with only a count
    plain = read_flowjo(EXPORT, mapping, bead_gate=None)
    assert len(plain) == 21 and "bead_events" not in plain.columns


def test_unmapped_sample_is_an_input_error_listing_it():
    mapping = {"Specimen_001_P01_BL.fcs": ("P01", "baseline")}
    with pytest.raises(InputError) as err:
        read_flowjo(EXPORT, mapping)
    assert "Specimen_002_P02_BL.fcs" in str(err.value) and "flowjo_export.csv" in str(err.value)


def test_non_numeric_cell_names_sample_patient_column_and_value():
    frame = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)
    frame.loc[1, "Lymphocytes/CD3+/CD4+ | Freq. of Parent"] = "n/a"
    with pytest.raises(InputError) as err:
        read_flowjo(frame, SAMPLE_MAP)
    text = str(err.value)
    assert "Specimen_002_P02_BL.fcs" in text and "'P02'" in text and "'baseline'" in text
    assert "Lymphocytes/CD3+/CD4+ | Freq. of Parent" in text and "n/a" in text


def test_percent_above_100_in_the_export_is_an_input_error():
    frame = pd.read_csv(EXPORT, dtype=str, keep_default_na=False)
    frame.loc[0, "Lymphocytes/CD3+ | Freq. of Parent"] = "160"
    with pytest.raises(InputError, match="'P01'.*freq_of_parent = 160.0"):
        read_flowjo(frame, SAMPLE_MAP)


def test_bead_count_quality_row_adds_the_bead_counting_error():
    from immune_correlates.features.quality import quality_rows

    table = GateTable(read_flowjo(EXPORT, SAMPLE_MAP), "baseline")
    clinical = pd.DataFrame({"alc": [float("nan"), float("nan")]}, index=pd.Index(["P01", "P02"], name="patient_id"))
    rows, _, _ = quality_rows("cd4_per_ul", absolute_count(table, clinical, "Lymphocytes/CD3+/CD4+"), 100, False)
    # P01: 2970 cell events over 4500 bead events; P02: 1200 over 6000 (two independent Poisson counts)
    assert rows["poisson_cv"].tolist() == pytest.approx(
        [(1 / 2970 + 1 / 4500) ** 0.5, (1 / 1200 + 1 / 6000) ** 0.5], rel=1e-12
    )
