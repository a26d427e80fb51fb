"""Rubin's rules against mice 3.15's ``pool`` (tests/reference/mice_pool.R writes the fixtures).

The completed data sets are the ones R's mice made (survival::lung, m = 5; mice::nhanes, m = 5),
exported and fitted here: logistic (fit_logistic, ML), Cox (fit_cox, Efron) and a linear model
fitted by statsmodels, pooled by ``ic.pool`` and by ``fit_*(ImputedData)``; estimate, ubar, b, t,
dfcom, df, riv, lambda, fmi, std_error, statistic, p and the interval equal ``summary(pool(fit),
"all", conf.int = TRUE)`` to 1e-6 relative.  A first test pools R's own per-imputation estimates,
so the pooling itself is checked apart from the fits.
"""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import InputError, ParameterError

FIX = Path(__file__).resolve().parents[2] / "reference" / "fixtures"
RTOL = 1e-6
POOL = pd.read_csv(FIX / "mice_pool.csv")
FITS = pd.read_csv(FIX / "mice_fits.csv")
COVS = ["age", "sex", "ph_karno", "wt_loss"]
COLUMNS = {
    "estimate": "estimate",
    "ubar": "ubar",
    "b": "b",
    "t": "t",
    "df": "df",
    "riv": "riv",
    "lambda": "lambda",
    "fmi": "fmi",
    "std_error": "std_error",
    "statistic": "statistic",
    "p_value": "p_value",
    "ci_lower": "ci_lower",
    "ci_upper": "ci_upper",
}


def _long(name):
    d = pd.read_csv(FIX / f"mice_{name}_completed.csv").set_index("patient_id")
    return d[d["imputation"] == 0].drop(columns="imputation"), [
        d[d["imputation"] == i].drop(columns="imputation") for i in range(1, 6)
    ]


@pytest.fixture(scope="module")
def lung():
    data, frames = _long("lung")
    return ic.ImputedData.from_frames(data, frames)


@pytest.fixture(scope="module")
def nhanes():
    return _long("nhanes")


def _compare(pooled, model, rename=None):
    ref = POOL[POOL["model"] == model].copy()
    ref["term"] = ref["term"].replace(rename or {})
    got = pooled.summary().set_index("term").loc[ref["term"]]
    for ours, theirs in COLUMNS.items():
        np.testing.assert_allclose(got[ours].to_numpy(), ref[theirs].to_numpy(), rtol=RTOL, err_msg=f"{model}: {ours}")
    assert pooled.dfcom == pytest.approx(ref["dfcom"].iloc[0], rel=1e-12)
    return max(float(np.max(np.abs(got[c].to_numpy() / ref[c].to_numpy() - 1))) for c in COLUMNS)


@pytest.mark.parametrize("model", ["logistic", "cox", "logistic_dfcom20", "linear"])
def test_pooling_r_own_estimates_equals_mice_pool(model):
    ref = POOL[POOL["model"] == model]
    fits = []
    for _, f in FITS[FITS["model"] == model].groupby("imputation"):
        fits.append(
            SimpleNamespace(
                params=pd.Series(f["estimate"].to_numpy(), index=f["term"]),
                bse=pd.Series(f["std_error"].to_numpy(), index=f["term"]),
            )
        )
    pooled = ic.pool(fits, dfcom=float(ref["dfcom"].iloc[0]))
    _compare(pooled, model)


def test_fit_logistic_on_mice_imputations_equals_mice_pool(lung):
    fits = [ic.fit_logistic(d, "dead", COVS, ci="wald") for d in lung]
    _compare(ic.pool(fits), "logistic", {"(Intercept)": "Intercept"})
    _compare(ic.pool(fits, dfcom=20), "logistic_dfcom20", {"(Intercept)": "Intercept"})
    direct = ic.fit_logistic(lung, "dead", COVS)  # the ImputedData path pools the same fits
    _compare(direct, "logistic", {"(Intercept)": "Intercept"})


def test_fit_cox_on_mice_imputations_equals_mice_pool(lung):
    pooled = ic.fit_cox(lung, "time", "dead", COVS, ties="efron")
    assert pooled.dfcom == pooled.n_events - 4
    _compare(pooled, "cox")


def test_statsmodels_fits_pool_with_their_residual_df(nhanes):
    sm = pytest.importorskip("statsmodels.formula.api")
    _, frames = nhanes
    fits = [sm.ols("chl ~ age + bmi", data=f).fit() for f in frames]
    _compare(ic.pool(fits), "linear", {"(Intercept)": "Intercept"})


