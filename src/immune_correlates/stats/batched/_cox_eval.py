"""Cox partial likelihood over a leading batch axis sharing one time ordering.

Every model of a batch has its own design ``x[b]`` (``(n, p)``) and case
weights ``w[b]`` (``(n,)``) but the same follow-up times and event indicators,
sorted once.  A feature's missing values are rows of weight 0; a bootstrap
resample is a vector of integer case weights.  The algebra is that of
:mod:`immune_correlates.stats._cox_core` (risk-set sums as reverse cumulative
sums, Efron's correction spread over "steps"), with the steps laid out as a
``(B, G, K)`` array: ``G`` tied-time groups holding an event, ``K`` the largest
number of Efron steps any group has in any model of the batch.

Weights follow ``survival::coxph`` (a group of ``d`` tied deaths of total
weight ``D`` has ``d`` steps of weight ``D / d``), or, with
``frequency=True``, read integer weights as row counts (``D`` steps of weight
1), so that a bootstrap weight vector reproduces the fit on duplicated rows.
For weights that are all 0 or 1 the two coincide.

References: Efron (1977) JASA 72:557-565; Heinze & Schemper (2001)
Biometrics 57:114-119 (the Firth gradient, eq. 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CoxBatch", "prepare_batch", "objective"]


@dataclass(frozen=True, eq=False)
class CoxBatch:
    """Sorted, centred designs and Efron step layout of one batch."""

    x: np.ndarray  # (B, n, p) sorted by time, centred at each model's weighted means
    w: np.ndarray  # (B, n)
    d: np.ndarray  # (n,) 0./1. events, sorted
    grp: np.ndarray  # (n,) tied-time group of each sorted row
    g_start: np.ndarray  # (G_all,) first row of each group
    dg: np.ndarray  # (G,) groups holding at least one event
    n_groups: int  # G_all
    f: np.ndarray  # (B, G, K) Efron fraction of each step
    a: np.ndarray  # (B, G, K) step weights (0 for unused steps)
    wx_dead: np.ndarray  # (B, p) sum of w d x

    def take(self, idx: np.ndarray) -> "CoxBatch":
        """The sub-batch of models ``idx``."""
        return CoxBatch(self.x[idx], self.w[idx], self.d, self.grp, self.g_start, self.dg, self.n_groups,
                        self.f[idx], self.a[idx], self.wx_dead[idx])


def sort_times(time: np.ndarray, event: np.ndarray):
    """Shared ordering and tied-time groups: ``(order, grp, g_start)``."""
    order = np.argsort(time, kind="stable")
    t = time[order]
    new = np.r_[True, t[1:] != t[:-1]]
    return order, np.cumsum(new) - 1, np.flatnonzero(new)


def prepare_batch(x, w, d, grp, g_start, *, frequency: bool = True) -> CoxBatch:
    """Lay out a batch whose rows are already sorted by time (see :func:`sort_times`).

    Parameters
    ----------
    x : (B, n, p) array, rows sorted; no NaN (rows of weight 0 may hold any finite value)
    w : (B, n) non-negative case weights
    d : (n,) 0/1 events
    grp, g_start : the tied-time groups of the sorted rows
    frequency : read integer weights as row counts in Efron's correction
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    d = np.asarray(d, dtype=float)
    tot = w.sum(axis=1)
    means = np.einsum("bn,bnp->bp", w, x) / np.where(tot > 0, tot, 1.0)[:, None]
    x = x - means[:, None, :]
    G_all = g_start.size
    dead_rows = np.bincount(grp, weights=d, minlength=G_all)
    dg = np.flatnonzero(dead_rows > 0)
    wd = w * d
    d_weight = np.add.reduceat(wd, g_start, axis=1)[:, dg]  # (B, G)
    if frequency:
        n_steps = np.rint(d_weight).astype(np.int64)
    else:
        n_steps = np.add.reduceat((wd > 0).astype(float), g_start, axis=1)[:, dg].astype(np.int64)
    K = max(int(n_steps.max(initial=0)), 1)
    k = np.arange(K)
    mask = k < n_steps[..., None]
    safe = np.maximum(n_steps, 1)[..., None]
    f = np.where(mask, k / safe, 0.0)
    a = np.where(mask, (d_weight[..., None] / safe), 0.0)
    wx_dead = np.einsum("bn,bnp->bp", wd, x)
    return CoxBatch(x, w, d, grp, g_start, dg, G_all, f, a, wx_dead)


def _excl_rev_cumsum(a: np.ndarray) -> np.ndarray:
    """Sum over the later groups (axis 1), excluding the group itself."""
    out = np.zeros_like(a)
    out[:, :-1] = np.cumsum(a[:, :0:-1], axis=1)[:, ::-1]
    return out


def _spread(cb: CoxBatch, v: np.ndarray) -> np.ndarray:
    """Values on the event groups (axis 1) placed on all groups, zero elsewhere."""
    out = np.zeros((v.shape[0], cb.n_groups) + v.shape[2:])
    out[:, cb.dg] = v
    return out


