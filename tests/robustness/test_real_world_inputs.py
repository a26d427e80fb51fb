"""Inputs as clinical databases, Excel and flow software really export them (issue 13).

One test (or a small parametrised family) per class of problem: each gives a correct
result or one clear error naming file, column, patient and value, never a silent
wrong number.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths


@pytest.fixture(scope="module")
def raw():
    return {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}


def _error(call) -> ic.InputError:
    with pytest.raises(ic.InputError) as info:
        call()
    return info.value


# --- duplicate column names --------------------------------------------------------------------------------------


def _with_duplicate_alc(clinical: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The clinical table with a second ``alc`` column in cells/uL placed first."""
    header = list(clinical.columns)
    rows = clinical.values.tolist()
    k = header.index("alc")
    header.insert(k, "alc")
    for r in rows:
        r.insert(k, str(float(r[k + 1]) * 1000))  # cells/uL, 1000x the documented unit
    return header, rows


@pytest.mark.parametrize("fmt", ["csv", "tsv", "xlsx", "parquet", "pandas"])
def test_duplicate_column_names_are_caught_in_every_format(tmp_path, raw, fmt):
    header, rows = _with_duplicate_alc(raw["clinical"])
    path = tmp_path / f"clinical.{fmt if fmt != 'pandas' else 'csv'}"
    if fmt in ("csv", "tsv", "pandas"):
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, delimiter="\t" if fmt == "tsv" else ",").writerows([header, *rows])
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        for r in [header, *rows]:
            book.active.append(r)
        book.save(path)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table([pa.array([r[i] for r in rows]) for i in range(len(header))], names=header), path)
    # a notebook user reads the CSV with pandas first: pandas renames the second column to alc.1
    source = pd.read_csv(path, dtype=str, keep_default_na=False) if fmt == "pandas" else path
    err = _error(lambda: ic.read_cohort(source))
    assert "'alc'" in str(err)
    assert ("more than once" in str(err)) if fmt != "pandas" else ("'alc.1' next to 'alc'" in str(err))


# --- control, bidirectional and invisible characters -------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id, shown",
    [("OL\x00002", "U+0000"), ("OL\u202e200", "U+202E"), ("OL\u200b002", "U+200B"), ("OL\x1b002", "U+001B")],
)
def test_hidden_characters_in_ids_are_rejected(tmp_path, raw, bad_id, shown):
    clinical = raw["clinical"].copy()
    clinical.loc[1, "patient_id"] = bad_id
    path = tmp_path / "clinical.csv"
    clinical.to_csv(path, index=False)
    err = _error(lambda: ic.read_cohort(path))
    assert "'clinical.csv'" in str(err) and "'patient_id'" in str(err)
    assert "control, bidirectional or invisible" in str(err) and shown in str(err)
    assert f"patient_id={bad_id!r}" in str(err)


def test_nul_inside_a_number_is_reported_not_truncated(tmp_path, raw):
    text = ofa_len_paths()["immunophenotype"].read_text(encoding="utf-8")
    line = text.splitlines()[2]  # OL001, Lymphocytes/CD3+
    fields = line.split(",")
    fields[3] = fields[3][0] + "\x00" + fields[3][1:]
    path = tmp_path / "immunophenotype.csv"
    path.write_text(text.replace(line, ",".join(fields), 1), encoding="utf-8")
    err = _error(lambda: ic.read_cohort(ofa_len_paths()["clinical"], immunophenotype=path))
    assert "'freq_of_parent'" in str(err) and f"value={fields[3]!r}" in str(err) and "patient_id='OL001'" in str(err)


def test_hidden_characters_in_other_key_text_are_rejected(raw):
    gates = raw["immunophenotype"].copy()
    gates.loc[3, "gating_path"] = "Lymphocytes/CD3+\u202e"
    err = _error(lambda: ic.read_cohort(raw["clinical"], immunophenotype=gates))
    assert "'gating_path'" in str(err) and "U+202E" in str(err)


def test_html_shows_control_and_bidi_characters_instead_of_obeying_them():
    from immune_correlates.report.html import render_report, table_payload

    table = table_payload(pd.DataFrame({"patient_id": ["OL\u202e100", "<b>x</b>\x07"], "x": [1.0, 2.0]}))
    html = render_report("t", "sub\u2067", [{"title": "s", "text": "a\u200fb", "tables": [table], "figures": []}], {})
    assert not any(ch in html for ch in "\u202e\u2067\u200f\x07")
    assert "OL[U+202E]100" in html and "[U+2067]" in html and "[U+200F]" in html and "[U+0007]" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


