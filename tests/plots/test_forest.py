"""forest: ratios, intervals, order, labels and q markers against the table drawn."""

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba

from immune_correlates._numbers import format_estimate_ci, format_p
from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.plots.forest import forest, forest_table
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic

from .conftest import by_gid

INK = to_rgba("#222222")  # estimates are drawn in black ink: blue means "responder" in a report
WHITE = to_rgba("white")


@pytest.fixture
def screen():
    return pd.DataFrame(
        {
            "feature": ["cd3_per_ul", "nk_per_ul", "t_function_score", "cd4_cd8_ratio"],
            "estimate": [0.2, -0.7, -1.1, 0.05],
            "std_error": [0.3, 0.3, 0.35, 0.2],
            "ci_lower": [-0.3, -1.4, -1.8, -0.35],
            "ci_upper": [0.7, 0.0, -0.4, 0.45],
            "p_value": [0.5, 0.02, 0.002, 0.8],
            "q_value": [0.67, 0.04, 0.008, 0.8],
            "method": ["cox"] * 4,
            "n": [34, 34, 32, 34],
            "n_events": [8, 8, 7, 8],
        }
    )


def test_points_and_intervals_are_exponentiated_and_sorted_largest_on_top(screen):
    ax = forest(screen)
    order = np.argsort(-screen["estimate"].to_numpy())  # largest hazard ratio first (top)
    pts = by_gid(ax, "forest_points", "collections")[0].get_offsets()
    ys = pts[:, 1]
    assert np.all(np.diff(ys) < 0)  # drawn top to bottom
    np.testing.assert_allclose(pts[:, 0], np.exp(screen["estimate"].to_numpy()[order]))
    segs = by_gid(ax, "forest_intervals", "collections")[0].get_segments()
    np.testing.assert_allclose([s[0][0] for s in segs], np.exp(screen["ci_lower"].to_numpy()[order]))
    np.testing.assert_allclose([s[1][0] for s in segs], np.exp(screen["ci_upper"].to_numpy()[order]))
    np.testing.assert_allclose([s[0][1] for s in segs], ys)
    labels = {t.get_position()[1]: t.get_text() for t in ax.get_yticklabels()}
    from immune_correlates.features.labels import column_label

    assert [labels[y] for y in ys] == [column_label(f) for f in screen["feature"].to_numpy()[order]]
    values = [t.get_text() for t in by_gid(ax, "forest_value", "texts")]
    m = len(screen)  # columns: ratio (CI), p, q, N, events; one text per row each
    assert values[-2 * m :] == [str(v) for v in screen["n"].to_numpy()[order]] + [
        str(v) for v in screen["n_events"].to_numpy()[order]
    ]


def test_log_axis_line_at_one_and_hazard_ratio_label(screen):
    ax = forest(screen)
    assert ax.get_xscale() == "log"
    (ref,) = by_gid(ax, "forest_reference", "lines")
    np.testing.assert_array_equal(ref.get_xdata(), [1, 1])
    assert ax.get_xlabel() == "Hazard ratio (95% CI, log scale)"


def test_q_markers_are_filled_below_the_threshold_and_values_written(screen):
    ax = forest(screen, sort="p_value")
    order = np.argsort(screen["p_value"].to_numpy())
    faces = by_gid(ax, "forest_points", "collections")[0].get_facecolors()
    expect = [INK if q < 0.05 else WHITE for q in screen["q_value"].to_numpy()[order]]
    np.testing.assert_allclose(faces, expect)
    texts = [t.get_text() for t in by_gid(ax, "forest_value", "texts")]
    top = screen.iloc[order[0]]
    r, lo, hi = np.exp(top[["estimate", "ci_lower", "ci_upper"]].to_numpy(float))
    assert texts[0] == format_estimate_ci(r, lo, hi)  # the report's numbers: three significant digits
    headers = [t.get_text() for t in by_gid(ax, "forest_header", "texts")]
    assert headers[0] == "HR (95% CI)" and "q" in headers
    assert texts[headers.index("q") * len(screen)] == format_p(top.q_value)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["q < 0.05", "q ≥ 0.05"]


def test_unsorted_keeps_input_order_top_down(screen):
    rows = forest_table(screen, sort=None)
    assert rows["label"].tolist() == screen["feature"].tolist()


