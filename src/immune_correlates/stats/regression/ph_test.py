"""Test of proportional hazards on (scaled) Schoenfeld residuals.

Since survival 3.0, ``cox.zph`` is a score test: the Cox model is extended by
time-varying terms ``x_k * g(t)`` and the score test of their coefficients
``gamma = 0`` is computed at the fitted ``beta`` (with the score of ``beta``
set to zero).  The score of ``gamma_k`` is ``sum over event times of g(t) x
(Schoenfeld residual)``; the information is the full ``2p x 2p`` matrix of
``(beta, gamma)``, whose blocks are ``sum_t I_t``, ``sum_t g(t) I_t`` and
``sum_t g(t)^2 I_t``.  This module reproduces ``cox.zph(fit, transform="km",
terms=TRUE)`` of survival 3.5-3: ``g(t) = 1 - KM(t-)`` (the Kaplan-Meier of all
rows, unweighted and unstratified) centred at its mean over the events.

References
----------
Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics
based on weighted residuals. *Biometrika* 81:515-526.
Therneau TM (2023). survival 3.5-3, ``cox.zph``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import HasAttributes, check_params
from ..._results import ResultDisplay
from ..engine import cox_core as core
from ..engine.linalg import covariance

__all__ = ["ph_test", "PHTestResult"]


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class PHTestResult(ResultDisplay):
    """Proportional-hazards test per term and globally.

    Attributes
    ----------
    table : DataFrame
        Indexed by term and ``GLOBAL``: ``chisq``, ``df``, ``p_value``.
    residuals : DataFrame
        One row per event, ordered by stratum then time: ``time``,
        ``transformed_time`` (``g(t) = 1 - KM(t-)``), ``stratum`` and one
        column per term with the scaled Schoenfeld residual plus the
        coefficient (``beta_k + ...``), whose smoothed trend against
        ``transformed_time`` estimates ``beta_k(t)``.
    transform : str
    """

    table: pd.DataFrame
    residuals: pd.DataFrame
    transform: str = "km"

    def summary(self) -> pd.DataFrame:
        """The test table with ``term`` as a column."""
        return self.table.reset_index()

    def _title(self) -> str:
        return "Proportional-hazards test (cox.zph score test, transform = km)"


def _km_transform(time: np.ndarray, status: np.ndarray) -> np.ndarray:
    """``1 - KM(t-)`` at each row's time, KM of all rows unweighted."""
    _ut, inv = np.unique(time, return_inverse=True)
    n_event = np.bincount(inv, weights=status)
    n_at = np.cumsum(np.bincount(inv)[::-1])[::-1]
    surv = np.cumprod(1.0 - n_event / n_at)
    before = np.r_[1.0, surv[:-1]]
    return 1.0 - before[inv]


@check_params(result=HasAttributes("model", "linear_predictor", "params", name="a CoxResult from fit_cox"))
def ph_test(result) -> PHTestResult:
    """Score test of proportional hazards, as ``cox.zph(fit, transform="km", terms=TRUE)``.

    Parameters
    ----------
    result : CoxResult
        An ML fit from :func:`~immune_correlates.stats.regression.cox.fit_cox` (each
        covariate is one term).

    Returns
    -------
    PHTestResult
        ``table`` (per-term and ``GLOBAL`` chi-square, df, p) and the scaled
        Schoenfeld ``residuals`` for plotting.

    Notes
    -----
    Matches survival 3.5-3 (score-test form of ``cox.zph`` introduced in
    survival 3.0; earlier versions used a GLS fit to the scaled residuals and
    give different numbers).  Transform: Kaplan-Meier, ``g(t) = 1 - S(t-)``.

    References
    ----------
    Grambsch & Therneau (1994) Biometrika 81:515-526.

    Examples
    --------
    >>> import pandas as pd
    >>> from immune_correlates.stats.regression.cox import fit_cox
    >>> df = pd.DataFrame({"pfs_months": [5, 8, 12, 3, 20, 15, 7, 30],
    ...                    "pfs_event": [1, 1, 0, 1, 0, 1, 1, 0],
    ...                    "cd8_per_ul": [120, 300, 410, 90, 520, 250, 180, 600]})
    >>> table = ph_test(fit_cox(df, "pfs_months", "pfs_event", ["cd8_per_ul"])).table
    >>> list(table.index), round(float(table.loc["GLOBAL", "chisq"]), 4)
    (['cd8_per_ul', 'GLOBAL'], 1.7577)
    """
    cd: core.CoxData = result.model.data
    if cd.entry is not None:
        from ...errors import ModelError

        raise ModelError(
            "ph_test: not available for counting-process fits (entry=) yet; R's cox.zph "
            "transforms time with the Kaplan-Meier of the (start, stop] rows, which this test does not."
        )
    beta = result.params.to_numpy()
    terms = list(result.params.index)
    p = beta.size
    ev = core.evaluate(cd, beta)
    ttimes = _km_transform(cd.time, cd.status)
    dead = cd.status > 0
    gtime = ttimes - ttimes[dead].mean()
    g_grp = gtime[cd.g_start]
    # score of gamma: sum over groups g(t) * (sum of w x over deaths - sum of step means)
    dx = np.add.reduceat((cd.w * cd.status)[:, None] * cd.x, cd.g_start, axis=0)
    msum = core._step_sum(cd, cd.step_wt[:, None] * core.step_mean(cd, ev))
    u = g_grp @ (dx - msum)
    i11 = core.information(cd, ev)
    i12 = core.information(cd, ev, group_mult=g_grp)
    i22 = core.information(cd, ev, group_mult=g_grp**2)
    imat = np.block([[i11, i12], [i12.T, i22]])
    chisq, df = [], []
    for j in range(p):
        kk = np.r_[np.arange(p), p + j]
        uu = np.r_[np.zeros(p), u[j]]
        chisq.append(float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu)))
        df.append(1)
    uu = np.r_[np.zeros(p), u]
    chisq.append(float(uu @ np.linalg.solve(imat, uu)))
    df.append(p)
    table = pd.DataFrame({"chisq": chisq, "df": df}, index=pd.Index(terms + ["GLOBAL"], name="term"))
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])
    # scaled residuals: beta + r V^-1 with V = I / d (d = number of events), as cox.zph when
    # every covariate varies within every stratum
    sres = core.schoenfeld(cd, ev)[dead]
    strat = cd.stratum[dead]
    vmean = i11 / dead.sum()
    scaled = sres @ covariance(vmean, terms, caller="ph_test") + beta
    resid = pd.DataFrame(scaled, columns=terms)
    resid.insert(0, "stratum", strat)
    resid.insert(0, "transformed_time", ttimes[dead])
    resid.insert(0, "time", cd.time[dead])
    return PHTestResult(table=table, residuals=resid)
