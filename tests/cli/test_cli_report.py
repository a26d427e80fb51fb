"""The report from the command line: any comparison, a readable summary, progress, .docx, no paths leaked."""

from __future__ import annotations

import io
import json
import re
import shutil

import pandas as pd
import pytest

from immune_correlates.cli import main
from immune_correlates.datasets import ofa_len_paths

pytestmark = pytest.mark.slow  # a second full analysis (responders vs non-responders), end to end


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
    for name, paths in ofa_len_paths(on_treatment=True).items():  # baseline and on-treatment files
        args.append(f"--{name.replace('_', '-')}")
        for path in paths if isinstance(paths, list) else [paths]:
            shutil.copy(path, site / path.name)
            args.append(str(site / path.name))
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


def test_a_numeric_comparison_estimates_every_section(responders):
    """Groups coded 1 / 0 reach the mixed model's formula as numbers (not numpy reprs), and the
    Kaplan-Meier caption names the interval its legend shows (profile likelihood, the default)."""
    out, *_ = responders
    html = (out / "report.html").read_text()
    assert "Immune monitoring over time" in html and "np.int64" not in html
    assert "Not estimable on these data" not in html
    slopes = pd.read_csv(out / "tables" / "monitoring_slopes.csv")
    assert slopes["estimate"].notna().all()
    assert "hazard ratio from a Cox model with its profile-likelihood 95% CI" in html
    # levels are said as words, never the codes 1 / 0
    samples = pd.read_csv(out / "tables" / "monitoring_samples.csv")
    assert {"Responder", "Non-responder"} <= set(samples.columns)
    assert re.search(
        r"Median log2 change from baseline to C3D1 by group: NK cells (Non-responder|Responder) -?\d", html
    )


def test_summary_is_printed_for_people_and_progress_goes_to_stderr(responders):
    _, _, stdout, stderr = responders
    assert "70.6% (52.5–84.9)" in stdout and "16.0 months (12.9–26.3)" in stdout
    assert "0.706" not in stdout
    assert "report" in stderr and "step" in stderr  # tqdm bar on a terminal


def test_the_word_document_holds_what_the_html_shows(responders):
    """report.docx: key findings, every section's tables (as shown), its figures and the methods."""
    import docx

    out, *_ = responders
    doc = docx.Document(str(out / "report.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[1:5] == [
        "Key findings",
        "Baseline characteristics",
        "Trial summary",
        "Responder against non-responder",
    ]
    assert headings[-1] == "Methods"
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Exploratory analysis of 34 patients" in text
    assert "Wilcoxon rank-sum" in text and "Clopper" in text  # the methods
    html = (out / "report.html").read_text()
    assert len(doc.inline_shapes) == html.count("<img ") == len(list((out / "figures").glob("*.png")))
    table_one = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert table_one[0] == [
        "Characteristic",
        "Non-responder, N = 10¹",
        "Responder, N = 24¹",
        "Overall, N = 34¹",
        "p",
        "SMD",
    ]
    summary = [[c.text for c in row.cells] for row in doc.tables[1].rows]
    assert ["Overall response (CR, CRi, nPR, PR)", "70.6% (52.5–84.9)", "24/34"] in summary
    assert len(doc.tables) == html.count("<table") - html.count('<table class="provenance">')  # all but provenance


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


def _visible_text(html: str) -> str:
    """The report's text as read (no tags, no provenance)."""
    import re

    body = html.split("<h2>Provenance</h2>")[0]
    return re.sub(r"<[^>]+>", " ", re.sub(r"<img [^>]+>", "", body))


def test_the_report_speaks_in_words_not_column_names(responders):
    out, *_ = responders
    text = _visible_text((out / "report.html").read_text())
    for machine in (
        "_per_ul",
        "nk_function_score",
        "hazard_ratio",
        "ci_lower",
        "n_NR",
        "q1_",
        "wilcoxon_exact",
        "kruskal",
        "fdr_bh",
        "pmethod",
        "Warning:",
        "cells/uL",
        "e-0",
        "lausen92",
    ):
        assert machine not in text, machine
    assert "cells/µL" in text and "Wilcoxon rank-sum test (exact)" in text
    assert "HR (95% CI)" in text and "OR (95% CI)" in text


def test_table_one_reads_as_gtsummary_prints_it(responders):
    out, *_ = responders
    html = (out / "report.html").read_text()
    head = html[html.index("Table 1.") :]
    for cell in (
        "Non-responder, N = 10¹",
        "Responder, N = 24¹",
        "Overall, N = 34¹",
        "del(17p)",
        "¹ Median [Q1, Q3]; n (%)",
    ):
        assert cell in head, cell
    table = head[: head.index("</table>")]
    assert "\u20030<" not in table and "\u20031<" not in table  # no "0"/"1" level rows for a 0/1 variable
    assert table.count("del(17p)") == 1


def test_every_interval_in_the_report_agrees_with_its_p_value(responders):
    """Issue 23: the 6-month landmark row read HR 0.34, Wald CI 0.126-0.935 with LR p = 0.051."""
    out, *_ = responders
    sweep = pd.read_csv(out / "tables" / "response_landmark_sweep.csv")
    assert set(sweep["ci_method"]) == {"profile"} and set(sweep["test"]) == {"lr"}
    six = sweep.set_index("landmark").loc[6.0]
    assert (six["p_value"] > 0.05) == (six["ci_lower"] < 1 < six["ci_upper"])
    html = (out / "report.html").read_text()
    assert "0.343 (0.137–1.01)" in html and "profile-likelihood 95% CI, likelihood-ratio p" in html
    for name in ("logistic_cr", "cox_pfs", "screen_cr", "screen_pfs"):
        table = pd.read_csv(out / "tables" / f"{name}.csv")
        assert set(table["test"]) == {"lr"}, name


def test_levels_absent_from_the_group_are_an_error_before_anything_is_written(tmp_path, capsys):
    paths = ofa_len_paths()
    out = tmp_path / "o"
    code = main(
        [
            "analyze",
            "--clinical",
            str(paths["clinical"]),
            "--immunophenotype",
            str(paths["immunophenotype"]),
            "--out",
            str(out),
            "--group",
            "responder",
            "--compare",
            "yes",
            "no",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "'yes'" in err and "responder" in err and "--compare 1 0" in err
    assert not out.exists()


def test_a_workspace_whose_paths_map_to_no_feature_is_an_error(tmp_path, capsys):
    from immune_correlates.datasets.make_flow_example import ROOT_IN_WORKSPACE, write_flow_example

    example = write_flow_example(tmp_path / "flow", ["OL001", "OL002"])
    clinical = pd.read_csv(ofa_len_paths()["clinical"], dtype=str)
    clinical[clinical["patient_id"].isin(["OL001", "OL002"])].to_csv(tmp_path / "clinical.csv", index=False)
    out = tmp_path / "o"
    code = main(
        [
            "analyze",
            "--clinical",
            str(tmp_path / "clinical.csv"),
            "--flowjo-workspace",
            str(example["workspace"]),
            "--sample-map",
            str(example["sample_map"]),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--workspace-root" in err and repr(ROOT_IN_WORKSPACE) in err
    assert not out.exists()
