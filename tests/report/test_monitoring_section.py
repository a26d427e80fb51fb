"""The report's "Immune monitoring over time" section: the package's own estimators, said in words."""

from __future__ import annotations

import types
import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.report import AnalysisConfig
from immune_correlates.report.methods import METHODS
from immune_correlates.report.monitoring import has_monitoring, monitoring_figures, monitoring_step
from immune_correlates.report.monitoring_section import monitoring_section
from immune_correlates.report.pipeline import STEPS, _Run


def _run(cohort, config=None):
    run = _Run(cohort, config or AnalysisConfig())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = ic.build_features(cohort)
        run.catalogue = fs.catalogue
        run.frame = ic.analysis_frame(cohort, features=fs.values)
        monitoring_step(run)
    return run


@pytest.fixture(scope="module")
def run(ofa_len):
    return _run(ofa_len)


@pytest.fixture(scope="module")
def res(run):
    return types.SimpleNamespace(config=run.config, tables=run.tables, objects=run.objects, notes=run.notes)


def test_the_step_is_part_of_the_run_and_its_methods_are_described():
    assert "monitoring" in [name for name, _ in STEPS]
    for key in ("trajectories", "mixed_model", "change_from_baseline", "time_varying_cox", "gee"):
        assert key in METHODS


@pytest.mark.slow  # more than two seconds: full suite only
def test_samples_per_visit_are_the_cohorts(run, ofa_len):
    table = run.tables["monitoring_samples"].set_index("Visit")
    counts = ofa_len.samples.groupby("timepoint")["patient_id"].nunique()
    assert table["Patients"].to_dict() == counts.to_dict()
    assert list(table.index[:3]) == ["baseline", "C1D15", "C3D1"]  # in time order
    groups = ic.derive_endpoints(ofa_len.clinical)["response_group"]
    c3 = ofa_len.samples.query("timepoint == 'C3D1'")["patient_id"]
    assert table.at["C3D1", "CR"] == (groups.loc[c3] == "CR").sum()


@pytest.mark.slow  # more than two seconds: full suite only
def test_time_dependent_rows_are_the_counting_process_fits(run, ofa_len):
    cfg = run.config
    long = ic.longitudinal_frame(ofa_len, ["nk_per_ul"]).assign(
        month=lambda d: d["day"] / ic.DAYS_PER_MONTH, lnk=lambda d: np.log2(d["nk_per_ul"])
    )
    frame = ic.analysis_frame(ofa_len, features=pd.DataFrame(index=pd.Index([], name="patient_id")))
    rows = ic.time_varying(frame, cfg.duration, cfg.event, long, {"x": "lnk"}, time="month")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.MissingDataWarning)
        fit = ic.fit_cox(rows, "stop", cfg.event, ["x"], entry="start", ci=cfg.ci)
    row = run.tables["monitoring_time_dependent"].iloc[0]
    assert row["feature"] == "NK cells: latest value"
    assert row["hazard_ratio"] == pytest.approx(np.exp(fit.params["x"]), rel=1e-10)
    lo, hi = np.exp(fit.conf_int().loc["x"])
    assert (row["hazard_ratio_ci_lower"], row["hazard_ratio_ci_upper"]) == pytest.approx((lo, hi), rel=1e-10)
    assert row["p_value"] == pytest.approx(fit.pvalues["x"], rel=1e-10)
    assert row["test"] == "lr" and row["ci_method"] == "profile"  # the report's one inference convention
    td = run.tables["monitoring_time_dependent"]
    assert ((td["p_value"] < 0.05) == ((td["hazard_ratio_ci_upper"] < 1) | (td["hazard_ratio_ci_lower"] > 1))).all()


@pytest.mark.slow  # more than two seconds: full suite only
def test_per_cycle_neutropenia_is_the_gee_fit(run, ofa_len):
    cycles = ic.cycle_frame(ofa_len, pd.DataFrame(index=pd.Index([], name="patient_id")), latest=["nk_per_ul"])
    cycles["lnk"] = np.log2(cycles["nk_per_ul_latest"])
    fit = ic.fit_gee(cycles, "neutropenia_g3 ~ cycle + lnk", "patient_id")
    table = run.tables["monitoring_neutropenia"]
    np.testing.assert_allclose(table["odds_ratio"], np.exp(fit.params[["cycle", "lnk"]]), rtol=1e-10)
    assert table["n"].iloc[0] == 574 and table["n_events"].iloc[0] == 103


