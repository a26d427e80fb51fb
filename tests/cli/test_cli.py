"""The command line: demo, analyze, simulate; outputs, provenance, errors and privacy.

The tests share one ``demo`` run (``demo_dir``, in ``conftest.py``) and call ``main()`` in this
process; every further end-to-end analysis is marked ``slow`` (run by ``pytest -m "slow or not slow"``),
and one test runs the installed console script in a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from immune_correlates.cli import main
from immune_correlates.datasets import ofa_len_paths

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # more than two seconds: full suite only
def test_demo_writes_report_tables_figures_and_results(demo_dir):
    assert (demo_dir / "report.html").stat().st_size > 10_000
    tables = {p.stem for p in (demo_dir / "tables").glob("*.csv")}
    assert {"trial_summary", "comparison", "all_groups", "logistic_cr", "cox_pfs", "exclusions"} <= tables
    figures = {p.stem for p in (demo_dir / "figures").glob("*.png")}
    assert {"response_panel", "forest_logistic", "forest_cox", "kaplan_meier", "volcano_cr", "volcano_pfs"} <= figures
    screen_cr = pd.read_csv(demo_dir / "tables" / "screen_cr.csv")
    assert {"q_value", "p_perm", "p_maxt"} <= set(screen_cr.columns) and len(screen_cr) >= 20
    assert (screen_cr["p_maxt"] >= screen_cr["p_perm"] - 1e-12).all()
    results = json.loads((demo_dir / "results.json").read_text())
    orr = next(r for r in results["tables"]["trial_summary"] if r["metric"] == "orr")
    assert orr["numerator"] == 24 and orr["denominator"] == 34
    assert not list(demo_dir.parent.glob(".*partial*"))


def test_outputs_carry_provenance(demo_dir):
    prov = json.loads((demo_dir / "results.json").read_text())["provenance"]
    assert prov["seed"] == 20160617
    assert set(prov["inputs"]) == {"clinical", "immunophenotype", "function_assays", "adverse_events"}
    import hashlib

    sha = hashlib.sha256(ofa_len_paths()["clinical"].read_bytes()).hexdigest()
    assert prov["inputs"]["clinical"]["sha256"] == sha
    assert prov["dependencies"]["numpy"] and prov["command"][:2] == ["immune-correlates", "demo"]
    assert sha in (demo_dir / "report.html").read_text()
    assert json.loads((demo_dir / "provenance.json").read_text())["inputs"]["clinical"]["sha256"] == sha
    from PIL import Image

    png = Image.open(demo_dir / "figures" / "kaplan_meier.png")
    assert sha in png.text["Comment"] and png.text["Software"].startswith("immune_correlates")


@pytest.mark.slow
def test_analyze_on_the_bundled_files_gives_the_demo_results(demo_dir, tmp_path):
    args = ["analyze", "--out", str(tmp_path / "out")]
    for name, paths in ofa_len_paths(on_treatment=True).items():  # baseline and on-treatment files, as the demo
        args += [f"--{name.replace('_', '-')}", *map(str, paths if isinstance(paths, list) else [paths])]
    assert main(args) == 0
    for table in ("trial_summary", "comparison", "all_groups", "logistic_cr", "cox_pfs", "cutpoint", "exclusions"):
        a = pd.read_csv(demo_dir / "tables" / f"{table}.csv")
        b = pd.read_csv(tmp_path / "out" / "tables" / f"{table}.csv")
        pd.testing.assert_frame_equal(a, b, obj=table)


@pytest.mark.slow
def test_analyze_reads_inputs_from_the_config(tmp_path):
    import shutil

    for _name, path in ofa_len_paths().items():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "analysis.toml").write_text(
        '[inputs]\nclinical = "clinical.csv"\nimmunophenotype = "immunophenotype.csv"\n'
        'function_assays = "function_assays.csv"\n\n[features]\nnames = ["nk_per_ul", "t_function_score"]\n'
        '\n[models]\ncox = "firth"\n\n[analysis]\nadjust = "holm"\n'
    )
    assert main(["analyze", "--config", str(tmp_path / "analysis.toml"), "--out", str(tmp_path / "o")]) == 0
    cox = pd.read_csv(tmp_path / "o" / "tables" / "cox_pfs.csv")
    assert cox["feature"].tolist() == ["nk_per_ul", "t_function_score"]
    assert set(cox["method"]) == {"firth"} and set(cox["family"]) == {"cox"}


def _run_cli(args, tmp_path):
    """``main(args)`` run in ``tmp_path``, in this process: ``(exit code, stdout, stderr)``."""
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as e:  # argparse's usage errors
                code = e.code
    finally:
        os.chdir(cwd)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_the_console_script_runs_in_its_own_process(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "immune_correlates.cli", "analyze", "--clinical", "nope.csv", "--out", "o"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 2 and "nope.csv" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_bad_input_exits_2_with_one_line_naming_file_column_patient_value(tmp_path):
    clinical = pd.read_csv(ofa_len_paths()["clinical"], dtype=str, keep_default_na=False)
    clinical.loc[3, "alc"] = "n/a"
    clinical.to_csv(tmp_path / "clin.csv", index=False)
    code, _out, err = _run_cli(["analyze", "--clinical", "clin.csv", "--out", "o"], tmp_path)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "clin.csv" in err and "'alc'" in err and "OL004" in err and "n/a" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    "config, expected",
    [
        ('[models]\nlogistic = "exact"\n', "must be one of"),
        ("[analysis]\nformula = \"__import__('os')\"\n", "unknown key"),
        ('[inputs]\nclinical = "../../etc/passwd"\n', "leaves the configuration's directory"),
        ("[models\n", "not valid TOML"),
        ('[features]\nnames = ["no_such_feature"]\n', "unknown column"),
    ],
)
def test_config_errors_exit_2(tmp_path, config, expected):
    (tmp_path / "analysis.toml").write_text(config)
    code, _, err = _run_cli(
        ["analyze", "--clinical", str(ofa_len_paths()["clinical"]), "--config", "analysis.toml", "--out", "o"], tmp_path
    )
    assert code == 2 and expected in err and "Traceback" not in err


def test_missing_files_exit_2(tmp_path):
    code, _, err = _run_cli(["analyze", "--clinical", "nope.csv", "--out", "o"], tmp_path)
    assert code == 2 and "nope.csv" in err
    code, _, err = _run_cli(["analyze", "--out", "o"], tmp_path)
    assert code == 2 and "no clinical table" in err


@pytest.mark.slow
def test_pseudonymize_removes_every_original_id(tmp_path):
    out = tmp_path / "p"
    assert main(["demo", "--out", str(out), "--pseudonymize"]) == 0
    ids = pd.read_csv(ofa_len_paths()["clinical"])["patient_id"].tolist()
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".html"):
            text = path.read_text()
            leaked = [i for i in ids if i in text]
            assert not leaked, (path.name, leaked[:3])
    assert "S001" in (out / "tables" / "features.csv").read_text()


@pytest.mark.slow
def test_report_escapes_patient_ids_from_the_data(tmp_path):
    import immune_correlates as ic
    from immune_correlates.report.build import make_report

    trial = ic.simulate(seed=5)
    evil = "<script>alert(1)</script>"
    tables = {k: v.copy() for k, v in trial.tables.items()}
    first = tables["clinical"]["patient_id"].iloc[0]
    for t in tables.values():
        t["patient_id"] = t["patient_id"].replace(first, evil)
    cohort = ic.read_cohort(**tables)
    # make sure the evil id lands in a reported table: its function assays are removed
    cohort = ic.read_cohort(
        tables["clinical"],
        tables["immunophenotype"],
        tables["function_assays"][tables["function_assays"]["patient_id"] != evil],
        tables["adverse_events"],
    )
    make_report(cohort, tmp_path / "r")
    html = (tmp_path / "r" / "report.html").read_text()
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.slow  # more than two seconds: full suite only
def test_interrupted_run_leaves_previous_report_untouched(demo_dir, tmp_path, monkeypatch):
    import shutil

    import immune_correlates.report.build as build

    target = tmp_path / "r"
    shutil.copytree(demo_dir, target)
    before = (target / "report.html").read_bytes()

    def boom(*a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(build, "render_report", boom)
    with pytest.raises(RuntimeError):
        build.make_report(__import__("immune_correlates").datasets.load_ofa_len(), target)
    assert (target / "report.html").read_bytes() == before
    assert not list(tmp_path.glob(".*partial*"))


@pytest.mark.slow
def test_simulate_writes_a_readable_cohort(tmp_path):
    import immune_correlates as ic

    assert main(["simulate", "--out", str(tmp_path / "s"), "--seed", "3", "--n-patients", "40"]) == 0
    cohort = ic.read_cohort(
        *(tmp_path / "s" / f"{n}.csv" for n in ("clinical", "immunophenotype", "function_assays", "adverse_events"))
    )
    assert cohort.n_patients == 40


@pytest.mark.slow
def test_power_command_writes_table_and_figure(tmp_path, capsys):
    assert (
        main(
            [
                "power",
                "--n",
                "20",
                "34",
                "--analysis",
                "wilcoxon",
                "--n-sim",
                "50",
                "--seed",
                "3",
                "--out",
                str(tmp_path / "pw"),
            ]
        )
        == 0
    )
    table = pd.read_csv(tmp_path / "pw" / "power.csv")
    power = table[table["estimand"] == "power"]
    assert power["n"].tolist() == [20, 34] and power["value"].between(0, 1).all()
    assert (tmp_path / "pw" / "power.png").stat().st_size > 1000
    again = tmp_path / "again"
    assert (
        main(
            ["power", "--n", "20", "34", "--analysis", "wilcoxon", "--n-sim", "50", "--seed", "3", "--out", str(again)]
        )
        == 0
    )
    assert (again / "power.csv").read_bytes() == (tmp_path / "pw" / "power.csv").read_bytes()


def test_power_command_rejects_bad_arguments(tmp_path):
    code, _, err = _run_cli(["power", "--analysis", "bogus", "--n-sim", "5"], tmp_path)
    assert code == 2 and "analysis='bogus' is not allowed" in err and "Traceback" not in err
    code, _, err = _run_cli(["power", "--n", "2"], tmp_path)
    assert code == 2 and "at least 4" in err


@pytest.mark.slow
def test_exclude_flagged_values_are_reported_in_the_exclusions(tmp_path):
    (tmp_path / "analysis.toml").write_text("[features]\nexclude_flagged = true\n\n[analysis]\nn_perm = 0\n")
    args = ["analyze", "--config", str(tmp_path / "analysis.toml"), "--out", str(tmp_path / "o")]
    for name, path in ofa_len_paths().items():
        args += [f"--{name.replace('_', '-')}", str(path)]
    assert main(args) == 0
    excl = pd.read_csv(tmp_path / "o" / "tables" / "exclusions.csv")
    flagged = excl[excl["reason"].str.contains("events", na=False)]
    assert len(flagged) > 0 and set(flagged["step"]) == {"features"}
    screen_cr = pd.read_csv(tmp_path / "o" / "tables" / "screen_cr.csv")
    assert "p_maxt" not in screen_cr.columns  # n_perm = 0: no permutations


@pytest.mark.slow  # more than two seconds: full suite only
def test_output_path_that_is_a_file_exits_2(tmp_path):
    (tmp_path / "taken").write_text("not a directory")
    code, _, err = _run_cli(["demo", "--out", "taken/report"], tmp_path)
    assert code == 2 and "Traceback" not in err and "taken" in err
