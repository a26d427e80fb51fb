"""Measured values as time-dependent covariates: each sample's value holds until the next one.

"Does the NK count at C3D1 predict progression afterwards?" cannot be answered by a Cox
model of progression from day 0 on the C3D1 value: a patient has a C3D1 value only by
staying on study until C3D1, which credits the value with time it did not earn
(guarantee-time bias; Anderson, Cain & Gelber 1983).  The honest model lets the covariate
*change* at each sample: follow-up is cut into counting-process rows ``(start, stop]`` at
every sample time, and each row carries the last value measured at or before its start,
exactly as R's ``tmerge(data1, data2, id, v = tdc(time, value))`` builds them; fit them with
``fit_cox(rows, "stop", event, [...], entry="start", cluster="patient_id")``.

References
----------
Therneau T, Crowson C, Atkinson E (2023). Using time dependent covariates and time
dependent coefficients in the Cox model. R survival package vignette.
Anderson JR, Cain KC, Gelber RD (1983). Analysis of survival by tumor response.
*J Clin Oncol* 1:710-719.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..._checks import numeric_column, require_columns
from ..._params import MISSING, Instance, check_params
from ...errors import MAX_LISTED, ImmuneCorrelatesError, plain
from .time_dependent import _survival

__all__ = ["time_varying"]


def _values(samples: pd.DataFrame, values, id: str, time: str, caller: str) -> dict[str, str]:
    names = {values: values} if isinstance(values, str) else dict(values) if isinstance(values, Mapping) else None
    if names is None:
        names = {v: v for v in values}
    if not names:
        raise ImmuneCorrelatesError(f"{caller}: name the measured columns, e.g. values=['nk_per_ul'].")
    require_columns(samples, [id, time, *dict.fromkeys(names.values())], caller)
    return names


@check_params(
    time=Instance(str, name="a column name"),
    id=Instance(str, name="a column name"),
    start=Instance(str, name="a column name"),
    stop=Instance(str, name="a column name"),
    missing=MISSING,
)
def time_varying(
    data: pd.DataFrame,
    duration: str,
    event: str,
    samples: pd.DataFrame,
    values: str | Sequence[str] | Mapping[str, str],
    *,
    time: str = "day",
    id: str = "patient_id",
    start: str = "start",
    stop: str = "stop",
    missing: str = "drop",
) -> pd.DataFrame:
    """Counting-process rows whose covariates take each sample's value from its time on, as ``tmerge(tdc())``.

    Parameters
    ----------
    data : DataFrame
        One row per patient with follow-up ``duration`` (> 0) and 0/1 ``event``, e.g.
        ``ic.analysis_frame(cohort)`` with ``pfs_days``.
    duration, event : str
        Follow-up time from the start of treatment and event indicator.
    samples : DataFrame
        Repeated measurements: ``id``, ``time`` and the value columns, e.g.
        ``ic.longitudinal_frame(cohort)``.  ``time`` must be on ``duration``'s scale
        (days with ``pfs_days``).
    values : str, sequence of str or mapping
        Columns of ``samples`` to carry forward (a mapping new name -> column renames them).
    time : str
        Sample time column.
    id : str
        Patient id column of both tables (``data``'s index when it is not a column).
    start, stop : str
        Names of the interval columns.
    missing : {"drop", "raise"}
        Patients with a missing ``duration`` or ``event``.

    Returns
    -------
    DataFrame
        ``data``'s columns (``duration`` replaced by ``start`` and ``stop``) and one column
        per value, one row per interval, sorted by patient and ``start``.  Follow-up is cut
        at every sample time strictly inside it; a row carries the last non-missing value
        measured at or before its ``start`` (a sample at or before time 0 applies from the
        start; before a patient's first sample the value is NaN, and those rows are left
        out of a Cox fit and listed there).  A sample at or after the end of follow-up
        changes nothing.  Two samples at one time: the later row wins.
        ``attrs["unmatched"]`` lists sample ids that ``data`` does not have.

    References
    ----------
    Therneau TM, Grambsch PM (2000). *Modeling Survival Data*, sec. 3.7; R ``survival::tmerge``.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"patient_id": ["P1", "P2"], "pfs_days": [300.0, 40.0], "pfs_event": [1, 0]})
    >>> labs = pd.DataFrame({"patient_id": ["P1", "P1", "P2"], "day": [0, 56, 0],
    ...                      "nk_per_ul": [200.0, 450.0, 300.0]})
    >>> rows = time_varying(pts, "pfs_days", "pfs_event", labs, "nk_per_ul")
    >>> print(rows.to_string(index=False))
    patient_id  start  stop  pfs_event  nk_per_ul
            P1    0.0  56.0          0      200.0
            P1   56.0 300.0          1      450.0
            P2    0.0  40.0          0      300.0
    """
    caller = "time_varying"
    names = _values(samples, values, id, time, caller)
    rows, _, ids, follow, status = _survival(data, duration, event, id, caller, missing)
    if ids.duplicated().any():
        dup = sorted({plain(v) for v in ids[ids.duplicated()]})[:MAX_LISTED]
        raise ImmuneCorrelatesError(f"{caller}: id {dup} appear more than once in data; one row per patient.")
    if (follow <= 0).any():
        listing = ", ".join(str(plain(v)) for v in ids[follow <= 0][:MAX_LISTED])
        raise ImmuneCorrelatesError(f"{caller}: {duration!r} is 0 for {listing}; an interval needs stop > 0.")
    clash = sorted({start, stop, *names} & (set(rows.columns) - {duration}))
    if clash:
        raise ImmuneCorrelatesError(
            f"{caller}: columns {clash} already exist in data; rename them (values={{'new_name': column}})."
        )
    sid = samples[id].astype(str)
    t = pd.Series(numeric_column(samples[time], time, caller, sid), index=samples.index)
    key = ids.astype(str).to_numpy()
    pos = pd.Series(np.arange(len(key)), index=key)
    known = sid.isin(pos.index).to_numpy() & t.notna().to_numpy()
    obs = pd.DataFrame(
        {"who": pos.reindex(sid[known]).to_numpy(), "t": t[known].to_numpy(), "order": np.arange(known.sum())}
    )
    for new, col in names.items():
        obs[new] = numeric_column(samples.loc[known, col], col, caller, sid[known])
    cuts = _cuts(obs, names, follow)
    out = _expand(rows, duration, event, cuts, follow, status, ids, id, start, stop)
    who = np.repeat(np.arange(len(cuts)), [len(c) - 1 for c in cuts])
    lo = out[start].to_numpy()
    for new in names:
        out[new] = _carried(obs, new, who, lo)
    out.attrs["unmatched"] = sorted(set(sid[~sid.isin(pos.index)]))
    return out


def _cuts(obs: pd.DataFrame, names, follow: np.ndarray) -> list[np.ndarray]:
    """Interval bounds per patient: 0, every sample time with a value strictly inside (0, duration), duration."""
    has = obs[list(names)].notna().any(axis=1).to_numpy()
    inner = obs.loc[has & (obs["t"] > 0).to_numpy() & (obs["t"].to_numpy() < follow[obs["who"].to_numpy()])]
    by = inner.groupby("who")["t"].unique()
    return [np.r_[0.0, np.sort(by.get(i, np.array([]))), follow[i]] for i in range(len(follow))]


def _expand(rows, duration, event, cuts, follow, status, ids, id, start, stop) -> pd.DataFrame:
    n_rows = np.array([len(c) - 1 for c in cuts])
    who = np.repeat(np.arange(len(cuts)), n_rows)
    lo = np.concatenate([c[:-1] for c in cuts])
    hi = np.concatenate([c[1:] for c in cuts])
    out = rows.drop(columns=[duration]).iloc[who].reset_index(drop=True)
    if id is not None and id not in out.columns:
        out.insert(0, id, ids.to_numpy()[who])
    last = hi == follow[who]
    ev = np.where(last, status[who], 0.0)
    out[event] = ev.astype(rows[event].dtype) if rows[event].dtype.kind in "iub" else ev
    out.insert(out.columns.get_loc(event), start, lo)
    out.insert(out.columns.get_loc(event), stop, hi)
    return out


def _carried(obs: pd.DataFrame, name: str, who: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """The last non-missing value of each patient measured at or before each row's start."""
    have = obs.loc[obs[name].notna(), ["who", "t", "order", name]].sort_values(["who", "t", "order"], kind="stable")
    have = have.drop_duplicates(["who", "t"], keep="last")  # two samples at one time: the later row wins
    out = np.full(len(who), np.nan)
    for i, group in have.groupby("who", sort=False):
        sel = np.flatnonzero(who == i)
        k = np.searchsorted(group["t"].to_numpy(), lo[sel], side="right") - 1
        vals = group[name].to_numpy()
        out[sel] = np.where(k >= 0, vals[np.maximum(k, 0)], np.nan)
    return out
