"""Profile (penalized) likelihood intervals and likelihood-ratio tests.

The profile interval for coefficient ``k`` is the set of values ``b`` with
``2 * (llf_max - llf_k(b)) <= chi2_{1, 1-alpha}``, where ``llf_k(b)`` is the
(penalized) log-likelihood maximised over the other coefficients with
``beta_k = b`` fixed (Venzon & Moolgavkar 1988; Heinze & Schemper 2002 for the
penalized version used by logistf and coxphf).  We locate both ends by
bracketing and Brent's root finder, so the ends are exact roots to ``xtol``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import optimize, stats

__all__ = ["profile_bounds", "lr_pvalue"]


def lr_pvalue(llf_full: float, llf_constrained: float, df: int = 1) -> float:
    """Likelihood-ratio p-value ``P(chi2_df >= 2 (llf_full - llf_constrained))``."""
    stat = max(2.0 * (llf_full - llf_constrained), 0.0)
    return float(stats.chi2.sf(stat, df))


def profile_bounds(
    constrained_llf: Callable[[float], float],
    estimate: float,
    se: float,
    llf_max: float,
    alpha: float,
    *,
    max_steps: int = 60,
    xtol: float = 1e-10,
) -> tuple[float, float]:
    """Both ends of a profile-likelihood interval for one coefficient.

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
    """
    target = stats.chi2.ppf(1 - alpha, 1) / 2.0
    step = se if np.isfinite(se) and se > 0 else 1.0

    def gap(b: float) -> float:
        return (llf_max - constrained_llf(b)) - target

    ends = []
    for sign in (-1.0, 1.0):
        inner = estimate
        width = step
        outer = estimate + sign * width
        found = False
        for _ in range(max_steps):
            g = gap(outer)
            if g > 0:
                found = True
                break
            inner = outer
            width *= 2.0
            outer = estimate + sign * width
        if not found:
            ends.append(sign * np.inf)
            continue
        lo, hi = sorted((inner, outer))
        ends.append(optimize.brentq(gap, lo, hi, xtol=xtol, rtol=4 * np.finfo(float).eps, maxiter=200))
    return float(ends[0]), float(ends[1])
