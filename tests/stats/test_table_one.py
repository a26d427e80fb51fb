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


COLUMN = {"0": "group2 = 0", "1": "group2 = 1"}


def _numbers(cell: str) -> tuple[list[float], float]:
    """The numbers of ``"1,686 [1,491, 2,579]"`` and half of the last printed decimal place."""
    parts = cell.replace("[", " ").replace("]", " ").replace(", ", " ").split()
    decimals = len(parts[0].split(".")[1]) if "." in parts[0] else 0
    return [float(v.replace(",", "")) for v in parts], 0.5 * 10.0**-decimals


@pytest.mark.parametrize("grouping", ["group2", "group3"])
def test_every_row_matches_r(data, reference, grouping):
    t1 = ic.table_one(data, grouping, ["age", "marker", "sex", "del17p", "stage"])
    heads = t1[t1["level"].eq("") | t1["kind"].eq("dichotomous")].set_index("variable")
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
            col = COLUMN.get(r["group"], r["group"]) if grouping == "group2" else r["group"]
            assert head[f"missing_{col}"] == r["n_missing"]
            if head["kind"] == "continuous":
                # printed to the decimals gtsummary chooses: equal to R's type-2 quartiles within half a unit
                values, half = _numbers(head[col])
                np.testing.assert_allclose(values, [r["median"], r["q1"], r["q3"]], rtol=0, atol=half + 1e-9)


def test_categorical_cells_are_counts_and_percentages_of_known_values(data):
    t1 = ic.table_one(data, "group2", ["stage"])
    known = data.dropna(subset=["stage"])
    for level in ("A", "B", "C"):
        row = t1[(t1["variable"] == "stage") & (t1["level"] == level)].iloc[0]
        for g in (0, 1):
            k = int(((known["stage"] == level) & (known["group2"] == g)).sum())
            m = int((known["group2"] == g).sum())
            pct = 100 * k / m
            assert row[f"group2 = {g}"] == f"{k} ({pct:.0f}%)" if pct >= 10 else f"{k} ({pct:.1f}%)"


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
        assert list(t1.columns[5:8]) == ["group2 = 0", "group2 = 1", "overall"]


def test_default_rows_are_the_clinical_baseline():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    t1 = ic.table_one(frame, "response_group")
    assert list(t1["variable"].unique()) == [
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


def test_groups_are_named_by_meaning_with_their_n():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    t1 = ic.table_one(frame, "responder")
    assert list(t1.columns[5:8]) == ["Non-responder", "Responder", "overall"]
    assert t1.attrs["group_n"] == {"Non-responder": 10, "Responder": 24, "overall": 34}
    assert t1.attrs["group_levels"] == {"Non-responder": "0", "Responder": "1"}


def test_dichotomous_variables_are_one_row_as_gtsummary():
    """0/1, boolean and yes/no variables: one row with the "1"/True/yes level (gtsummary's dichotomous type)."""
    d = pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 5,
            "zero_one": [1, 0, 0, 1, 1, 0, 0, 0, 1, 0],
            "flag": [True, False, True, True, False, False, False, True, False, False],
            "yn": ["yes", "no", "no", "yes", "yes", "no", "yes", "no", "no", "no"],
            "colour": ["red", "blue", "red", "red", "blue", "blue", "red", "blue", "blue", "red"],
        }
    )
    t1 = ic.table_one(d, "g", ["zero_one", "flag", "yn", "colour"])
    one = t1[t1["variable"].isin(["zero_one", "flag", "yn"])]
    assert len(one) == 3 and set(one["kind"]) == {"dichotomous"}
    assert one[["level", "a", "b"]].values.tolist() == [
        ["1", "3 (60%)", "1 (20%)"],
        ["True", "3 (60%)", "1 (20%)"],
        ["yes", "3 (60%)", "1 (20%)"],
    ]
    # a two-level text variable that is not yes/no keeps both levels (gtsummary's categorical type)
    assert t1.loc[t1["variable"] == "colour", "level"].tolist() == ["", "blue", "red"]


def test_numbers_are_rounded_as_gtsummary_prints_them():
    """Expected strings written from gtsummary's documented rules (style_number / style_percent /
    style_pvalue(digits = 1); decimals from the 5th-95th percentile spread; quantile type 2).
    gtsummary is not available from Debian, so these are not produced by R."""
    d = pd.DataFrame(
        {
            "g": [0] * 6 + [1] * 6,
            # spread (type 7) of the 5th-95th percentiles 1.9 < 10 -> two decimals in every cell of the row
            "score": [0.1, 0.25, 0.5, 0.75, 1.0, 1.25, 0.6, 0.7, 1.2, 1.5, 1.8, 2.0],
            # whole numbers -> no decimals; 72.5 rounds half away from zero to 73 (R's round2)
            "age": [58, 60, 63, 72, 73, 80, 55, 61, 63, 64, 70, 71],
        }
    )
    t1 = ic.table_one(d, "g", ["score", "age"]).set_index("variable")
    assert t1.loc["score", "g = 0"] == "0.63 [0.25, 1.00]"
    assert t1.loc["score", "g = 1"] == "1.35 [0.70, 1.80]"
    assert t1.loc["age", "g = 0"] == "68 [60, 73]"
    from immune_correlates._numbers import style_percent, style_pvalue

    assert [style_pvalue(p) for p in (0.95, 0.2509, 0.1725, 0.1058, 0.0995, 0.03116, 0.0009)] == [
        ">0.9",
        "0.3",
        "0.2",
        "0.11",
        "0.10",
        "0.031",
        "<0.001",
    ]
    assert [style_percent(p) for p in (0.1, 0.0999, 0.001, 0.0004)] == ["10", "10.0", "0.1", "<0.1"]
