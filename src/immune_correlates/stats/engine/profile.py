"""Profile (penalized) likelihood intervals and likelihood-ratio tests: one solver.

The profile interval for coefficient ``k`` is the set of values ``b`` with
``2 * (llf_max - llf_k(b)) <= chi2_{1, 1-alpha}``, where ``llf_k(b)`` is the
(penalized) log-likelihood maximised over the other coefficients with
``beta_k = b`` fixed (Venzon & Moolgavkar 1988; Heinze & Schemper 2002 for the
penalized version used by logistf and coxphf).

:func:`profile_intervals` is the solver.  It works on a batch of fits at once
(the power simulations, ``screen``): each end is bracketed by doubling steps
of one standard error from the estimate, then found by the Illinois variant
of regula falsi run on every fit's bracket together, so each step is one
batched constrained fit.  :func:`profile_bounds` is the same solver for one
fit (a batch of one, to a tighter tolerance); :class:`Profile` runs it for
every coefficient of a single fit (``fit_logistic``, ``fit_cox`` and their
results' ``conf_int()``), with constrained refits started on the path of the
previous ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import stats

__all__ = ["profile_bounds", "profile_intervals", "lr_pvalue", "Profile", "PathStarts", "BatchPathStarts"]


def lr_pvalue(llf_full: float, llf_constrained: float, df: int = 1) -> float:
    """Likelihood-ratio p-value ``P(chi2_df >= 2 (llf_full - llf_constrained))``.

    Examples
    --------
    >>> round(lr_pvalue(-10.0, -11.92072), 4)
    0.05
    """
    stat = max(2.0 * (llf_full - llf_constrained), 0.0)
    return float(stats.chi2.sf(stat, df))


def _expand(gap, idx, estimate, step0, sign, target, max_expand):
    """Doubling steps away from the estimate until the profile has fallen past ``target``."""
    inner = estimate[idx].copy()
    g_in = np.full(idx.size, -target)  # the gap at the estimate itself
    width = step0[idx].copy()
    outer = estimate[idx] + sign * width
    g_out = gap(idx, outer)
    open_ = ~(g_out > 0)
    for _ in range(max_expand):
        if not open_.any():
            break
        o = np.flatnonzero(open_)
        inner[o], g_in[o] = outer[o], g_out[o]
        width[o] *= 2.0
        outer[o] = estimate[idx[o]] + sign * width[o]
        g_out[o] = gap(idx[o], outer[o])
        open_[o] = ~(g_out[o] > 0)
    return inner, g_in, outer, g_out, open_


def _illinois(gap, idx, a, fa, b, fb, active, res, xtol, max_iter):
    """Roots of ``gap`` inside the brackets ``[a, b]`` of the ``active`` fits (in place into ``res``)."""
    last = np.zeros(idx.size, dtype=int)  # 1 when b was replaced twice in a row (Illinois halving)
    for _ in range(max_iter):
        if not active.size:
            break
        aa, bb, fA, fB = a[active], b[active], fa[active], fb[active]
        c = bb - fB * (bb - aa) / (fB - fA)
        fc = gap(idx[active], c)
        same = np.sign(fc) == np.sign(fB)
        # b <- c always; when c falls on b's side, a stays and (the second time running) its value is halved
        new_a = np.where(same, aa, bb)
        new_fa = np.where(same, np.where(last[active] == 1, fA / 2.0, fA), fB)
        last[active] = np.where(same, 1, 0)
        a[active], fa[active], b[active], fb[active] = new_a, new_fa, c, fc
        done = (np.abs(b[active] - a[active]) <= xtol * (1.0 + np.abs(c))) | (fc == 0)
        res[active[done]] = c[done]
        active = active[~done]
    res[active] = b[active]


def profile_intervals(
    constrained: Callable[[np.ndarray, np.ndarray], np.ndarray],
    estimate: np.ndarray,
    se: np.ndarray,
    llf: np.ndarray,
    alpha: float,
    use: np.ndarray | None = None,
    *,
    max_expand: int = 40,
    xtol: float = 1e-8,
    max_iter: int = 100,
    sides: Sequence[int] = (0, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of the profile interval of one coefficient, for every fit of a batch.

    Parameters
    ----------
    constrained : callable
        ``(idx, values) -> llf``: the maximised (penalized) log-likelihood of
        fits ``idx`` (int array) with the coefficient fixed at ``values``.
    estimate, se, llf : (B,) arrays
        Unconstrained estimates, a scale for the first bracket (a Wald
        standard error; any positive finite number works) and the maximised
        (penalized) log-likelihood.
    alpha : float
        ``1 - level``.
    use : (B,) bool array, optional
        Fits to compute (the others get NaN); default all.
    max_expand : int
        Doublings of the bracket before an end is declared infinite.
    xtol : float
        Each end is returned when its bracket is narrower than ``xtol * (1 + |end|)``.
    sides : sequence of {0, 1}
        The ends to find (0 lower, 1 upper); the others are NaN.

    Returns
    -------
    lower, upper : (B,) arrays
        ``-inf`` / ``inf`` where the profile never falls far enough (a
        monotone likelihood in that direction).

    Examples
    --------
    A quadratic log-likelihood ``-(b - 1)^2 / 2`` (standard error 1) has the
    Wald interval as its profile interval:

    >>> lo, hi = profile_intervals(lambda idx, b: -(b - 1.0) ** 2 / 2, np.array([1.0]), np.array([1.0]),
    ...                            np.array([0.0]), 0.05)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (-0.96, 2.96)
    """
    estimate = np.asarray(estimate, dtype=float)
    se = np.asarray(se, dtype=float)
    llf = np.asarray(llf, dtype=float)
    B = estimate.shape[0]
    use = np.ones(B, bool) if use is None else np.asarray(use, bool)
    target = stats.chi2.ppf(1 - alpha, 1) / 2.0
    out = [np.full(B, np.nan), np.full(B, np.nan)]
    step0 = np.where(np.isfinite(se) & (se > 0), se, 1.0)

    def gap(rows, values):
        return (llf[rows] - np.asarray(constrained(rows, values), dtype=float)) - target

    idx = np.flatnonzero(use)
    if not idx.size:
        return out[0], out[1]
    for side, sign in enumerate((-1.0, 1.0)):
        if side not in sides:
            continue
        inner, g_in, outer, g_out, open_ = _expand(gap, idx, estimate, step0, sign, target, max_expand)
        res = np.full(idx.size, sign * np.inf)
        _illinois(gap, idx, inner, g_in, outer, g_out, np.flatnonzero(~open_), res, xtol, max_iter)
        out[side][idx] = res
    return out[0], out[1]


