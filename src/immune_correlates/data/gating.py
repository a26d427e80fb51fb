"""Gating paths of an immunophenotype table: their grammar and the checks of a long table.

A gating path ``Lymphocytes/CD3+/CD4+`` names a population and its ancestors,
root first.  Every reader (the long CSV of :func:`~.cohort.read_cohort`,
FlowJo's CSV export in :mod:`.flowjo`, FlowJo workspaces in
:mod:`.flowjo_workspace`) hands its table to :func:`validate_immunophenotype`,
so a bad path or value is refused the same way whatever the source.
"""

from __future__ import annotations

import pandas as pd

from .._checks import check_range, check_unique, raise_bad_rows
from ..errors import InputError
from .parsers import map_cells

__all__ = ["ROOT", "split_path", "normalise_path", "empty_gate", "validate_immunophenotype"]

ROOT = "Lymphocytes"


def empty_gate(path: str) -> bool:
    """Whether a gating path has an empty gate name (``A//B``, a leading or trailing ``/``)."""
    return any(not p.strip() for p in str(path).split("/"))


def split_path(path: str) -> list[str]:
    """The prefixes of a gating path, root first (white space around each gate name trimmed).

    A path with an empty gate name (``Lymphocytes//CD3+``, ``Lymphocytes/CD3+/``)
    is refused: the gap may stand for a gate that was left out, so it is
    never closed silently.

    Examples
    --------
    >>> split_path("Lymphocytes/CD3+/CD4+")
    ['Lymphocytes', 'Lymphocytes/CD3+', 'Lymphocytes/CD3+/CD4+']
    >>> split_path("Lymphocytes//CD3+")
    Traceback (most recent call last):
    ...
    immune_correlates.errors.InputError: gating path 'Lymphocytes//CD3+' has an empty gate name (between two '/' or at an end); write every gate of the path, e.g. 'Lymphocytes/CD3+' if nothing is missing.
    """
    if empty_gate(path):
        raise InputError(_empty_gate_message(path))
    parts = [p.strip() for p in str(path).split("/")]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _empty_gate_message(path: str) -> str:
    closed = "/".join(p.strip() for p in str(path).split("/") if p.strip())
    return (
        f"gating path {path!r} has an empty gate name (between two '/' or at an end); write every gate "
        f"of the path, e.g. {closed!r} if nothing is missing."
    )


def normalise_path(path: str) -> str:
    """Trim white space around each gate name of a path (an empty gate name is refused)."""
    return split_path(path)[-1]


def validate_immunophenotype(frame: pd.DataFrame, *, source: str | None) -> pd.DataFrame:
    """Check a long immunophenotype table (one timepoint or several); return a clean copy.

    Raises InputError (naming patient, timepoint, column, value) for a gating
    path with an empty gate name, a percentage outside 0-100, negative events,
    zero or negative bead numbers or volumes, and repeated (patient,
    timepoint, gating_path) rows.
    """
    out = frame.copy()
    if len(out) == 0:
        return out
    paths = out["gating_path"].astype(str)
    gaps = map_cells(paths, empty_gate)
    raise_bad_rows(
        out,
        gaps,
        "gating_path",
        "has an empty gate name (between two '/' or at an end)",
        source=source,
        hint="Write every gate of the path (e.g. 'Lymphocytes/CD3+/CD4+'): an empty name may stand for a gate "
        "that was left out, so it is not closed silently and the sample's counts would otherwise stay empty.",
    )
    out["gating_path"] = map_cells(paths, normalise_path)
    check_range(
        out, "freq_of_parent", low=0, high=100, source=source, what="percent of parent gate", extra=["gating_path"]
    )
    if "event_count" in out.columns:
        check_range(out, "event_count", low=0, source=source, what="events in the gate", extra=["gating_path"])
    for col, what in (
        ("bead_events", "counting-bead events"),
        ("beads_per_tube", "beads per tube"),
        ("sample_volume_ul", "blood volume stained, uL"),
    ):
        if col in out.columns:
            check_range(out, col, low=0, low_inclusive=False, source=source, what=what, extra=["gating_path"])
    check_unique(
        out,
        ["patient_id", "timepoint", "gating_path"],
        source=source,
        what="one row per patient, timepoint and gating path",
    )
    return out
