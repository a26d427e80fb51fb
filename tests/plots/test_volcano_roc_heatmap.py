"""volcano, roc and correlation_heatmap: plotted values against their sources."""

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform
from sklearn.metrics import roc_auc_score

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.multiplicity import adjust_pvalues
from immune_correlates.plots._style import INK
from immune_correlates.plots.heatmap import correlation_heatmap
from immune_correlates.plots.roc import roc
from immune_correlates.plots.volcano import fdr_threshold, volcano
from immune_correlates.stats.groups.roc import roc_curve

from .conftest import by_gid

COUNTS = ["cd3_per_ul", "cd4_per_ul", "cd8_per_ul", "nk_per_ul", "cd4_cd8_ratio", "pd1_pct_of_cd8"]


@pytest.fixture
def screen():
    p = np.array([0.0002, 0.004, 0.03, 0.2, 0.5, 0.9])
    return pd.DataFrame(
        {
            "feature": list("abcdef"),
            "estimate": [-1.0, 0.8, 0.3, -0.2, 0.1, 0.05],
            "p_value": p,
            "q_value": adjust_pvalues(p, method="fdr_bh"),
        }
    )


def test_volcano_points_are_effect_against_minus_log10_p(screen):
    ax = volcano(screen)
    xy = by_gid(ax, "volcano_points", "collections")[0].get_offsets()
    np.testing.assert_allclose(xy[:, 0], screen["estimate"])
    np.testing.assert_allclose(xy[:, 1], -np.log10(screen["p_value"]))


def test_volcano_fdr_line_sits_at_the_largest_p_that_passes(screen):
    ax = volcano(screen, fdr=0.05)
    sig = screen["q_value"] <= 0.05
    assert sig.tolist() == [True, True, False, False, False, False]  # BH: 0.03 * 6 / 3 = 0.06 fails
    (line,) = by_gid(ax, "fdr_threshold", "lines")
    np.testing.assert_allclose(line.get_ydata(), -np.log10(screen.loc[sig, "p_value"].max()))
    faces = by_gid(ax, "volcano_points")[0].get_facecolors()
    np.testing.assert_allclose(faces[:2], [to_rgba(INK)] * 2)  # black ink: no group colour on a volcano
    np.testing.assert_allclose(faces[2:], [to_rgba("#7F7F7F")] * 4)
    assert [t.get_text() for t in by_gid(ax, "volcano_label", "texts")] == ["a", "b"]
    assert by_gid(ax, "fdr_label", "texts")[0].get_text() == "FDR 5%"


def test_volcano_without_passing_features_draws_the_first_step_and_names_the_top_three(screen):
    screen["q_value"] = 0.5
    ax = volcano(screen)
    np.testing.assert_allclose(by_gid(ax, "fdr_threshold")[0].get_ydata(), -np.log10(0.05 / 6))
    assert fdr_threshold(screen["p_value"].to_numpy(), screen["q_value"].to_numpy(), fdr=0.05) == (0.05 / 6, False)
    assert [t.get_text() for t in by_gid(ax, "volcano_label", "texts")] == ["a", "b", "c"]
    assert by_gid(ax, "fdr_label", "texts")[0].get_text() == "FDR 5% (none pass)"


def test_volcano_uses_rank_biserial_of_a_compare_groups_table(screen):
    table = screen.drop(columns="estimate").assign(rank_biserial=[0.7, -0.2, 0.1, 0.0, 0.3, -0.5])
    ax = volcano(table)
    np.testing.assert_allclose(by_gid(ax, "volcano_points")[0].get_offsets()[:, 0], table["rank_biserial"])
    assert ax.get_xlabel() == "Rank-biserial r"
    with pytest.raises(ImmuneCorrelatesError, match="q_value"):
        volcano(table.drop(columns="q_value"))


def test_roc_curves_and_legend_show_each_scores_auc_and_interval(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = roc(frame, "cr", ["nk_per_ul", "t_function_score"], labels={"nk_per_ul": "NK cells"})
        res = {s: roc_curve(frame, "cr", s) for s in ["nk_per_ul", "t_function_score"]}
    for s, r in res.items():
        (line,) = by_gid(ax, f"roc:{s}", "lines")
        np.testing.assert_array_equal(line.get_xdata(), r.curve["fpr"])
        np.testing.assert_array_equal(line.get_ydata(), r.curve["tpr"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    r = res["nk_per_ul"]
    sub = frame.dropna(subset=["nk_per_ul"])
    auc = roc_auc_score(sub["cr"], sub["nk_per_ul"])
    assert legend[0] == f"NK cells: AUC {auc:.2f} ({r.ci_lower:.2f}–{r.ci_upper:.2f})"
    assert legend[1].startswith(f"t_function_score: AUC {res['t_function_score'].auc:.2f}")
    assert ax.get_legend().get_title().get_text() == "AUC (95% CI, DeLong)"
    np.testing.assert_array_equal(by_gid(ax, "roc_chance", "lines")[0].get_xydata(), [[0, 0], [1, 1]])


def test_heatmap_cells_are_spearman_correlations_in_clustered_order(frame):
    ax = correlation_heatmap(frame, COUNTS)
    corr = frame[COUNTS].corr(method="spearman")
    z = hierarchy.linkage(squareform(1 - corr.to_numpy(), checks=False), "average", optimal_ordering=True)
    order = [COUNTS[i] for i in hierarchy.leaves_list(z)]
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    assert [t.get_text() for t in ax.get_yticklabels()] == order
    cells = np.asarray(ax.collections[0].get_array()).reshape(len(COUNTS), len(COUNTS))
    np.testing.assert_allclose(cells, corr.loc[order, order].to_numpy())
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{v:.2f}" for v in corr.loc[order, order].to_numpy().ravel()]
    # strongly related counts are neighbours: CD3 next to CD4 or CD8
    i = order.index("cd3_per_ul")
    assert {"cd4_per_ul", "cd8_per_ul"} & set(order[max(i - 1, 0) : i + 2])


def test_heatmap_without_clustering_keeps_order_and_refuses_constant_features(frame):
    ax = correlation_heatmap(frame, COUNTS[:3], cluster=False, method="pearson", annotate=False)
    assert [t.get_text() for t in ax.get_xticklabels()] == COUNTS[:3]
    assert not ax.texts
    with pytest.raises(ImmuneCorrelatesError, match=r"\['const'\] are constant"):
        correlation_heatmap(frame.assign(const=1.0), ["cd3_per_ul", "const"])
