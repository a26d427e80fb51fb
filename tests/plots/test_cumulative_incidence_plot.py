"""ic.plots.cumulative_incidence against the estimates of ic.cumulative_incidence, hand-counted numbers at
risk, Gray's p in the legend, and matplotlib state left as found."""

import itertools
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.plots._style import format_p

from .conftest import by_gid

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(FIX / "cr_sim.csv")


def test_curves_are_the_aalen_johansen_steps(sim):
    ax = ic.plots.cumulative_incidence(sim, "time", "event", group="group", cause=2)
    ci = ic.cumulative_incidence(sim, "time", "event", group="group", cause=2)
    for g in ["a", "b", "c"]:
        r = ci.table[ci.table["group"] == g]
        (line,) = by_gid(ax, f"cif:{g}", "lines")
        assert line.get_drawstyle() == "steps-post"
        np.testing.assert_array_equal(line.get_xdata(), np.r_[0.0, r["time"]])
        np.testing.assert_array_equal(line.get_ydata(), np.r_[0.0, r["estimate"]])
        cens = r[r["n_censored"] > 0]
        np.testing.assert_array_equal(by_gid(ax, f"censor:{g}", "lines")[0].get_xdata(), cens["time"])
    p = ic.gray_test(sim, "time", "event", "group", cause=2).pvalue
    assert ax.get_legend().get_title().get_text() == f"Gray's test {format_p(p)}"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]


def test_numbers_at_risk_are_hand_counts_under_the_ticks(sim):
    ax = ic.plots.cumulative_incidence(sim, "time", "event", group="group", times=[0, 0.5, 1, 2, 3])
    for g in ["a", "b", "c"]:
        t = sim.loc[sim["group"] == g, "time"].to_numpy()
        texts = by_gid(ax, f"at_risk:{g}", "texts")
        assert [x.xy[0] for x in texts] == [0, 0.5, 1, 2, 3]
        assert [int(x.get_text()) for x in texts] == [int((t >= x).sum()) for x in [0, 0.5, 1, 2, 3]]


def test_at_risk_rows_do_not_overlap_and_stay_under_the_axis(frame):
    ax = ic.plots.cumulative_incidence(frame, "pfs_months", "pfs_cause", group="response_group", cause=1)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axis_bottom = ax.get_window_extent(renderer).y0
    boxes = {
        g: [t.get_window_extent(renderer) for t in by_gid(ax, f"at_risk:{g}", "texts")] for g in ["NR", "PR", "CR"]
    }
    for row in boxes.values():
        assert all(b.y1 < axis_bottom for b in row)
        assert all(a.x1 < b.x0 for a, b in itertools.pairwise(row))  # numbers of one row apart
    assert max(b.y1 for b in boxes["PR"]) <= min(b.y0 for b in boxes["NR"]) + 1e-6  # rows stacked


def test_accepts_a_computed_result_and_leaves_matplotlib_state(sim):
    before = dict(mpl.rcParams)
    interactive = plt.isinteractive()
    ci = ic.cumulative_incidence(sim, "time", "event", cause=1)
    ax = ic.plots.cumulative_incidence(ci)
    (line,) = by_gid(ax, "cif:all", "lines")
    np.testing.assert_array_equal(line.get_ydata()[1:], ci.table["estimate"])
    assert ax.get_legend() is None
    assert plt.isinteractive() == interactive
    after = dict(mpl.rcParams)
    assert {k for k in before if before[k] != after[k]} == set()


def test_errors_are_clear(sim):
    with pytest.raises(ic.ImmuneCorrelatesError, match="duration and event"):
        ic.plots.cumulative_incidence(sim)
    with pytest.raises(ic.ImmuneCorrelatesError, match="non-negative"):
        ic.plots.cumulative_incidence(sim, "time", "event", times=[-1, 2])
