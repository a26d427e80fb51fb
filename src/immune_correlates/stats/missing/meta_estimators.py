"""The numbers of a meta-analysis of one effect: tau² estimators, the pooled test and heterogeneity, as metafor 3.8.

The normal-normal model ``y_i ~ N(mu, v_i + tau^2)`` for ``k`` trials' estimates ``y_i`` with known
within-trial variances ``v_i = se_i^2``; weights ``w_i = 1 / (v_i + tau^2)``.

Between-trial variance ``tau^2`` (:func:`tau2_estimate`):

- ``"FE"``: 0 (common effect);
- ``"DL"``: DerSimonian & Laird's (1986) moment estimator, truncated at 0;
- ``"PM"``: Paule & Mandel's (1982): the root of ``sum w_i (y_i - mu)^2 = k - 1`` (0 when the
  left side is already below ``k - 1`` at 0);
- ``"REML"``: the restricted maximum likelihood estimate (Viechtbauer 2005), the root of the
  REML score ``sum w_i^2 (y_i - mu)^2 + sum w_i^2 / sum w_i - sum w_i`` on ``tau^2 >= 0``.

PM and REML are solved to machine precision (Brent's method on a bracket), beyond metafor's
default stopping rules (``threshold = 1e-5``), so they match metafor run with tight control.

The pooled estimate's test (``_pooled_test``: z, or Hartung-Knapp's t on ``k - 1`` df) and the
heterogeneity statistics (``_heterogeneity``: I² and H²) are here too; the formulas are in
:mod:`.meta`'s docstring, which assembles them into :class:`~.meta.MetaAnalysisResult`.

The papers behind each estimator and test are listed in
:func:`~immune_correlates.stats.missing.meta.meta_analysis`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

__all__ = ["tau2_estimate", "METHODS", "TESTS"]


METHODS = ("REML", "DL", "PM", "FE")


TESTS = ("z", "knha")


def _wmean(y, w):
    return float(np.sum(w * y) / np.sum(w))


def _pm_equation(t, y, v):
    w = 1.0 / (v + t)
    return float(np.sum(w * (y - _wmean(y, w)) ** 2) - (len(y) - 1))


def _reml_score(t, y, v):
    w = 1.0 / (v + t)
    mu = _wmean(y, w)
    return float(np.sum(w**2 * (y - mu) ** 2) + np.sum(w**2) / np.sum(w) - np.sum(w))


def _root(f, y, v) -> float:
    """The root of a function decreasing through 0 on ``tau^2 >= 0`` (0 if it is not positive at 0)."""
    if f(0.0, y, v) <= 0:
        return 0.0
    hi = max(float(np.var(y, ddof=1)) if len(y) > 1 else 1.0, float(np.max(v)), 1e-8)
    for _ in range(200):
        if f(hi, y, v) < 0:
            break
        hi *= 2.0
    return float(optimize.brentq(f, 0.0, hi, args=(y, v), xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500))


def tau2_estimate(y, v, method: str) -> float:
    """Between-trial variance by ``method`` (see the module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> round(tau2_estimate(np.array([0.1, 0.5, 0.9]), np.array([0.04, 0.04, 0.04]), "DL"), 4)
    0.12
    """
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    if method == "FE" or len(y) < 2:
        return 0.0
    if method == "DL":
        w = 1.0 / v
        q = float(np.sum(w * (y - _wmean(y, w)) ** 2))
        return max(0.0, float((q - (len(y) - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w))))
    if method == "PM":
        return _root(_pm_equation, y, v)
    return _root(_reml_score, y, v)


def _pooled_test(y, w, mu, test: str, alpha: float):
    """``(se, df, critical value, p)`` of the pooled estimate: z, or Hartung-Knapp's t on k - 1 df."""
    k = len(y)
    if test == "z":
        se_mu = math.sqrt(1.0 / np.sum(w))
        return se_mu, math.inf, float(stats.norm.ppf(1 - alpha / 2)), float(2 * stats.norm.sf(abs(mu / se_mu)))
    s2 = float(np.sum(w * (y - mu) ** 2) / (k - 1))
    se_mu, df = math.sqrt(s2 / np.sum(w)), float(k - 1)
    return se_mu, df, float(stats.t.ppf(1 - alpha / 2, df)), float(2 * stats.t.sf(abs(mu / se_mu), df))


def _heterogeneity(q: float, wf, tau2: float, method: str) -> tuple[float, float]:
    """I² (percent) and H²: from Q for the fixed-effect model, else from tau² and the typical variance."""
    k = len(wf)
    if method == "FE":
        return (100.0 * max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0), q / (k - 1)
    s2_typ = (k - 1) * np.sum(wf) / (np.sum(wf) ** 2 - np.sum(wf**2))
    return float(100.0 * tau2 / (tau2 + s2_typ)), float((tau2 + s2_typ) / s2_typ)
