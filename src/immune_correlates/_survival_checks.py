"""Checks of survival columns shared by every survival function.

Kaplan-Meier, log-rank, cutpoints, Cox and the batched screen refuse the same
inputs with the same message: an event column that is not 0/1 (R's 1/2
status codes included) and durations that are negative or not finite, each
naming the patients and values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import ImmuneCorrelatesError, plain

__all__ = ["event_indicator", "check_durations", "numeric_values", "MAX_LISTED"]

MAX_LISTED = 20


def _listing(ids: pd.Series, values, bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    text = ", ".join(f"{plain(ids.iloc[i])}={plain(values[i])!r}" for i in idx[:MAX_LISTED])
    return text + (f" and {idx.size - MAX_LISTED} more" if idx.size > MAX_LISTED else "")


def numeric_values(values: pd.Series) -> np.ndarray:
    """Numbers (or booleans) as floats, anything else through ``pd.to_numeric`` (non-numbers become NaN)."""
    if values.dtype.kind in "fiub":
        return values.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def event_indicator(values: pd.Series, column: str, caller: str, ids: pd.Series) -> np.ndarray:
    """Event column as 0/1 floats (booleans accepted); anything else is an error naming patients and values."""
    arr = numeric_values(values)
    bad = ~((arr == 0.0) | (arr == 1.0))
    if bad.any():
        raise ImmuneCorrelatesError(
            f"{caller}: event column {column!r} must be 0/1 (0 censored, 1 event); got "
            f"{_listing(ids, values.to_numpy(), bad)}. Recode it (e.g. R's status 1/2 as status - 1) and call again."
        )
    return arr


def check_durations(arr: np.ndarray, column: str, caller: str, ids: pd.Series) -> None:
    """Durations must be finite and non-negative; offenders are named with their values."""
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ImmuneCorrelatesError(
            f"{caller}: duration column {column!r} must be finite and >= 0; got {_listing(ids, arr, bad)}. "
            "Durations are times from baseline to event or censoring; correct them and call again."
        )
