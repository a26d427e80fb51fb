"""Formula models against R (glm, coxph, brglm2, logistf): factors, a changed reference
level, interactions, log transforms, spline bases, strata and drop1 term tests.

Fixtures: ``tests/reference/formulas.R`` (R data sets infert, survival::veteran, survival::lung).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import MissingDataWarning
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
REF = pd.read_csv(FIX / "formulas_reference.csv", keep_default_na=False)
RTOL = 1e-8


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"formulas_{name}.csv")


def ref(case: str, quantity: str) -> np.ndarray:
    rows = REF[(REF["case"] == case) & (REF["quantity"] == quantity)].sort_values("position")
    assert len(rows), (case, quantity)
    return rows["value"].astype(float).to_numpy()


LOGISTIC = {
    "glm_factor": ("infert", "case ~ age + C(education) + spontaneous + induced"),
    "glm_reference": ("infert", "case ~ age + C(education, Treatment('6-11yrs')) + spontaneous + induced"),
    "glm_interaction_log": ("infert", "case ~ C(education) * spontaneous + np.log(age)"),
    "glm_spline": ("infert", "case ~ bs(age, df=3) + spontaneous + induced"),
}
COX = {
    "cox_factor_strata": ("veteran", "Surv(time, status) ~ karno + C(celltype) + strata(prior)"),
    "cox_reference": ("veteran", "Surv(time, status) ~ karno + trt + C(celltype, Treatment('squamous'))"),
    "cox_interaction_log": ("lung", "Surv(time, status) ~ np.log(age) + C(sex) * ph_karno"),
    "cox_spline_strata": ("lung", "Surv(time, status) ~ bs(age, df=3) + ph_karno + strata(sex)"),
}


def cox(case: str, **kw):
    name, formula = COX[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)  # lung has missing ph.karno
        return fit_cox(data(name), formula=formula, **kw)


def _matches_r(res, case):
    """Estimates, standard errors, Wald p, log-likelihood and drop1() LR tests as R's fit of ``case``."""
    np.testing.assert_allclose(res.params, ref(case, "estimate"), rtol=RTOL)
    np.testing.assert_allclose(res.bse, ref(case, "std_error"), rtol=RTOL)
    np.testing.assert_allclose(res.pvalues, ref(case, "wald_p"), rtol=RTOL)
    assert res.llf == pytest.approx(ref(case, "loglik")[0], rel=RTOL)
    table = res.anova()
    np.testing.assert_array_equal(table["df"], ref(case, "drop1_df"))
    np.testing.assert_allclose(table["statistic"], ref(case, "drop1_lrt"), rtol=RTOL)
    np.testing.assert_allclose(table["p_value"], ref(case, "drop1_p"), rtol=RTOL)


@pytest.mark.parametrize("case", sorted(LOGISTIC))
def test_glm_formula_models_match_r(case):
    name, formula = LOGISTIC[case]
    res = fit_logistic(data(name), formula=formula, ci="wald")  # R's summary(glm): Wald p
    _matches_r(res, case)


def test_column_names_and_reference_levels_follow_formulaic_and_r():
    res = fit_logistic(data("infert"), formula=LOGISTIC["glm_reference"][1])
    names = list(res.params.index)
    assert names[2:4] == [
        "C(education, Treatment('6-11yrs'))[T.0-5yrs]",
        "C(education, Treatment('6-11yrs'))[T.12+ yrs]",
    ]
    table = res.summary().set_index("term")
    assert table.loc[names[2], "reference"] == "6-11yrs"
    assert pd.isna(table.loc["age", "reference"])
    assert "reference levels: C(education, Treatment('6-11yrs')) = 6-11yrs" in repr(res)
    inter = fit_logistic(data("infert"), formula=LOGISTIC["glm_interaction_log"][1])
    # marginality, as drop1: the main effects under the interaction are not tested
    assert list(inter.anova().index) == ["np.log(age)", "C(education):spontaneous"]


