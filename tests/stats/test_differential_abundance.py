"""Differential abundance: limma's numbers, calibration under overdispersion, matching and errors."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import immune_correlates as ic
from immune_correlates.design.population_counts import population_count_arrays, population_shares

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


def _dataset(name):
    counts = pd.read_csv(FIXTURES / "da_counts.csv")
    counts = counts[counts["dataset"] == name].pivot(index="sample_id", columns="population", values="count")
    samples = pd.read_csv(FIXTURES / "da_samples.csv")
    samples = samples[samples["dataset"] == name].set_index("sample_id").loc[counts.index]
    ref = pd.read_csv(FIXTURES / "da_limma.csv")
    return counts, samples, ref[ref["dataset"] == name].reset_index(drop=True)


CASES = {
    "balanced": {"covariates": ()},
    "unbalanced": {"covariates": ("batch", "age")},
    "paired": {"paired": "patient"},
}


@pytest.mark.parametrize("name", list(CASES))
def test_estimates_intervals_and_p_values_equal_limma(name):
    counts, samples, ref = _dataset(name)
    if name == "unbalanced":
        samples["group"] = samples["group"].astype(int)
    res = ic.differential_abundance(counts, samples, group="group", **CASES[name])
    assert res["population"].tolist() == ref["population"].tolist()
    for ours, theirs in [
        ("estimate", "logFC"),
        ("ci_lower", "CI.L"),
        ("ci_upper", "CI.R"),
        ("statistic", "t"),
        ("p_value", "P.Value"),
        ("q_value", "adj.P.Val"),
        ("df", "df.total"),
    ]:
        np.testing.assert_allclose(res[ours], ref[theirs], rtol=1e-6, atol=1e-12, err_msg=ours)
    np.testing.assert_allclose(res.attrs["s2_prior"], ref["s2.prior"].iloc[0], rtol=1e-6)
    d0 = ref["df.prior"].iloc[0]
    assert (
        res.attrs["df_prior"] == pytest.approx(float(d0), rel=1e-6)
        if np.isfinite(d0)
        else np.isinf(res.attrs["df_prior"])
    )


def test_the_reference_covers_both_prior_cases():
    """One dataset with an infinite prior df (all variances pooled) and one with a finite one."""
    ref = pd.read_csv(FIXTURES / "da_limma.csv").groupby("dataset")["df.prior"].first()
    assert np.isinf(ref["balanced"]) and np.isfinite(ref["unbalanced"])


def test_samples_are_matched_by_id_not_position():
    counts, samples, _ = _dataset("unbalanced")
    samples["group"] = samples["group"].astype(int)
    a = ic.differential_abundance(counts, samples, group="group", covariates=["batch", "age"])
    shuffled = samples.sample(frac=1.0, random_state=3)
    extra = pd.DataFrame({"group": [1], "batch": ["b1"], "age": [70]}, index=pd.Index(["no_counts"], name="sample_id"))
    b = ic.differential_abundance(
        counts.sample(frac=1.0, random_state=4),
        pd.concat([shuffled, extra]),
        group="group",
        covariates=["batch", "age"],
    )
    pd.testing.assert_frame_equal(a, b)
    assert b.attrs["excluded"].to_dict("records") == [{"sample_id": "no_counts", "reason": "no counts"}]


def test_sample_id_columns_work_as_well_as_indexes():
    counts, samples, _ = _dataset("balanced")
    a = ic.differential_abundance(counts, samples, group="group")
    b = ic.differential_abundance(counts.reset_index(), samples.reset_index(), group="group")
    pd.testing.assert_frame_equal(a, b)


def test_direction_is_second_sorted_level_over_first_and_levels_can_be_chosen():
    counts, samples, _ = _dataset("balanced")
    res = ic.differential_abundance(counts, samples, group="group")
    assert res.attrs["levels"] == ["NR", "R"]
    flipped = samples.assign(group=pd.Categorical(samples["group"], categories=["R", "NR"]))
    back = ic.differential_abundance(counts, flipped, group="group")
    np.testing.assert_allclose(back["estimate"], -res["estimate"], rtol=1e-12)
    three = samples.copy()
    three.loc[three.index[:3], "group"] = "PR"
    picked = ic.differential_abundance(counts, three, group="group", levels=["NR", "R"])
    assert len(picked.attrs["excluded"]) == 3 and picked.attrs["n_samples"] == 17
    with pytest.raises(ic.InputError, match="exactly two levels"):
        ic.differential_abundance(counts, three, group="group")


@pytest.fixture
def small():
    counts, samples = ic.design.simulate_population_counts((4, 4), n_populations=4, cells=2000, seed=2)
    return counts, samples


def _message(exc):
    return str(exc.value)


@pytest.mark.parametrize(
    "value, words",
    [(-3, "-3"), (2.5, "2.5"), ("12 cells", "'12 cells'"), (np.inf, "inf")],
)
def test_bad_counts_are_refused_naming_sample_population_and_value(small, value, words):
    counts, samples = small
    counts = counts.astype(object)
    counts.loc["S003", "pop02"] = value
    with pytest.raises(ic.InputError) as exc:
        ic.differential_abundance(counts, samples, group="group")
    text = _message(exc)
    assert "whole numbers >= 0" in text and "sample_id='S003'" in text and "population='pop02'" in text
    assert words in text


def test_every_bad_count_is_listed(small):
    counts, samples = small
    counts.loc["S001", "pop01"] = -1
    counts.loc["S005", "pop03"] = -2
    with pytest.raises(ic.InputError) as exc:
        ic.differential_abundance(counts, samples, group="group")
    assert len(exc.value.rows) == 2


def test_samples_missing_from_the_sample_table(small):
    counts, samples = small
    with pytest.raises(ic.InputError, match="no row in the sample table") as exc:
        ic.differential_abundance(counts, samples.drop(index=["S002", "S007"]), group="group")
    assert [r["sample_id"] for r in exc.value.rows] == ["S002", "S007"]


def test_a_one_sample_group_is_refused(small):
    counts, samples = small
    samples = samples.copy()
    samples["group"] = [0, 0, 0, 0, 0, 0, 0, 1]
    with pytest.raises(ic.InputError, match="group 1 of 'group' has 1 sample") as exc:
        ic.differential_abundance(counts, samples, group="group")
    assert exc.value.rows == [{"sample_id": "S008", "value": 1}]


def test_a_population_without_cells_is_refused(small):
    counts, samples = small
    counts["pop04"] = 0
    with pytest.raises(ic.InputError, match="no cells in any sample") as exc:
        ic.differential_abundance(counts, samples, group="group")
    assert exc.value.rows == [{"population": "pop04", "total": 0}]


def test_an_empty_sample_and_duplicated_ids_are_refused(small):
    counts, samples = small
    empty = counts.copy()
    empty.loc["S004"] = 0
    with pytest.raises(ic.InputError, match="no cells in any population"):
        ic.differential_abundance(empty, samples, group="group")
    with pytest.raises(ic.InputError, match="more than once"):
        ic.differential_abundance(pd.concat([counts, counts.iloc[:1]]), samples, group="group")


def test_a_confounded_batch_is_named(small):
    counts, samples = small
    samples = samples.assign(batch=np.where(samples["group"] == 1, "b2", "b1"))
    with pytest.raises(ic.InputError, match="confounded") as exc:
        ic.differential_abundance(counts, samples, group="group", covariates=["batch"])
    assert "batch" in str(exc.value)


def test_missing_counts_and_group_values_leave_samples_out_with_a_warning(small):
    counts, samples = small
    counts = counts.astype(float)
    counts.loc["S001", "pop02"] = np.nan
    samples = samples.astype(object)
    samples.loc["S006", "group"] = None
    with pytest.warns(ic.MissingDataWarning):
        res = ic.differential_abundance(counts, samples, group="group")
    assert res.attrs["excluded"].to_dict("records") == [
        {"sample_id": "S001", "reason": "missing counts"},
        {"sample_id": "S006", "reason": "missing group"},
    ]
    with pytest.raises(ic.MissingDataError):
        ic.differential_abundance(counts, samples, group="group", missing="raise")


def test_bad_options_are_parameter_errors(small):
    counts, samples = small
    with pytest.raises(ic.ParameterError, match="n_perm"):
        ic.differential_abundance(counts, samples, group="group", n_perm=-1)
    with pytest.raises(ic.ParameterError, match="adjust"):
        ic.differential_abundance(counts, samples, group="group", adjust="magic")


def test_the_result_pickles_with_its_attributes():
    counts, samples, _ = _dataset("paired")
    res = ic.differential_abundance(counts, samples, group="group", paired="patient")
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back, res)
    assert back.attrs["design"][:2] == ["Intercept", "group[cycle3]"]


# ---------------------------------------------------------------------------------------------
# Calibration: per-test false-positive rate and false discovery rate under overdispersed counts


def _binomial_glm_p(counts, g):
    """Wald p of the group term of a binomial GLM per population, which ignores overdispersion (closed form)."""
    lib = counts.sum(axis=1, keepdims=True)
    y1, y0 = counts[g == 1].sum(0), counts[g == 0].sum(0)
    n1, n0 = lib[g == 1].sum(), lib[g == 0].sum()
    b = np.log(y1 / (n1 - y1)) - np.log(y0 / (n0 - y0))
    se = np.sqrt(1 / y1 + 1 / (n1 - y1) + 1 / y0 + 1 / (n0 - y0))
    return 2 * stats.norm.sf(np.abs(b / se))


def _experiments(n0, n1, R, seed, **kw):
    g = np.r_[np.zeros(n0), np.ones(n1)]
    counts = population_count_arrays(np.random.default_rng(seed), R, g, population_shares(30), **kw)
    return counts, g


def _da_p(c, g, **kw):
    ids = pd.Index([f"s{i}" for i in range(len(g))], name="sample_id")
    res = ic.differential_abundance(pd.DataFrame(c, index=ids), pd.DataFrame({"g": g}, index=ids), group="g", **kw)
    return res["p_value"].to_numpy(), res["q_value"].to_numpy()


@pytest.mark.parametrize("n0, n1, seed", [(10, 10, 101), (26, 8, 102)])
@pytest.mark.slow  # more than two seconds: full suite only
def test_false_positive_and_false_discovery_rates_hold_under_overdispersion(n0, n1, seed):
    """200 null experiments (30 populations, log-normal SD 0.4, ~50,000 cells): nominal error rates.

    The per-test rate is over 6,000 tests (Monte Carlo SE ~0.003, more with correlation); the
    false discovery rate of a null experiment is the chance of any discovery (SE ~0.015).
    The binomial GLM on the same data rejects most true nulls.
    """
    C, g = _experiments(n0, n1, 200, seed)
    P, Q = zip(*(_da_p(c, g) for c in C))
    P, Q = np.array(P), np.array(Q)
    fpr, fdr = (P < 0.05).mean(), (Q < 0.05).any(axis=1).mean()
    assert fpr < 0.05 + 3 * np.sqrt(0.05 * 0.95 / P.size) * 2  # design effect 2 for correlated tests
    assert fdr < 0.05 + 2.5 * np.sqrt(0.05 * 0.95 / len(C))
    assert fpr > 0.03  # not conservative either
    glm = np.array([_binomial_glm_p(c, g) for c in C])
    assert (glm < 0.05).mean() > 0.6


def test_power_is_at_least_that_of_a_wilcoxon_test_on_proportions():
    """Five populations doubled in 10 of 20 samples: the moderated t finds more of them than Wilcoxon."""
    effects = np.zeros(30)
    effects[[3, 9, 15, 21, 27]] = np.log(2.0)
    C, g = _experiments(10, 10, 100, 103, log_effects=effects)
    ours, wil = [], []
    for c in C:
        p, _ = _da_p(c, g)
        props = c / c.sum(axis=1, keepdims=True)
        pw = stats.mannwhitneyu(props[g == 1], props[g == 0], axis=0).pvalue
        ours.append((p[effects > 0] < 0.05).mean())
        wil.append((pw[effects > 0] < 0.05).mean())
    assert np.mean(ours) >= np.mean(wil)
    assert np.mean(ours) > 0.7


def test_false_discovery_rate_holds_when_some_populations_change():
    """Transfers between pairs of populations keep the others exactly null; BH keeps FDR at 5%."""
    C, g = _experiments(26, 8, 150, 104, transfers=[(29, 4, 0.05), (28, 10, 0.04), (27, 16, 0.03)])
    changed = np.zeros(30, bool)
    changed[[29, 4, 28, 10, 27, 16]] = True
    fdp, power = [], []
    for c in C:
        _, q = _da_p(c, g)
        d = q < 0.05
        fdp.append((d & ~changed).sum() / max(d.sum(), 1))
        power.append((d & changed).sum() / changed.sum())
    assert np.mean(fdp) < 0.05 + 2.5 * np.std(fdp) / np.sqrt(len(fdp))
    assert np.mean(power) > 0.2


@pytest.mark.slow
def test_permutation_p_values_are_calibrated_and_reproducible():
    C, g = _experiments(26, 8, 100, 105)
    P = np.array([_da_p(c, g, n_perm=199, seed=i)[0] for i, c in enumerate(C)])
    assert (P < 0.05).mean() < 0.05 + 3 * np.sqrt(0.05 * 0.95 / P.size) * 2
    again = _da_p(C[0], g, n_perm=199, seed=0)[0]
    np.testing.assert_array_equal(again, P[0])


def test_permutation_p_values_respect_pairs_and_seed():
    counts, samples, _ = _dataset("paired")
    a = ic.differential_abundance(counts, samples, group="group", paired="patient", n_perm=99, seed=7)
    b = ic.differential_abundance(counts, samples, group="group", paired="patient", n_perm=99, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert set(np.round(a["p_value"] * 100).astype(int)) <= set(range(1, 101))
    # with 8 pairs there are 2^8 = 256 sign patterns; the strongest population reaches the floor
    assert a["p_value"].min() == pytest.approx(0.01)
    assert (a["test"] == "permutation (Freedman-Lane) of the moderated t").all()


def test_missing_warning_is_not_raised_for_clean_inputs():
    counts, samples, _ = _dataset("balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ic.differential_abundance(counts, samples, group="group")
