"""Elastic-net logistic and Cox fits with glmnet's objective, for many problems at once.

Every problem of a batch shares the rows (``X``, the outcome) and has its own case weights
(a cross-validation fold is a 0/1 weight vector, a bootstrap resample a vector of counts),
its own standardisation and its own lambda.  The objective of glmnet (Friedman, Hastie &
Tibshirani 2010; Simon et al. 2011), with weights ``w`` normalised to sum 1:

    loss(b0, b) + lambda * sum_j vp_j (alpha |b~_j| + (1 - alpha) / 2 b~_j^2),

``b~_j = sd_j b_j`` on columns standardised by their weighted mean and population SD, the
logistic loss ``-sum w (y eta - log(1 + e^eta))`` (intercept not penalised), the Cox loss
the negative Breslow partial log-likelihood ``-sum w d eta + sum_t d_t log S0(t)``.

It is minimised by proximal Newton steps: the exact gradient and Hessian of the loss, the
penalised quadratic model solved exactly by feature-sign search (:mod:`._qp`; Lee, Battle, Raina & Ng
2007: Newton on the active set with its signs fixed, a line search that stops where a
coefficient crosses zero, the worst violator of the optimality conditions added until none
is left), and an Armijo line search on the true objective.  Near the solution the steps
converge quadratically, so the coefficients meet the optimality (KKT) conditions to
rounding error and equal glmnet's run to a tight ``thresh``.  The problems of a batch are
solved together (batched linear algebra), so cross-validation folds and bootstrap
resamples cost little more than one fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy.special import expit

from ._qp import feature_sign, mv

__all__ = ["PathData", "PathFit", "fit_path", "lambda_path", "null_deviance"]

#: glmnet.control() factory defaults: fdev, devmax, eps, mnlam.
FDEV, DEVMAX, EPS, MNLAM = 1e-5, 0.999, 1e-6, 5


@dataclass(frozen=True, eq=False)
class PathData:
    """The rows shared by every problem: design, outcome, and (Cox) the time order."""

    family: str  # "logistic" or "cox"
    X: np.ndarray  # (n, p) original columns
    y: np.ndarray | None = None  # (n,) 0/1 (logistic)
    time: np.ndarray | None = None  # (n,) (cox)
    event: np.ndarray | None = None  # (n,) 0/1 (cox)

    @property
    def intercept(self) -> bool:
        return self.family == "logistic"

    @property
    def labels(self) -> np.ndarray:
        """The 0/1 outcome of a logistic problem."""
        return _present(self.y, "y", self.family)

    @property
    def times(self) -> np.ndarray:
        """The follow-up times of a Cox problem."""
        return _present(self.time, "time", self.family)

    @property
    def events(self) -> np.ndarray:
        """The 0/1 event indicators of a Cox problem."""
        return _present(self.event, "event", self.family)

    @property
    def strata(self) -> np.ndarray:
        """What folds are stratified on: the outcome (logistic) or the event indicator (Cox)."""
        return self.labels if self.family == "logistic" else self.events


def _present(values: np.ndarray | None, name: str, family: str) -> np.ndarray:
    if values is None:  # an internal inconsistency: PathData is built only in penalized.py
        raise AssertionError(f"PathData of family {family!r} has no {name!r}")
    return values


class PathFit(NamedTuple):
    """Solutions of ``B`` problems along ``L`` lambdas (original scale)."""

    beta: np.ndarray  # (B, L, p)
    intercept: np.ndarray  # (B, L) (0 for Cox)
    lambdas: np.ndarray  # (B, L)
    dev_ratio: np.ndarray  # (B, L)
    n_lambda: np.ndarray  # (B,) points kept by glmnet's stopping rules (L when lambdas were given)
    converged: np.ndarray  # (B, L)
    kkt: np.ndarray  # (B, L) largest violation of the optimality conditions (standardised scale)


class _Batch(NamedTuple):
    Z: np.ndarray  # (B, n, q) standardised columns (first the intercept for logistic)
    w: np.ndarray  # (B, n) weights summing to 1
    mean: np.ndarray  # (B, p)
    sd: np.ndarray  # (B, p)
    vp: np.ndarray  # (B, q) penalty factors (0: unpenalised or intercept)
    fixed: np.ndarray  # (B, q) columns held at 0 (constant among the problem's rows)


def _standardise(data: PathData, V: np.ndarray, vp: np.ndarray) -> _Batch:
    w = V / V.sum(axis=1, keepdims=True)
    X = data.X
    mean = w @ X
    var = np.maximum(w @ (X * X) - mean**2, 0.0)
    sd = np.sqrt(var)
    const = sd <= 1e-10 * np.maximum(1.0, np.abs(mean))
    sd_safe = np.where(const, 1.0, sd)
    Z = (X[None] - mean[:, None, :]) / sd_safe[:, None, :]
    Z = np.where(const[:, None, :], 0.0, Z)
    B = V.shape[0]
    vpb = np.broadcast_to(vp, (B, vp.size)).copy()
    if data.intercept:
        Z = np.concatenate([np.ones((B, X.shape[0], 1)), Z], axis=2)
        vpb = np.concatenate([np.zeros((B, 1)), vpb], axis=1)
        const = np.concatenate([np.zeros((B, 1), bool), const], axis=1)
    return _Batch(Z, w, mean, sd_safe, vpb, const)


# ---------------------------------------------------------------------------------------------
# losses: value, gradient and Hessian on the standardised scale


class _Cox(NamedTuple):
    order: np.ndarray  # rows by increasing time
    first: np.ndarray  # (n,) index (in sorted order) of the first row with the same time
    last: np.ndarray  # (n,) index of the last row with the same time
    group: np.ndarray  # (n,) event-time group of each sorted row, -1 if no event at its time
    n_groups: int


def cox_layout(time: np.ndarray, event: np.ndarray) -> _Cox:
    order = np.argsort(time, kind="stable")
    t = time[order]
    first = np.searchsorted(t, t, side="left")
    ev_times = np.unique(t[event[order] > 0])
    grp = np.searchsorted(ev_times, t)
    grp = np.where((grp < ev_times.size) & (ev_times[np.minimum(grp, ev_times.size - 1)] == t), grp, -1)
    return _Cox(order, first, _last_of_time(first), grp, ev_times.size)


def _logistic_terms(batch, y, theta, hess: bool):
    eta = mv(batch.Z, theta)
    p = expit(eta)
    f = np.sum(batch.w * (np.logaddexp(0.0, eta) - y * eta), axis=1)
    if not hess:
        return f, None, None
    g = np.matmul((batch.w * (p - y))[:, None, :], batch.Z)[:, 0, :]
    Zw = batch.Z * (batch.w * p * (1.0 - p))[:, :, None]
    return f, g, np.matmul(Zw.transpose(0, 2, 1), batch.Z)


def _cox_terms(batch, cox: _Cox, d, theta, hess: bool):
    """Breslow loss; rows of ``batch`` and ``d`` (event indicators) are in time order.

    Rows of weight 0 (held-out folds) may leave empty risk sets at the end of the time order;
    only events of positive weight enter the sums.
    """
    Z, w = batch.Z, batch.w
    eta = mv(Z, theta)
    eta_max = eta.max(axis=1, keepdims=True)
    r = w * np.exp(eta - eta_max)
    S0 = np.cumsum(r[:, ::-1], axis=1)[:, ::-1][:, cox.first]  # risk-set sums at each row's time
    ev = w * d  # event weights
    counted = ev > 0
    S0c = np.where(counted, S0, 1.0)
    f = -np.sum(ev * eta, axis=1) + np.sum(np.where(counted, ev * (np.log(S0c) + eta_max), 0.0), axis=1)
    if not hess:
        return f, None, None
    S1 = np.cumsum((r[:, :, None] * Z)[:, ::-1], axis=1)[:, ::-1][:, cox.first]  # (B, n, q)
    xbar = S1 / S0c[:, :, None]
    g = np.einsum("bn,bnq->bq", ev, xbar - Z)
    cum = np.cumsum(np.where(counted, ev / S0c, 0.0), axis=1)[:, cox.last]  # events at or before each row's time
    H = np.matmul((Z * (r * cum)[:, :, None]).transpose(0, 2, 1), Z) - np.einsum("bn,bni,bnj->bij", ev, xbar, xbar)
    return f, g, H


def _last_of_time(first: np.ndarray) -> np.ndarray:
    """Index of the last sorted row sharing each row's time."""
    n = first.size
    is_last = np.r_[first[1:] != first[:-1], True]
    idx = np.where(is_last, np.arange(n), n)
    return np.minimum.accumulate(idx[::-1])[::-1]


