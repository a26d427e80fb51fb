"""Abundance volcano and heatmap: what they draw, and legible for 2, 3 and 5 groups, bool / 0-1 / text, long labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from tests.plots.conftest import by_gid
from tests.plots.test_legibility import assert_legible


@pytest.fixture(scope="module")
def panel():
    counts, samples = ic.design.simulate_population_counts(
        {"NR": 20, "CR": 10}, n_populations=15, fold_changes={0: 3.0, 5: 0.3}, seed=7
    )
    return counts, samples


def test_volcano_draws_the_table_and_names_the_discoveries(panel):
    counts, samples = panel
    table = ic.differential_abundance(counts, samples, group="group", levels=["NR", "CR"])
    ax = ic.plots.abundance_volcano(table)
    pts = by_gid(ax, "volcano_points", "collections")[0].get_offsets()
    np.testing.assert_allclose(np.sort(pts[:, 0]), np.sort(table["estimate"]))
    named = {t.get_text() for t in ax.texts if t.get_gid() == "volcano_label"}
    assert named == set(table.loc[table["q_value"] <= 0.05, "population"])
    assert ax.get_xlabel() == "log2 abundance ratio, CR / NR"
    assert_legible(ax.figure)


def test_heatmap_orders_samples_by_group_and_standardises_rows(panel):
    counts, samples = panel
    order = [f"pop{j:02d}" for j in (6, 1, 3)]
    ax = ic.plots.abundance_heatmap(counts, samples, group="group", populations=order)
    mesh = by_gid(ax, "abundance", "collections")[0]
    z = mesh.get_array().reshape(3, len(counts))
    np.testing.assert_allclose(z.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=1, ddof=1), 1, rtol=1e-12)
    assert [t.get_text() for t in ax.get_yticklabels()] == order
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["NR (n=20)", "CR (n=10)"]  # non-responders first, whatever the sort order
    assert_legible(ax.figure)


def _grouped(k, kind, long, n=30):
    counts, _ = ic.design.simulate_population_counts((n // 2, n - n // 2), n_populations=12, seed=k)
    g = np.arange(n) % k
    if kind == "bool":
        group = g == 1
    elif kind == "01":
        group = g
    else:
        names = ["Responder", "Non-responder", "Partial", "Stable", "Early death"][:k]
        if long:
            names = [f"{x} group with a long name" for x in names]
        group = np.array(names, dtype=object)[g]
    return counts, pd.DataFrame({"arm": group}, index=counts.index)


@pytest.mark.parametrize(
    "k, kind, long", [(2, "bool", False), (2, "01", False), (2, "text", True), (3, "text", False), (5, "text", True)]
)
def test_heatmap_is_legible_for_the_groupings_users_have(k, kind, long):
    counts, samples = _grouped(k, kind, long)
    ax = ic.plots.abundance_heatmap(counts, samples, group="arm", title="Panel by arm")
    assert_legible(ax.figure)
    assert len(ax.get_legend().get_texts()) == k


def test_heatmap_refuses_unknown_populations_and_samples(panel):
    counts, samples = panel
    with pytest.raises(ic.InputError, match="not columns"):
        ic.plots.abundance_heatmap(counts, samples, group="group", populations=["CD8 TEMRA"])
    with pytest.raises(ic.InputError, match="no row in the sample table"):
        ic.plots.abundance_heatmap(counts, samples.iloc[3:], group="group")


@pytest.fixture(scope="module")
def signature_data():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.standard_normal((40, 12)), columns=[f"CD8 subset {i} (long label)" for i in range(12)])
    X["cr"] = (X.iloc[:, 0] - X.iloc[:, 1] + rng.standard_normal(40) > 0).astype(int)
    return X, list(X.columns[:12])


def test_penalized_path_marks_the_chosen_lambdas_and_names_the_lines(signature_data):
    X, cols = signature_data
    fit = ic.fit_penalized(X, "cr", cols, cv=5, seed=1)
    ax = ic.plots.penalized_path(fit)
    assert len(by_gid(ax, "lam_min", "lines")) == 1 and len(by_gid(ax, "lam_1se", "lines")) == 1
    assert {"λ min", "λ 1-SE"} <= {t.get_text() for t in ax.texts}  # words, not glmnet's variable names
    assert ax.get_xlabel() == "log(λ), penalty"
    named = [t.get_text() for t in ax.texts if t.get_gid() == "path_label"]
    assert set(fit.selected) <= set(named) and len(named) >= 6
    assert_legible(ax.figure)
    cv = ic.plots.penalized_path(fit, kind="cv")
    assert len(by_gid(cv, "cv_curve", "lines")) + len(by_gid(cv, "cv_curve", "collections")) >= 1
    assert_legible(cv.figure)
    with pytest.raises(ic.InputError, match="lam=None"):
        ic.plots.penalized_path(ic.fit_penalized(X, "cr", cols, lam=0.05), kind="cv")


def test_stability_plot_shows_every_probability_and_the_threshold(signature_data):
    X, cols = signature_data
    res = ic.stability_selection(X, "cr", cols, n_pairs=10, seed=2)
    ax = ic.plots.stability(res)
    bars = [p for p in ax.patches if p.get_gid() == "selection_probability"]
    widths = sorted(round(p.get_width(), 10) for p in bars)
    assert widths == sorted(round(v, 10) for v in res.table["selection_probability"])
    assert by_gid(ax, "threshold", "lines")[0].get_xdata()[0] == res.threshold
    assert ax.get_title() == f"Stable at {res.threshold:g}: expected false selections ≤ {res.bound:.2g}"
    assert_legible(ax.figure)
