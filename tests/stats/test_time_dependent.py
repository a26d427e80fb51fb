"""split_at against survival::tmerge, Mantel-Byar against a direct R computation (and survdiff),
landmark frames, the landmark sweep, Simon-Makuch curves, and the batched screen with entry=.

Fixtures from tests/reference/counting_process.R.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import ImmuneCorrelatesError
from immune_correlates.stats.engine import _risk_ops
from immune_correlates.stats.engine.cox import fit_cox_batch

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


@pytest.fixture(scope="module")
def jasa():
    return pd.read_csv(FIXTURES / "cp_jasa_input.csv")


def test_split_at_equals_tmerge(jasa):
    ref = pd.read_csv(FIXTURES / "cp_jasa_tmerge.csv")
    rows = ic.split_at(jasa, "futime", "fustat", {"transplant": "txtime"}, id="id", start="tstart", stop="tstop")
    assert len(rows) == len(ref)
    for col in ["id", "tstart", "tstop", "fustat", "transplant", "age", "surgery"]:
        np.testing.assert_array_equal(rows[col].to_numpy(float), ref[col].to_numpy(float), err_msg=col)
    assert list(rows.columns[:3]) == ["id", "futime", "fustat"] or "futime" not in rows.columns


def test_split_at_conventions():
    df = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d", "e"],
            "t": [10.0, 5, 8, 6, 7],
            "e": [1, 1, 0, 1, 0],
            "r": [3.0, 5.0, np.nan, 0.0, 9.0],
            "q": [3.0, 2.0, 4.0, np.nan, np.nan],
        }
    )
    rows = ic.split_at(df, "t", "e", {"resp": "r", "other": "q"})
    a = rows[rows["patient_id"] == "a"]
    assert a[["start", "stop", "e", "resp", "other"]].values.tolist() == [[0, 3, 0, 0, 0], [3, 10, 1, 1, 1]]
    # a time at the end of follow-up (b), missing (c) or after it (e) does not split and stays 0
    b = rows[rows["patient_id"] == "b"]
    assert b[["start", "stop", "e", "resp", "other"]].values.tolist() == [[0, 2, 0, 0, 0], [2, 5, 1, 0, 1]]
    assert rows.loc[rows["patient_id"] == "e", "resp"].tolist() == [0]
    # a time at 0 switches on from the start
    assert rows.loc[rows["patient_id"] == "d", ["start", "stop", "resp"]].values.tolist() == [[0, 6, 1]]
    assert "t" not in rows.columns and rows["e"].dtype == df["e"].dtype
    assert int(rows["e"].sum()) == int(df["e"].sum())


def test_split_at_refuses_zero_durations_and_duplicate_ids():
    df = pd.DataFrame({"patient_id": ["a", "b"], "t": [0.0, 5], "e": [1, 0], "r": [np.nan, 1.0]})
    with pytest.raises(ImmuneCorrelatesError, match=r"'t' is 0 for a"):
        ic.split_at(df, "t", "e", {"resp": "r"})
    df2 = pd.DataFrame({"patient_id": ["a", "a"], "t": [3.0, 5], "e": [1, 0], "r": [np.nan, 1.0]})
    with pytest.raises(ImmuneCorrelatesError, match="repeated values"):
        ic.split_at(df2, "t", "e", {"resp": "r"})


def test_mantel_byar_matches_r():
    ref = pd.read_csv(FIXTURES / "cp_mantel_byar.csv").set_index("test")
    tm = pd.read_csv(FIXTURES / "cp_jasa_tmerge.csv")
    res = ic.mantel_byar(tm, "tstop", "fustat", entry="tstart", group="transplant")
    r = ref.loc["jasa_transplant"]
    np.testing.assert_allclose(
        [res.observed, res.expected, res.variance, res.statistic, res.pvalue],
        r[["observed1", "expected1", "variance", "statistic", "p_value"]].astype(float),
        rtol=1e-10,
    )
    # the same statistic is the exact-likelihood Cox score test (coxph(ties = "exact"))
    np.testing.assert_allclose(res.statistic, r["exact_score"], rtol=1e-8)
    # from one row per patient and the switch time (split internally) it is the same test
    jasa = pd.read_csv(FIXTURES / "cp_jasa_input.csv")
    again = ic.mantel_byar(jasa, "futime", "fustat", "txtime", id="id", group="transplant")
    assert again.statistic == pytest.approx(res.statistic, rel=1e-12)
    tr = pd.read_csv(FIXTURES / "cp_trunc.csv")
    res2 = ic.mantel_byar(tr, "stop", "event", entry="start", group="g")
    np.testing.assert_allclose(res2.statistic, ref.loc["trunc_g", "statistic"], rtol=1e-10)


def test_mantel_byar_without_switching_is_the_logrank_test():
    ref = pd.read_csv(FIXTURES / "cp_mantel_byar.csv").set_index("test").loc["veteran_trt"]
    vet = pd.read_csv(FIXTURES / "cp_veteran_months.csv")
    vet["switch"] = np.where(vet["g"] == 1, 0.0, np.nan)
    vet["patient_id"] = np.arange(len(vet))
    res = ic.mantel_byar(vet, "tstop", "fustat", "switch")
    np.testing.assert_allclose(res.statistic, ref["survdiff"], rtol=1e-10)
    lr = ic.logrank_test(vet, "tstop", "fustat", "g")
    assert res.statistic == pytest.approx(lr.statistic, rel=1e-10)


def test_simon_makuch_counts_patients_in_their_current_group():
    df = pd.DataFrame(
        {
            "patient_id": range(6),
            "pfs_months": [2.0, 4, 6, 8, 10, 12],
            "pfs_event": [1, 1, 0, 1, 1, 0],
            "response_months": [np.nan, 1, 2, np.nan, 3, 5],
        }
    )
    sm = ic.simon_makuch(df, "pfs_months", "pfs_event")
    g0 = sm[sm["group"] == 0]
    # t=2: not yet responded: 0, 2 (responds at 2: a responder only after it), 3, 4 (at 3), 5 (at 5); one event
    assert g0["n_at_risk"].tolist()[1] == 5 and g0["survival"].tolist()[1] == pytest.approx(0.8)
    g1 = sm[sm["group"] == 1]
    # t=4: responders at risk: 1 (resp 1), 2 (resp 2), 4 (resp 3): 3, one event
    assert g1.set_index("time").loc[4.0, "n_at_risk"] == 3
    assert g1.set_index("time").loc[4.0, "survival"] == pytest.approx(2 / 3)


def test_landmark_frame():
    df = pd.DataFrame(
        {
            "patient_id": ["a", "b", "c", "d"],
            "t": [10.0, 2.0, 3.0, 8.0],
            "e": [1, 1, 0, 0],
            "r": [2.5, np.nan, 1.0, 4.0],
        }
    )
    lm = ic.landmark(df, "t", "e", 3.0, {"responded": "r"})
    assert lm["patient_id"].tolist() == ["a", "d"]
    assert lm["t"].tolist() == [7.0, 5.0]
    assert lm["responded"].tolist() == [1, 0]  # d responds after the landmark: counted as not responded
    ex = lm.attrs["excluded"]
    assert ex["patient_id"].tolist() == ["b", "c"]
    assert ex["reason"].str.contains("event").tolist() == [True, False]


def test_landmark_sweep_equals_direct_fits():
    rng = np.random.default_rng(7)
    n = 80
    df = pd.DataFrame(
        {
            "patient_id": range(n),
            "t": rng.exponential(12, n).round(1) + 0.1,
            "e": rng.integers(0, 2, n),
            "r": np.where(rng.random(n) < 0.5, rng.uniform(0.5, 8, n), np.nan),
        }
    )
    tab = ic.landmark_sweep(df, "t", "e", [2, 4, 6], {"responded": "r"})
    for _, row in tab.iterrows():
        lm = ic.landmark(df, "t", "e", row["landmark"], {"responded": "r"})
        fit = ic.fit_cox(lm, "t", "e", ["responded"], ci="profile")
        assert row["n_at_risk"] == len(lm) == int((df["t"] > row["landmark"]).sum())
        assert row["hazard_ratio"] == pytest.approx(np.exp(fit.params["responded"]), rel=1e-12)
        assert row["p_value"] == pytest.approx(fit.pvalues["responded"], rel=1e-12)
        ci = np.exp(fit.conf_int().loc["responded"].to_numpy(float))
        assert [row["ci_lower"], row["ci_upper"]] == pytest.approx(ci, rel=1e-9)
        assert (row["ci_method"], row["test"]) == ("profile", "lr")


def test_landmark_sweep_never_pairs_a_wald_interval_with_an_lr_p_value():
    """Issue 23: the 6-month row read HR 0.34, Wald CI 0.126-0.935, LR p = 0.051; the profile
    interval (0.137-1.007) is the one that agrees with the p-value."""
    f = ic.analysis_frame(ic.datasets.load_ofa_len()).reset_index()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = ic.landmark_sweep(f, "pfs_months", "pfs_event", [6.0], {"responded": "response_months"}, method="firth")
    row = tab.iloc[0]
    assert (row["ci_method"], row["test"]) == ("profile", "lr")
    assert row["p_value"] > 0.05 and row["ci_upper"] > 1  # the interval agrees with the p-value
    assert [row["ci_lower"], row["ci_upper"]] == pytest.approx([0.1367074, 1.00728055], rel=1e-6)


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("firth", [False, True])
def test_batched_entry_equals_single_fits(dense, firth, monkeypatch):
    df = pd.read_csv(FIXTURES / "cp_trunc.csv")
    if not dense:
        monkeypatch.setattr(_risk_ops, "DENSE_LIMIT", 0)
    single = ic.fit_cox(df, "stop", "event", ["x", "g"], entry="start", method="firth" if firth else "ml")
    batch = fit_cox_batch(
        df[["x", "g"]].to_numpy(),
        df["stop"].to_numpy(float),
        df["event"].to_numpy(float),
        firth=firth,
        entry=df["start"].to_numpy(float),
        frequency=False,
    )
    np.testing.assert_allclose(batch.beta[0], single.params.to_numpy(), rtol=1e-10, atol=1e-14)
    assert batch.value[0] == pytest.approx(single.llf, rel=1e-12)


@pytest.mark.parametrize("model", ["cox", "firth_cox"])
def test_screen_with_entry_equals_single_fits(model):
    df = pd.read_csv(FIXTURES / "cp_trunc.csv")
    rng = np.random.default_rng(0)
    df["f1"], df["f2"] = rng.normal(size=len(df)), rng.normal(size=len(df))
    df["patient_id"] = np.arange(len(df))
    tab = ic.screen(
        df, ["f1", "f2", "x"], duration="stop", event="event", entry="start", model=model, covariates=["g"]
    ).set_index("feature")
    for f in ["f1", "f2", "x"]:
        s = ic.fit_cox(df, "stop", "event", [f, "g"], entry="start", method="firth" if model == "firth_cox" else "ml")
        assert tab.loc[f, "estimate"] == pytest.approx(s.params[f], rel=1e-10)
        assert tab.loc[f, "std_error"] == pytest.approx(s.bse[f], rel=1e-10)
        assert tab.loc[f, "p_value"] == pytest.approx(s.pvalues[f], rel=1e-8)
        lo, up = s.conf_int().loc[f]  # profile intervals on counting-process rows, as fit_cox(entry=)
        assert (tab.loc[f, "ci_lower"], tab.loc[f, "ci_upper"]) == pytest.approx((lo, up), rel=1e-8)
    with pytest.raises(ImmuneCorrelatesError, match="the bootstrap is not available"):
        ic.screen(df, ["f1"], duration="stop", event="event", entry="start", model=model, n_boot=10)


def test_split_at_keeps_ids_from_the_index():
    df = pd.DataFrame(
        {"t": [10.0, 5], "e": [1, 0], "r": [3.0, np.nan]}, index=pd.Index(["P1", "P2"], name="patient_id")
    )
    rows = ic.split_at(df, "t", "e", {"resp": "r"})
    assert rows["patient_id"].tolist() == ["P1", "P1", "P2"]
