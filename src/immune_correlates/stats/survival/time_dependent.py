"""Response over time: counting-process rows (:func:`split_at`) and landmark analyses.

Response is only known once it happens, so comparing survival of responders
and non-responders as if response were a baseline group credits responders
with the time they had to survive to respond (guarantee-time bias; Anderson,
Cain & Gelber 1983).  Two honest analyses:

* a **time-dependent covariate**: :func:`split_at` cuts each patient's
  follow-up at the response time into counting-process rows ``(start, stop]``
  whose 0/1 column switches on at response, as R's ``tmerge(..., tdc())``;
  fit them with ``fit_cox(..., entry="start", cluster=id)`` or test with
  :func:`~immune_correlates.stats.survival.mantel_byar.mantel_byar`;
* a **landmark** analysis (:func:`landmark`, :func:`landmark_sweep`): keep the
  patients still event-free at a fixed time, classify them by their status
  at that time, and count time from it.

References
----------
Anderson JR, Cain KC, Gelber RD (1983). Analysis of survival by tumor
response. *J Clin Oncol* 1:710-719.
Therneau T, Crowson C, Atkinson E (2023). Using time dependent covariates
and time dependent coefficients in the Cox model. survival package vignette.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..._checks import check_durations, event_indicator, optional_times, require_columns
from ..._missing import complete_cases, row_ids
from ..._params import (
    ALPHA,
    CI,
    COLUMN,
    COLUMNS,
    METHOD,
    MISSING,
    OPTIONAL_COLUMN,
    Interval,
    Options,
    check_params,
)
from ...errors import MAX_LISTED, ImmuneCorrelatesError, plain

__all__ = ["landmark", "landmark_sweep", "split_at"]


def _times(rows: pd.DataFrame, times: Mapping[str, str], caller: str, ids: pd.Series) -> dict[str, np.ndarray]:
    if not isinstance(times, Mapping) or not times:
        raise ImmuneCorrelatesError(
            f"{caller}: times must map new 0/1 column names to time columns, e.g. "
            "times={'responded': 'response_months'}."
        )
    out = {}
    for name, col in times.items():
        if col not in rows.columns:
            raise ImmuneCorrelatesError(f"{caller}: time column {col!r} (for {name!r}) is not in the data.")
        arr = optional_times(rows[col], col, caller, ids)
        out[name] = arr
    return out


def _survival(data, duration, event, id, caller, missing):
    require_columns(data, [duration, event], caller)
    rows, excluded = complete_cases(data, [duration, event], missing=missing, numeric=[duration, event], caller=caller)
    ids = (
        rows[id].reset_index(drop=True)
        if id is not None and id in rows.columns
        else row_ids(rows).reset_index(drop=True)
    )
    time = pd.to_numeric(rows[duration], errors="coerce").to_numpy(float)
    check_durations(time, duration, caller, ids)
    status = event_indicator(rows[event], event, caller, ids)
    return rows, excluded, ids, time, status


@check_params(
    id=OPTIONAL_COLUMN,
    start=COLUMN,
    stop=COLUMN,
    missing=MISSING,
)
def split_at(
    data: pd.DataFrame,
    duration: str,
    event: str,
    times: Mapping[str, str],
    *,
    id: str | None = "patient_id",
    start: str = "start",
    stop: str = "stop",
    missing: str = "drop",
) -> pd.DataFrame:
    """Counting-process rows with 0/1 columns switching on at given times, as R's ``tmerge``.

    Each patient's follow-up ``(0, duration]`` is cut at every named time
    that falls strictly inside it.  The rows keep every column of ``data``
    except ``duration`` (replaced by ``start`` and ``stop``); the event
    column keeps its name and is 1 only on the last row of a patient who had
    the event; each key of ``times`` becomes a 0/1 column, 1 on the rows after
    that time.  A time at or after the end of follow-up does not split (the
    column stays 0: the patient had not responded while under observation);
    a time at or before 0 sets the column to 1 from the start; a missing time
    means never.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
        Follow-up time (> 0) and 0/1 event indicator.
    times : mapping of str to str
        New column name -> column holding the time it switches on, e.g.
        ``{"responded": "response_months"}``.
    id : str, optional
        Patient id column (must be unique); default ``"patient_id"``.  When
        the ids are the index (as in ``analysis_frame``), the rows get them
        as a column of this name.
    start, stop : str
        Names of the interval columns.
    missing : {"drop", "raise"}
        Rows with a missing duration or event (listed in a warning).

    Returns
    -------
    DataFrame
        Counting-process rows, sorted by patient then ``start``; fit them
        with ``fit_cox(rows, stop, event, [...], entry=start, cluster=id)``.

    References
    ----------
    Therneau TM, Grambsch PM (2000). *Modeling Survival Data*, sec. 3.7.
    R ``survival::tmerge`` with ``tdc()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P2"], "pfs_months": [10.0, 4.0],
    ...                    "pfs_event": [1, 0], "response_months": [3.0, np.nan]})
    >>> rows = split_at(df, "pfs_months", "pfs_event", {"responded": "response_months"})
    >>> print(rows[["patient_id", "start", "stop", "pfs_event", "responded"]].to_string(index=False))
    patient_id  start  stop  pfs_event  responded
            P1    0.0   3.0          0          0
            P1    3.0  10.0          1          1
            P2    0.0   4.0          0          0
    """
    caller = "split_at"
    rows, _, ids, time, status = _survival(data, duration, event, id, caller, missing)
    if id is not None and ids.duplicated().any():
        dup = sorted({plain(v) for v in ids[ids.duplicated()]})[:MAX_LISTED]
        raise ImmuneCorrelatesError(
            f"{caller}: id column {id!r} has repeated values {dup}; split_at needs one row per patient."
        )
    zero = time <= 0
    if zero.any():
        listing = ", ".join(str(plain(v)) for v in ids[zero][:MAX_LISTED])
        raise ImmuneCorrelatesError(
            f"{caller}: {duration!r} is 0 for {listing}; a counting-process row (start, stop] needs stop > 0. "
            "Drop these patients or give them a small positive time (R users add e.g. 0.5 day), then call again."
        )
    clash = sorted({start, stop, *times} & (set(rows.columns) - {duration}))
    if clash:
        raise ImmuneCorrelatesError(
            f"{caller}: columns {clash} already exist; choose other names (start=, stop=, or the keys of times=)."
        )
    tv = _times(rows, times, caller, ids)
    n = len(rows)
    cut = np.column_stack([np.where((t > 0) & (t < time), t, np.nan) for t in tv.values()])
    cut = np.sort(cut, axis=1)
    repeated = np.zeros_like(cut, dtype=bool)
    repeated[:, 1:] = cut[:, 1:] == cut[:, :-1]
    cut = np.sort(np.where(repeated, np.nan, cut), axis=1)
    n_cut = np.sum(~np.isnan(cut), axis=1)
    bounds = np.column_stack([np.zeros(n), cut, np.full(n, np.nan)])
    bounds[np.arange(n), n_cut + 1] = time
    rep = n_cut + 1
    who = np.repeat(np.arange(n), rep)
    k = np.arange(who.size) - np.repeat(np.cumsum(rep) - rep, rep)
    lo, hi = bounds[who, k], bounds[who, k + 1]
    out = rows.drop(columns=[duration]).iloc[who].reset_index(drop=True)
    if id is not None and id not in out.columns:  # ids from the index (analysis_frame): keep them as a column
        out.insert(0, id, ids.to_numpy()[who])
    ev = np.where(k == n_cut[who], status[who], 0.0)
    out[event] = ev.astype(rows[event].dtype) if rows[event].dtype.kind in "iub" else ev
    out.insert(out.columns.get_loc(event), start, lo)
    out.insert(out.columns.get_loc(event), stop, hi)
    for name, t in tv.items():
        tw = t[who]
        out[name] = (~np.isnan(tw) & (tw <= lo)).astype(np.int64)
    return out


@check_params(
    landmark=Interval(0, None),
    id=OPTIONAL_COLUMN,
    missing=MISSING,
)
def landmark(
    data: pd.DataFrame,
    duration: str,
    event: str,
    landmark: float,
    status: Mapping[str, str] | None = None,
    *,
    id: str | None = "patient_id",
    missing: str = "drop",
) -> pd.DataFrame:
    """Patients still event-free and under follow-up at ``landmark``, times counted from it.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
        Follow-up time and 0/1 event from baseline.
    landmark : float
        The landmark time (same units as ``duration``), fixed in advance.
    status : mapping of str to str, optional
        New 0/1 column -> time column: 1 if the time is at or before the
        landmark (e.g. ``{"responded": "response_months"}``: responded by the
        landmark; a missing time means not).  Responses after the landmark
        are ignored: that is the point of the method.
    id : str, optional
        Patient id column used in the listing of left-out patients.
    missing : {"drop", "raise"}

    Returns
    -------
    DataFrame
        The patients with ``duration > landmark``; ``duration`` now counts
        from the landmark.  ``attrs["excluded"]`` lists the others with the
        reason (event or censoring at or before the landmark), and
        ``attrs["landmark"]`` the landmark.

    References
    ----------
    Anderson JR, Cain KC, Gelber RD (1983). *J Clin Oncol* 1:710-719.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "pfs_months": [10.0, 2.0, 8.0],
    ...                    "pfs_event": [1, 1, 0], "response_months": [2.5, None, 5.0]})
    >>> lm = landmark(df, "pfs_months", "pfs_event", 3.0, {"responded": "response_months"})
    >>> print(lm[["patient_id", "pfs_months", "responded"]].to_string(index=False))
    patient_id  pfs_months  responded
            P1         7.0          1
            P3         5.0          0
    >>> lm.attrs["excluded"]["reason"].tolist()
    ['event at or before the landmark (3)']
    """
    caller = "landmark"
    lm = float(landmark)  # declared: a number >= 0
    rows, excluded, ids, time, ev = _survival(data, duration, event, id, caller, missing)
    tv = _times(rows, status or {}, caller, ids) if status else {}
    keep = time > lm
    reason = np.where(
        ev[~keep] > 0, f"event at or before the landmark ({lm:g})", f"censored at or before the landmark ({lm:g})"
    )
    gone = pd.DataFrame({"patient_id": ids[~keep].to_numpy(), "reason": reason})
    out = rows.loc[keep].copy()
    out[duration] = time[keep] - lm
    for name, t in tv.items():
        if name in out.columns:
            raise ImmuneCorrelatesError(f"{caller}: column {name!r} already exists; choose another name.")
        out[name] = (~np.isnan(t[keep]) & (t[keep] <= lm)).astype(np.int64)
    out.attrs["excluded"] = pd.concat([excluded, gone], ignore_index=True) if len(excluded) else gone
    out.attrs["landmark"] = lm
    return out


@check_params(
    covariates=COLUMNS,
    method=METHOD,
    ties=Options("efron", "breslow"),
    id=OPTIONAL_COLUMN,
    alpha=ALPHA,
    ci=CI,
)
def landmark_sweep(
    data: pd.DataFrame,
    duration: str,
    event: str,
    landmarks: Sequence[float],
    status: Mapping[str, str],
    *,
    covariates: Sequence[str] = (),
    method: str = "ml",
    ties: str = "efron",
    id: str | None = "patient_id",
    alpha: float = 0.05,
    ci: str = "profile",
) -> pd.DataFrame:
    """Hazard ratio of a landmark status across landmark times, with numbers at risk.

    For each landmark a Cox model of the time from the landmark on the
    status at the landmark (the first key of ``status``) and ``covariates``
    is fitted on :func:`landmark`'s patients.  A stable hazard ratio across
    landmarks supports the analysis; a drifting one shows how much the
    choice of landmark matters.

    Parameters
    ----------
    data, duration, event : as :func:`landmark`
    landmarks : sequence of float
    status : mapping of str to str
        As :func:`landmark`; the first entry is the group compared.
    covariates : sequence of str
        Adjustment covariates.
    method : {"ml", "firth"}
        Firth keeps estimates finite when every event falls in one group.
    ties, alpha, ci : as :func:`~immune_correlates.stats.regression.cox.fit_cox`
        ``ci="profile"`` (default): profile-likelihood intervals with
        likelihood-ratio p-values; ``"wald"``: Wald intervals with Wald p-values.

    Returns
    -------
    DataFrame
        One row per landmark: ``landmark``, ``n_at_risk``, ``n_events``,
        ``n_status`` (patients with status 1), ``hazard_ratio``,
        ``ci_lower``, ``ci_upper``, ``p_value``, ``ci_method`` and ``test``
        (as the fit recorded them), ``note`` (why no estimate).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"patient_id": range(40), "pfs_months": rng.exponential(12, 40).round(1) + 0.1,
    ...                    "pfs_event": rng.integers(0, 2, 40),
    ...                    "response_months": np.where(rng.random(40) < 0.5, rng.uniform(1, 6, 40), np.nan)})
    >>> tab = landmark_sweep(df, "pfs_months", "pfs_event", [3, 6], {"responded": "response_months"})
    >>> tab[["landmark", "n_at_risk"]].values.tolist()
    [[3.0, 32.0], [6.0, 27.0]]
    """
    import warnings

    from ...errors import ModelError
    from ..regression.cox import fit_cox

    name = next(iter(status))
    out = []
    for lm in landmarks:
        frame = landmark(data, duration, event, lm, status, id=id)
        row = {
            "landmark": float(lm),
            "n_at_risk": len(frame),
            "n_events": int(frame[event].astype(float).sum()),
            "n_status": int(frame[name].sum()),
            "hazard_ratio": np.nan,
            "ci_lower": np.nan,
            "ci_upper": np.nan,
            "p_value": np.nan,
            "ci_method": ci,
            "test": "",
            "note": "",
        }
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fit = fit_cox(frame, duration, event, [name, *covariates], method=method, ties=ties, alpha=alpha, ci=ci)
            interval = fit.conf_int().loc[name]
            row.update(
                hazard_ratio=float(np.exp(fit.params[name])),
                ci_lower=float(np.exp(interval.iloc[0])),
                ci_upper=float(np.exp(interval.iloc[1])),
                p_value=float(fit.pvalues[name]),
                ci_method=fit.ci_method,
                test=fit.test,
                note="; ".join(str(w.message) for w in caught if "monotone" in str(w.message)),
            )
        except ModelError as e:
            row["note"] = str(e)
        out.append(row)
    return pd.DataFrame(out)
