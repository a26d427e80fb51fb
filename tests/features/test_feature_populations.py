"""Population frequencies: products of freq_of_parent along the gating path (hand-computed)."""

import numpy as np
import pandas as pd
import pytest

from immune_correlates.data.gating import split_path
from immune_correlates.errors import InputError
from immune_correlates.features import population_frequencies
from immune_correlates.features.populations import GateTable


def test_split_path_lists_ancestors_root_first():
    assert split_path("Lymphocytes / CD3+/CD4+") == ["Lymphocytes", "Lymphocytes/CD3+", "Lymphocytes/CD3+/CD4+"]


def test_frequency_among_lymphocytes_multiplies_along_the_path(GATES, immunophenotype_rows):
    freq = population_frequencies(immunophenotype_rows(), [GATES["cd4"], GATES["treg"], GATES["dim"]])
    # P1: CD4 = 50% x 60% = 30%; Treg = 50% x 60% x 10% = 3%; CD56dim = 50% x 20% x 80% = 8%
    assert freq.loc["P1", GATES["cd4"]] == pytest.approx(30.0, rel=1e-12)
    assert freq.loc["P1", GATES["treg"]] == pytest.approx(3.0, rel=1e-12)
    assert freq.loc["P1", GATES["dim"]] == pytest.approx(8.0, rel=1e-12)
    # P2: CD4 = 40% x 50% = 20%; P3: CD56dim = 80% x 5% x 70% = 2.8%
    assert freq.loc["P2", GATES["cd4"]] == pytest.approx(20.0, rel=1e-12)
    assert freq.loc["P3", GATES["dim"]] == pytest.approx(2.8, rel=1e-12)


def test_frequency_of_leukocytes_includes_the_root_gate_and_other_ancestors_work(GATES, immunophenotype_rows):
    imm = immunophenotype_rows()
    leuk = population_frequencies(imm, [GATES["cd8"]], of=None)
    # P1: 40% lymphocytes x 50% CD3+ x 30% CD8+ = 6% of leukocytes
    assert leuk.loc["P1", GATES["cd8"]] == pytest.approx(6.0, rel=1e-12)
    of_cd3 = population_frequencies(imm, [GATES["pd1"]], of=GATES["cd3"])
    # P2: PD-1+ among CD3+ = 40% CD8 x 50% PD-1 = 20%
    assert of_cd3.loc["P2", GATES["pd1"]] == pytest.approx(20.0, rel=1e-12)


def test_other_timepoints_do_not_leak_into_baseline(GATES, immunophenotype_rows):
    imm = immunophenotype_rows()
    base = population_frequencies(imm, [GATES["cd3"]], timepoint="baseline")
    later = population_frequencies(imm, [GATES["cd3"]], timepoint="C3D1")
    assert base.loc["P1", GATES["cd3"]] == pytest.approx(50.0)
    assert list(later.index) == ["P1"] and later.iloc[0, 0] == pytest.approx(99.0)


def test_absent_population_is_nan_with_reason(GATES, immunophenotype_rows):
    table = GateTable(immunophenotype_rows(), "baseline")
    comp = table.fraction(GATES["pd1"])
    assert np.isnan(comp.values["P3"])
    assert "no row for gate 'Lymphocytes/CD3+/CD8+/PD-1+'" in comp.reasons["P3"]


def test_missing_parent_gate_raises_naming_sample_column_and_value(GATES, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm = imm.loc[
        ~((imm["patient_id"] == "P1") & (imm["gating_path"] == GATES["cd3"]) & (imm["timepoint"] == "baseline"))
    ]
    with pytest.raises(InputError) as err:
        population_frequencies(imm, [GATES["cd4"]], source="flow.csv")
    text = str(err.value)
    assert "'P1'" in text and "'baseline'" in text and "gating_path" in text
    assert "Lymphocytes/CD3+/CD4+" in text and "flow.csv" in text
    assert err.value.rows[0]["missing_parent"] == "Lymphocytes/CD3+"


def test_missing_parent_gate_can_be_left_missing_with_reason(GATES, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm = imm.loc[~((imm["patient_id"] == "P1") & (imm["gating_path"] == GATES["cd3"]))]
    comp = GateTable(imm, "baseline").fraction(GATES["cd4"], errors="missing")
    assert np.isnan(comp.values["P1"])
    assert comp.reasons["P1"] == "missing parent gate 'Lymphocytes/CD3+'"
    assert comp.values["P2"] == pytest.approx(0.2)


def test_percent_above_100_is_an_input_error_naming_sample_and_value(GATES, immunophenotype_rows):
    imm = immunophenotype_rows()
    imm.loc[(imm["patient_id"] == "P2") & (imm["gating_path"] == GATES["cd8"]), "freq_of_parent"] = 140.0
    with pytest.raises(InputError) as err:
        population_frequencies(imm, [GATES["cd8"]], source="flow.csv")
    text = str(err.value)
    assert "'P2'" in text and "'baseline'" in text and "freq_of_parent" in text and "140.0" in text
    assert err.value.column == "freq_of_parent"


def test_repeated_gate_for_a_sample_is_an_input_error(immunophenotype_rows):
    imm = immunophenotype_rows()
    imm = pd.concat([imm, imm.iloc[[1]]], ignore_index=True)
    with pytest.raises(InputError, match="more than once"):
        population_frequencies(imm)
