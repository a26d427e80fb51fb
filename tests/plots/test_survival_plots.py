"""kaplan_meier plot and at_risk_table against the stats kaplan_meier table and hand counts."""

import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import MissingDataWarning
from immune_correlates.plots._style import format_p
from immune_correlates.plots.survival import at_risk_table, default_times, kaplan_meier
from immune_correlates.stats.survival.kaplan_meier import kaplan_meier as km_fit
from immune_correlates.stats.survival.logrank import logrank_test

from .conftest import by_gid

GROUPS = ["NR", "PR", "CR"]


@pytest.fixture
def small():
    return pd.DataFrame(
        {
            "patient_id": [f"P{i}" for i in range(8)],
            "t": [2.0, 3.0, 3.0, 5.0, 6.0, 8.0, 9.5, 12.0],
            "e": [1, 1, 0, 1, 0, 1, 0, 1],
            "g": ["a", "b", "a", "a", "b", "b", "a", "b"],
        }
    )


def test_at_risk_table_counts_patients_still_followed_at_each_time(small):
    tab = at_risk_table(small, "t", "e", "g", times=[0, 3, 6, 10, 13])
    for g in ["a", "b"]:
        t = small.loc[small["g"] == g, "t"].to_numpy()
        assert tab.loc[g].tolist() == [int((t >= x).sum()) for x in [0, 3, 6, 10, 13]]
    assert tab.index.name == "g" and tab.columns.tolist() == [0, 3, 6, 10, 13]


def test_at_risk_numbers_equal_n_risk_of_kaplan_meier_at_event_times(frame):
    km = km_fit(frame, "pfs_months", "pfs_event", "response_group")
    table = km.table[km.table["n_event"] > 0]
    times = np.unique(table["time"])
    tab = at_risk_table(frame, "pfs_months", "pfs_event", "response_group", times=times)
    for g in GROUPS:
        rows = table[table["group"] == g]
        assert tab.loc[g, rows["time"]].tolist() == rows["n_risk"].astype(int).tolist()


def test_curves_are_the_kaplan_meier_steps_with_bands_and_censor_ticks(frame):
    ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group")
    km = km_fit(frame, "pfs_months", "pfs_event", "response_group")
    for g in GROUPS:
        r = km.table[km.table["group"] == g]
        (line,) = by_gid(ax, f"km:{g}", "lines")
        assert line.get_drawstyle() == "steps-post"
        np.testing.assert_array_equal(line.get_xdata(), np.r_[0.0, r["time"]])
        np.testing.assert_array_equal(line.get_ydata(), np.r_[1.0, r["survival"]])
        cens = r[r["n_censor"] > 0]
        ticks = by_gid(ax, f"censor:{g}", "lines")[0]
        np.testing.assert_array_equal(ticks.get_xdata(), cens["time"])
        np.testing.assert_array_equal(ticks.get_ydata(), cens["survival"])
        assert by_gid(ax, f"band:{g}", "collections")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == GROUPS


def test_numbers_at_risk_sit_under_the_tick_times_and_match_the_table(frame):
    ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group")
    ticks = ax.get_xticks()
    np.testing.assert_array_equal(ticks, default_times(frame["pfs_months"].max()))
    tab = at_risk_table(frame, "pfs_months", "pfs_event", "response_group", times=ticks)
    offsets = []
    for g in GROUPS:
        texts = by_gid(ax, f"at_risk:{g}", "texts")
        np.testing.assert_array_equal([t.xy[0] for t in texts], ticks)  # aligned with the ticks
        assert [int(t.get_text()) for t in texts] == tab.loc[g].tolist()
        assert texts[0].get_text() == str((frame["response_group"] == g).sum())
        offsets.append(texts[0].xyann[1])
        assert by_gid(ax, f"at_risk_label:{g}", "texts")[0].get_text() == g
    assert offsets[0] > offsets[1] > offsets[2]  # one row per group, NR first
    assert by_gid(ax, "at_risk_header", "texts")[0].get_text() == "Number at risk"


def test_custom_times_set_both_ticks_and_at_risk_columns(frame):
    ax = kaplan_meier(frame, "pfs_months", "pfs_event", times=[0, 12, 24, 36, 48])
    np.testing.assert_array_equal(ax.get_xticks(), [0, 12, 24, 36, 48])
    t = frame["pfs_months"].to_numpy()
    texts = by_gid(ax, "at_risk:all", "texts")
    assert [int(x.get_text()) for x in texts] == [int((t >= s).sum()) for s in [0, 12, 24, 36, 48]]


