"""Every plot kind stays legible over a grid of groupings: no two texts overlap, no axes collapse.

Measured with the renderer's text extents (``get_window_extent``) after a full draw, at low dpi to keep the
grid fast.
"""

from __future__ import annotations

import itertools
import warnings

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

import immune_correlates as ic

DPI = 50
N = 40


def _texts(fig):
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if (
            not t.get_visible()
            or not t.get_text().strip()
            or (t.axes is not None and not t.get_in_layout() and t.get_gid() != "volcano_label")
        ):
            continue
        bb = Text.get_window_extent(t, renderer)  # the text alone (an annotation's arrow is not text)
        if bb.width > 0 and bb.height > 0:
            out.append((t, bb))
    return out


def assert_legible(fig, min_axes_in=(1.0, 0.8)):
    """No two texts overlap (by more than a pixel) and every Axes keeps a readable size."""
    fig.set_dpi(DPI)
    fig.canvas.draw()
    boxes = _texts(fig)
    clashes = []
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        w = min(a.x1, b.x1) - max(a.x0, b.x0)
        h = min(a.y1, b.y1) - max(a.y0, b.y0)
        if w > 1 and h > 1:
            clashes.append((ta.get_text(), tb.get_text()))
    assert not clashes, f"overlapping texts: {clashes[:5]}"
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or not ax.get_visible() or not ax.axison:
            continue
        bb = ax.get_window_extent(renderer)
        assert bb.width >= min_axes_in[0] * DPI and bb.height >= min_axes_in[1] * DPI, (
            f"axes collapsed to {bb.width / DPI:.2f} x {bb.height / DPI:.2f} in"
        )


def _labels(k, long):
    base = ["Responder", "Non-responder", "Partial", "Stable", "Early death"][:k]
    if k == 2:
        base = ["Responder", "Non-responder"]
    if long:
        return [f"{b} group xyzuvw"[:15].ljust(15, "x") for b in base]
    return base


def _frame(k: int, kind: str, long: bool, n_features: int, seed: int = 3) -> tuple[pd.DataFrame, list]:
    rng = np.random.default_rng(seed)
    g = rng.permutation(np.arange(N) % k)
    if kind == "bool":
        group = g == 1
    elif kind == "01":
        group = g
    elif kind == "categorical":
        group = pd.Categorical(np.array(_labels(k, long))[g], categories=_labels(k, long))
    else:
        group = np.array(_labels(k, long))[g]
    feats = [f"feature_{i:02d}_" + ("x" * 8 if long else "") for i in range(n_features)]
    data = {f: rng.lognormal(5, 0.6, N) * (1 + 0.3 * (g == 1)) for f in feats}
    frame = pd.DataFrame(data, index=pd.Index([f"P{i:02d}" for i in range(N)], name="patient_id"))
    frame["group"] = group
    frame["time"] = rng.exponential(20, N).round(1) + 0.5
    frame["event"] = rng.integers(0, 2, N)
    return frame, feats


# 2, 3, 5 groups; text, categorical, bool and 0/1 columns; short and 15-character labels.
GRID = [
    (2, "text", True),
    (2, "categorical", False),
    (2, "bool", False),
    (2, "01", False),
    (3, "categorical", True),
    (3, "text", False),
    (5, "text", True),
    (5, "categorical", False),
]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize("k, kind, long", GRID, ids=[f"{k}-{kind}-{'long' if lg else 'short'}" for k, kind, lg in GRID])
@pytest.mark.slow  # more than two seconds: full suite only
def test_response_panel_and_boxplot(k, kind, long):
    frame, feats = _frame(k, kind, long, 7)
    fig = ic.plots.response_panel(frame, feats, "group", log=feats[:3])
    assert_legible(fig, (0.9, 0.9))
    plt.close(fig)
    levels = sorted(pd.unique(frame["group"]).tolist(), key=str)
    pairs = [(levels[0], levels[1])] + ([(levels[0], levels[2])] if k > 2 else [])
    ax = ic.plots.response_boxplot(frame, feats[0], "group", log=True, comparisons=pairs, title="A feature title")
    assert_legible(ax.figure)


@pytest.mark.parametrize("k, kind, long", GRID, ids=[f"{k}-{kind}-{'long' if lg else 'short'}" for k, kind, lg in GRID])
def test_kaplan_meier(k, kind, long):
    frame, _ = _frame(k, kind, long, 1)
    ax = ic.plots.kaplan_meier(frame, "time", "event", group="group", hazard_ratio=True, median_lines=True)
    assert_legible(ax.figure)
    rows = {t.get_gid() for t in ax.texts if str(t.get_gid()).startswith("at_risk_label:")}
    assert len(rows) == k  # one labelled at-risk row per group, whatever the dtype