# --- dates as Parquet, pandas and Excel give them ----------------------------------------------------------------


def test_datetime_columns_with_missing_dates_are_read(tmp_path, raw):
    reference = ic.read_cohort(raw["clinical"])
    typed = raw["clinical"].copy()
    for col in ("treatment_start", "last_followup", "progression_date", "death_date"):
        typed[col] = pd.to_datetime(typed[col].replace("", None))
    assert typed["death_date"].isna().any()  # NaT in a datetime64 column
    from_frame = ic.read_cohort(typed)
    path = tmp_path / "clinical.parquet"
    typed.to_parquet(path, index=False)
    from_parquet = ic.read_cohort(path)
    csv_path = tmp_path / "clinical.csv"
    raw["clinical"].to_csv(csv_path, index=False)
    notebook = ic.read_cohort(
        pd.read_csv(csv_path, parse_dates=["treatment_start", "progression_date", "death_date", "last_followup"])
    )
    for cohort in (from_frame, from_parquet, notebook):
        pd.testing.assert_frame_equal(cohort.clinical, reference.clinical, check_dtype=False)


def test_midnight_timestamps_are_dates_other_times_are_refused(raw):
    clinical = raw["clinical"].copy()
    clinical["treatment_start"] = clinical["treatment_start"] + " 00:00:00"
    clinical.loc[0, "last_followup"] += "T00:00"
    cohort = ic.read_cohort(clinical)
    pd.testing.assert_frame_equal(cohort.clinical, ic.read_cohort(raw["clinical"]).clinical)
    clinical.loc[2, "death_date"] = clinical.loc[2, "death_date"] + " 13:45:00"
    err = _error(lambda: ic.read_cohort(clinical))
    assert "'death_date'" in str(err) and "time of day" in str(err) and "patient_id='OL003'" in str(err)


# --- messages that point at the cause -----------------------------------------------------------------------------


def test_absurd_alc_is_caught_at_input(raw):
    clinical = raw["clinical"].copy()
    clinical.loc[4, "alc"] = "1e308"
    err = _error(lambda: ic.read_cohort(clinical, immunophenotype=raw["immunophenotype"]))
    msg = str(err)
    assert "<clinical DataFrame>" in msg and "'alc'" in msg and "value='1e308'" in msg
    assert f"patient_id={clinical.loc[4, 'patient_id']!r}" in msg and "10^9/L" in msg


def test_semicolon_delimited_file_gets_a_delimiter_hint(tmp_path, raw):
    path = tmp_path / "clinical.csv"
    raw["clinical"].to_csv(path, sep=";", index=False)
    err = _error(lambda: ic.read_cohort(path))
    assert "'clinical.csv'" in str(err) and "semicolon-delimited" in str(err) and "CSV UTF-8" in str(err)