@dataclass(frozen=True, eq=False)
class BatchObjective:
    value: np.ndarray  # (B,) (penalized) log partial likelihood
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p) observed information of the partial likelihood
    loglik: np.ndarray  # (B,) unpenalized


def objective(cb: CoxBatch, beta: np.ndarray, firth: bool) -> BatchObjective:
    """Log partial likelihood (plus ``0.5 log det I`` when ``firth``), gradient and information."""
    x, w, d = cb.x, cb.w, cb.d
    eta = np.einsum("bnp,bp->bn", x, beta)
    shift = np.max(np.where(w > 0, eta, -np.inf), axis=1)
    eta = eta - shift[:, None]
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        r = w * np.exp(eta)
    r = np.where(w > 0, r, 0.0)
    rd = r * d
    rx = r[..., None] * x
    gs = cb.g_start
    tot0 = np.add.reduceat(r, gs, axis=1)
    tot1 = np.add.reduceat(rx, gs, axis=1)
    e0 = np.add.reduceat(rd, gs, axis=1)[:, cb.dg]
    e1 = np.add.reduceat(rx * d[:, None], gs, axis=1)[:, cb.dg]
    q0 = (np.add.reduceat(r - rd, gs, axis=1) + _excl_rev_cumsum(tot0))[:, cb.dg]
    q1 = (np.add.reduceat(rx * (1.0 - d)[:, None], gs, axis=1) + _excl_rev_cumsum(tot1))[:, cb.dg]
    f, a = cb.f, cb.a
    used = a > 0
    s0 = np.where(used, q0[..., None] + (1.0 - f) * e0[..., None], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = np.einsum("bn,bn->b", w * d, np.where(w > 0, eta, 0.0)) - np.sum(a * np.log(s0), axis=(1, 2))
        inv = a / s0
    A0 = inv.sum(axis=2)
    Af = (inv * f).sum(axis=2)
    score = cb.wx_dead - np.einsum("bg,bgp->bp", A0 - Af, e1) - np.einsum("bg,bgp->bp", A0, q1)
    c_row = np.cumsum(_spread(cb, A0), axis=1)[:, cb.grp] - d * _spread(cb, Af)[:, cb.grp]
    v = r * c_row
    k2 = inv / s0
    alpha = np.sum(k2 * (1.0 - f) ** 2, axis=2)
    beta_ = np.sum(k2 * (1.0 - f), axis=2)
    gamma = k2.sum(axis=2)
    xt = np.swapaxes(x, 1, 2)
    cross = np.swapaxes(e1 * beta_[..., None], 1, 2) @ q1
    outer = (np.swapaxes(e1 * alpha[..., None], 1, 2) @ e1 + cross + np.swapaxes(cross, 1, 2)
             + np.swapaxes(q1 * gamma[..., None], 1, 2) @ q1)
    info = xt @ (x * v[..., None]) - outer
    if not firth:
        return BatchObjective(loglik, score, info, loglik)
    sign, logdet = np.linalg.slogdet(info)
    bad = (sign <= 0) | ~np.isfinite(loglik)
    J = _inverse(np.where(bad[:, None, None], np.eye(info.shape[1]), info))
    # Heinze & Schemper (2001), eq. 2: 0.5 tr(I^-1 dI/dbeta_m), from third-moment risk-set sums
    q = np.sum((x @ J) * x, axis=2)  # x_i' J x_i
    t1 = np.einsum("bn,bnp->bp", v * q, x)
    rq = r * q
    RQ = np.cumsum(np.add.reduceat(rq, gs, axis=1)[:, ::-1], axis=1)[:, ::-1][:, cb.dg]
    EQ = np.add.reduceat(rq * d, gs, axis=1)[:, cb.dg]
    tr_ja = (RQ[..., None] - f * EQ[..., None]) / s0
    m = (q1[:, :, None, :] + (1.0 - f)[..., None] * e1[:, :, None, :]) / s0[..., None]  # (B, G, K, p)
    t2 = np.einsum("bgk,bgkp->bp", a * tr_ja, m)
    u = np.einsum("bgkp,bpq->bgkq", m, J)
    ug = np.einsum("bgk,bgkp->bgp", inv, u)
    ugf = np.einsum("bgk,bgkp->bgp", inv * f, u)
    w_row = np.cumsum(_spread(cb, ug), axis=1)[:, cb.grp] - d[:, None] * _spread(cb, ugf)[:, cb.grp]
    t3 = (np.einsum("bn,bnp->bp", r * np.sum(x * w_row, axis=2), x)
          - np.einsum("bgk,bgkp->bp", a * np.sum(m * u, axis=3), m))
    grad = score + 0.5 * (t1 - t2 - 2.0 * t3)
    value = np.where(bad, -np.inf, loglik + 0.5 * logdet)
    return BatchObjective(value, grad, info, loglik)


def _inverse(m: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(m)
