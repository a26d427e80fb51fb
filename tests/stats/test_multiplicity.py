"""p-value adjustment against R p.adjust, including missing p-values."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.multiplicity import adjust_pvalues

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.mark.parametrize("method,column", [("fdr_bh", "BH"), ("holm", "holm"), ("bonferroni", "bonferroni")])
def test_adjusted_pvalues_match_p_adjust_with_na(method, column):
    ref = pd.read_csv(FIX / "padjust.csv")
    got = adjust_pvalues(ref["p"].to_numpy(), method=method)
    np.testing.assert_array_equal(np.isnan(got), ref[column].isna())
    np.testing.assert_allclose(got[~np.isnan(got)], ref[column].dropna(), rtol=1e-12)


def test_none_returns_input_and_series_keep_their_index():
    s = pd.Series([0.2, np.nan, 0.01], index=["a", "b", "c"], name="p")
    out = adjust_pvalues(s, method="none")
    assert out.index.tolist() == ["a", "b", "c"]
    np.testing.assert_array_equal(out.to_numpy(), s.to_numpy())
    assert adjust_pvalues(s, method="BH").loc["c"] == pytest.approx(0.02)


def test_unknown_method_and_out_of_range_pvalues_are_errors():
    with pytest.raises(ImmuneCorrelatesError, match="method must be one of"):
        adjust_pvalues([0.1], method="hochberg")
    with pytest.raises(ImmuneCorrelatesError, match=r"\[0, 1\]"):
        adjust_pvalues([0.1, 1.2], method="holm")
