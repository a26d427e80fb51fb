"""Writing an analysis to a directory, all at once or not at all.

Everything is written to a hidden sibling directory first and moved into place
only when complete, so an interrupted run leaves no half-written report; only
the entries we write (``report.html``, ``results.json``, ``tables/``,
``figures/``) are replaced in the target directory.

Tables are written so that they open safely in a spreadsheet: a text cell
(from the data or our own, such as the feature catalogue's ``+cd8_ifng_pct``)
that starts with ``= + - @``, a tab or a carriage return is prefixed with a
single quote, as the OWASP "CSV injection" guidance advises; numeric columns
and text cells that are plain numbers are written unchanged.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from .._text import neutralise_formula

__all__ = ["write_outputs", "to_jsonable", "spreadsheet_safe"]

OUTPUTS = ("tables", "figures", "results.json", "provenance.json", "report.html", "report.docx")


def to_jsonable(value):
    """Plain JSON types; NaN and infinities become ``null`` / strings."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return [to_jsonable(r) for r in value.to_dict(orient="records")]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, int)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as spreadsheet formulas.

    Only text (``str``) cells change; numbers, dates and missing values keep
    their type, so a numeric column is written exactly as before.

    Examples
    --------
    >>> spreadsheet_safe(pd.DataFrame({"id": ["=1+1", "OL001"], "x": [-1.5, 2.0]})).to_dict("list")
    {'id': ["'=1+1", 'OL001'], 'x': [-1.5, 2.0]}
    """
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype) or isinstance(col.dtype, pd.CategoricalDtype):
            out.isetitem(i, col.map(lambda v: neutralise_formula(v) if isinstance(v, str) else v).astype(object))
    out.columns = [neutralise_formula(c) if isinstance(c, str) else c for c in out.columns]
    return out


def figure_png(fig, provenance: dict | None = None) -> bytes:
    """PNG bytes of a figure; the provenance goes into the PNG's text chunks."""
    meta = {"Software": "immune_correlates"}
    if provenance:
        meta["Software"] = f"immune_correlates {provenance.get('package', {}).get('immune_correlates', '')}".strip()
        meta["Comment"] = json.dumps(to_jsonable({k: provenance.get(k) for k in ("inputs", "seed", "command")}))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight", metadata=meta)
    return buf.getvalue()


def write_outputs(
    out_dir: str | Path, *, tables: dict, figures: dict, results: dict, html: str, docx: bytes | None = None
) -> Path:
    """Write tables (CSV), figures (PNG), ``results.json`` and ``report.html`` atomically.

    Parameters
    ----------
    out_dir : path
        Created if needed.
    tables : dict of DataFrame
    figures : dict of (name -> PNG bytes)
    results : dict
        JSON-ready content of ``results.json``.
    html : str
        The rendered report.
    docx : bytes, optional
        The report's tables as a Word document (``report.docx``).
    """
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        (tmp / "tables").mkdir()
        (tmp / "figures").mkdir()
        for name, frame in tables.items():
            safe = spreadsheet_safe(frame)
            # pandas does not quote a carriage return inside a cell when lines end in "\n": quote text then
            has_cr = any(
                safe[c].map(lambda v: isinstance(v, str) and "\r" in v).any()
                for c in safe.columns
                if safe[c].dtype == object
            )
            safe.to_csv(
                tmp / "tables" / f"{name}.csv",
                index=False,
                lineterminator="\n",
                quoting=csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL,
            )
        for name, png in figures.items():
            (tmp / "figures" / f"{name}.png").write_bytes(png)
        (tmp / "results.json").write_text(
            json.dumps(to_jsonable(results), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (tmp / "provenance.json").write_text(
            json.dumps(to_jsonable(results.get("provenance", {})), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (tmp / "report.html").write_text(html, encoding="utf-8")
        if docx is not None:
            (tmp / "report.docx").write_bytes(docx)
        out.mkdir(exist_ok=True)
        for item in OUTPUTS:
            target = out / item
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            if (tmp / item).exists():
                os.replace(tmp / item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
