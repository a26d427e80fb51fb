"""compare_groups against R wilcox.test, fisher.test, kruskal.test, p.adjust and JT."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataError, MissingDataWarning
from immune_correlates.stats.groups.compare import compare_groups

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6
FEATURES = ["f_exact", "f_ties", "f_na", "f_const", "f_bin"]


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(FIX / "groups_data.csv")
    d["response_group"] = pd.Categorical(d["response_group"], categories=["NR", "PR", "CR"], ordered=True)
    return d


@pytest.fixture(scope="module")
def two(data):
    with pytest.warns(MissingDataWarning, match="f_na: P03, P25"):
        out = compare_groups(data, FEATURES, "response_group", groups=["CR", "NR"])
    return out.set_index("feature")


def test_two_group_wilcoxon_hodges_lehmann_and_effect_size_match_wilcox_test(two):
    ref = pd.read_csv(FIX / "groups_wilcox.csv").set_index("feature")
    got = two.loc[ref.index]
    np.testing.assert_array_equal(got["statistic"], ref["W"])
    np.testing.assert_array_equal(got["n_CR"], ref["n_x"])
    np.testing.assert_array_equal(got["n_NR"], ref["n_y"])
    assert (got["test"] == np.where(ref["exact"], "wilcoxon_exact", "wilcoxon_normal")).all()
    for ours, theirs, tol in [
        ("p_value", "p", RTOL),
        ("hodges_lehmann", "estimate", RTOL),
        ("hl_ci_lower", "ci_lower", 1e-5),
        ("hl_ci_upper", "ci_upper", 1e-5),
        ("rank_biserial", "rank_biserial", RTOL),
        ("median_CR", "median_x", RTOL),
        ("median_NR", "median_y", RTOL),
        ("q1_CR", "q1_x", RTOL),
        ("q3_NR", "q3_y", RTOL),
    ]:
        np.testing.assert_allclose(got[ours], ref[theirs], rtol=tol, atol=1e-9, err_msg=ours)
    np.testing.assert_allclose(got["q_value"], ref["q_BH"], rtol=RTOL)


def test_binary_feature_gets_fisher_with_conditional_mle_odds_ratio(two):
    ref = pd.read_csv(FIX / "groups_fisher.csv").iloc[0]
    row = two.loc["f_bin"]
    assert row["test"] == "fisher_exact"
    np.testing.assert_allclose(
        [row["p_value"], row["odds_ratio"], row["or_ci_lower"], row["or_ci_upper"]],
        [ref["p"], ref["odds_ratio"], ref["ci_lower"], ref["ci_upper"]],
        rtol=RTOL,
    )
    q = pd.read_csv(FIX / "groups_fisher_q.csv").set_index("method")
    np.testing.assert_allclose(row["q_value"], q.loc["BH", "q_fbin"], rtol=RTOL)


@pytest.mark.parametrize("adjust,column", [("holm", "q_holm"), ("bonferroni", "q_bonferroni"), ("none", "p")])
def test_q_values_follow_p_adjust_across_features(data, adjust, column):
    ref = pd.read_csv(FIX / "groups_wilcox.csv").set_index("feature")
    with pytest.warns(MissingDataWarning):
        out = compare_groups(data, FEATURES, "response_group", groups=["CR", "NR"], adjust=adjust)
    np.testing.assert_allclose(out.set_index("feature").loc[ref.index, "q_value"], ref[column], rtol=RTOL)


def test_missing_values_are_left_out_per_feature_and_listed(two, data):
    assert two.loc["f_na", "excluded"] == ["P03", "P25"]  # P14 is PR, not compared
    assert two.loc["f_exact", "excluded"] == []
    with pytest.raises(MissingDataError, match="P03"):
        compare_groups(data, ["f_na"], "response_group", groups=["CR", "NR"], missing="raise")


def test_ordered_groups_get_kruskal_wallis_and_jonckheere(data):
    ref = pd.read_csv(FIX / "groups_kruskal_jt.csv").set_index("feature")
    with pytest.warns(MissingDataWarning, match="P14"):
        out = compare_groups(data, list(ref.index), "response_group").set_index("feature")
    assert [c for c in out.columns if c.startswith("n_")] == ["n_NR", "n_PR", "n_CR"]
    assert (out["test"] == "kruskal_wallis").all()
    np.testing.assert_allclose(out["statistic"], ref["H"], rtol=RTOL)
    np.testing.assert_allclose(out["p_value"], ref["p"], rtol=RTOL)
    np.testing.assert_array_equal(out["jt_statistic"], ref["J"])
    jt_ref = np.where(ref["p_exact"].isna(), ref["p_normal"], ref["p_exact"])
    np.testing.assert_allclose(out["jt_p_value"], jt_ref, rtol=RTOL)
    assert out["jt_exact"].tolist() == ref["p_exact"].notna().tolist()


def test_unordered_groups_have_no_trend_test_unless_asked(data):
    plain = data.assign(g=data["response_group"].astype(str))
    out = compare_groups(plain, ["f_exact"], "g")
    assert "jt_p_value" not in out.columns
    assert [c for c in out.columns if c.startswith("n_")] == ["n_CR", "n_NR", "n_PR"]  # sorted
    out = compare_groups(plain, ["f_exact"], "g", groups=["NR", "PR", "CR"], ordered=True)
    ref = pd.read_csv(FIX / "groups_kruskal_jt.csv").set_index("feature").loc["f_exact"]
    np.testing.assert_allclose(out["jt_p_value"].iloc[0], ref["p_exact"], rtol=RTOL)


def test_unknown_group_and_two_group_method_on_three_groups_are_errors(data):
    with pytest.raises(ImmuneCorrelatesError, match="not found"):
        compare_groups(data, ["f_exact"], "response_group", groups=["CR", "XX"])
    with pytest.raises(ImmuneCorrelatesError, match="two groups"):
        compare_groups(data, ["f_exact"], "response_group", method="wilcoxon")


def test_missing_group_is_excluded_from_every_feature_with_a_single_warning(data):
    d = data.copy()
    d.loc[0, "response_group"] = np.nan  # P01
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = compare_groups(d, ["f_exact", "f_na"], "response_group", groups=["CR", "NR"])
    missing = [w for w in caught if issubclass(w.category, MissingDataWarning)]
    assert len(missing) == 1 and "P01" in str(missing[0].message)
    assert out["excluded"].tolist() == [["P01"], ["P01", "P03", "P25"]]


def test_rank_biserial_is_positive_when_first_group_is_larger():
    df = pd.DataFrame({"g": ["A"] * 4 + ["B"] * 4, "x": [5.0, 6, 7, 8, 1, 2, 3, 4]})
    ab = compare_groups(df, "x", "g", groups=["A", "B"]).iloc[0]
    ba = compare_groups(df, "x", "g", groups=["B", "A"]).iloc[0]
    assert ab["rank_biserial"] == 1.0 and ba["rank_biserial"] == -1.0
    assert ab["hodges_lehmann"] == 4.0 and ba["hodges_lehmann"] == -4.0
    assert ab["statistic"] == 16.0 and ba["statistic"] == 0.0


def test_kruskal_effect_size_is_h_over_n_minus_one():
    # Three groups, 9 values, no ties: ranks 1..9 split (1,2,3), (4,5,6), (7,8,9).
    # H = 12/(9*10) * (6^2/3 + 15^2/3 + 24^2/3) - 3*10 = 12/90 * 279 - 30 = 7.2; epsilon^2 = 7.2 / 8 = 0.9.
    import pandas as pd

    from immune_correlates.stats import compare_groups

    data = pd.DataFrame({"x": [1.0, 2, 3, 4, 5, 6, 7, 8, 9], "g": list("aaabbbccc")})
    row = compare_groups(data, ["x"], "g").iloc[0]
    assert abs(row["statistic"] - 7.2) < 1e-12
    assert abs(row["epsilon_squared"] - 0.9) < 1e-12
