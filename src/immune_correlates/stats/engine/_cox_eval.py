"""Cox partial likelihood over a leading batch axis sharing one time ordering.

Every model of a batch has its own design ``x[b]`` (``(n, p)``) and case
weights ``w[b]`` (``(n,)``) but the same follow-up times and event indicators,
sorted once.  A feature's missing values are rows of weight 0; a bootstrap
resample is a vector of integer case weights.  The algebra is that of
:mod:`immune_correlates.stats.engine.cox_core` (risk-set sums as reverse cumulative
sums, Efron's correction spread over "steps").  The steps are laid out as a
``(B, S)`` array shared by the batch: event group ``g`` owns ``K_g`` consecutive
steps, ``K_g`` the largest number of Efron steps it has in any model of the
batch (steps a model does not use weigh 0), so a single model wastes nothing
and a batch of bootstrap resamples little.

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

from ._risk_ops import DenseOps, SegmentOps, make_ops
from .linalg import solver_inverse

__all__ = ["CoxBatch", "prepare_batch", "objective", "entry_groups"]


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
    f: np.ndarray  # (B, S) Efron fraction of each step
    a: np.ndarray  # (B, S) step weights (0 for unused steps)
    sg: np.ndarray  # (S,) event group (position in dg) of each step
    s_first: np.ndarray  # (G,) first step of each event group
    wx_dead: np.ndarray  # (B, p) sum of w d x
    ops: DenseOps | SegmentOps  # see _risk_ops

    def take(self, idx: np.ndarray) -> CoxBatch:
        """The sub-batch of models ``idx``."""
        return CoxBatch(
            self.x[idx],
            self.w[idx],
            self.d,
            self.grp,
            self.g_start,
            self.dg,
            self.n_groups,
            self.f[idx],
            self.a[idx],
            self.sg,
            self.s_first,
            self.wx_dead[idx],
            self.ops,
        )


def sort_times(time: np.ndarray, event: np.ndarray):
    """Shared ordering (by time, deaths first within a time) and tied-time groups: ``(order, grp, g_start)``."""
    order = np.lexsort((-np.asarray(event, dtype=float), time))
    t = time[order]
    new = np.r_[True, t[1:] != t[:-1]]
    return order, np.cumsum(new) - 1, np.flatnonzero(new)


def entry_groups(time_sorted: np.ndarray, g_start: np.ndarray, entry_sorted: np.ndarray) -> np.ndarray:
    """First tied-time group after each row's entry: the row is at risk from that group on."""
    return np.searchsorted(time_sorted[g_start], entry_sorted, side="right")


