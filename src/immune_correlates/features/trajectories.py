"""Patient-level summaries of a trajectory: change from baseline and per-patient slopes.

Both turn the long frame (:func:`~immune_correlates.longitudinal_frame`) into one row per
patient that joins the analysis frame, so the existing models (``fit_logistic``,
``fit_cox``, ``screen``) can use on-treatment change as a feature.

Mind the time they need: a change at C3D1 exists only for patients still on study at
C3D1, so it must not predict progression from day 0 (guarantee-time bias: Anderson, Cain &
Gelber 1983).  Use it from that day on: a landmark analysis at the visit
(:func:`~immune_correlates.landmark` with the ``day_<timepoint>`` column), or the values
themselves as time-varying covariates (:func:`~immune_correlates.time_varying`).  Slopes
use every sample up to ``until`` (a landmark day) for the same reason.

Counts and ratios change multiplicatively, so their change is a log2 fold change (1 =
doubled); percentages, indices and z-scores change by differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._checks import check_unique, require_columns
from .._params import COLUMNS, NUMBER, POSITIVE, Instance, Interval, Options, check_params
from ..data.endpoints import DAYS_PER_MONTH
from ..errors import DataQualityWarning, InputError, warn
from .labels import column_unit

__all__ = ["change_from_baseline", "trajectory_slopes", "log_scale"]

_LOG_UNITS = ("cells/µL", "")  # counts and ratios (the catalogue's "ratio" is shown without a unit)


#: How a change is measured: log2 ratio for counts and ratios ("auto"), or always one of the two.
SCALE = Options("auto", "log2", "difference")


def log_scale(feature: str) -> bool:
    """Whether a feature changes multiplicatively (counts, ratios): analysed as log2.

    Examples
    --------
    >>> log_scale("nk_per_ul"), log_scale("cd4_cd8_ratio"), log_scale("t_function_score"), log_scale("pd1_pct_of_cd8")
    (True, True, False, False)
    """
    name = str(feature)
    if name.endswith(("_per_ul", "_ratio")):
        return True
    return column_unit(name) == "cells/µL"


def _check(data: pd.DataFrame, features, columns: Sequence[str], caller: str) -> list[str]:
    names = [features] if isinstance(features, str) else list(features)
    require_columns(data, [*columns, *names], caller)  # the long frame of ic.longitudinal_frame()
    return names


def _scale(names, scale: str, caller: str) -> dict[str, bool]:
    return {f: (log_scale(f) if scale == "auto" else scale == "log2") for f in names}


def _log2(values: pd.Series, feature: str, ids: pd.Series, where: str, dropped: list) -> pd.Series:
    bad = values.notna() & ~(values > 0)
    for pid, v in zip(ids[bad], values[bad]):
        dropped.append({"patient_id": pid, "feature": feature, "reason": f"{where} value {v:g} is not > 0 (log2)"})
    return np.log2(values.where(values > 0))


@check_params(
    features=COLUMNS,
    timepoint=Instance(str, name="a timepoint name"),
    baseline=Instance(str, name="a timepoint name"),
    scale=SCALE,
)
def change_from_baseline(
    data: pd.DataFrame,
    features: str | Sequence[str],
    timepoint: str,
    *,
    baseline: str = "baseline",
    scale: str = "auto",
) -> pd.DataFrame:
    """Each patient's change of ``features`` from ``baseline`` to ``timepoint``.

    Parameters
    ----------
    data : DataFrame
        The long frame (``patient_id``, ``timepoint``, ``day`` and the features).
    features : str or sequence of str
    timepoint : str
        The on-treatment timepoint, e.g. ``"C3D1"``.
    baseline : str
        The reference timepoint.
    scale : {"auto", "log2", "difference"}
        ``"auto"``: log2 fold change for counts and ratios, difference otherwise.

    Returns
    -------
    DataFrame
        Indexed by ``patient_id`` (every patient of ``data``): ``day_<timepoint>`` (the
        sample's day: use it as the landmark) and one column per feature,
        ``<feature>_log2fc_<timepoint>`` or ``<feature>_change_<timepoint>``; NaN when
        either sample is absent or the value is not assessed (never 0).
        ``attrs["excluded"]`` lists values that could not be taken on the log scale.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"patient_id": ["P1", "P1", "P2"], "timepoint": ["baseline", "C3D1", "baseline"],
    ...                      "day": [0, 56, 0], "nk_per_ul": [200.0, 400.0, 300.0]})
    >>> change = change_from_baseline(long, "nk_per_ul", "C3D1")
    >>> list(change.columns), change.loc["P1"].tolist(), bool(change.loc["P2"].isna().all())
    (['day_C3D1', 'nk_per_ul_log2fc_C3D1'], [56.0, 1.0], True)
    """
    caller = "change_from_baseline"
    names = _check(data, features, ["patient_id", "timepoint", "day"], caller)
    logs = _scale(names, scale, caller)
    patients = pd.Index(pd.unique(data["patient_id"]), name="patient_id")
    at = {}
    for tp in (baseline, timepoint):
        rows = data[data["timepoint"] == tp]
        check_unique(rows, ["patient_id", "timepoint"], source=caller, what=f"one {tp!r} row per patient")
        at[tp] = rows.set_index("patient_id").reindex(patients)
    if not at[timepoint]["day"].notna().any():
        raise InputError(
            f"{caller}: no sample at timepoint {timepoint!r}; timepoints are "
            f"{sorted(data['timepoint'].astype(str).unique())}."
        )
    out = pd.DataFrame({f"day_{timepoint}": at[timepoint]["day"].astype(float)}, index=patients)
    dropped: list = []
    ids = pd.Series(patients, index=patients)
    for f in names:
        before = pd.to_numeric(at[baseline][f], errors="coerce")
        after = pd.to_numeric(at[timepoint][f], errors="coerce")
        if logs[f]:
            ok = _log2(after, f, ids, timepoint, dropped).notna() & _log2(before, f, ids, baseline, dropped).notna()
            out[f"{f}_log2fc_{timepoint}"] = np.log2((after / before).where(ok))
        else:
            out[f"{f}_change_{timepoint}"] = after - before
    out.attrs["excluded"] = pd.DataFrame(dropped, columns=["patient_id", "feature", "reason"])
    if dropped:
        warn(
            f"{caller}: {len(dropped)} value(s) are not > 0 and have no log2 change; see attrs['excluded'].",
            DataQualityWarning,
        )
    return out


@check_params(
    features=COLUMNS,
    time=Instance(str, name="a column name"),
    until=(Options(None), NUMBER),
    per=POSITIVE,
    scale=SCALE,
    min_samples=Interval(2, None, integer=True),
)
def trajectory_slopes(
    data: pd.DataFrame,
    features: str | Sequence[str],
    *,
    time: str = "day",
    until: float | None = None,
    per: float = DAYS_PER_MONTH,
    scale: str = "auto",
    min_samples: int = 2,
) -> pd.DataFrame:
    """Each patient's least-squares slope of ``features`` over time, with the number of samples.

    Parameters
    ----------
    data : DataFrame
        The long frame.
    features : str or sequence of str
    time : str
        Time column (days from treatment start).
    until : float, optional
        Use only samples with ``time <= until`` (a landmark day), so the slope is known
        at the landmark.
    per : float
        Report the slope per this many time units (default 30.4375 days: per month).
    scale : {"auto", "log2", "difference"}
        ``"auto"``: slope of log2 values for counts and ratios (1 = doubling per month).
    min_samples : int
        Fewest samples (with distinct times) a slope needs.

    Returns
    -------
    DataFrame
        Indexed by ``patient_id``: ``<feature>_slope`` and ``<feature>_n_samples`` per
        feature (NaN slope below ``min_samples``); ``attrs["unit"]`` says per what.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"patient_id": ["P1"] * 3, "day": [0.0, 30.4375, 60.875],
    ...                      "nk_per_ul": [100.0, 200.0, 400.0]})
    >>> trajectory_slopes(long, "nk_per_ul").round(6).to_dict("records")
    [{'nk_per_ul_slope': 1.0, 'nk_per_ul_n_samples': 3}]
    """
    caller = "trajectory_slopes"
    names = _check(data, features, ["patient_id", time], caller)
    logs = _scale(names, scale, caller)
    rows = data if until is None else data[pd.to_numeric(data[time], errors="coerce") <= until]
    patients = pd.Index(pd.unique(data["patient_id"]), name="patient_id")
    out = pd.DataFrame(index=patients)
    dropped: list = []
    t_all = pd.to_numeric(rows[time], errors="coerce") / per
    for f in names:
        y = pd.to_numeric(rows[f], errors="coerce")
        if logs[f]:
            y = _log2(y, f, rows["patient_id"], "a", dropped)
        ok = y.notna() & t_all.notna()
        frame = pd.DataFrame({"p": rows["patient_id"][ok], "t": t_all[ok], "y": y[ok]})
        g = frame.groupby("p", sort=False)
        tc = frame["t"] - g["t"].transform("mean")
        yc = frame["y"] - g["y"].transform("mean")
        sxx = (tc * tc).groupby(frame["p"], sort=False).sum()
        sxy = (tc * yc).groupby(frame["p"], sort=False).sum()
        n = g["t"].nunique()
        slope = (sxy / sxx).where((n >= min_samples) & (sxx > 0))
        out[f"{f}_slope"] = slope.reindex(patients).astype(float)
        out[f"{f}_n_samples"] = g.size().reindex(patients).fillna(0).astype(int)
    unit = "log2 units" if all(logs.values()) else "units (log2 for counts and ratios)"
    out.attrs["unit"] = f"{unit} per {per:g} {time}"
    out.attrs["excluded"] = pd.DataFrame(dropped, columns=["patient_id", "feature", "reason"])
    if dropped:
        warn(
            f"{caller}: {len(dropped)} value(s) are not > 0 and were left out of the log2 slopes; "
            "see attrs['excluded'].",
            DataQualityWarning,
        )
    return out