@pytest.mark.slow  # more than two seconds: full suite only
def test_panel_with_30_features_and_5_long_groups():
    frame, feats = _frame(5, "text", True, 30)
    fig = ic.plots.response_panel(frame, feats, "group")
    assert_legible(fig, (0.9, 0.9))


@pytest.mark.parametrize("n_features", [2, 5, 7, 30])
@pytest.mark.parametrize("long", [False, True])
@pytest.mark.slow  # more than two seconds: full suite only
def test_volcano_and_forest(n_features, long):
    rng = np.random.default_rng(n_features)
    names = [f"feature {i:02d}" + (" with long nm" if long else "") for i in range(n_features)]
    est = rng.normal(0, 0.6, n_features)
    se = rng.uniform(0.15, 0.4, n_features)
    p = 2 * (1 - __import__("scipy").stats.norm.cdf(np.abs(est / se)))
    table = pd.DataFrame(
        {
            "feature": names,
            "estimate": est,
            "ci_lower": est - 1.96 * se,
            "ci_upper": est + 1.96 * se,
            "p_value": p,
            "q_value": ic.adjust_pvalues(p, method="fdr_bh"),
            "n": 34,
            "n_events": 8,
            "method": "firth",
        }
    )
    ax = ic.plots.volcano(table, endpoint="cr", per="SD", annotate=min(10, n_features))
    assert_legible(ax.figure)
    assert ax.get_xlabel() == "Log odds ratio per SD" and ax.get_title() == "Complete remission (CR/CRi)"
    plt.close(ax.figure)
    ax = ic.plots.forest(table, per="SD", title="Complete remission")
    assert_legible(ax.figure, (1.0, 0.5))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_swimmer_and_roc(k):
    frame, feats = _frame(k, "text", True, 2)
    frame["response_months"] = np.where(frame.index.str[-1].isin(list("13579")), 2.0, np.nan)
    ax = ic.plots.swimmer(frame, "time", "event", progression=None, group="group")
    assert_legible(ax.figure, (1.0, 1.0))
    plt.close(ax.figure)
    frame["y"] = (frame["group"] == frame["group"].iloc[0]).astype(int)
    ax = ic.plots.roc(frame, "y", feats)
    assert_legible(ax.figure)


PLOTS = {
    "response_boxplot": lambda f: ic.plots.response_boxplot(f, "nk_per_ul", log=True),
    "response_panel": lambda f: ic.plots.response_panel(f, ["cd3_per_ul", "nk_per_ul"]),
    "kaplan_meier": lambda f: ic.plots.kaplan_meier(f, "pfs_months", "pfs_event", group="cr"),
    "volcano": lambda f: ic.plots.volcano(ic.compare_groups(f, ["cd3_per_ul", "nk_per_ul", "cd8_per_ul"], "cr")),
    "forest": lambda f: ic.plots.forest(ic.fit_cox(f, "pfs_months", "pfs_event", ["nk_per_ul"])),
    "roc": lambda f: ic.plots.roc(f, "cr", "nk_per_ul"),
    "swimmer": lambda f: ic.plots.swimmer(f),
    "heatmap": lambda f: ic.plots.correlation_heatmap(f, ["cd3_per_ul", "nk_per_ul", "cd8_per_ul"]),
}


@pytest.mark.parametrize("kind", list(PLOTS))
def test_every_plot_leaves_matplotlib_as_found(kind, frame):
    plt.figure()  # the backend is loaded before we look at the settings
    plt.close("all")
    for interactive in (True, False):
        mpl.interactive(interactive)
        before = dict(mpl.rcParams)
        backend = mpl.get_backend()
        out = PLOTS[kind](frame)
        assert dict(mpl.rcParams) == before
        assert plt.isinteractive() is interactive and mpl.get_backend() == backend
        plt.close(getattr(out, "figure", out))
    mpl.interactive(False)


def test_save_figure_embeds_truetype_fonts_and_restores_settings(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.set_title("NK cells (cells/µL)")
    before = dict(mpl.rcParams)
    paths = ic.plots.save_figure(ax, tmp_path / "fig", formats=("png", "pdf", "svg"))
    assert dict(mpl.rcParams) == before
    pdf = paths[1].read_bytes()
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf  # TrueType (Type 42) embedded, no Type 3
    assert "NK cells (cells/µL)" in paths[2].read_text()  # SVG text stays text
    from PIL import Image

    with Image.open(paths[0]) as im:
        assert np.allclose(im.info["dpi"], (300, 300), atol=0.5)
    assert [p.name for p in ic.plots.save_figure(fig, tmp_path / "g")] == ["g.png", "g.pdf"]
