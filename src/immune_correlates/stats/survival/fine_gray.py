"""Fine-Gray regression of the subdistribution hazard: :func:`fit_fine_gray`.

The subdistribution hazard of cause ``k`` keeps patients who failed from
another cause in the risk set, weighted by the probability of still being
uncensored (inverse probability of censoring weights); its coefficients
describe covariate effects on the cumulative incidence itself (Fine & Gray
1999, J Am Stat Assoc 94:496).  Estimates, the sandwich variance (which
accounts for the estimated censoring distribution) and the pseudo
log-likelihood are those of R's ``cmprsk::crr`` (one censoring group).  The
design comes from the one design-matrix layer (``covariates=`` or
``formula="Surv(duration, event) ~ ..."``, R's coding) and the fit from the one
Newton loop (:func:`~..engine.newton.newton_iterate`).

Inference is Wald with the sandwich variance: the weighted pseudo-likelihood
is not the likelihood of the data (its curvature is not the variance of the
estimate), so profile-likelihood intervals and likelihood-ratio tests do not
exist for this model (``docs/inference.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import stats

from ..._checks import cause_codes, check_durations, numeric_values
from ..._missing import row_ids
from ..._params import ALPHA, FORMULA, MAX_ITER, MISSING, TOL, Interval, Options, check_params
from ...data.imputed import ImputedData
from ...errors import ConvergenceWarning, FormulaError, ModelError, warn
from ..engine.linalg import covariance
from ..engine.newton import Evaluation, NewtonRule, newton_iterate
from ..engine.rubin import PooledResult
from ..regression._model import FittedModel, RegressionResult, _term_table, wald_table
from ..regression.design_matrix import model_data
from ..regression.imputed import fit_imputed

__all__ = ["FineGrayResult", "FineGrayModel", "fit_fine_gray"]

PROFILE_REFUSAL = (
    "fit_fine_gray: profile-likelihood intervals and likelihood-ratio tests do not exist for the Fine-Gray "
    "model: its weighted pseudo-likelihood (inverse probability of censoring weights) is not the likelihood of "
    "the data, and the variance of the estimate is the sandwich, not the inverse of its curvature. Use the Wald "
    "intervals and p-values (ci='wald'), which use the sandwich variance as cmprsk::crr."
)


class _CrrRule(NewtonRule):
    """``cmprsk::crr``'s stopping rule: ``max|score| max(|b|, 1) < tol max(|loglik|, 1)``, Armijo halving."""

    evaluations = 30
    stuck_converges = False
    final_check = True

    def __init__(self, tol: float, names, caller: str) -> None:
        self.tol, self.names, self.caller = tol, names, caller

    def direction(self, old, beta, free, rows):
        try:
            return np.linalg.solve(old.info, old.grad[..., None])[..., 0]
        except np.linalg.LinAlgError as e:
            raise ModelError(
                f"{self.caller}: the information matrix is singular (collinear covariates {list(self.names)}?); "
                "drop or combine covariates and call again."
            ) from e

    def stationary(self, old, beta, step, rows):
        crr = (
            np.max(np.abs(old.grad) * np.maximum(np.abs(beta), 1), axis=1) < np.maximum(np.abs(old.value), 1) * self.tol
        )
        if step is None:
            return crr
        # at the optimum to machine precision
        return crr | (np.max(np.abs(step) / np.maximum(np.abs(beta), 1), axis=1) < 1e-13)

    def accept(self, new_value, old_value, step, old_grad):
        return np.isfinite(new_value) & (new_value >= old_value + 1e-4 * np.einsum("bp,bp->b", step, old_grad))

    def done(self, old, new, old_beta, new_beta, step, halved, accepted, free):
        return np.zeros(len(new.value), dtype=bool)


