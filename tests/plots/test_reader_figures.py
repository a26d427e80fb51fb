"""Figures that cannot be misread (issue 23): checked on the renderer's own text extents.

Every name in a volcano sits nearer its own point than any other point (or is a
number by the point with the name in a key beside the plot), none asked for is
dropped, no leader line crosses the panel; no word of a group name is broken;
a colour keeps one meaning; a boolean group names its variable; curves stop
where nobody is at risk; the swimmer's progression marker is no group colour.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

import immune_correlates as ic
from immune_correlates.plots._style import PALETTE, RESPONSE_COLORS, SMALL, wrap_label
from immune_correlates.plots.volcano import box_distances


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _screen(n: int, seed: int, spread: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = np.sort(rng.uniform(1e-4, 0.9, n))
    return pd.DataFrame(
        {
            "feature": [f"feature_{i}_with_a_long_descriptive_name" if i % 3 == 0 else f"f{i}" for i in range(n)],
            "estimate": rng.normal(0, spread, n),
            "p_value": p,
            "q_value": np.minimum(1, p * n / np.arange(1, n + 1)),
        }
    )


@pytest.mark.parametrize(("n", "seed", "annotate"), [(12, 1, 6), (30, 2, 12), (60, 3, 20), (25, 4, True)])
def test_every_volcano_name_sits_nearest_its_own_point_or_is_keyed(n, seed, annotate):
    table = _screen(n, seed, spread=0.4 if n > 40 else 1.0)
    fig, ax = plt.subplots(figsize=(6.5, 4.8), layout="constrained")
    ic.plots.volcano(table, ax=ax, fdr=0.5, annotate=annotate)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    points = ax.transData.transform(next(c for c in ax.collections if c.get_gid() == "volcano_points").get_offsets())
    names = [t for t in ax.texts if t.get_gid() == "volcano_label"]
    numbers = [t for t in ax.texts if t.get_gid() == "volcano_key_number"]
    key = [t for t in ax.texts if t.get_gid() == "volcano_key"]
    asked = int((table["q_value"] <= 0.5).sum()) if annotate is True else annotate
    assert len(names) + len(numbers) == asked  # nothing asked for is dropped
    px = fig.dpi / 72
    for t in names + numbers:
        assert t.arrow_patch is None  # no leader lines
        own = ax.transData.transform(t.xy)
        d = box_distances(np.array(t.get_window_extent(renderer).extents), points)
        mine = int(np.argmin(np.hypot(*(points - own).T)))
        if t in names:  # a name is nearer its own point than any other
            assert d[mine] < np.delete(d, mine).min(), t.get_text()
        else:  # a number (points too close for that) sits by its point
            assert d[mine] <= 15 * px, t.get_text()
    if numbers:  # each number is explained beside the plot
        entries = key[0].get_text().split("\n")
        assert [e.split("  ")[0] for e in entries] == [t.get_text() for t in numbers]
        assert key[0].get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    boxes = [t.get_window_extent(renderer) for t in names + numbers]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_crowded_volcano_uses_numbers_and_lists_the_names():
    rng = np.random.default_rng(5)
    table = pd.DataFrame(
        {
            "feature": [f"NK subset with a long name {i}" for i in range(40)],
            "estimate": rng.normal(0.5, 0.05, 40),
            "p_value": rng.uniform(0.001, 0.01, 40),
        }
    )
    table["q_value"] = table["p_value"]
    _, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    ic.plots.volcano(table, ax=ax, annotate=15)
    key = [t for t in ax.texts if t.get_gid() == "volcano_key"]
    assert key and len(key[0].get_text().split("\n")) >= 1
    named = {t.get_text() for t in ax.texts if t.get_gid() == "volcano_label"}
    listed = {e.split("  ", 1)[1] for e in key[0].get_text().split("\n")}
    assert len(named | listed) == 15


@pytest.mark.parametrize("text", ["Non-responder", "Complete remission with incomplete recovery", "PR"])
def test_wrap_label_never_breaks_a_word(text):
    for width in (4, 6, 9, 14):
        assert wrap_label(text, width).split() == text.split()


def _tick_texts(ax):
    return [t for t in ax.get_xticklabels() if t.get_text()]


@pytest.mark.parametrize(
    ("values", "names"),
    [
        ([0, 1], None),
        ([True, False], None),
        (["NR", "PR", "CR"], None),
        (["Arm A", "Arm B", "Arm C", "Arm D", "Arm E"], None),
        (["a", "b", "c"], {"a": "Non-responder", "b": "Partial responder", "c": "Complete responder"}),
    ],
)
def test_response_panel_ticks_keep_whole_words_and_never_overlap(values, names):
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame(
        {
            "grp": [values[i % len(values)] for i in range(n)],
            "nk_per_ul": rng.lognormal(5.5, 0.5, n),
            "t_function_score": rng.normal(0, 1, n),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = ic.plots.response_panel(frame, ["nk_per_ul", "t_function_score"], group="grp", group_labels=names)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        ticks = _tick_texts(ax)
        shown = " ".join(t.get_text().replace("\n", " ") for t in ticks)
        expected = [
            f"grp: {'yes' if v else 'no'}" if isinstance(v, bool) else str((names or {}).get(v, v)) for v in values
        ]
        for name in expected:
            assert all(word in shown.split() for word in name.split()), shown
        boxes = [t.get_window_extent(renderer) for t in ticks]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b), shown
        note = next(t for t in ax.texts if t.get_gid() == "stats_annotation")
        assert "\n" not in note.get_text() and note.get_fontsize() >= SMALL  # short, readable at print size
        assert note.get_text().startswith("p ")


def test_a_boolean_group_names_its_variable_in_legends_and_ticks():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len()).assign(high_nk=lambda d: d["nk_per_ul"] > 400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.kaplan_meier(frame, "pfs_months", "pfs_event", group="high_nk")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["high_nk: no", "high_nk: yes"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.response_boxplot(frame, "cd8_per_ul", "high_nk")
    assert all("True" not in t.get_text() and "False" not in t.get_text() for t in ax.get_xticklabels())


def test_one_colour_keeps_one_meaning_across_figures():
    response = {to_hex(c) for c in RESPONSE_COLORS.values()}
    assert response.isdisjoint({to_hex(c) for c in PALETTE})
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.kaplan_meier(frame, "pfs_months", "pfs_event", group="nk_per_ul", split="median")
    curves = {to_hex(line.get_color()) for line in ax.get_lines() if str(line.get_gid()).startswith("km:")}
    assert curves and curves.isdisjoint(response)  # "> median" is never the non-responders' vermillion
    fig = ic.plots.response_panel(frame, ["nk_per_ul"], group="response_group")
    boxes = {to_hex(p.get_edgecolor()) for p in fig.axes[0].patches}
    assert boxes <= response
    _, ax = plt.subplots()
    ic.plots.forest(ic.screen(frame, ["nk_per_ul", "cd8_per_ul"], outcome="cr", model="firth"), ax=ax)
    marks = {to_hex(c) for line in ax.collections for c in np.atleast_2d(line.get_edgecolor())}
    assert marks.isdisjoint(response)


def test_curves_stop_where_nobody_is_at_risk():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.simon_makuch(frame, "pfs_months", "pfs_event")
    for line in ax.get_lines():
        if str(line.get_gid()).startswith("sm:"):
            _, y = (np.asarray(v, dtype=float) for v in line.get_data())
            if (y <= 0).any():
                assert y[-1] == 0 and (y > 0).sum() == len(y) - 1  # ends at the time it reaches 0
    last = frame.groupby("responder")["pfs_months"].max()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.kaplan_meier(frame, "pfs_months", "pfs_event", group="responder")
        ax2 = ic.plots.cumulative_incidence(frame, "pfs_months", "pfs_cause", group="responder")
    for a, prefix in ((ax, "km:"), (ax2, "cif:")):
        for line in a.get_lines():
            gid = str(line.get_gid())
            if gid.startswith(prefix):
                level = gid.split(":", 1)[1]
                limit = last[int(level)] if level in ("0", "1") else last.max()
                assert np.nanmax(np.asarray(line.get_xdata(), dtype=float)) <= limit + 1e-9


def test_swimmer_progression_marker_is_no_group_colour():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len()).reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ax = ic.plots.swimmer(frame, "pfs_months", group="response_group")
    marker = next(line for line in ax.get_lines() if line.get_gid() == "progression")
    bars = {to_hex(p.get_facecolor()[:3]) for p in ax.patches}
    assert to_hex(marker.get_markerfacecolor()) not in bars
    assert to_hex(marker.get_markerfacecolor()) not in {to_hex(c) for c in RESPONSE_COLORS.values()}
