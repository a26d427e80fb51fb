"""ph_test against survival::cox.zph(fit, transform = "km", terms = TRUE) of survival
3.5-3 (the score-test form; tests/reference/cox.R writes the fixtures): per-term and
GLOBAL chi-square, df and p, and the scaled Schoenfeld residuals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.ph_test import PHTestResult, ph_test

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6


def lung_cc() -> pd.DataFrame:
    lung = pd.read_csv(FIXTURES / "cox_lung.csv").set_index("patient_id")
    return lung.dropna(subset=["time", "event", "age", "sex", "ph_ecog"])


CASES = {
    "lung_efron": ("lung", ["age", "sex", "ph_ecog"], {}),
    "lung_breslow": ("lung", ["age", "sex", "ph_ecog"], {"ties": "breslow"}),
    "lung_strata_sex": ("lung", ["age", "ph_ecog"], {"strata": "sex"}),
    "lung_strata_sex_breslow": ("lung", ["age", "ph_ecog"], {"strata": "sex", "ties": "breslow"}),
    "lung_weights_efron": ("lung", ["age", "sex", "ph_ecog"], {"weights": "fw"}),
    "lung_intweights_breslow": ("lung", ["age", "sex", "ph_ecog"], {"weights": "wt", "ties": "breslow"}),
    "veteran_efron": ("veteran", ["karno", "trt", "smallcell", "adeno", "large"], {}),
    "ovarian_efron": ("ovarian", ["rx", "age", "ecog"], {}),
}


def run(case: str) -> tuple[PHTestResult, dict, list[str]]:
    data, covs, kwargs = CASES[case]
    d = lung_cc() if data == "lung" else pd.read_csv(FIXTURES / f"cox_{data}.csv")
    ref = json.loads((FIXTURES / "cox_fits.json").read_text())[case]
    return ph_test(fit_cox(d, "time", "event", covs, **kwargs)), ref, covs


@pytest.mark.parametrize("case", list(CASES))
def test_ph_table_matches_cox_zph_score_test(case):
    res, ref, covs = run(case)
    z = ref["zph"]
    assert list(res.table.index) == z["terms"] == covs + ["GLOBAL"]
    np.testing.assert_allclose(res.table["chisq"], z["chisq"], rtol=RTOL)
    np.testing.assert_array_equal(res.table["df"], z["df"])
    np.testing.assert_allclose(res.table["p_value"], z["p"], rtol=RTOL)


@pytest.mark.parametrize("case", list(CASES))
def test_scaled_schoenfeld_residuals_match_cox_zph(case):
    res, ref, covs = run(case)
    r = res.residuals
    np.testing.assert_allclose(r["time"], ref["zph_time"], rtol=0)
    np.testing.assert_allclose(r["transformed_time"], ref["zph_x"], rtol=1e-12, atol=1e-14)
    for c in covs:
        np.testing.assert_allclose(r[c], ref["zph_y"][c], rtol=RTOL)


def test_result_method_and_summary():
    d = lung_cc()
    fit = fit_cox(d, "time", "event", ["age", "sex"])
    res = fit.ph_test()
    assert res.transform == "km"
    assert list(res.summary().columns) == ["term", "chisq", "df", "p_value"]
    pd.testing.assert_frame_equal(res.table, ph_test(fit).table)
