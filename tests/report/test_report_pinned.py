"""Every table of the report is the public API called directly (1e-9), for three comparisons.

The demo (CR vs NR on response_group), responders vs non-responders (group and
outcome ``responder``) and CR vs the rest (group ``cr``): Table 1, the trial
summary, the head-to-head comparison, the logistic and Cox model tables, the
screen rows, the median split and its log-rank test.  And the methods text of
each run names exactly the methods its tables say produced their numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.features import dichotomise
from immune_correlates.report import AnalysisConfig, run_analysis
from immune_correlates.report.methods import METHODS, methods_section
from immune_correlates.report.pipeline import table_one_label

RTOL = 1e-9
FEATURES = ("cd3_per_ul", "nk_per_ul", "cd4_cd8_ratio", "t_function_score")
RUNS = {
    "demo": {"n_perm": 50},
    "responders": {"group": "responder", "binary": "responder", "features": FEATURES, "n_perm": 0},
    "cr_vs_rest": {"group": "cr", "features": FEATURES, "n_perm": 0, "compare": (1, 0)},
}


@pytest.fixture(scope="module")
def cohort():
    return ic.datasets.load_ofa_len()


@pytest.fixture(scope="module", params=list(RUNS))
def run(request, cohort):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(cohort, AnalysisConfig(**RUNS[request.param]))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _transformed(res, feature):
    x = res.frame[feature].astype(float)
    kind = (
        ic.feature_catalogue().set_index("feature")["kind"].get(feature) if hasattr(ic, "feature_catalogue") else None
    )
    kind = res.tables["feature_catalogue"].set_index("feature")["kind"][feature] if kind is None else kind
    if kind == "count":
        x = np.log2(x + 1)
    elif kind == "ratio":
        x = np.log2(x)
    return (x - x.mean()) / x.std(ddof=1)


@pytest.mark.slow  # more than two seconds: full suite only
def test_levels_compared_are_the_configured_or_default_ones(run):
    expected = {"response_group": ["CR", "NR"], "responder": [1, 0], "cr": [1, 0]}[run.config.group]
    assert run.objects["compare_levels"] == expected


def test_table_one_and_trial_summary_are_the_api(run, cohort):
    t1 = run.tables["table_one"]
    variables = list(t1["variable"].unique())
    # the report labels its features for people (the catalogue's labels and units)
    labels = {f: table_one_label(f) for f in run.features}
    direct = _quiet(ic.table_one, run.frame, run.config.group, variables, labels=labels)
    pd.testing.assert_frame_equal(t1, direct, rtol=RTOL)
    assert "NK cells, cells/µL" in set(t1["label"])
    assert variables[:6] == ["age", "sex", "del17p", "ighv_unmutated", "prior_therapies", "alc"]
    pd.testing.assert_frame_equal(run.tables["trial_summary"].set_index("metric"), ic.trial_summary(cohort), rtol=RTOL)


def test_head_to_head_comparison_is_compare_groups(run):
    cfg = run.config
    direct = _quiet(
        ic.compare_groups,
        run.frame,
        list(run.features),
        cfg.group,
        groups=run.objects["compare_levels"],
        adjust=cfg.adjust,
    )
    pd.testing.assert_frame_equal(run.tables["comparison"], direct, rtol=RTOL)


@pytest.mark.parametrize("table, kind", [("logistic_cr", "logistic"), ("cox_pfs", "cox")])
def test_model_rows_are_single_profile_fits_on_the_documented_scale(run, table, kind):
    cfg = run.config
    rows = run.tables[table].set_index("feature")
    assert list(rows.index) == list(run.features)
    p = []
    for feature in run.features:
        frame = run.frame.assign(z=_transformed(run, feature))
        if kind == "logistic":
            fit = _quiet(ic.fit_logistic, frame, cfg.binary, ["z"], method=cfg.logistic, ci="profile")
        else:
            fit = _quiet(ic.fit_cox, frame, cfg.duration, cfg.event, ["z"], method=cfg.cox, ci="profile")
        row = rows.loc[feature]
        np.testing.assert_allclose(
            row[["estimate", "ci_lower", "ci_upper", "p_value"]].astype(float),
            [fit.params["z"], *fit.conf_int().loc["z"], fit.pvalues["z"]],
            rtol=RTOL,
            err_msg=f"{table} {feature}",
        )
        assert row["n"] == fit.nobs and row["n_events"] == fit.n_events
        p.append(fit.pvalues["z"])
    np.testing.assert_allclose(rows["q_value"], ic.adjust_pvalues(np.array(p), method=cfg.adjust), rtol=RTOL)


def test_screen_rows_use_the_same_convention_as_the_model_tables(run):
    """One inference convention: the screen's row of a feature equals its model-table row."""
    for screen, table in (("screen_cr", "logistic_cr"), ("screen_pfs", "cox_pfs")):
        s = run.tables[screen].set_index("feature")
        m = run.tables[table].set_index("feature")
        for feature in run.features:
            if feature in s.index:
                np.testing.assert_allclose(
                    s.loc[feature, ["estimate", "ci_lower", "ci_upper", "p_value"]].astype(float),
                    m.loc[feature, ["estimate", "ci_lower", "ci_upper", "p_value"]].astype(float),
                    rtol=RTOL,
                    err_msg=f"{screen} {feature}",
                )
        assert set(s["test"]) == set(m["test"])


