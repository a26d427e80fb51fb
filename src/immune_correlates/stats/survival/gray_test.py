"""Gray's k-sample test of equal cumulative incidence of one cause: :func:`gray_test`.

Score and variance as R's ``cmprsk::cuminc()$Tests`` (Gray 1988, Ann Stat
16:1141), with strata and the weight ``(1 - F(t-))^rho``; pinned to cmprsk
in ``tests/stats/test_competing_risks.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._missing import empty_exclusions
from ..._params import MISSING, OPTIONAL_COLUMN, Interval, check_params
from ..._results import ResultDisplay
from ...errors import InputError
from .competing_risks import CAUSE, group_codes, prepare_competing_risks

__all__ = ["GrayTestResult", "gray_test"]


def _gray_stratum(time, mark, grp, ng, rho):
    """Score and variance of Gray's test in one stratum (``mark`` 0 censored, 1 cause, 2 other)."""
    order = np.argsort(time, kind="stable")
    time, mark, grp = time[order], mark[order], grp[order]
    n = len(time)
    rs = np.bincount(grp, minlength=ng).astype(float)
    f1m, skmm = np.zeros(ng), np.ones(ng)
    f1, skm = np.zeros(ng), np.ones(ng)
    c = np.zeros((ng, ng))
    v3 = np.zeros(ng)
    v2 = np.zeros((ng - 1, ng))
    v = np.zeros((ng - 1, ng - 1))
    s = np.zeros(ng - 1)
    fm = 0.0
    _uniq, start = np.unique(time, return_index=True)
    ends = np.append(start[1:], n)
    for a, b in zip(start, ends):
        d = np.zeros((3, ng))
        np.add.at(d, (mark[a:b], grp[a:b]), 1.0)
        nd1, nd2 = d[1].sum(), d[2].sum()
        if nd1 or nd2:
            live = rs > 0
            tr = tq = 0.0
            for i in np.flatnonzero(live):
                skm[i] = skmm[i] * (rs[i] - d[1, i] - d[2, i]) / rs[i]
                f1[i] = f1m[i] + skmm[i] * d[1, i] / rs[i]
                tr += rs[i] / skmm[i]
                tq += rs[i] * (1 - f1m[i]) / skmm[i]
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            a_mat = np.zeros((ng, ng))
            for i in np.flatnonzero(live):
                t1 = rs[i] / skmm[i]
                a_mat[i, i] = fb * t1 * (1 - t1 / tr)
                if a_mat[i, i] != 0:
                    c[i, i] += a_mat[i, i] * nd1 / (tr * (1 - fm))
                for j in range(i + 1, ng):
                    if rs[j] > 0:
                        a_mat[i, j] = -fb * t1 * rs[j] / (skmm[j] * tr)
                        if a_mat[i, j] != 0:
                            c[i, j] += a_mat[i, j] * nd1 / (tr * (1 - fm))
            iu = np.triu_indices(ng, 1)
            a_mat[(iu[1], iu[0])] = a_mat[iu]
            c[(iu[1], iu[0])] = c[iu]
            for i in range(ng - 1):
                if rs[i] > 0:
                    s[i] += fb * (d[1, i] - nd1 * rs[i] * (1 - f1m[i]) / (skmm[i] * tq))
            if nd1 > 0:
                for k in np.flatnonzero(live):
                    t4 = 1 - (1 - f) / skm[k] if skm[k] > 0 else 1.0
                    t5 = 1 - (nd1 - 1) / (tr * skmm[k] - 1) if nd1 > 1 else 1.0
                    t3 = t5 * skmm[k] * nd1 / (tr * rs[k])
                    v3[k] += t4 * t4 * t3
                    t1 = a_mat[: ng - 1, k] - t4 * c[: ng - 1, k]
                    v2[:, k] += t1 * t4 * t3
                    v += np.outer(t1, t1) * t3
            if nd2 > 0:
                for k in range(ng):
                    if skm[k] <= 0 or d[2, k] <= 0:
                        continue
                    t4 = (1 - f) / skm[k]
                    t5 = 1 - (d[2, k] - 1) / (rs[k] - 1) if d[2, k] > 1 else 1.0
                    t3 = t5 * (skmm[k] ** 2 * d[2, k]) / rs[k] ** 2
                    v3[k] += t4 * t4 * t3
                    t1 = t4 * c[: ng - 1, k]
                    v2[:, k] -= t1 * t4 * t3
                    v += np.outer(t1, t1) * t3
            fm = f
            f1m, skmm = f1.copy(), skm.copy()
        rs -= np.bincount(grp[a:b], minlength=ng)
    cc = c[: ng - 1]
    v = v + (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T
    return s, v


@dataclass(frozen=True, eq=False, repr=False)
class GrayTestResult(ResultDisplay):
    """Gray's k-sample test of equal cumulative incidence of one cause.

    Attributes
    ----------
    statistic, df, pvalue : float
        Chi-square statistic ``s' V^-1 s`` on ``groups - 1`` degrees of freedom.
    cause : int
    groups : list
    strata : str or None
    score : ndarray
        Score of the first ``groups - 1`` groups (summed over strata).
    variance : ndarray
        Its covariance matrix.
    rho : float
        Power of the weight ``(1 - F(t-))^rho``.
    """

    statistic: float
    df: int
    pvalue: float
    cause: int
    groups: list
    strata: str | None
    score: np.ndarray
    variance: np.ndarray
    rho: float = 0.0
    excluded: pd.DataFrame = field(default_factory=empty_exclusions)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "cause": self.cause,
                    "statistic": self.statistic,
                    "df": self.df,
                    "p_value": self.pvalue,
                    "groups": len(self.groups),
                    "stratified_by": self.strata or "",
                }
            ]
        )

    def _title(self) -> str:
        return "Gray's test of equal cumulative incidence"


