"""Reading input tables from CSV, TSV, XLSX, Parquet or a DataFrame.

Delimited text is read with every cell as text, so that the validators, not the
reader, decide what a cell means: ``"n/a"`` in a numeric column is reported as an
error naming the cell rather than silently turned into a missing value.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import InputError

__all__ = ["read_table", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq")


def _read_path(path: Path, label: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"file not found: {str(path)!r}.", source=label, hint="Check the path and try again.")
    if path.is_dir():
        raise InputError("expected a file, got a directory.", source=label)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes).", source=label, hint="Export the table again with its header row.")
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            sep = "," if suffix == ".csv" else "\t"
            return pd.read_csv(
                path, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                encoding="utf-8-sig", skipinitialspace=False,
            )
        if suffix == ".xlsx":
            return pd.read_excel(path, dtype=object, engine="openpyxl")
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError("the file has no header row.", source=label) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}).", source=label,
                         hint="Save it as UTF-8 CSV and try again.") from None
    except Exception as exc:  # parser errors of pandas, openpyxl, pyarrow
        raise InputError(f"could not be read as {suffix[1:].upper()}: {exc}", source=label) from None
    raise InputError(
        f"unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}.", source=label
    )


def read_table(obj: str | os.PathLike | pd.DataFrame, table: str) -> tuple[pd.DataFrame, str]:
    """Read one input table.

    Parameters
    ----------
    obj : path-like or DataFrame
        The table; a DataFrame is copied, never modified.
    table : str
        The table's role (``"clinical"``, ...), used to label DataFrames.

    Returns
    -------
    frame : DataFrame
        The table with column names stripped and lower-cased.
    source : str
        The file name, or ``"<clinical DataFrame>"``, for messages.
    """
    if isinstance(obj, pd.DataFrame):
        frame, source = obj.copy(), f"<{table} DataFrame>"
        if frame.index.name == "patient_id" and "patient_id" not in frame.columns:
            frame = frame.reset_index()
    elif isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        source = path.name
        frame = _read_path(path, source)
    else:
        raise InputError(
            f"{table} must be a file path or a pandas DataFrame, got {type(obj).__name__}.", source=f"<{table}>"
        )
    names = [str(c).strip().lower() for c in frame.columns]
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    dupes = [n for n, k in seen.items() if k > 1]
    if dupes:
        raise InputError(
            f"column name(s) {dupes} appear more than once (names are compared ignoring case and spaces).",
            source=source, hint="Rename or remove the duplicate columns.",
        )
    frame.columns = names
    if len(frame) == 0:
        raise InputError("the table has a header but no rows.", source=source,
                         hint="Export the table again with its data rows.")
    frame.index = pd.RangeIndex(len(frame))
    return frame, source
