"""Maximally selected log-rank statistics against maxstat::maxstat.test."""

from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning
from immune_correlates.stats.survival.cutpoint import optimal_cutpoint

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
CASES = [
    ("maxstat_dlbcl.csv", "mge", "dlbcl", 0.1),
    ("maxstat_dlbcl.csv", "ipi", "dlbcl_ipi", 0.1),
    ("maxstat_lung.csv", "age", "lung", 0.1),
    ("maxstat_lung.csv", "age", "lung_02", 0.2),
]


def _fit(fname, feature, minprop, **kw):
    data = pd.read_csv(FIX / fname)
    incomplete = data[[feature, "time", "event"]].isna().any().any()
    with pytest.warns(MissingDataWarning) if incomplete else nullcontext():
        return optimal_cutpoint(data, feature, "time", "event", minprop=minprop, **kw)


@pytest.mark.parametrize("fname,feature,tag,minprop", CASES)
def test_statistics_cutpoint_and_lausen_pvalues_match_maxstat(fname, feature, tag, minprop):
    ref = pd.read_csv(FIX / f"maxstat_{tag}_p.csv").iloc[0]
    table = pd.read_csv(FIX / f"maxstat_{tag}_stats.csv")
    res = _fit(fname, feature, minprop)
    np.testing.assert_allclose(res.table["cutpoint"], table["cut"], rtol=1e-12)
    np.testing.assert_allclose(res.table["statistic"], table["statistic"], rtol=1e-9)
    np.testing.assert_allclose([res.statistic, res.cutpoint], [ref["statistic"], ref["cutpoint"]], rtol=1e-9)
    np.testing.assert_allclose(res.pvalue, ref["p_lau92"], rtol=1e-9)
    res94 = _fit(fname, feature, minprop, pmethod="lausen94")
    np.testing.assert_allclose(res94.pvalue, ref["p_lau94"], rtol=1e-9)


@pytest.mark.parametrize("fname,feature,tag,minprop", CASES)
def test_exact_gaussian_pvalue_agrees_with_maxstat_exactgauss(fname, feature, tag, minprop):
    # maxstat integrates with randomized Genz-Bretz quadrature (it warns that the
    # 1e-7 target was not met); ours is deterministic Gauss-Legendre quadrature of
    # the Markov chain of split statistics, converged to ~1e-10.  The two agree to
    # 2e-3 relative (R's own error); an independent 4e6-draw simulation on DLBCL
    # gives 0.018527 +- 0.00007 against our 0.0185580 and R's 0.0185856.
    ref = pd.read_csv(FIX / f"maxstat_{tag}_p.csv").iloc[0]
    res = _fit(fname, feature, minprop, pmethod="exact")
    np.testing.assert_allclose(res.pvalue, ref["p_exact_gauss"], rtol=2e-3)


@pytest.mark.parametrize("fname,feature,tag,minprop", CASES)
def test_permutation_pvalue_is_reproducible_and_within_monte_carlo_error_of_condmc(fname, feature, tag, minprop):
    ref = pd.read_csv(FIX / f"maxstat_{tag}_p.csv").iloc[0]
    a = _fit(fname, feature, minprop, pmethod="permutation", n_perm=20000, seed=42)
    b = _fit(fname, feature, minprop, pmethod="permutation", n_perm=20000, seed=42)
    assert a.pvalue == b.pvalue and a.n_perm == 20000
    se = np.sqrt(2 * ref["p_condmc"] * (1 - ref["p_condmc"]) / 20000)  # both are 20000-draw estimates
    assert abs(a.pvalue - ref["p_condmc"]) < 4 * se


def test_summary_and_errors():
    data = pd.read_csv(FIX / "maxstat_lung.csv")
    res = optimal_cutpoint(data, "age", "time", "event")
    assert res.summary().loc[0, "cutpoint"] == 70
    assert "Maximally selected" in res._repr_html_()
    with pytest.raises(ImmuneCorrelatesError, match="pmethod must be one of"):
        optimal_cutpoint(data, "age", "time", "event", pmethod="HL")
    with pytest.raises(ImmuneCorrelatesError, match="no events"):
        optimal_cutpoint(data.assign(event=0), "age", "time", "event")
