"""Checks of the data themselves: one module, one kind of error, for every layer.

Options (``method=``, ``alpha=``, ``seed=`` ...) are declared with
:func:`~immune_correlates._params.check_params` and refused with a
:class:`~immune_correlates.errors.ParameterError`.  What is checked here are
the *data*: a frame that is not a frame, a column that is absent or repeated,
a value that is not a number, an event code that is not 0/1, a negative
duration, an entry time after its stop time, a negative case weight.  Each
check raises :class:`~immune_correlates.errors.InputError` with the user's
column name and every offending row (``patient_id`` and ``value``) in
``rows``, so that Kaplan-Meier, log-rank, cut points, Cox, Fine-Gray,
logistic models and the screen refuse the same data with the same words.

>>> import pandas as pd
>>> ids = pd.Series(["P1", "P2", "P3"])
>>> event_indicator(pd.Series([0, 1, 2]), "status", "demo", ids)
Traceback (most recent call last):
...
immune_correlates.errors.InputError: column 'status': demo: the event column must be 0/1 (0 censored, 1 event); these values are not
  - patient_id='P3', value=2
Recode it (e.g. R's status 1/2 as status - 1) and call again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InputError, plain

__all__ = [
    "require_frame",
    "require_columns",
    "offenders",
    "numeric_values",
    "numeric_column",
    "event_indicator",
    "binary_outcome",
    "check_durations",
    "entry_times",
    "case_weights",
    "cause_codes",
    "optional_times",
    "survival_arrays",
    "raise_bad_rows",
    "check_range",
    "check_unique",
]


def offenders(ids: pd.Series, values, bad: np.ndarray) -> list[dict]:
    """``[{"patient_id": ..., "value": ...}]`` of the rows flagged in ``bad`` (positions)."""
    values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    return [{"patient_id": plain(ids.iloc[i]), "value": plain(values[i])} for i in np.flatnonzero(bad)]


def require_frame(data, caller: str) -> None:
    """``data`` must be a pandas DataFrame."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{caller}: data must be a pandas DataFrame, got {type(data).__name__}.")


def require_columns(data: pd.DataFrame, columns: Sequence[str], caller: str) -> None:
    """Every column of ``columns`` is in ``data``, exactly once.

    >>> require_columns(pd.DataFrame({"a": [1]}), ["a", "b"], "demo")
    Traceback (most recent call last):
    ...
    immune_correlates.errors.InputError: demo: column(s) ['b'] not found in data. Available columns: ['a'].
    """
    require_frame(data, caller)
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise InputError(f"{caller}: column(s) {absent} not found in data. Available columns: {list(data.columns)}.")
    repeated = set(data.columns[data.columns.duplicated()]) if data.columns.has_duplicates else set()
    dupes = sorted({c for c in columns if c in repeated})
    if dupes:
        raise InputError(f"{caller}: column(s) {dupes} appear more than once in data; rename one of each.")


def numeric_values(values: pd.Series) -> np.ndarray:
    """Numbers (or booleans) as floats, anything else through ``pd.to_numeric`` (non-numbers become NaN)."""
    if values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def numeric_column(series: pd.Series, column: str, caller: str, ids) -> np.ndarray:
    """A column that must hold numbers (booleans allowed): floats, NaN where missing.

    A value that is not a number, or an infinite one, is an error naming the
    patients and values.  ``ids`` is a Series of patient ids (or a callable
    returning it: building ids is only paid for when something is wrong).
    """
    if series.dtype.kind in "fiu":  # plain numbers: only infinities to look for
        values = series.to_numpy(dtype=float, na_value=np.nan)
    elif isinstance(series.dtype, pd.CategoricalDtype) or not (
        pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)
    ):
        converted = pd.to_numeric(series, errors="coerce")
        bad = (converted.isna() & series.notna()).to_numpy()
        if bad.any():
            raise InputError(
                f"{caller}: the column must be numeric; these values are not",
                column=column,
                rows=offenders(ids() if callable(ids) else ids, series.to_numpy(dtype=object), bad),
                hint="Recode them (numbers, or empty for missing) and call again.",
            )
        values = converted.to_numpy(dtype=float, na_value=np.nan)
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    inf = np.isinf(values)
    if inf.any():
        raise InputError(
            f"{caller}: the column has infinite values",
            column=column,
            rows=offenders(ids() if callable(ids) else ids, values, inf),
            hint="Replace them with finite values or leave them empty (missing).",
        )
    return values


