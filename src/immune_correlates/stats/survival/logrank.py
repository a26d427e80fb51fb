"""Log-rank and G-rho tests for k groups, stratified and trend, as R's ``survdiff``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._checks import check_durations, event_indicator
from ..._missing import complete_cases, row_ids
from ..._params import MISSING, OPTIONAL_COLUMNS, Instance, Interval, Options, check_params
from ..._results import TabledTestDisplay
from ...errors import InputError, ParameterError
from .kaplan_meier import group_levels

__all__ = ["logrank_test", "LogrankResult"]


@dataclass(frozen=True, repr=False)
class LogrankResult(TabledTestDisplay):
    """Result of :func:`logrank_test`.

    Attributes
    ----------
    statistic, df, pvalue : float, int, float
        Chi-square statistic, its degrees of freedom and p-value (the trend
        test has 1 df).
    table : DataFrame
        Per group: ``group``, ``n``, ``observed``, ``expected`` (summed over
        strata; weighted when ``rho != 0``), ``o_minus_e``, ``oe2_over_e``,
        ``oe2_over_v``.
    variance : DataFrame
        Variance matrix of ``observed - expected`` (groups x groups).
    trend : bool
        Whether the 1-df trend test was asked (with ``scores``).
    """

    statistic: float
    df: int
    pvalue: float
    table: pd.DataFrame
    variance: pd.DataFrame
    rho: float = 0.0
    trend: bool = False
    scores: tuple = ()
    strata: str | None = None
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _title(self) -> str:
        kind = "trend test" if self.trend else ("log-rank test" if self.rho == 0 else f"G-rho test (rho={self.rho:g})")
        strat = f", stratified by {self.strata}" if self.strata else ""
        return f"{kind}{strat}: chi2 = {self.statistic:.4g} on {self.df} df, p = {self.pvalue:.4g}"

    def _notes(self) -> list[str]:
        return [f"{len(self.excluded)} patient(s) excluded for missing values."] if len(self.excluded) else []


def _stratum_sums(time, event, labels, k, rho):
    """Weighted O, E and Var(O - E) of one stratum (survdiff2.c)."""
    utime, inv = np.unique(time, return_inverse=True)
    m = utime.size
    d_g = np.zeros((m, k))
    c_g = np.zeros((m, k))
    np.add.at(d_g, (inv, labels), event)
    np.add.at(c_g, (inv, labels), 1.0)
    n_g = c_g[::-1].cumsum(axis=0)[::-1]  # at risk per group at each time
    n = n_g.sum(axis=1)
    d = d_g.sum(axis=1)
    if rho != 0:
        km = np.cumprod(1.0 - d / n)
        w = np.concatenate([[1.0], km[:-1]]) ** rho  # pooled KM just before t
    else:
        w = np.ones(m)
    obs = (w[:, None] * d_g).sum(axis=0)
    p = n_g / n[:, None]
    exp = (w * d)[:, None] * p
    with np.errstate(divide="ignore", invalid="ignore"):
        kt = np.where(n > 1, w**2 * d * (n - d) / (n * (n - 1)), 0.0)
    # sum_t kt * n_j (delta_jk - n_k / n)
    var = np.einsum("t,tj->j", kt, n_g) * np.eye(k) - np.einsum("t,tj,tk->jk", kt, n_g, p)
    return obs, exp.sum(axis=0), var


@check_params(
    trend=Instance(bool, name="True or False"),
    rho=Interval(0, None),
    missing=MISSING,
    strata=OPTIONAL_COLUMNS,
    scores=(Options(None), Instance(list, tuple, np.ndarray, name="a list of group scores")),
)
def logrank_test(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str,
    *,
    strata: str | Sequence[str] | None = None,
    trend: bool = False,
    scores: Sequence[float] | None = None,
    rho: float = 0.0,
    missing: str = "drop",
) -> LogrankResult:
    """Log-rank test of equal survival across k groups.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
        Follow-up time and event indicator (1 event, 0 censored).
    group : str
        Grouping column; ordered by category order if categorical, else sorted.
    strata : str or list of str, optional
        Stratification columns, as ``survdiff(... + strata(s))``: O, E and the
        variance are summed over strata.
    trend : bool
        Test for a trend over ordered groups instead of heterogeneity:
        ``chi2 = (s'(O - E))^2 / (s' V s)`` on 1 df.
    scores : sequence of float, optional
        Group scores for the trend test, in group order (default 1..k).
    rho : float
        Fleming-Harrington G-rho weight ``S(t-)^rho`` (0: log-rank, 1:
        Peto-Peto), as ``survdiff(rho=)``.
    missing : {"drop", "raise"}
        Handling of incomplete rows.

    Returns
    -------
    LogrankResult

    Notes
    -----
    Mantel (1966); Peto & Peto (1972); Harrington & Fleming (1982),
    *Biometrika* 69:553.  Heterogeneity statistic as R ``survdiff``: the
    first group (of those with expected > 0) is dropped before solving.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 1, 1, 0, 1], "g": list("aababb")})
    >>> round(logrank_test(df, "t", "e", "g").statistic, 4)
    2.5567
    """
    caller = "logrank_test"
    strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
    kept, excluded = complete_cases(
        data, [duration, event, group, *strata_cols], missing=missing, numeric=[duration, event], caller=caller
    )
    ids = row_ids(kept)
    time = pd.to_numeric(kept[duration]).to_numpy(dtype=float)
    check_durations(time, duration, caller, ids)
    ev = event_indicator(kept[event], event, caller, ids)
    levels = group_levels(kept[group])
    k = len(levels)
    if k < 2:
        raise InputError(f"{caller}: {k} group(s) among complete rows; at least 2 are needed.", column=group)
    labels = pd.Categorical(kept[group], categories=levels).codes
    obs, exp, var = _sums(time, ev, labels, _stratum_codes(kept, strata_cols), k, rho)
    stat, df, s = _statistic(obs - exp, exp, var, levels, trend, scores, caller)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "group": levels,
                "n": np.bincount(labels, minlength=k),
                "observed": obs,
                "expected": exp,
                "o_minus_e": obs - exp,
                "oe2_over_e": (obs - exp) ** 2 / exp,
                "oe2_over_v": (obs - exp) ** 2 / np.diag(var),
            }
        )
    return LogrankResult(
        statistic=stat,
        df=int(df),
        pvalue=float(stats.chi2.sf(stat, df)) if df >= 1 else 1.0,
        table=table,
        variance=pd.DataFrame(var, index=levels, columns=levels),
        rho=rho,
        trend=trend,
        scores=tuple(s.tolist()),
        strata=", ".join(strata_cols) or None,
        excluded=excluded,
    )


def _stratum_codes(kept: pd.DataFrame, strata_cols: list[str]) -> np.ndarray:
    """One code per combination of the strata columns (all 0 without strata)."""
    if not strata_cols:
        return np.zeros(len(kept), dtype=int)
    cols = kept[strata_cols]
    skey = pd.MultiIndex.from_frame(cols).to_flat_index() if len(strata_cols) > 1 else cols.iloc[:, 0]
    return pd.factorize(pd.Series(list(skey), index=kept.index))[0]


def _sums(time, ev, labels, scodes, k: int, rho: float):
    """Observed, expected and the variance matrix, summed over strata."""
    obs, exp, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    for s in np.unique(scodes):
        sel = scodes == s
        o, e, v = _stratum_sums(time[sel], ev[sel], labels[sel], k, rho)
        obs += o
        exp += e
        var += v
    return obs, exp, var


def _statistic(diff, exp, var, levels, trend: bool, scores, caller: str):
    """``(chi-square, df, scores)``: the k-sample test, or the test for trend with ``scores``."""
    k = len(levels)
    if trend:
        s = np.arange(1.0, k + 1) if scores is None else np.asarray(scores, dtype=float)
        if s.shape != (k,):
            raise ParameterError(f"{caller}: scores must have one value per group ({k}: {levels}), got {len(s)}.")
        return float((s @ diff) ** 2 / (s @ var @ s)), 1, s
    use = np.flatnonzero(exp > 0)
    df = use.size - 1
    if df < 1:
        return 0.0, df, np.array([])
    idx = use[1:]
    return float(diff[idx] @ np.linalg.solve(var[np.ix_(idx, idx)], diff[idx])), df, np.array([])
