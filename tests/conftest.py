"""Shared fixtures: the bundled cohort and small hand-made tables."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import immune_correlates as ic


@pytest.fixture(scope="session")
def ofa_len():
    """The bundled synthetic cohort (read once per test session)."""
    return ic.datasets.load_ofa_len()


@pytest.fixture
def tiny_clinical() -> pd.DataFrame:
    """Four patients whose endpoints are easy to compute by hand."""
    return pd.DataFrame(
        {
            "patient_id": ["A", "B", "C", "D"],
            "treatment_start": ["2020-01-01", "2020-01-01", "2020-02-01", "2020-03-01"],
            "best_response": ["CR", "PR", "SD", "CRi"],
            "last_followup": ["2021-01-01", "2020-12-01", "2020-08-01", "2022-03-01"],
            "progression_date": ["", "2020-07-01", "2020-05-01", ""],
            "death_date": ["", "", "2020-08-01", ""],
            "mrd_negative": ["yes", "no", "", "1"],
            "alc": ["40.5", "12", "", "3.25"],
            "cycles_received": ["12", "6", "3", "24"],
        }
    )
