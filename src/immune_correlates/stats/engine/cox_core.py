"""Vectorised Cox partial likelihood: log-likelihood, score, information, residuals.

Rows are sorted once by (stratum, time) and split into tied-time groups.
Every risk-set sum is the group's own sum plus a reverse cumulative sum of the
later groups of the stratum; every sum over the event times a subject was at
risk for is a forward cumulative sum over the groups of its stratum.  Efron's tie correction is spread over "steps": a group with
``d`` tied deaths contributes ``d`` steps with fractions ``0, 1/d, ...,
(d-1)/d`` of the dying subjects' risk removed from the denominator (one step
with fraction 0 for Breslow).  All steps are handled at once, so one
evaluation costs ``O(n p^2)`` with no Python loop over patients or event times
(only over strata).

Counting-process rows ``(entry, time]`` (left truncation, time-varying
covariates; ``coxph(Surv(start, stop, event) ~ .)``) are at risk at the event
times ``t`` with ``entry < t <= time``: a row entering exactly at an event
time is not in that risk set.  Each row gets the first tied-time group of its
stratum after its entry (``lo``); the sums over rows that have not entered yet
are reverse cumulative sums of per-group totals subtracted from the
right-censored ones, and a row's sum over the event times it was at risk for
is a difference of two forward cumulative sums, so the cost stays ``O(n p^2)``.

Case weights follow ``survival::coxph``: with Efron ties a group of ``d``
tied deaths of total weight ``D`` has ``d`` steps each weighted ``D / d``.
With ``frequency=True`` integer weights are read as row counts instead (``D``
steps of weight 1), which reproduces a fit on duplicated rows exactly (for
Breslow ties the two conventions coincide).

References: Efron (1977) JASA 72:557-565; Therneau & Grambsch (2000)
*Modeling Survival Data*, ch. 3 and 4 (score residuals, robust variance).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

__all__ = ["CoxData", "prepare", "evaluate", "information", "step_mean", "score_residuals", "schoenfeld"]


@dataclass(frozen=True, eq=False)
class CoxData:
    """Sorted design for repeated likelihood evaluations (see :func:`prepare`)."""

    x: np.ndarray  # (n, p) centred covariates, sorted
    means: np.ndarray  # (p,) column means removed from x
    w: np.ndarray  # (n,) case weights
    status: np.ndarray  # (n,) 0./1.
    time: np.ndarray  # (n,)
    order: np.ndarray  # sorted row k is original row order[k]
    stratum: np.ndarray  # (n,) stratum code of each sorted row
    seg: np.ndarray  # row index where each stratum starts, plus n
    grp: np.ndarray  # (n,) tied-time group of each sorted row
    g_start: np.ndarray  # (G,) first row of each group
    g_seg: np.ndarray  # group index where each stratum starts, plus G
    g_n_steps: np.ndarray  # (G,) Efron steps per group (0 without deaths)
    step_grp: np.ndarray  # (S,) group of each step
    step_frac: np.ndarray  # (S,) fraction of the dying risk removed
    step_wt: np.ndarray  # (S,) weight of each step
    step_first: np.ndarray  # first step of each group that has steps
    step_owner: np.ndarray  # the groups that have steps
    wx_dead: np.ndarray  # (p,) sum of w * x over deaths
    lo: np.ndarray | None = None  # (n,) first group of its stratum after the row's entry (None: no entry)
    lo_prev: np.ndarray | None = None  # (n,) lo - 1 where that group is in the row's stratum, else -1
    entry: np.ndarray | None = None  # (n,) entry times, sorted as the rows
    b_start: np.ndarray | None = None  # first row of each block (a group's deaths, then its censorings)
    b_dead_grp: np.ndarray | None = None  # group of each death block
    b_cens_grp: np.ndarray | None = None  # group of each censoring block
    b_dead: np.ndarray | None = None  # (blocks,) block holds deaths
    xt: np.ndarray | None = None  # (p, n) x transposed, C-ordered: row-wise reductions run ~3x faster on it

    @property
    def n(self) -> int:
        return self.x.shape[0]

    @property
    def p(self) -> int:
        return self.x.shape[1]


def prepare(
    x: np.ndarray,
    time: np.ndarray,
    status: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    ties: str = "efron",
    frequency: bool = False,
    entry: np.ndarray | None = None,
) -> CoxData:
    """Sort rows and lay out tied-time groups and Efron steps.

    Parameters
    ----------
    x : (n, p) array
    time, status : (n,) arrays
        Follow-up times and 0/1 event indicators.
    weights : (n,) array, optional
        Non-negative case weights (default 1).
    strata : (n,) array of int, optional
        Stratum codes; each stratum has its own baseline hazard.
    ties : {"efron", "breslow"}
    frequency : bool
        Read integer weights as row counts in the Efron correction.
    entry : (n,) array, optional
        Entry times of counting-process rows ``(entry, time]`` (each
        ``entry < time``; the caller checks).  ``None``: every row is at risk
        from time 0, events at time 0 included.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    time = np.asarray(time, dtype=float)
    status = np.asarray(status, dtype=float)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    # deaths first within a tied time: each group is a block of deaths then a block of censorings,
    # so one reduceat gives both sums of every group
    if np.all(strata == strata[0]):  # one stratum: a stable sort by time of the deaths-then-censorings order
        pre = np.r_[np.flatnonzero(status > 0), np.flatnonzero(status <= 0)]
        order = pre[np.argsort(time[pre], kind="stable")]
    else:
        order = np.lexsort((-status, time, strata))
    # covariates are kept transposed, (p, n) C-ordered: gathering and every row-wise reduction run along
    # contiguous memory (a DataFrame's values are column-major, so x.T needs no copy); x is a view of it
    xt = np.take(np.ascontiguousarray(x.T), order, axis=1)
    time, status, w, strata = time[order], status[order], w[order], strata[order]
    if entry is not None:
        entry = np.asarray(entry, dtype=float)[order]
    means = (xt @ w) / w.sum() if w.sum() > 0 else xt.mean(axis=1)
    xt -= means[:, None]
    x = xt.T
    new_seg = np.r_[True, strata[1:] != strata[:-1]]
    new_grp = new_seg | np.r_[True, time[1:] != time[:-1]]
    seg = np.r_[np.flatnonzero(new_seg), n]
    g_start = np.flatnonzero(new_grp)
    grp = np.cumsum(new_grp) - 1
    g_seg = np.r_[np.searchsorted(g_start, seg[:-1]), g_start.size]
    dead = status > 0
    if ties == "breslow":
        g_n_steps = (np.bincount(grp, weights=dead & (w > 0), minlength=g_start.size) > 0).astype(np.int64)
    elif frequency:
        g_n_steps = np.rint(np.bincount(grp, weights=w * dead, minlength=g_start.size)).astype(np.int64)
    else:
        g_n_steps = np.bincount(grp, weights=dead & (w > 0), minlength=g_start.size).astype(np.int64)
    d_weight = np.bincount(grp, weights=w * status, minlength=g_start.size)
    step_grp = np.repeat(np.arange(g_start.size), g_n_steps)
    first_step = np.cumsum(g_n_steps) - g_n_steps
    k = np.arange(step_grp.size) - first_step[step_grp]
    step_frac = k / g_n_steps[step_grp] if ties != "breslow" else np.zeros(step_grp.size)
    step_wt = d_weight[step_grp] / g_n_steps[step_grp]
    new_blk = new_grp | np.r_[True, status[1:] != status[:-1]]
    b_start = np.flatnonzero(new_blk)
    b_dead = status[b_start] > 0
    lo = lo_prev = None
    if entry is not None:
        g_time = time[g_start]
        lo = np.empty(n, dtype=np.int64)
        for s in range(seg.size - 1):
            a, b = g_seg[s], g_seg[s + 1]
            lo[seg[s] : seg[s + 1]] = a + np.searchsorted(g_time[a:b], entry[seg[s] : seg[s + 1]], side="right")
        lo_prev = np.where(lo > g_seg[:-1][np.cumsum(new_seg) - 1], lo - 1, -1)
    return CoxData(
        x=x,
        means=means,
        w=w,
        status=status,
        time=time,
        order=order,
        stratum=strata,
        seg=seg,
        grp=grp,
        g_start=g_start,
        g_seg=g_seg,
        g_n_steps=g_n_steps,
        step_grp=step_grp,
        step_frac=step_frac,
        step_wt=step_wt,
        step_first=first_step[g_n_steps > 0],
        step_owner=np.flatnonzero(g_n_steps > 0),
        wx_dead=(w * status) @ x,
        lo=lo,
        lo_prev=lo_prev,
        entry=entry,
        b_start=b_start,
        b_dead_grp=grp[b_start[b_dead]],
        b_cens_grp=grp[b_start[~b_dead]],
        b_dead=b_dead,
        xt=xt,
    )


