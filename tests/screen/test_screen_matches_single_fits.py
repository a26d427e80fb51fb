"""Every number of a batched screen equals the single-fit functions' (fit_logistic, fit_cox) to 1e-8,
with both inference conventions: profile intervals with LR p-values (the default) and Wald with Wald."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from immune_correlates.errors import MissingDataError, MissingDataWarning, SeparationWarning
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic
from immune_correlates.stats.screening.screen import screen

from .conftest import random_cohort

TOL = 1e-8


def _single(df, row, covariates, kind, ci="profile"):
    sub = df[df[row.feature].notna()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "logistic":
            return fit_logistic(sub, "y" if "y" in df else "cr", [row.feature, *covariates], method=row.method, ci=ci)
        dur, ev = ("time", "status") if "time" in df else ("pfs_months", "pfs_event")
        return fit_cox(sub, dur, ev, [row.feature, *covariates], method=row.method, ci=ci)


def _assert_rows_match(df, tab, covariates, kind, ci="profile"):
    assert len(tab) > 0
    assert set(tab["test"]) == {"lr" if ci == "profile" else "wald"} and set(tab["ci_method"]) == {ci}
    for row in tab.itertuples():
        ref = _single(df, row, covariates, kind, ci)
        f = row.feature
        lo, up = ref.conf_int().loc[f]
        for got, want in [
            (row.estimate, ref.params[f]),
            (row.std_error, ref.bse[f]),
            (row.p_value, ref.pvalues[f]),
            (row.ci_lower, lo),
            (row.ci_upper, up),
        ]:
            assert got == pytest.approx(want, rel=TOL, abs=1e-12), (f, row.method)
        assert row.n == ref.nobs and row.n_events == ref.n_events


@pytest.mark.parametrize("ci", ["profile", "wald"])
@pytest.mark.parametrize("covariates", [[], ["age"]])
@pytest.mark.parametrize("model", ["firth", "logistic"])
@pytest.mark.slow  # more than two seconds: full suite only
def test_logistic_screen_of_ofa_len_equals_fit_logistic(frame, panel, model, covariates, ci):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        tab = screen(frame, panel, outcome="cr", model=model, covariates=covariates, ci=ci)
    assert (tab["method"] == {"firth": "firth", "logistic": "ml"}[model]).all() and (tab["family"] == "logistic").all()
    _assert_rows_match(frame, tab, covariates, "logistic", ci)


@pytest.mark.parametrize("ci", ["profile", "wald"])
@pytest.mark.parametrize("covariates", [[], ["age", "del17p"]])
@pytest.mark.parametrize("model", ["cox", "firth_cox"])
@pytest.mark.slow  # more than two seconds: full suite only
def test_cox_screen_of_ofa_len_equals_fit_cox(frame, panel, model, covariates, ci):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        tab = screen(frame, panel, duration="pfs_months", event="pfs_event", model=model, covariates=covariates, ci=ci)
    assert (tab["method"] == {"firth_cox": "firth", "cox": "ml"}[model]).all() and (tab["family"] == "cox").all()
    _assert_rows_match(frame, tab, covariates, "cox", ci)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.slow  # more than two seconds: full suite only
def test_cox_screen_with_tied_times_equals_fit_cox_on_random_cohorts(seed):
    df = random_cohort(seed)
    for model in ("cox", "firth_cox"):
        tab = screen(
            df, [f"f{j}" for j in range(6)], duration="time", event="status", model=model, covariates=["age", "stage"]
        )
        _assert_rows_match(df, tab, ["age", "stage"], "cox")
        wald = screen(
            df,
            [f"f{j}" for j in range(6)],
            duration="time",
            event="status",
            model=model,
            covariates=["age", "stage"],
            ci="wald",
        )
        _assert_rows_match(df, wald, ["age", "stage"], "cox", "wald")


def test_auto_logistic_switches_separated_features_to_firth():
    df = random_cohort(3)
    df["sep"] = df["y"] * 10.0 + df["f0"] / 100  # complete separation
    df["quasi"] = np.where(df["y"] == 1, 5.0, df["f1"] % 5)  # events all at the maximum, ties allowed
    tab = screen(df, ["sep", "quasi", "f2", "f3"], outcome="y", model="auto")
    assert list(tab["method"]) == ["firth", "firth", "ml", "ml"]
    assert "switched to Firth" in tab.loc[0, "note"] and tab.loc[2, "note"] == ""
    _assert_rows_match(df, tab, [], "logistic")
    with pytest.warns(SeparationWarning, match="sep"):
        ml = screen(df, ["sep", "f2"], outcome="y", model="logistic")
    assert "infinite" in ml.loc[0, "note"]
    _assert_rows_match(df, ml, [], "logistic")  # also where ML stops under separation


def test_auto_cox_switches_monotone_likelihood_to_firth():
    df = random_cohort(4)
    df["mono"] = (df["time"].rank(method="first") <= 5).astype(float)  # the 5 shortest times: monotone in Cox
    df.loc[df["mono"] == 1, "status"] = 1
    tab = screen(df, ["mono", "f1", "f2"], duration="time", event="status", model="auto", covariates=["age"])
    assert list(tab["method"]) == ["firth", "ml", "ml"]
    assert "monotone likelihood" in tab.loc[0, "note"]
    _assert_rows_match(df, tab, ["age"], "cox")


def test_missing_values_are_dropped_per_feature_and_listed(frame, panel):
    holes = [f for f in panel if frame[f].isna().any()]
    assert holes
    with pytest.warns(MissingDataWarning, match=holes[0]):
        tab = screen(frame, panel, outcome="cr", model="firth")
    ids = frame.index.astype(str) if "patient_id" not in frame else frame["patient_id"].astype(str)
    for row in tab.itertuples():
        missing = sorted(np.asarray(ids)[frame[row.feature].isna().to_numpy()])
        assert sorted(filter(None, row.excluded.split(", "))) == missing
        assert row.n == len(frame) - len(missing) and row.n_excluded == len(missing)
    with pytest.raises(MissingDataError):
        screen(frame, holes[:1], outcome="cr", missing="raise")


def test_profile_intervals_go_through_the_batched_profile_solver(frame, monkeypatch):
    """screen(ci="profile") never fits feature by feature: one batched constrained fit per solver step."""
    from immune_correlates.stats.engine import models

    calls = []
    real = models.fit_models

    def counting(design, idx, *args, **kwargs):
        calls.append(len(idx))
        return real(design, idx, *args, **kwargs)

    monkeypatch.setattr(models, "fit_models", counting)
    feats = ["cd8_per_ul", "nk_per_ul", "t_function_score", "cd4_per_ul"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        tab = screen(frame, feats, outcome="cr", model="firth")
    assert set(tab["test"]) == {"lr"} and calls[0] == len(feats)  # the profile's first step: every feature
    _assert_rows_match(frame, tab, [], "logistic", ci="profile")


def test_q_values_are_benjamini_hochberg_of_the_p_values(frame, panel):
    from immune_correlates.multiplicity import adjust_pvalues

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MissingDataWarning)
        tab = screen(frame, panel, duration="pfs_months", event="pfs_event", model="cox", adjust="holm")
    np.testing.assert_allclose(tab["q_value"], adjust_pvalues(tab["p_value"].to_numpy(), method="holm"), rtol=0, atol=0)
    np.testing.assert_allclose(tab["hazard_ratio"], np.exp(tab["estimate"]))


def test_constant_feature_gets_a_note_not_an_error():
    df = random_cohort(5)
    df["flat"] = 3.0
    tab = screen(df, ["flat", "f0"], outcome="y", model="firth")
    assert np.isnan(tab.loc[0, "estimate"]) and "single value" in tab.loc[0, "note"]
    assert np.isfinite(tab.loc[1, "estimate"])


def test_bad_arguments_are_refused_with_a_reason(frame):
    from immune_correlates.errors import ImmuneCorrelatesError

    with pytest.raises(ImmuneCorrelatesError, match="Cox model"):
        screen(frame, ["cd8_per_ul"], outcome="cr", model="cox")
    with pytest.raises(ImmuneCorrelatesError, match="model must be"):
        screen(frame, ["cd8_per_ul"], outcome="cr", model="probit")
    with pytest.raises(ImmuneCorrelatesError, match="not found"):
        screen(frame, ["no_such_feature"], outcome="cr")


@pytest.mark.parametrize("firth", [False, True])
def test_large_cohort_path_of_batched_cox_equals_fit_cox(monkeypatch, firth):
    """The segment-sum operators (used for large cohorts) give fit_cox's estimates, with heavy ties."""
    from immune_correlates.stats.engine import _risk_ops
    from immune_correlates.stats.engine.cox import fit_cox_batch

    monkeypatch.setattr(_risk_ops, "DENSE_LIMIT", 0)
    rng = np.random.default_rng(31)
    n = 400
    X = rng.normal(size=(n, 3))
    t = np.ceil(rng.exponential(np.exp(-X @ [0.5, -0.3, 0.2])) * 10)  # few distinct times
    e = (rng.random(n) < 0.7).astype(float)
    fit = fit_cox_batch(X, t, e, firth=firth)
    from immune_correlates.stats.engine._cox_eval import prepare_batch, sort_times

    order, grp, g_start = sort_times(t, e)
    assert isinstance(prepare_batch(X[order][None], np.ones((1, n)), e[order], grp, g_start).ops, _risk_ops.SegmentOps)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(t=t, e=e)
    ref = fit_cox(df, "t", "e", ["a", "b", "c"], method="firth" if firth else "ml")
    np.testing.assert_allclose(fit.beta[0], ref.params.to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(np.linalg.inv(fit.info[0]))), ref.bse.to_numpy(), rtol=1e-8)
    assert fit.value[0] == pytest.approx(ref.llf, rel=1e-12)
