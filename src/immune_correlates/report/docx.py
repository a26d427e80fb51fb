"""The report's tables as a Word document (python-docx), ready to paste into a manuscript."""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["tables_docx"]


def tables_docx(title: str, tables: list[tuple[str, str, pd.DataFrame]]) -> bytes:
    """A ``.docx`` with one captioned table per entry.

    Parameters
    ----------
    title : str
    tables : list of (heading, caption, DataFrame)
        Values are written as shown (format them first, e.g. with
        :mod:`.formatting`); NaN becomes an empty cell.

    Returns
    -------
    bytes
    """
    import docx
    from docx.shared import Pt

    doc = docx.Document()
    doc.add_heading(title, level=1)
    for heading, caption, frame in tables:
        doc.add_heading(heading, level=2)
        if caption:
            doc.add_paragraph(caption)
        table = doc.add_table(rows=1, cols=len(frame.columns))
        table.style = "Table Grid"
        for cell, name in zip(table.rows[0].cells, frame.columns):
            cell.text = str(name)
            for run in cell.paragraphs[0].runs:
                run.bold = True
        for values in frame.itertuples(index=False, name=None):
            cells = table.add_row().cells
            for cell, v in zip(cells, values):
                cell.text = (
                    ""
                    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v))
                    else (f"{v:.4g}" if isinstance(v, float) else str(v))
                )
        for row in table.rows:
            for cell in row.cells:
                for p in cell.paragraphs:
                    for run in p.runs:
                        run.font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
