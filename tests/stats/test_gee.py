"""``fit_gee`` against geepack 1.3.9 ``geeglm`` (tests/reference/gee.R).

Binomial (exchangeable, AR(1), independence; ohio, balanced and with a quarter of the visits
removed, with and without ``waves``), poisson (epil), gaussian with a 3-level factor (dietox,
unbalanced) and a simulated per-cycle toxicity table.  Estimates, robust SEs, Wald chi-square,
p-values, the working correlation and the scale agree to 1e-6 relative (they agree to about
1e-12: both programs sit at the solution of the same estimating equations).
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import immune_correlates as ic
from immune_correlates.errors import InputError, MissingDataWarning, ParameterError

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
RTOL = 1e-6


def _read(name):
    return pd.read_csv(FIXTURES / f"gee_{name}.csv")


OHIO = "resp ~ age + smoke"
CASES = {
    "ohio_exch": ("ohio", OHIO, "id", "binomial", "exchangeable", None),
    "ohio_ar1": ("ohio", OHIO, "id", "binomial", "ar1", None),
    "ohio_indep": ("ohio", OHIO, "id", "binomial", "independence", None),
    "ohio_unbal_exch": ("ohio_unbal", OHIO, "id", "binomial", "exchangeable", None),
    "ohio_unbal_ar1": ("ohio_unbal", OHIO, "id", "binomial", "ar1", None),
    "ohio_unbal_ar1_waves": ("ohio_unbal", OHIO, "id", "binomial", "ar1", "wave"),
    "epil_exch": ("epil", "y ~ lbase + trt + lage + V4", "subject", "poisson", "exchangeable", None),
    "epil_ar1": ("epil", "y ~ lbase + trt + lage + V4", "subject", "poisson", "ar1", None),
    "dietox_exch": ("dietox", "Weight ~ Time + Cu", "Pig", "gaussian", "exchangeable", None),
    "dietox_ar1": ("dietox", "Weight ~ Time + Cu", "Pig", "gaussian", "ar1", "Time"),
    "dietox_indep": ("dietox", "Weight ~ Time + Cu", "Pig", "gaussian", "independence", None),
    "cycles_exch": ("cycles", "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id", "binomial", "exchangeable", None),
    "cycles_ar1": ("cycles", "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id", "binomial", "ar1", None),
}
#: R's coefficient names -> formulaic's
R_NAMES = {
    "(Intercept)": "Intercept",
    "trtprogabide": "trt[T.progabide]",
    "CuCu035": "Cu[T.Cu035]",
    "CuCu175": "Cu[T.Cu175]",
}


@pytest.fixture(scope="module")
def reference():
    return _read("fits"), _read("params").set_index("fit")


def _fit(name, **kw):
    data, formula, groups, family, cov, time = CASES[name]
    return ic.fit_gee(_read(data), formula, groups, family=family, cov_struct=cov, time=time, **kw)


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.slow  # more than two seconds: full suite only
def test_fit_equals_geeglm(name, reference):
    fits, params = reference
    ref = fits[fits["fit"] == name].assign(term=lambda d: d["term"].map(lambda t: R_NAMES.get(t, t)))
    ref = ref.set_index("term")
    fit = _fit(name)
    assert list(fit.params.index) == list(ref.index)
    np.testing.assert_allclose(fit.params, ref["estimate"], rtol=RTOL)
    np.testing.assert_allclose(fit.bse, ref["std_error"], rtol=RTOL)
    np.testing.assert_allclose(fit.summary()["statistic"], ref["wald"], rtol=RTOL)
    # geepack computes p as 1 - pchisq(W, 1): 0 for W > 75 where ours is ~1e-61, hence atol = 1e-15
    np.testing.assert_allclose(fit.pvalues, ref["p_value"], rtol=RTOL, atol=1e-15)
    par = params.loc[name]
    assert fit.scale == pytest.approx(par["scale"], rel=RTOL)
    if np.isnan(par["alpha"]):
        assert np.isnan(fit.correlation)
    else:
        assert fit.correlation == pytest.approx(par["alpha"], rel=RTOL)
    assert (fit.n_groups, fit.nobs, fit.cluster_sizes[1]) == (
        par["n_clusters"],
        par["nobs"],
        par["max_cluster"],
    )
    assert fit.converged


def test_interval_agrees_with_the_p_value():
    fit = _fit("cycles_exch")
    for term in fit.params.index:
        lo, hi = fit.conf_int(alpha=fit.pvalues[term]).loc[term]
        assert min(abs(lo), abs(hi)) == pytest.approx(0.0, abs=1e-9)  # the (1 - p) interval ends at 0
    z = stats.norm.ppf(0.975)
    ci = fit.conf_int()
    np.testing.assert_allclose(ci["upper"] - ci["lower"], 2 * z * fit.bse)
    table = fit.summary()
    np.testing.assert_allclose(table["odds_ratio"], np.exp(fit.params.to_numpy()))
    assert set(table["ci_method"]) == {"wald"} and set(table["test"]) == {"wald"}


def test_row_order_within_a_patient_is_its_time_order_and_groups_need_not_be_adjacent():
    data = _read("ohio_unbal")
    shuffled = data.sample(frac=1.0, random_state=3)
    shuffled = shuffled.sort_values("wave", kind="stable")  # groups interleaved, each patient's rows in time order
    a = ic.fit_gee(data, OHIO, "id", cov_struct="ar1")
    b = ic.fit_gee(shuffled, OHIO, "id", cov_struct="ar1")
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10)
    np.testing.assert_allclose(a.bse, b.bse, rtol=1e-10)


def test_working_correlation_matrices():
    ar1 = _fit("ohio_ar1")
    mat = ar1.working_correlation()
    assert mat.shape == (4, 4)
    assert mat.iloc[0, 2] == pytest.approx(ar1.correlation**2)
    exch = _fit("ohio_exch").working_correlation(3)
    assert exch.iloc[0, 1] == exch.iloc[1, 2] and np.allclose(np.diag(exch), 1.0)
    assert np.array_equal(_fit("ohio_indep").working_correlation(2).to_numpy(), np.eye(2))


def test_missing_rows_are_listed_and_warned_about():
    data = _read("cycles")
    data.loc[[0, 5], "nk_per_ul"] = np.nan
    with pytest.warns(MissingDataWarning, match="left out 2"):
        fit = ic.fit_gee(data, "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id")
    assert fit.nobs == len(data) - 2
    assert list(fit.excluded["patient_id"]) == list(data.loc[[0, 5], "patient_id"])
    assert set(fit.excluded["reason"]) == {"missing nk_per_ul"}
    with pytest.raises(ic.MissingDataError):
        ic.fit_gee(data, "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id", missing="raise")


def test_bad_outcome_and_times_name_the_column_patient_and_value():
    data = _read("cycles")
    data.loc[3, "neutropenia_g3"] = 2
    with pytest.raises(InputError, match="0/1") as err:
        ic.fit_gee(data, "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id")
    assert err.value.column == "neutropenia_g3"
    assert err.value.rows[0]["patient_id"] == data.loc[3, "patient_id"] and err.value.rows[0]["value"] == 2
    dup = _read("cycles")
    dup.loc[2, "cycle"] = dup.loc[1, "cycle"]  # two rows of P02 at cycle 1
    with pytest.raises(InputError, match="share a time") as err:
        ic.fit_gee(dup, "neutropenia_g3 ~ nk_per_ul", "patient_id", cov_struct="ar1", time="cycle")
    assert {r["patient_id"] for r in err.value.rows} == {"P02"}
    half = _read("cycles").assign(visit=lambda d: d["cycle"] + 0.5)
    with pytest.raises(InputError, match="whole numbers"):
        ic.fit_gee(half, "neutropenia_g3 ~ nk_per_ul", "patient_id", cov_struct="ar1", time="visit")
    with pytest.raises(InputError, match="not found"):
        ic.fit_gee(_read("cycles"), "neutropenia_g3 ~ nk_per_ul", "patient")


@pytest.mark.parametrize(
    "kw", [{"family": "gamma"}, {"cov_struct": "unstructured"}, {"alpha": 1.5}, {"missing": "ignore"}]
)
def test_bad_options_are_parameter_errors(kw):
    with pytest.raises(ParameterError):
        ic.fit_gee(_read("cycles"), "neutropenia_g3 ~ nk_per_ul", "patient_id", **kw)


def test_result_pickles_and_displays():
    fit = _fit("dietox_ar1")
    back = pickle.loads(pickle.dumps(fit))
    pd.testing.assert_frame_equal(back.summary(), fit.summary())
    assert "rate_ratio" not in fit.summary() and "odds_ratio" not in fit.summary()
    assert "AR(1)" not in repr(fit) and "ar1 working correlation" in repr(fit)
    assert "robust (sandwich)" in fit._repr_html_()
    assert not any("Mancl" in n for n in _fit("cycles_exch")._notes())  # 40 patients
    few = _read("cycles").query("patient_id < 'P21'")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = ic.fit_gee(few, "neutropenia_g3 ~ nk_per_ul + cycle", "patient_id")
    assert small.n_groups == 20 and any("Mancl" in n for n in small._notes())