def _censoring_left_limit(time: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Kaplan-Meier of the censoring distribution just before each time, ``G(t-)``.

    As ``crr`` (which evaluates the curve at ``t (1 - 100 eps)``), a time of
    exactly 0 gets ``G(0)``, after the censorings at 0.
    """
    uniq, inv = np.unique(time, return_inverse=True)
    at_risk = len(time) - np.searchsorted(np.sort(time), uniq, side="left")
    cens = np.bincount(inv, weights=censored.astype(float), minlength=len(uniq))
    steps = np.cumprod(1.0 - cens / at_risk)
    before = np.concatenate([[1.0], steps[:-1]])
    before[uniq == 0] = steps[uniq == 0]
    return before[inv]


@dataclass(frozen=True, eq=False)
class FineGrayModel(FittedModel):
    """Weighted risk sets of the cause of interest (data sorted by time): what a Fine-Gray fit used.

    ``mark`` is 1 for the cause of interest, 2 for a competing cause, 0 for
    censored; ``g`` the censoring Kaplan-Meier just before each time; ``w[f, j]``
    the weight of patient ``j`` in the risk set of failure ``f`` (1 while at
    risk, ``G(T_f-)/G(t_j-)`` after a competing event, else 0).
    """

    time: np.ndarray
    mark: np.ndarray
    x: np.ndarray
    names: tuple[str, ...]
    max_iter: int = 50
    tol: float = 1e-12

    @classmethod
    def build(cls, time, mark, x, names, max_iter=50, tol=1e-12) -> FineGrayModel:
        return cls(time, mark, x, tuple(names), max_iter, tol)

    @cached_property
    def g(self) -> np.ndarray:
        return _censoring_left_limit(self.time, self.mark == 0)

    @cached_property
    def fail(self) -> np.ndarray:
        return np.flatnonzero(self.mark == 1)

    @cached_property
    def w(self) -> np.ndarray:
        time, mark = self.time, self.mark
        tf = time[self.fail]
        later = time[None, :] >= tf[:, None]
        competing = (time[None, :] < tf[:, None]) & (mark[None, :] == 2)
        return np.where(later, 1.0, np.where(competing, self.g[self.fail][:, None] / self.g[None, :], 0.0))

    def refit(self, start, fixed):
        raise ModelError(PROFILE_REFUSAL)

    def fit(self, caller: str = "fit_fine_gray"):
        """Newton-Raphson with step halving (the one loop) to ``crr``'s convergence rule."""

        def evaluate(b, rows):
            nll, grad, hess = self.objective(b[0])
            return Evaluation(np.array([-nll]), -grad[None], hess[None])

        b0 = np.zeros((1, self.x.shape[1]))
        return newton_iterate(evaluate, b0, _CrrRule(self.tol, self.names, caller), max_iter=self.max_iter)

    def sums(self, b):
        r = np.exp(self.x @ b)
        wr = self.w * r[None, :]
        s0 = wr.sum(axis=1)
        s1 = wr @ self.x
        return r, wr, s0, s1

    def objective(self, b) -> tuple[float, np.ndarray, np.ndarray]:
        """Negative pseudo log-likelihood, its gradient and Hessian."""
        _r, wr, s0, s1 = self.sums(b)
        xf = self.x[self.fail]
        nll = float(np.sum(np.log(s0)) - np.sum(xf @ b))
        xbar = s1 / s0[:, None]
        grad = xbar.sum(axis=0) - xf.sum(axis=0)
        weight = (wr / s0[:, None]).sum(axis=0)
        s2 = (self.x * weight[:, None]).T @ self.x
        hess = s2 - xbar.T @ xbar
        return nll, grad, hess

    def sandwich_meat(self, b) -> np.ndarray:
        """Sum of outer products of the influence terms ``eta_i + psi_i`` (Fine & Gray 1999, section 3)."""
        r, wr, s0, s1 = self.sums(b)
        xbar = s1 / s0[:, None]
        n, p = self.x.shape
        eta = np.zeros((n, p))
        eta[self.fail] += self.x[self.fail] - xbar
        # - sum_f w_i(T_f) r_i (x_i - xbar_f) / s0_f
        a = wr / s0[:, None]
        eta -= a.sum(axis=0)[:, None] * self.x - a.T @ xbar
        time, mark = self.time, self.mark
        uniq_c = np.unique(time[mark == 0])
        psi = np.zeros((n, p))
        if len(uniq_c):
            comp = mark == 2
            rg = np.where(comp, r / self.g, 0.0)
            tf = time[self.fail]
            gf = self.g[self.fail]
            q = np.zeros((len(uniq_c), p))
            for m, u in enumerate(uniq_c):
                before = time < u
                a0 = rg[before].sum()
                a1 = rg[before] @ self.x[before]
                sel = tf >= u
                q[m] = a1 * np.sum(gf[sel] / s0[sel]) - a0 * (gf[sel] / s0[sel] ** 2) @ s1[sel]
            pi = (len(time) - np.searchsorted(time, uniq_c, side="left")).astype(float)
            count = np.array([np.sum((time == u) & (mark == 0)) for u in uniq_c], dtype=float)
            cum = np.cumsum(-(count / pi**2)[:, None] * q, axis=0)
            pos = np.searchsorted(uniq_c, time, side="right") - 1
            psi[pos >= 0] = cum[pos[pos >= 0]]
            cens = np.flatnonzero(mark == 0)
            k = np.searchsorted(uniq_c, time[cens])
            psi[cens] += q[k] / pi[k][:, None]
        u = eta + psi
        return u.T @ u


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class FineGrayResult(RegressionResult):
    """A fitted Fine-Gray model (``params`` are log subdistribution hazard ratios).

    Besides the attributes of the regression results (``params``, ``bse``,
    ``pvalues``, ``conf_int()``, ``summary()``, ``model``): ``cause``,
    ``llf_null`` (pseudo log-likelihood at 0) and ``information`` (the
    model-based information matrix whose inverse brackets the sandwich).
    ``anova()`` tests each term by a Wald chi-square with the sandwich
    variance; profile intervals are refused (see the module docstring).
    """

    cause: int
    llf_null: float
    information: pd.DataFrame
    formula: str | None = None
    model: FineGrayModel | None = None
    ratio_name = "shr"

    def _title(self) -> str:
        return f"Fine-Gray subdistribution hazards model, cause {self.cause}"

    def _profile_intervals(self, alpha: float) -> pd.DataFrame:
        raise ModelError(PROFILE_REFUSAL)

    def anova(self) -> pd.DataFrame:
        """Wald chi-square test of each model term with the sandwich variance (as ``aod::wald.test`` on crr).

        A factor's dummy columns are tested together; a term inside a
        higher-order term is not tested (R's ``drop1`` marginality).  The
        pseudo-likelihood has no likelihood-ratio test (module docstring).

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``df``, ``statistic`` (``b' V^-1 b`` over the
            term's columns), ``p_value``; ``attrs["test"] == "wald"``.
        """
        design = self._terms_design()
        beta, cov = self.params.to_numpy(), self.cov.to_numpy()
        rows = []
        for i in design.droppable():
            cols = list(design.term_columns[i])
            b = beta[cols]
            stat = float(b @ np.linalg.solve(cov[np.ix_(cols, cols)], b))
            rows.append((design.terms[i], len(cols), stat, float(stats.chi2.sf(stat, len(cols)))))
        return _term_table(rows, "wald")


@check_params(
    formula=FORMULA,
    cause=Interval(1, None, integer=True),
    ci=Options("wald", "profile"),
    alpha=ALPHA,
    missing=MISSING,
    max_iter=MAX_ITER,
    tol=TOL,
)
def fit_fine_gray(
    data: pd.DataFrame,
    duration: str | None = None,
    event: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    formula: str | None = None,
    cause: int = 1,
    ci: str = "wald",
    alpha: float = 0.05,
    missing: str = "drop",
    max_iter: int = 50,
    tol: float = 1e-12,
) -> FineGrayResult | PooledResult:
    """Fit the Fine-Gray proportional subdistribution hazards model.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    duration : str
        Follow-up time (finite, >= 0).
    event : str
        ``0`` censored, ``1, 2, ...`` the cause of the event (e.g. ``pfs_cause``).
    covariates : sequence of str
        Columns of the model, coded as in :func:`~..regression.cox.fit_cox`:
        numeric ones as they are, boolean ones as 0/1 named as the column,
        text and categorical ones with R's treatment contrasts (``sex[T.M]``).
    formula : str, optional
        ``"Surv(pfs_months, pfs_cause) ~ nk_per_ul + C(sex)"`` instead of
        ``duration``, ``event`` and ``covariates`` (the grammar of
        :func:`~..regression.logistic.fit_logistic`'s formulas; no
        ``strata()`` or ``cluster()`` terms: ``crr`` has neither).
    cause : int
        The cause of interest (``failcode`` of ``crr``).
    ci : {"wald"}
        Wald intervals and p-values with the sandwich variance, the only
        inference of this model: ``"profile"`` (the package's default
        elsewhere) is refused with the reason (module docstring).
    alpha : float
        ``conf_int()`` level is ``1 - alpha``.
    missing : {"drop", "raise"}
        Rows with a missing value are left out and reported, or refused.
    max_iter, tol : int, float
        Newton-Raphson (with step halving) stops when
        ``max|score| * max(|b|, 1) < tol * max(|loglik|, 1)`` (crr's rule,
        stricter default than crr's 1e-6 so estimates agree to 1e-8), or when
        the Newton step is below machine precision.

    Returns
    -------
    FineGrayResult
        ``params``, ``bse`` (sandwich, as ``crr``), ``pvalues`` (Wald),
        ``conf_int()``, ``summary()``, ``anova()`` (Wald tests of terms).

    Raises
    ------
    ModelError
        ``ci="profile"``; no event of ``cause``; collinear covariates.

    Notes
    -----
    Fine & Gray (1999), J Am Stat Assoc 94:496-509.  Ties among failures of
    the cause are handled as Breslow's (as ``crr``).  The censoring
    distribution is one Kaplan-Meier over all patients (``crr`` without
    ``cengroup``).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> fit = ic.fit_fine_gray(frame, "pfs_months", "pfs_cause", ["nk_per_ul"], cause=1)
    >>> list(fit.params.index)
    ['nk_per_ul']
    >>> ic.fit_fine_gray(frame, formula="Surv(pfs_months, pfs_cause) ~ nk_per_ul").anova().attrs["test"]
    'wald'
    """
    if isinstance(data, ImputedData):  # multiple imputation: fit every completed data set, pool (Rubin)
        return fit_imputed(fit_fine_gray, locals())
    if ci == "profile":
        raise ModelError(PROFILE_REFUSAL)
    model, kept, excluded, design = _prepare(data, duration, event, covariates, formula, cause, missing, max_iter, tol)
    it = model.fit()
    if not it.converged[0]:
        warn(
            f"fit_fine_gray: Newton-Raphson did not converge in {max_iter} iterations; estimates may be unreliable.",
            ConvergenceWarning,
        )
    return _assemble(model, it, kept, excluded, design, cause=cause, alpha=alpha, formula=formula)


def _prepare(data, duration, event, covariates, formula, cause, missing, max_iter, tol):
    """Complete rows, the design (R's coding), checked times and cause codes, sorted by time."""
    caller = "fit_fine_gray"
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if formula is None and not covariates:
        raise ModelError(f"{caller}: give at least one covariate.")
    md = model_data(
        data,
        formula=formula,
        response=[duration, event],
        covariates=covariates,
        kind="cox",
        missing=missing,
        caller=caller,
        numeric_response=True,
    )
    if md.strata or md.cluster or len(md.response) != 2:
        raise FormulaError(
            f"{caller}: strata(), cluster() and Surv(entry, duration, event) are not available for Fine-Gray "
            "models (cmprsk::crr has none of them); use Surv(duration, event) ~ covariates."
        )
    duration, event = md.response
    kept, design = md.rows, md.design.without_intercept()
    ids = row_ids(kept)
    time = numeric_values(kept[duration])
    check_durations(time, duration, caller, ids)
    codes = cause_codes(kept[event], event, caller, ids)
    if not np.any(codes == cause):
        raise ModelError(f"{caller}: no events of cause {cause} in {event!r}; nothing to model.")
    order = np.argsort(time, kind="stable")
    mark = np.where(codes == cause, 1, np.where(codes > 0, 2, 0))[order]
    model = FineGrayModel.build(time[order], mark, design.X[order], design.names, max_iter, tol)
    return model, kept, md.excluded, design


def _assemble(model, it, kept, excluded, design, *, cause, alpha, formula) -> FineGrayResult:
    names = list(model.names)
    b = it.beta[0]
    hess = it.info[0]
    inv = covariance(hess, names, caller="fit_fine_gray")
    cov = inv @ model.sandwich_meat(b) @ inv
    params = pd.Series(b, index=names)
    bse = pd.Series(np.sqrt(np.diag(cov)), index=names)
    competing = int(np.sum(model.mark == 2))
    return FineGrayResult(
        params=params,
        bse=bse,
        pvalues=pd.Series(2 * stats.norm.sf(np.abs(b / bse.to_numpy())), index=names),
        llf=float(it.value[0]),
        nobs=len(kept),
        n_events=int(np.sum(model.mark == 1)),
        excluded=excluded,
        method="ml",
        ci_method="wald",
        test="wald",
        alpha=alpha,
        cov=pd.DataFrame(cov, index=names, columns=names),
        converged=bool(it.converged[0]),
        n_iter=int(it.n_iter[0]),
        notes=(f"sandwich variance; censoring weights from one Kaplan-Meier; {competing} competing event(s)",),
        design=design,
        model=model,
        _intervals=wald_table(params, bse, alpha),
        cause=cause,
        llf_null=float(it.start.value[0]),
        information=pd.DataFrame(hess, index=names, columns=names),
        formula=formula,
    )
