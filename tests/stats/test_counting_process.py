"""Counting-process Cox fits ``fit_cox(entry=)`` against survival 3.5-3 ``coxph(Surv(start, stop, event))``.

Fixtures from tests/reference/counting_process.R: Stanford heart transplant rows
(survival::heart), simulated left-truncated rows with integer times (rows entering exactly
at event times of others, tied event times), and jasa split with ``tmerge``; Efron and
Breslow ties, strata, clusters (robust SE and robust score test), case weights and Firth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.stats.regression.cox import fit_cox

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
TOL = 1e-8


def _data(name: str) -> pd.DataFrame:
    df = pd.read_csv(FIXTURES / f"cp_{name}.csv")
    if "transplant" in df:
        df["transplant"] = df["transplant"].astype(int)
    return df


CASES = {
    "heart": ("heart", "start", "stop", "event", ["age", "year", "surgery", "transplant"], {}),
    "heart_strata": ("heart", "start", "stop", "event", ["age", "year", "transplant"], {"strata": "surgery"}),
    "heart_cluster": ("heart", "start", "stop", "event", ["age", "year", "surgery", "transplant"], {"cluster": "id"}),
    "heart_weights": ("heart", "start", "stop", "event", ["age", "transplant"], {"weights": "w"}),
    "trunc": ("trunc", "start", "stop", "event", ["x", "g"], {}),
    "trunc_strata": ("trunc", "start", "stop", "event", ["x", "g"], {"strata": "site"}),
    "trunc_cluster": ("trunc", "start", "stop", "event", ["x", "g"], {"cluster": "id"}),
    "trunc_weights": ("trunc", "start", "stop", "event", ["x", "g"], {"weights": "w"}),
    "jasa": ("jasa_tmerge", "tstart", "tstop", "fustat", ["age", "surgery", "transplant"], {"cluster": "id"}),
}


@pytest.fixture(scope="module")
def ref():
    return pd.read_csv(FIXTURES / "cp_fits.csv"), pd.read_csv(FIXTURES / "cp_tests.csv").set_index("fit")


def test_fixture_has_rows_entering_at_event_times_and_ties():
    df = _data("trunc")
    event_times = df.loc[df["event"] == 1, "stop"]
    assert df["start"].isin(set(event_times)).sum() >= 20
    assert event_times.duplicated().sum() >= 10


@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_coxph_counting_process(ref, case, ties):
    fits, tests = ref
    name, start, stop, event, covs, kw = CASES[case]
    res = fit_cox(_data(name), stop, event, covs, entry=start, ties=ties, **kw)
    key = f"{case}_{ties}"
    r = fits[fits["fit"] == key].set_index("term")
    r.index = [t[:-1] if t.endswith("transplant1") else t for t in r.index]
    np.testing.assert_allclose(res.params[covs], r.loc[covs, "coef"], rtol=TOL, atol=1e-12)
    t = tests.loc[key]
    assert res.nobs == t["n"]
    assert res.n_events == t["nevent"]
    np.testing.assert_allclose([res.llf_null, res.llf], [t["loglik0"], t["loglik"]], rtol=TOL)
    np.testing.assert_allclose(res.model_tests.loc["score", "statistic"], t["score"], rtol=TOL)
    if "cluster" in kw:
        np.testing.assert_allclose(res.cov_naive.to_numpy().diagonal() ** 0.5, r.loc[covs, "se"], rtol=TOL)
        np.testing.assert_allclose(res.bse[covs], r.loc[covs, "robust_se"], rtol=TOL)
        np.testing.assert_allclose(res.model_tests.loc["robust_score", "statistic"], t["robust_score"], rtol=TOL)
    else:
        np.testing.assert_allclose(res.bse[covs], r.loc[covs, "se"], rtol=TOL)


def test_firth_on_counting_process_rows():
    ref = pd.read_csv(FIXTURES / "cp_firth.csv")
    for key, name, covs, ties in [
        ("heart_breslow", "heart", ["age", "transplant"], "breslow"),
        ("trunc_efron", "trunc", ["x", "g"], "efron"),
    ]:
        r = ref[ref["fit"] == key]
        res = fit_cox(_data(name), "stop", "event", covs, entry="start", ties=ties, method="firth")
        # the R reference maximises on a central-difference gradient: agreement to ~1e-7
        np.testing.assert_allclose(res.params[covs], r["coef"], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(res.bse[covs], r["se"], rtol=1e-6)
        np.testing.assert_allclose(res.llf, r["loglik"].iloc[0], rtol=1e-10)


def test_entry_at_event_time_is_not_at_risk():
    """A row entering exactly at an event time is left out of that risk set (start < t <= stop)."""
    df = pd.DataFrame({"start": [0.0, 0, 0, 2], "stop": [2.0, 3, 4, 5], "event": [1, 1, 1, 0], "x": [1.0, 0, 1, 0]})
    res = fit_cox(df, "stop", "event", ["x"], entry="start", tol=1e-14)
    # at beta = 0 the log partial likelihood is -sum log(n at risk): 3 at t=2 (row 4 not yet), 3 at t=3, 2 at t=4
    assert res.llf_null == pytest.approx(-np.log(3) - np.log(3) - np.log(2), rel=1e-14)


def test_split_rows_equal_the_unsplit_fit():
    rng = np.random.default_rng(3)
    n = 50
    df = pd.DataFrame(
        {
            "patient_id": range(n),
            "t": rng.integers(1, 12, n).astype(float),
            "e": rng.integers(0, 2, n),
            "x": rng.normal(size=n),
        }
    )
    cut = np.floor(df["t"] / 2)
    a = df[cut > 0].assign(start=0.0, stop=cut[cut > 0], e=0)
    b = df.assign(start=np.where(cut > 0, cut, 0.0), stop=df["t"])
    rows = pd.concat([a, b], ignore_index=True)
    for kw in ({}, {"ties": "breslow"}, {"method": "firth"}, {"cluster": "patient_id"}):
        whole = fit_cox(df, "t", "e", ["x"], **kw)
        split = fit_cox(rows, "stop", "e", ["x"], entry="start", **kw)
        np.testing.assert_allclose(split.params, whole.params, rtol=1e-10)
        np.testing.assert_allclose(split.bse, whole.bse, rtol=1e-10)
        assert split.nobs == len(rows)


def test_entry_not_before_stop_is_refused_naming_the_patient():
    df = pd.DataFrame(
        {
            "patient_id": ["A", "B", "C"],
            "start": [0.0, 3.0, 1.0],
            "stop": [2.0, 3.0, 4.0],
            "event": [1, 0, 1],
            "x": [0.1, 0.5, 0.2],
        }
    )
    with pytest.raises(ImmuneCorrelatesError, match=r"patient_id='B', start=3\.0, stop=3\.0"):
        fit_cox(df, "stop", "event", ["x"], entry="start")


def test_concordance_and_ph_test_refuse_counting_process_fits():
    from immune_correlates.errors import ModelError

    res = fit_cox(_data("trunc"), "stop", "event", ["x", "g"], entry="start")
    with pytest.raises(ModelError, match="counting-process"):
        res.concordance  # noqa: B018
    with pytest.raises(ModelError, match="counting-process"):
        res.ph_test()
