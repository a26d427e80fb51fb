"""Wilcoxon/Hodges-Lehmann, Kruskal-Wallis and Jonckheere-Terpstra against R."""

from math import comb
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from immune_correlates.stats.groups.rank_tests import (
    jonckheere_terpstra,
    kruskal_wallis,
    mann_whitney_pmf,
    wilcoxon_rank_sum,
)

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6


def _cases():
    data = pd.read_csv(FIX / "wilcox_cases_data.csv")
    ref = pd.read_csv(FIX / "wilcox_cases.csv").set_index("case")
    for case, g in data.groupby("case", sort=False):
        yield pytest.param(
            g.loc[g.side == "x", "value"].to_numpy(),
            g.loc[g.side == "y", "value"].to_numpy(),
            ref.loc[case],
            id=case,
        )


@pytest.mark.parametrize("x,y,ref", list(_cases()))
def test_wilcoxon_w_p_hodges_lehmann_and_ci_match_wilcox_test(x, y, ref):
    res = wilcoxon_rank_sum(x, y)
    assert res.statistic == ref["W"]
    np.testing.assert_allclose(res.pvalue, ref["p"], rtol=RTOL)
    # asymptotic estimate and interval are uniroot roots (tol 1e-4): reproduced iterate by iterate
    np.testing.assert_allclose(res.estimate, ref["estimate"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose([res.ci_lower, res.ci_upper], [ref["ci_lower"], ref["ci_upper"]], rtol=1e-5, atol=1e-12)


def test_exact_wilcoxon_is_used_only_without_ties_and_below_50():
    rng = np.random.default_rng(1)
    assert wilcoxon_rank_sum(rng.normal(size=10), rng.normal(size=12)).exact
    assert not wilcoxon_rank_sum([1, 2, 2, 3], [0, 1, 5]).exact
    assert not wilcoxon_rank_sum(rng.normal(size=50), rng.normal(size=12)).exact


@pytest.mark.parametrize("m,n", [(1, 1), (3, 5), (7, 4), (12, 15)])
def test_mann_whitney_pmf_counts_arrangements_like_scipy(m, n):
    pmf = mann_whitney_pmf(m, n)
    assert pmf.size == m * n + 1
    np.testing.assert_allclose(pmf.sum(), 1.0, rtol=1e-14)
    # brute force: U for every choice of x positions among m + n ranks
    counts = np.zeros(m * n + 1)
    if comb(m + n, m) < 300_000:
        from itertools import combinations

        for pos in combinations(range(m + n), m):
            u = sum(p - i for i, p in enumerate(pos))
            counts[u] += 1
        np.testing.assert_allclose(pmf, counts / counts.sum(), rtol=1e-12)
    rng = np.random.default_rng(m * 100 + n)
    x, y = rng.normal(0.5, size=m), rng.normal(size=n)
    ours = wilcoxon_rank_sum(x, y).pvalue
    assert ours == pytest.approx(stats.mannwhitneyu(x, y, method="exact").pvalue, rel=1e-9)


def test_kruskal_wallis_matches_kruskal_test_on_lung_age_by_ecog():
    lung = pd.read_csv(FIX / "km_lung.csv").dropna(subset=["ph_ecog"])
    ref = pd.read_csv(FIX / "kruskal_lung_age_ecog.csv").iloc[0]
    h, df, p = kruskal_wallis([g["age"].to_numpy() for _, g in lung.groupby("ph_ecog")])
    np.testing.assert_allclose([h, p], [ref["H"], ref["p"]], rtol=RTOL)
    assert df == ref["df"]


def test_jonckheere_exact_and_normal_match_definition_in_r():
    d = pd.read_csv(FIX / "jt_case_data.csv")
    ref = pd.read_csv(FIX / "jt_case.csv").iloc[0]
    samples = [d.loc[d.g == lev, "x"].to_numpy() for lev in ["NR", "PR", "CR"]]
    exact = jonckheere_terpstra(samples)
    assert exact.exact and exact.statistic == ref["J"]
    np.testing.assert_allclose(exact.pvalue, ref["p_exact"], rtol=RTOL)
    normal = jonckheere_terpstra(samples, exact=False)
    np.testing.assert_allclose(
        [normal.variance, normal.z, normal.pvalue], [ref["var"], ref["z"], ref["p_normal"]], rtol=RTOL
    )


def test_jonckheere_with_ties_uses_tie_corrected_variance():
    d = pd.read_csv(FIX / "groups_data.csv")
    ref = pd.read_csv(FIX / "groups_kruskal_jt.csv").set_index("feature").loc["f_ties"]
    res = jonckheere_terpstra([d.loc[d.response_group == g, "f_ties"] for g in ["NR", "PR", "CR"]])
    assert not res.exact
    np.testing.assert_allclose(
        [res.statistic, res.variance, res.pvalue], [ref["J"], ref["var"], ref["p_normal"]], rtol=RTOL
    )
