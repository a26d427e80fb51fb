"""Linear mixed models as ``lme4::lmer`` fits them, with ``lmerTest``'s and ``pbkrtest``'s small-sample tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, MISSING, Instance, Options, check_params
from ...errors import ConvergenceWarning, ModelError, ParameterError, SingularFitWarning, warn
from ._contrasts import type3_contrasts
from ._inference import Contest, kenward_roger, satterthwaite
from ._lmm import Pieces, evaluate, outcomes
from ._optimize import minimise
from ._prepare import MixedModel, prepare
from ._result import MixedResult, variance_table

__all__ = ["fit_mixed", "singular_terms"]

#: lme4's ``isSingular`` tolerance on the templates' diagonals.
SINGULAR_TOL = 1e-4


@check_params(
    reml=Instance(bool), df=Options("satterthwaite", "kenward-roger", "residual"), alpha=ALPHA, missing=MISSING
)
def fit_mixed(
    data: pd.DataFrame,
    formula: str = "cd8_per_ul ~ day * responder + (1 | patient_id)",
    *,
    reml: bool = True,
    df: str = "satterthwaite",
    alpha: float = 0.05,
    missing: str = "drop",
) -> MixedResult:
    """Fit a linear mixed model with lme4's formula syntax; t-tests on small-sample degrees of freedom.

    Parameters
    ----------
    data : DataFrame
        Long data: one row per patient and visit (``patient_id`` names rows in
        messages and in ``excluded``).
    formula : str
        ``outcome ~ fixed terms + (terms | group) + ...``.  Fixed terms use
        the package's formula grammar and R's dummy coding (as
        :func:`fit_logistic`); random effects use lme4's syntax: ``(1 | g)``,
        ``(x | g)`` = ``(1 + x | g)`` (correlated intercept and slope),
        ``(x || g)`` (uncorrelated), ``(0 + x | g)``, nested ``(1 | a/b)``,
        crossed ``(1 | a) + (1 | b)``.
    reml : bool
        Restricted maximum likelihood (lme4's default) or maximum likelihood
        (to compare models differing in fixed effects by likelihood ratio).
    df : {"satterthwaite", "kenward-roger", "residual"}
        Denominator degrees of freedom of the t- and F-tests: Satterthwaite's
        (as ``lmerTest``), Kenward-Roger's (as ``pbkrtest``/``lmerTest``,
        with the adjusted covariance in ``bse``; REML fits only), or ``n - p``.
    alpha : float
        ``1 - level`` of ``conf_int()`` (t intervals on ``df``).
    missing : {"drop", "raise"}
        Rows missing a value the model uses are left out and listed in
        ``excluded`` (with a warning), or refused.

    Returns
    -------
    MixedResult

    Notes
    -----
    The fit minimises lme4's profiled (RE)ML deviance in the relative
    covariance factor ``theta`` by Newton's method on its exact gradient and
    Hessian, to the optimum itself (lme4's derivative-free optimiser can stop
    ~1e-5 short in ``theta``).  Satterthwaite's df use the exact Hessian of the
    deviance in ``(theta, sigma)`` and the exact Jacobian of ``vcov(beta)``
    where lmerTest differentiates numerically.  A variance estimated as 0 or a
    correlation as +-1 (a singular fit) is reported in ``notes`` with a
    :class:`~immune_correlates.errors.SingularFitWarning`.

    References
    ----------
    Bates D, Maechler M, Bolker B, Walker S (2015) Fitting linear mixed-effects
    models using lme4. J Stat Softw 67(1):1-48.
    Kuznetsova A, Brockhoff PB, Christensen RHB (2017) lmerTest package: tests
    in linear mixed effects models. J Stat Softw 82(13):1-26.
    Satterthwaite FE (1946) An approximate distribution of estimates of
    variance components. Biometrics Bull 2:110-114.
    Kenward MG, Roger JH (1997) Small sample inference for fixed effects from
    restricted maximum likelihood. Biometrics 53:983-997.
    Halekoh U, Hojsgaard S (2014) A Kenward-Roger approximation and parametric
    bootstrap methods for tests in linear mixed models - the R package
    pbkrtest. J Stat Softw 59(9):1-30.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import immune_correlates as ic
    >>> rng = np.random.default_rng(7)
    >>> day = np.tile([0.0, 15, 60, 140], 12)
    >>> pid = np.repeat([f"P{i:02d}" for i in range(12)], 4)
    >>> resp = np.repeat(np.arange(12) % 2, 4).astype(float)
    >>> y = 300 + 0.8 * day * resp + np.repeat(rng.normal(0, 40, 12), 4) + rng.normal(0, 25, 48)
    >>> long = pd.DataFrame({"patient_id": pid, "day": day, "responder": resp, "cd8_per_ul": y})
    >>> fit = ic.fit_mixed(long, "cd8_per_ul ~ day * responder + (1 | patient_id)")
    >>> fit.summary()[["term", "estimate", "df", "p_value"]].round(3)
                term  estimate      df  p_value
    0      Intercept   289.505  12.554    0.000
    1            day     0.052  34.000    0.548
    2      responder     4.098  12.554    0.840
    3  day:responder     0.643  34.000    0.000
    >>> fit.variance_components[["group", "term", "std_dev"]].round(2)
            group       term  std_dev
    0  patient_id  Intercept    30.30
    1    Residual               23.03
    """
    if df == "kenward-roger" and not reml:
        raise ParameterError(
            "fit_mixed: df='kenward-roger' is not allowed with reml=False; Kenward-Roger's adjustment is defined "
            "for REML fits (pbkrtest refits ML models by REML). Use reml=True, or df='satterthwaite' for an ML fit."
        )
    model = prepare(data, formula, missing=missing, caller="fit_mixed")
    y = model.rows[model.outcome].to_numpy(dtype=float)
    out = outcomes(model.structure, y[:, None])
    if out.yty[0] <= 1e-20 * float(y @ y):
        raise ModelError(
            f"fit_mixed: {model.outcome!r} is fitted exactly by the fixed effects (no residual variation among the "
            f"{len(y)} rows used): there is no variance to split between patients and visits."
        )
    opt = minimise(model.structure, out, reml=reml)
    pc = evaluate(model.structure, out, opt.theta, reml=reml, order=2)
    return _assemble(model, pc, opt, reml=reml, df_method=df, alpha=alpha)


def _tests(model: MixedModel, pc: Pieces, df_method: str):
    """The covariance reported, per-coefficient df, and a ``contest(L)`` for F-tests."""
    p = model.structure.p
    if df_method == "kenward-roger":
        kr = kenward_roger(model.structure, pc)
        dfs = np.array([kr.t_df(row) for row in np.eye(p)])
        return kr.phi_adj, dfs, kr.contest, None
    sat = satterthwaite(pc)
    if df_method == "satterthwaite":
        dfs = np.array([sat.t_df(row) for row in np.eye(p)])
        return sat.vcov, dfs, sat.contest, sat.hessian_eigenvalues
    resid = float(model.structure.n - p)

    def contest(L: np.ndarray) -> Contest:
        est = L @ sat.beta
        f = float(est @ np.linalg.solve(L @ sat.vcov @ L.T, est)) / L.shape[0]
        return Contest(f, L.shape[0], resid, float(stats.f.sf(f, L.shape[0], resid)))

    return sat.vcov, np.full(p, resid), contest, None


def _anova(model: MixedModel, contest) -> tuple[pd.DataFrame, list[str]]:
    try:
        hyps = type3_contrasts(model.design, model.rows, caller="fit_mixed")
    except ModelError as e:
        empty = pd.DataFrame(columns=["num_df", "den_df", "statistic", "p_value"], index=pd.Index([], name="term"))
        return empty, [f"anova() is not available: {e}"]
    rows = {t: contest(L) for t, L in hyps.items() if L.shape[0]}
    table = pd.DataFrame(
        {
            "num_df": [float(c.num_df) for c in rows.values()],
            "den_df": [c.den_df for c in rows.values()],
            "statistic": [c.statistic for c in rows.values()],
            "p_value": [c.p_value for c in rows.values()],
        },
        index=pd.Index(list(rows), name="term"),
    )
    return table, []


def _assemble(model: MixedModel, pc: Pieces, opt, *, reml: bool, df_method: str, alpha: float) -> MixedResult:
    names = list(model.design.names)
    theta = opt.theta[0]
    sigma = float(np.sqrt(pc.r2[0] / pc.nu))
    cov, dfs, contest, h_eig = _tests(model, pc, df_method)
    beta = pc.beta[0]
    bse = np.sqrt(np.diag(cov))
    t = beta / bse
    anova, notes = _anova(model, contest)
    n_par = model.structure.p + model.structure.n_theta + 1
    llf = -0.5 * float(pc.f[0])
    singular = singular_terms(model, theta, sigma)
    if singular:
        text = (
            "singular fit: "
            + "; ".join(singular)
            + (
                ". The variance parameters are on the boundary of their range: consider simpler random effects "
                "(drop a slope, or use || for uncorrelated ones); the fixed-effect tests do not allow for the boundary."
            )
        )
        notes.append(text)
        warn(f"fit_mixed: {text}", SingularFitWarning)
    if not opt.converged[0]:
        text = f"the optimiser did not converge in {int(opt.n_iter[0])} Newton steps; the estimates are unreliable"
        notes.append(text)
        warn(f"fit_mixed: {text}.", ConvergenceWarning)
    if h_eig is not None and not singular and np.any(h_eig < -1e-8):
        notes.append("the Hessian of the deviance in (theta, sigma) has a negative eigenvalue (lmerTest would warn)")
    return MixedResult(
        params=pd.Series(beta, index=names),
        bse=pd.Series(bse, index=names),
        df=pd.Series(dfs, index=names),
        pvalues=pd.Series(2 * stats.t.sf(np.abs(t), dfs), index=names),
        cov=pd.DataFrame(cov, index=names, columns=names),
        variance_components=variance_table(model.terms, theta, sigma, model.structure.theta_index),
        theta=pd.Series(theta, index=[f"theta{k + 1}" for k in range(theta.size)]),
        sigma=sigma,
        llf=llf,
        aic=-2 * llf + 2 * n_par,
        bic=-2 * llf + np.log(model.structure.n) * n_par,
        nobs=model.structure.n,
        n_groups=model.n_groups,
        reml=reml,
        df_method=df_method,
        alpha=alpha,
        singular=bool(singular),
        converged=bool(opt.converged[0]),
        n_iter=int(opt.n_iter[0]),
        notes=tuple(notes),
        excluded=model.excluded.reset_index(drop=True),
        design=model.design,
        formula=model.formula,
        anova_table=anova,
    )


def singular_terms(model: MixedModel, theta: np.ndarray, sigma: float) -> list[str]:
    """What is on the boundary, in words (lme4's ``isSingular``: a template diagonal below 1e-4)."""
    out = []
    for i, term in enumerate(model.terms):
        T = np.zeros((term.nc, term.nc))
        for k, (j, r, c) in enumerate(model.structure.theta_index):
            if j == i:
                T[r, c] = theta[k]
        if np.min(np.abs(np.diag(T))) >= SINGULAR_TOL:
            continue
        cov = sigma**2 * T @ T.T
        sd = np.sqrt(np.diag(cov))
        zero = [term.columns[a] for a in range(term.nc) if sd[a] < SINGULAR_TOL * sigma]
        if zero:
            out.append(f"the variance of {' and '.join(zero)} across {term.group} is estimated as 0")
            continue
        corr = cov / np.outer(sd, sd)
        pairs = [
            f"the correlation of {term.columns[a]} and {term.columns[b]} across {term.group} is estimated as "
            f"{corr[a, b]:+.3f}"
            for a in range(term.nc)
            for b in range(a + 1, term.nc)
            if abs(corr[a, b]) > 1 - 1e-6
        ]
        out.extend(pairs or [f"the covariance matrix of ({', '.join(term.columns)}) across {term.group} is singular"])
    return out
