"""``plots.trajectories``: what it draws, and that it stays legible for every grouping users have."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import immune_correlates as ic
from immune_correlates.errors import DataQualityWarning, MissingDataWarning
from immune_correlates.plots._style import RESPONSE_COLORS

from .conftest import by_gid
from .test_legibility import GRID, _labels, assert_legible

VISITS = {"baseline": 0, "C1D15": 14, "C3D1": 56, "C6D1": 140, "C12D1": 308}


def _long(k: int, kind: str, long: bool, n: int = 30, seed: int = 5) -> pd.DataFrame:
    """A long frame: n patients in k groups, scheduled visits with jitter, missed visits, a late EOT."""
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.arange(n) % k)
    labels = np.array(_labels(k, long))
    if kind == "bool":
        group = g == 1
    elif kind == "01":
        group = g
    elif kind == "categorical":
        group = pd.Categorical(labels[g], categories=list(labels))
    else:
        group = labels[g]
    rows = []
    for i in range(n):
        level = rng.lognormal(np.log(300), 0.5)
        for v, d in VISITS.items():
            if v != "baseline" and rng.random() < 0.15:
                continue
            day = d + (rng.integers(-3, 4) if d else 0)
            rows.append((f"P{i:02d}", v, day, level * np.exp(0.002 * day * g[i] + rng.normal(0, 0.2)), i))
        rows.append((f"P{i:02d}", "EOT", 400 + rng.integers(0, 400), level, i))
    frame = pd.DataFrame(rows, columns=["patient_id", "timepoint", "day", "nk_per_ul", "who"])
    frame["group"] = pd.Series(group).iloc[frame["who"].to_numpy()].to_numpy()
    if kind == "categorical":
        frame["group"] = pd.Categorical(frame["group"], categories=list(labels))
    return frame.drop(columns="who")


@pytest.mark.parametrize("k, kind, long", GRID, ids=[f"{k}-{kind}-{'long' if lg else 'short'}" for k, kind, lg in GRID])
@pytest.mark.slow  # more than two seconds: full suite only
def test_legible_for_every_grouping(k, kind, long):
    data = _long(k, kind, long)
    ax = ic.plots.trajectories(data, "nk_per_ul", group="group")
    assert_legible(ax.figure, (2.5, 1.5))
    means = [a for a in ax.lines if str(a.get_gid()).startswith("mean:")]
    assert len(means) == k
    assert len({t.get_gid() for t in ax.texts if str(t.get_gid()).startswith("n_label:")}) == k
    visits = [t.get_text() for t in ax.texts if t.get_gid() == "n_visit"]
    assert visits == list(VISITS)  # the scheduled visits; end of treatment has no mean


@pytest.mark.slow  # more than two seconds: full suite only
def test_lines_means_and_intervals_are_the_data(ofa_len_long):
    ax = ic.plots.trajectories(ofa_len_long, "nk_per_ul")
    shown = ofa_len_long[ofa_len_long["day"] <= ax.get_xlim()[1]]
    patients = {a.get_gid() for a in ax.lines if str(a.get_gid()).startswith("patient:")}
    assert patients == {f"patient:{p}" for p in shown["patient_id"].unique()}
    cr = shown[(shown["response_group"] == "CR") & (shown["timepoint"] == "C3D1")]["nk_per_ul"]
    logs = np.log(cr.to_numpy())
    half = stats.t.ppf(0.975, len(logs) - 1) * logs.std(ddof=1) / np.sqrt(len(logs))
    (mean,) = by_gid(ax, "mean:CR", "lines")
    assert np.exp(logs.mean()) == pytest.approx(mean.get_ydata()[list(VISITS).index("C3D1")], rel=1e-12)
    (bars,) = by_gid(ax, "ci:CR", "collections")
    ends = [seg[:, 1] for seg in bars.get_segments()]
    assert any(np.allclose(e, np.exp([logs.mean() - half, logs.mean() + half]), rtol=1e-12) for e in ends)
    assert mean.get_color() == RESPONSE_COLORS["CR"]
    numbers = [t for t in ax.texts if t.get_gid() == "n:CR"]
    visits = [t.get_text() for t in ax.texts if t.get_gid() == "n_visit"]
    assert int(numbers[visits.index("C3D1")].get_text()) == len(cr)
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "NK cells (cells/µL, log scale)"
    legend = ax.get_legend().get_title().get_text()
    assert "geometric mean" in legend and "not shown" in legend


def test_late_samples_are_said_not_hidden(ofa_len_long):
    ax = ic.plots.trajectories(ofa_len_long, "nk_per_ul")
    late = (ofa_len_long["day"] > ax.get_xlim()[1]).sum()
    assert late > 0 and f"{late} sample(s) after" in ax.get_legend().get_title().get_text()
    plt.close(ax.figure)
    every = ic.plots.trajectories(ofa_len_long, "nk_per_ul", xmax=1000)
    assert "not shown" not in every.get_legend().get_title().get_text()
    assert_legible(every.figure, (2.5, 1.5))


def test_one_group_scores_and_user_axes(ofa_len_long):
    _, ax = plt.subplots(figsize=(9, 5))
    out = ic.plots.trajectories(ofa_len_long, "t_function_score", group=None, ax=ax)
    assert out is ax and ax.get_yscale() == "linear"
    assert len(by_gid(ax, "mean:all", "lines")) == 1
    assert "thick: mean" in ax.get_legend().get_title().get_text()


def test_missing_values_and_non_positive_counts_are_reported():
    data = _long(2, "text", False)
    data.loc[3, "day"] = np.nan  # a value that cannot be placed in time
    data.loc[5, "nk_per_ul"] = 0.0
    data.loc[7, "nk_per_ul"] = np.nan  # not assessed: not drawn, not counted, not warned about
    with pytest.warns(MissingDataWarning, match="left out 1"), pytest.warns(DataQualityWarning, match="not > 0"):
        ax = ic.plots.trajectories(data, "nk_per_ul", group="group")
    drawn = sum(len(a.get_xdata()) for a in ax.lines if str(a.get_gid()).startswith("patient:"))
    shown = data[(data["day"] <= ax.get_xlim()[1])]
    assert drawn == len(shown) - 2


def test_renders_to_png_for_the_report(tmp_path, ofa_len_long):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.trajectories(ofa_len_long, "cd8_per_ul")
    (path,) = ic.plots.save_figure(ax, tmp_path / "cd8", formats=("png",), dpi=72)
    assert path.stat().st_size > 10_000


@pytest.fixture(scope="module")
def ofa_len_long(ofa_len):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.longitudinal_frame(ofa_len, ["nk_per_ul", "cd8_per_ul", "t_function_score"])
