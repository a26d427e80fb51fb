"""Any two CSV dialects of the same data give identical results (property-based, hypothesis).

A dialect is a byte order mark or not, LF or CRLF line ends, minimal or full quoting, comma
or tab separation, any column order and any case and padding of the header names. The
cohorts read must be equal table by table (values, types, row and column order), so every
result computed from them is identical; one example also compares the analysis frame
(endpoints and every derived feature). Set IC_DIALECT_EXAMPLES for a longer run.
"""

from __future__ import annotations

import csv
import io
import os
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import immune_correlates as ic
from immune_correlates.datasets import ofa_len_paths

TABLES = ("clinical", "immunophenotype", "function_assays", "adverse_events")


@pytest.fixture(scope="module")
def reference():
    raw = {k: pd.read_csv(p, dtype=str, keep_default_na=False) for k, p in ofa_len_paths().items()}
    cohort = ic.read_cohort(**ofa_len_paths())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = ic.analysis_frame(cohort)
    return raw, cohort, frame, []


@st.composite
def dialects(draw, columns: list[str]):
    return {
        "bom": draw(st.booleans()),
        "eol": draw(st.sampled_from(["\n", "\r\n"])),
        "quoting": draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL])),
        "tab": draw(st.booleans()),
        "order": draw(st.permutations(columns)),
        "header": [draw(st.sampled_from([c, c.upper(), f" {c}", c.title() + "  "])) for c in columns],
    }


def _write(table: pd.DataFrame, dialect: dict, directory, name: str):
    order = list(dialect["order"])
    header = dict(zip(table.columns, dialect["header"], strict=True))
    out = io.StringIO(newline="")
    writer = csv.writer(
        out, delimiter="\t" if dialect["tab"] else ",", quoting=dialect["quoting"], lineterminator=dialect["eol"]
    )
    writer.writerow([header[c] for c in order])
    writer.writerows(table[order].itertuples(index=False, name=None))
    path = directory / f"{name}.{'tsv' if dialect['tab'] else 'csv'}"
    path.write_bytes((b"\xef\xbb\xbf" if dialect["bom"] else b"") + out.getvalue().encode("utf-8"))
    return path


@settings(
    max_examples=int(os.environ.get("IC_DIALECT_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
@pytest.mark.slow  # more than two seconds: full suite only
def test_csv_dialects_of_the_same_data_give_identical_results(reference, tmp_path_factory, data):
    raw, want, want_frame, compared = reference
    directory = tmp_path_factory.mktemp("dialect")
    paths = {
        name: _write(raw[name], data.draw(dialects(list(raw[name].columns)), label=name), directory, name)
        for name in TABLES
    }
    got = ic.read_cohort(**paths)
    pd.testing.assert_frame_equal(got.clinical, want.clinical)
    for name in TABLES[1:]:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
    if not compared:  # deriving every feature takes seconds: once per run
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.testing.assert_frame_equal(ic.analysis_frame(got), want_frame)
        compared.append(True)
