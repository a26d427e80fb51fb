"""The design of plain numeric covariates is built without formulaic; it must be formulaic's, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import MissingDataWarning
from immune_correlates.stats.regression import design_matrix
from immune_correlates.stats.regression.design_matrix import model_data


def _data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 23
    frame = pd.DataFrame(
        {
            "cr": rng.integers(0, 2, n),
            "nk_per_ul": rng.lognormal(5.5, 0.6, n),
            "prior_lines": rng.integers(1, 5, n).astype(np.int64),
            "del17p": rng.random(n) < 0.3,
            "age": rng.normal(63, 9, n).astype(np.float32),
            "u": rng.integers(0, 9, n).astype(np.uint16),
        },
        index=pd.Index([f"P{i:02d}" for i in range(n)], name="patient_id"),
    )
    frame.loc[frame.index[[2, 7]], "nk_per_ul"] = np.nan  # left out: the rows used are the complete ones
    return frame


def _both(frame, covariates, monkeypatch):
    kw = {"formula": None, "response": ["cr"], "covariates": covariates, "kind": "logistic", "missing": "drop"}
    with pytest.warns(MissingDataWarning, match="P02 .*P07"):
        fast = model_data(frame, caller="t", **kw)
    with monkeypatch.context() as m, pytest.warns(MissingDataWarning, match="P02 .*P07"):
        m.setattr(design_matrix, "_numeric_design", lambda *a, **k: None)
        slow = model_data(frame, caller="t", **kw)
    return fast, slow


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "covariates", [["nk_per_ul"], ["nk_per_ul", "prior_lines", "del17p"], ["age", "u", "del17p", "nk_per_ul"]]
)
def test_plain_numbers_give_formulaics_design_bit_for_bit(seed, covariates, monkeypatch):
    frame = _data(seed)
    fast, slow = _both(frame, covariates, monkeypatch)
    a, b = fast.design, slow.design
    assert a is not b
    assert a.X.tobytes() == b.X.tobytes() and a.X.shape == b.X.shape
    for field in ("names", "terms", "term_columns", "term_factors", "references", "aliases", "numeric"):
        assert getattr(a, field) == getattr(b, field), field
    assert list(fast.rows.index) == list(slow.rows.index)
    pd.testing.assert_frame_equal(fast.excluded, slow.excluded)
    new = _data(seed + 10)
    np.testing.assert_array_equal(a.frame(new), b.frame(new))  # predict on new rows
    assert a.describe(a.names[1]) == b.describe(b.names[1])


def test_a_text_or_nullable_column_takes_formulaics_path(monkeypatch):
    frame = (
        _data(0)
        .dropna()
        .assign(sex=lambda f: np.where(f["cr"] == 1, "F", "M"), n=lambda f: f["prior_lines"].astype("Int64"))
    )
    calls = []
    original = design_matrix._numeric_design
    monkeypatch.setattr(design_matrix, "_numeric_design", lambda *a: calls.append(original(*a)) or calls[-1])
    for covariates in (["nk_per_ul", "sex"], ["n"]):
        model_data(
            frame, formula=None, response=["cr"], covariates=covariates, kind="logistic", missing="drop", caller="t"
        )
    assert calls == [None, None]
