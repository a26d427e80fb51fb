"""fit_cox against survival::coxph 3.5-3 (tests/reference/cox.R writes the fixtures):
estimates, model-based and robust SEs, log-likelihoods and the three model tests on
lung, veteran and ovarian, with Efron and Breslow ties, strata, weights and clusters."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import (
    ImmuneCorrelatesError,
    MissingDataError,
    MissingDataWarning,
    ModelError,
)
from immune_correlates.stats.regression._model import RegressionResult
from immune_correlates.stats.regression.cox import CoxResult, fit_cox

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6
LUNG_COLS = ["time", "event", "age", "sex", "ph_ecog"]
LUNG3 = ["age", "sex", "ph_ecog"]


def fits() -> dict:
    return json.loads((FIXTURES / "cox_fits.json").read_text())


def lung_cc() -> pd.DataFrame:
    lung = pd.read_csv(FIXTURES / "cox_lung.csv").set_index("patient_id")
    return lung.dropna(subset=LUNG_COLS)


# name in cox_fits.json -> (data, covariates, fit_cox keyword arguments)
CASES = {
    "lung_efron": ("lung", LUNG3, {}),
    "lung_breslow": ("lung", LUNG3, {"ties": "breslow"}),
    "lung_strata_sex": ("lung", ["age", "ph_ecog"], {"strata": "sex"}),
    "lung_strata_sex_breslow": ("lung", ["age", "ph_ecog"], {"strata": "sex", "ties": "breslow"}),
    "lung_robust": ("lung", LUNG3, {"robust": True}),
    "lung_robust_breslow": ("lung", LUNG3, {"robust": True, "ties": "breslow"}),
    "lung_cluster_inst": ("lung_inst", LUNG3, {"cluster": "inst"}),
    "lung_strata_robust": ("lung", ["age", "ph_ecog"], {"strata": "sex", "robust": True}),
    # coxph turns robust on by itself for non-integer weights
    "lung_weights_efron": ("lung", LUNG3, {"weights": "fw", "robust": True}),
    "lung_weights_breslow": ("lung", LUNG3, {"weights": "fw", "ties": "breslow", "robust": True}),
    "lung_weights_robust": ("lung", LUNG3, {"weights": "fw", "robust": True}),
    "lung_intweights_breslow": ("lung", LUNG3, {"weights": "wt", "ties": "breslow"}),
    "veteran_efron": ("veteran", ["karno", "trt", "smallcell", "adeno", "large"], {}),
    "ovarian_efron": ("ovarian", ["rx", "age", "ecog"], {}),
    "ovarian_breslow": ("ovarian", ["rx", "age", "ecog"], {"ties": "breslow"}),
}


def data_for(name: str) -> pd.DataFrame:
    if name == "lung":
        return lung_cc()
    if name == "lung_inst":
        d = lung_cc()
        return d[d["inst"].notna()]
    return pd.read_csv(FIXTURES / f"cox_{name}.csv").set_index("patient_id")


def fit_case(case: str) -> tuple[CoxResult, dict, list[str]]:
    data, covs, kwargs = CASES[case]
    return fit_cox(data_for(data), "time", "event", covs, **kwargs), fits()[case], covs


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_model_ses_match_coxph(case):
    res, ref, covs = fit_case(case)
    np.testing.assert_allclose(res.params[covs], pd.Series(ref["coef"])[covs], rtol=RTOL)
    naive = pd.Series(ref.get("se_naive", ref["se"]))[covs]
    np.testing.assert_allclose(np.sqrt(np.diag(res.cov_naive.loc[covs, covs])), naive, rtol=RTOL)
    np.testing.assert_allclose(res.bse[covs], pd.Series(ref["se"])[covs], rtol=RTOL)
    assert res.nobs == ref["n"] and res.n_events == ref["nevent"]


@pytest.mark.parametrize("case", list(CASES))
def test_loglik_and_model_tests_match_coxph(case):
    res, ref, _ = fit_case(case)
    np.testing.assert_allclose([res.llf_null, res.llf], ref["loglik"], rtol=RTOL)
    for ours, theirs in [
        ("lr", "logtest"),
        ("score", "sctest"),
        ("wald", "waldtest"),
        ("robust_score", "robust_sctest"),
    ]:
        if theirs not in ref:
            assert ours not in res.model_tests.index
            continue
        row = res.model_tests.loc[ours]
        np.testing.assert_allclose([row["statistic"], row["df"], row["p_value"]], ref[theirs], rtol=RTOL)


def test_robust_se_differs_from_model_se_and_wald_p_uses_it():
    res, _ref, _covs = fit_case("lung_robust")
    assert res.robust
    assert not np.allclose(res.bse, np.sqrt(np.diag(res.cov_naive)))
    z = res.params / res.bse
    from scipy import stats

    np.testing.assert_allclose(res.pvalues, 2 * stats.norm.sf(np.abs(z)), rtol=1e-12)


def test_result_is_regression_result_with_hazard_ratio_summary():
    res, _, covs = fit_case("lung_efron")
    assert isinstance(res, RegressionResult)
    summ = res.summary()
    assert list(summ["term"]) == covs
    np.testing.assert_allclose(summ["hazard_ratio"], np.exp(res.params.to_numpy()))
    for col in ["estimate", "std_error", "ci_lower", "ci_upper", "p_value", "hazard_ratio_ci_lower"]:
        assert col in summ
    assert "<table" in res._repr_html_()
    assert "Cox" in repr(res)


def test_profile_intervals_bracket_estimate_and_are_near_wald_for_large_sample():
    d = lung_cc()
    wald = fit_cox(d, "time", "event", LUNG3, ci="wald").conf_int()
    prof = fit_cox(d, "time", "event", LUNG3)  # profile intervals are the default
    ci = prof.conf_int()
    assert (ci["lower"] < prof.params).all() and (prof.params < ci["upper"]).all()
    np.testing.assert_allclose(ci.to_numpy(), wald.to_numpy(), rtol=0.05, atol=1e-3)
    # each end is where the profile LR statistic crosses chi2_1(0.95)
    from immune_correlates.stats.engine.cox_fit import constrained_llf

    for k in range(3):
        for end in ci.iloc[k]:
            llf_k = constrained_llf(
                prof.model.data, prof.params.to_numpy(), k, end, firth=False, tol=1e-10, max_iter=100
            )
            assert 2 * (prof.llf - llf_k) == pytest.approx(3.841458820694124, abs=1e-6)


def test_integer_weights_equal_row_duplication_breslow():
    d = lung_cc()
    dup = d.loc[d.index.repeat(d["wt"].astype(int))]
    a = fit_cox(d, "time", "event", LUNG3, ties="breslow", weights="wt")
    b = fit_cox(dup.reset_index(drop=True), "time", "event", LUNG3, ties="breslow")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)
    np.testing.assert_allclose(a.llf, b.llf, rtol=1e-12)


def test_frequency_weights_equal_row_duplication_efron():
    d = lung_cc()
    dup = d.loc[d.index.repeat(d["wt"].astype(int))]
    a = fit_cox(d, "time", "event", LUNG3, weights="wt", frequency_weights=True)
    b = fit_cox(dup.reset_index(drop=True), "time", "event", LUNG3)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)
    np.testing.assert_allclose(a.llf, b.llf, rtol=1e-12)
    # coxph's own convention (mean weight per tied death) differs with tied events
    c = fit_cox(d, "time", "event", LUNG3, weights="wt")
    assert not np.allclose(c.params, b.params, rtol=1e-6)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("frequency", [False, True])
def test_zero_weight_rows_are_the_same_as_dropping_them(ties, frequency):
    d = lung_cc().copy()
    d["w01"] = (np.arange(len(d)) % 4 != 0).astype(float)
    a = fit_cox(d, "time", "event", LUNG3, weights="w01", ties=ties, frequency_weights=frequency)
    b = fit_cox(d[d["w01"] > 0], "time", "event", LUNG3, ties=ties)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)


def test_efron_equals_breslow_without_tied_event_times():
    d = data_for("ovarian")
    a = fit_cox(d, "time", "event", ["rx", "age"])
    b = fit_cox(d, "time", "event", ["rx", "age"], ties="breslow")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-12)


def test_row_order_does_not_change_the_fit():
    d = lung_cc()
    a = fit_cox(d, "time", "event", ["age", "ph_ecog"], strata="sex")
    b = fit_cox(d.sample(frac=1.0, random_state=3), "time", "event", ["age", "ph_ecog"], strata="sex")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.linear_predictor.loc[d.index], b.linear_predictor.loc[d.index], rtol=1e-9)


def test_boolean_event_is_accepted():
    d = lung_cc().copy()
    d["event_b"] = d["event"].astype(bool)
    a = fit_cox(d, "time", "event_b", LUNG3)
    np.testing.assert_allclose(a.params, fit_cox(d, "time", "event", LUNG3).params, rtol=1e-12)


def test_event_not_zero_one_is_an_error_naming_patient_and_value():
    d = lung_cc().copy()
    d.loc["L004", "event"] = 2
    with pytest.raises(ImmuneCorrelatesError, match=r"L004.*2"):
        fit_cox(d, "time", "event", LUNG3)


@pytest.mark.parametrize("bad", [-5.0, np.inf])
def test_negative_or_infinite_duration_is_an_error_naming_patient(bad):
    d = lung_cc().astype({"time": float})
    d.loc["L007", "time"] = bad
    with pytest.raises(ImmuneCorrelatesError, match="L007"):
        fit_cox(d, "time", "event", LUNG3)


def test_no_events_is_a_model_error():
    d = lung_cc().copy()
    d["event"] = 0
    with pytest.raises(ModelError, match="no events"):
        fit_cox(d, "time", "event", LUNG3)


def test_constant_covariate_is_a_model_error_naming_it():
    d = lung_cc().copy()
    d["one"] = 1.0
    with pytest.raises(ModelError, match="one"):
        fit_cox(d, "time", "event", ["age", "one"])


def test_missing_rows_are_dropped_recorded_and_warned():
    lung = pd.read_csv(FIXTURES / "cox_lung.csv").set_index("patient_id")
    with pytest.warns(MissingDataWarning):
        res = fit_cox(lung, "time", "event", LUNG3)
    assert len(res.excluded) == len(lung) - res.nobs == 1
    assert res.excluded["reason"].str.contains("ph_ecog").all()
    with pytest.raises(MissingDataError):
        fit_cox(lung, "time", "event", LUNG3, missing="raise")
    np.testing.assert_allclose(res.params, pd.Series(fits()["lung_efron"]["coef"])[LUNG3], rtol=RTOL)


def test_bad_arguments_are_errors():
    d = lung_cc()
    with pytest.raises(ImmuneCorrelatesError, match="ties"):
        fit_cox(d, "time", "event", LUNG3, ties="exact")
    with pytest.raises(ImmuneCorrelatesError, match="method"):
        fit_cox(d, "time", "event", LUNG3, method="bayes")
    with pytest.raises(ImmuneCorrelatesError, match="robust"):
        fit_cox(d, "time", "event", LUNG3, method="firth", robust=True)
    with pytest.raises(ImmuneCorrelatesError, match="not found"):
        fit_cox(d, "time", "event", ["age", "nope"])


def test_no_warning_on_a_regular_fit():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_cox(lung_cc(), "time", "event", LUNG3)


def test_too_few_iterations_warn_convergence_and_are_recorded():
    from immune_correlates.errors import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="max_iter"):
        res = fit_cox(lung_cc(), "time", "event", LUNG3, max_iter=1)
    assert not res.converged and res.n_iter == 1
    assert any("converge" in n for n in res.notes)