def test_out_naming_an_existing_file_fails_before_any_analysis(tmp_path, monkeypatch, capsys):
    from immune_correlates import cli
    from immune_correlates.report import build

    def never(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr(build, "make_report", never)
    target = tmp_path / "report.html"
    target.write_text("keep me")
    code = cli.main(["analyze", "--clinical", str(ofa_len_paths()["clinical"]), "--out", str(target)])
    assert code == 2 and "existing file" in capsys.readouterr().err
    assert target.read_text() == "keep me"


def test_timepoint_spelling_variants_are_unified_not_dropped(raw):
    gates = raw["immunophenotype"].copy()
    first = gates["patient_id"] == "OL001"
    gates.loc[first, "timepoint"] = " Baseline "
    assays = raw["function_assays"].copy()
    assays.loc[assays["patient_id"] == "OL002", "timepoint"] = "BASELINE"
    cohort = ic.read_cohort(raw["clinical"], immunophenotype=gates, function_assays=assays)
    assert set(cohort.immunophenotype["timepoint"]) == {"baseline"} == set(cohort.function_assays["timepoint"])
    assert any("' Baseline ' -> 'baseline'" in n for n in cohort.notes)
    features = ic.derive_features(cohort)
    assert features.loc["OL001"].notna().sum() > 10 and features.loc["OL002"].notna().sum() > 10


# --- impossible data ----------------------------------------------------------------------------------------------


def test_child_gate_with_more_events_than_its_parent_is_rejected(raw):
    gates = raw["immunophenotype"].copy()
    row = gates.index[(gates["patient_id"] == "OL002") & (gates["gating_path"] == "Lymphocytes/CD3+/CD4+")][0]
    parent = gates[(gates["patient_id"] == "OL002") & (gates["gating_path"] == "Lymphocytes/CD3+")]
    gates.loc[row, "event_count"] = str(int(parent["event_count"].iloc[0]) + 1)
    err = _error(lambda: ic.read_cohort(raw["clinical"], immunophenotype=gates))
    msg = str(err)
    assert "more events than their parent" in msg and "'event_count'" in msg and "patient_id='OL002'" in msg
    assert "gating_path='Lymphocytes/CD3+/CD4+'" in msg


def test_follow_up_dates_in_the_future_are_rejected(raw):
    clinical = raw["clinical"].copy()
    clinical.loc[6, "last_followup"] = "2102-06-30"  # 2012 typed as 2102
    err = _error(lambda: ic.read_cohort(clinical))
    assert "'last_followup'" in str(err) and "in the future" in str(err) and "value='2102-06-30'" in str(err)


# --- every problem of every file in one pass ----------------------------------------------------------------------


def test_one_pass_reports_every_problem_of_every_file(raw):
    clinical = raw["clinical"].copy()
    clinical.loc[[0, 1], "treatment_start"] = ["05/09/2011", "14.08.2011"]
    clinical.loc[2, "best_response"] = "VGPR"
    clinical.loc[3, "sex"] = "male"
    clinical.loc[:24, "alc"] = "n/a"  # 25 rows: 20 listed, then a count
    gates = raw["immunophenotype"].copy()
    gates.loc[0, "patient_id"] = "ZZ999"
    assays = raw["function_assays"].copy()
    assays.loc[1, "unit"] = "percent"
    err = _error(lambda: ic.read_cohort(clinical, immunophenotype=gates, function_assays=assays))
    assert isinstance(err, ValueError) and len(err.problems) == 6
    assert [(p.source, p.column) for p in err.problems] == [
        ("<clinical DataFrame>", "treatment_start"),
        ("<clinical DataFrame>", "best_response"),
        ("<clinical DataFrame>", "alc"),
        ("<clinical DataFrame>", "sex"),
        ("<function_assays DataFrame>", "unit"),
        ("<immunophenotype DataFrame>", "patient_id"),
    ]
    msg = str(err)
    assert msg.startswith("6 problems in the input tables; nothing was computed")
    assert (
        msg.index("file '<clinical DataFrame>':")
        < msg.index("column 'alc'")
        < msg.index("column 'sex'")
        < msg.index("file '<immunophenotype DataFrame>':")
    )
    assert "value='05/09/2011'" in msg and "value='14.08.2011'" in msg and "VGPR" in msg and "'male'" in msg
    assert msg.count("value='n/a'") == 20 and "... and 5 more" in msg
    assert "patient_id='ZZ999'" in msg and "'percent'" in msg
    assert {"file", "column", "patient_id"} <= set(err.rows[0])
    assert err.first_line.endswith("(+5 more problems; see the full message)")


def test_command_line_prints_one_line_per_problem(tmp_path, raw, capsys):
    from immune_correlates.cli import main

    clinical = raw["clinical"].copy()
    clinical.loc[0, "sex"] = "male"
    clinical.loc[1, "treatment_start"] = "05/09/2011"
    clinical.to_csv(tmp_path / "clin.csv", index=False)
    gates = raw["immunophenotype"].copy()
    gates.loc[5, "freq_of_parent"] = "12%"
    gates.to_csv(tmp_path / "gates.csv", index=False)
    code = main(
        [
            "analyze",
            "--clinical",
            str(tmp_path / "clin.csv"),
            "--immunophenotype",
            str(tmp_path / "gates.csv"),
            "--out",
            str(tmp_path / "o"),
        ]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and not (tmp_path / "o").exists()
    assert lines[0] == "immune-correlates: error: 3 problems in the input; nothing was computed:"
    assert "'treatment_start'" in lines[1] and "'05/09/2011'" in lines[1]
    assert "'sex'" in lines[2] and "'male'" in lines[2]
    assert "gates.csv" in lines[3] and "'12%'" in lines[3] and len(lines) == 4


def test_problems_in_several_files_are_all_reported_even_when_one_is_unreadable(tmp_path, raw):
    missing = tmp_path / "no_such_file.csv"
    clinical = raw["clinical"].assign(sex="X")
    err = _error(lambda: ic.read_cohort(clinical, immunophenotype=missing))
    assert {p.source for p in err.problems} == {"<clinical DataFrame>", "no_such_file.csv"}


# --- the site's own column names ----------------------------------------------------------------------------------

SITE_NAMES = {"Patient ID": "patient_id", "Start of therapy": "treatment_start", "ALC (10^9/L)": "alc"}


def test_columns_map_the_sites_names_to_ours(tmp_path, raw):
    reference = ic.read_cohort(raw["clinical"], immunophenotype=raw["immunophenotype"])
    site = {k: v.rename(columns={v_: k_ for k_, v_ in SITE_NAMES.items()}) for k, v in raw.items()}
    path = tmp_path / "clinical.xlsx"
    site["clinical"].to_excel(path, index=False)
    mapped = ic.read_cohort(
        path,
        immunophenotype=site["immunophenotype"],
        columns={" patient id": "patient_id", "START OF THERAPY": "treatment_start", "ALC (10^9/L)": "alc"},
    )
    pd.testing.assert_frame_equal(mapped.clinical, reference.clinical, check_dtype=False)
    pd.testing.assert_frame_equal(mapped.immunophenotype, reference.immunophenotype)
    err = _error(
        lambda: ic.read_cohort(
            path,
            columns={
                "Patient ID": "patient_id",
                "Start of therapy": "treatment_start",
                "ALC (10^9/L)": "alc",
                "Sexe": "sex",
            },
        )
    )
    assert "'sexe'" in str(err) and "no table has" in str(err)
    err = _error(lambda: ic.read_cohort(path, columns={"Patient ID": "subject"}))
    assert "'subject'" in str(err) and "not a column of any input table" in str(err)
    err = _error(lambda: ic.read_cohort(raw["clinical"], columns={"best_response": "patient_id"}))
    assert "more than once" in str(err) and "'best_response'" in str(err)


def test_columns_section_of_analysis_toml(tmp_path):
    from immune_correlates.report.config import load_config

    cfg = tmp_path / "analysis.toml"
    cfg.write_text('[columns]\n"Patient ID" = "patient_id"\n"ALC (10^9/L)" = "alc"\n', encoding="utf-8")
    assert load_config(cfg).columns == {"Patient ID": "patient_id", "ALC (10^9/L)": "alc"}
    cfg.write_text('[columns]\n"Patient ID" = "pid"\n', encoding="utf-8")
    with pytest.raises(ic.ConfigError, match="'pid'"):
        load_config(cfg)
    cfg.write_text('[columns]\n"Patient ID" = 3\n', encoding="utf-8")
    with pytest.raises(ic.ConfigError, match="must map to a column name"):
        load_config(cfg)


@pytest.mark.parametrize(
    "logistic, cox, expected", [("ml", "ml", ("logistic", "cox")), ("firth", "firth", ("firth", "firth_cox"))]
)
def test_documented_models_values_reach_the_screen(logistic, cox, expected):
    from immune_correlates.report.config import load_config

    cfg = load_config({"models": {"logistic": logistic, "cox": cox}})
    assert cfg.screen_models == expected
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    table = ic.screen(frame, ["cd8_per_ul"], outcome="cr", model=cfg.screen_models[0])
    direct = ic.fit_logistic(frame, "cr", ["cd8_per_ul"], method=logistic)  # both follow the one convention
    assert table["p_value"].iloc[0] == pytest.approx(direct.pvalues["cd8_per_ul"], rel=1e-8)


# --- spreadsheet formula injection --------------------------------------------------------------------------------


def test_output_tables_neutralise_formulas_and_keep_numbers(tmp_path):
    from immune_correlates.report.writer import write_outputs

    cells = [
        '=HYPERLINK("http://x","click")',
        "+cd8_ifng_pct, nk_cd107a_pct",
        "-2+3",
        "@SUM(A1)",
        "\tTAB",
        "\rCR",
        "OL001",
        "-3.5",
        "+1e3",
    ]
    table = pd.DataFrame(
        {
            "patient_id": cells,
            "reason": ["r"] * len(cells),
            "value": np.arange(len(cells)) - 4.5,
            "n": np.arange(len(cells)) - 3,
        }
    )
    write_outputs(
        tmp_path / "out",
        tables={"exclusions": table, "feature_catalogue": ic.feature_catalogue()},
        figures={},
        results={},
        html="<html></html>",
    )
    with open(tmp_path / "out" / "tables" / "exclusions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["patient_id"] for r in rows] == [
        '\'=HYPERLINK("http://x","click")',
        "'+cd8_ifng_pct, nk_cd107a_pct",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTAB",
        "'\rCR",
        "OL001",
        "-3.5",
        "+1e3",
    ]
    assert [float(r["value"]) for r in rows] == list(np.arange(len(cells)) - 4.5)  # numbers stay numbers
    assert [int(r["n"]) for r in rows] == list(np.arange(len(cells)) - 3)
    catalogue = pd.read_csv(tmp_path / "out" / "tables" / "feature_catalogue.csv", dtype=str, keep_default_na=False)
    for col in catalogue.columns:
        text = catalogue[col][~catalogue[col].map(_is_number)]
        assert not text.str.match(r"^[=+\-@\t\r]").any(), col


def _is_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


# --- CSV dialects and Excel -------------------------------------------------------------------------------------


def _excel_csv_utf8(xlsx, path) -> None:
    """What Excel's "Save as CSV UTF-8" writes: BOM, CRLF, cells as displayed (dates with their time format)."""
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in sheet.iter_rows(values_only=True):
        writer.writerow(
            [
                ""
                if v is None
                else v.strftime("%Y-%m-%d %H:%M:%S")
                if hasattr(v, "strftime")
                else (f"{v:.15g}" if isinstance(v, float) else v)
                for v in row
            ]
        )
    path.write_bytes(b"\xef\xbb\xbf" + out.getvalue().encode("utf-8"))


def _as_excel_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as Excel holds them once a user has opened and saved the file: numbers, dates, text."""
    out = frame.copy()
    for col in out.columns:
        values = out[col].replace("", None)
        if col.endswith(("_date", "_start", "_followup")):
            out[col] = pd.to_datetime(values)
        elif col != "patient_id":
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.notna().sum() == values.notna().sum():
                out[col] = numbers
    return out


@pytest.mark.slow  # more than two seconds: full suite only
def test_full_analysis_is_unchanged_by_an_excel_round_trip(tmp_path, raw):
    from immune_correlates.report import run_analysis
    from immune_correlates.report.config import load_config

    config = load_config({"models": {"logistic": "ml"}, "analysis": {"n_perm": 20}})
    csvs = {}
    for name, table in raw.items():
        xlsx = tmp_path / f"{name}.xlsx"
        _as_excel_types(table).to_excel(xlsx, index=False)  # written by openpyxl
        csvs[name] = tmp_path / f"{name}.csv"
        _excel_csv_utf8(xlsx, csvs[name])
    assert csvs["clinical"].read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in csvs["clinical"].read_bytes()
    assert b"00:00:00" in csvs["clinical"].read_bytes()
    original = ic.read_cohort(**ofa_len_paths())
    via_xlsx = ic.read_cohort(**{k: tmp_path / f"{k}.xlsx" for k in raw})
    via_csv = ic.read_cohort(**csvs)
    for cohort in (via_xlsx, via_csv):
        pd.testing.assert_frame_equal(cohort.clinical, original.clinical, check_dtype=False)
        for name in ("immunophenotype", "function_assays", "adverse_events"):
            pd.testing.assert_frame_equal(getattr(cohort, name), getattr(original, name), check_dtype=False)
    want = run_analysis(original, config)
    got = run_analysis(via_csv, config)
    assert sorted(got.tables) == sorted(want.tables)
    for name, table in want.tables.items():
        pd.testing.assert_frame_equal(got.tables[name], table, check_dtype=False, rtol=1e-12, obj=name)


def test_missing_columns_and_bad_cells_of_several_tables_are_reported_together(raw):
    assays = raw["function_assays"].drop(columns=["assay", "condition"])
    assays.loc[0, "value"] = "150"  # would need assay and condition to be reported by unit range
    gates = raw["immunophenotype"].drop(columns="timepoint")
    err = _error(lambda: ic.read_cohort(raw["clinical"], immunophenotype=gates, function_assays=assays))
    assert [(p.source, p.column) for p in err.problems] == [
        ("<immunophenotype DataFrame>", "timepoint"),
        ("<function_assays DataFrame>", "assay"),
    ]
    assert "['assay', 'condition']" in str(err)


def test_blank_header_cells_from_stray_delimiters_are_ignored(tmp_path, raw):
    path = tmp_path / "clinical.csv"
    text = ofa_len_paths()["clinical"].read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([text[0] + ",,"] + [line + ",," for line in text[1:]]) + "\n", encoding="utf-8")
    cohort = ic.read_cohort(path)
    pd.testing.assert_frame_equal(cohort.clinical.iloc[:, :-2], ic.read_cohort(raw["clinical"]).clinical)
