"""Plots of multiple imputation and meta-analysis: what they draw, and legible for the trials and
columns users have (two, three, five, thirteen trials; short and long names; numeric, binary and
categorical columns), measured with the legibility check of test_legibility.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import ParameterError

_spec = importlib.util.spec_from_file_location("_legibility", Path(__file__).with_name("test_legibility.py"))
_legibility = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_legibility)
assert_legible = _legibility.assert_legible

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


def _gid(ax, gid):
    return [a for pool in (ax.lines, ax.collections, ax.patches, ax.texts) for a in pool if a.get_gid() == gid]


@pytest.fixture(scope="module")
def imputed(ofa_len):
    frame = ic.analysis_frame(ofa_len).copy()
    frame.loc[frame.index[:6], "sex"] = None
    frame.loc[frame.index[6:10], "response_group"] = None
    cols = ["cr", "age", "sex", "response_group", "nk_adcc_lu20", "t_synapse_index", "pfs_months", "pfs_event"]
    return ic.impute(frame, m=12, columns=cols, seed=3, n_iter=4)


def test_traces_one_line_per_chain_and_panel(imputed):
    fig = ic.plots.imputation_traces(imputed)
    assert len(fig.axes) == 2 * len(imputed.columns)
    for ax in fig.axes:
        assert len(_gid(ax, "chain")) == imputed.m
    assert fig.axes[0].get_title() == "Sex: mean" and fig.axes[0].get_ylabel() == "share M"
    assert_legible(fig, (0.9, 0.6))


def test_observed_vs_imputed_numeric_and_categorical(imputed):
    ax = ic.plots.observed_vs_imputed(imputed, "nk_adcc_lu20", log=True)
    (obs,) = _gid(ax, "observed")
    (imp,) = _gid(ax, "imputed")
    assert len(obs.get_offsets()) == imputed.data["nk_adcc_lu20"].notna().sum()
    np.testing.assert_allclose(
        np.sort(imp.get_offsets()[:, 1]), np.sort(imputed.imputed("nk_adcc_lu20").to_numpy().ravel())
    )
    assert_legible(ax.figure)
    ax = ic.plots.observed_vs_imputed(imputed, "response_group")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["CR", "NR", "PR"]
    assert_legible(ax.figure)


def test_imputation_plots_refuse_what_is_not_imputed(imputed):
    with pytest.raises(ParameterError, match="imputed column"):
        ic.plots.observed_vs_imputed(imputed, "age")
    with pytest.raises(ParameterError, match="ImputedData"):
        ic.plots.imputation_traces(imputed.completed(0))


def _meta(k, long, method="REML", ratio="odds_ratio"):
    rng = np.random.default_rng(k)
    labels = [f"Trial {i + 1}" + (" (Vitale et al., Clin Cancer Res)" if long else "") for i in range(k)]
    return ic.meta_analysis(
        rng.normal(0.4, 0.4, k), rng.uniform(0.2, 0.6, k), labels=labels, method=method, ratio=ratio
    )


@pytest.mark.parametrize("k", [2, 3, 5, 13])
@pytest.mark.parametrize("long", [False, True])
def test_meta_forest_is_legible(k, long):
    ax = ic.plots.forest(_meta(k, long))
    assert_legible(ax.figure, (1.0, 0.5))


def test_meta_forest_draws_weights_diamond_and_prediction_interval():
    d = pd.read_csv(FIX / "meta_data.csv")
    bcg = d[d["set"] == "bcg"]
    res = ic.meta_analysis(bcg["yi"], bcg["sei"], labels=bcg["label"].tolist(), ratio="hazard_ratio")
    ax = ic.plots.forest(res)
    (squares,) = _gid(ax, "meta_studies")
    sizes = squares.get_sizes()
    assert np.argmax(sizes) == np.argmax(res.weights.to_numpy()) and len(sizes) == res.k
    (diamond,) = _gid(ax, "meta_diamond")
    xs = diamond.get_xy()[:, 0]
    np.testing.assert_allclose([xs.min(), xs.max()], np.exp([res.ci_lower, res.ci_upper]))
    (pi,) = _gid(ax, "meta_prediction")
    np.testing.assert_allclose(sorted(pi.get_segments()[0][:, 0]), np.exp([res.pi_lower, res.pi_upper]))
    assert ax.get_xscale() == "log" and ax.get_xlabel().startswith("Hazard ratio")
    assert ax.get_yticklabels()[-1].get_text() == "Random effects (REML)"
    words = " ".join(t.get_text() for t in ax.texts)
    assert "I²" in words and "prediction interval" in words and "100%" in words


def test_fixed_effect_forest_has_no_prediction_line_and_unlogged_estimates_a_linear_axis():
    ax = ic.plots.forest(_meta(3, False, method="FE"))
    assert not _gid(ax, "meta_prediction")
    assert ax.get_yticklabels()[-1].get_text() == "Fixed effect"
    ax = ic.plots.forest(_meta(3, False, ratio=None))
    assert ax.get_xscale() == "linear"
