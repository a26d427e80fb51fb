"""House style: palette, group colours, p-value text and the export helper."""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.plots._style import (
    GREY,
    OKABE_ITO,
    PALETTE,
    RC_PARAMS,
    RESPONSE_COLORS,
    format_p,
    group_colors,
    house_style,
    new_axes,
    nice_log_ticks,
    save_figure,
)


def test_palette_is_okabe_ito():
    assert OKABE_ITO["vermillion"] == "#D55E00" and OKABE_ITO["blue"] == "#0072B2"
    # group colours that are not response groups never reuse a response colour (one colour, one meaning)
    assert set(PALETTE).isdisjoint(RESPONSE_COLORS.values())
    assert set(PALETTE) - set(OKABE_ITO.values()) <= {GREY, "#8C510A"}


def test_response_groups_get_fixed_colours_and_binary_outcomes_follow_them():
    assert group_colors(["NR", "PR", "CR"]) == {"NR": "#D55E00", "PR": "#E69F00", "CR": "#0072B2"}
    assert group_colors(["CR", "NR"]) == {"CR": "#0072B2", "NR": "#D55E00"}
    assert group_colors([0, 1]) == {0: "#D55E00", 1: "#0072B2"}
    assert group_colors(["a", "b"]) == {"a": PALETTE[0], "b": PALETTE[1]}
    assert group_colors(["a", "b"], colors=["red", "green"]) == {"a": "red", "b": "green"}
    with pytest.raises(ImmuneCorrelatesError, match=r"no colour given for group\(s\) \['b'\]"):
        group_colors(["a", "b"], colors={"a": "red"})


@pytest.mark.parametrize(
    "p, text",
    [
        (0.0321, "p = 0.032"),
        (0.5, "p = 0.50"),
        (0.00099, "p < 0.001"),
        (0.0012, "p = 0.0012"),
        (float("nan"), "p = NA"),
    ],
)
def test_p_values_are_written_with_two_significant_digits(p, text):
    assert format_p(p) == text


def test_house_style_applies_readable_sizes_only_inside_the_context():
    before = plt.rcParams["axes.spines.top"]
    with house_style():
        assert plt.rcParams["font.size"] == RC_PARAMS["font.size"]
        assert plt.rcParams["axes.spines.top"] is False
    assert plt.rcParams["axes.spines.top"] == before


def test_save_figure_writes_every_format_at_the_requested_dpi(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, 1])
    ax.set_title("CR by NK count")
    paths = save_figure(fig, tmp_path / "sub" / "km.png", formats=("png", "svg", "pdf"), dpi=150)
    assert [p.name for p in paths] == ["km.png", "km.svg", "km.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)
    with Image.open(paths[0]) as im:
        assert np.allclose(im.info["dpi"], (150, 150), atol=0.5)
    assert "CR by NK count" in paths[1].read_text()  # text stays text in SVG
    assert paths[2].read_bytes().startswith(b"%PDF")


def test_save_figure_refuses_unknown_formats(tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ImmuneCorrelatesError, match="unknown format"):
        save_figure(fig, tmp_path / "x", formats=("png", "docx"))


@pytest.mark.parametrize(
    "lo, hi, ticks",
    [
        (0.28, 1.46, [0.3, 0.5, 0.7, 1]),  # narrow forest: 1-1.5-2-3-5-7 series
        (0.4, 8, [0.5, 1, 2, 5]),  # 1-2-5 series
        (90, 1100, [100, 200, 500, 1000]),  # counts per uL
        (1e-5, 1e5, [1e-5, 1e-3, 1e-1, 1e1, 1e3, 1e5]),  # every other decade
        (1.0, 1.08, [1.0, 1.02, 1.04, 1.06, 1.08]),  # too narrow for a log series
    ],
)
def test_log_axes_get_round_ticks(lo, hi, ticks):
    np.testing.assert_allclose(nice_log_ticks(lo, hi), ticks)


def test_given_axes_lose_top_and_right_spines():
    _, ax = plt.subplots()
    assert new_axes(ax) is ax
    assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()


@pytest.mark.parametrize("canvas", ["svg", "pdf"])
def test_plots_that_measure_their_texts_draw_on_vector_canvases(canvas):
    """Forest, meta forest and volcano measure text with the renderer: a PDF or SVG canvas has none of its own."""
    import importlib

    from matplotlib.figure import Figure

    import immune_correlates as ic

    backend = importlib.import_module(f"matplotlib.backends.backend_{canvas}")
    table = pd.DataFrame(
        {
            "feature": ["nk_per_ul", "cd8_per_ul", "t_function_score"],
            "estimate": [0.8, -0.2, 0.4],
            "ci_lower": [0.2, -0.9, -0.1],
            "ci_upper": [1.4, 0.5, 0.9],
            "p_value": [0.01, 0.6, 0.1],
            "q_value": [0.03, 0.6, 0.15],
            "n": 34,
            "n_events": 8,
            "method": "firth",
        }
    )
    meta = ic.meta_analysis([0.5, 1.8, 1.1], [0.27, 0.39, 0.34], labels=["A", "B", "C"], ratio="odds_ratio")
    for draw in (
        lambda ax: ic.plots.forest(table, ax=ax),
        lambda ax: ic.plots.forest(meta, ax=ax),
        lambda ax: ic.plots.volcano(table, ax=ax),
    ):
        fig = Figure()
        backend.FigureCanvas(fig)
        ax = draw(fig.add_subplot())
        assert ax.figure is fig and any(t.get_text() for t in ax.texts)
