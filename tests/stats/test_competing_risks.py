"""Cumulative incidence, Gray's test and Fine-Gray regression against R cmprsk 2.2-11
(tests/reference/competing_risks.R writes the fixtures): cmprsk's own simulated example with
tied times, groups and strata, and survival::mgus2 (progression vs death, many ties)."""

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import ImmuneCorrelatesError, MissingDataWarning

FIX = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-8


@pytest.fixture(scope="module")
def sim():
    return pd.read_csv(FIX / "cr_sim.csv")


@pytest.fixture(scope="module")
def mgus():
    return pd.read_csv(FIX / "cr_mgus2.csv")


@pytest.fixture(scope="module")
def ref_ci():
    return pd.read_csv(FIX / "cr_cuminc.csv")


def _data(name, sim, mgus):
    return sim if name == "sim" else mgus


@pytest.mark.parametrize("data,group_by", [("sim", "none"), ("sim", "group"), ("mgus2", "sex")])
@pytest.mark.parametrize("cause", [1, 2])
def test_cumulative_incidence_matches_cuminc_timepoints(sim, mgus, ref_ci, data, group_by, cause):
    ref = ref_ci[(ref_ci["data"] == data) & (ref_ci["group_by"] == group_by) & (ref_ci["cause"] == cause)]
    frame = _data(data, sim, mgus)
    group = None if group_by == "none" else group_by
    res = ic.cumulative_incidence(frame, "time", "event", group=group, cause=cause)
    times = np.sort(ref["time"].unique())
    got = res.estimate_at(times)
    assert list(got.columns) == ["group", "time", "estimate", "std_error"]
    for g, sub in ref.groupby("group"):
        label = "all" if group is None else g
        mine = got[got["group"] == label].set_index("time").loc[sub["time"]]
        np.testing.assert_allclose(mine["estimate"], sub["est"], rtol=RTOL, atol=1e-14)
        np.testing.assert_allclose(mine["std_error"], np.sqrt(sub["var"]), rtol=RTOL, atol=1e-14)
        # NaN exactly where timepoints() gives NA: before 0 and after the group's last time
        assert (mine["estimate"].isna().to_numpy() == sub["est"].isna().to_numpy()).all()
    assert ref["est"].isna().any() and ref["est"].notna().any()


def test_cumulative_incidence_table_counts(sim):
    res = ic.cumulative_incidence(sim, "time", "event", group="group", cause=1)
    for g, sub in sim.groupby("group"):
        tab = res.table[res.table["group"] == g]
        assert tab["n_risk"].iloc[0] == len(sub)
        assert tab["n_event"].sum() == (sub["event"] == 1).sum()
        assert tab["n_competing"].sum() == (sub["event"] == 2).sum()
        assert tab["n_censored"].sum() == (sub["event"] == 0).sum()
    # the causes' incidences and the all-cause KM add up: F1 + F2 = 1 - KM
    both = [ic.cumulative_incidence(sim, "time", "event", cause=k).estimate_at([0.5, 1.0, 2.0]) for k in (1, 2)]
    km = ic.kaplan_meier(sim.assign(any=(sim["event"] > 0).astype(int)), "time", "any")
    s = km.survival_at([0.5, 1.0, 2.0])["survival"].to_numpy()
    np.testing.assert_allclose(both[0]["estimate"] + both[1]["estimate"], 1 - s, rtol=1e-12)


@pytest.mark.parametrize(
    "group_by,strata,rho,cause",
    [
        ("group", "none", 0, 1),
        ("group", "none", 0, 2),
        ("group", "stratum", 0, 1),
        ("group", "stratum", 0, 2),
        ("group_rho1", "none", 1, 1),
        ("group_rho1", "none", 1, 2),
        ("sex", "none", 0, 1),
        ("sex", "none", 0, 2),
    ],
)
def test_gray_test_matches_cuminc_tests(sim, mgus, group_by, strata, rho, cause):
    ref = pd.read_csv(FIX / "cr_gray.csv")
    row = ref[(ref["group_by"] == group_by) & (ref["strata"] == strata) & (ref["cause"] == cause)].iloc[0]
    frame = _data(row["data"], sim, mgus)
    group = "sex" if group_by == "sex" else "group"
    res = ic.gray_test(frame, "time", "event", group, cause=cause, strata=None if strata == "none" else strata, rho=rho)
    assert res.df == row["df"]
    np.testing.assert_allclose(res.statistic, row["stat"], rtol=RTOL)
    np.testing.assert_allclose(res.pvalue, row["pv"], rtol=RTOL)
    assert {"statistic", "df", "p_value"} <= set(res.summary().columns)


