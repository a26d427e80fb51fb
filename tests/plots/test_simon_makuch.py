"""Simon-Makuch plot: curves equal the estimator, numbers at risk are time-updated, the
Mantel-Byar p is shown, and nothing overlaps (renderer text extents)."""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def jasa():
    j = pd.read_csv(FIXTURES / "cp_jasa_input.csv")
    j["futime"] = j["futime"] / 30.44
    j["txtime"] = j["txtime"] / 30.44
    return j


@pytest.mark.parametrize("start_at", [0.0, 2.0])
def test_simon_makuch_plot(jasa, start_at):
    ax = ic.plots.simon_makuch(
        jasa, "futime", "fustat", "txtime", id="id", start_at=start_at, labels=("Awaiting transplant", "Transplanted")
    )
    fig = ax.figure
    fig.canvas.draw()
    est = ic.simon_makuch(jasa, "futime", "fustat", "txtime", id="id", start_at=start_at)
    for g in (0, 1):
        line = next(ln for ln in ax.get_lines() if ln.get_gid() == f"sm:{g}")
        r = est[est["group"] == g]
        np.testing.assert_allclose(line.get_ydata()[: len(r)], r["survival"])
        assert line.get_xdata()[0] == start_at
    mb = ic.mantel_byar(jasa, "futime", "fustat", "txtime", id="id", group="transplant")
    title = ax.get_legend().get_title()
    assert title.get_gid() == "mantel_byar" and f"{mb.pvalue:.2f}" in title.get_text()
    # numbers at risk at the first tick: patients in each group at start_at
    ticks = ax.get_xticks()
    first = {
        t.get_gid(): t.get_text() for t in ax.texts if t.get_gid() in ("at_risk:0", "at_risk:1") and t.xy[0] == ticks[0]
    }
    rows = ic.split_at(jasa, "futime", "fustat", {"tx": "txtime"}, id="id")
    at = rows[(rows["start"] <= start_at) & (rows["stop"] > start_at)]
    assert first == {"at_risk:0": str(int((at["tx"] == 0).sum())), "at_risk:1": str(int((at["tx"] == 1).sum()))}
    # no two at-risk numbers of a row overlap, and they sit below the axis
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts if t.get_gid() == "at_risk:0"]
    assert all(a.x1 < b.x0 for a, b in itertools.pairwise(boxes))
    assert all(b.y1 < ax.get_window_extent(r).y0 for b in boxes)
    plt.close(fig)
