"""fit_mixed beyond the R references: exact derivatives, the block reductions, lme4's syntax, errors, the result."""

from __future__ import annotations

import dataclasses
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import block_diag

import immune_correlates as ic
from immune_correlates.stats.longitudinal import mixed as mixed_module
from immune_correlates.stats.longitudinal._inference import kenward_roger, varpar_hessian
from immune_correlates.stats.longitudinal._lmm import evaluate, outcomes
from immune_correlates.stats.longitudinal._optimize import minimise
from immune_correlates.stats.longitudinal._prepare import prepare

FIXTURES = Path(__file__).resolve().parents[1] / "reference" / "fixtures"


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"mixed_data_{name}.csv", dtype={"patient_id": str})


@pytest.fixture(scope="module")
def sleep():
    return _data("sleepstudy")


@pytest.fixture(scope="module")
def trial():
    """34 patients x 5 visits, three arms, a few visits missing."""
    rng = np.random.default_rng(11)
    days = np.array([0.0, 15.0, 60.0, 140.0, 280.0])
    n = 34
    frame = pd.DataFrame(
        {
            "patient_id": np.repeat([f"P{i:02d}" for i in range(n)], 5),
            "day": np.tile(days, n),
            "arm": np.repeat(rng.choice(["a", "b", "c"], n), 5),
            "site": np.repeat(rng.choice(["s1", "s2", "s3", "s4"], n), 5),
        }
    )
    b0 = np.repeat(rng.normal(0, 30, n), 5)
    b1 = np.repeat(rng.normal(0, 0.1, n), 5)
    frame["y"] = 200 + 0.3 * frame["day"] * (frame["arm"] == "b") + b0 + b1 * frame["day"] + rng.normal(0, 15, 5 * n)
    return frame.drop(index=[7, 33, 90, 151]).reset_index(drop=True)


def _model(data, formula, reml=True):
    model = prepare(data, formula, missing="drop", caller="test")
    y = model.rows[model.outcome].to_numpy(dtype=float)
    out = outcomes(model.structure, y[:, None])
    opt = minimise(model.structure, out, reml=reml)
    return model, out, opt


def _dense(model, theta):
    """``Z`` and ``Lambda`` in lme4's order, written out (n x q)."""
    n = model.structure.n
    Zs, lams, k = [], [], 0
    for t in model.terms:
        Z = np.zeros((n, t.nc * t.nl))
        for r in range(n):
            Z[r, t.codes[r] * t.nc : (t.codes[r] + 1) * t.nc] = t.Z[r]
        T = np.zeros((t.nc, t.nc))
        for c in range(t.nc):
            for r in range(c, t.nc):
                T[r, c] = theta[k]
                k += 1
        Zs.append(Z)
        lams.append(np.kron(np.eye(t.nl), T))
    return np.hstack(Zs), block_diag(*lams), Zs


def _deviance_varpar(model, varpar, reml):
    """lmerTest's ``devfun_vp`` written from the definition: (RE)ML deviance in (theta, sigma), beta profiled."""
    theta, sigma = varpar[:-1], varpar[-1]
    X = model.structure.X
    y = model.rows[model.outcome].to_numpy(dtype=float)
    n, p = X.shape
    Z, Lam, _ = _dense(model, theta)
    V = np.eye(n) + Z @ Lam @ Lam.T @ Z.T
    Vi = np.linalg.inv(V)
    XVX = X.T @ Vi @ X
    e = y - X @ np.linalg.solve(XVX, X.T @ Vi @ y)
    dev = np.linalg.slogdet(V)[1] + e @ Vi @ e / sigma**2 + n * np.log(2 * np.pi * sigma**2)
    if reml:
        dev += np.linalg.slogdet(XVX)[1] - p * np.log(2 * np.pi * sigma**2)
    return dev