def event_indicator(values: pd.Series, column: str, caller: str, ids: pd.Series) -> np.ndarray:
    """Event column as 0/1 floats (booleans accepted); anything else is an error naming patients and values."""
    arr = numeric_values(values)
    bad = ~((arr == 0.0) | (arr == 1.0))
    if bad.any():
        raise InputError(
            f"{caller}: the event column must be 0/1 (0 censored, 1 event); these values are not",
            column=column,
            rows=offenders(ids, values.to_numpy(dtype=object), bad),
            hint="Recode it (e.g. R's status 1/2 as status - 1) and call again.",
        )
    return arr


def binary_outcome(series: pd.Series, ids: pd.Series, column: str, caller: str) -> np.ndarray:
    """A 0/1 (or boolean) outcome as floats; any other value is an error naming the patients."""
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    values = numeric_values(series)
    bad = ~((values == 0.0) | (values == 1.0))
    if bad.any():
        raise InputError(
            f"{caller}: the outcome must be coded 0/1 (or True/False); these values are not",
            column=column,
            rows=offenders(ids, series.to_numpy(dtype=object), bad),
            hint="Recode the outcome as 1 (event, e.g. complete remission) and 0, then call again.",
        )
    return values


def check_durations(arr: np.ndarray, column: str, caller: str, ids: pd.Series) -> None:
    """Durations must be finite and non-negative; offenders are named with their values."""
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise InputError(
            f"{caller}: durations must be finite and >= 0; these are not",
            column=column,
            rows=offenders(ids, arr, bad),
            hint="Durations are times from baseline to event or censoring; correct them and call again.",
        )


def entry_times(
    values: pd.Series, column: str, stop: np.ndarray, stop_column: str, caller: str, ids: pd.Series
) -> np.ndarray:
    """Entry times of counting-process rows ``(entry, stop]``: finite and strictly before the stop time.

    A row with ``entry >= stop`` is never at risk, and R's ``coxph(Surv(start,
    stop, event))`` refuses it too.
    """
    arr = numeric_values(values)
    bad = ~np.isfinite(arr) | ~(arr < stop)
    if bad.any():
        rows = [
            {"patient_id": plain(ids.iloc[i]), column: plain(arr[i]), stop_column: plain(stop[i])}
            for i in np.flatnonzero(bad)
        ]
        raise InputError(
            f"{caller}: entry times must be finite and strictly less than {stop_column!r} "
            "(rows are at risk on (entry, stop]); these are not",
            column=column,
            rows=rows,
            hint="Drop rows of zero length or correct their times (split_at builds valid rows).",
        )
    return arr


def case_weights(values: pd.Series, column: str, caller: str, ids: pd.Series) -> np.ndarray:
    """Case weights as floats: finite and >= 0."""
    w = numeric_values(values)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise InputError(
            f"{caller}: case weights must be finite and >= 0; these are not",
            column=column,
            rows=offenders(ids, w, bad),
        )
    return w


def cause_codes(values: pd.Series, column: str, caller: str, ids: pd.Series) -> np.ndarray:
    """Competing-risk event codes as integers: 0 censored, 1, 2, ... causes."""
    arr = numeric_values(values)
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
    if bad.any():
        raise InputError(
            f"{caller}: the event column must hold 0 (censored) or a cause code 1, 2, ...; these values are not",
            column=column,
            rows=offenders(ids, values.to_numpy(dtype=object), bad),
            hint="Recode it (e.g. pfs_cause: 1 progression, 2 death without progression) and call again.",
        )
    return arr.astype(np.int64)


