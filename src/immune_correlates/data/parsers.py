"""Cell parsers: text cells to typed columns, every bad cell reported.

Each parser takes a column as read (text from CSV, objects from XLSX, typed
values from Parquet or a DataFrame) and returns the typed column, or raises an
:class:`~immune_correlates.errors.InputError` listing *every* offending cell
with its row number, patient id and value.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = ["CellContext", "parse_text", "parse_number", "parse_binary", "parse_date", "parse_code", "is_blank"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = {"1", "yes", "y", "true", "t", "1.0"}
_FALSE = {"0", "no", "n", "false", "f", "0.0"}


@dataclass(frozen=True)
class CellContext:
    """Where a column comes from: the file label and the rows' patient ids."""

    source: str
    ids: pd.Series

    def offenders(self, column: pd.Series, mask: np.ndarray | pd.Series) -> list[dict]:
        mask = np.asarray(mask, dtype=bool)
        return [
            {"row": int(i) + 1, "patient_id": self.ids.iloc[i], "value": column.iloc[i]}
            for i in np.flatnonzero(mask)
        ]

    def fail(self, column: pd.Series, mask, message: str, hint: str | None = None) -> None:
        raise InputError(
            message + " (rows are numbered from 1 after the header):",
            source=self.source, column=str(column.name), rows=self.offenders(column, mask), hint=hint,
        )


def is_blank(column: pd.Series) -> np.ndarray:
    """True where a cell is missing: NaN/None/NaT or empty/white-space text."""
    blank = column.isna().to_numpy()
    text = column.map(lambda v: isinstance(v, str) and v.strip() == "").to_numpy(dtype=bool)
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

    out = column.map(to_text).astype(object)
    blank = _blanks(column, ctx, required)
    out[blank] = None
    return out


def parse_number(
    column: pd.Series, ctx: CellContext, *, required: bool = False, integer: bool = False,
    minimum: float | None = None, maximum: float | None = None, strict_min: bool = False,
    what: str = "a number",
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

    values = column.map(conv).astype(float)
    bad = np.isnan(values.to_numpy()) & ~blank
    if bad.any():
        ctx.fail(column, bad, f"values are not {what}",
                 "Use plain numbers (no units, '%', '<' or text such as 'n/a'); leave unknown values empty.")
    arr = values.to_numpy()
    finite = ~np.isnan(arr)
    if np.isinf(arr[finite]).any():
        ctx.fail(column, np.isinf(arr), "values are infinite", "Replace them with finite numbers or leave them empty.")
    if integer:
        frac = finite & (np.abs(arr - np.round(arr)) > 1e-9)
        if frac.any():
            ctx.fail(column, frac, "values must be whole numbers")
    if minimum is not None:
        low = finite & ((arr <= minimum) if strict_min else (arr < minimum))
        if low.any():
            bound = f"> {minimum:g}" if strict_min else f">= {minimum:g}"
            ctx.fail(column, low, f"values must be {bound}")
    if maximum is not None:
        high = finite & (arr > maximum)
        if high.any():
            ctx.fail(column, high, f"values must be <= {maximum:g}")
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

    values = column.map(conv).astype(float)
    bad = (values.to_numpy() == -1.0) & ~blank
    if bad.any():
        ctx.fail(column, bad, "values are not a yes/no code",
                 "Use 0/1, yes/no or true/false (R-style 1/2 codes must be recoded to 0/1).")
    values[blank] = np.nan
    return values


def parse_date(column: pd.Series, ctx: CellContext, *, required: bool = False) -> pd.Series:
    """ISO 8601 dates (``YYYY-MM-DD``) or date objects to ``datetime64[ns]``."""
    blank = _blanks(column, ctx, required, "dates")

    def conv(v):
        if isinstance(v, (pd.Timestamp, _dt.datetime, _dt.date, np.datetime64)):
            ts = pd.Timestamp(v)
            return ts.normalize() if ts == ts.normalize() else pd.NaT
        if isinstance(v, str) and _ISO_DATE.match(v.strip()):
            try:
                return pd.Timestamp(v.strip())
            except ValueError:
                return pd.NaT
        return pd.NaT

    values = pd.to_datetime(column.map(conv))
    bad = values.isna().to_numpy() & ~blank
    if bad.any():
        ctx.fail(column, bad, "values are not ISO dates (YYYY-MM-DD)",
                 "Write dates as YYYY-MM-DD; Excel serial numbers and day/month orders are not guessed.")
    return values


def parse_code(column: pd.Series, ctx: CellContext, allowed: tuple[str, ...], *, required: bool = False) -> pd.Series:
    """Codes from ``allowed``, matched ignoring case and surrounding spaces, returned canonical."""
    blank = _blanks(column, ctx, required)
    canon = {a.lower(): a for a in allowed}
    values = column.map(lambda v: canon.get(str(v).strip().lower()) if not pd.isna(v) else None).astype(object)
    bad = values.isna().to_numpy() & ~blank
    if bad.any():
        ctx.fail(column, bad, f"values are not one of {', '.join(allowed)}")
    values[blank] = None
    return values