@pytest.mark.parametrize(
    "formula",
    [
        "y ~ day * arm + (day | patient_id)",
        "y ~ day + arm + (1 | patient_id) + (1 | site)",
    ],
)
@pytest.mark.parametrize("reml", [True, False])
def test_gradient_and_hessian_are_the_derivatives_of_the_deviance(trial, formula, reml):
    model, out, _ = _model(trial, formula, reml)
    theta = np.array([0.7, -0.05, 0.3][: model.structure.n_theta])[None]
    pc = evaluate(model.structure, out, theta, reml=reml, order=2)
    h = 1e-4  # the deviance's rounding (~1e-13 relative) swamps smaller steps
    num_grad, num_hess = np.zeros_like(pc.grad), np.zeros_like(pc.hess)
    for k in range(theta.shape[1]):
        e = np.zeros_like(theta)
        e[0, k] = h
        up = evaluate(model.structure, out, theta + e, reml=reml, order=1)
        down = evaluate(model.structure, out, theta - e, reml=reml, order=1)
        num_grad[0, k] = (up.f[0] - down.f[0]) / (2 * h)
        num_hess[0, :, k] = (up.grad[0] - down.grad[0]) / (2 * h)
    np.testing.assert_allclose(pc.grad, num_grad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(pc.hess, num_hess, rtol=1e-6, atol=1e-6 * np.abs(pc.hess).max())


@pytest.mark.parametrize("reml", [True, False])
def test_satterthwaite_hessian_in_theta_and_sigma_is_that_of_devfun_vp(trial, reml):
    """The Hessian lmerTest takes numerically, here exact: checked against differences of the n-space deviance."""
    model, out, opt = _model(trial.iloc[:80], "y ~ day * arm + (day | patient_id)", reml)
    pc = evaluate(model.structure, out, opt.theta, reml=reml, order=2)
    ours = varpar_hessian(pc)[0]
    x = np.append(opt.theta[0], np.sqrt(pc.r2[0] / pc.nu))
    h = 1e-4 * np.maximum(np.abs(x), 0.1)
    num = np.zeros_like(ours)
    for i in range(x.size):
        for j in range(i, x.size):
            ei, ej = np.eye(x.size)[i] * h[i], np.eye(x.size)[j] * h[j]
            f = [_deviance_varpar(model, x + a * ei + b * ej, reml) for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
            num[i, j] = num[j, i] = (f[0] - f[1] - f[2] + f[3]) / (4 * h[i] * h[j])
    np.testing.assert_allclose(ours, num, rtol=1e-5, atol=1e-4 * np.abs(ours).max())


@pytest.mark.parametrize(
    "formula",
    ["y ~ day * arm + (day | patient_id)", "y ~ day + (1 | patient_id) + (1 | site)", "y ~ day + (day || patient_id)"],
)
def test_kenward_roger_blocks_equal_pbkrtest_written_in_n_space(trial, formula):
    """pbkrtest's vcovAdj16 (Sigma, G_r, P, Q, K-traces) with n x n matrices, against the q-block reduction."""
    model, out, opt = _model(trial, formula)
    pc = evaluate(model.structure, out, opt.theta, reml=True, order=2)
    kr = kenward_roger(model.structure, pc)
    X = model.structure.X
    n = X.shape[0]
    s2 = pc.r2[0] / pc.nu
    _, _, Zs = _dense(model, opt.theta[0])
    G, psi, k = [], [], 0
    for Z, t in zip(Zs, model.terms):
        T = np.zeros((t.nc, t.nc))
        for c in range(t.nc):
            for r in range(c, t.nc):
                T[r, c] = opt.theta[0, k]
                k += 1
        cov = s2 * T @ T.T
        for c in range(t.nc):
            for r in range(c, t.nc):
                pattern = np.zeros((t.nc, t.nc))
                pattern[r, c] = pattern[c, r] = 1.0
                G.append(Z @ np.kron(np.eye(t.nl), pattern) @ Z.T)
                psi.append(cov[r, c])
    G.append(np.eye(n))
    psi.append(s2)
    Si = np.linalg.inv(sum(a * g for a, g in zip(psi, G)))
    phi = np.linalg.inv(X.T @ Si @ X)
    P = [-(X.T @ Si @ g @ Si @ X) for g in G]
    Q = [[X.T @ Si @ gi @ Si @ gj @ Si @ X for gj in G] for gi in G]
    r = len(G)
    ie2 = np.array(
        [
            [
                np.trace(G[i] @ Si @ G[j] @ Si) - 2 * np.sum(phi * Q[i][j]) + np.trace(phi @ P[i] @ phi @ P[j])
                for j in range(r)
            ]
            for i in range(r)
        ]
    )
    W = 2 * np.linalg.inv(ie2)
    U = sum(W[i, j] * (Q[i][j] - P[i] @ phi @ P[j]) for i in range(r) for j in range(r))
    np.testing.assert_allclose(kr.phi, phi, rtol=1e-9)
    np.testing.assert_allclose(kr.W, W, rtol=1e-8)
    np.testing.assert_allclose(kr.phi_adj, phi + 2 * phi @ U @ phi, rtol=1e-8)


def test_the_optimum_is_reached_to_rounding(trial):
    model, out, opt = _model(trial, "y ~ day * arm + (day | patient_id)")
    assert opt.converged.all()
    pc = evaluate(model.structure, out, opt.theta, reml=True, order=2)
    assert np.max(np.abs(pc.grad)) < 1e-8
    assert np.all(np.linalg.eigvalsh(pc.hess[0]) > 0)


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("Reaction ~ Days + (Days | Subject)", "Reaction ~ Days + (1 + Days | Subject)"),
        ("Reaction ~ Days + (Days || Subject)", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"),
    ],
)
def test_lme4_shorthands_fit_the_same_model(sleep, short, long):
    a, b = ic.fit_mixed(sleep, short), ic.fit_mixed(sleep, long)
    pd.testing.assert_series_equal(a.params, b.params, rtol=1e-10)
    pd.testing.assert_series_equal(a.df, b.df, rtol=1e-8)
    assert a.llf == pytest.approx(b.llf, rel=1e-12)


def test_nested_grouping_is_the_two_crossed_terms():
    pastes = _data("pastes")
    a = ic.fit_mixed(pastes, "strength ~ 1 + (1 | batch/cask)")
    b = ic.fit_mixed(pastes, "strength ~ 1 + (1 | batch) + (1 | cask:batch)")
    assert a.n_groups == {"cask:batch": 30, "batch": 10} == b.n_groups
    assert a.llf == pytest.approx(b.llf, rel=1e-12)
    pd.testing.assert_series_equal(a.bse, b.bse, rtol=1e-8)


def test_result_is_a_frozen_table_with_t_intervals(sleep):
    fit = ic.fit_mixed(sleep, "Reaction ~ Days + (Days | Subject)", alpha=0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.sigma = 1.0
    assert list(fit.summary().columns) == [
        "term", "estimate", "std_error", "df", "statistic", "p_value", "ci_lower", "ci_upper"
    ]  # fmt: skip
    from scipy import stats

    ci = fit.conf_int(0.05)
    half = stats.t.ppf(0.975, fit.df) * fit.bse
    np.testing.assert_allclose(ci["upper"], fit.params + half)
    assert fit.conf_int()["lower"].iloc[1] > ci["lower"].iloc[1]  # 90% by default, as fitted
    with pytest.raises(ic.ParameterError, match="alpha=1.5"):
        fit.conf_int(1.5)
    html = fit._repr_html_()
    assert "Satterthwaite" in html and "Subject" in html
    back = pickle.loads(pickle.dumps(fit))
    pd.testing.assert_frame_equal(back.anova(), fit.anova())


def test_residual_degrees_of_freedom(sleep):
    fit = ic.fit_mixed(sleep, "Reaction ~ Days + (1 | Subject)", df="residual")
    assert (fit.df == 178).all()
    assert fit.anova().loc["Days", "den_df"] == 178
    assert fit.anova().loc["Days", "statistic"] == pytest.approx(fit.tvalues["Days"] ** 2)


def test_a_singular_fit_is_said_in_words():
    with pytest.warns(ic.SingularFitWarning, match="variance of Intercept across Batch is estimated as 0"):
        fit = ic.fit_mixed(_data("dyestuff2"), "Yield ~ 1 + (1 | Batch)")
    assert fit.singular
    assert any("singular fit" in note for note in fit.notes)


def test_a_fit_that_stops_early_says_so(sleep, monkeypatch):
    monkeypatch.setattr(mixed_module, "minimise", lambda *a, **k: minimise(*a, **k, max_iter=1))
    with pytest.warns(ic.ConvergenceWarning, match="did not converge"):
        fit = ic.fit_mixed(sleep, "Reaction ~ Days + (Days | Subject)")
    assert not fit.converged


def test_options_are_checked(sleep):
    f = "Reaction ~ Days + (1 | Subject)"
    with pytest.raises(ic.ParameterError, match="reml=False"):
        ic.fit_mixed(sleep, f, reml=False, df="kenward-roger")
    with pytest.raises(ic.ParameterError, match="df='wald'"):
        ic.fit_mixed(sleep, f, df="wald")
    with pytest.raises(ic.ParameterError, match="reml='yes'"):
        ic.fit_mixed(sleep, f, reml="yes")
    with pytest.raises(ic.ParameterError, match="missing='keep'"):
        ic.fit_mixed(sleep, f, missing="keep")


def test_bad_formulas_and_data_get_one_clear_error(sleep):
    with pytest.raises(ic.InputError, match="no random-effects term"):
        ic.fit_mixed(sleep, "Reaction ~ Days")
    with pytest.raises(ic.InputError, match="'Patient', which is not a column"):
        ic.fit_mixed(sleep, "Reaction ~ Days + (1 | Patient)")
    with pytest.raises(ic.InputError, match="outside parentheses"):
        ic.fit_mixed(sleep, "Reaction ~ Days + 1 | Subject")
    one = sleep.assign(clinic="A")
    with pytest.raises(ic.ModelError, match="'clinic' has 1 level"):
        ic.fit_mixed(one, "Reaction ~ Days + (1 | clinic)")
    with pytest.raises(ic.ModelError, match=r"\['Days', 'days'\]|cannot be told apart"):
        ic.fit_mixed(sleep.assign(days=sleep["Days"] * 2), "Reaction ~ Days + days + (1 | Subject)")
    bad = sleep.astype({"Reaction": object})
    bad.loc[4, "Reaction"] = "n/a"
    with pytest.raises(ic.ImmuneCorrelatesError, match="Reaction") as err:
        ic.fit_mixed(bad, "Reaction ~ Days + (1 | Subject)")
    assert "S308" in str(err.value) and "n/a" in str(err.value)
    with pytest.raises(ic.ModelError, match="fitted exactly"):
        ic.fit_mixed(sleep.assign(flat=2.0), "flat ~ Days + (1 | Subject)")
    gap = sleep.copy()
    gap.loc[3, "Days"] = np.nan
    with pytest.raises(ic.MissingDataError, match="S308"):
        ic.fit_mixed(gap, "Reaction ~ Days + (1 | Subject)", missing="raise")


def test_type_iii_tests_need_treatment_coding(trial):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ic.SingularFitWarning)
        fit = ic.fit_mixed(trial, "y ~ day * C(arm, Sum()) + (1 | patient_id)")
    assert fit.anova().empty
    assert any("anova() is not available" in n and "Treatment" in n for n in fit.notes)
    ref = ic.fit_mixed(trial, "y ~ day * arm + (1 | patient_id)")
    # the same model, another coding (the REML criterion itself moves by log|det| of the change of basis)
    np.testing.assert_allclose(fit.theta, ref.theta, rtol=1e-8)
    assert fit.sigma == pytest.approx(ref.sigma, rel=1e-10)