def optional_times(raw: pd.Series, column: str, caller: str, ids: pd.Series) -> np.ndarray:
    """Times that may be missing (missing = never), but never text or infinite."""
    arr = numeric_values(raw)
    bad = raw.notna().to_numpy() & ~np.isfinite(arr)
    if bad.any():
        raise InputError(
            f"{caller}: the time column must be numeric (months; missing = never); these values are not",
            column=column,
            rows=offenders(ids, raw.to_numpy(dtype=object), bad),
        )
    return arr


def survival_arrays(rows: pd.DataFrame, ids: pd.Series, duration: str, event: str, caller: str):
    """``(time, status)`` of complete rows: finite durations >= 0 and 0/1 events, or an error naming them."""
    status = event_indicator(rows[event], event, caller, ids)
    time = numeric_values(rows[duration])
    check_durations(time, duration, caller, ids)
    return time, status


def _sample_rows(frame: pd.DataFrame, mask: pd.Series, column: str) -> list[dict]:
    sub = frame.loc[mask]
    rows = []
    for pid, tp, val in zip(sub["patient_id"], sub.get("timepoint", pd.Series("", index=sub.index)), sub[column]):
        rows.append({"patient_id": pid, "timepoint": tp, "column": column, "value": val})
    return rows


def raise_bad_rows(
    frame: pd.DataFrame,
    mask: pd.Series,
    column: str,
    problem: str,
    *,
    source: str | None,
    hint: str,
    extra: Sequence[str] = (),
) -> None:
    """Raise an InputError listing every row of ``frame`` where ``mask`` is true."""
    if not bool(mask.any()):
        return
    rows = _sample_rows(frame, mask, column)
    if extra:
        sub = frame.loc[mask]
        for row, (_, rec) in zip(rows, sub.iterrows()):
            for name in extra:
                row[name] = rec[name]
    first = rows[0]
    head = (
        f"sample patient {first['patient_id']!r} at timepoint {first['timepoint']!r}: "
        f"{column} = {plain(first['value'])!r} {problem}"
    )
    if len(rows) > 1:
        head += f" ({len(rows)} rows in all, listed below)"
    raise InputError(head, source=source, column=column, rows=rows, hint=hint)


def check_range(
    frame: pd.DataFrame,
    column: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    source: str | None,
    what: str,
    extra: Sequence[str] = (),
) -> None:
    """Raise if any non-missing value of ``column`` is outside [low, high]."""
    values = pd.to_numeric(frame[column], errors="coerce").astype(float)
    nonnum = values.isna() & frame[column].notna()
    raise_bad_rows(
        frame,
        nonnum,
        column,
        "is not a number",
        source=source,
        hint="Use numbers (blank for missing) and try again.",
        extra=extra,
    )
    if low is not None:
        bad = values < low if low_inclusive else values <= low
        sign = ">=" if low_inclusive else ">"
        raise_bad_rows(
            frame,
            bad.fillna(False),
            column,
            f"is below the allowed range ({what}: {sign} {low})",
            source=source,
            hint="Correct the value or leave it blank if unknown.",
            extra=extra,
        )
    if high is not None:
        bad = (values > high).fillna(False)
        raise_bad_rows(
            frame,
            bad,
            column,
            f"is above the allowed range ({what}: <= {high})",
            source=source,
            hint="Percentages are 0-100 (not fractions or counts); correct the value.",
            extra=extra,
        )


def check_unique(frame: pd.DataFrame, keys: Sequence[str], *, source: str | None, what: str) -> None:
    """Raise if two rows share the same ``keys`` (the same measurement twice)."""
    dup = frame.duplicated(list(keys), keep=False)
    if dup.any():
        column = keys[-1]
        raise_bad_rows(
            frame,
            dup,
            column,
            f"appears more than once for this sample ({what})",
            source=source,
            extra=[k for k in keys if k not in ("patient_id", "timepoint", column)],
            hint="Keep one row per " + ", ".join(keys) + " (remove repeats or average them first).",
        )
