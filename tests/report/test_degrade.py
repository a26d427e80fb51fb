"""Degrade, don't die: absent data read "not assessed"; what cannot be estimated says so; the rest is written."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths
from immune_correlates.report import AnalysisConfig, make_report, run_analysis


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def clinical():
    return pd.read_csv(ofa_len_paths()["clinical"])


@pytest.fixture(scope="module")
def no_cr_report(clinical, tmp_path_factory):
    """No complete remission, no adverse-event table, no MRD and no cycle data."""
    cl = clinical.drop(columns=["mrd_negative", "cycles_received"])
    cl["best_response"] = cl["best_response"].replace({"CR": "PR", "CRi": "PR"})
    p = ofa_len_paths()
    cohort = ic.read_cohort(cl, p["immunophenotype"], p["function_assays"])
    out = tmp_path_factory.mktemp("nocr") / "report"
    _quiet(make_report, cohort, out, config=AnalysisConfig(n_perm=0))
    return out


def test_absent_safety_mrd_and_cycle_data_are_not_assessed_never_zero(clinical):
    cohort = ic.read_cohort(clinical.drop(columns=["mrd_negative"]))
    s = ic.trial_summary(cohort)
    for metric in ("mrd_negative_cr", "neutropenia_g3plus_cycles", "pneumonia", "neutropenic_fever"):
        row = s.loc[metric]
        assert pd.isna(row["value"]) and pd.isna(row["numerator"]) and pd.isna(row["ci_upper"]), metric
        assert row["note"].startswith("not assessed"), metric
    assert s.loc["patient_cycles", "value"] == clinical["cycles_received"].sum()
    assert s.loc["orr", "numerator"] == 24 and s.loc["orr", "note"] == ""


def test_time_to_event_rows_give_events_and_at_risk_not_a_fraction():
    s = ic.trial_summary(ic.datasets.load_ofa_len())
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    med = s.loc["median_pfs_months"]
    assert pd.isna(med["numerator"]) and pd.isna(med["denominator"])
    assert med["events"] == frame["pfs_event"].sum() and med["at_risk"] == len(frame)
    os5 = s.loc["os_5y"]
    assert pd.isna(os5["numerator"])
    assert os5["events"] == ((frame["os_event"] == 1) & (frame["os_months"] <= 60)).sum()
    assert os5["at_risk"] == (frame["os_months"] >= 60).sum()


@pytest.mark.slow  # more than two seconds: full suite only
def test_a_trial_with_no_cr_still_gets_its_report(no_cr_report):
    html = (no_cr_report / "report.html").read_text()
    results = json.loads((no_cr_report / "results.json").read_text())
    assert "logistic" in results["notes"] and "no patient has cr = 1" in results["notes"]["logistic"]
    assert "comparison" in results["notes"]
    assert "no patient has cr = 1" in html and "Trial summary" in html and "not assessed" in html
    assert "cox_pfs" in results["tables"] and "logistic_cr" not in results["tables"]
    assert {"firth_logistic", "clustered_ratio"}.isdisjoint(results["record"])
    rows = {r["metric"]: r for r in results["tables"]["trial_summary"]}
    assert rows["cr_cri"]["numerator"] == 0 and rows["pneumonia"]["value"] is None
    assert rows["pneumonia"]["note"] == "not assessed: no adverse-event table"
    assert (no_cr_report / "figures" / "kaplan_meier.png").exists()
    assert not (no_cr_report / "figures" / "forest_logistic.png").exists()


def test_no_pfs_event_leaves_out_survival_and_keeps_the_rest(clinical):
    cl = clinical.assign(progression_date=None, death_date=None)
    p = ofa_len_paths()
    res = _quiet(run_analysis, ic.read_cohort(cl, p["immunophenotype"], p["function_assays"]), AnalysisConfig(n_perm=0))
    assert {"cox", "kaplan_meier", "screen_pfs"} <= set(res.notes)
    assert "no events" in res.notes["cox"]
    assert {"logistic_cr", "table_one", "comparison", "trial_summary"} <= set(res.tables)
    assert res.tables["trial_summary"].set_index("metric").loc["median_pfs_months", "note"].startswith("not reached")


def test_a_feature_that_cannot_be_computed_is_dropped_with_a_note(clinical):
    p = ofa_len_paths()
    cohort = ic.read_cohort(clinical, p["immunophenotype"])  # no function assays: no function scores
    res = _quiet(run_analysis, cohort, AnalysisConfig(n_perm=0))
    assert "T-cell function score" in res.notes["features"] and "NK function score" in res.notes["features"]
    assert "t_function_score" not in res.features and "nk_per_ul" in res.features
    assert list(res.tables["logistic_cr"]["feature"]) == list(res.features)


@pytest.mark.parametrize("n", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_a_cohort_too_small_for_the_models_gets_each_step_reported_not_estimable(clinical, n, tmp_path):
    """Never a traceback: steps that cannot be fitted say why (issue 23: fit_cox's LinAlgError on one
    patient ended the run); the trial summary, the exclusions and the report are still written."""
    p = ofa_len_paths()
    ids = clinical["patient_id"].head(n)
    tables = {k: pd.read_csv(p[k]) for k in ("immunophenotype", "function_assays")}
    cohort = ic.read_cohort(
        clinical[clinical["patient_id"].isin(ids)], **{k: t[t["patient_id"].isin(ids)] for k, t in tables.items()}
    )
    out = _quiet(make_report, cohort, tmp_path / "r", config=AnalysisConfig(n_perm=0))
    results = json.loads((out / "results.json").read_text())
    html = (out / "report.html").read_text()
    assert "trial_summary" in results["tables"] and (out / "report.docx").exists()
    for step, table in (("logistic", "logistic_cr"), ("cox", "cox_pfs"), ("screen_cr", "screen_cr")):
        assert step in results["notes"] or table in results["tables"]
    assert all(v.startswith(("Not estimable", "Dropped")) for v in results["notes"].values()), results["notes"]
    assert "Not estimable on these data" in html and "Traceback" not in html and "LinAlgError" not in html
