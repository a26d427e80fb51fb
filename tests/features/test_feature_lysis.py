"""Lysis AUC over log2 E:T and lytic units, against hand-computed values."""

import math

import numpy as np
import pytest

from immune_correlates.errors import ConfigError, InputError
from immune_correlates.features import lysis_auc, lytic_units, parse_et_ratio
from immune_correlates.features.function import AssayTable
from immune_correlates.features.lysis import lysis_summary

PATIENTS = ["P1", "P2", "P3", "P4"]


@pytest.mark.parametrize(
    "text, ratio",
    [("E:T 40:1", 40.0), ("40:1", 40.0), ("E:T=40:1", 40.0), ("e:t 12.5:1", 12.5), (" E:T: 20:1 ", 20.0), ("1:2", 0.5)],
)
def test_parse_et_ratio_reads_common_spellings(text, ratio):
    assert parse_et_ratio(text) == ratio


@pytest.mark.parametrize("text", ["forty to one", "40", "E:T 40/1", "0:1", "E:T 40:1:1", ""])
def test_parse_et_ratio_rejects_other_text(text):
    with pytest.raises(ValueError):
        parse_et_ratio(text)


def test_auc_is_trapezoid_over_log2_et():
    # log2 E:T = log2 5 + (0, 1, 2, 3): unit steps, so AUC = sum of (y_i + y_i+1) / 2
    # (8 + 15)/2 + (15 + 28)/2 + (28 + 45)/2 = 11.5 + 21.5 + 36.5 = 69.5
    assert lysis_auc([40, 20, 10, 5], [45, 28, 15, 8]) == pytest.approx(69.5, rel=1e-12)


def test_auc_with_uneven_ratios_uses_log2_widths():
    # ratios 1, 4, 32 -> log2 = 0, 2, 5; widths 2 and 3
    # 2 x (10 + 20)/2 + 3 x (20 + 50)/2 = 30 + 105 = 135
    assert lysis_auc([1, 4, 32], [10, 20, 50]) == pytest.approx(135.0, rel=1e-12)


def test_auc_sets_negative_lysis_to_zero():
    # -3 -> 0: (0 + 4)/2 + (4 + 10)/2 + (10 + 22)/2 = 2 + 7 + 16 = 25
    assert lysis_auc([5, 10, 20, 40], [-3, 4, 10, 22]) == pytest.approx(25.0, rel=1e-12)
    assert math.isnan(lysis_auc([40], [30]))


def test_lytic_units_interpolate_on_log_et():
    lu, why = lytic_units([5, 10, 20, 40], [8, 15, 28, 45])
    # 20 % lies between 15 % (10:1) and 28 % (20:1): log E:T = log 10 + (20-15)/(28-15) x log 2
    # E:T_20 = 10 x 2^(5/13) = 13.05511; effectors for 20 % of 10^4 targets = 130551;
    # LU20 per 10^7 = 10^7 / 130551 = 100 / 2^(5/13)
    assert lu == pytest.approx(100 / 2 ** (5 / 13), rel=1e-12)
    assert lu == pytest.approx(76.5983, abs=1e-4)
    assert why == ""


def test_lytic_units_scale_with_targets_and_threshold():
    # ADCC of P2: 20 % between 15 % (20:1) and 25 % (40:1): E:T_20 = 20 x 2^(5/10) = 28.284
    # 10^4 targets: 10^7 / (28.284 x 10^4) = 35.355; 5 x 10^3 targets: twice that
    lu, _ = lytic_units([5, 10, 20, 40], [5, 10, 15, 25])
    assert lu == pytest.approx(1000 / (20 * math.sqrt(2)), rel=1e-12)
    lu_half, _ = lytic_units([5, 10, 20, 40], [5, 10, 15, 25], targets_per_well=5e3)
    assert lu_half == pytest.approx(2 * lu, rel=1e-12)
    # LU10: 10 % is reached exactly at 10:1 -> 10^7 / (10 x 10^4) = 100
    lu10, _ = lytic_units([5, 10, 20, 40], [5, 10, 15, 25], percent=10)
    assert lu10 == pytest.approx(100.0, rel=1e-12)


def test_lytic_units_are_not_extrapolated():
    lu, why = lytic_units([5, 10, 20, 40], [2, 5, 9, 14])
    assert math.isnan(lu) and "never reaches 20%" in why and "below 25 LU20" in why
    lu, why = lytic_units([5, 10, 20, 40], [25, 30, 45, 60])
    # already 25 % at 5:1: above 10^7 / (5 x 10^4) = 200 LU20
    assert math.isnan(lu) and "lowest E:T" in why and "above 200 LU20" in why


def test_lysis_summary_per_patient_parses_mixed_spellings(function_rows):
    table = AssayTable(function_rows(), "baseline")
    auc = lysis_summary(table, PATIENTS, "cytotoxicity", "NK", summary="auc")
    # P2 (ratios written '5:1', 'E:T=10:1', ...): (2+5)/2 + (5+9)/2 + (9+14)/2 = 3.5 + 7 + 11.5 = 22
    assert auc.values[["P1", "P2", "P3"]].tolist() == pytest.approx([69.5, 22.0, 25.0], rel=1e-12)
    assert np.isnan(auc.values["P4"]) and "no cytotoxicity/NK" in auc.reasons["P4"]
    lu = lysis_summary(table, PATIENTS, "adcc", "NK", summary="lytic_units")
    # P1 ADCC: 20 % between 12 % (5:1) and 30 % (10:1): E:T_20 = 5 x 2^(8/18); LU = 10^3 / E:T_20
    assert lu.values["P1"] == pytest.approx(1000 / (5 * 2 ** (8 / 18)), rel=1e-12)
    assert lu.method["P1"] == "lytic_units_20"


def test_unparseable_et_ratio_is_an_input_error_naming_sample(function_rows):
    rows = function_rows()
    rows.loc[(rows["patient_id"] == "P3") & (rows["condition"] == "E:T 20:1"), "condition"] = "E:T twenty"
    table = AssayTable(rows, "baseline", source="assays.csv")
    with pytest.raises(InputError) as err:
        lysis_summary(table, PATIENTS, "cytotoxicity", "NK")
    text = str(err.value)
    assert "'P3'" in text and "'baseline'" in text and "condition" in text and "E:T twenty" in text


def test_repeated_et_ratio_is_an_input_error(function_rows):
    rows = function_rows()
    rows.loc[(rows["patient_id"] == "P2") & (rows["condition"] == "5:1"), "condition"] = "E:T 10:1"
    with pytest.raises(InputError, match="same E:T ratio"):
        lysis_summary(AssayTable(rows, "baseline"), PATIENTS, "cytotoxicity", "NK")


def test_bad_summary_name_is_a_config_error(function_rows):
    with pytest.raises(ConfigError):
        lysis_summary(AssayTable(function_rows(), "baseline"), PATIENTS, "adcc", "NK", summary="ec50")
