"""The report from the command line: any comparison, a readable summary, progress, .docx, no paths leaked."""

from __future__ import annotations

import io
import json
import shutil

import pandas as pd
import pytest

from immune_correlates.cli import main
from immune_correlates.datasets import ofa_len_paths


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(scope="module")
def responders(tmp_path_factory):
    """``analyze`` on copies of the bundled files in a private-looking directory, responders vs non-responders."""
    root = tmp_path_factory.mktemp("run")
    site = root / "secret_site_dir_4711"
    site.mkdir()
    args = ["analyze", "--out", str(root / "out"), "--group", "responder", "--compare", "1", "0"]
    for name, path in ofa_len_paths().items():
        shutil.copy(path, site / path.name)
        args += [f"--{name.replace('_', '-')}", str(site / path.name)]
    (site / "analysis.toml").write_text("[analysis]\nn_perm = 20\n")
    args += ["--config", str(site / "analysis.toml")]
    out, err = io.StringIO(), _Terminal()
    import contextlib

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(args) == 0
    return root / "out", site, out.getvalue(), err.getvalue()


def test_group_and_compare_options_choose_the_comparison(responders):
    out, *_ = responders
    comparison = pd.read_csv(out / "tables" / "comparison.csv")
    assert {"n_1", "n_0", "median_1", "median_0"} <= set(comparison.columns)
    assert (comparison["n_1"] + comparison["n_0"]).max() == 34
    config = json.loads((out / "results.json").read_text())["config"]
    assert config["group"] == "responder" and config["compare"] == [1, 0]


def test_summary_is_printed_for_people_and_progress_goes_to_stderr(responders):
    _, _, stdout, stderr = responders
    assert "70.6% (52.5-84.9)" in stdout and "16.0 months (12.9-26.3)" in stdout
    assert "0.706" not in stdout
    assert "report" in stderr and "step" in stderr  # tqdm bar on a terminal


def test_tables_are_written_as_a_word_document(responders):
    import docx

    out, *_ = responders
    doc = docx.Document(str(out / "report.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:4] == ["Table 1", "Trial summary", "Groups compared"]
    summary = doc.tables[1]
    cells = [[c.text for c in row.cells] for row in summary.rows]
    assert cells[0][:2] == ["Measure", "Estimate (95% CI)"]
    assert ["Overall response (CR, CRi, nPR, PR)", "70.6% (52.5-84.9)", "24/34", ""] in cells


def test_outputs_hold_file_names_and_hashes_never_directories(responders):
    from PIL import Image

    out, site, _, _ = responders
    secrets = (str(site), site.name)
    for path in out.rglob("*"):
        if path.suffix in (".json", ".html", ".csv"):
            text = path.read_text()
            assert not any(s in text for s in secrets), path.name
        if path.suffix == ".png":
            chunks = " ".join(Image.open(path).text.values())
            assert not any(s in chunks for s in secrets), path.name
            assert "clinical.csv" in chunks
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["inputs"]["clinical"]["file"] == "clinical.csv" and len(prov["inputs"]["clinical"]["sha256"]) == 64
    assert "analysis.toml" in prov["command"]


def test_quiet_prints_only_where_the_report_is(tmp_path, capsys):
    (tmp_path / "analysis.toml").write_text('[features]\nnames = ["nk_per_ul"]\n\n[analysis]\nn_perm = 0\n')
    paths = ofa_len_paths()
    args = [
        "analyze",
        "--clinical",
        str(paths["clinical"]),
        "--immunophenotype",
        str(paths["immunophenotype"]),
        "--config",
        str(tmp_path / "analysis.toml"),
        "--out",
        str(tmp_path / "o"),
        "--group",
        "cr",
        "--quiet",
    ]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines() == [f"report written to {tmp_path / 'o' / 'report.html'}"]
    assert captured.err == ""
    comparison = pd.read_csv(tmp_path / "o" / "tables" / "comparison.csv")
    assert {"n_1", "n_0"} <= set(comparison.columns)  # cr: defaults to [1, 0]


def test_group_with_many_levels_needs_compare(tmp_path, capsys):
    code = main(
        [
            "analyze",
            "--clinical",
            str(ofa_len_paths()["clinical"]),
            "--out",
            str(tmp_path / "o"),
            "--group",
            "best_response",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--compare" in err and "best_response" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