def profile_bounds(
    constrained_llf: Callable[[float], float],
    estimate: float,
    se: float,
    llf_max: float,
    alpha: float,
    *,
    max_steps: int = 60,
    xtol: float = 1e-10,
    sides: Sequence[int] = (0, 1),
) -> tuple[float, float]:
    """Both ends of a profile-likelihood interval for one coefficient of one fit.

    :func:`profile_intervals` on a batch of one.

    Parameters
    ----------
    constrained_llf : callable
        ``b -> max llf with this coefficient fixed at b``.
    estimate, se : float
        The unconstrained estimate and a scale for the first bracket (a Wald
        standard error; any positive finite number works).
    llf_max : float
        The (penalized) log-likelihood at the unconstrained estimate.
    alpha : float
        ``1 - level``.

    Returns
    -------
    (lower, upper) : tuple of float
        ``-inf`` / ``inf`` when the profile never falls far enough (a
        monotone likelihood in that direction).

    Examples
    --------
    >>> lo, hi = profile_bounds(lambda b: -(b - 1.0) ** 2 / 2, 1.0, 1.0, 0.0, 0.05)
    >>> round(lo, 4), round(hi, 4)
    (-0.96, 2.96)
    """

    def batch(idx, values):
        return np.array([constrained_llf(float(v)) for v in values])

    lo, hi = profile_intervals(
        batch,
        np.array([float(estimate)]),
        np.array([float(se)]),
        np.array([float(llf_max)]),
        alpha,
        max_expand=max_steps - 1,
        xtol=xtol,
        max_iter=200,
        sides=sides,
    )
    return float(lo[0]), float(hi[0])


class PathStarts:
    """Starting points of constrained refits, on the path of those already done.

    A constrained fit (coefficient ``k`` held at ``value``) starts from the
    line through the two solutions found nearest to ``value``: on a separated
    or monotone profile the other coefficients move linearly with this one,
    far beyond what a few capped Newton steps reach.  With ``follow=False``
    every refit starts from the estimate (coxph's and coxphf's choice).
    """

    def __init__(self, beta: np.ndarray, *, follow: bool = True) -> None:
        self.beta, self.follow = np.asarray(beta, dtype=float), follow
        self.path: dict[int, list] = {k: [(self.beta[k], self.beta)] for k in range(self.beta.size)}

    def start(self, k: int, value: float) -> np.ndarray:
        """Where the refit with coefficient ``k`` at ``value`` starts (``value`` in place)."""
        start = self.beta.copy()
        if self.follow:
            near = sorted(self.path[k], key=lambda item: abs(item[0] - value))[:2]
            start = near[0][1].copy()
            if len(near) == 2 and near[0][0] != near[1][0]:
                slope = (near[0][1] - near[1][1]) / (near[0][0] - near[1][0])
                start = start + slope * (value - near[0][0])
        start[k] = value
        return start

    def record(self, k: int, value: float, beta: np.ndarray) -> None:
        if self.follow:
            self.path[k].append((value, beta))


