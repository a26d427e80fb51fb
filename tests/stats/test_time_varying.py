"""``time_varying`` against survival 3.5-3 ``tmerge(..., tdc())`` and ``coxph`` on its rows.

Fixtures from tests/reference/counting_process.R: survival's pbc/pbcseq (the tmerge help
page's example: labs carried forward from each visit) and a small set of edge cases
(measurements before time 0, at an event time, at and after the end of follow-up, two at
one time, missing values, an id without follow-up).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import ImmuneCorrelatesError, ParameterError

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6


def _read(name):
    return pd.read_csv(FIXTURES / f"cp_tdc_{name}.csv")


@pytest.fixture(scope="module")
def pbc_rows():
    base, labs = _read("pbc_base"), _read("pbc_labs")
    return ic.time_varying(
        base[["id", "time", "death", "trt", "age"]],
        "time",
        "death",
        labs,
        ["bili", "albumin", "protime", "chol"],
        time="day",
        id="id",
    )


def test_edge_cases_equal_tmerge():
    rows = ic.time_varying(_read("edge_base"), "futime", "status", _read("edge_obs"), ["nk", "cd8"], time="t", id="id")
    want = _read("edge_tmerge")
    np.testing.assert_array_equal(
        rows[["id", "start", "stop", "status", "x0"]].to_numpy(float),
        want[["id", "tstart", "tstop", "status", "x0"]].to_numpy(float),
    )
    np.testing.assert_array_equal(rows[["nk", "cd8"]].to_numpy(float), want[["nk", "cd8"]].to_numpy(float))
    assert rows.attrs["unmatched"] == ["7"]


def test_pbc_rows_equal_tmerge(pbc_rows):
    want = _read("pbc_tmerge")
    assert len(pbc_rows) == len(want) == 1807
    cols = ["id", "start", "stop", "death", "bili", "albumin", "protime", "chol"]
    ref = want[["id", "tstart", "tstop", "death", "bili", "albumin", "protime", "chol"]].to_numpy(float)
    np.testing.assert_array_equal(np.isnan(pbc_rows[cols].to_numpy(float)), np.isnan(ref))
    np.testing.assert_allclose(pbc_rows[cols].to_numpy(float), ref, rtol=1e-15)


@pytest.mark.parametrize(
    ("fit", "kw"),
    [
        ("pbc_efron", {"ties": "efron"}),
        ("pbc_breslow", {"ties": "breslow"}),
        ("pbc_cluster", {"cluster": "id"}),
    ],
)
def test_counting_process_cox_on_the_rows_equals_coxph(pbc_rows, fit, kw):
    ref = pd.read_csv(FIXTURES / "cp_tdc_fits.csv").query("fit == @fit")
    rhs = "np.log(bili) + albumin + trt" if fit == "pbc_cluster" else "np.log(bili) + np.log(protime) + albumin"
    res = ic.fit_cox(pbc_rows, formula=f"Surv(start, stop, death) ~ {rhs}", ci="wald", **kw)
    np.testing.assert_allclose(res.params.to_numpy(), ref["coef"].to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(res.bse.to_numpy(), ref["se"].to_numpy(), rtol=RTOL)
    assert res.nobs == ref["n"].iloc[0] and res.n_events == ref["nevent"].iloc[0]
    assert res.llf == pytest.approx(ref["loglik"].iloc[0], rel=RTOL)


@pytest.mark.slow  # more than two seconds: full suite only
def test_a_single_visit_carries_forward_from_that_visit_only(ofa_len):
    """C3D1 NK and progression afterwards: before C3D1 the covariate is unknown, so that time is left out."""
    frame = ic.analysis_frame(ofa_len, features=pd.DataFrame(index=pd.Index([], name="patient_id")))
    long = ic.longitudinal_frame(ofa_len, ["nk_per_ul"])
    c3d1 = long[long["timepoint"] == "C3D1"]
    rows = ic.time_varying(frame, "pfs_days", "pfs_event", c3d1, {"nk_c3d1": "nk_per_ul"})
    known = rows.dropna(subset=["nk_c3d1"])
    assert (known["start"] > 0).all()
    assert set(known["patient_id"]) <= set(c3d1["patient_id"])
    first = known.groupby("patient_id")["start"].min()
    assert (first == c3d1.set_index("patient_id")["day"].reindex(first.index)).all()
    # every patient's follow-up is covered exactly once, events only on the last row
    span = rows.groupby("patient_id").agg(lo=("start", "min"), hi=("stop", "max"), ev=("pfs_event", "sum"))
    assert (span["lo"] == 0).all() and np.allclose(span["hi"], frame.loc[span.index, "pfs_days"])
    assert (span["ev"] == frame.loc[span.index, "pfs_event"]).all()


def test_bad_arguments():
    base, obs = _read("edge_base"), _read("edge_obs")
    with pytest.raises(ImmuneCorrelatesError, match="not found"):
        ic.time_varying(base, "futime", "status", obs, ["ldh"], time="t", id="id")
    with pytest.raises(ImmuneCorrelatesError, match="already exist"):
        ic.time_varying(base, "futime", "status", obs, {"x0": "nk"}, time="t", id="id")
    with pytest.raises(ParameterError):
        ic.time_varying(base, "futime", "status", obs, ["nk"], time="t", id=None)
    with pytest.raises(ImmuneCorrelatesError, match="more than once"):
        ic.time_varying(pd.concat([base, base.head(1)]), "futime", "status", obs, ["nk"], time="t", id="id")
    text = obs.assign(nk=obs["nk"].astype(object))
    text.loc[3, "nk"] = "<10"
    with pytest.raises(ic.InputError, match="numeric") as err:
        ic.time_varying(base, "futime", "status", text, ["nk"], time="t", id="id")
    assert err.value.column == "nk" and err.value.rows[0]["value"] == "<10"
