"""Reading input tables from CSV, TSV, XLSX, Parquet or a DataFrame.

Delimited text is read with every cell as text, so that the validators, not the
reader, decide what a cell means: ``"n/a"`` in a numeric column is reported as an
error naming the cell rather than silently turned into a missing value.

Column names are taken from the file's own header row (never from a reader
that renames a second ``alc`` to ``alc.1``), so duplicated names are caught
in every format; a DataFrame whose columns carry pandas' ``name.1`` renaming
of a duplicate is caught too. NUL bytes and other control characters stay in
the cells, where the validators report them instead of a reader truncating
the cell.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..errors import InputError
from .schema import SPECS

__all__ = ["read_table", "read_data_table", "SUPPORTED_SUFFIXES", "normalise_name", "check_column_map"]

SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet", ".pq")
_KNOWN = {c.name for spec in SPECS.values() for c in spec.columns}
_MANGLED = re.compile(r"^(?P<base>.+)\.(?P<k>\d+)$")
_DELIMITERS = {";": "semicolon", "\t": "tab", ",": "comma", "|": "vertical bar"}


def normalise_name(name) -> str:
    """A column name as matched: surrounding white space removed, lower case."""
    return str(name).strip().lower()


def _delimited(path: Path, sep: str, label: str) -> tuple[list[str], list[list[str]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            source=label,
            hint="Save it as UTF-8 CSV and try again.",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        records = [r for r in reader if r]
    except csv.Error as exc:
        raise InputError(
            f"could not be read as {'CSV' if sep == ',' else 'tab-separated text'}: line {reader.line_num}: {exc}.",
            source=label,
            hint="Check the quotes on that line (a quoted cell must end with a quote followed by the "
            "delimiter); export the table again.",
        ) from exc
    if not records:
        raise InputError("the file has no header row.", source=label)
    header, body = records[0], records[1:]
    header = [name if name.strip() else f"unnamed: {i}" for i, name in enumerate(header)]
    if len(header) == 1:
        found = [name for d, name in _DELIMITERS.items() if d != sep and d in header[0]]
        if found:
            expected = "commas" if sep == "," else "tabs"
            raise InputError(
                f"the header row is a single column {header[0][:80]!r}: the file looks {found[0]}-delimited, "
                f"but a {path.suffix} file must be separated by {expected}.",
                source=label,
                hint="Save it again as 'CSV UTF-8 (Comma delimited)' (Excel in locales with decimal commas writes "
                "semicolons), or as .tsv when it is tab-separated.",
            )
    width = len(header)
    long = []
    rows = []
    for number, record in enumerate(body, start=2):
        if len(record) > width:
            if any(cell.strip() for cell in record[width:]):
                long.append({"line": number, "fields": len(record), "expected": width})
                continue
            record = record[:width]
        rows.append(record + [""] * (width - len(record)))
    if long:
        raise InputError(
            "lines have more fields than the header",
            source=label,
            rows=long,
            hint="Quote cells that contain the delimiter, or remove the stray delimiters.",
        )
    return header, rows


def _read_path(path: Path, label: str) -> tuple[list, pd.DataFrame]:
    """The raw header (as in the file) and the cells."""
    if not path.exists():
        raise InputError(f"file not found: {str(path)!r}.", source=label, hint="Check the path and try again.")
    if path.is_dir():
        raise InputError("expected a file, got a directory.", source=label)
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise InputError(
            "the file is empty (0 bytes).", source=label, hint="Export the table again with its header row."
        )
    if suffix not in SUPPORTED_SUFFIXES:
        raise InputError(f"unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}.", source=label)
    if suffix in (".csv", ".tsv", ".txt"):
        header, rows = _delimited(path, "," if suffix == ".csv" else "\t", label)
        return header, pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    try:
        if suffix == ".xlsx":
            sheet = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
            if sheet.empty:
                raise InputError("the file has no header row.", source=label)
            header = [f"unnamed: {i}" if pd.isna(v) else v for i, v in enumerate(sheet.iloc[0])]
            return header, sheet.iloc[1:].reset_index(drop=True).set_axis(range(len(header)), axis=1)
        import pyarrow.parquet as pq

        header = list(pq.read_schema(path).names)
        table = pq.ParquetFile(path).read()  # not the dataset reader, which refuses duplicated names
        frame = pd.DataFrame({i: table.column(i).to_pandas() for i in range(table.num_columns)})
        keep = [i for i, name in enumerate(header) if not re.fullmatch(r"__index_level_\d+__", str(name))]
        return [header[i] for i in keep], frame[keep].set_axis(range(len(keep)), axis=1)
    except InputError:
        raise
    except Exception as exc:  # parser errors of openpyxl, pyarrow
        raise InputError(f"could not be read as {suffix[1:].upper()}: {exc}", source=label) from exc


def check_column_map(columns: Mapping | None) -> dict[str, str]:
    """Validate a site-name -> our-name column map; returns it with normalised keys."""
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise InputError(
            f"columns= must be a mapping of the site's column names to ours, got {type(columns).__name__}.",
            hint='For example columns={"Patient ID": "patient_id"}.',
        )
    out: dict[str, str] = {}
    for site, ours in columns.items():
        if not isinstance(site, str) or not isinstance(ours, str):
            raise InputError(f"columns= maps names to names (text); got {site!r} -> {ours!r}.")
        target = normalise_name(ours)
        if target not in _KNOWN:
            raise InputError(
                f"columns= maps {site!r} to {ours!r}, which is not a column of any input table.",
                hint=f"Map to one of: {', '.join(sorted(_KNOWN))} (see docs/data-format.md).",
            )
        out[normalise_name(site)] = target
    return out


def read_table(
    obj: str | os.PathLike | pd.DataFrame, table: str, *, columns: Mapping | None = None, used: set | None = None
) -> tuple[pd.DataFrame, str]:
    """Read one input table.

    Parameters
    ----------
    obj : path-like or DataFrame
        The table; a DataFrame is copied, never modified.
    table : str
        The table's role (``"clinical"``, ...), used to label DataFrames.
    columns : mapping, optional
        The site's column names to ours (``{"Patient ID": "patient_id"}``),
        matched ignoring case and surrounding spaces; names not in the table
        are ignored here (:func:`~immune_correlates.read_cohort` checks that
        each is used somewhere).
    used : set, optional
        Receives the (normalised) names of ``columns`` this table has.

    Returns
    -------
    frame : DataFrame
        The table with column names stripped, lower-cased and mapped.
    source : str
        The file name, or ``"<clinical DataFrame>"``, for messages.
    """
    mapping = check_column_map(columns)
    if isinstance(obj, pd.DataFrame):
        frame, source = obj.copy(), f"<{table} DataFrame>"
        if (
            frame.index.name is not None
            and normalise_name(frame.index.name)
            in ("patient_id", *[k for k, v in mapping.items() if v == "patient_id"])
            and not any(normalise_name(c) == normalise_name(frame.index.name) for c in frame.columns)
        ):
            frame = frame.reset_index()
        raw = list(frame.columns)
        frame = frame.set_axis(range(len(raw)), axis=1)
    elif isinstance(obj, (str, os.PathLike)):
        path = Path(obj)
        source = path.name
        raw, frame = _read_path(path, source)
    else:
        raise InputError(
            f"{table} must be a file path or a pandas DataFrame, got {type(obj).__name__}.", source=f"<{table}>"
        )
    names = [mapping.get(normalise_name(c), normalise_name(c)) for c in raw]
    if used is not None:
        used.update(normalise_name(c) for c in raw if normalise_name(c) in mapping)
    by_name: dict[str, list] = {}
    for original, name in zip(raw, names, strict=True):
        by_name.setdefault(name, []).append(original)
    dupes = {n: orig for n, orig in by_name.items() if len(orig) > 1}
    if dupes:
        listed = "; ".join(f"{n!r} from {[str(o) for o in orig]}" for n, orig in dupes.items())
        raise InputError(
            f"column name(s) appear more than once (names are compared ignoring case and surrounding spaces, "
            f"after the columns= mapping): {listed}.",
            source=source,
            hint="Rename or remove the duplicate columns; keep the one in the documented unit.",
        )
    mangled = [
        (o, m.group("base"))
        for o, n in zip(raw, names, strict=True)
        if (m := _MANGLED.match(n)) and m.group("base") in _KNOWN and m.group("base") in by_name
    ]
    if mangled:
        listed = ", ".join(f"{str(o)!r} next to {b!r}" for o, b in mangled)
        raise InputError(
            f"column(s) {listed} look like a duplicated column that pandas renamed on reading.",
            source=source,
            hint="The file had the column twice: remove or rename one of them before reading.",
        )
    frame.columns = names
    if len(frame) == 0:
        raise InputError(
            "the table has a header but no rows.", source=source, hint="Export the table again with its data rows."
        )
    frame.index = pd.RangeIndex(len(frame))
    return frame, source


def read_data_table(path: str | os.PathLike) -> pd.DataFrame:
    """A table whose column names are data (population names, gates), kept exactly as in the file.

    The same readers and checks as :func:`read_table` (CSV, TSV, XLSX, Parquet; stray
    delimiters, empty files), without its lower-casing and column mapping; cells stay as read
    (text for delimited files), for the caller to check.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "counts.csv"
    >>> _ = path.write_text("sample_id,CD8 TEMRA,NK\\nS1,120,340\\n")
    >>> read_data_table(path).columns.tolist()
    ['sample_id', 'CD8 TEMRA', 'NK']
    """
    path = Path(path)
    header, frame = _read_path(path, path.name)
    names = [str(h).strip() for h in header]
    if len(set(names)) < len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"column name(s) {dupes} appear more than once.", source=path.name)
    if len(frame) == 0:
        raise InputError("the table has a header but no rows.", source=path.name)
    return frame.set_axis(names, axis=1)