class BatchPathStarts:
    """:class:`PathStarts` for a batch of fits: starting points of their constrained refits.

    ``beta`` is ``(B, p)``; :meth:`start` and :meth:`record` take the fits
    ``rows`` (indices into the batch) and one value each.
    """

    def __init__(self, beta: np.ndarray, *, follow: bool = True) -> None:
        self.beta, self.follow = np.asarray(beta, dtype=float), follow
        self.path: list[list] = [[(np.nan, b)] for b in self.beta]  # the estimate's value is set per coefficient

    def start(self, rows: np.ndarray, k: int, values: np.ndarray) -> np.ndarray:
        out = self.beta[rows].copy()
        if self.follow:
            for i, (r, v) in enumerate(zip(rows, values)):
                path = self.path[r]
                if len(path) == 1:  # only the estimate so far
                    continue
                pts = [(self.beta[r, k] if np.isnan(x) else x, b) for x, b in path]
                near = sorted(pts, key=lambda item: abs(item[0] - v))[:2]
                start = near[0][1].copy()
                if near[0][0] != near[1][0]:
                    slope = (near[0][1] - near[1][1]) / (near[0][0] - near[1][0])
                    start = start + slope * (v - near[0][0])
                out[i] = start
        out[:, k] = values
        return out

    def record(self, rows: np.ndarray, values: np.ndarray, betas: np.ndarray) -> None:
        if self.follow:
            for r, v, b in zip(rows, values, betas):
                self.path[r].append((float(v), b))


class Profile:
    """The profile (penalized) likelihood of each coefficient of one fit.

    Parameters
    ----------
    refit : callable
        ``refit(k, start) -> (llf, beta)``: the maximised (penalized)
        log-likelihood with coefficient ``k`` held at ``start[k]``, the other
        coefficients free from ``start``, and the solution.
    beta, llf : array, float
        The unconstrained estimate and its (penalized) log-likelihood.
    follow_path : bool
        Start refits on the path of the previous ones (:class:`PathStarts`).

    Examples
    --------
    >>> prof = Profile(lambda k, start: (-(start[k] - 1.0) ** 2 / 2, start), np.array([1.0]), 0.0)
    >>> lo, hi = prof.interval(0, 1.0, 0.05)
    >>> round(lo, 4), round(hi, 4), round(prof.pvalue(0), 4)
    (-0.96, 2.96, 0.3173)
    """

    def __init__(self, refit: Callable, beta: np.ndarray, llf: float, *, follow_path: bool = True) -> None:
        self.refit, self.llf = refit, float(llf)
        self.beta = np.asarray(beta, dtype=float)
        self.starts = PathStarts(self.beta, follow=follow_path)

    def constrained(self, k: int, value: float) -> float:
        """Maximum (penalized) log-likelihood with coefficient ``k`` at ``value``."""
        llf, beta = self.refit(k, self.starts.start(k, value))
        self.starts.record(k, value, beta)
        return float(llf)

    def interval(self, k: int, scale: float, alpha: float, *, diverged: bool = False) -> tuple[float, float]:
        """Profile interval of coefficient ``k`` (``scale``: the first bracket, e.g. its Wald SE).

        ``diverged``: the maximum likelihood estimate is infinite (separation,
        monotone likelihood), so the profile never falls on the side the
        estimate ran off to: that end is infinite without a search.
        """
        if not diverged:
            return profile_bounds(lambda b: self.constrained(k, b), self.beta[k], scale, self.llf, alpha)
        side = 1 if self.beta[k] > 0 else 0
        ends = [-np.inf, np.inf]
        ends[1 - side] = profile_bounds(
            lambda b: self.constrained(k, b), self.beta[k], scale, self.llf, alpha, sides=(1 - side,)
        )[1 - side]
        return ends[0], ends[1]

    def intervals(self, scale, alpha: float, diverged=()) -> np.ndarray:
        """``(p, 2)`` profile intervals of every coefficient."""
        diverged = list(diverged) or [False] * self.beta.size
        ends = [self.interval(k, scale[k], alpha, diverged=diverged[k]) for k in range(self.beta.size)]
        return np.array(ends, dtype=float).reshape(-1, 2)

    def pvalue(self, k: int, value: float = 0.0) -> float:
        """Likelihood-ratio p-value of ``beta_k = value``."""
        return lr_pvalue(self.llf, self.constrained(k, value))
