"""response_boxplot / response_panel: boxes, dots and annotations against the data and compare_groups."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning
from immune_correlates.plots._style import format_p
from immune_correlates.plots.response import (
    comparison_text,
    response_boxplot,
    response_panel,
)
from immune_correlates.stats.groups.compare import compare_groups

from .conftest import by_gid

FEATURES = ["cd3_per_ul", "nk_per_ul", "t_function_score", "nk_function_score", "cd4_cd8_ratio"]


def _box_quartiles(ax, g):
    (box,) = by_gid(ax, f"box:{g}", "patches")
    ys = box.get_path().vertices[:, 1]
    return ys.min(), ys.max()


def test_boxes_and_dots_show_each_patient_in_order_nr_pr_cr(frame):
    ax = response_boxplot(frame, "nk_per_ul")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    counts = frame["response_group"].value_counts()
    assert labels == [f"{g}\n(n={counts[g]})" for g in ["NR", "PR", "CR"]]
    for i, g in enumerate(["NR", "PR", "CR"]):
        values = frame.loc[frame["response_group"] == g, "nk_per_ul"].to_numpy()
        (dots,) = by_gid(ax, f"points:{g}", "collections")
        xy = dots.get_offsets()
        np.testing.assert_array_equal(xy[:, 1], values)  # one dot per patient, the patient's value
        assert np.all(np.abs(xy[:, 0] - i) <= 0.12)
        q1, q3 = _box_quartiles(ax, g)
        np.testing.assert_allclose([q1, q3], np.percentile(values, [25, 75]))
        (med,) = by_gid(ax, f"median:{g}", "lines")
        np.testing.assert_allclose(med.get_ydata(), np.median(values))


def test_box_quartiles_agree_with_compare_groups_columns(frame):
    ax = response_boxplot(frame, "cd3_per_ul")
    row = compare_groups(frame, ["cd3_per_ul"], "response_group").iloc[0]
    for g in ["NR", "PR", "CR"]:
        np.testing.assert_allclose(_box_quartiles(ax, g), (row[f"q1_{g}"], row[f"q3_{g}"]))


def test_annotation_reports_kruskal_p_and_trend_from_compare_groups(frame):
    ax = response_boxplot(frame, "nk_per_ul")
    row = compare_groups(frame, ["nk_per_ul"], "response_group").iloc[0]
    (text,) = by_gid(ax, "stats_annotation", "texts")
    assert text.get_text() == (
        f"Kruskal-Wallis: {format_p(row.p_value)}\n"
        f"epsilon² = {row.epsilon_squared:.2f}; trend (JT) {format_p(row.jt_p_value)}"
    )


def test_two_group_annotation_gives_wilcoxon_effect_size_with_its_direction(frame):
    with pytest.warns(MissingDataWarning, match="OL010"):
        ax = response_boxplot(frame, "t_function_score", "cr", group_labels={0: "no CR", 1: "CR"})
    sub = frame.dropna(subset=["t_function_score"])
    row = compare_groups(sub, ["t_function_score"], "cr", groups=[1, 0]).iloc[0]  # CR first: CR − no CR
    (text,) = by_gid(ax, "stats_annotation", "texts")
    flat = text.get_text().replace("\n", " ")
    assert flat.startswith(f"Wilcoxon rank-sum (exact): {format_p(row.p_value)}")
    assert f"CR \u2212 no CR: rank-biserial r = {row.rank_biserial:.3g}; HL {row.hodges_lehmann:.3g}" in flat
    assert row.rank_biserial > 0  # complete responders have the higher T-cell function
    assert [t.get_text() for t in ax.get_xticklabels()] == ["no CR\n(n=24)", "CR\n(n=8)"]
    boxes = {g: by_gid(ax, f"box:{g}", "patches")[0].get_edgecolor()[:3] for g in (0, 1)}
    assert np.allclose(boxes[1], plt.matplotlib.colors.to_rgb("#0072B2"))  # responder colour for CR


@pytest.mark.parametrize("order", [["Responder", "Non-responder"], ["Non-responder", "Responder"]])
def test_responder_colour_and_direction_do_not_depend_on_label_order(frame, order):
    import pandas as pd

    two = frame.assign(
        resp=pd.Categorical(np.where(frame["responder"] == 1, "Responder", "Non-responder"), categories=order)
    )
    ax = response_boxplot(two, "nk_per_ul", "resp", log=True)
    (box,) = by_gid(ax, "box:Responder", "patches")
    assert np.allclose(box.get_edgecolor()[:3], plt.matplotlib.colors.to_rgb("#0072B2"))
    text = by_gid(ax, "stats_annotation", "texts")[0].get_text().replace("\n", " ")
    assert "Responder \u2212 Non-responder" in text
    row = compare_groups(two, ["nk_per_ul"], "resp", groups=["Responder", "Non-responder"]).iloc[0]
    assert f"rank-biserial r = {row.rank_biserial:.3g}" in text


def test_brackets_show_pairwise_p_and_q(frame):
    from immune_correlates.multiplicity import adjust_pvalues

    ax = response_boxplot(frame, "nk_per_ul", log=True, comparisons=[("CR", "NR"), ("PR", "NR")])
    ps = [
        compare_groups(frame, ["nk_per_ul"], "response_group", groups=list(p)).iloc[0].p_value
        for p in (("CR", "NR"), ("PR", "NR"))
    ]
    qs = adjust_pvalues(np.array(ps), method="fdr_bh")
    for (a, b), p, q in zip([("CR", "NR"), ("PR", "NR")], ps, qs):
        (t,) = by_gid(ax, f"bracket_text:{a}|{b}", "texts")
        assert t.get_text() == f"{format_p(p)}, {format_p(q, 'q')}"


def test_q_value_from_a_screen_table_is_shown(frame):
    table = compare_groups(frame.dropna(subset=FEATURES), FEATURES, "response_group")
    ax = response_boxplot(frame.dropna(subset=FEATURES), "nk_per_ul", comparison=table)
    row = table.set_index("feature").loc["nk_per_ul"]
    assert row.q_value > row.p_value
    assert format_p(row.q_value, "q") in by_gid(ax, "stats_annotation", "texts")[0].get_text()
    with pytest.raises(ImmuneCorrelatesError, match="no row for feature 'cd8_per_ul'"):
        response_boxplot(frame, "cd8_per_ul", comparison=table)


def test_log_axis_and_its_refusal_of_non_positive_values(frame):
    ax = response_boxplot(frame, "nk_per_ul", log=True)
    assert ax.get_yscale() == "log"
    with pytest.raises(ImmuneCorrelatesError, match=r"log=True needs positive values of 't_function_score'; got OL"):
        response_boxplot(frame.dropna(subset=["t_function_score"]), "t_function_score", log=True)


def test_selected_groups_are_drawn_in_the_order_given(frame):
    ax = response_boxplot(frame, "nk_per_ul", groups=["CR", "NR"], annotate=False)
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["CR", "NR"]
    assert not by_gid(ax, "points:PR") and not by_gid(ax, "stats_annotation")
    with pytest.raises(ImmuneCorrelatesError, match=r"group\(s\) \['XR'\] not found"):
        response_boxplot(frame, "nk_per_ul", groups=["CR", "XR"])


def test_comparison_text_for_fisher_rows_shows_the_odds_ratio():
    text = comparison_text(
        {"test": "fisher_exact", "p_value": 0.2, "q_value": 0.3, "odds_ratio": 4.5, "rank_biserial": np.nan}
    )
    assert text == "Fisher exact: p = 0.20, q = 0.30\nOR = 4.5"


def test_panel_has_one_axis_per_feature_with_q_adjusted_across_them(frame):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = response_panel(
            frame, FEATURES, log=["cd3_per_ul", "nk_per_ul"], ncols=3, labels={"nk_per_ul": "NK cells/µL"}
        )
    assert sum(issubclass(w.category, MissingDataWarning) for w in caught) == 1  # said once, not per panel
    assert len(fig.axes) == len(FEATURES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        table = compare_groups(frame, FEATURES, "response_group").set_index("feature")
    for ax, feat in zip(fig.axes, FEATURES):
        from immune_correlates.features.labels import column_label

        assert ax.get_title() == ("NK cells/µL" if feat == "nk_per_ul" else column_label(feat))
        assert ax.get_yscale() == ("log" if feat in ("cd3_per_ul", "nk_per_ul") else "linear")
        text = by_gid(ax, "stats_annotation", "texts")[0].get_text().replace("\n", " ")
        row = table.loc[feat]
        # short enough for print: p and q only; the test is named once, under the panels
        assert text == f"{format_p(row.p_value)}, {format_p(row.q_value, 'q')}"
    assert "Benjamini-Hochberg" in fig.get_supxlabel() and "Kruskal-Wallis" in fig.get_supxlabel()


def test_plain_string_response_groups_are_ordered_nr_pr_cr(frame):
    plain = frame.assign(response_group=frame["response_group"].astype(str))
    ax = response_boxplot(plain, "nk_per_ul", annotate=False)
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["NR", "PR", "CR"]