def prepare_batch(x, w, d, grp, g_start, *, frequency: bool = True, lo: np.ndarray | None = None) -> CoxBatch:
    """Lay out a batch whose rows are already sorted by time (see :func:`sort_times`).

    Parameters
    ----------
    x : (B, n, p) array, rows sorted; no NaN (rows of weight 0 may hold any finite value)
    w : (B, n) non-negative case weights
    d : (n,) 0/1 events
    grp, g_start : the tied-time groups of the sorted rows
    frequency : read integer weights as row counts in Efron's correction
    lo : (n,) int array, optional
        Counting-process rows ``(entry, stop]``: :func:`entry_groups` of the
        sorted rows (a row is at risk at event times ``entry < t <= stop``).
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    d = np.asarray(d, dtype=float)
    tot = w.sum(axis=1)
    means = (w[:, None, :] @ x)[:, 0] / np.where(tot > 0, tot, 1.0)[:, None]
    x = x - means[:, None, :]
    if not np.all(w > 0):
        x = np.where(w[..., None] > 0, x, 0.0)  # unused rows: eta = 0, risk exactly 0
    G_all = g_start.size
    dead_rows = np.bincount(grp, weights=d, minlength=G_all)
    dg = np.flatnonzero(dead_rows > 0)
    wd = w * d
    d_weight = np.add.reduceat(wd, g_start, axis=1)[:, dg]  # (B, G)
    if frequency:
        n_steps = np.rint(d_weight).astype(np.int64)
    else:
        n_steps = np.add.reduceat((wd > 0).astype(float), g_start, axis=1)[:, dg].astype(np.int64)
    K = np.maximum(n_steps.max(axis=0, initial=0), 1)  # (G,) steps of each event group
    sg = np.repeat(np.arange(dg.size), K)
    s_first = np.cumsum(K) - K
    k = np.arange(sg.size) - s_first[sg]
    mask = k < n_steps[:, sg]
    safe = np.maximum(n_steps, 1)[:, sg]
    f = np.where(mask, k / safe, 0.0)
    a = np.where(mask, d_weight[:, sg] / safe, 0.0)
    wx_dead = (wd[:, None, :] @ x)[:, 0]
    ops = make_ops(d, grp, g_start, dg, sg, s_first, G_all, lo)
    return CoxBatch(x, w, d, grp, g_start, dg, G_all, f, a, sg, s_first, wx_dead, ops)


@dataclass(frozen=True, eq=False)
class CoxBatchObjective:
    """The Cox objective of every model of a batch at one point each."""

    value: np.ndarray  # (B,) (penalized) log partial likelihood
    grad: np.ndarray  # (B, p)
    info: np.ndarray  # (B, p, p) observed information of the partial likelihood
    loglik: np.ndarray  # (B,) unpenalized


def objective(cb: CoxBatch, beta: np.ndarray, firth: bool) -> CoxBatchObjective:
    """Log partial likelihood (plus ``0.5 log det I`` when ``firth``), gradient and information."""
    x, w, d = cb.x, cb.w, cb.d
    eta = (x @ beta[..., None])[..., 0]
    shift = np.max(eta, axis=1, where=w > 0, initial=-np.inf)
    eta = eta - shift[:, None]
    with np.errstate(over="ignore", under="ignore"):
        r = w * np.exp(eta)
    ops = cb.ops
    rx = r[..., None] * x
    e0, q0 = ops.risk(r)  # per event group: risk of the dying, of the rest of the risk set
    e1, q1 = ops.risk(rx)
    f, a, sg = cb.f, cb.a, cb.sg
    used = a > 0
    s0 = np.where(used, q0[:, sg] + (1.0 - f) * e0[:, sg], 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        loglik = np.einsum("bn,bn->b", w * d, eta) - np.sum(a * np.log(s0), axis=1)
        inv = a / s0
    A0 = ops.steps(inv)
    Af = ops.steps(inv * f)
    score = cb.wx_dead - np.einsum("bg,bgp->bp", A0 - Af, e1) - np.einsum("bg,bgp->bp", A0, q1)
    c_row = ops.rows(A0, Af)
    v = r * c_row
    k2 = inv / s0
    alpha = ops.steps(k2 * (1.0 - f) ** 2)
    beta_ = ops.steps(k2 * (1.0 - f))
    gamma = ops.steps(k2)
    cross = _gram(e1, beta_, q1)
    outer = _gram(e1, alpha, e1) + cross + np.swapaxes(cross, 1, 2) + _gram(q1, gamma, q1)
    info = _gram(x, v, x) - outer
    if not firth:
        return CoxBatchObjective(loglik, score, info, loglik)
    sign, logdet = np.linalg.slogdet(info)
    bad = (sign <= 0) | ~np.isfinite(loglik)
    J = _inverse(np.where(bad[:, None, None], np.eye(info.shape[1]), info))
    # Heinze & Schemper (2001), eq. 2: 0.5 tr(I^-1 dI/dbeta_m), from third-moment risk-set sums
    q = np.sum((x @ J) * x, axis=2)  # x_i' J x_i
    t1 = np.einsum("bn,bnp->bp", v * q, x)
    rq = r * q
    EQ, later_q = ops.risk(rq)
    RQ = EQ + later_q
    tr_ja = (RQ[:, sg] - f * EQ[:, sg]) / s0
    m = (q1[:, sg] + (1.0 - f)[..., None] * e1[:, sg]) / s0[..., None]  # (B, S, p) risk-set means
    t2 = np.einsum("bs,bsp->bp", a * tr_ja, m)
    u = m @ J
    ug = ops.steps(inv[..., None] * u)
    ugf = ops.steps((inv * f)[..., None] * u)
    w_row = ops.rows(ug, ugf)
    t3 = np.einsum("bn,bnp->bp", r * np.sum(x * w_row, axis=2), x) - np.einsum(
        "bs,bsp->bp", a * np.sum(m * u, axis=2), m
    )
    grad = score + 0.5 * (t1 - t2 - 2.0 * t3)
    value = np.where(bad, -np.inf, loglik + 0.5 * logdet)
    return CoxBatchObjective(value, grad, info, loglik)


def _gram(a: np.ndarray, v: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a' diag(v) b`` per model (stacked matmul)."""
    return np.swapaxes(a * v[..., None], 1, 2) @ b


def _inverse(m: np.ndarray) -> np.ndarray:
    return solver_inverse(m)  # inside the iteration only (see _linalg's policy)
