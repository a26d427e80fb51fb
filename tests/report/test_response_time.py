"""The report's "Response and survival" section: its tables equal the direct analyses, and
without response dates it says "not assessed" instead of showing anything."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.report.response_time import response_and_survival


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    n = 50
    return pd.DataFrame(
        {
            "pfs_months": rng.exponential(14, n).round(1) + 0.5,
            "pfs_event": rng.integers(0, 2, n),
            "response_months": np.where(rng.random(n) < 0.6, rng.uniform(1, 5, n), np.nan),
        },
        index=pd.Index([f"P{i:02d}" for i in range(n)], name="patient_id"),
    )


def test_tables_equal_direct_fits(frame):
    out = response_and_survival(frame, landmark_at=3.0, sweep=(2.0, 4.0))
    lm = ic.landmark(frame, "pfs_months", "pfs_event", 3.0, {"responded": "response_months"})
    fit = ic.fit_cox(lm, "pfs_months", "pfs_event", ["responded"], method="firth")
    row = out["tables"]["response_landmark"].iloc[0]
    assert row["n_at_risk"] == len(lm) and row["n_responded"] == lm["responded"].sum()
    assert row["hazard_ratio"] == pytest.approx(np.exp(fit.params["responded"]), rel=1e-12)
    rows = ic.split_at(frame, "pfs_months", "pfs_event", {"responded": "response_months"})
    td = ic.fit_cox(rows, "stop", "pfs_event", ["responded"], entry="start", cluster="patient_id")
    tdr = out["tables"]["response_time_dependent"].iloc[0]
    assert tdr["hazard_ratio"] == pytest.approx(np.exp(td.params["responded"]), rel=1e-12)
    assert tdr["p_value"] == pytest.approx(td.pvalues["responded"], rel=1e-12)
    mb = ic.mantel_byar(frame, "pfs_months", "pfs_event", "response_months")
    assert tdr["mantel_byar_p"] == pytest.approx(mb.pvalue, rel=1e-12)
    assert out["tables"]["response_landmark_sweep"]["landmark"].tolist() == [2.0, 4.0]
    assert "3 months" in out["text"] and "guarantee-time" in out["text"]


def test_not_assessed_without_response_dates(frame):
    out = response_and_survival(frame.drop(columns="response_months"))
    assert out["tables"] == {} and "not assessed" in out["text"]
    out = response_and_survival(frame.assign(response_months=np.nan))
    assert out["tables"] == {} and "not assessed" in out["text"]
