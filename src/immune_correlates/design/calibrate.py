"""Response rates of a design over the whole cohort, and designs that hit given rates.

A :class:`~immune_correlates.data.design.TrialDesign` states ``p_cr`` and
``p_pr`` for a patient at the mean immune profile (all drivers 0).  Because
the immune drivers spread the patients' response probabilities, the share of
CRs in the whole cohort is different (larger when ``p_cr < 0.5``).  Protocols
quote the cohort-level rate ("about 8 CRs in 34 patients"), so
:func:`match_response_rates` finds the thresholds that give it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, stats
from scipy.special import expit

from ..data.design import TrialDesign
from ..errors import ConfigError
from .model import driver_covariance, response_thresholds

__all__ = ["marginal_response_rates", "match_response_rates"]

_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(80)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def _eta_distribution(design: TrialDesign) -> tuple[np.ndarray, np.ndarray]:
    """Support points and weights of the response linear predictor ``eta`` over patients."""
    b = design.coefficients("or_cr")
    if design.driver_distribution == "normal":
        return float(np.sqrt(b @ driver_covariance(design) @ b)) * _NODES, _WEIGHTS
    # binary drivers: the 16 sign patterns, each with its orthant probability
    signs, probs = _orthants(float(design.driver_correlation))
    return signs @ b, probs


@lru_cache(maxsize=32)
def _orthants(r: float) -> tuple[np.ndarray, np.ndarray]:
    cov = driver_covariance(TrialDesign(driver_correlation=r))
    signs = np.array(np.meshgrid(*[[-1.0, 1.0]] * 4, indexing="ij")).reshape(4, -1).T
    probs = np.array(
        [
            stats.multivariate_normal(
                np.zeros(4), cov * np.outer(s, s), seed=0, maxpts=400_000, abseps=1e-9, releps=1e-9
            ).cdf(np.zeros(4))
            for s in -signs
        ]
    )
    return signs, probs / probs.sum()


def _p_above(c: float, eta) -> float:
    """``P(eta + L > c)`` over the distribution of ``eta``, ``L`` standard logistic."""
    values, weights = eta
    return float(np.sum(weights * expit(values - c)))


def marginal_response_rates(design: TrialDesign) -> dict:
    """Cohort-level probabilities of CR and of PR under the design's response model.

    Parameters
    ----------
    design : TrialDesign

    Returns
    -------
    dict
        ``{"cr": P(CR), "pr": P(PR), "nr": P(NR)}`` averaged over the immune drivers.

    Notes
    -----
    ``P(CR) = E[expit(eta - c_CR)]`` with ``eta ~ N(0, b' Sigma b)``, computed by
    80-point Gauss-Hermite quadrature; for binary drivers a sum over the 16
    sign patterns weighted by their orthant probabilities (Genz 1992).

    Examples
    --------
    >>> from immune_correlates.data.design import OFA_LEN_DESIGN
    >>> round(marginal_response_rates(OFA_LEN_DESIGN)["cr"], 3)
    0.307
    """
    s = _eta_distribution(design)
    c_cr, c_pr = response_thresholds(design)
    cr = _p_above(c_cr, s) if np.isfinite(c_cr) else 0.0
    either = _p_above(c_pr, s)
    return {"cr": cr, "pr": either - cr, "nr": 1.0 - either}


def match_response_rates(design: TrialDesign, cr: float, pr: float | None = None) -> TrialDesign:
    """The design with ``p_cr`` (and ``p_pr``) set so the cohort-level rates are ``cr`` (and ``pr``).

    Parameters
    ----------
    design : TrialDesign
    cr : float
        Target share of CR/CRi in the cohort, in (0, 1).
    pr : float, optional
        Target share of nPR/PR (default: keep the design's cohort-level PR share).

    Returns
    -------
    TrialDesign

    Examples
    --------
    >>> from immune_correlates.data.design import OFA_LEN_DESIGN
    >>> d = match_response_rates(OFA_LEN_DESIGN, cr=8 / 34, pr=16 / 34)
    >>> round(marginal_response_rates(d)["cr"] * 34, 6)
    8.0
    """
    pr = marginal_response_rates(design)["pr"] if pr is None else pr
    if not (0 < cr < 1 and 0 <= pr < 1 and cr + pr < 1):
        raise ConfigError(f"response rates must satisfy 0 < cr, 0 <= pr and cr + pr < 1; got cr={cr!r}, pr={pr!r}.")
    s = _eta_distribution(design)

    def threshold(target):
        return optimize.brentq(lambda c: _p_above(c, s) - target, -50.0, 50.0, xtol=1e-14, rtol=1e-14)

    p_cr = float(expit(-threshold(cr)))
    p_cr_pr = float(expit(-threshold(cr + pr)))
    return design.replace(p_cr=p_cr, p_pr=p_cr_pr - p_cr)
