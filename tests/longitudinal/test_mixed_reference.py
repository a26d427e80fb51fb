"""fit_mixed against lme4 1.1-31, lmerTest 3.1-3 and pbkrtest 0.5.2 (tests/reference/mixed.R).

Tolerances are 1e-6 relative, with two documented exceptions:

* p-values below 1e-10 are compared at 1e-5.  lmerTest differentiates the
  deviance numerically (numDeriv), so its Satterthwaite df carry an error of
  ~1e-7 relative, and its type III contrasts are rounded to 7 significant
  digits (``zapsmall``), which moves F by ~1e-8; far in the tail (p = 5.6e-14,
  4e-167) a p-value's relative error is that error times ~|log p|, up to 3e-6.
  Ours are computed from exact derivatives and contrasts.
* ``theta`` of the singular fit (Dyestuff2, a variance estimated as 0) is 0 in
  R and ~1e-24 here: compared absolutely.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"

#: case -> (data set, formula, reml)
CASES = {
    "ri": ("sleepstudy", "Reaction ~ Days + (1 | Subject)", True),
    "slopes": ("sleepstudy", "Reaction ~ Days + (Days | Subject)", True),
    "slopes_ml": ("sleepstudy", "Reaction ~ Days + (Days | Subject)", False),
    "uncorr": ("sleepstudy", "Reaction ~ Days + (Days || Subject)", True),
    "slope_only": ("sleepstudy", "Reaction ~ Days + (0 + Days | Subject)", True),
    "missing": ("sleepstudy_missing", "Reaction ~ Days + (Days | Subject)", True),
    "diet": ("chick", "weight ~ Time * Diet + (Time | Chick)", True),
    "diet_ml": ("chick", "weight ~ Time * Diet + (1 | Chick)", False),
    "diet_only": ("chick", "weight ~ Diet + (1 | Chick)", True),
    "nested": ("pastes", "strength ~ 1 + (1 | batch/cask)", True),
    "crossed": ("penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", True),
    "singular": ("dyestuff2", "Yield ~ 1 + (1 | Batch)", True),
}


def data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"mixed_data_{name}.csv", dtype={"patient_id": str})


def reference() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "mixed_reference.csv", keep_default_na=False, dtype={"term": str})


def python_name(r_name: str) -> str:
    """R's coefficient or term name as formulaic names it: ``(Intercept)`` -> ``Intercept``, ``DietB`` -> ``Diet[T.B]``."""
    if r_name == "(Intercept)":
        return "Intercept"
    return ":".join(re.sub(r"^Diet([A-Z])$", r"Diet[T.\1]", part) for part in r_name.split(":"))


def values(ref: pd.DataFrame, case: str, quantity: str) -> pd.Series:
    rows = ref[(ref["case"] == case) & (ref["quantity"] == quantity)]
    return pd.Series(rows["value"].astype(float).to_numpy(), index=[python_name(t) for t in rows["term"]])


RTOL = 1e-6

REF = reference()
REML_CASES = [c for c, (_, _, reml) in CASES.items() if reml]


def _fit(case: str, **kw):
    name, formula, reml = CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.SingularFitWarning)
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        return ic.fit_mixed(data(name), formula, reml=reml, **kw)


@pytest.fixture(scope="module")
def fits():
    return {case: _fit(case) for case in CASES}


@pytest.fixture(scope="module")
def kr_fits():
    return {case: _fit(case, df="kenward-roger") for case in REML_CASES}


def _close(ours, theirs, rtol=RTOL, what=""):
    ours = np.asarray(ours, dtype=float)
    theirs = np.asarray(theirs, dtype=float)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, err_msg=what)