@pytest.mark.parametrize(
    "data,model,cause",
    [
        ("sim", "x", 1),
        ("sim", "x", 2),
        ("sim", "x+group", 1),
        ("sim", "x+group", 2),
        ("mgus2", "age+sex+hgb", 1),
        ("mgus2", "age+sex+hgb", 2),
    ],
)
def test_fine_gray_matches_crr(sim, mgus, data, model, cause):
    ref = pd.read_csv(FIX / "cr_crr.csv")
    ref = ref[(ref["data"] == data) & (ref["model"] == model) & (ref["cause"] == cause)]
    frame = _data(data, sim, mgus)
    covs = {"x": ["x"], "x+group": ["x", "group"], "age+sex+hgb": ["age", "sex", "hgb"]}[model]
    if data == "mgus2":  # hgb is missing for 13 patients: announced and listed, not silently dropped
        with pytest.warns(MissingDataWarning, match="left out 13 of 1384"):
            fit = ic.fit_fine_gray(frame, "time", "event", covs, cause=cause)
    else:
        fit = ic.fit_fine_gray(frame, "time", "event", covs, cause=cause)
    names = {"groupb": "group[T.b]", "groupc": "group[T.c]", "sexM": "sex[T.M]"}  # as fit_cox codes them
    terms = [names.get(t, t) for t in ref["term"]]
    assert list(fit.params.index) == terms
    # crr's coef plus one Newton step from crr's own score and information (see competing_risks.R)
    np.testing.assert_allclose(fit.params.to_numpy(), ref["coef_polished"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(fit.params.to_numpy(), ref["coef"], rtol=1e-6 if not ref["converged"].all() else RTOL)
    np.testing.assert_allclose(fit.bse.to_numpy(), ref["se"], rtol=RTOL)
    np.testing.assert_allclose(fit.pvalues.to_numpy(), ref["p"], rtol=1e-6)
    np.testing.assert_allclose(fit.llf, ref["loglik"].iloc[0], rtol=RTOL)
    np.testing.assert_allclose(fit.llf_null, ref["loglik_null"].iloc[0], rtol=RTOL)
    if data == "mgus2":  # hgb missing for 13 patients: reported, not silently dropped
        assert len(fit.excluded) == 13 and fit.nobs == len(frame) - 13
    ci = fit.conf_int()
    np.testing.assert_allclose(ci["upper"] - ci["lower"], 2 * 1.959963984540054 * fit.bse, rtol=1e-12)
    assert "shr" in fit.summary().columns and "Fine-Gray" in fit._repr_html_()
    again = pickle.loads(pickle.dumps(fit))
    pd.testing.assert_series_equal(again.params, fit.params)


def test_cause_specific_cox_is_fit_cox_with_other_causes_censored(mgus):
    """Cause-specific hazards need no new code: fit_cox on (event == k), as coxph(Surv(time, event == k) ~ ...)."""
    frame = mgus.dropna(subset=["hgb"]).assign(pcm=lambda d: (d["event"] == 1).astype(int))
    fit = ic.fit_cox(frame, "time", "pcm", ["age", "hgb"])
    # the cause-specific and the subdistribution hazard ratio differ when the competing risk is strong
    fg = ic.fit_fine_gray(frame, "time", "event", ["age", "hgb"], cause=1)
    assert fit.params["age"] > fg.params["age"]
    assert fit.n_events == fg.n_events == int((frame["event"] == 1).sum())


def test_bad_event_codes_named(sim):
    bad = sim.astype({"event": float})
    bad.loc[3, "event"] = -1
    bad.loc[7, "event"] = 1.5
    with pytest.raises(
        ic.InputError, match=r"(?s)patient_id='S004', value=-1\.0.*patient_id='S008', value=1\.5"
    ) as info:
        ic.cumulative_incidence(bad.set_index("patient_id"), "time", "event")
    assert info.value.column == "event" and [r["patient_id"] for r in info.value.rows] == ["S004", "S008"]
    with pytest.raises(ic.ParameterError, match="cause=0 is not allowed; cause must be an integer >= 1"):
        ic.gray_test(sim, "time", "event", "group", cause=0)
    with pytest.raises(ImmuneCorrelatesError, match="single level"):
        ic.gray_test(sim.assign(one="a"), "time", "event", "one")
