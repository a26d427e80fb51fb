"""Cell parsers: text cells to typed columns, every bad cell reported.

Each parser takes a column as read (text from CSV, objects from XLSX, typed
values from Parquet or a DataFrame) and returns the typed column, or raises an
:class:`~immune_correlates.errors.InputError` listing *every* offending cell
with its row number, patient id and value.  When the :class:`CellContext`
carries a ``problems`` list, the errors are appended to it instead and the
parser carries on, so that one validation pass reports every problem.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "CellContext",
    "parse_text",
    "parse_number",
    "parse_binary",
    "parse_date",
    "parse_code",
    "is_blank",
    "map_cells",
]

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?$")
_TRUE = {"1", "yes", "y", "true", "t", "1.0"}
_FALSE = {"0", "no", "n", "false", "f", "0.0"}


@dataclass(frozen=True)
class CellContext:
    """Where a column comes from: the file label and the rows' patient ids.

    With ``problems`` (a list), :meth:`fail` appends its error there instead of raising.
    """

    source: str
    ids: pd.Series
    problems: list | None = None

    def offenders(self, column: pd.Series, mask: np.ndarray | pd.Series) -> list[dict]:
        mask = np.asarray(mask, dtype=bool)
        return [
            {"row": int(i) + 1, "patient_id": self.ids.iloc[i], "value": column.iloc[i]} for i in np.flatnonzero(mask)
        ]

    def fail(self, column: pd.Series, mask, message: str, hint: str | None = None) -> None:
        error = InputError(
            message + " (rows are numbered from 1 after the header):",
            source=self.source,
            column=str(column.name),
            rows=self.offenders(column, mask),
            hint=hint,
        )
        if self.problems is None:
            raise error
        self.problems.append(error)


def map_cells(column: pd.Series, fn) -> pd.Series:
    """``column.map(fn)`` for a function of one cell, evaluated once per distinct text.

    A column read from a file holds few distinct texts (ids, timepoints, units) or
    cells that do not repeat; either way ``fn`` runs at most once per distinct text
    (and once per missing cell: ``None`` and ``NaN`` are different cells), and pandas
    converts its answers exactly as ``column.map(fn)`` does (the answers for the
    distinct cells are the answers for all of them).  Only an object column holding
    nothing but text and missing values (or a pandas text column) takes this path: ``1``,
    ``1.0`` and ``True`` hash alike but are different cells, so any other column is
    mapped cell by cell.
    """
    text_dtype = column.dtype == object or isinstance(column.dtype, pd.StringDtype)
    if not text_dtype:
        return column.map(fn)
    values = column.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return column.map(fn)
    codes, cells = pd.factorize(values)
    na = codes < 0
    if na.any():
        codes[na] = len(cells) + np.arange(int(na.sum()))
        cells = np.concatenate([cells, values[na]])
    mapped = pd.Series(cells, dtype=column.dtype).map(fn).iloc[codes]
    mapped.index = column.index
    return mapped.rename(column.name)


def _blank_text(v) -> bool:
    return isinstance(v, str) and v.strip() == ""


def is_blank(column: pd.Series) -> np.ndarray:
    """True where a cell is missing: NaN/None/NaT or empty/white-space text."""
    blank = column.isna().to_numpy()
    text = map_cells(column, _blank_text).to_numpy(dtype=bool)
    return blank | text


def _blanks(column: pd.Series, ctx: CellContext, required: bool, what: str = "values") -> np.ndarray:
    """Mask of blank cells; an error listing them when the column is required."""
    blank = is_blank(column)
    if required and blank.any():
        ctx.fail(column, blank, f"required {what} are empty", "Fill them in; every row needs this column.")
    return blank


def parse_text(column: pd.Series, ctx: CellContext, *, required: bool) -> pd.Series:
    """Text cells; integral numbers (Excel ids such as 101.0) become ``"101"``."""

    def to_text(v):
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return v if isinstance(v, str) else (None if pd.isna(v) else str(v))

    out = map_cells(column, to_text).astype(object)
    blank = _blanks(column, ctx, required)
    out[blank] = None
    return out


def parse_number(
    column: pd.Series,
    ctx: CellContext,
    *,
    required: bool = False,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    strict_min: bool = False,
    what: str = "a number",
    hint: str | None = None,
) -> pd.Series:
    """Numeric cells; text that is not a plain number (``n/a``, ``<0.1``, ``12%``) is an error."""
    blank = _blanks(column, ctx, required)

    def conv(v):
        if isinstance(v, (bool, np.bool_)):
            return np.nan
        if isinstance(v, str):
            try:
                return float(v.strip())
            except ValueError:
                return np.nan
        try:
            return float(v)
        except (TypeError, ValueError):
            return np.nan

    values = map_cells(column, conv).astype(float)
    bad = np.isnan(values.to_numpy()) & ~blank
    if bad.any():
        ctx.fail(
            column,
            bad,
            f"values are not {what}",
            "Use plain numbers (no units, '%', '<' or text such as 'n/a'); leave unknown values empty.",
        )
    arr = values.to_numpy()
    finite = ~np.isnan(arr)
    if np.isinf(arr[finite]).any():
        ctx.fail(column, np.isinf(arr), "values are infinite", "Replace them with finite numbers or leave them empty.")
    finite = np.isfinite(arr)  # the range checks below judge the finite values only
    if integer:
        safe = np.where(finite, arr, 0.0)
        frac = finite & (np.abs(safe - np.round(safe)) > 1e-9)
        if frac.any():
            ctx.fail(column, frac, "values must be whole numbers")
    if minimum is not None:
        low = finite & ((arr <= minimum) if strict_min else (arr < minimum))
        if low.any():
            bound = f"> {minimum:g}" if strict_min else f">= {minimum:g}"
            ctx.fail(column, low, f"values must be {bound}", hint)
    if maximum is not None:
        high = finite & (arr > maximum)
        if high.any():
            ctx.fail(column, high, f"values must be <= {maximum:g}", hint)
    return values


def parse_binary(column: pd.Series, ctx: CellContext, *, required: bool = False) -> pd.Series:
    """0/1, yes/no, y/n, true/false (any case) to a float 0/1 column (NaN for blank)."""
    blank = _blanks(column, ctx, required)

    def conv(v):
        if isinstance(v, (bool, np.bool_)):
            return float(v)
        if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
            return float(v) if v in (0, 1) else -1.0
        if isinstance(v, str):
            s = v.strip().lower()
            if s in _TRUE:
                return 1.0
            if s in _FALSE:
                return 0.0
            return -1.0 if s else np.nan
        return np.nan

    values = map_cells(column, conv).astype(float)
    bad = (values.to_numpy() == -1.0) & ~blank
    if bad.any():
        ctx.fail(
            column,
            bad,
            "values are not a yes/no code",
            "Use 0/1, yes/no or true/false (R-style 1/2 codes must be recoded to 0/1).",
        )
    values[blank | bad] = np.nan
    return values


def parse_date(column: pd.Series, ctx: CellContext, *, required: bool = False) -> pd.Series:
    """ISO 8601 dates (``YYYY-MM-DD``) or date objects to ``datetime64[us]``.

    A timestamp at midnight (``2011-09-05 00:00:00``, as pandas and Excel
    export dates, or a ``datetime64`` value) is that date; a timestamp with any
    other time of day is an error, because which day it belongs to is a
    judgement the data owner must make. Missing values (``NaT``, blank) are missing.
    """
    blank = _blanks(column, ctx, required, "dates")

    def conv(v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return pd.NaT, False
        if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
            ts = pd.Timestamp(v)
            if ts.tzinfo is not None:
                ts = ts.tz_localize(None)
            return (ts, False) if ts == ts.normalize() else (pd.NaT, True)
        if isinstance(v, str):
            m = _ISO_DATE.match(v.strip())
            if m is None:
                return pd.NaT, False
            if any(g and int(g) != 0 for g in m.groups()[1:]):
                return pd.NaT, True
            try:
                return pd.Timestamp(m.group(1)), False
            except ValueError:
                return pd.NaT, False
        return pd.NaT, False

    pairs = map_cells(column, conv).tolist() if column.dtype == object else [conv(v) for v in column.tolist()]
    values = pd.Series(pd.to_datetime([p[0] for p in pairs]), index=column.index, name=column.name)
    timed = np.array([p[1] for p in pairs], dtype=bool) & ~blank
    bad = values.isna().to_numpy() & ~blank & ~timed
    if bad.any():
        ctx.fail(
            column,
            bad,
            "values are not ISO dates (YYYY-MM-DD)",
            "Write dates as YYYY-MM-DD; Excel serial numbers and day/month orders are not guessed.",
        )
    if timed.any():
        ctx.fail(
            column,
            timed,
            "values have a time of day other than midnight; a date is expected",
            "Give the calendar date (YYYY-MM-DD); timestamps are accepted only at 00:00:00.",
        )
    return values.astype("datetime64[us]")


def parse_code(column: pd.Series, ctx: CellContext, allowed: tuple[str, ...], *, required: bool = False) -> pd.Series:
    """Codes from ``allowed``, matched ignoring case and surrounding spaces, returned canonical."""
    blank = _blanks(column, ctx, required)
    canon = {a.lower(): a for a in allowed}
    values = map_cells(column, lambda v: canon.get(str(v).strip().lower()) if not pd.isna(v) else None).astype(object)
    bad = values.isna().to_numpy() & ~blank
    if bad.any():
        ctx.fail(column, bad, f"values are not one of {', '.join(allowed)}")
    values[blank] = None
    return values
