"""ICS Boolean subsets: Fisher positivity and BH pinned to R (tests/reference/ics.R), the
polyfunctionality index by hand and from R's evaluation of its definition, marginals by hand."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import InputError
from immune_correlates.features.ics import ics_functions, parse_subset

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def subsets():
    return pd.read_csv(FIX / "ics_subsets.csv")


def test_fisher_bh_and_polyfunctionality_match_r(subsets):
    res = ics_functions(subsets, adjust="fdr_bh")
    want = pd.read_csv(FIX / "ics_expected.csv")
    got = res.subsets.merge(want, on=["patient_id", "cell_type", "subset"], how="inner")
    assert len(got) == len(want) == 48
    np.testing.assert_allclose(got["p_value_x"], got["p_value_y"], rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(got["q_value"], got["q_value_bh"], rtol=1e-10, equal_nan=True)
    np.testing.assert_allclose(
        got["pct_background_subtracted_x"], got["pct_background_subtracted_y"], rtol=1e-12, equal_nan=True
    )
    poly = res.polyfunctionality.merge(
        want.drop_duplicates(["patient_id", "cell_type"]), on=["patient_id", "cell_type"]
    )
    np.testing.assert_allclose(poly["polyfunctionality_index_x"], poly["polyfunctionality_index_y"], rtol=1e-12)
    np.testing.assert_allclose(poly["pct_responding_x"], poly["pct_responding_y"], rtol=1e-12)
    # P03 was simulated without a response; P01/P02 with one
    assert poly.set_index(["patient_id", "cell_type"])["positive"].to_dict() == {
        ("P01", "CD4 T"): True,
        ("P01", "CD8 T"): True,
        ("P02", "CD4 T"): True,
        ("P02", "CD8 T"): True,
        ("P03", "CD4 T"): False,
        ("P03", "CD8 T"): False,
    }


def test_fractions_by_degree_and_marginals_by_hand():
    # two functions; stimulated 60/40/100 of 10000, unstimulated 2/3/5 of 10000
    rows = [
        ("P1", "bl", "CD8 T", cond, f"IFNg{a} TNF{b}", n, 10000)
        for cond, ns in [("stimulated", [60, 40, 100, 9800]), ("unstimulated", [2, 3, 5, 9990])]
        for (a, b), n in zip([("+", "+"), ("+", "-"), ("-", "+"), ("-", "-")], ns)
    ]
    df = pd.DataFrame(
        rows, columns=["patient_id", "timepoint", "cell_type", "condition", "subset", "count", "parent_count"]
    )
    res = ics_functions(df, q=2.0)
    poly = res.polyfunctionality.iloc[0]
    # responding: ++ 0.58, +- 0.37, -+ 0.95 (percent); F1 = 1.32/1.90, F2 = 0.58/1.90
    assert poly["pct_responding"] == pytest.approx(1.90, rel=1e-12)
    assert poly["fraction_1"] == pytest.approx(1.32 / 1.90, rel=1e-12)
    assert poly["fraction_2"] == pytest.approx(0.58 / 1.90, rel=1e-12)
    assert poly["polyfunctionality_index"] == pytest.approx((1.32 * 0.25 + 0.58) / 1.90, rel=1e-12)
    fa = res.function_assays.set_index(["assay", "condition"])["value"]
    assert fa[("ifng", "stimulated")] == pytest.approx(1.0) and fa[("tnf", "unstimulated")] == pytest.approx(0.07)
    assert fa[("any", "stimulated")] == pytest.approx(2.0) and fa[("polyfunctionality", "stimulated")] > 0
    assert set(res.function_assays["unit"]) == {"%", "index"}


def test_parse_subset_forms():
    assert parse_subset("IL-2+ TNFa-") == {"IL-2": True, "TNFa": False}
    assert parse_subset("CD4+/IL2- & TNFa+") == {"CD4": True, "IL2": False, "TNFa": True}
    with pytest.raises(ValueError, match="cannot read"):
        parse_subset("IFNg positive")


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.iloc[1:], "all 8 Boolean subsets"),
        (lambda d: d.assign(count=d["count"].where(d.index != 3, d["count"] + 1)), "partition their parent"),
        (lambda d: d.assign(condition=d["condition"].replace("unstimulated", "media")), "stimulated' or"),
        (lambda d: d.assign(count=d["count"].astype(float).where(d.index != 2, 1.5)), "whole number"),
        (lambda d: d.loc[d["condition"] == "stimulated"], "unstimulated well"),
    ],
)
def test_bad_tables_name_the_sample(subsets, edit, message):
    with pytest.raises(InputError, match=message) as err:
        ics_functions(edit(subsets), source="ics.csv")
    assert "ics.csv" in str(err.value)