@check_params(cause=CAUSE, strata=OPTIONAL_COLUMN, rho=Interval(), missing=MISSING)
def gray_test(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    *,
    cause: int = 1,
    strata: str | None = None,
    rho: float = 0.0,
    missing: str = "drop",
) -> GrayTestResult:
    """Gray's test that the cumulative incidence of one cause is equal across groups.

    Parameters
    ----------
    data : DataFrame
    duration : str
        Follow-up time (finite, >= 0).
    event : str
        ``0`` censored, ``1, 2, ...`` the cause of the event.
    group : str
        Column defining the groups compared.
    cause : int
        The cause of interest.
    strata : str, optional
        Column whose levels are tested separately and summed (stratified test).
    rho : float
        Power of the weight function ``(1 - F(t-))^rho``; 0 (default) as ``cuminc``.
    missing : {"drop", "raise"}

    Returns
    -------
    GrayTestResult
        ``statistic``, ``df``, ``pvalue`` as ``cmprsk::cuminc()$Tests``.

    Notes
    -----
    Gray (1988), "A class of K-sample tests for comparing the cumulative
    incidence of a competing risk", Ann Stat 16:1141-1154.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> res = ic.gray_test(frame, "pfs_months", "pfs_cause", "cr", cause=1)
    >>> res.df
    1
    """
    caller = "gray_test"
    kept, excluded, time, codes = prepare_competing_risks(data, duration, event, group, strata, missing, caller)
    labels, levels = group_codes(kept, group)
    ng = len(levels)
    if ng < 2:
        raise InputError(
            f"{caller}: the group column has a single level {levels}; two or more are compared.", column=group
        )
    mark = np.where(codes == cause, 1, np.where(codes > 0, 2, 0))
    st_labels, st_levels = group_codes(kept, strata)
    s = np.zeros(ng - 1)
    v = np.zeros((ng - 1, ng - 1))
    for k in range(len(st_levels)):
        sel = st_labels == k
        sk, vk = _gray_stratum(time[sel], mark[sel], labels[sel], ng, float(rho))
        s += sk
        v += vk
    if np.linalg.matrix_rank(v) < ng - 1:
        stat, p = np.nan, np.nan
    else:
        stat = float(s @ np.linalg.solve(v, s))
        p = float(stats.chi2.sf(stat, ng - 1))
    return GrayTestResult(
        statistic=stat,
        df=ng - 1,
        pvalue=p,
        cause=cause,
        groups=list(levels),
        strata=strata,
        score=s,
        variance=v,
        rho=float(rho),
        excluded=excluded,
    )
