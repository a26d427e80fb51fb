"""Clopper-Pearson intervals and Fisher's exact test against R binom.test / fisher.test."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.stats.groups.proportions import binomial_ci, fisher_exact, r_uniroot

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.mark.parametrize("row", pd.read_csv(FIX / "binom_ci.csv").to_dict("records"))
def test_clopper_pearson_matches_binom_test_conf_int(row):
    lo, hi = binomial_ci(int(row["k"]), int(row["n"]))
    np.testing.assert_allclose([lo, hi], [row["lower"], row["upper"]], rtol=1e-9, atol=1e-14)
    lo, hi = binomial_ci(int(row["k"]), int(row["n"]), alpha=0.1)
    np.testing.assert_allclose([lo, hi], [row["lower90"], row["upper90"]], rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("bad", [(5, 4), (-1, 3), (1.5, 4), (0, 0)])
def test_binomial_ci_rejects_impossible_counts(bad):
    with pytest.raises(ImmuneCorrelatesError, match="0 <= k <= n"):
        binomial_ci(*bad)


@pytest.mark.parametrize("row", pd.read_csv(FIX / "fisher_cases.csv").to_dict("records"))
def test_fisher_pvalue_conditional_mle_and_ci_match_fisher_test(row):
    res = fisher_exact([[row["a"], row["b"]], [row["c"], row["d"]]])
    np.testing.assert_allclose(res.pvalue, row["p"], rtol=1e-6)
    for got, want in [
        (res.odds_ratio, row["odds_ratio"]),
        (res.ci_lower, row["ci_lower"]),
        (res.ci_upper, row["ci_upper"]),
    ]:
        if np.isinf(want):
            assert np.isinf(got)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-12)


def test_r_uniroot_stops_where_r_does_not_at_the_exact_root():
    # uniroot(function(x) x^2 - 2, c(0, 2))$root in R 4.2 = 1.4142133199955
    root = r_uniroot(lambda x: x * x - 2, 0.0, 2.0)
    np.testing.assert_allclose(root, 1.4142133199955, rtol=1e-12)
