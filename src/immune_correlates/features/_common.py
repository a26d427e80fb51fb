"""Shared pieces of the feature modules: per-feature results and input checks.

Every feature computation returns a :class:`Computed`: the values (indexed by
``patient_id``), the method used per value, the events behind it, quality
flags, and, for every missing value, the reason it is missing.  Input checks
raise :class:`~immune_correlates.errors.InputError` naming the sample
(patient and timepoint), the column and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError, plain

__all__ = ["Computed", "raise_bad_rows", "check_range", "check_unique", "at_timepoint"]


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
