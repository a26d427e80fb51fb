"""Meta-analysis against metafor 3.8 (tests/reference/meta.R writes the fixtures): every method
(FE, DL, PM, REML) and test (z, Hartung-Knapp) on dat.bcg's log risk ratios, two 3-trial sets
(heterogeneous; homogeneous, where tau^2 = 0) and a 2-trial set, to 1e-6 relative."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import immune_correlates as ic
from immune_correlates.errors import InputError, MissingDataWarning, ParameterError

FIX = Path(__file__).resolve().parents[2] / "reference" / "fixtures"
RTOL = 1e-6
DATA = pd.read_csv(FIX / "meta_data.csv")
REF = pd.read_csv(FIX / "meta_rma.csv")
WEIGHTS = pd.read_csv(FIX / "meta_weights.csv")
CASES = [tuple(r) for r in REF[["set", "method", "test"]].itertuples(index=False)]


def _close(a, b, atol=1e-12):
    return np.isclose(a, b, rtol=RTOL, atol=atol)


@pytest.mark.parametrize("case", CASES, ids=["-".join(c) for c in CASES])
def test_meta_analysis_equals_metafor_rma(case):
    name, method, test = case
    d = DATA[DATA["set"] == name]
    ref = REF[(REF["set"] == name) & (REF["method"] == method) & (REF["test"] == test)].iloc[0]
    res = ic.meta_analysis(d["yi"], d["sei"], method=method, test=test, labels=d["label"].tolist())
    for ours, theirs in [
        ("estimate", "estimate"),
        ("std_error", "se"),
        ("statistic", "statistic"),
        ("pvalue", "pvalue"),
        ("ci_lower", "ci_lower"),
        ("ci_upper", "ci_upper"),
        ("tau2", "tau2"),
        ("i2", "i2"),
        ("h2", "h2"),
        ("q", "q"),
        ("q_pvalue", "q_pvalue"),
        ("df", "df"),
    ]:
        assert _close(getattr(res, ours), ref[theirs]), (ours, getattr(res, ours), ref[theirs])
    if method == "FE":  # predict.rma gives no prediction interval for FE models: ours is the CI
        assert np.isnan(ref["pi_lower"])
        assert (res.pi_lower, res.pi_upper) == (res.ci_lower, res.ci_upper)
    else:
        assert _close(res.pi_lower, ref["pi_lower"]) and _close(res.pi_upper, ref["pi_upper"])
    w = WEIGHTS[(WEIGHTS["set"] == name) & (WEIGHTS["method"] == method) & (WEIGHTS["test"] == test)]
    np.testing.assert_allclose(res.weights.to_numpy(), w["weight"].to_numpy(), rtol=RTOL)
    assert res.weights.index.tolist() == w["label"].tolist()


def test_tau2_is_solved_to_the_root_of_its_equation():
    """REML's score and PM's estimating equation are zero at the estimate (metafor's default stops ~1e-4 off)."""
    d = DATA[DATA["set"] == "bcg"]
    y, v = d["yi"].to_numpy(), d["sei"].to_numpy() ** 2
    for method in ("REML", "PM"):
        t = ic.meta_analysis(y, np.sqrt(v), method=method).tau2
        w = 1 / (v + t)
        mu = np.sum(w * y) / np.sum(w)
        if method == "PM":
            assert abs(np.sum(w * (y - mu) ** 2) - (len(y) - 1)) < 1e-10
        else:
            assert abs(np.sum(w**2 * (y - mu) ** 2) + np.sum(w**2) / np.sum(w) - np.sum(w)) < 1e-8


def test_hartung_knapp_is_not_truncated():
    """With homogeneous trials the Hartung-Knapp SE falls below the model-based one (metafor's "knha", not "adhoc")."""
    d = DATA[DATA["set"] == "homogeneous"]
    z = ic.meta_analysis(d["yi"], d["sei"], method="REML", test="z")
    hk = ic.meta_analysis(d["yi"], d["sei"], method="REML", test="knha")
    assert hk.std_error < z.std_error
    assert hk.df == 2 and np.isinf(z.df)


def test_summary_lists_trials_and_the_pooled_row_with_ratios():
    res = ic.meta_analysis([0.4, -0.2, 0.1], [0.3, 0.25, 0.4], labels=["A", "B", "C"], ratio="hazard_ratio")
    tab = res.summary()
    assert tab["label"].tolist() == ["A", "B", "C", "Pooled (REML)"]
    np.testing.assert_allclose(tab["hazard_ratio"], np.exp(tab["estimate"]))
    assert abs(tab["weight"].iloc[:3].sum() - 100) < 1e-12
    ci = res.conf_int(alpha=0.1)
    assert ci.loc["pooled", "lower"] > res.ci_lower
    assert "heterogeneity" in repr(res) and "<table" in res._repr_html_()


@pytest.mark.parametrize(
    "estimates,ses,message",
    [
        ([0.1], [0.2], "at least 2 trials"),
        ([0.1, 0.2], [0.2], "2 estimates but 1 standard errors"),
        ([0.1, np.nan, 0.3], [0.2, 0.2, 0.2], "trial='trial 2'"),
        ([0.1, 0.2], [0.2, 0.0], "standard error > 0"),
    ],
)
def test_bad_trials_are_refused_by_name(estimates, ses, message):
    with pytest.raises(InputError, match=message):
        ic.meta_analysis(estimates, ses)


def test_bad_options_raise_parameter_error():
    with pytest.raises(ParameterError, match="method="):
        ic.meta_analysis([0.1, 0.2], [0.1, 0.1], method="ML")
    with pytest.raises(ParameterError, match="test="):
        ic.meta_analysis([0.1, 0.2], [0.1, 0.1], test="t")


def _trials(seed=11, n=45):
    rng = np.random.default_rng(seed)
    frames = []
    for i, (effect, size) in enumerate([(0.9, n), (0.5, n), (0.7, n), (0.2, n)]):
        x = rng.normal(size=size)
        y = (rng.random(size) < 1 / (1 + np.exp(-(effect * x - 0.3)))).astype(int)
        frames.append(pd.DataFrame({"trial": f"T{i + 1}", "nk": x, "cr": y}))
    out = pd.concat(frames, ignore_index=True)
    out.index = [f"P{i:03d}" for i in range(len(out))]
    out.index.name = "patient_id"
    return out


def test_meta_analysis_by_pools_the_per_trial_fits():
    df = _trials()
    opts = {"outcome": "cr", "covariates": ["nk"]}
    res = ic.meta_analysis_by(df, "trial", fit=ic.fit_logistic, term="nk", fit_options=opts, test="knha")
    ests = [ic.fit_logistic(df[df["trial"] == t], "cr", ["nk"]).params["nk"] for t in ("T1", "T2", "T3", "T4")]
    ses = [ic.fit_logistic(df[df["trial"] == t], "cr", ["nk"]).bse["nk"] for t in ("T1", "T2", "T3", "T4")]
    direct = ic.meta_analysis(ests, ses, test="knha")
    assert res.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert res.ratio == "odds_ratio" and set(res.fits) == {"T1", "T2", "T3", "T4"}
    assert res.excluded.empty


def test_meta_analysis_by_reports_a_trial_that_cannot_be_fitted():
    df = _trials()
    df.loc[df["trial"] == "T3", "cr"] = 0  # no responders in T3: no logistic model there
    with pytest.warns(MissingDataWarning, match="T3"):
        res = ic.meta_analysis_by(
            df, "trial", fit=ic.fit_logistic, term="nk", fit_options={"outcome": "cr", "covariates": ["nk"]}
        )
    assert res.k == 3 and res.excluded["trial"].tolist() == ["T3"]
    assert "T3" in repr(res)


def test_meta_analysis_by_names_an_unknown_term_and_column():
    df = _trials()
    with pytest.raises(InputError, match="no term 'cd8'"):
        ic.meta_analysis_by(
            df, "trial", fit=ic.fit_logistic, term="cd8", fit_options={"outcome": "cr", "covariates": ["nk"]}
        )
    with pytest.raises(InputError, match="site"):
        ic.meta_analysis_by(df, "site", fit=lambda d: ic.fit_logistic(d, "cr", ["nk"]), term="nk")


def test_the_fit_method_and_the_meta_analysis_method_do_not_mix():
    df = _trials()
    firth = ic.meta_analysis_by(
        df,
        "trial",
        fit=ic.fit_logistic,
        term="nk",
        fit_options={"outcome": "cr", "covariates": ["nk"], "method": "firth"},
        method="DL",
    )
    assert firth.method == "DL" and all(f.method == "firth" for f in firth.fits.values())
