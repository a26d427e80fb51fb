"""``--figure-format``: the report's figures also as vector files with embedded fonts; bad formats refused."""

from __future__ import annotations

import matplotlib.pyplot as plt

from immune_correlates.cli import main
from immune_correlates.report.figures import export_figures


def test_unknown_figure_format_is_refused_with_one_line(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "r"), "--figure-format", "png,docx"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--figure-format" in err and "docx" in err
    assert not (tmp_path / "r").exists()


def test_export_writes_each_format_with_truetype_fonts(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.set_xlabel("Months from start of treatment")
    paths = export_figures({"km": (fig, "caption")}, tmp_path, ("pdf", "svg"))
    assert [p.name for p in paths] == ["km.pdf", "km.svg"]
    assert b"/FontFile2" in paths[0].read_bytes()
    assert "Months from start of treatment" in paths[1].read_text()
    plt.close(fig)