def test_profile_intervals_are_not_pooled_the_pair_is_consistent(lung):
    """ci="profile" on imputed data: interval and p-value both from the Barnard-Rubin t, said in the notes."""
    res = ic.fit_logistic(lung, "dead", COVS, ci="profile")
    assert res.ci_method == res.test == "rubin"
    assert any("cannot be pooled by Rubin's rules" in n for n in res._notes())
    tab = res.summary()
    # the interval excludes 0 exactly when p < alpha: one method behind both
    assert ((tab["ci_lower"] > 0) | (tab["ci_upper"] < 0)).tolist() == (tab["p_value"] < 0.05).tolist()
    half = tab["ci_upper"] - tab["estimate"]
    from scipy import stats

    np.testing.assert_allclose(half, stats.t.ppf(0.975, tab["df"]) * tab["std_error"], rtol=1e-12)
    np.testing.assert_allclose(tab["p_value"], 2 * stats.t.sf(np.abs(tab["statistic"]), tab["df"]), rtol=1e-12)


def test_pool_refuses_fits_of_different_models_and_non_results(lung):
    frames = list(lung)
    fits = [
        ic.fit_logistic(frames[0], "dead", ["age"], ci="wald"),
        ic.fit_logistic(frames[1], "dead", ["sex"], ci="wald"),
    ]
    with pytest.raises(InputError, match="same model"):
        ic.pool(fits)
    with pytest.raises(InputError, match="at least 2"):
        ic.pool(fits[:1])
    with pytest.raises(ParameterError, match="results"):
        ic.pool(fits[0])
    with pytest.raises(ParameterError, match=r"results\[1\]"):
        ic.pool([fits[0], 3.0])


def test_from_frames_refuses_frames_that_change_observed_values(nhanes):
    data, frames = nhanes
    bad = frames[0].copy()
    bad.iloc[0, 0] = bad.iloc[0, 0] + 1
    with pytest.raises(InputError, match="changes observed values"):
        ic.ImputedData.from_frames(data, [bad, frames[1]])


D1 = pd.read_csv(FIX / "mice_d1.csv")


@pytest.mark.parametrize("model", ["logistic", "cox"])
def test_term_tests_equal_mice_d1(lung, model):
    """anova() of a pooled fit is mice::D1 of the model against the model without the term (2-df factor)."""
    data = ic.ImputedData.from_frames(
        lung.data.assign(ecog=lung.data["ph_ecog"].clip(upper=2)),
        [d.assign(ecog=d["ph_ecog"].clip(upper=2)) for d in lung],
    )
    if model == "logistic":
        pooled = ic.fit_logistic(data, formula="dead ~ age + C(ecog) + wt_loss")
    else:
        pooled = ic.fit_cox(data, formula="Surv(time, dead) ~ age + C(ecog) + wt_loss")
    tab = pooled.anova()
    assert list(tab.columns) == ["df", "den_df", "statistic", "p_value", "riv"]
    ref = D1[(D1["model"] == model) & (D1["term"] == "ecog")].iloc[0]
    got = tab.loc["C(ecog)"]
    assert got["df"] == ref["df1"] == 2
    for ours, theirs in (("statistic", "statistic"), ("den_df", "df2"), ("p_value", "p_value"), ("riv", "riv")):
        assert got[ours] == pytest.approx(ref[theirs], rel=RTOL)
    # one coefficient and m = 5: Reiter's df is undefined (k (m - 1) = 4); mitml reports 4, we use Li et al.'s
    age = D1[(D1["model"] == model) & (D1["term"] == "age")].iloc[0]
    assert age["df2"] == 4 and tab.loc["age", "statistic"] == pytest.approx(age["statistic"], rel=RTOL)
    assert tab.loc["age", "den_df"] > 100


def test_a_one_coefficient_d1_is_the_square_of_the_rubin_t(lung):
    """For one coefficient (1 + r) Ubar is T, so F = t^2 of the summary."""
    pooled = ic.fit_logistic(lung, "dead", COVS)
    tab = pooled.anova()
    np.testing.assert_allclose(tab["statistic"], pooled.tvalues.loc[tab.index] ** 2, rtol=1e-10)
    sm = pytest.importorskip("statsmodels.formula.api")
    with pytest.raises(ic.ModelError, match="which coefficients form each term"):
        ic.pool([sm.ols("dead ~ age", data=d).fit() for d in lung]).anova()
