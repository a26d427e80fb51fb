"""The report's cell-population section: the package's estimators on the counts, matched by id, in words."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.cli import main
from immune_correlates.design.population_counts import population_count_arrays, population_shares
from immune_correlates.errors import ConfigError
from immune_correlates.report import AnalysisConfig, run_analysis
from immune_correlates.report.config import load_config
from immune_correlates.report.sections import build_sections

NAMES = ["CD4 naive", "Treg", "CD8 TEMRA", "CD8 PD-1+", "CD56bright NK", "CD56dim NK", "B cells", "Monocytes"]


@pytest.fixture(scope="module")
def counts_file(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    g = (frame["cr"] == 1).to_numpy(float)
    effects = np.zeros(len(NAMES))
    effects[5] = np.log(2.0)
    counts = population_count_arrays(
        np.random.default_rng(4), 1, g, population_shares(len(NAMES)), log_effects=effects
    )[0]
    table = pd.DataFrame(counts, columns=NAMES)
    table.insert(0, "sample_id", frame.index.astype(str))
    path = tmp_path_factory.mktemp("counts") / "population_counts.csv"
    table.iloc[2:].to_csv(path, index=False)  # the first two patients have no counts
    return path, frame.index[:2].tolist()


@pytest.fixture(scope="module")
def results(counts_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_analysis(ic.datasets.load_ofa_len(), AnalysisConfig(n_perm=0, population_counts=counts_file[0]))


@pytest.mark.slow  # more than two seconds: full suite only
def test_abundance_table_is_differential_abundance_of_the_compared_groups(results, counts_file):
    counts = pd.read_csv(counts_file[0], index_col="sample_id")
    group = results.frame.loc[counts.index, "response_group"]
    samples = pd.DataFrame({"response_group": group.astype(str).to_numpy()}, index=counts.index)
    keep = samples["response_group"].isin(["CR", "NR"]).to_numpy()
    ref = ic.differential_abundance(counts[keep], samples[keep], group="response_group", levels=["NR", "CR"])
    got = results.tables["populations_abundance"]
    np.testing.assert_allclose(got["estimate"], ref["estimate"], rtol=1e-12)
    np.testing.assert_allclose(got["p_value"], ref["p_value"], rtol=1e-12)
    assert got.attrs["levels"] == ["NR", "CR"]  # CR over NR, as the report's comparison reads


def test_outcome_screens_use_the_reports_models_and_clr(results, counts_file):
    cr = results.tables["populations_cr"]
    assert set(cr["feature"]) == set(NAMES)
    assert (cr["method"] == "firth").all() and (cr["test"] == "lr").all()
    assert (cr["scale"] == "per doubling of the centred log-ratio").all()
    assert cr["n"].eq(len(results.frame) - 2).all()
    assert "populations_pfs" in results.tables
    for key in ("differential_abundance", "population_clr"):
        assert key in results.record


def test_patients_without_counts_are_listed(results, counts_file):
    _, missing = counts_file
    excl = results.exclusions
    rows = excl[(excl["step"] == "populations") & excl["patient_id"].isin(missing)]
    assert len(rows) == 2 and set(rows["reason"]) == {"no population counts"}


def test_section_in_words_with_formatted_tables(results):
    sections = build_sections(results, {})
    section = next(s for s in sections if s["title"] == "Cell populations")
    assert "8 populations in 32 baseline samples (population_counts.csv)" in section["text"]
    assert "CR over NR" in section["text"]
    captions = [t["caption"] for t in section["tables"]]
    assert captions[0].startswith("Population abundance, CR versus NR")
    frame = section["tables"][0]["frame"]
    assert list(frame.columns) == ["Population", "CR: mean %", "NR: mean %", "Ratio (95% CI)", "p", "q"]
    assert frame["Population"].iloc[0] == "CD56dim NK"  # the population made twice as abundant in CR
    methods = [m["heading"] for m in ic.report.methods.methods_section(results)]
    assert "Differential abundance of cell populations" in methods


def test_config_section_is_checked(tmp_path):
    (tmp_path / "c.csv").write_text("sample_id,a,b\nP1,1,2\n")
    cfg = load_config(tmp_path / _toml(tmp_path, '[populations]\ncounts = "c.csv"\ntransform = "log_proportion"\n'))
    assert cfg.population_counts == (tmp_path / "c.csv").resolve() and cfg.population_transform == "log_proportion"
    with pytest.raises(ConfigError, match="transform must be one of"):
        load_config(tmp_path / _toml(tmp_path, '[populations]\ncounts = "c.csv"\ntransform = "logit"\n'))
    with pytest.raises(ConfigError, match="leaves the configuration's directory"):
        load_config(tmp_path / _toml(tmp_path, '[populations]\ncounts = "../c.csv"\n'))
    assert cfg.to_dict()["population_counts"] == "c.csv"  # a file name, never a directory


def _toml(directory, text):
    (directory / "analysis.toml").write_text(text)
    return "analysis.toml"


@pytest.mark.slow
def test_command_line_writes_the_section_and_refuses_unknown_samples(tmp_path, counts_file, capsys):
    paths = ic.datasets.ofa_len_paths()
    args = [f"--{k.replace('_', '-')}={v}" for k, v in paths.items()]
    out = tmp_path / "report"
    assert main(["analyze", *args, "--population-counts", str(counts_file[0]), "--out", str(out), "--quiet"]) == 0
    assert (out / "figures" / "population_volcano.png").exists() and (out / "tables" / "populations_cr.csv").exists()
    assert "Cell populations" in (out / "report.html").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    pd.read_csv(counts_file[0]).assign(sample_id=lambda d: d["sample_id"].where(d.index > 0, "XX99")).to_csv(
        bad, index=False
    )
    assert main(["analyze", *args, "--population-counts", str(bad), "--out", str(tmp_path / "r2"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "match no patient" in err and "XX99" in err and len(err.strip().splitlines()) == 1
