"""Shared pieces of the feature modules: per-feature results and the rows of one timepoint.

Every feature computation returns a :class:`Computed`: the values (indexed by
``patient_id``), the method used per value, the events behind it, quality
flags, and, for every missing value, the reason it is missing.  Input checks
live in :mod:`immune_correlates._checks` (``check_range``, ``check_unique``,
``raise_bad_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Computed", "at_timepoint", "missing_reasons", "patient_index", "values_on", "text_on"]


@dataclass(frozen=True)
class Computed:
    """One feature computed for a set of patients (internal currency of the builders).

    Attributes
    ----------
    values : Series of float indexed by ``patient_id``
    method : Series of str (``"dual"``, ``"bead"``, ``"ratio"``, ...; ``""`` where missing)
    events : Series of float, events in the gate behind the value (NaN if not a gate count)
    flags : Series of str, ``"; "``-separated quality notes (``""`` if none)
    reasons : Series of str, why a value is missing (``""`` where present)
    bead_events : Series of float or None, counting-bead events behind a bead-based count
        (their Poisson error adds to that of ``events``)
    """

    values: pd.Series
    method: pd.Series
    events: pd.Series
    flags: pd.Series
    reasons: pd.Series
    bead_events: pd.Series | None = None

    @classmethod
    def empty(cls, patients: Sequence[str], reason: str) -> Computed:
        """All values missing for ``reason``."""
        idx = patient_index(patients)
        n = len(idx)
        return cls.from_arrays(idx, np.full(n, np.nan), np.full(n, reason, dtype=object), np.full(n, "", dtype=object))

    @classmethod
    def from_arrays(
        cls,
        idx: pd.Index,
        values: np.ndarray,
        reasons: np.ndarray,
        method: np.ndarray,
        events: np.ndarray | None = None,
        flags: np.ndarray | None = None,
        *,
        names: tuple = (None, None, None, None, None),
    ) -> Computed:
        """A result from arrays already aligned on ``idx`` (``names``: of values, method, events, flags, reasons)."""
        n = len(idx)
        events = np.full(n, np.nan) if events is None else events
        flags = np.full(n, "", dtype=object) if flags is None else flags
        return cls(
            values=pd.Series(values, index=idx, name=names[0], dtype=float),
            method=pd.Series(method, index=idx, name=names[1], dtype=object),
            events=pd.Series(events, index=idx, name=names[2], dtype=float),
            flags=pd.Series(flags, index=idx, name=names[3], dtype=object),
            reasons=pd.Series(reasons, index=idx, name=names[4], dtype=object),
        )

    @classmethod
    def from_parts(
        cls,
        idx: pd.Index,
        values: np.ndarray,
        reasons: np.ndarray,
        method: str | np.ndarray,
        events: np.ndarray | None = None,
        flags: np.ndarray | None = None,
        *,
        names: tuple = (None, None, None, None, None),
    ) -> Computed:
        """:meth:`build` from arrays aligned on ``idx``: a missing value gets its reason (or "not computable")."""
        why = missing_reasons(values, reasons)
        meth = np.full(len(idx), method, dtype=object) if isinstance(method, str) else method
        meth = np.where(np.isnan(values), "", meth)
        return cls.from_arrays(idx, values, why, meth, events, flags, names=names)

    @classmethod
    def build(
        cls,
        patients: Sequence[str],
        values: pd.Series,
        reasons: pd.Series,
        method: str | pd.Series,
        events: pd.Series | None = None,
        flags: pd.Series | None = None,
    ) -> Computed:
        """Align partial Series on ``patients``; patients absent everywhere get ``reasons``' default."""
        idx = patient_index(patients)
        names = (
            values.name,
            None if isinstance(method, str) else method.name,
            None if events is None else events.name,
            None if flags is None else flags.name,
            reasons.name,
        )
        return cls.from_parts(
            idx,
            values_on(values, idx).astype(float),
            text_on(reasons, idx),
            method if isinstance(method, str) else text_on(method, idx),
            None if events is None else values_on(events, idx).astype(float),
            None if flags is None else text_on(flags, idx),
            names=names,
        )


def missing_reasons(values: np.ndarray, reasons: np.ndarray) -> np.ndarray:
    """The reason of each missing value ("not computable" when none was given); "" where a value exists."""
    missing = np.isnan(values)
    why = np.where(missing, reasons, "")
    return np.where(missing & (why == ""), "not computable", why)


def patient_index(patients: Sequence[str]) -> pd.Index:
    """``pd.Index(list(patients), name="patient_id", dtype=object)`` (an index of that form is reused)."""
    if isinstance(patients, pd.Index) and patients.name == "patient_id" and patients.dtype == object:
        return patients
    return pd.Index(list(patients), name="patient_id", dtype=object)


def values_on(series: pd.Series, idx: pd.Index) -> np.ndarray:
    """``series.reindex(idx).to_numpy()``: NaN for a patient ``series`` lacks (do not modify the result)."""
    if idx.is_unique and series.index.equals(idx) and series.index.dtype == idx.dtype:
        return series.to_numpy()
    return series.reindex(idx).to_numpy()


def text_on(series: pd.Series, idx: pd.Index, fill: str = "") -> np.ndarray:
    """``series.reindex(idx).fillna(fill).astype(object)`` as an array."""
    arr = np.asarray(values_on(series, idx), dtype=object)
    gaps = pd.isna(arr)
    return np.where(gaps, fill, arr) if gaps.any() else arr


def at_timepoint(frame: pd.DataFrame, timepoint: str | None) -> pd.DataFrame:
    """Rows of a long table at ``timepoint`` (all rows if None), with a clean index."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=list(frame.columns) if frame is not None else [])
    if timepoint is None or "timepoint" not in frame.columns:
        out = frame
    else:
        out = frame.loc[frame["timepoint"].astype(str).str.strip() == str(timepoint)]
    out = out.reset_index(drop=True).copy()
    out["patient_id"] = out["patient_id"].astype(str)
    return out
