"""Profile (penalized) likelihood intervals for many trials at once.

The interval of one coefficient is ``{b : 2 (llf - llf(b)) <= chi2_{1, 1-alpha}}``
with ``llf(b)`` the (penalized) log-likelihood maximised over the other
coefficients with this one fixed at ``b`` (Venzon & Moolgavkar 1988; the
penalized version of logistf and coxphf, Heinze & Schemper 2002).  As
:func:`immune_correlates.stats._profile.profile_bounds` does for one fit, each
end is bracketed by doubling steps of one standard error and then found by
root finding, here the Illinois variant of regula falsi run on every trial's
bracket at once (each evaluation is one batched constrained fit).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = ["profile_intervals"]


def profile_intervals(constrained: Callable[[np.ndarray, np.ndarray], np.ndarray], estimate: np.ndarray,
                      se: np.ndarray, llf: np.ndarray, alpha: float, use: np.ndarray, *, max_expand: int = 40,
                      xtol: float = 1e-8, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Both ends of the profile interval of one coefficient, for every trial in ``use``.

    Parameters
    ----------
    constrained : callable
        ``(idx, values) -> llf`` of trials ``idx`` with the coefficient fixed at ``values``.
    estimate, se, llf : (B,) arrays
        Unconstrained estimates, a bracket scale (Wald SE) and the maximised (penalized) llf.
    alpha : float
    use : (B,) bool
        Trials to compute (others get NaN).

    Returns
    -------
    lower, upper : (B,) arrays
        ``-inf``/``inf`` where the profile never falls far enough.
    """
    B = estimate.shape[0]
    target = stats.chi2.ppf(1 - alpha, 1) / 2.0
    out = [np.full(B, np.nan), np.full(B, np.nan)]
    step0 = np.where(np.isfinite(se) & (se > 0), se, 1.0)
    for side, sign in enumerate((-1.0, 1.0)):
        idx = np.flatnonzero(use)
        if not idx.size:
            continue

        def gap(rows, values):
            return (llf[rows] - constrained(rows, values)) - target

        inner = estimate[idx].copy()
        g_in = np.full(idx.size, -target)
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
        res = np.full(idx.size, sign * np.inf)
        a, fa, b, fb = inner, g_in, outer, g_out
        active = np.flatnonzero(~open_)
        last = np.zeros(idx.size, dtype=int)  # which end was kept last (Illinois halving)
        for _ in range(max_iter):
            if not active.size:
                break
            aa, bb, fA, fB = a[active], b[active], fa[active], fb[active]
            c = bb - fB * (bb - aa) / (fB - fA)
            fc = gap(idx[active], c)
            same = np.sign(fc) == np.sign(fB)
            # the end replaced: b <- c always; when c is on b's side, a stays and keeps (halved) value
            new_a = np.where(same, aa, bb)
            new_fa = np.where(same, np.where(last[active] == 1, fA / 2.0, fA), fB)
            last[active] = np.where(same, 1, 0)
            a[active], fa[active], b[active], fb[active] = new_a, new_fa, c, fc
            done = (np.abs(b[active] - a[active]) <= xtol * (1.0 + np.abs(c))) | (fc == 0)
            res[active[done]] = c[done]
            active = active[~done]
        res[active] = b[active]
        out[side][idx] = res
    return out[0], out[1]
