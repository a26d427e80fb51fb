"""The report as a Word document (python-docx): the same sections as the HTML, ready for a manuscript.

Key findings, every section's text, its tables (formatted as shown, with
captions and footnotes) and its figures (PNG at the page width), then the
methods.
"""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["report_docx", "tables_docx"]


def _cell_text(v) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
        return ""
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _add_table(doc, frame: pd.DataFrame, caption: str = "", footnotes=()) -> None:
    from docx.shared import Pt

    if caption:
        doc.add_paragraph(caption, style="Caption")
    table = doc.add_table(rows=1, cols=len(frame.columns))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, frame.columns):
        cell.text = str(name)
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for values in frame.itertuples(index=False, name=None):
        for cell, v in zip(table.add_row().cells, values):
            cell.text = _cell_text(v)
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8)
    for note in footnotes:
        doc.add_paragraph(note).runs[0].font.size = Pt(8)


def _document(title: str):
    import docx
    from docx.enum.section import WD_ORIENT
    from docx.shared import Cm

    doc = docx.Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE  # Table 1 and the model tables are wide
    section.page_width, section.page_height = section.page_height, section.page_width
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.8))
    doc.add_heading(title, level=1)
    return doc


def _save(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def report_docx(title: str, subtitle: str, sections: list[dict], *, figures: dict, methods=()) -> bytes:
    """The whole report as ``.docx`` bytes.

    Parameters
    ----------
    title, subtitle : str
    sections : list of dict
        As :func:`.sections.build_sections`: ``title``, ``text``, ``tables``
        (``caption``, ``frame``, ``footnotes``), ``figures`` (names).
    figures : dict
        Figure name -> ``(png bytes, caption)``.
    methods : list of (heading, text)
    """
    from docx.shared import Cm

    doc = _document(title)
    doc.add_paragraph(subtitle)
    width = doc.sections[0].page_width - doc.sections[0].left_margin - doc.sections[0].right_margin
    for s in sections:
        doc.add_heading(s["title"], level=2)
        for paragraph in (s.get("text") or "").split("\n\n"):
            if paragraph:
                doc.add_paragraph(paragraph)
        for t in s["tables"]:
            _add_table(doc, t["frame"], t["caption"], t.get("footnotes", ()))
        for name in s["figures"]:
            png, caption = figures[name]
            doc.add_picture(io.BytesIO(png), width=min(width, Cm(24)))
            doc.add_paragraph(caption, style="Caption")
    if methods:
        doc.add_heading("Methods", level=2)
        for heading, text in methods:
            p = doc.add_paragraph()
            p.add_run(f"{heading}. ").bold = True
            p.add_run(text)
    return _save(doc)


def tables_docx(title: str, tables: list[tuple[str, str, pd.DataFrame]]) -> bytes:
    """A ``.docx`` with one captioned table per ``(heading, caption, DataFrame)`` (values written as shown)."""
    doc = _document(title)
    for heading, caption, frame in tables:
        doc.add_heading(heading, level=2)
        _add_table(doc, frame, caption)
    return _save(doc)
