"""The report's tables are the package's own estimators on the documented transforms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import immune_correlates as ic
from immune_correlates.report import AnalysisConfig, run_analysis


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(ic.datasets.load_ofa_len(), AnalysisConfig(n_perm=200))


def _per_sd_log2(x, offset=1.0):
    z = np.log2(x + offset)
    return (z - z.mean()) / z.std(ddof=1)


@pytest.mark.slow  # more than two seconds: full suite only
def test_logistic_row_is_firth_profile_fit_per_sd_of_log2_count(results):
    frame = results.frame.assign(z=_per_sd_log2(results.frame["nk_per_ul"]))
    fit = ic.fit_logistic(frame, "cr", ["z"], method="firth", ci="profile")
    row = results.tables["logistic_cr"].set_index("feature").loc["nk_per_ul"]
    np.testing.assert_allclose(
        row[["estimate", "ci_lower", "ci_upper", "p_value"]].astype(float),
        [fit.params["z"], *fit.conf_int().loc["z"], fit.pvalues["z"]],
        rtol=1e-9,
    )
    assert row["scale"].startswith("per SD of log2(nk_per_ul + 1)")


def test_cox_row_and_screen_agree_with_single_fits(results):
    frame = results.frame.assign(z=results.frame["t_function_score"] / results.frame["t_function_score"].std(ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ic.fit_cox(frame, "pfs_months", "pfs_event", ["z"], ci="profile")
    row = results.tables["cox_pfs"].set_index("feature").loc["t_function_score"]
    np.testing.assert_allclose(
        [row["estimate"], row["ci_lower"], row["ci_upper"]], [fit.params["z"], *fit.conf_int().loc["z"]], rtol=1e-8
    )
    screened = results.tables["screen_pfs"].set_index("feature").loc["t_function_score"]
    assert screened["n"] == fit.nobs and screened["n_events"] == fit.n_events
    np.testing.assert_allclose(screened["estimate"], fit.params["z"], rtol=1e-8)


def test_every_patient_gap_of_the_run_is_in_the_exclusions(results):
    excl = results.exclusions
    assert set(excl.columns) == {"step", "patient_id", "reason"}
    for feature in ("t_function_score", "nk_function_score"):
        missing = set(results.frame.index[results.frame[feature].isna()])
        for model in ("logistic", "cox"):
            assert missing and missing <= set(excl.loc[excl["step"] == f"{model}:{feature}", "patient_id"])