def _penalty(theta, l1, l2):
    return np.sum(l1 * np.abs(theta) + 0.5 * l2 * theta**2, axis=1)


# ---------------------------------------------------------------------------------------------
# the path


def _kkt(theta, g, l1, l2, fixed):
    """Largest violation of the optimality conditions per problem (0 at the exact minimiser)."""
    grad = g + l2 * theta
    slack = np.where(theta != 0, np.abs(grad + l1 * np.sign(theta)), np.maximum(np.abs(grad) - l1, 0.0))
    return np.max(np.where(fixed, 0.0, slack), axis=1)


def _subset(batch: _Batch, idx) -> _Batch:
    return batch._replace(Z=batch.Z[idx], w=batch.w[idx], vp=batch.vp[idx], fixed=batch.fixed[idx])


def _solve(data, batch, cox, y_sorted, d_sorted, theta, l1, l2, tol, max_iter):
    """Proximal Newton from ``theta`` to the minimiser of each problem's objective.

    Converged when the optimality conditions hold to ``1e-11`` (in units of the gradient), or
    to ``1e-9`` once the last step is below ``tol`` (relative); the returned KKT violation says
    how closely.
    Each iteration works on the problems not yet converged only.
    """
    B, q = theta.shape
    diag = np.arange(q)
    theta = theta.copy()

    def terms(sub, th, hess):
        if data.family == "logistic":
            return _logistic_terms(sub, y_sorted, th, hess)
        return _cox_terms(sub, cox, d_sorted, th, hess)

    f, g, H = terms(batch, theta, True)
    converged = np.zeros(B, bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(~converged)
        if idx.size == 0:
            break
        sub = batch if idx.size == B else _subset(batch, idx)
        th, fs, gs, Hs, l1s, l2s = theta[idx], f[idx], g[idx], H[idx], l1[idx], l2[idx]
        free = (sub.vp == 0) & ~sub.fixed
        F = fs + _penalty(th, l1s, l2s)
        A = Hs.copy()
        A[:, diag, diag] += l2s
        z = feature_sign(A, mv(Hs, th) - gs, l1s, free, sub.fixed, th, 1e-13)
        d = z - th
        decrease = np.sum(gs * d, axis=1) + _penalty(z, l1s, l2s) - _penalty(th, l1s, l2s)
        tiny = np.abs(decrease) <= 1e-15 * (1.0 + np.abs(F))
        ft, gt, Ht = terms(sub, z, True)  # the full step first: near the solution it is always taken
        ok = (ft + _penalty(z, l1s, l2s) <= F + 1e-4 * decrease) | tiny
        if not ok.all():  # Armijo backtracking for the others
            t = np.ones(idx.size)
            for _ in range(40):
                t = np.where(ok, t, 0.5 * t)
                trial = th + t[:, None] * d
                ok |= terms(sub, trial, False)[0] + _penalty(trial, l1s, l2s) <= F + 1e-4 * t * decrease
                if ok.all():
                    break
            z = th + t[:, None] * d
            ft, gt, Ht = terms(sub, z, True)
        size = np.max(np.abs(z - th), axis=1) / (1.0 + np.max(np.abs(z), axis=1))
        theta[idx], f[idx], g[idx], H[idx] = z, ft, gt, Ht
        kkt = _kkt(z, gt, l1s, l2s, sub.fixed)
        # optimal once the conditions hold to 1e-11, or once the step is negligible and they hold to 1e-9
        scale = 1.0 + np.max(np.abs(gt), axis=1)
        converged[idx] = (kkt <= 1e-11 * scale) | ((size <= tol) & (kkt <= 1e-9 * scale))
    return theta, converged, _kkt(theta, g, l1, l2, batch.fixed), f


def null_deviance(data: PathData, V: np.ndarray) -> np.ndarray:
    """(B,) loss of the null model (intercept only; Cox: all coefficients 0) minus the saturated loss."""
    w = V / V.sum(axis=1, keepdims=True)
    if data.family == "logistic":
        y = data.labels
        ybar = w @ y
        return -np.sum(w * (y * np.log(ybar)[:, None] + (1 - y) * np.log1p(-ybar)[:, None]), axis=1)
    cox = cox_layout(data.times, data.events)
    ws, ds = w[:, cox.order], data.events[cox.order]
    S0 = np.cumsum(ws[:, ::-1], axis=1)[:, ::-1][:, cox.first]
    ev = ws * ds
    return np.sum(np.where(ev > 0, ev * np.log(np.where(ev > 0, S0, 1.0)), 0.0), axis=1) - cox_saturated(ev, cox)


def cox_saturated(ev, cox):
    """Breslow loss of the saturated model: ``-sum_t d_t log d_t`` over event times."""
    dt = np.zeros((ev.shape[0], max(cox.n_groups, 1)))
    rows = cox.group >= 0
    np.add.at(dt.T, cox.group[rows], ev[:, rows].T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sum(np.where(dt > 0, dt * np.log(dt), 0.0), axis=1)


def lambda_path(data, V, *, alpha, vp, n_lambda, min_ratio):
    """glmnet's automatic lambdas per problem: ``lambda_max * alf^k``, ``alf = ratio^(1 / (n_lambda - 1))``.

    ``lambda_max = max_j |gradient_j| / vp_j / max(alpha, 1e-3)`` at the fit with only the
    unpenalised terms (intercept), the smallest lambda at which no penalised coefficient moves.
    """
    batch = _standardise(data, V, vp)
    theta0, grad = _null_fit(data, batch)
    pen = (batch.vp > 0) & ~batch.fixed
    lam_max = np.max(np.where(pen, np.abs(grad) / np.where(pen, batch.vp, 1.0), 0.0), axis=1) / max(alpha, 1e-3)
    ratio = np.maximum(np.broadcast_to(np.asarray(min_ratio, dtype=float), lam_max.shape), EPS)[:, None]
    # glmnet 4.1-6 steps down by alf = ratio^(1 / (n_lambda - 1)); its Cox code (Fortran coxnet) takes
    # the exponent in single precision, so its Cox paths are geometric with that (slightly different) step
    exponent = 1.0 / (n_lambda - 1) if data.family == "logistic" else float(np.float32(1.0) / np.float32(n_lambda - 1))
    return lam_max[:, None] * (ratio**exponent) ** np.arange(n_lambda)[None, :], theta0


def _sorted(data, batch):
    if data.family == "logistic":
        return batch, None, data.labels, None
    cox = cox_layout(data.times, data.events)
    sb = batch._replace(Z=batch.Z[:, cox.order], w=batch.w[:, cox.order])
    return sb, cox, None, data.events[cox.order].astype(float)


def _null_fit(data, batch):
    sb, cox, y, d = _sorted(data, batch)
    B, q = batch.vp.shape
    free = (batch.vp == 0) & ~batch.fixed
    theta = np.zeros((B, q))
    if data.intercept:
        ybar = batch.w @ data.labels
        theta[:, 0] = np.log(ybar / (1 - ybar))
    if free[:, int(data.intercept) :].any():  # unpenalised covariates: fit them with the penalised terms at 0
        held = sb._replace(fixed=sb.fixed | ~free)
        theta, *_ = _solve(data, held, cox, y, d, theta, np.zeros((B, q)), np.zeros((B, q)), 1e-13, 100)
    if data.intercept:
        _, g, _ = _logistic_terms(sb, y, theta, True)
    else:
        _, g, _ = _cox_terms(sb, cox, d, theta, True)
    return theta, g


def fit_path(
    data: PathData,
    V: np.ndarray,
    lambdas: np.ndarray,
    *,
    alpha: float,
    vp: np.ndarray,
    auto: bool,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> PathFit:
    """Solve ``B`` problems (weights ``V``, ``(B, n)``) along their lambdas (``(B, L)``), warm-started.

    ``auto``: the lambdas are glmnet's automatic path, so its stopping rules apply (fewer
    than ``L`` points when the explained deviance stops changing or exceeds 0.999; for Cox
    models, as glmnet 4.1-6's ``coxnet``: a relative change below 1e-3 over the last five
    points, or more than 0.99 explained).
    """
    batch = _standardise(data, V, vp)
    sb, cox, y, d = _sorted(data, batch)
    B, q = batch.vp.shape
    L = lambdas.shape[1]
    theta, _ = _null_fit(data, batch)
    dev0 = null_deviance(data, V)
    sat = np.zeros(B) if data.family == "logistic" else cox_saturated(sb.w * d, cox)
    out = np.zeros((B, L, q))
    dev = np.zeros((B, L))
    conv = np.ones((B, L), bool)
    kkt = np.zeros((B, L))
    alive = np.ones(B, bool)
    n_lambda = np.full(B, L)
    for k in range(L):
        idx = np.flatnonzero(alive)
        if idx.size == 0:
            break
        sub = sb._replace(Z=sb.Z[idx], w=sb.w[idx], vp=sb.vp[idx], fixed=sb.fixed[idx])
        lam = lambdas[idx, k][:, None]
        l1 = lam * alpha * sub.vp
        l2 = lam * (1 - alpha) * sub.vp
        th, cv, slack, f = _solve(data, sub, cox, y, d, theta[idx], l1, l2, tol, max_iter)
        theta[idx] = th
        out[idx, k] = th
        conv[idx, k] = cv
        kkt[idx, k] = slack
        dev[idx, k] = 1.0 - (f - sat[idx]) / dev0[idx]
        if auto and k + 1 >= MNLAM:
            if data.family == "logistic":
                change = dev[idx, k] - dev[idx, k - 1]
                stop = (change < FDEV) | (dev[idx, k] > DEVMAX)
            else:
                # glmnet 4.1-6's coxnet: fdev x 100 over the last mnlam points, devmax x 0.99 / 0.999
                change = (dev[idx, k] - dev[idx, k - MNLAM + 1]) / dev[idx, k]
                stop = (change < 100 * FDEV) | (dev[idx, k] > DEVMAX * 0.99 / 0.999)
            n_lambda[idx[stop]] = k + 1
            alive[idx[stop]] = False
    coef = out[:, :, 1:] if data.intercept else out
    beta = coef / batch.sd[:, None, :]
    intercept = out[:, :, 0] - np.einsum("blp,bp->bl", beta, batch.mean) if data.intercept else np.zeros((B, L))
    return PathFit(beta, intercept, lambdas, dev, n_lambda, conv, kkt)
