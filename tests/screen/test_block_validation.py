"""The feature panel is validated as one block, with the messages of the column-by-column check."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates._missing import complete_cases
from immune_correlates.errors import ImmuneCorrelatesError, MissingDataError, MissingDataWarning
from immune_correlates.stats.engine.models import make_design
from immune_correlates.stats.screening._prepare import invalid_models as _invalid
from immune_correlates.stats.screening.screen import screen

from .conftest import random_cohort

FEATS = [f"f{j}" for j in range(6)]


def _column_message(df, cols, numeric):
    """The message of the column-by-column check (what a user saw before block validation)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        with pytest.raises(ImmuneCorrelatesError) as info:
            complete_cases(df, cols, missing="drop", numeric=numeric, caller="screen")
    return str(info.value)


@pytest.mark.parametrize("kind", ["text", "inf", "categorical"])
def test_bad_feature_value_names_column_patient_and_value(kind):
    df = random_cohort(41)
    if kind == "text":
        df["f3"] = df["f3"].astype(object)
        df.loc[[4, 9], "f3"] = ["<LLOQ", "n/a"]
    elif kind == "inf":
        df.loc[7, "f4"] = np.inf
    else:
        df["f2"] = pd.Categorical(np.where(np.arange(len(df)) % 2, "high", "low"))
    want = _column_message(df, ["time", "status", *FEATS], ["time", "status", *FEATS])
    with pytest.raises(ImmuneCorrelatesError) as info:
        screen(df, FEATS, duration="time", event="status", model="cox")
    assert str(info.value) == want
    col = {"text": "f3", "inf": "f4", "categorical": "f2"}[kind]
    assert repr(col) in want and df.loc[{"text": 4, "inf": 7, "categorical": 0}[kind], "patient_id"] in want


def test_numbers_written_as_text_and_booleans_are_read_like_numbers():
    df = random_cohort(42)
    ref = screen(df, FEATS[:3], outcome="y", model="firth")
    txt = df.assign(f1=df["f1"].map(repr).astype(object), f2=df["f2"].astype("Float64"))
    got = screen(txt, FEATS[:3], outcome="y", model="firth")
    np.testing.assert_array_equal(got["estimate"], ref["estimate"])
    flag = df.assign(b=df["f0"] > df["f0"].median())
    both = screen(flag.assign(bf=flag["b"].astype(float)), ["b", "bf"], outcome="y", model="firth")
    assert both.loc[0, "estimate"] == both.loc[1, "estimate"]


def test_missing_and_duplicated_columns_are_named():
    df = random_cohort(43)
    with pytest.raises(ImmuneCorrelatesError, match=r"\['nope'\] not found"):
        screen(df, ["f0", "nope"], outcome="y")
    dup = pd.concat([df, df[["f1"]]], axis=1)
    with pytest.raises(ImmuneCorrelatesError, match=r"\['f1'\] appear more than once"):
        screen(dup, ["f0", "f1"], outcome="y")
    with pytest.raises(ImmuneCorrelatesError, match="listed more than once"):
        screen(df, ["f0", "f1", "f0"], outcome="y")


def test_missing_values_raise_with_every_patient_listed_or_are_left_out_per_feature():
    df = random_cohort(44)
    df.loc[[2, 5], "f1"] = np.nan
    df.loc[5, "age"] = np.nan
    with pytest.raises(MissingDataError) as info:
        screen(df, FEATS[:3], outcome="y", covariates=["age"], missing="raise")
    msg = str(info.value)
    assert "R002 (missing f1)" in msg and "R005 (missing age, f1)" in msg
    with pytest.warns(MissingDataWarning):
        tab = screen(df, FEATS[:3], outcome="y", covariates=["age"])
    assert tab["excluded"].tolist() == ["R005", "R005, R002", "R005"]
    assert tab["n"].tolist() == [39, 38, 39]


def test_a_feature_without_any_value_gets_a_note_and_the_others_are_fitted():
    df = random_cohort(45)
    df["empty"] = np.nan
    df.loc[::2, "f0"] = np.nan  # every row now misses some feature: still no error
    with pytest.warns(MissingDataWarning, match="empty"):
        tab = screen(df, ["empty", "f0", "f1"], duration="time", event="status", model="cox")
    assert np.isnan(tab.loc[0, "estimate"]) and "no patient has a value" in tab.loc[0, "note"]
    assert tab.loc[0, "n"] == 0 and tab.loc[0, "n_excluded"] == len(df)
    assert np.isfinite(tab.loc[[1, 2], "estimate"]).all() and tab.loc[1, "n"] == len(df) // 2


@pytest.mark.parametrize("family", ["logistic", "cox"])
def test_vectorised_rank_check_equals_matrix_rank_per_feature(family):
    rng = np.random.default_rng(46)
    n, m = 30, 40
    C = np.column_stack([rng.normal(size=n), rng.integers(0, 2, n).astype(float)])
    F = rng.normal(size=(n, m))
    F[:, 3] = 2 * C[:, 0] - 1  # collinear with a covariate (and the intercept)
    F[:, 7] = C[:, 1]
    F[:, 11] = 1e-9 * rng.normal(size=n) + C[:, 0]  # nearly, not exactly, collinear
    F[rng.random((n, m)) < 0.15] = np.nan
    F[:, 5] = np.where(C[:, 1] > 0, np.nan, F[:, 5])  # a covariate constant among the rows used
    y = (rng.random(n) < 0.5).astype(float)
    kw = {"y": y} if family == "logistic" else {"time": rng.exponential(size=n), "event": y}
    d = make_design(family, F, C, **kw)
    got = _invalid(d)
    for j in range(m):
        used = d.avail[j] > 0
        Xu = d.X[j][used]
        with np.errstate(all="ignore"):
            Xu = Xu - Xu.mean(axis=0) if family == "cox" else Xu / np.linalg.norm(Xu, axis=0)
            full = np.all(np.isfinite(Xu)) and np.linalg.matrix_rank(Xu) == d.p
        assert (got[j] == "collinear with the covariates") == (not full), j
    assert got[3] == got[7] == got[5] == "collinear with the covariates" and got[11] == ""
