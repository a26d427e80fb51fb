"""Entry times of counting-process rows ``(entry, stop]``, checked as R's ``Surv(start, stop, event)``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._survival_checks import MAX_LISTED
from .errors import ImmuneCorrelatesError, plain

__all__ = ["entry_times"]


def entry_times(
    values: pd.Series, column: str, stop: np.ndarray, stop_column: str, caller: str, ids: pd.Series
) -> np.ndarray:
    """Entry times as floats: finite and strictly before the row's stop time (as ``Surv`` requires).

    Offenders are named with patient id, entry and stop; a row with
    ``entry >= stop`` is never at risk, and R's ``coxph`` refuses it too.
    """
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(arr) | ~(arr < stop)
    if bad.any():
        idx = np.flatnonzero(bad)
        listing = ", ".join(
            f"{plain(ids.iloc[i])}: {column}={plain(arr[i])!r}, {stop_column}={plain(stop[i])!r}"
            for i in idx[:MAX_LISTED]
        )
        more = f" and {idx.size - MAX_LISTED} more" if idx.size > MAX_LISTED else ""
        raise ImmuneCorrelatesError(
            f"{caller}: entry column {column!r} must be finite and strictly less than {stop_column!r} "
            f"(rows are at risk on (entry, stop]); got {listing}{more}. Drop rows of zero length or correct "
            "their times (split_at builds valid rows)."
        )
    return arr
