"""Kaplan-Meier curves, bands, medians and restricted means against R survfit."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning
from immune_correlates.stats.survival.kaplan_meier import kaplan_meier

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6

CASES = {
    "lung_all": ("km_lung.csv", None),
    "lung_sex": ("km_lung.csv", "sex"),
    "ovarian_rx": ("km_ovarian.csv", "rx"),
    "ovarian_all": ("km_ovarian.csv", None),
    "flat_grp": ("km_flat.csv", "grp"),
}
CONF = {"log": "log", "loglog": "log-log", "plain": "plain"}


def _fit(case, conf, alpha=0.05):
    fname, group = CASES[case]
    data = pd.read_csv(FIX / fname)
    return kaplan_meier(data, "time", "event", group=group, conf_type=CONF[conf], alpha=alpha)


def _close(a, b, rtol=RTOL):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("conf", list(CONF))
@pytest.mark.parametrize("case", list(CASES))
def test_curve_std_err_and_band_match_survfit(case, conf):
    fit = _fit(case, conf)
    ref = pd.read_csv(FIX / f"km_table_{case}_{conf}.csv")
    assert fit.table["group"].astype(str).tolist() == ref["group"].astype(str).tolist()
    for col in ["time", "n_risk", "n_event", "n_censor", "survival", "std_err", "ci_lower", "ci_upper"]:
        _close(fit.table[col], ref[col])


@pytest.mark.parametrize("conf", list(CONF))
@pytest.mark.parametrize("case", list(CASES))
def test_median_ci_and_restricted_mean_match_print_survfit(case, conf):
    fit = _fit(case, conf)
    ref = pd.read_csv(FIX / f"km_median_{case}_{conf}.csv")
    med = fit.median()
    assert med.index.astype(str).tolist() == ref["group"].astype(str).tolist()
    for col in ["median", "ci_lower", "ci_upper"]:
        _close(med[col], ref[col])
    rm = fit.restricted_mean()
    _close(rm["rmean"], ref["rmean"])
    _close(rm["se_rmean"], ref["se_rmean"])


def test_median_is_midpoint_of_flat_segment_at_one_half():
    med = _fit("flat_grp", "log").median()
    assert med.loc["A", "median"] == 3.0  # S = 0.5 on [2, 4): midpoint
    assert med.loc["B", "median"] == 3.0  # S = 0.5 from 3 to the end: start


def test_ninety_percent_band_and_median_ci_match_survfit():
    fit = kaplan_meier(pd.read_csv(FIX / "km_lung.csv"), "time", "event", group="sex", alpha=0.1)
    ref = pd.read_csv(FIX / "km_table_lung_sex_log_90.csv")
    _close(fit.table["ci_lower"], ref["ci_lower"])
    _close(fit.table["ci_upper"], ref["ci_upper"])
    refm = pd.read_csv(FIX / "km_median_lung_sex_log_90.csv")
    _close(fit.median()["ci_lower"], refm["ci_lower"])
    _close(fit.median()["ci_upper"], refm["ci_upper"])


@pytest.mark.parametrize("conf", list(CONF))
@pytest.mark.parametrize("case", list(CASES))
def test_survival_at_with_extend_matches_summary_survfit_times(case, conf):
    fit = _fit(case, conf)
    ref = pd.read_csv(FIX / f"km_at_{case}_{conf}.csv")
    times = np.unique(ref["time"])
    got = fit.survival_at(times, extend=True)
    assert got["group"].astype(str).tolist() == ref["group"].astype(str).tolist()
    for col in ["time", "survival", "ci_lower", "ci_upper"]:
        _close(got[col], ref[col])


def test_survival_at_without_extend_is_nan_after_last_time():
    fit = _fit("flat_grp", "log")
    got = fit.survival_at([0.5, 6.5]).set_index("group")
    assert got.loc["A", "survival"].tolist()[0] == 1.0
    assert np.isnan(got.loc["A", "survival"].tolist()[1])  # A ends at 5
    assert got.loc["B", "survival"].tolist()[1] == 0.5  # B followed to 7


def test_categorical_group_keeps_category_order_and_missing_rows_are_reported():
    data = pd.read_csv(FIX / "km_lung.csv")
    data["sexc"] = pd.Categorical(data["sex"].map({1: "male", 2: "female"}), categories=["male", "female"])
    data.loc[[0, 5], "time"] = np.nan
    with pytest.warns(MissingDataWarning, match="L001"):
        fit = kaplan_meier(data, "time", "event", group="sexc")
    assert fit.groups == ["male", "female"]
    assert fit.excluded["patient_id"].tolist() == ["L001", "L006"]
    assert {"median", "rmean", "n_events"} <= set(fit.summary().columns)
    assert "Kaplan-Meier" in fit._repr_html_()


def test_bad_event_coding_is_an_error_naming_the_patient():
    data = pd.read_csv(FIX / "km_lung.csv")
    data["status"] = data["event"] + 1
    with pytest.raises(ImmuneCorrelatesError, match="L001"):
        kaplan_meier(data, "time", "status")