def test_text_covariate_is_dummy_coded_as_r_and_equals_the_formula():
    df = data("infert")
    by_columns = fit_logistic(df, "case", ["age", "education", "spontaneous", "induced"])
    assert list(by_columns.params.index) == [
        "Intercept",
        "age",
        "education[T.12+ yrs]",
        "education[T.6-11yrs]",
        "spontaneous",
        "induced",
    ]
    np.testing.assert_allclose(by_columns.params, ref("glm_factor", "estimate"), rtol=RTOL)
    assert by_columns.summary().set_index("term").loc["education[T.6-11yrs]", "reference"] == "0-5yrs"
    assert list(by_columns.anova().index) == ["age", "education", "spontaneous", "induced"]


def test_firth_formula_model_matches_brglm2_and_logistf():
    case = "firth_factor"
    res = fit_logistic(data("infert"), formula=LOGISTIC["glm_factor"][1], method="firth", ci="profile")
    np.testing.assert_allclose(res.params, ref(case, "brglm2_estimate"), rtol=RTOL)
    np.testing.assert_allclose(res.bse, ref(case, "brglm2_std_error"), rtol=RTOL)
    if not (REF["quantity"] == "lr_p").any() or not ((REF["case"] == case) & (REF["quantity"] == "lr_p")).any():
        pytest.skip("logistf was not available when the fixtures were written")
    np.testing.assert_allclose(res.params, ref(case, "estimate"), rtol=RTOL)
    assert res.llf == pytest.approx(ref(case, "loglik")[0], rel=RTOL)
    np.testing.assert_allclose(res.pvalues, ref(case, "lr_p"), rtol=RTOL)
    ci = res.conf_int()
    np.testing.assert_allclose(ci["lower"], ref(case, "ci_lower"), rtol=RTOL)
    np.testing.assert_allclose(ci["upper"], ref(case, "ci_upper"), rtol=RTOL)
    table = res.anova()  # logistf's drop1: each term fixed at 0 inside the full penalized model
    np.testing.assert_array_equal(table["df"], ref(case, "drop1_df"))
    np.testing.assert_allclose(table["statistic"], ref(case, "drop1_lrt"), rtol=RTOL)
    np.testing.assert_allclose(table["p_value"], ref(case, "drop1_p"), rtol=RTOL)


@pytest.mark.parametrize("case", sorted(COX))
def test_coxph_formula_models_match_r(case):
    res = cox(case, ci="wald")  # summary(coxph): Wald p
    assert res.nobs == ref(case, "nobs")[0]
    _matches_r(res, case)


@pytest.mark.parametrize("case", ["cox_factor_strata", "cox_interaction_log"])
def test_ml_cox_profile_reports_per_coefficient_lr_pvalues(case):
    res = cox(case)  # the package's default: profile intervals, LR p-values
    assert res.test == "lr" and res.ci_method == "profile"
    np.testing.assert_allclose(res.pvalues, ref(case, "lr_p"), rtol=RTOL)
    wald = cox(case, ci="wald")
    assert wald.test == "wald" and not np.allclose(wald.pvalues, res.pvalues, rtol=1e-3)


def test_cox_formula_with_missing_values_lists_the_patients_left_out():
    df = data("lung")
    with pytest.warns(MissingDataWarning):
        res = fit_cox(df, formula=COX["cox_interaction_log"][1])
    missing = df.loc[df["ph_karno"].isna(), "patient_id"].tolist()
    assert res.excluded["patient_id"].tolist() == missing
    assert set(res.excluded["reason"]) == {"missing ph_karno"}


def test_cox_formula_equals_column_arguments():
    df = data("veteran")
    by_formula = fit_cox(df, formula="Surv(time, status) ~ karno + celltype + strata(prior) + cluster(patient_id)")
    by_columns = fit_cox(df, "time", "status", ["karno", "celltype"], strata="prior", cluster="patient_id")
    pd.testing.assert_series_equal(by_formula.params, by_columns.params)
    pd.testing.assert_series_equal(by_formula.bse, by_columns.bse)
    assert by_formula.robust and by_formula.strata == ("prior",)