def test_logistic_model_result_draws_odds_ratios_without_intercept(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_logistic(frame, "cr", ["nk_per_ul", "age"], method="firth")
    ax = forest(fit, sort=None)
    summ = fit.summary().set_index("term").drop("Intercept")
    pts = by_gid(ax, "forest_points", "collections")[0].get_offsets()
    np.testing.assert_allclose(pts[:, 0], summ["odds_ratio"].to_numpy())
    segs = by_gid(ax, "forest_intervals", "collections")[0].get_segments()
    np.testing.assert_allclose([s[1][0] for s in segs], summ["odds_ratio_ci_upper"].to_numpy())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["NK cells", "Age"]
    assert ax.get_xlabel() == "Odds ratio (95% CI, log scale)"
    values = [t.get_text() for t in by_gid(ax, "forest_value", "texts")]
    assert values[2] == format_p(summ["p_value"].iloc[0])
    assert values[-4:] == [str(fit.nobs)] * 2 + [str(fit.n_events)] * 2


def test_cox_summary_frame_is_labelled_hazard_ratio_at_the_fitted_level(frame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_cox(frame, "pfs_months", "pfs_event", ["nk_per_ul"], alpha=0.1)
    ax = forest(fit)
    assert ax.get_xlabel() == "Hazard ratio (90% CI, log scale)"
    np.testing.assert_allclose(
        by_gid(ax, "forest_points")[0].get_offsets()[0, 0], fit.summary()["hazard_ratio"].iloc[0]
    )


def test_infinite_bounds_are_clipped_to_the_axis_edge_with_an_arrow(screen):
    screen.loc[0, "ci_upper"] = np.inf
    ax = forest(screen, sort=None)
    (arrow,) = by_gid(ax, "forest_clipped", "collections")
    right = ax.get_xlim()[1]
    np.testing.assert_allclose(arrow.get_offsets()[:, 0], [right])
    seg = by_gid(ax, "forest_intervals")[0].get_segments()[0]
    np.testing.assert_allclose(seg[1][0], right)
    assert "\u221e" in by_gid(ax, "forest_value", "texts")[0].get_text()


def test_missing_columns_are_named_in_the_error(screen):
    with pytest.raises(ImmuneCorrelatesError, match=r"column\(s\) \['ci_upper'\] not in results"):
        forest(screen.drop(columns="ci_upper"))
    with pytest.raises(ImmuneCorrelatesError, match="sort must be one of"):
        forest(screen, sort="name")


def test_table_is_accepted_as_data_or_results_keyword(screen):
    a = by_gid(forest(data=screen), "forest_points")[0].get_offsets()
    b = by_gid(forest(results=screen), "forest_points")[0].get_offsets()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ImmuneCorrelatesError, match="once"):
        forest(screen, results=screen)


def test_factor_levels_are_grouped_under_their_variable():
    t = pd.DataFrame(
        {
            "term": ["C(sex)[T.M]", "nk_per_ul", "C(stage)[T.II]", "age", "C(stage)[T.III]"],
            "estimate": [0.5, 0.1, -0.3, 0.02, 0.4],
            "ci_lower": [-0.1, -0.2, -0.9, -0.01, -0.2],
            "ci_upper": [1.1, 0.4, 0.3, 0.05, 1.0],
            "p_value": 0.3,
            "method": "cox",
        }
    )
    ax = forest(t, sort=None)
    ticks = [x.get_text().strip() for x in ax.get_yticklabels()]
    assert ticks == ["Sex", "M", "NK cells", "stage", "II", "III", "Age"]
    bold = [x.get_text().strip() for x in ax.get_yticklabels() if x.get_fontweight() == "bold"]
    assert bold == ["Sex", "stage"]


def test_ratios_near_one_get_digits_and_their_column_pushes_the_next_one_right():
    """An OR per cell/uL: limits that would print as the estimate get digits, and no column runs into the next."""
    from tests.plots.test_legibility import assert_legible

    est = np.log([1.0032, 1.0009, 1.96])
    table = pd.DataFrame(
        {
            "feature": ["nk_per_ul", "cd8_per_ul", "nk_function_score"],
            "estimate": est,
            "ci_lower": np.log([1.0006, 0.99951, 0.818]),
            "ci_upper": np.log([1.0068, 1.0024, 5.43]),
            "p_value": [0.016, 0.25, 0.13],
            "q_value": [0.08, 0.26, 0.26],
            "n": 34,
            "n_events": 8,
            "method": "firth",
        }
    )
    ax = forest(table)
    values = [t.get_text() for t in by_gid(ax, "forest_value", "texts")]
    assert "1.003 (1.001–1.007)" in values and "1.001 (0.9995–1.002)" in values and "1.96 (0.818–5.43)" in values
    assert_legible(ax.figure, (1.0, 0.5))
