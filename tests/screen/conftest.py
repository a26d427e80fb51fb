"""Shared data of the screening tests: the bundled cohort and random cohorts with ties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic


@pytest.fixture(scope="module")
def frame():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ic.analysis_frame(ic.datasets.load_ofa_len())


@pytest.fixture(scope="module")
def panel(frame):
    """Numeric feature columns of the bundled cohort (some with missing values)."""
    start = list(frame.columns).index("cd3_per_ul")
    return [c for c in frame.columns[start:] if frame[c].notna().sum() >= 20]


def random_cohort(seed: int, n: int = 40, m: int = 6) -> pd.DataFrame:
    """Random patients: tied follow-up times, a binary outcome, ``m`` features, two covariates."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "patient_id": [f"R{i:03d}" for i in range(n)],
            "time": np.round(rng.exponential(12, n)),  # whole months: many ties
            "status": (rng.random(n) < 0.75).astype(int),
            "y": (rng.random(n) < 0.35).astype(int),
            "age": rng.normal(65, 8, n),
            "stage": rng.integers(0, 2, n).astype(float),
        }
    )
    for j in range(m):
        df[f"f{j}"] = rng.lognormal(3, 0.7, n)
    return df
