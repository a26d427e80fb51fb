"""Absolute counts: dual platform and bead counting against hand-computed cells/uL."""

import numpy as np
import pytest

from immune_correlates.errors import ConfigError, InputError
from immune_correlates.features import bead_count, dual_platform_count
from immune_correlates.features.counts import absolute_count
from immune_correlates.features.populations import GateTable


def _count(rows, clinical, path, method="auto", imm=None):
    table = GateTable(rows() if imm is None else imm, "baseline", source="flow.csv")
    return absolute_count(table, clinical(), path, method)


def test_dual_platform_formula_uses_1000_cells_per_ul_per_10e9_per_l(immunophenotype_rows, clinical_rows):
    # 2.5 x 10^9/L = 2500 cells/uL; 30% of them = 750 cells/uL
    assert dual_platform_count(2.5, 0.30) == pytest.approx(750.0, rel=1e-12)


def test_bead_formula_events_over_beads_times_beads_per_ul(immunophenotype_rows, clinical_rows):
    # 6000 / 10000 x 50000 beads / 50 uL = 0.6 x 1000 = 600 cells/uL
    assert bead_count(6000, 10000, 50000, 50) == pytest.approx(600.0, rel=1e-12)


def test_auto_counts_dual_without_beads_and_bead_with_beads(GATES, immunophenotype_rows, clinical_rows):
    comp = _count(immunophenotype_rows, clinical_rows, GATES["cd4"])
    # P1 dual: 2.0 x 1000 x 50% x 60% = 600 cells/uL; P3 dual: 1.0 x 1000 x 20% x 50% = 100
    assert comp.values["P1"] == pytest.approx(600.0, rel=1e-12)
    assert comp.values["P3"] == pytest.approx(100.0, rel=1e-12)
    # P2 bead: 6000 CD4 events / 5000 bead events x 50000 beads / 50 uL = 1200 cells/uL
    assert comp.values["P2"] == pytest.approx(1200.0, rel=1e-12)
    assert comp.method.to_dict() == {"P1": "dual", "P2": "bead", "P3": "dual", "P4": ""}
    assert comp.events["P2"] == 6000


def test_forced_dual_on_a_bead_sample_uses_the_alc(GATES, immunophenotype_rows, clinical_rows):
    comp = _count(immunophenotype_rows, clinical_rows, GATES["cd3"], "dual")
    # P2: alc 5.0 -> 5000 cells/uL x 40% CD3+ = 2000 (the bead count would be 2400)
    assert comp.values["P2"] == pytest.approx(2000.0, rel=1e-12)
    assert comp.method["P2"] == "dual"


def test_forced_bead_without_bead_data_is_missing_with_reason(GATES, immunophenotype_rows, clinical_rows):
    comp = _count(immunophenotype_rows, clinical_rows, GATES["cd3"], "bead")
    assert np.isnan(comp.values["P1"])
    assert "bead method requested" in comp.reasons["P1"]
    # P2 bead: 12000 / 5000 x 50000 / 50 = 2400 cells/uL
    assert comp.values["P2"] == pytest.approx(2400.0, rel=1e-12)


def test_bead_data_given_once_per_sample_applies_to_every_gate(GATES, immunophenotype_rows, clinical_rows):
    imm = immunophenotype_rows()
    p2_child = (imm["patient_id"] == "P2") & (imm["gating_path"] != GATES["lymph"])
    imm.loc[p2_child, ["bead_events", "beads_per_tube", "sample_volume_ul"]] = np.nan
    comp = _count(immunophenotype_rows, clinical_rows, GATES["nk"], imm=imm)
    # P2: 1800 NK events / 5000 x 50000 / 50 = 360 cells/uL, by beads from the Lymphocytes row
    assert comp.values["P2"] == pytest.approx(360.0, rel=1e-12)
    assert comp.method["P2"] == "bead"


def test_dual_count_without_alc_is_missing_with_reason(GATES, immunophenotype_rows, clinical_rows):
    table = GateTable(immunophenotype_rows(), "baseline")
    clinical = clinical_rows().assign(alc=[np.nan, 5.0, 1.0, 3.0])
    comp = absolute_count(table, clinical, GATES["cd3"])
    assert np.isnan(comp.values["P1"]) and "no alc" in comp.reasons["P1"]
    assert comp.values["P2"] == pytest.approx(2400.0)  # bead counting does not need the alc


def test_zero_beads_is_an_input_error_naming_the_sample(GATES, immunophenotype_rows, clinical_rows):
    imm = immunophenotype_rows()
    imm.loc[(imm["patient_id"] == "P2") & (imm["gating_path"] == GATES["cd3"]), "bead_events"] = 0.0
    with pytest.raises(InputError) as err:
        _count(immunophenotype_rows, clinical_rows, GATES["cd3"], imm=imm)
    text = str(err.value)
    assert "'P2'" in text and "'baseline'" in text and "bead_events" in text and "0.0" in text
    assert "flow.csv" in text


def test_unknown_count_method_is_a_config_error(GATES, immunophenotype_rows, clinical_rows):
    with pytest.raises(ConfigError, match="count method"):
        _count(immunophenotype_rows, clinical_rows, GATES["cd3"], "trucount")
