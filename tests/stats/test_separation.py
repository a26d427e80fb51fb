"""detect_separation against Konis's linear programmes solved in R with
boot::simplex, and against the growth of glm standard errors with iterations
(detectseparation's check_infinite_estimates); tests/reference/logistic.R."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ConvergenceWarning, SeparationWarning
from immune_correlates.stats.engine.separation import SeparationResult, separation_from_arrays
from immune_correlates.stats.regression.logistic import detect_separation, fit_logistic

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
CASES = {
    "endometrial": ("endometrial", "HG", ["NV", "PI", "EH"]),
    "infert": ("infert", "case", ["spontaneous", "induced", "age"]),
    "complete": ("sep_complete", "y", ["x"]),
    "quasi1d": ("sep_quasi1d", "y", ["x"]),
    "quasi": ("sep_quasi", "y", ["x", "z"]),
}


def load(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"logistic_{name}.csv").set_index("patient_id")


def reference(case: str, quantity: str) -> pd.Series:
    table = pd.read_csv(FIXTURES / "logistic_reference.csv")
    sel = table[(table["case"] == f"sep_{case}") & (table["quantity"] == quantity)]
    return sel.set_index("term")["value"].astype(float)


@pytest.mark.parametrize("case", list(CASES))
def test_directions_and_kind_match_konis_lp_in_r(case):
    data_name, outcome, covs = CASES[case]
    res = detect_separation(load(data_name), outcome, covs)
    expected = reference(case, "direction")
    assert list(res.directions.index) == list(expected.index)
    np.testing.assert_array_equal(res.directions.to_numpy(), expected.to_numpy())
    model = reference(case, "separated")
    assert res.separated == bool(model["model"])
    kind = "none" if not res.separated else ("complete" if reference(case, "complete")["model"] else "quasi-complete")
    assert res.kind == kind


@pytest.mark.parametrize("case", list(CASES))
def test_infinite_terms_are_those_whose_glm_se_keeps_growing(case):
    data_name, outcome, covs = CASES[case]
    res = detect_separation(load(data_name), outcome, covs)
    growing = reference(case, "se_ratio_25")
    assert set(res.infinite_terms) == set(growing.index[growing > 1000])
    assert set(growing.index[growing < 10]) == set(growing.index) - set(res.infinite_terms)


def test_endometrial_nv_is_the_only_infinite_estimate():
    res = detect_separation(load("endometrial"), "HG", ["NV", "PI", "EH"])
    assert res.separated and res.kind == "quasi-complete"
    assert res.infinite_terms == ("NV",)
    assert res.directions["NV"] == np.inf
    table = res.summary()
    assert table.loc[table["term"] == "NV", "infinite"].item()
    assert 'method="firth"' in repr(res) and "NV" in res._repr_html_()


def test_separation_result_is_frozen():
    res = detect_separation(load("infert"), "case", "age")
    assert isinstance(res, SeparationResult) and not res.separated and res.kind == "none"
    with pytest.raises(AttributeError):
        res.separated = True  # type: ignore[misc]


def test_sign_left_open_by_the_data_is_reported_as_nan():
    # two features that each separate perfectly: any positive mix separates,
    # and so do directions giving one of them a negative weight
    X = np.column_stack([np.ones(6), [1.0, 2, 3, 4, 5, 6], [1.0, 3, 2, 5, 4, 6]])
    y = np.array([0, 0, 0, 1, 1, 1.0])
    res = separation_from_arrays(X, y, ["Intercept", "a", "b"])
    assert res.kind == "complete"
    assert np.isnan(res.directions["a"]) and np.isnan(res.directions["b"])
    assert set(res.infinite_terms) == {"Intercept", "a", "b"}


def test_zero_weight_rows_are_ignored_and_weights_do_not_change_the_answer():
    X = np.column_stack([np.ones(7), [1.0, 2, 3, 4, 5, 6, 0.5]])
    y = np.array([0, 0, 0, 1, 1, 1, 1.0])  # the last row breaks the separation
    assert separation_from_arrays(X, y, ["Intercept", "x"]).kind == "none"
    w = np.array([2, 1, 3, 1, 1, 2, 0.0])
    assert separation_from_arrays(X, y, ["Intercept", "x"], weights=w).kind == "complete"


def test_separation_check_runs_before_the_ml_fit_and_is_kept_on_the_result():
    with pytest.warns(SeparationWarning, match="quasi-complete separation.*z"):
        res = fit_logistic(load("sep_quasi"), "y", ["x", "z"])
    assert res.separation.infinite_terms == ("z",)
    firth = fit_logistic(load("sep_quasi"), "y", ["x", "z"], method="firth")
    assert firth.separation.infinite_terms == ("z",)
    assert any("Firth" in note for note in firth.notes)


def test_ml_profile_under_complete_separation_is_one_sided():
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", SeparationWarning)
        res = fit_logistic(load("sep_complete"), "y", "x", ci="profile")
    ci = res.conf_int()
    assert ci.loc["x", "upper"] == np.inf and 0 < ci.loc["x", "lower"] < 5
    assert ci.loc["Intercept", "lower"] == -np.inf and np.isfinite(ci.loc["Intercept", "upper"])
