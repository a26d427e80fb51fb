"""fit_penalized equals glmnet 4.1-6 (fits at given lambdas, default paths, cv.glmnet with fixed folds)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import PredefinedSplit

import immune_correlates as ic

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"
REF = json.loads((FIXTURES / "glmnet.json").read_text())
DATA = pd.read_csv(FIXTURES / "glmnet_data.csv")


def _dataset(name):
    df = DATA[DATA["dataset"] == name].reset_index(drop=True)
    cols = [c for c in df.columns if c.startswith("x") and df[c].notna().all()]
    return df, cols


def _fit_at(name, f, lam):
    df, cols = _dataset(name.split("_")[0])
    kw = {"l1_ratio": f["alpha"], "lam": lam}
    if f.get("penalty_factor") is not None:
        kw["unpenalized"] = [c for c, v in zip(cols, f["penalty_factor"]) if v == 0]
    if f["weighted"]:
        df = df.loc[df.index.repeat(df["weight"].astype(int))].reset_index(drop=True)  # integer weights = copies
    if f["family"] == "binomial":
        return ic.fit_penalized(df, "y", cols, **kw), cols
    return ic.fit_penalized(df, covariates=cols, duration="time", event="status", **kw), cols


FITS = [(name, k) for name, f in REF["fits"].items() for k in range(len(f["lambda"]))]


def test_the_reference_is_converged():
    """glmnet ran with thresh = 1e-20: its optimality conditions hold to 1e-8 of lambda (computed in R)."""
    worst = max(np.max(f["kkt"]) for f in REF["fits"].values())
    assert worst < 1e-8
    assert REF["versions"]["glmnet"] == "4.1.6"


@pytest.mark.parametrize("name, k", FITS, ids=[f"{n}-{k}" for n, k in FITS])
@pytest.mark.slow  # more than two seconds: full suite only
def test_coefficients_equal_glmnet_at_a_given_lambda(name, k):
    f = REF["fits"][name]
    res, cols = _fit_at(name, f, f["lambda"][k])
    ref = np.array(f["beta"])[:, k]
    ours = res.params[cols].to_numpy()
    assert ((ours != 0) == (ref != 0)).all()  # the same terms selected
    scale = np.max(np.abs(ref))
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-6 * scale)
    if f["family"] == "binomial":
        assert res.params["Intercept"] == pytest.approx(f["a0"][k], rel=1e-6, abs=1e-9)
    assert res.kkt < 1e-9


def test_weights_as_copies_equal_glmnet_weights():
    """glmnet's case weights (normalised) equal duplicated rows: the weighted references are fitted on copies."""
    assert any(f["weighted"] for f in REF["fits"].values())


