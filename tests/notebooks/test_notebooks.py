"""Every notebook runs top to bottom in a real kernel, is stored without outputs, and shows its figures.

The kernel gets Jupyter's own inline backend (the test process's ``MPLBACKEND=Agg`` is removed from its
environment), so a figure counts only if a notebook user would see it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # every notebook executed in a real kernel

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))

#: A code cell draws when it calls an ``ic.plots`` function, a ``plot_*`` helper, or pyplot / Axes plotting.
DRAWS = re.compile(r"(\bplots\.\w+\(|\bplot_\w+\(|\bplt\.(subplots|figure|plot)\(|\bax\.(plot|scatter|bar)\()")


def _execute(nb, tmp_path, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel picks the notebook (inline) backend
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == [], [f"{e.ename}: {e.evalue}" for e in errors]


def _has_image(cell) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.outputs)


def test_the_six_analysis_notebooks_are_there():
    names = [p.stem for p in NOTEBOOKS]
    for expected in (
        "01_data_and_features",
        "02_responders_vs_nonresponders",
        "03_logistic_complete_remission",
        "04_cox_progression_free_survival",
        "05_screening_and_multiplicity",
        "06_power_and_design",
        "08_immune_monitoring_over_time",
    ):
        assert expected in names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stripped_runs_and_shows_every_figure(path, tmp_path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs must be stripped"
    _execute(nb, tmp_path, monkeypatch)
    drawing = [c for c in nb.cells if c.cell_type == "code" and DRAWS.search(c.source)]
    blank = [c.source.splitlines()[0] for c in drawing if not _has_image(c)]
    assert blank == [], f"{path.name}: cells that draw but show no image: {blank}"


def test_figures_keep_displaying_after_package_plots(tmp_path, monkeypatch):
    """The user's own pyplot figure after ic.plots cells still displays (interactive mode survives)."""
    cells = [
        (
            "import warnings; warnings.simplefilter('ignore')\n"
            "import matplotlib as mpl, matplotlib.pyplot as plt\nimport immune_correlates as ic\n"
            "frame = ic.analysis_frame(ic.datasets.load_ofa_len())"
        ),
        "ax = ic.plots.response_boxplot(frame, 'nk_per_ul', log=True)",
        "fig = ic.plots.response_panel(frame, ['cd3_per_ul', 'nk_per_ul'])",
        "ax = ic.plots.kaplan_meier(frame, 'pfs_months', 'pfs_event', group='cr')",
        "ax = ic.plots.swimmer(frame)",
        "fig, ax = plt.subplots()\nax.plot([0, 1], [1, 0]);",
        "print(plt.isinteractive(), mpl.get_backend())",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    _execute(nb, tmp_path, monkeypatch)
    assert [_has_image(c) for c in nb.cells[1:6]] == [True] * 5
    assert "image/png" not in str(nb.cells[0].outputs)
    assert nb.cells[6].outputs[0]["text"].startswith("True module://matplotlib_inline")
