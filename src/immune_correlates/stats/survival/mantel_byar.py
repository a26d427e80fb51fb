"""Mantel-Byar test and Simon-Makuch curves for a group that patients join during follow-up.

Both count, at every event time, the patients at risk in each group *at that
time*: a patient who responds at month 4 is a non-responder on ``(0, 4]`` and
a responder afterwards.  The Mantel-Byar statistic is the log-rank statistic
(hypergeometric expectation and variance at each event time) on these
time-updated risk sets; with nobody switching it is the ordinary log-rank
test (``survdiff``), and it equals the score test of a Cox model with the
time-dependent group under exact partial likelihood.  The Simon-Makuch
estimate is the product-limit estimate per group on the same risk sets.

References
----------
Mantel N, Byar DP (1974). Evaluation of response-time data involving
transient states: an illustration using heart-transplant data. *JASA*
69:81-86.
Simon R, Makuch RW (1984). A non-parametric graphical representation of the
relationship between survival and the occurrence of an event: application
to responder versus non-responder bias. *Stat Med* 3:35-44.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import COLUMN, OPTIONAL_COLUMN, Interval, check_params
from ..._results import TabledTestDisplay
from ...errors import ImmuneCorrelatesError
from .time_dependent import split_at

__all__ = ["MantelByarResult", "counting_rows", "group_at_risk", "mantel_byar", "risk_table", "simon_makuch"]


def risk_table(start: np.ndarray, stop: np.ndarray, event: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """At every event time ``t``: rows at risk (``start < t <= stop``) and events per group 0/1.

    Columns ``time``, ``n0``, ``d0``, ``n1``, ``d1``.  Cumulative counts
    over the sorted starts and stops, ``O(n log n)``.
    """
    times = np.unique(stop[event > 0])
    out = {"time": times}
    for g in (0, 1):
        sel = group == g
        st, sp = np.sort(start[sel]), np.sort(stop[sel])
        # at risk at t: stop >= t minus start >= t
        out[f"n{g}"] = (sp.size - np.searchsorted(sp, times, side="left")) - (
            st.size - np.searchsorted(st, times, side="left")
        )
        d = stop[sel & (event > 0)]
        out[f"d{g}"] = np.searchsorted(np.sort(d), times, side="right") - np.searchsorted(
            np.sort(d), times, side="left"
        )
    return pd.DataFrame(out)[["time", "n0", "d0", "n1", "d1"]]


def group_at_risk(start: np.ndarray, stop: np.ndarray, group: np.ndarray, times, origin: float = 0.0) -> np.ndarray:
    """(2, len(times)) patients in group 0 / 1 at each time: ``start < t <= stop`` (``start <= t < stop`` at ``origin``)."""
    times = np.asarray(times, dtype=float)
    out = np.zeros((2, times.size), dtype=np.int64)
    for g in (0, 1):
        sel = group == g
        st, sp = start[sel][:, None], stop[sel][:, None]
        later = (st < times) & (times <= sp)
        at0 = (st <= times) & (times < sp)
        out[g] = np.where(times <= origin, at0.sum(axis=0), later.sum(axis=0))
    return out


@dataclass(frozen=True, repr=False)
class MantelByarResult(TabledTestDisplay):
    """Result of :func:`mantel_byar`.

    Attributes
    ----------
    statistic, df, pvalue : float, int, float
        ``(O1 - E1)^2 / V`` on 1 df.
    observed, expected, variance : float
        Events in the time-dependent group (after switching), their
        expectation and the variance of ``O1 - E1``.
    table : DataFrame
        Per group (``before`` / ``after`` the switch): events, expected
        events, person-time.
    risk : DataFrame
        Numbers at risk and events per group at every event time.
    """

    statistic: float
    df: int
    pvalue: float
    observed: float
    expected: float
    variance: float
    table: pd.DataFrame
    risk: pd.DataFrame
    group: str = "responded"
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _title(self) -> str:
        return (
            f"Mantel-Byar test of time-dependent {self.group!r}: chi2 = {self.statistic:.4g} on 1 df, "
            f"p = {self.pvalue:.4g}"
        )

    def _notes(self) -> list[str]:
        return ["Patients count in the group only from the time they join it (Mantel & Byar 1974)."]


def counting_rows(data, duration, event, switch, id, entry, group):
    """Counting-process arrays ``start, stop, event, group`` from per-patient or split data."""
    if entry is not None:
        for col in (entry, duration, event, group):
            if col not in data.columns:
                raise ImmuneCorrelatesError(f"mantel_byar: column {col!r} is not in the data.")
        rows = data
        return (
            pd.to_numeric(rows[entry]).to_numpy(float),
            pd.to_numeric(rows[duration]).to_numpy(float),
            pd.to_numeric(rows[event]).to_numpy(float),
            pd.to_numeric(rows[group]).to_numpy(float),
            pd.DataFrame(),
        )
    if switch is None:
        raise ImmuneCorrelatesError(
            "mantel_byar: give switch= (the column of times patients join the group, "
            "e.g. 'response_months'), or entry= and group= for counting-process rows."
        )
    rows = split_at(data, duration, event, {group: switch}, id=id)
    return (
        rows["start"].to_numpy(float),
        rows["stop"].to_numpy(float),
        rows[event].to_numpy(float),
        rows[group].to_numpy(float),
        pd.DataFrame(),
    )


@check_params(
    id=OPTIONAL_COLUMN,
    group=COLUMN,
    entry=OPTIONAL_COLUMN,
)
def mantel_byar(
    data: pd.DataFrame,
    duration: str,
    event: str,
    switch: str | None = "response_months",
    *,
    id: str | None = "patient_id",
    group: str = "responded",
    entry: str | None = None,
) -> MantelByarResult:
    """Mantel-Byar test: does the hazard differ once patients join a group (e.g. respond)?

    Parameters
    ----------
    data : DataFrame
        One row per patient with ``switch`` (the time the patient joins the
        group; missing = never), or counting-process rows (give ``entry=``
        and a 0/1 ``group`` column, e.g. from :func:`split_at`).
    duration, event : str
        Follow-up time (the ``stop`` column for counting-process rows) and
        0/1 event.
    switch : str, optional
        Column of switching times (default ``"response_months"``).
    id : str, optional
        Patient id column.
    group : str
        Name of the time-dependent 0/1 group (the column of counting-process rows).
    entry : str, optional
        Start column of counting-process rows.

    Returns
    -------
    MantelByarResult

    References
    ----------
    Mantel N, Byar DP (1974). *JASA* 69:81-86.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"patient_id": range(6), "pfs_months": [2.0, 4, 6, 8, 10, 12],
    ...                    "pfs_event": [1, 1, 0, 1, 1, 0], "response_months": [np.nan, 1, 2, np.nan, 3, 5]})
    >>> res = mantel_byar(df, "pfs_months", "pfs_event")
    >>> round(res.statistic, 4), res.df
    (0.3124, 1)
    """
    start, stop, ev, grp, excluded = counting_rows(data, duration, event, switch, id, entry, group)
    if not np.isin(grp, (0.0, 1.0)).all():
        raise ImmuneCorrelatesError(f"mantel_byar: group column {group!r} must be 0/1.")
    tab = risk_table(start, stop, ev, grp)
    n0, n1 = tab["n0"].to_numpy(float), tab["n1"].to_numpy(float)
    d0, d1 = tab["d0"].to_numpy(float), tab["d1"].to_numpy(float)
    n, d = n0 + n1, d0 + d1
    e1 = d * n1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1), 0.0)
    o1, ex1, var = float(d1.sum()), float(e1.sum()), float(v.sum())
    if var <= 0:
        raise ImmuneCorrelatesError(
            f"mantel_byar: the variance is 0 (no event time has patients at risk in both groups of {group!r}); "
            "the test is undefined."
        )
    stat = (o1 - ex1) ** 2 / var
    table = pd.DataFrame(
        {
            "group": [f"before {group}", f"after {group}"],
            "observed": [float(d0.sum()), o1],
            "expected": [float((d - e1).sum()), ex1],
            "person_time": [float(np.sum((stop - start)[grp == 0])), float(np.sum((stop - start)[grp == 1]))],
        }
    )
    return MantelByarResult(
        statistic=float(stat),
        df=1,
        pvalue=float(stats.chi2.sf(stat, 1)),
        observed=o1,
        expected=ex1,
        variance=var,
        table=table,
        risk=tab,
        group=group,
        excluded=excluded,
    )


@check_params(
    id=OPTIONAL_COLUMN,
    group=COLUMN,
    start_at=Interval(0, None),
)
def simon_makuch(
    data: pd.DataFrame,
    duration: str,
    event: str,
    switch: str = "response_months",
    *,
    id: str | None = "patient_id",
    group: str = "responded",
    start_at: float = 0.0,
) -> pd.DataFrame:
    """Simon-Makuch survival curves of a group patients join during follow-up.

    The product-limit estimate of each group, ``prod (1 - d_g(t) / n_g(t))``
    over event times ``t > start_at``, with ``n_g(t)`` the patients in group
    ``g`` at time ``t`` (a responder counts as a non-responder until the
    response).  Curves are usually started at a landmark (``start_at``), by
    which some patients have joined the group.

    Returns
    -------
    DataFrame
        ``group`` (0/1), ``time``, ``n_at_risk``, ``n_events``, ``survival``;
        the first row of each group is ``start_at`` with survival 1.

    References
    ----------
    Simon R, Makuch RW (1984). *Stat Med* 3:35-44.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"patient_id": range(6), "pfs_months": [2.0, 4, 6, 8, 10, 12],
    ...                    "pfs_event": [1, 1, 0, 1, 1, 0], "response_months": [np.nan, 1, 2, np.nan, 3, 5]})
    >>> simon_makuch(df, "pfs_months", "pfs_event").query("group == 1")["survival"].round(3).tolist()
    [1.0, 1.0, 0.667, 0.667, 0.333]
    """
    start, stop, ev, grp, _ = counting_rows(data, duration, event, switch, id, None, group)
    tab = risk_table(start, stop, ev, grp)
    tab = tab[tab["time"] > start_at]
    parts = []
    for g in (0, 1):
        nr, de = tab[f"n{g}"].to_numpy(float), tab[f"d{g}"].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            surv = np.cumprod(np.where(nr > 0, 1.0 - de / nr, 1.0))
        n_start = int(np.sum((grp == g) & (start <= start_at) & (stop > start_at)))
        parts.append(
            pd.DataFrame(
                {
                    "group": g,
                    "time": np.r_[start_at, tab["time"].to_numpy()],
                    "n_at_risk": np.r_[n_start, nr].astype(int),
                    "n_events": np.r_[0, de].astype(int),
                    "survival": np.r_[1.0, surv],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