@pytest.mark.parametrize("name", ["logit34", "wide", "cox34"])
def test_the_lambda_path_and_its_length_equal_glmnet(name):
    p = REF["paths"][name]
    df, cols = _dataset(name)
    kw = {"l1_ratio": p["alpha"], "lam": 1.0}  # lam given: the path is computed, no cross-validation
    if p["family"] == "binomial":
        res = ic.fit_penalized(df, "y", cols, **kw)
    else:
        res = ic.fit_penalized(df, covariates=cols, duration="time", event="status", **kw)
    np.testing.assert_allclose(res.path["lam"], p["lambda"], rtol=1e-10)
    # the path reference runs at thresh = 1e-12 (glmnet stops converging beyond): its explained
    # deviance is accurate to ~1e-5 at the smallest lambdas (the coefficients are compared at 1e-6 above)
    np.testing.assert_allclose(res.path["dev_ratio"], p["dev_ratio"], rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(res.path["n_nonzero"], p["df"])


@pytest.mark.parametrize("name", ["logit34", "cox34"])
def test_cross_validation_equals_cv_glmnet_on_the_same_folds(name):
    c = REF["cv"][name]
    df, cols = _dataset(name)
    split = PredefinedSplit(np.array(c["foldid"]) - 1)
    if c["family"] == "binomial":
        res = ic.fit_penalized(df, "y", cols, cv=split)
    else:
        res = ic.fit_penalized(df, covariates=cols, duration="time", event="status", cv=split)
    np.testing.assert_allclose(res.path["lam"], c["lambda"], rtol=1e-10)
    # cv.glmnet fits each fold on its own path and reads it at the full-data lambdas (linear
    # interpolation); so do we.  glmnet's Cox folds converge only to thresh = 1e-12 (tighter, it stops
    # converging at the smallest lambdas), where its cvm moves by ~1e-4 between thresholds: Cox
    # curves are compared at 1e-3, logistic ones (thresh = 1e-16) at 1e-6; the chosen lambdas exactly.
    tol = 1e-6 if c["family"] == "binomial" else 1e-3
    np.testing.assert_allclose(res.path["cvm"], c["cvm"], rtol=tol)
    np.testing.assert_allclose(res.path["cvsd"], c["cvsd"], rtol=10 * tol)
    assert res.lam_min == pytest.approx(c["lambda_min"], rel=1e-10)
    assert res.lam_1se == pytest.approx(c["lambda_1se"], rel=1e-10)
    assert res.lam == res.lam_1se and res.rule == "1se"


def test_seeded_folds_are_reproducible_and_stratified():
    df, cols = _dataset("logit34")
    a = ic.fit_penalized(df, "y", cols, cv=5, seed=11)
    b = ic.fit_penalized(df, "y", cols, cv=5, seed=11)
    pd.testing.assert_frame_equal(a.path, b.path)
    assert a.n_folds == 5


def test_result_pickles_predicts_and_summarises():
    df, cols = _dataset("cox34")
    res = ic.fit_penalized(df, covariates=cols, duration="time", event="status", lam=0.1)
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.summary(), res.summary())
    lp = res.linear_predictor(df)
    np.testing.assert_allclose(lp, df[cols].to_numpy() @ res.params[cols].to_numpy())
    assert "no standard errors" in repr(res)
    assert list(res.summary().columns) == ["term", "estimate", "standardized", "hazard_ratio", "selected"]


def test_bad_inputs():
    df, cols = _dataset("logit34")
    with pytest.raises(ic.ParameterError, match="l1_ratio"):
        ic.fit_penalized(df, "y", cols, l1_ratio=1.5)
    with pytest.raises(ic.ParameterError, match="lam"):
        ic.fit_penalized(df, "y", cols, lam=-1.0)
    with pytest.raises(ic.InputError, match="0/1"):
        ic.fit_penalized(df.assign(y=df["y"] * 2), "y", cols, lam=0.1)
    with pytest.raises(ic.InputError, match="not among the covariates"):
        ic.fit_penalized(df, "y", cols, lam=0.1, unpenalized=["age"])
    with pytest.raises(ic.InputError, match="outcome="):
        ic.fit_penalized(df, "y", cols, duration="time", event="status")


def test_more_folds_than_patients_in_either_outcome_group():
    """12 patients, 6 with each outcome, 10 folds: StratifiedKFold refuses, so each group is dealt over the folds."""
    df, cols = _dataset("logit34")
    small = pd.concat([df[df["y"] == 0].head(6), df[df["y"] == 1].head(6)]).reset_index(drop=True)
    a = ic.fit_penalized(small, "y", cols, cv=10, seed=4)
    b = ic.fit_penalized(small, "y", cols, cv=10, seed=4)
    pd.testing.assert_series_equal(a.params, b.params)
    assert np.isfinite(a.path["cvm"]).all() and a.lam_1se >= a.lam_min
    with pytest.raises(ic.InputError, match="needs at least 10 patients; there are 9"):
        ic.fit_penalized(small.head(9).assign(y=[0, 1] * 4 + [1]), "y", cols, cv=10, seed=4)


def test_options_declared_for_the_folds_and_the_unpenalized_terms():
    df, cols = _dataset("logit34")
    with pytest.raises(ic.ParameterError, match="cv="):
        ic.fit_penalized(df, "y", cols, cv="10")
    one = ic.fit_penalized(df, "y", cols, lam=0.05, unpenalized=cols[0])
    assert one.params[cols[0]] == ic.fit_penalized(df, "y", cols, lam=0.05, unpenalized=[cols[0]]).params[cols[0]]
