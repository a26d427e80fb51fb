"""fit_logistic against R (glm, brglm2, and an R implementation of logistf's
profile penalized likelihood): tests/reference/logistic.R writes the fixtures."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import (
    ConvergenceWarning,
    ImmuneCorrelatesError,
    InputError,
    MissingDataError,
    MissingDataWarning,
    ModelError,
    SeparationWarning,
)
from immune_correlates.stats.engine.logistic_core import modified_score, newton_fit, penalized_loglik
from immune_correlates.stats.regression.logistic import LogisticResult, fit_logistic

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6
CI_RTOL = 1e-5
MODELS = {
    "infert": ("case", ["spontaneous", "induced", "age"]),
    "synthetic": ("y", ["x1", "x2"]),
    "endometrial": ("HG", ["NV", "PI", "EH"]),
}
CASES = [("infert", "ml"), ("synthetic", "ml"), ("infert", "firth"), ("synthetic", "firth"), ("endometrial", "firth")]


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"logistic_{name}.csv").set_index("patient_id")


def reference() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "logistic_reference.csv")


def ref(case: str, quantity: str, terms) -> np.ndarray:
    table = reference()
    sel = table[(table["case"] == case) & (table["quantity"] == quantity)].set_index("term")["value"]
    return sel.loc[list(terms)].to_numpy(dtype=float)


def fit(name: str, method: str, ci: str, **kw) -> LogisticResult:
    outcome, covs = MODELS[name]
    return fit_logistic(load(name), outcome, covs, method=method, ci=ci, **kw)


def terms_of(name: str) -> list[str]:
    return ["Intercept", *MODELS[name][1]]


@pytest.mark.parametrize("name,method", CASES)
def test_estimates_and_se_match_glm_or_brglm2(name, method):
    res = fit(name, method, "wald")
    case, terms = f"{name}_{method}", terms_of(name)
    assert list(res.params.index) == terms
    np.testing.assert_allclose(res.params, ref(case, "estimate", terms), rtol=RTOL)
    np.testing.assert_allclose(res.bse, ref(case, "std_error", terms), rtol=RTOL)
    np.testing.assert_allclose(res.pvalues, ref(case, "wald_p", terms), rtol=RTOL)
    assert res.test == "wald" and res.converged


@pytest.mark.parametrize("name", ["infert", "synthetic"])
def test_ml_wald_intervals_match_confint_default(name):
    res = fit(name, "ml", "wald")
    case, terms = f"{name}_ml", terms_of(name)
    ci = res.conf_int()
    np.testing.assert_allclose(ci["lower"], ref(case, "wald_lower", terms), rtol=CI_RTOL)
    np.testing.assert_allclose(ci["upper"], ref(case, "wald_upper", terms), rtol=CI_RTOL)
    ci90 = res.conf_int(alpha=0.1)
    np.testing.assert_allclose(ci90["lower"], ref(case, "wald90_lower", terms), rtol=CI_RTOL)
    np.testing.assert_allclose(ci90["upper"], ref(case, "wald90_upper", terms), rtol=CI_RTOL)


@pytest.mark.parametrize("name,method", CASES)
def test_loglik_null_lr_test_fitted_and_auc_match_r(name, method):
    res = fit(name, method, "wald")
    case = f"{name}_{method}"
    # llf is the penalized log-likelihood for Firth (computed from its definition in R)
    assert res.llf == pytest.approx(ref(case, "llf", ["model"])[0], rel=RTOL)
    assert res.llf_null == pytest.approx(ref(case, "llf_null", ["model"])[0], rel=RTOL)
    assert res.lr_statistic == pytest.approx(ref(case, "lr_statistic", ["model"])[0], rel=RTOL)
    assert res.lr_pvalue == pytest.approx(ref(case, "lr_pvalue", ["model"])[0], rel=RTOL)
    assert res.lr_df == len(MODELS[name][1])
    assert res.auc == pytest.approx(ref(case, "auc", ["model"])[0], rel=RTOL)
    assert res.nobs == ref(case, "nobs", ["model"])[0]
    assert res.n_events == ref(case, "n_events", ["model"])[0]
    fitted_terms = [f"fitted_{i + 1}" for i in range(res.nobs)]
    np.testing.assert_allclose(res.fitted, ref(case, "fitted", fitted_terms), rtol=RTOL)


@pytest.mark.parametrize("name,method", CASES)
def test_profile_intervals_and_lr_pvalues_match_r_definition(name, method):
    res = fit(name, method, "profile")
    case, terms = f"{name}_{method}", terms_of(name)
    assert res.test == "lr" and res.ci_method == "profile"
    np.testing.assert_allclose(res.pvalues, ref(case, "lr_p", terms), rtol=RTOL)
    ci = res.conf_int()
    np.testing.assert_allclose(ci["lower"], ref(case, "profile_lower", terms), rtol=CI_RTOL)
    np.testing.assert_allclose(ci["upper"], ref(case, "profile_upper", terms), rtol=CI_RTOL)


def test_profile_conf_int_at_other_alpha_is_recomputed_not_wald():
    res = fit("endometrial", "firth", "profile")
    terms = terms_of("endometrial")
    ci90 = res.conf_int(alpha=0.1)
    np.testing.assert_allclose(ci90["lower"], ref("endometrial_firth", "profile90_lower", terms), rtol=CI_RTOL)
    np.testing.assert_allclose(ci90["upper"], ref("endometrial_firth", "profile90_upper", terms), rtol=CI_RTOL)
    assert ci90.loc["NV", "upper"] < res.conf_int().loc["NV", "upper"]
    # a 90% profile interval fitted directly agrees with the recomputed one
    direct = fit("endometrial", "firth", "profile", alpha=0.1).conf_int()
    np.testing.assert_allclose(direct, ci90, rtol=1e-9)


def test_firth_endometrial_matches_heinze_schemper_2002_published_values():
    res = fit("endometrial", "firth", "profile")
    published = {"Intercept": 3.77, "NV": 2.93, "PI": -0.03, "EH": -2.60}
    for term, value in published.items():
        assert round(res.params[term], 2) == pytest.approx(value, abs=1e-9)
    ci = res.conf_int().loc["NV"]
    assert round(ci["lower"], 2) == pytest.approx(0.61) and round(ci["upper"], 2) == pytest.approx(7.85)


def test_perfectly_separating_feature_ml_warns_and_firth_is_finite():
    df = pd.DataFrame(
        {"cr": [0, 0, 0, 0, 1, 1, 1, 1], "nk_per_ul": [110.0, 150, 180, 230, 260, 300, 410, 520]},
        index=pd.Index([f"P{i}" for i in range(8)], name="patient_id"),
    )
    with pytest.warns(SeparationWarning, match=r"nk_per_ul.*method=\"firth\""):
        ml = fit_logistic(df, "cr", "nk_per_ul")
    assert ml.separation.kind == "complete"
    assert "nk_per_ul" in ml.separation.infinite_terms
    assert any("separation" in note for note in ml.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        firth = fit_logistic(df, "cr", "nk_per_ul", method="firth", ci="profile")
    assert np.all(np.isfinite(firth.params)) and np.all(np.isfinite(firth.bse))
    assert np.all(np.isfinite(firth.conf_int().to_numpy()))
    assert 0 < firth.params["nk_per_ul"] < 0.2
    assert firth.separation.separated and firth.auc == 1.0


def test_ml_on_quasi_separated_endometrial_warns_naming_nv_only():
    with pytest.warns(SeparationWarning, match="NV") as record:
        res = fit("endometrial", "ml", "profile")
    assert "PI" not in str(record[0].message) and "EH" not in str(record[0].message)
    assert res.separation.infinite_terms == ("NV",)
    # the profile likelihood of NV never falls: its upper end is infinite
    assert res.conf_int().loc["NV", "upper"] == np.inf
    assert np.isfinite(res.conf_int().loc["EH"]).all()


def test_constant_covariate_is_a_model_error_naming_it():
    df = load("endometrial").assign(site=3.0)
    with pytest.raises(ModelError, match="'site' is constant"):
        fit_logistic(df, "HG", ["PI", "site"])


def test_collinear_covariates_are_a_model_error_naming_them():
    df = load("endometrial")
    df["PI_x2_plus_EH"] = 2 * df["PI"] + df["EH"]
    with pytest.raises(ModelError, match="collinear") as info:
        fit_logistic(df, "HG", ["NV", "PI", "EH", "PI_x2_plus_EH"])
    message = str(info.value)
    assert "'PI'" in message and "'EH'" in message and "'PI_x2_plus_EH'" in message
    assert "'NV'" not in message


def test_missing_values_are_dropped_and_listed_or_refused():
    df = load("synthetic")
    df.loc[["P003", "P011"], "x1"] = np.nan
    df.loc["P020", "y"] = np.nan
    with pytest.warns(MissingDataWarning, match="P003"):
        res = fit_logistic(df, "y", ["x1", "x2"])
    assert res.nobs == 27
    assert res.excluded["patient_id"].tolist() == ["P003", "P011", "P020"]
    assert res.excluded["reason"].tolist() == ["missing x1", "missing x1", "missing y"]
    assert list(res.fitted.index) == [p for p in df.index if p not in ("P003", "P011", "P020")]
    with pytest.raises(MissingDataError, match="P011"):
        fit_logistic(df, "y", ["x1", "x2"], missing="raise")


def test_non_convergence_warns_and_is_recorded():
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        res = fit("infert", "firth", "wald", max_iter=2)
    assert not res.converged and res.n_iter == 2
    assert any("did not converge" in note for note in res.notes)


def test_non_numeric_covariate_error_names_patient_and_value():
    df = load("synthetic")
    df["x1"] = df["x1"].astype(object)
    df.loc["P007", "x1"] = "high"
    with pytest.raises(ImmuneCorrelatesError, match=r"'x1'[\s\S]*P007[\s\S]*'high'"):
        fit_logistic(df, "y", ["x1", "x2"])


def test_outcome_not_zero_one_error_names_patients_and_values():
    df = load("synthetic")
    df["y"] = df["y"].astype(object)
    df.loc["P002", "y"] = "CR"
    df.loc["P009", "y"] = 2
    with pytest.raises(InputError, match=r"0/1") as info:
        fit_logistic(df, "y", "x1")
    assert {r["patient_id"]: r["value"] for r in info.value.rows} == {"P002": "CR", "P009": 2}


def test_single_outcome_class_is_a_model_error():
    df = load("synthetic")
    with pytest.raises(ModelError, match="both outcomes"):
        fit_logistic(df[df["y"] == 0], "y", "x1")


def test_boolean_outcome_and_string_covariate_equal_numeric_list():
    df = load("synthetic")
    base = fit_logistic(df, "y", ["x1"], method="firth")
    as_bool = fit_logistic(df.assign(y=df["y"].astype(bool)), "y", "x1", method="firth")
    pd.testing.assert_series_equal(base.params, as_bool.params)


def test_intercept_only_model_has_closed_form_estimates():
    df = load("synthetic")
    k, n = int(df["y"].sum()), len(df)
    ml = fit_logistic(df, "y", [])
    assert list(ml.params.index) == ["Intercept"]
    assert ml.params["Intercept"] == pytest.approx(np.log(k / (n - k)), rel=1e-10)
    assert ml.bse["Intercept"] == pytest.approx(np.sqrt(n / (k * (n - k))), rel=1e-10)
    assert ml.lr_df == 0 and np.isnan(ml.lr_pvalue) and ml.llf_null == ml.llf
    firth = fit_logistic(df, "y", [], method="firth")  # Firth = add 1/2 to each cell
    assert firth.params["Intercept"] == pytest.approx(np.log((k + 0.5) / (n - k + 0.5)), rel=1e-10)


def test_case_weight_two_equals_duplicating_the_row():
    df = load("synthetic")
    doubled = pd.concat([df, df.loc[["P004", "P017"]]])
    weighted = df.assign(w=np.where(df.index.isin(["P004", "P017"]), 2.0, 1.0))
    for method in ("ml", "firth"):
        a = fit_logistic(doubled.reset_index(drop=True), "y", ["x1", "x2"], method=method, ci="profile")
        b = fit_logistic(weighted, "y", ["x1", "x2"], method=method, ci="profile", weights="w")
        np.testing.assert_allclose(b.params, a.params, rtol=1e-9)
        np.testing.assert_allclose(b.bse, a.bse, rtol=1e-9)
        np.testing.assert_allclose(b.conf_int(), a.conf_int(), rtol=1e-8)
        assert b.llf == pytest.approx(a.llf, rel=1e-12) and b.nobs == a.nobs == 32
        assert b.auc == pytest.approx(a.auc, rel=1e-12)


def test_core_weights_equal_duplicated_rows_for_score_loglik_and_fit():
    rng = np.random.default_rng(3)
    X = np.column_stack([np.ones(15), rng.normal(size=(15, 2))])
    y = (rng.random(15) < 0.5).astype(float)
    w = rng.integers(0, 4, size=15).astype(float)
    Xd, yd = np.repeat(X, w.astype(int), axis=0), np.repeat(y, w.astype(int))
    beta = np.array([0.2, -0.4, 0.7])
    assert penalized_loglik(beta, X, y, w) == pytest.approx(penalized_loglik(beta, Xd, yd, np.ones(len(yd))))
    np.testing.assert_allclose(modified_score(beta, X, y, w), modified_score(beta, Xd, yd, np.ones(len(yd))))
    np.testing.assert_allclose(
        newton_fit(X, y, w, firth=True).beta, newton_fit(Xd, yd, None, firth=True).beta, rtol=1e-9
    )


def test_core_batched_fit_equals_one_model_at_a_time():
    rng = np.random.default_rng(7)
    B, n = 6, 25
    X = np.concatenate([np.ones((B, n, 1)), rng.normal(size=(B, n, 1))], axis=2)
    y = (rng.random((B, n)) < 0.4).astype(float)
    X[0, :, 1] = np.where(y[0] > 0, 1.0, -1.0) + 0.01 * np.arange(n)  # one separated model
    w = rng.integers(0, 3, size=(B, n)).astype(float)
    batched = newton_fit(X, y, w, firth=True)
    assert batched.beta.shape == (B, 2) and batched.converged.all()
    for b in range(B):
        one = newton_fit(X[b], y[b], w[b], firth=True)
        np.testing.assert_allclose(batched.beta[b], one.beta, rtol=1e-10)
        assert batched.llf[b] == pytest.approx(one.llf, rel=1e-12)


def test_predict_reproduces_fitted_and_handles_new_rows():
    df = load("infert")
    res = fit("infert", "ml", "wald")
    np.testing.assert_allclose(res.predict(df), res.fitted, rtol=1e-12)
    new = pd.DataFrame({"spontaneous": [0, 2], "induced": [1, 0], "age": [30, 25]})
    b = res.params
    expected = 1 / (
        1
        + np.exp(
            -(
                b["Intercept"]
                + b["spontaneous"] * new["spontaneous"]
                + b["induced"] * new["induced"]
                + b["age"] * new["age"]
            )
        )
    )
    np.testing.assert_allclose(res.predict(new), expected, rtol=1e-12)


def test_summary_has_api_columns_and_odds_ratios_and_renders_html():
    res = fit("endometrial", "firth", "profile")
    table = res.summary()
    for col in ("term", "estimate", "std_error", "ci_lower", "ci_upper", "p_value", "odds_ratio"):
        assert col in table.columns
    np.testing.assert_allclose(table["odds_ratio"], np.exp(res.params.to_numpy()))
    np.testing.assert_allclose(table["odds_ratio_ci_lower"], np.exp(res.conf_int()["lower"].to_numpy()))
    html = res._repr_html_()
    assert "odds_ratio" in html and "Firth" in html and "separation" in html
    assert "AUC" in repr(res)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"method": "exact"}, "method"),
        ({"ci": "bootstrap"}, "ci"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ImmuneCorrelatesError, match=match):
        fit_logistic(load("synthetic"), "y", "x1", **kwargs)


def test_covariate_named_intercept_or_listed_twice_is_refused():
    df = load("synthetic").rename(columns={"x2": "Intercept"})
    with pytest.raises(ImmuneCorrelatesError, match="Intercept"):
        fit_logistic(df, "y", ["x1", "Intercept"])
    with pytest.raises(ImmuneCorrelatesError, match="more than once"):
        fit_logistic(load("synthetic"), "y", ["x1", "x1"])


def test_predict_names_patient_and_value_of_a_non_numeric_covariate():
    res = fit("synthetic", "ml", "wald")
    new = load("synthetic").astype({"x1": object})
    new.loc["P005", "x1"] = "n/a?"
    with pytest.raises(InputError, match=r"P005[\s\S]*n/a\?"):
        res.predict(new)
