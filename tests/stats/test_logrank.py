"""Log-rank, G-rho, stratified and trend tests against R survdiff."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning
from immune_correlates.stats.survival.logrank import logrank_test

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6


@pytest.fixture(scope="module")
def lung():
    return pd.read_csv(FIX / "km_lung.csv")


def _check(res, ref):
    np.testing.assert_allclose(res.statistic, ref["chisq"].iloc[0], rtol=RTOL)
    np.testing.assert_allclose(res.pvalue, ref["p"].iloc[0], rtol=RTOL)
    assert res.df == ref["df"].iloc[0]
    np.testing.assert_allclose(res.table["observed"], ref["observed"], rtol=RTOL)
    np.testing.assert_allclose(res.table["expected"], ref["expected"], rtol=RTOL)
    np.testing.assert_array_equal(res.table["n"], ref["n"])


def test_two_group_logrank_matches_survdiff_on_lung_sex(lung):
    _check(logrank_test(lung, "time", "event", "sex"), pd.read_csv(FIX / "logrank_lung_sex.csv"))


def test_four_group_logrank_matches_survdiff_on_lung_ecog(lung):
    with pytest.warns(MissingDataWarning):
        res = logrank_test(lung, "time", "event", "ph_ecog")
    _check(res, pd.read_csv(FIX / "logrank_lung_ecog.csv"))
    assert len(res.excluded) == 1


def test_stratified_logrank_matches_survdiff_with_strata_sex(lung):
    with pytest.warns(MissingDataWarning):
        res = logrank_test(lung, "time", "event", "ph_ecog", strata="sex")
    _check(res, pd.read_csv(FIX / "logrank_lung_ecog_strata_sex.csv"))


def test_peto_peto_weights_match_survdiff_rho_1(lung):
    _check(logrank_test(lung, "time", "event", "sex", rho=1), pd.read_csv(FIX / "logrank_lung_sex_rho1.csv"))


def test_small_sample_logrank_matches_survdiff_on_ovarian():
    ov = pd.read_csv(FIX / "km_ovarian.csv")
    _check(logrank_test(ov, "time", "event", "rx"), pd.read_csv(FIX / "logrank_ovarian_rx.csv"))


@pytest.mark.parametrize(
    "case,scores,strata",
    [("ecog_1k", None, None), ("ecog_scores", [0, 1, 2, 5], None), ("ecog_strata_1k", None, "sex")],
)
def test_trend_test_matches_formula_on_survdiff_o_e_and_variance(lung, case, scores, strata):
    ref = pd.read_csv(FIX / "logrank_trend.csv").set_index("case").loc[case]
    with pytest.warns(MissingDataWarning):
        res = logrank_test(lung, "time", "event", "ph_ecog", strata=strata, trend=True, scores=scores)
    assert res.df == 1
    np.testing.assert_allclose(res.statistic, ref["statistic"], rtol=RTOL)
    np.testing.assert_allclose(res.pvalue, ref["p"], rtol=RTOL)


def test_summary_has_test_columns_and_a_single_group_is_an_error(lung):
    res = logrank_test(lung, "time", "event", "sex")
    assert {"group", "observed", "expected", "statistic", "p_value"} <= set(res.summary().columns)
    assert "chi2" in res._repr_html_()
    with pytest.raises(ImmuneCorrelatesError, match="at least 2"):
        logrank_test(lung[lung["sex"] == 1], "time", "event", "sex")


def test_two_stratification_columns_match_survdiff_with_strata_of_both(lung):
    data = lung.assign(old=(lung["age"] > 65).astype(int))
    with pytest.warns(MissingDataWarning):
        res = logrank_test(data, "time", "event", "ph_ecog", strata=["sex", "old"])
    _check(res, pd.read_csv(FIX / "logrank_lung_ecog_strata_sex_old.csv"))
    assert res.strata == "sex, old"


def test_group_hazard_ratios_match_coxph_with_factor_groups(lung):
    """coxph(Surv(time, event) ~ factor(ph_ecog)): every ECOG group against ECOG 0."""
    from immune_correlates.stats.survival.hazard_ratios import group_hazard_ratios

    ref = pd.read_csv(FIX / "hr_lung_ecog.csv")
    with pytest.warns(MissingDataWarning, match="L014"):  # the one patient without ECOG is named
        res = group_hazard_ratios(lung, "time", "event", "ph_ecog", ci="wald")  # summary(coxph): Wald
    assert res.attrs["excluded"]["patient_id"].tolist() == ["L014"]
    assert res["reference"].tolist() == [0.0] * 3 and res["group"].tolist() == [1.0, 2.0, 3.0]
    for col in ("hazard_ratio", "ci_lower", "ci_upper", "p_value"):
        np.testing.assert_allclose(res[col], ref[col], rtol=RTOL)
    assert res["n"].tolist() == ref["n"].tolist() and res["n_events"].tolist() == ref["n_events"].tolist()


def test_group_hazard_ratios_refuse_patients_outside_the_levels_instead_of_counting_them_as_reference(lung):
    """A level left out of ``levels=`` would turn its patients into reference patients: an error names them."""
    from immune_correlates.errors import InputError
    from immune_correlates.stats.survival.hazard_ratios import group_hazard_ratios

    with pytest.warns(MissingDataWarning), pytest.raises(InputError, match="outside levels") as err:
        group_hazard_ratios(lung, "time", "event", "ph_ecog", levels=[0.0, 1.0, 2.0])
    assert "ph_ecog" in str(err.value) and err.value.rows == [
        {"patient_id": "L028", "value": 3.0}
    ]  # the one ECOG 3 patient