def test_the_section_reads_in_words(res):
    figures = monitoring_figures(res)
    section = monitoring_section(res)
    assert section["title"] == "Immune monitoring over time"
    assert len(section["tables"]) == 5 and set(section["figures"]) == set(figures) == {
        "trajectory_nk_per_ul",
        "trajectory_cd8_per_ul",
    }
    text = section["text"]
    assert "on-treatment samples" in text and "Kruskal-Wallis" in text and "hazard ratio" in text
    assert "-0.00" not in text and "≥ 3 neutropenia" in text
    # an estimate reads "0.617 (95% CI 0.440–0.854; p = 0.0035)": the level inside its parentheses, once
    assert ") (95% CI" not in text and "odds of grade ≥ 3 neutropenia in a cycle per doubling" in text
    gee = section["tables"][-1]["frame"]
    assert "q" not in gee.columns  # two terms of one model: no q column that would only repeat p
    shown = " ".join(t["frame"].to_string() for t in section["tables"])
    for code in ("kruskal_wallis", "nk_per_ul", "log2fc", "_"):
        assert code not in shown.replace("C3D1", "")  # words, not column names
    change = section["tables"][2]["frame"]
    assert change["Feature"].tolist() == ["NK cells, log2 change to C3D1", "CD8 T cells, log2 change to C3D1"]


def test_no_section_without_on_treatment_samples():
    baseline_only = ic.read_cohort(**ic.datasets.ofa_len_paths())
    assert not has_monitoring(baseline_only)
    run = _run(baseline_only)
    assert not any(k.startswith("monitoring") for k in run.tables)
    res = types.SimpleNamespace(config=run.config, tables=run.tables, objects=run.objects, notes=run.notes)
    assert monitoring_section(res) is None and monitoring_figures(res) == {}


def test_slopes_are_the_mixed_model_per_group(run, ofa_len):
    slopes = run.tables["monitoring_slopes"].set_index(["feature", "group"])
    long = run.objects["monitoring_long"]
    data = long[long["day"] <= long.loc[long["timepoint"] == "C12D1", "day"].max()].assign(
        month=lambda d: d["day"] / ic.DAYS_PER_MONTH, y=lambda d: np.log2(d["nk_per_ul"])
    )
    fit = ic.fit_mixed(data, "y ~ month * C(response_group, Treatment('CR')) + (month | patient_id)")
    row = slopes.loc[("nk_per_ul", "CR")]
    assert row["estimate"] == pytest.approx(fit.params["month"], rel=1e-8)
    assert row["df"] == pytest.approx(fit.df["month"], rel=1e-6)
    assert row["p_value"] == pytest.approx(fit.pvalues["month"], rel=1e-6)
    assert slopes.loc[("nk_per_ul", "CR"), "estimate"] > slopes.loc[("nk_per_ul", "NR"), "estimate"]
    test = run.tables["monitoring_slope_test"].set_index("feature").loc["nk_per_ul"]
    assert test["num_df"] == 2 and test["p_value"] < 0.05


@pytest.mark.slow  # more than two seconds: full suite only
def test_time_dependent_exclusions_are_one_row_per_patient_in_words(run):
    """Intervals before a patient's first value are not a lost patient: the row says the patient enters
    the model there; a patient with no value at all is said to be out of that model (N of its table row)."""
    excl = pd.concat(run.excl, ignore_index=True)
    td = excl[excl["step"] == "monitoring_time_dependent"]
    table = run.tables["monitoring_time_dependent"].set_index("feature")
    for feature, n in table["n"].items():
        rows = td[td["reason"].str.startswith(f"{feature}: ")]
        assert rows["patient_id"].is_unique
        out = rows["reason"].str.endswith("not in this model")
        assert (~out).sum() <= n and out.sum() == 34 - n
    assert not td["reason"].str.contains("log2_change|log2_value|missing").any()  # no column names


def test_every_step_of_the_run_has_a_name_for_people():
    """The exclusions table names each step in words (no code, no doubled space)."""
    from immune_correlates.report.tables import step_name

    steps = [name for name, _ in STEPS] + [
        "monitoring_time_dependent",
        "monitoring_neutropenia",
        "populations:abundance",
    ]
    for step in steps:
        name = step_name(step)
        assert name[0].isupper() and "_" not in name and "  " not in name, (step, name)