def _pvalues(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    tail = theirs < 1e-10
    _close(ours[~tail], theirs[~tail], what=what)
    _close(ours[tail], theirs[tail], rtol=1e-5, what=what + " (p < 1e-10, see the module docstring)")


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_satterthwaite_tests_equal_lmerTest(case, fits):
    fit = fits[case]
    est = values(REF, case, "estimate")
    assert list(fit.params.index) == list(est.index)  # formulaic names, R's order
    _close(fit.params, est, what="estimate")
    _close(fit.bse, values(REF, case, "std_error"), what="std_error")
    _close(fit.df, values(REF, case, "df"), what="df")
    _close(fit.tvalues, values(REF, case, "statistic"), what="t")
    _pvalues(fit.pvalues, values(REF, case, "p_value"), "p_value")
    _close([fit.sigma], values(REF, case, "sigma"), what="sigma")
    _close([fit.llf], values(REF, case, "llf"), what="logLik")
    _close([fit.aic], values(REF, case, "aic"), what="AIC")
    assert fit.nobs == int(values(REF, case, "nobs").iloc[0])
    groups = values(REF, case, "n_groups")
    assert fit.n_groups == {g: int(k) for g, k in groups.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_theta_and_variance_components_equal_lme4(case, fits):
    fit = fits[case]
    theta = values(REF, case, "theta").to_numpy()
    if case == "singular":
        np.testing.assert_allclose(fit.theta.to_numpy(), theta, atol=1e-10)
        assert fit.singular and bool(values(REF, case, "singular").iloc[0])
    else:
        _close(fit.theta, theta, what="theta")
        assert not fit.singular and not bool(values(REF, case, "singular").iloc[0])
    rows = REF[(REF["case"] == case) & (REF["quantity"] == "vc_variance")]
    keys = [k.split("|") for k in rows["term"]]
    vc = fit.variance_components
    assert [g.split(".")[0] for g, _, _ in keys] == list(vc["group"])
    assert [python_name(t) if t else "" for _, t, _ in keys] == list(vc["term"])
    assert [python_name(t) if t else "" for _, _, t in keys] == list(vc["term2"])
    sdcor = REF[(REF["case"] == case) & (REF["quantity"] == "vc_sdcor")]["value"].astype(float).to_numpy()
    is_pair = vc["term2"] != ""
    atol = 1e-12 if case == "singular" else 0
    np.testing.assert_allclose(vc["variance"], rows["value"].astype(float), rtol=RTOL, atol=atol)
    np.testing.assert_allclose(vc["std_dev"][~is_pair], sdcor[~is_pair], rtol=RTOL, atol=atol)
    np.testing.assert_allclose(vc["corr"][is_pair], sdcor[is_pair], rtol=RTOL)


@pytest.mark.parametrize("case", list(CASES))
def test_type_iii_anova_equals_lmerTest(case, fits):
    table = fits[case].anova()
    den = values(REF, case, "anova_den_df")
    assert list(table.index) == list(den.index)
    assert list(table.columns) == ["num_df", "den_df", "statistic", "p_value"]
    _close(table["num_df"], values(REF, case, "anova_num_df"), what="NumDF")
    _close(table["den_df"], den, what="DenDF")
    _close(table["statistic"], values(REF, case, "anova_statistic"), what="F")
    _pvalues(table["p_value"], values(REF, case, "anova_p_value"), "Pr(>F)")


@pytest.mark.parametrize("case", REML_CASES)
def test_kenward_roger_equals_pbkrtest(case, kr_fits):
    fit = kr_fits[case]
    assert fit.df_method == "kenward-roger"
    _close(np.diag(fit.cov), values(REF, case, "kr_vcov_diag"), what="vcovAdj")
    _close(fit.bse, values(REF, case, "kr_std_error"), what="adjusted SE")
    _close(fit.df, values(REF, case, "kr_df"), what="KR df")
    _close(fit.tvalues, values(REF, case, "kr_statistic"), what="t")
    _pvalues(fit.pvalues, values(REF, case, "kr_p_value"), "p_value")
    table = fit.anova()
    _close(table["num_df"], values(REF, case, "kr_anova_num_df"), what="NumDF")
    _close(table["den_df"], values(REF, case, "kr_anova_den_df"), what="DenDF")
    _close(table["statistic"], values(REF, case, "kr_anova_statistic"), what="scaled F")
    _pvalues(table["p_value"], values(REF, case, "kr_anova_p_value"), "Pr(>F)")


def test_the_reference_itself_is_at_the_optimum():
    """mixed.R polishes lme4's fit; its remaining gradient is far below what would move theta by 1e-6."""
    grads = REF[REF["quantity"] == "max_grad"]["value"].astype(float)
    assert grads.max() < 1e-7


def test_rows_with_missing_values_are_listed_by_patient():
    name, formula, _ = CASES["missing"]
    frame = data(name)
    with pytest.warns(ic.MissingDataWarning, match="left out 6"):
        fit = ic.fit_mixed(frame, formula)
    gone = frame.loc[frame["Reaction"].isna(), "patient_id"].tolist()
    assert fit.excluded["patient_id"].tolist() == gone
    assert set(fit.excluded["reason"]) == {"missing Reaction"}
    assert fit.nobs == len(frame) - len(gone)
    assert any("6 row(s) excluded" in line for line in fit._notes())
