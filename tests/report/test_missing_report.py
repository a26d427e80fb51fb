"""``[missing] method = "impute"``: the report's multiple-imputation analysis (report/missing.py).

Complete cases stay the default; with ``impute`` the model tables are refitted on imputed data,
pooled, and set beside the complete-case estimates, and the methods say what was imputed with m
and the seed."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import ConfigError
from immune_correlates.report import AnalysisConfig, run_analysis
from immune_correlates.report.config import load_config
from immune_correlates.report.methods import methods_section
from immune_correlates.report.sections import SECTIONS, build_sections, report_tables

FEATURES = ("nk_per_ul", "t_function_score", "nk_adcc_lu20")


def _config(**extra):
    return AnalysisConfig(features=FEATURES, n_perm=0, ci="wald", **extra)


@pytest.fixture(scope="module")
def results():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(ic.datasets.load_ofa_len(), _config(missing="impute", impute_m=5, impute_seed=7))


def test_config_reads_the_missing_section():
    cfg = load_config({"missing": {"method": "impute", "m": 30, "seed": 5, "n_iter": 12, "auxiliary": ["alc"]}})
    assert (cfg.missing, cfg.impute_m, cfg.impute_seed, cfg.impute_iter, cfg.auxiliary) == (
        "impute",
        30,
        5,
        12,
        ("alc",),
    )
    assert load_config({}).missing == "complete_case" and AnalysisConfig().missing == "complete_case"
    with pytest.raises(ConfigError, match="method must be one of"):
        load_config({"missing": {"method": "mice"}})
    with pytest.raises(ConfigError, match="m must be >= 2"):
        load_config({"missing": {"method": "impute", "m": 1}})
    with pytest.raises(ConfigError, match="unknown key"):
        load_config({"missing": {"maxit": 5}})


@pytest.mark.slow  # more than two seconds: full suite only
def test_imputed_tables_pool_the_same_models(results):
    imp = results.objects["imputed"]
    assert imp.m == 5 and imp.seed == 7
    assert set(imp.columns) == {"t_function_score", "nk_adcc_lu20"}  # the features with missing values
    assert imp.survival == (("pfs_months", "pfs_event"),)
    pooled = results.tables["logistic_cr_imputed"].set_index("feature")
    # the pooled row is Rubin's rules over the same Firth model fitted to each completed model frame
    fits = [ic.fit_logistic(d, "cr", ["nk_adcc_lu20"], method="firth", ci="wald") for d in imp]
    by_hand = ic.pool(fits).summary().set_index("term").loc["nk_adcc_lu20"]
    for col in ("estimate", "std_error", "df", "p_value", "ci_lower", "fmi"):
        assert pooled.loc["nk_adcc_lu20", col] == pytest.approx(by_hand[col], rel=1e-6)
    assert (pooled["test"] == "rubin").all() and (pooled["n"] == 34).all()


def test_sensitivity_table_sets_complete_cases_beside_imputed(results):
    sens = results.tables["missing_sensitivity"]
    assert set(sens["endpoint"]) == {"Complete remission (CR/CRi)", "Progression-free survival"}
    row = sens[(sens["feature"] == "nk_adcc_lu20") & (sens["ratio"] == "odds_ratio")].iloc[0]
    cc = results.tables["logistic_cr"].set_index("feature").loc["nk_adcc_lu20"]
    assert row["cc_estimate"] == cc["odds_ratio"] and row["cc_n"] == 28 and row["mi_n"] == 34
    assert row["any_imputed"] and not sens.loc[sens["feature"] == "nk_per_ul", "any_imputed"].any()
    shown = [
        t for h, c, t in report_tables(results) if h.startswith("Missing data") and c.startswith("Complete remission")
    ]
    assert len(shown) == 1
    assert shown[0].loc[shown[0]["Feature"] == "NK cells", "FMI"].item() == "none missing"
    assert shown[0].columns.tolist() == [
        "Feature",
        "Complete cases: OR (95% CI)",
        "Complete cases: p",
        "Complete cases: N",
        "Imputed, m = 5: OR (95% CI)",
        "Imputed, m = 5: p",
        "Imputed, m = 5: q",
        "Imputed, m = 5: N",
        "FMI",
    ]
    assert np.isfinite(sens["fmi"]).all()


def test_methods_say_what_was_imputed_with_m_and_seed(results):
    text = {m["key"]: m["text"] for m in methods_section(results)}["multiple_imputation"]
    assert "m = 5" in text and "seed 7" in text and "predictive mean matching" in text
    assert "nk_adcc_lu20 (6)" in text and "Nelson-Aalen" in text and "Barnard-Rubin" in text


def test_the_section_shows_tables_and_figures_and_is_absent_by_default(results):
    figures = {"imputed_values": None, "imputation_traces": None}
    section = next(s for s in build_sections(results, figures) if s["title"] == "Missing data: multiple imputation")
    assert [t["caption"].split(":")[0] for t in section["tables"]] == [
        "Complete remission (CR/CRi)",
        "Progression-free survival",
    ]
    assert "Wald 95% CI, Wald p" in section["tables"][0]["caption"]  # the complete-case tables' own method
    assert section["figures"] == ["imputed_values", "imputation_traces"]
    plain = results.__class__(**{**results.__dict__, "config": _config()})
    assert not any(s["title"].startswith("Missing data") for s in build_sections(plain, {}))
    assert any(getattr(s, "__name__", "") == "_missing" for s in SECTIONS)


@pytest.mark.slow  # more than two seconds: full suite only
def test_complete_cases_stay_the_default():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_analysis(ic.datasets.load_ofa_len(), _config())
    assert "imputed" not in res.objects and "missing_sensitivity" not in res.tables
    assert "multiple_imputation" not in res.record and "complete_case" in res.record
    assert isinstance(res.tables["logistic_cr"], pd.DataFrame)
