"""The report's adjusted models take the right side of a formula from analysis.toml (data, never code)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import immune_correlates as ic
from immune_correlates.errors import ConfigError
from immune_correlates.report import AnalysisConfig, run_analysis
from immune_correlates.report.config import load_config


def test_adjustment_formula_is_read_as_data_and_vetted(tmp_path):
    cfg = tmp_path / "analysis.toml"
    cfg.write_text("[models]\nadjustment = \"~ age + C(sex, Treatment('M'))\"\n", encoding="utf-8")
    assert load_config(cfg).adjustment == "age + C(sex, Treatment('M'))"
    for bad in ("__import__('os').system('id')", "age + np.random.rand(age)", "I(age.real)"):
        with pytest.raises(ConfigError, match="adjustment"):
            load_config({"models": {"adjustment": bad}})
    with pytest.raises(ConfigError, match="not both"):
        load_config({"models": {"adjustment": "age", "covariates": ["age"]}})


@pytest.mark.slow  # more than two seconds: full suite only
def test_adjusted_report_models_are_the_formula_fits():
    features = ("nk_per_ul", "cd8_per_ul")
    config = AnalysisConfig(n_perm=0, features=features, adjustment="age + C(sex)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run_analysis(ic.datasets.load_ofa_len(), config)
    # the model tables are the formula fits of each (log2, per-SD) feature with the adjustment terms
    frame = results.frame.assign(
        z=_per_sd_log2(results.frame["nk_per_ul"]), w=_per_sd_log2(results.frame["cd8_per_ul"])
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ic.fit_logistic(frame, formula="cr ~ z + age + C(sex)", method=config.logistic, ci="profile")
        cox = ic.fit_cox(
            frame, formula="Surv(pfs_months, pfs_event) ~ w + age + C(sex)", method=config.cox, ci="profile"
        )
    assert list(fit.params.index) == ["Intercept", "z", "age", "C(sex)[T.M]"]
    assert list(fit.anova().index) == ["z", "age", "C(sex)"]
    row = results.tables["logistic_cr"].set_index("feature").loc["nk_per_ul"]
    assert row["estimate"] == pytest.approx(fit.params["z"], rel=1e-8)
    assert row["p_value"] == pytest.approx(fit.pvalues["z"], rel=1e-6)
    assert list(cox.params.index) == ["w", "age", "C(sex)[T.M]"]
    crow = results.tables["cox_pfs"].set_index("feature").loc["cd8_per_ul"]
    assert crow["estimate"] == pytest.approx(cox.params["w"], rel=1e-8)
    # the screens adjust for the same model-matrix columns
    frame = results.frame.assign(z=_per_sd_log2(results.frame["cd8_per_ul"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = ic.fit_logistic(frame, formula="cr ~ z + age + C(sex)", method="firth")
    screened = results.tables["screen_cr"].set_index("feature").loc["cd8_per_ul"]
    assert screened["n"] == direct.nobs
    np.testing.assert_allclose(screened["estimate"], direct.params["z"], rtol=1e-8)


def _per_sd_log2(x, offset=1.0):
    z = np.log2(x + offset)
    return (z - z.mean()) / z.std(ddof=1)