def test_log_rank_p_is_the_legend_title(frame):
    ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group")
    p = logrank_test(frame, "pfs_months", "pfs_event", "response_group").pvalue
    assert ax.get_legend().get_title().get_text() == f"Log-rank {format_p(p)}"
    ax2 = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group", logrank=False)
    assert ax2.get_legend().get_title().get_text() == ""


def test_median_lines_reach_each_curves_median(frame):
    ax = kaplan_meier(frame, "pfs_months", "pfs_event", group="response_group", median_lines=True)
    med = km_fit(frame, "pfs_months", "pfs_event", "response_group").median()
    for g in GROUPS:
        m = med.loc[g, "median"]
        (line,) = by_gid(ax, f"median:{g}", "lines")
        np.testing.assert_array_equal(line.get_xdata(), [0, m, m])
        np.testing.assert_array_equal(line.get_ydata(), [0.5, 0.5, 0.0])
    assert ax.get_legend().get_texts()[0].get_text() == f"NR (median {med.loc['NR', 'median']:.1f})"


def test_single_curve_writes_its_median_with_interval(small):
    ax = kaplan_meier(small, "t", "e", median_lines=True, xlabel="Months")
    m = km_fit(small, "t", "e").median().iloc[0]
    text = by_gid(ax, "median_text", "texts")[0].get_text()
    assert text.startswith(f"Median {m['median']:.1f} (95% CI {m['ci_lower']:.1f}–")
    assert ax.get_legend() is None and ax.get_xlabel() == "Months"


def test_missing_durations_warn_once_and_are_left_out(small):
    small.loc[0, "t"] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = kaplan_meier(small, "t", "e", group="g", times=[0])
    assert sum(issubclass(w.category, MissingDataWarning) for w in caught) == 1
    assert [t.get_text() for t in by_gid(ax, "at_risk:a", "texts")] == ["3"]


def test_plain_string_response_groups_are_drawn_nr_pr_cr(frame):
    plain = frame.assign(response_group=frame["response_group"].astype(str))
    ax = kaplan_meier(plain, "pfs_months", "pfs_event", group="response_group", times=[0, 12])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == GROUPS
    assert at_risk_table(plain, "pfs_months", "pfs_event", "response_group", times=[0]).index.tolist() == GROUPS
    ys = [by_gid(ax, f"at_risk:{g}", "texts")[0].xyann[1] for g in GROUPS]
    assert ys[0] > ys[1] > ys[2]


def test_a_computed_curve_log_rank_and_hazard_ratio_draw_the_same_figure_as_the_data(frame):
    """Computing and drawing are separate: the KM result, the log-rank result and the hazard-ratio table
    drawn as given show exactly what the one-call median split computes itself."""
    from immune_correlates.features import split_groups
    from immune_correlates.stats.survival.hazard_ratios import group_hazard_ratios

    def shown(ax):
        leg = ax.get_legend()
        return (
            [leg.get_title().get_text()]
            + [t.get_text() for t in leg.get_texts()]
            + sorted(t.get_text() for t in ax.texts),
            [ln.get_xydata().tolist() for ln in ax.lines],
        )

    direct = kaplan_meier(frame, "pfs_months", "pfs_event", group="nk_per_ul", split="median", hazard_ratio=True)
    sg = split_groups(frame, "nk_per_ul", among=["pfs_months", "pfs_event"])
    km = km_fit(sg.frame, "pfs_months", "pfs_event", group=sg.column)
    lr = logrank_test(sg.frame, "pfs_months", "pfs_event", sg.column)
    hr = group_hazard_ratios(sg.frame, "pfs_months", "pfs_event", sg.column, levels=sg.levels)
    drawn = kaplan_meier(km, "pfs_months", logrank=lr, hazard_ratio=hr, risk_labels=sg.short)
    assert shown(drawn) == shown(direct)
    title = direct.get_legend().get_title().get_text()
    assert title.startswith(f"Log-rank {format_p(lr.pvalue)}\nHR {hr['hazard_ratio'].iloc[0]:.2f} (95% CI ")
    bare = kaplan_meier(km, "pfs_months")  # a result alone: the curves, no test it cannot compute
    assert bare.get_legend().get_title().get_text() == ""
