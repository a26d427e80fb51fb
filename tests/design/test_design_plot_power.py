"""plot_power draws one line per effect (or per n) with Monte Carlo bands and returns the Axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from immune_correlates.data.design import OFA_LEN_DESIGN
from immune_correlates.design import power_curve
from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.plots.power import plot_power


@pytest.fixture(scope="module")
def curve():
    return power_curve(OFA_LEN_DESIGN, "wilcoxon", n=[20, 34, 50], effect=[0.3, 0.9], n_sim=100, seed=2, null=True)


def test_plot_power_against_n_has_one_line_per_effect_on_the_given_axes(curve):
    fig, ax = plt.subplots()
    out = plot_power(curve, ax=ax)
    assert out is ax
    data_lines = [ln for ln in ax.lines if ln.get_label().startswith("OR")]
    assert [ln.get_label() for ln in data_lines] == ["OR 1.3 per SD", "OR 2.5 per SD"]
    np.testing.assert_array_equal(data_lines[0].get_xdata(), [20, 34, 50])
    expected = curve.power_table().loc[[20, 34, 50], 0.3].to_numpy()
    np.testing.assert_allclose(data_lines[0].get_ydata(), expected)
    assert ax.get_ylim() == (0.0, 1.0)
    plt.close(fig)


def test_plot_power_against_effect_has_one_line_per_sample_size(curve):
    ax = plot_power(curve, x="effect", estimand="type1_error", target=None)
    labels = [ln.get_label() for ln in ax.lines]
    assert labels == ["n = 20", "n = 34", "n = 50"]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.exp([0.3, 0.9]))
    assert "OR per SD" in ax.get_xlabel()
    plt.close(ax.figure)


def test_plot_power_rejects_an_estimand_the_curve_lacks(curve):
    with pytest.raises(ImmuneCorrelatesError, match="no estimand 'fdr'"):
        plot_power(curve, estimand="fdr")
