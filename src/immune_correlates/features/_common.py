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

__all__ = ["Computed", "at_timepoint"]


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
        idx = pd.Index(list(patients), name="patient_id", dtype=object)
        return cls(
            values=pd.Series(np.nan, index=idx, dtype=float),
            method=pd.Series("", index=idx, dtype=object),
            events=pd.Series(np.nan, index=idx, dtype=float),
            flags=pd.Series("", index=idx, dtype=object),
            reasons=pd.Series(reason, index=idx, dtype=object),
        )

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
        idx = pd.Index(list(patients), name="patient_id", dtype=object)
        vals = values.reindex(idx).astype(float)
        why = reasons.reindex(idx).fillna("").astype(object)
        why = why.where(vals.isna(), "")
        why = why.where(~(vals.isna() & (why == "")), "not computable")
        if isinstance(method, str):
            meth = pd.Series(method, index=idx, dtype=object)
        else:
            meth = method.reindex(idx).fillna("").astype(object)
        meth = meth.where(vals.notna(), "")
        ev = (events if events is not None else pd.Series(dtype=float)).reindex(idx).astype(float)
        fl = (flags if flags is not None else pd.Series(dtype=object)).reindex(idx)
        fl = fl.fillna("").astype(object)
        return cls(values=vals, method=meth, events=ev, flags=fl, reasons=why)


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
