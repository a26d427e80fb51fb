"""ic.table_one against R (tests/reference/table_one.R): Fisher r x c, Wilcoxon, Kruskal-Wallis, SMD."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import MissingDataWarning
from immune_correlates.stats.groups.table_one import fisher_exact_rxc, smd_categorical

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(FIX / "table_one_data.csv")


@pytest.fixture(scope="module")
def reference():
    return pd.read_csv(FIX / "table_one_tests.csv", keep_default_na=False, na_values=["NA"])


def test_fisher_rxc_p_values_match_r():
    ref = pd.read_csv(FIX / "fisher_rxc.csv")
    for _, row in ref.iterrows():
        cells = np.array(row["cells"].split(), dtype=int).reshape(row["nrow"], row["ncol"], order="F")
        assert fisher_exact_rxc(cells) == pytest.approx(row["p_value"], rel=1e-9, abs=1e-14), row["case"]


def test_fisher_rxc_equals_the_2x2_test():
    assert fisher_exact_rxc([[7, 2], [3, 8]]) == pytest.approx(
        ic.stats.fisher_exact([[7, 2], [3, 8]]).pvalue, rel=1e-12
    )


@pytest.mark.parametrize("grouping", ["group2", "group3"])
def test_every_row_matches_r(data, reference, grouping):
    t1 = ic.table_one(data, grouping, ["age", "marker", "sex", "del17p", "stage"])
    heads = t1[t1["level"] == ""].set_index("variable")
    ref = reference[reference["grouping"] == grouping]
    for variable, rows in ref.groupby("variable"):
        head = heads.loc[variable]
        first = rows.iloc[0]
        assert head["test"] == first["test"], variable
        np.testing.assert_allclose(head["p_value"], first["p_value"], rtol=1e-9, err_msg=variable)
        np.testing.assert_allclose(head["smd"], first["smd"], rtol=1e-9, err_msg=variable)
        if not np.isnan(first["statistic"]):
            np.testing.assert_allclose(head["statistic"], first["statistic"], rtol=1e-9, err_msg=variable)
        assert head["n_missing"] == rows["n_missing"].sum()
        for _, r in rows.iterrows():
            assert head[f"missing_{r['group']}"] == r["n_missing"]
            if head["kind"] == "continuous":
                med, q1, q3 = (float(v.strip("[],")) for v in head[r["group"]].replace("[", " [").split())
                np.testing.assert_allclose([med, q1, q3], [r["median"], r["q1"], r["q3"]], rtol=5e-3)


def test_categorical_cells_are_counts_and_percentages_of_known_values(data):
    t1 = ic.table_one(data, "group2", ["stage"])
    known = data.dropna(subset=["stage"])
    for level in ("A", "B", "C"):
        row = t1[(t1["variable"] == "stage") & (t1["level"] == level)].iloc[0]
        for g in (0, 1):
            k = int(((known["stage"] == level) & (known["group2"] == g)).sum())
            m = int((known["group2"] == g).sum())
            assert row[str(g)] == f"{k} ({100 * k / m:.1f}%)"


def test_binary_smd_is_austins_formula():
    p, q = 0.3, 0.55
    assert smd_categorical([1 - p, p], [1 - q, q]) == pytest.approx(
        abs(p - q) / np.sqrt((p * (1 - p) + q * (1 - q)) / 2), rel=1e-12
    )


def test_missing_group_is_left_out_with_the_patient_named(data):
    d = data.copy()
    d.loc[3, "group2"] = np.nan
    with pytest.warns(MissingDataWarning, match=d.loc[3, "patient_id"]):
        t1 = ic.table_one(d, "group2", ["age"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert list(t1.columns[5:8]) == ["0", "1", "overall"]


def test_default_rows_are_the_clinical_baseline():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    t1 = ic.table_one(frame, "response_group")
    assert list(t1.loc[t1["level"] == "", "variable"]) == [
        "age",
        "sex",
        "del17p",
        "ighv_unmutated",
        "prior_therapies",
        "alc",
    ]
    assert list(t1.columns[5:9]) == ["NR", "PR", "CR", "overall"]


def test_unknown_variable_is_a_clear_error(data):
    with pytest.raises(ic.ImmuneCorrelatesError, match="unknown variable"):
        ic.table_one(data, "group2", ["nope"])
