"""Firth-penalized Cox (Heinze & Schemper 2001) against an independent R implementation
from the definition (coxphf is unavailable; see tests/reference/cox.R), and detection of
monotone likelihood in ML fits."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from immune_correlates.errors import MonotoneLikelihoodWarning
from immune_correlates.stats.regression.cox import fit_cox

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6
CI_RTOL = 1e-5


def lung60() -> pd.DataFrame:
    lung = pd.read_csv(FIXTURES / "cox_lung.csv").set_index("patient_id")
    return lung.dropna(subset=["time", "event", "age", "sex", "ph_ecog"]).iloc[:60]


def monotone() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "cox_monotone.csv").set_index("patient_id")


CASES = {
    "ovarian_rx_age": (lambda: pd.read_csv(FIXTURES / "cox_ovarian.csv"), ["rx", "age"], "breslow"),
    "lung60_breslow": (lung60, ["sex", "ph_ecog"], "breslow"),
    "lung60_efron": (lung60, ["sex", "ph_ecog"], "efron"),
    "monotone_group_cd8": (monotone, ["group", "cd8"], "breslow"),
    "monotone_group": (monotone, ["group"], "breslow"),
}


def run(case: str, **kwargs):
    load, covs, ties = CASES[case]
    ref = json.loads((FIXTURES / "cox_firth.json").read_text())[case]
    res = fit_cox(load(), "time", "event", covs, method="firth", ties=ties, **kwargs)
    return res, ref, covs


@pytest.mark.parametrize("case", list(CASES))
def test_firth_estimates_ses_and_penalized_loglik_match_reference(case):
    res, ref, covs = run(case)
    assert res.method == "firth" and res.converged
    np.testing.assert_allclose(res.params[covs], pd.Series(ref["coef"])[covs], rtol=RTOL)
    np.testing.assert_allclose(res.bse[covs], pd.Series(ref["se"])[covs], rtol=RTOL)
    np.testing.assert_allclose(res.llf, ref["loglik"], rtol=RTOL)


@pytest.mark.parametrize("case", list(CASES))
def test_firth_profile_intervals_and_penalized_lr_pvalues_match_reference(case):
    res, ref, covs = run(case, ci="profile")
    ci = res.conf_int()
    np.testing.assert_allclose(ci.loc[covs, "lower"], pd.Series(ref["ci_lower"])[covs], rtol=CI_RTOL)
    np.testing.assert_allclose(ci.loc[covs, "upper"], pd.Series(ref["ci_upper"])[covs], rtol=CI_RTOL)
    assert res.test == "lr"
    np.testing.assert_allclose(res.pvalues[covs], pd.Series(ref["p_lr"])[covs], rtol=RTOL)


def test_firth_wald_intervals_use_inverse_information_se():
    res, _ref, _covs = run("ovarian_rx_age", ci="wald")
    ci = res.conf_int()
    np.testing.assert_allclose(ci["upper"] - res.params, 1.959963984540054 * res.bse, rtol=1e-12)
    # Wald intervals go with Wald p-values (one method per row; coxphf's penalized LR p-values are the default)
    assert res.ci_method == res.test == "wald"
    np.testing.assert_allclose(res.pvalues, 2 * norm.sf(np.abs(res.params / res.bse)), rtol=1e-12)
    assert run("ovarian_rx_age")[0].test == "lr"


def test_firth_profile_interval_at_other_alpha_is_narrower():
    res, _, _ = run("monotone_group", ci="profile")
    ci90 = res.conf_int(alpha=0.10)
    ci95 = res.conf_int()
    assert (ci90["lower"] > ci95["lower"]).all() and (ci90["upper"] < ci95["upper"]).all()


def test_monotone_likelihood_warns_naming_covariate_and_suggesting_firth():
    with pytest.warns(MonotoneLikelihoodWarning, match=r"group.*firth"):
        res = fit_cox(monotone(), "time", "event", ["group", "cd8"])
    assert any("monotone" in n for n in res.notes)
    assert res.params["group"] > 10  # diverged
    assert "cd8" not in " ".join(n for n in res.notes if "monotone" in n)


def test_firth_on_monotone_data_is_finite_and_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_cox(monotone(), "time", "event", ["group", "cd8"], method="firth", ci="profile")
    ci = res.conf_int()
    assert np.isfinite(res.params).all() and np.isfinite(ci.to_numpy()).all()
    assert res.summary()["hazard_ratio"].iloc[0] > 1
