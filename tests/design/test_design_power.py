"""power(): type I error at its nominal level, Schoenfeld's power, reproducibility, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from immune_correlates.data.design import OFA_LEN_DESIGN, TrialDesign
from immune_correlates.design import (
    CoxAnalysis,
    LogisticAnalysis,
    LogrankAnalysis,
    PowerResult,
    ScreenAnalysis,
    make_analysis,
    power,
    power_curve,
    run_power_cli,
)
from immune_correlates.errors import ConfigError, ParameterError

ALPHA = 0.05


@pytest.mark.parametrize("name", ["firth", "logistic_lr", "wilcoxon", "cox", "firth_cox"])
def test_type_one_error_is_nominal_within_three_monte_carlo_se(name):
    analysis = make_analysis(name)
    null = analysis.null_design(OFA_LEN_DESIGN)
    res = power(null, analysis, n_sim=2000, seed=20240, null=False)
    se = np.sqrt(ALPHA * (1 - ALPHA) / 2000)
    assert abs(res.power - ALPHA) < 3 * se, (name, res.power)


def test_logrank_type_one_error_is_nominal_within_three_monte_carlo_se_at_200_patients():
    # at 34 patients the chi-square log-rank test is slightly liberal (about 0.058 in 20,000 trials),
    # a property of the test (the batched statistic equals logrank_test), so its size is pinned at n = 200
    analysis = make_analysis("logrank")
    res = power(analysis.null_design(OFA_LEN_DESIGN), analysis, n_sim=2000, seed=20240, null=False, n_patients=200)
    se = np.sqrt(ALPHA * (1 - ALPHA) / 2000)
    assert abs(res.power - ALPHA) < 3 * se, res.power


def test_logrank_power_of_two_equal_groups_agrees_with_schoenfeld():
    # binary +-1 feature, log HR 0.125 per SD = 0.25 between the groups, no censoring: D = n = 400 events.
    design = TrialDesign(
        n_patients=400,
        or_cr={},
        hr_pfs={"nk_function": 0.125},
        hr_response={},
        driver_distribution="binary",
        death_free_rate_per_month=0.0,
        followup_months=1e5,
    )
    res = power(design, LogrankAnalysis("nk_function", cut=0.0), n_sim=2000, seed=8, null=False)
    d, log_hr = 400, 0.25
    schoenfeld = norm.cdf(np.sqrt(d / 4) * log_hr - norm.isf(ALPHA / 2))  # Schoenfeld (1981) Biometrika 68:316
    row = res.summary().set_index("estimand").loc["power"]
    assert row["mc_se"] == pytest.approx(np.sqrt(row["value"] * (1 - row["value"]) / 2000))
    assert abs(row["value"] - schoenfeld) < 3 * row["mc_se"], (row["value"], schoenfeld)


def test_same_seed_same_numbers_and_different_seed_different_numbers():
    a = power(OFA_LEN_DESIGN, "firth", n_sim=150, seed=5)
    b = power(OFA_LEN_DESIGN, "firth", n_sim=150, seed=5)
    c = power(OFA_LEN_DESIGN, "firth", n_sim=150, seed=6)
    pd.testing.assert_frame_equal(a.summary(), b.summary())
    pd.testing.assert_frame_equal(a.trials, b.trials)
    assert not a.trials["pvalue"].equals(c.trials["pvalue"])


def test_type1_row_equals_power_under_the_null_design_with_the_same_seed():
    analysis = make_analysis("wilcoxon")
    both = power(OFA_LEN_DESIGN, analysis, n_sim=400, seed=3)
    null = power(analysis.null_design(OFA_LEN_DESIGN), analysis, n_sim=400, seed=3, null=False)
    assert both.type1_error == null.power
    assert both.power > both.type1_error


def test_firth_is_less_biased_than_ml_in_34_patient_trials():
    res = power(OFA_LEN_DESIGN, LogisticAnalysis("nk_function", method="firth"), n_sim=600, seed=12, null=False)
    t = res.summary().set_index("estimand")
    # ML's small-sample bias is away from zero (Firth 1993); Firth removes the O(1/n) term
    assert t.at["bias_ml", "value"] > 3 * t.at["bias_ml", "mc_se"]
    assert abs(t.at["bias_firth", "value"]) < abs(t.at["bias_ml", "value"]) - 2 * t.at["bias_firth", "mc_se"]
    assert t.at["true_value", "value"] == pytest.approx(LogisticAnalysis("nk_function").true_value(OFA_LEN_DESIGN))
    for m in ("ml", "firth"):
        assert 0.85 < t.at[f"coverage_{m}", "value"] <= 1.0
        assert t.at[f"ci_width_{m}", "value"] > 0


def test_separation_rate_rises_with_the_effect_and_ml_excludes_those_trials():
    design = OFA_LEN_DESIGN.replace(n_patients=20, or_cr={"nk_function": 3.0})
    res = power(design, LogisticAnalysis("nk_function", method="ml", test="wald"), n_sim=300, seed=2, null=False)
    t = res.summary().set_index("estimand")
    sep = t.at["separation", "value"]
    assert sep > 0.05
    assert t.at["bias_ml", "n_sim"] == pytest.approx(300 * (1 - sep), abs=1)
    assert t.at["bias_firth", "n_sim"] == 300
    assert (res.trials.loc[res.trials["separation"], "finite_ml"] == False).all()  # noqa: E712


@pytest.mark.slow  # more than two seconds: full suite only
def test_cox_result_reports_monotone_likelihood_and_both_estimators():
    res = power(OFA_LEN_DESIGN, CoxAnalysis("nk_function", adjust_for_response=True), n_sim=200, seed=4)
    t = res.summary()
    for name in ("power", "type1_error", "monotone_likelihood", "bias_ml", "bias_firth", "coverage_firth"):
        assert name in set(t["estimand"])
    assert list(t.columns) == ["estimand", "value", "mc_se", "n_sim", "description"]
    assert isinstance(res, PowerResult)
    html = res._repr_html_()
    assert "<table" in html and "monotone_likelihood" in html


def test_screen_controls_the_false_discovery_rate_with_null_features():
    design = OFA_LEN_DESIGN.replace(or_cr={"nk_function": 1.2}, n_null_features=8)
    screen = ScreenAnalysis(model="firth", fdr=0.1)
    res = power(design, screen, n_sim=500, seed=21)
    t = res.summary().set_index("estimand")
    assert t.at["fdr", "value"] <= 0.1 + 3 * t.at["fdr", "mc_se"]
    assert t.at["fdr", "value"] > 0  # null features are sometimes found
    assert t.at["power_any", "value"] > 0.3
    # complete null: any discovery is a false one; BH keeps that below the FDR level
    assert t.at["type1_error", "value"] <= 0.1 + 3 * t.at["type1_error", "mc_se"]
    assert screen.associated(design, ("nk_function", "log2_cd3", "null_1")).tolist() == [True, True, False]


def test_power_curve_grid_and_zero_effect_gives_the_type_one_error():
    curve = power_curve(OFA_LEN_DESIGN.replace(or_cr={}), "wilcoxon", n=[20, 40], effect=[0.0, 1.0], n_sim=300, seed=1)
    table = curve.summary()
    assert set(table.columns) >= {"n", "effect", "ratio", "estimand", "value", "mc_se"}
    wide = curve.power_table()
    assert wide.shape == (2, 2)
    assert (wide[1.0] > wide[0.0]).all()
    assert wide.loc[40, 1.0] > wide.loc[20, 1.0]
    assert (wide[0.0] < 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)).all()


def test_run_power_cli_returns_the_long_power_table():
    out = run_power_cli([30], [0.5, 1.0], n_sim=100, seed=1, analysis="logrank", feature="t_function")
    assert isinstance(out, pd.DataFrame)
    power_rows = out[out["estimand"] == "power"]
    assert power_rows["ratio"].tolist() == pytest.approx([np.exp(0.5), np.exp(1.0)])
    assert "type1_error" in set(out["estimand"])


def test_bad_arguments_raise_parameter_errors():
    with pytest.raises(
        ParameterError, match="power: analysis='anova' is not allowed; analysis must be an Analysis or one of"
    ):
        power(OFA_LEN_DESIGN, "anova", n_sim=10)
    with pytest.raises(ParameterError, match="method='bayes' is not allowed"):
        LogisticAnalysis(method="bayes")
    with pytest.raises(ParameterError, match="n_sim=0 is not allowed; n_sim must be an integer >= 1"):
        power(OFA_LEN_DESIGN, "firth", n_sim=0)
    with pytest.raises(ConfigError, match="needs a driver"):
        LogisticAnalysis("null_1").with_effect(OFA_LEN_DESIGN, 1.0)
