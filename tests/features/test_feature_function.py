"""Background-subtracted readouts, stimulated-only readouts and their input checks."""

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ConfigError, InputError
from immune_correlates.features import background_subtract
from immune_correlates.features.function import AssayTable

PATIENTS = ["P1", "P2", "P3", "P4"]


def _table(rows):
    return AssayTable(rows, "baseline", source="assays.csv")


def test_background_subtract_floors_at_zero_and_flags_background_above_signal():
    value, above = background_subtract([12.5, 1.0, np.nan], [2.0, 3.0, 1.0])
    # 12.5 - 2.0 = 10.5; 1.0 - 3.0 = -2 -> 0 (flagged); NaN stays NaN (not flagged)
    np.testing.assert_array_equal(value, [10.5, 0.0, np.nan])
    np.testing.assert_array_equal(above, [False, True, False])


def test_percent_positive_is_stimulated_minus_unstimulated(function_rows):
    comp = _table(function_rows()).readout(PATIENTS, "cd107a", "NK")
    # P1: 22 - 2 = 20; P2: 11.5 - 1.5 = 10; P3: 3 - 5 < 0 -> 0, flagged
    assert comp.values[["P1", "P2", "P3"]].tolist() == pytest.approx([20.0, 10.0, 0.0], rel=1e-12)
    assert comp.flags["P3"].startswith("unstimulated above stimulated")
    assert comp.flags["P1"] == ""
    assert comp.method["P1"] == "background_subtracted"
    assert np.isnan(comp.values["P4"]) and "no cd107a/NK (%) row" in comp.reasons["P4"]


def test_cell_type_and_unit_select_the_rows(function_rows):
    table = _table(function_rows())
    cd8 = table.readout(PATIENTS, "ifng", "cd8 t")  # case-insensitive cell type
    # P1: 10.5 - 0.5 = 10; P2: 5 - 1 = 4; P3: 2.2 - 0.2 = 2
    assert cd8.values[["P1", "P2", "P3"]].tolist() == pytest.approx([10.0, 4.0, 2.0], rel=1e-12)
    pct = table.readout(PATIENTS, "proliferation", "T", "%")
    # percent divided: P1 45 - 5 = 40; P2 25 - 5 = 20; P3 12 - 2 = 10
    assert pct.values[["P1", "P2", "P3"]].tolist() == pytest.approx([40.0, 20.0, 10.0], rel=1e-12)
    index = table.readout(PATIENTS, "proliferation", "T", "index", background="none")
    assert index.values[["P1", "P2"]].tolist() == [1.2, 0.8]
    assert index.method["P1"] == "stimulated" and np.isnan(index.values["P3"])


def test_stimulated_without_unstimulated_control_is_an_input_error(function_rows):
    rows = function_rows()
    drop = (rows["patient_id"] == "P2") & (rows["assay"] == "tnf") & (rows["condition"] == "unstimulated")
    with pytest.raises(InputError) as err:
        _table(rows.loc[~drop]).readout(PATIENTS, "tnf", "CD8 T")
    text = str(err.value)
    assert "'P2'" in text and "'baseline'" in text and "condition" in text
    assert "'stimulated'" in text and "unstimulated control" in text and "assays.csv" in text


def test_percent_above_100_in_an_assay_is_an_input_error(function_rows):
    rows = function_rows()
    rows.loc[
        (rows["patient_id"] == "P1")
        & (rows["assay"] == "ifng")
        & (rows["cell_type"] == "NK")
        & (rows["condition"] == "stimulated"),
        "value",
    ] = 160.0
    with pytest.raises(InputError) as err:
        _table(rows)
    text = str(err.value)
    assert "'P1'" in text and "'baseline'" in text and "value" in text and "160.0" in text


def test_lysis_above_100_and_negative_index_are_input_errors(function_rows):
    rows = function_rows()
    rows.loc[rows.index[-1], "value"] = 101.0
    with pytest.raises(InputError, match="101.0"):
        _table(rows)
    rows = function_rows()
    rows.loc[(rows["assay"] == "synapse"), "value"] = -0.5
    with pytest.raises(InputError, match="-0.5"):
        _table(rows)


def test_unknown_unit_is_an_input_error(function_rows):
    rows = function_rows()
    rows.loc[0, "unit"] = "percent"
    with pytest.raises(InputError, match="unit"):
        _table(rows)


def test_bad_background_option_is_a_config_error(function_rows):
    with pytest.raises(ConfigError):
        _table(function_rows()).readout(PATIENTS, "cd107a", "NK", background="divide")


def test_empty_assay_selection_gives_reasons_for_everyone(function_rows):
    comp = _table(function_rows()).readout(PATIENTS, "granzyme", "NK")
    assert comp.values.isna().all()
    assert set(comp.reasons) == {"no granzyme/NK (%) row at timepoint 'baseline'"}


def test_no_rows_at_timepoint_is_not_an_error(function_rows):
    table = AssayTable(function_rows(), "C3D1")
    comp = table.readout(PATIENTS, "cd107a", "NK")
    assert comp.values.isna().all()
    assert isinstance(comp.values, pd.Series)


def test_unstimulated_without_stimulated_is_missing_with_reason(function_rows):
    rows = function_rows()
    drop = (rows["patient_id"] == "P1") & (rows["assay"] == "tnf") & (rows["condition"] == "stimulated")
    comp = _table(rows.loc[~drop]).readout(PATIENTS, "tnf", "CD8 T")
    assert np.isnan(comp.values["P1"])
    assert comp.reasons["P1"] == "no stimulated tnf/CD8 T (%) row (only other conditions)"
    assert comp.values["P2"] == pytest.approx(2.0)  # 3 - 1


def test_one_readout_in_two_units_is_refused_by_name_when_the_panel_names_no_unit():
    """Without a unit the readout would be ambiguous (% or index): an InputError naming file, patient and rows."""
    rows = pd.DataFrame(
        {
            "patient_id": ["P1", "P1", "P1"],
            "timepoint": "baseline",
            "assay": "ki67",
            "cell_type": "CD8",
            "condition": ["stimulated", "stimulated", "unstimulated"],
            "unit": ["%", "index", "%"],
            "value": [10.0, 2.0, 1.0],
        }
    )
    table = _table(rows)
    with pytest.raises(InputError) as err:
        table.readout(["P1"], "ki67", "CD8", unit=None)
    text = str(err.value)
    assert "assays.csv" in text and "P1" in text and "value='index'" in text and "in different units" in text
    assert table.readout(["P1"], "ki67", "CD8", unit="%").values["P1"] == 9.0  # with its unit: one row