def test_median_split_is_dichotomise_and_one_kaplan_meier(run):
    cfg = run.config
    kf = cfg.km_feature
    cut = run.frame[[cfg.duration, cfg.event, kf]].dropna()[kf].median()
    frame = run.frame.assign(above=dichotomise(run.frame[kf], cut))
    km = _quiet(ic.kaplan_meier, frame, cfg.duration, cfg.event, group="above")
    got = run.tables["km_median_split"]
    np.testing.assert_allclose(got["median"].to_numpy(float), km.median()["median"].to_numpy(float), rtol=RTOL)
    lr = _quiet(ic.logrank_test, frame, cfg.duration, cfg.event, "above")
    np.testing.assert_allclose(run.tables["logrank_median_split"]["p_value"].iloc[0], lr.pvalue, rtol=RTOL)


def _expected_methods(res) -> set:
    """The methods a run's numbers came from, read independently from its tables and configuration."""
    t, cfg = res.tables, res.config
    keys = set()
    ts = t["trial_summary"]
    keys |= set(ts.loc[ts["value"].notna(), "method"]) - {""}
    for name in ("table_one", "comparison", "all_groups"):
        if name in t:
            done = t[name][t[name]["p_value"].notna()]
            keys |= {"fisher_exact" if v == "fisher" else v for v in done["test"].unique()}
    keys |= {"smd"} if "table_one" in t else set()
    keys |= {"hodges_lehmann"} if "comparison" in t and "hodges_lehmann" in t["comparison"] else set()
    keys |= {"jonckheere"} if "all_groups" in t and "jt_p_value" in t["all_groups"] else set()
    if "comparison" in t:
        keys.add(cfg.adjust)
    models = [t[n] for n in ("logistic_cr", "cox_pfs", "screen_cr", "screen_pfs") if n in t]
    kinds = t["feature_catalogue"].set_index("feature")["kind"]
    for m in models:
        keys |= {f"{v}_{f}" for v, f in zip(m["method"], m["family"])} | {
            {"lr": "lr_test", "wald": "wald_test"}[v] for v in m["test"]
        }
        keys |= {f"{cfg.ci}_ci", "complete_case", cfg.adjust, "per_sd"}
        used = set(kinds.reindex(m["feature"]))
        keys |= {"log2_count"} if "count" in used else set()
        keys |= {"log2_ratio"} if "ratio" in used else set()
        keys |= {"composite"} if "composite" in used else set()
        keys |= {"permutation", "maxt"} if "p_maxt" in m else set()
    if "logrank_median_split" in t:
        keys |= {"median_split", "km_median", "logrank"}
    if "cutpoint" in t:
        keys.add("maxstat")
    if "response_landmark" in t:  # the response-and-survival tables
        keys |= {"landmark", "time_dependent_cox", "mantel_byar"}
    if "monitoring_samples" in t:  # immune monitoring over time (on-treatment samples)
        keys |= {"trajectories", "mixed_model", "change_from_baseline", "time_varying_cox", "gee"}
    return keys


def test_methods_text_names_exactly_the_methods_that_produced_the_numbers(run):
    methods = methods_section(run)
    assert [m["key"] for m in methods] == list(run.record)
    assert {m["key"] for m in methods} == _expected_methods(run)
    text = " ".join(m["text"] for m in methods)
    assert ("Westfall" in text) == ("p_maxt" in run.tables["screen_cr"])
    assert ("normal approximation" in text) == ("wilcoxon_normal" in run.record)
    for key in set(METHODS) - set(run.record):
        assert METHODS[key][0] not in [m["heading"] for m in methods]


@pytest.mark.slow  # more than two seconds: full suite only
def test_methods_name_the_adjustment_covariates(cohort):
    cfg = AnalysisConfig(features=("nk_per_ul",), covariates=("del17p", "ighv_unmutated"), n_perm=0)
    res = _quiet(run_analysis, cohort, cfg)
    text = {m["key"]: m["text"] for m in methods_section(res)}
    assert text["covariates"] == "Every model was adjusted for del(17p) and Unmutated IGHV."
    frame = res.frame.assign(z=_transformed(res, "nk_per_ul"))
    fit = _quiet(ic.fit_logistic, frame, "cr", ["z", "del17p", "ighv_unmutated"], method="firth", ci="profile")
    np.testing.assert_allclose(res.tables["logistic_cr"]["p_value"].iloc[0], fit.pvalues["z"], rtol=RTOL)