def _sum_after(a: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """For each element, the sum of the later elements of its segment (axis 0)."""
    out = np.zeros_like(a)
    for lo, hi in itertools.pairwise(seg):
        out[lo : hi - 1] = np.cumsum(a[lo + 1 : hi][::-1], axis=0)[::-1]
    return out


def _cumsum(a: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Forward cumulative sum along axis 0 within each segment."""
    out = np.empty_like(a)
    for lo, hi in itertools.pairwise(seg):
        out[lo:hi] = np.cumsum(a[lo:hi], axis=0)
    return out


def _not_entered(cd: CoxData, a: np.ndarray) -> np.ndarray | float:
    """Per group, the sum of row values over the rows of its stratum entering at or after its time.

    ``a`` is ``(n,)`` or transposed, ``(p, n)``; the result is ``(G,)`` or ``(G, p)``.
    """
    if cd.lo is None:
        return 0.0
    G = cd.g_start.size
    if a.ndim == 1:
        tot = np.bincount(cd.lo, weights=a, minlength=G)
    else:
        tot = np.column_stack([np.bincount(cd.lo, weights=row, minlength=G) for row in a])
    return _sum_after(tot, cd.g_seg)


def _at_risk_sum(cd: CoxData, c_g: np.ndarray) -> np.ndarray:
    """Per row, the sum of group values over the groups of its stratum it is at risk at (up to its own)."""
    cum = _cumsum(c_g, cd.g_seg)
    out = cum[cd.grp]
    if cd.lo is not None and cd.lo_prev is not None:
        before = cum[np.maximum(cd.lo_prev, 0)]
        before[cd.lo_prev < 0] = 0.0
        out = out - before
    return out


def _dead_and_all(cd: CoxData, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the sums of row values over its deaths and over all its rows (one reduceat).

    ``a`` is ``(n,)`` or transposed, ``(p, n)``; the sums are ``(G,)`` or ``(G, p)``.
    """
    assert cd.b_start is not None and cd.b_dead is not None  # set by prepare()
    blk = np.add.reduceat(a, cd.b_start, axis=-1).T
    dead = np.zeros((cd.g_start.size,) + blk.shape[1:])
    dead[cd.b_dead_grp] = blk[cd.b_dead]
    tot = dead.copy()
    tot[cd.b_cens_grp] += blk[~cd.b_dead]
    return dead, tot


def _step_sum(cd: CoxData, a: np.ndarray) -> np.ndarray:
    """Sum of step values over each group (zero for groups without deaths)."""
    out = np.zeros((cd.g_start.size,) + a.shape[1:])
    if cd.step_first.size:
        out[cd.step_owner] = np.add.reduceat(a, cd.step_first, axis=0)
    return out


@dataclass(frozen=True, eq=False)
class Eval:
    """Risk-set quantities at one ``beta``.

    Per group ``g`` the risk set splits into the subjects dying at ``t_g``
    (sums ``e0``, ``e1``) and those still at risk after it (``q0``, ``q1``),
    so a step's denominator is ``(1 - f) e0 + q0`` with no subtraction.
    """

    beta: np.ndarray
    loglik: float
    score: np.ndarray
    eta: np.ndarray  # shifted linear predictor (constant shift per stratum)
    r: np.ndarray  # w * exp(eta)
    s0: np.ndarray  # (S,) step denominators
    e1: np.ndarray  # (G, p) sum of r x over the deaths of each group
    q1: np.ndarray  # (G, p) sum of r x over the rest of the risk set
    c_row: np.ndarray  # (n,) sum over steps j is at risk for of a (1 - f [death of that group]) / s0


def evaluate(cd: CoxData, beta: np.ndarray) -> Eval:
    """Log partial likelihood and score at ``beta``; keeps what the information needs."""
    beta = np.asarray(beta, dtype=float)
    eta = beta @ cd.xt
    shift = np.maximum.reduceat(eta, cd.seg[:-1])
    eta = eta - np.repeat(shift, np.diff(cd.seg))
    with np.errstate(over="ignore", under="ignore"):
        risk = np.exp(eta)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        # a risk set whose every exp(eta) underflows gives loglik -inf: Newton halves the step
        return _evaluate(cd, beta, eta, risk)


def _evaluate(cd: CoxData, beta: np.ndarray, eta: np.ndarray, risk: np.ndarray) -> Eval:
    r = cd.w * risk
    rx = cd.xt * r  # (p, n)
    e0, g0 = _dead_and_all(cd, r)
    e1, g1 = _dead_and_all(cd, rx)
    # at risk after t_g: censored at t_g plus every later group of the stratum
    q0 = (g0 - e0) + _sum_after(g0, cd.g_seg) - _not_entered(cd, r)
    q1 = (g1 - e1) + _sum_after(g1, cd.g_seg) - _not_entered(cd, rx)
    sg, f, a = cd.step_grp, cd.step_frac, cd.step_wt
    s0 = (1.0 - f) * e0[sg] + q0[sg]
    loglik = float(np.dot(cd.w * cd.status, eta) - np.dot(a, np.log(s0)))
    inv = a / s0
    score = cd.wx_dead - _step_sum(cd, inv * (1.0 - f)) @ e1 - _step_sum(cd, inv) @ q1
    e_g = _step_sum(cd, inv * f)
    c_row = _at_risk_sum(cd, _step_sum(cd, inv)) - cd.status * e_g[cd.grp]
    return Eval(beta=beta, loglik=loglik, score=score, eta=eta, r=r, s0=s0, e1=e1, q1=q1, c_row=c_row)


def step_mean(cd: CoxData, ev: Eval) -> np.ndarray:
    """(S, p) weighted covariate mean of the risk set at each Efron step."""
    sg, f = cd.step_grp, cd.step_frac
    return ((1.0 - f)[:, None] * ev.e1[sg] + ev.q1[sg]) / ev.s0[:, None]


def information(cd: CoxData, ev: Eval, group_mult: np.ndarray | None = None) -> np.ndarray:
    """Observed information ``-d2 l / d beta2``.

    ``group_mult`` (one value per tied-time group) weights each event time's
    contribution; :mod:`.ph_test` uses it for the time-interaction blocks.
    The sum of the steps' ``a m m'`` is expanded over ``e1`` and ``q1`` with
    non-negative coefficients, so no step-by-covariate array is formed.
    """
    sg, f, a = cd.step_grp, cd.step_frac, cd.step_wt
    aq = a if group_mult is None else a * group_mult[sg]
    if group_mult is None:
        v = ev.r * ev.c_row
    else:
        e_g = _step_sum(cd, aq * f / ev.s0)
        v = ev.r * (_at_risk_sum(cd, _step_sum(cd, aq / ev.s0)) - cd.status * e_g[cd.grp])
    own = cd.step_owner
    k = aq / ev.s0**2
    alpha = _step_sum(cd, k * (1.0 - f) ** 2)[own]
    beta_ = _step_sum(cd, k * (1.0 - f))[own]
    gamma = _step_sum(cd, k)[own]
    e1, q1 = ev.e1[own], ev.q1[own]
    cross = (e1 * beta_[:, None]).T @ q1
    outer = (e1 * alpha[:, None]).T @ e1 + cross + cross.T + (q1 * gamma[:, None]).T @ q1
    if group_mult is None:  # v >= 0: one symmetric rank-k product (syrk) on sqrt(v) x
        s = cd.xt * np.sqrt(np.maximum(v, 0.0))
        return s @ s.T - outer
    return (cd.xt * v) @ cd.x - outer


def group_mean(cd: CoxData, ev: Eval) -> np.ndarray:
    """Average of the step means of each group (the Efron-averaged risk-set mean)."""
    n_steps = np.maximum(cd.g_n_steps, 1)
    return _step_sum(cd, step_mean(cd, ev)) / n_steps[:, None]


def schoenfeld(cd: CoxData, ev: Eval) -> np.ndarray:
    """Schoenfeld residuals ``x_i - xbar(t_i)`` of every sorted row (zero for censored rows)."""
    return cd.status[:, None] * (cd.x - group_mean(cd, ev)[cd.grp])


def score_residuals(cd: CoxData, ev: Eval) -> np.ndarray:
    """Score residuals of every sorted row, per unit weight (as ``residuals(fit, "score")``)."""
    f, a = cd.step_frac, cd.step_wt
    h = a / ev.s0
    hm = h[:, None] * step_mean(cd, ev)
    cum_h = _at_risk_sum(cd, _step_sum(cd, h))
    cum_hm = _at_risk_sum(cd, _step_sum(cd, hm))
    hf = _step_sum(cd, h * f)[cd.grp]
    hmf = _step_sum(cd, hm * f[:, None])[cd.grp]
    with np.errstate(over="ignore", under="ignore"):
        risk = np.exp(ev.eta)
    d = cd.status[:, None]
    out = schoenfeld(cd, ev)
    out -= risk[:, None] * (cd.x * cum_h[:, None] - cum_hm)
    out += d * risk[:, None] * (cd.x * hf[:, None] - hmf)
    return out


def firth_score(cd: CoxData, ev: Eval, info: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Gradient of ``0.5 log det I(beta)`` (Heinze & Schemper 2001, eq. 2).

    ``0.5 tr(I^-1 dI/dbeta_k)`` from the third-moment risk-set sums, each
    reduced to cumulative sums so the cost stays ``O(n p^2)``.
    """
    sg, f, a = cd.step_grp, cd.step_frac, cd.step_wt
    x, m = cd.x, step_mean(cd, ev)
    q = np.einsum("ij,jk,ik->i", x, inv, x)
    # tr(J S3_k) / S0 summed over steps
    t1 = (ev.r * ev.c_row * q) @ x
    # m_k tr(J A_s)
    rq = ev.r * q
    eq, gq = _dead_and_all(cd, rq)
    qq = (gq - eq) + _sum_after(gq, cd.g_seg) - _not_entered(cd, rq)
    tr_ja = ((1.0 - f) * eq[sg] + qq[sg]) / ev.s0
    t2 = (a * tr_ja) @ m
    # 2 (J m)^T V_s[:, k]
    u = m @ inv
    ug = _step_sum(cd, (a / ev.s0)[:, None] * u)
    ugf = _step_sum(cd, (a * f / ev.s0)[:, None] * u)
    w_row = _at_risk_sum(cd, ug) - cd.status[:, None] * ugf[cd.grp]
    t3 = (ev.r * np.einsum("ij,ij->i", x, w_row)) @ x - (a * np.einsum("ij,ij->i", m, u)) @ m
    return 0.5 * (t1 - t2 - 2.0 * t3)
