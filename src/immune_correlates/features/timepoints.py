"""A cohort's long tables as each timepoint's feature pipeline reads them.

:func:`~immune_correlates.build_features` turns one timepoint of the
immunophenotype and function-assay tables into a :class:`GateTable` and an
:class:`AssayTable`, each checked on its own.  :class:`CohortTables` does the
same for a caller that asks for every timepoint
(:func:`~immune_correlates.longitudinal_frame`): with ``split=True`` it checks
each table once, whole, and hands out each timepoint's rows.  The rows and their
checks are those of the timepoint alone: every check is a check of single rows,
or of rows sharing a timepoint, so a table that passes whole passes at every
timepoint; a table that fails whole is checked timepoint by timepoint, so its
error is exactly the one the timepoint alone reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.gating import validate_immunophenotype
from ._common import at_timepoint
from .function import AssayTable, validated_assays
from .populations import GateTable

__all__ = ["CohortTables"]


def _frame_or_empty(cohort, name: str) -> pd.DataFrame:
    frame = getattr(cohort, name, None)
    return frame if isinstance(frame, pd.DataFrame) else pd.DataFrame()


class _Split:
    """One long table checked whole, and the positions of each timepoint's rows (None: checked per timepoint)."""

    def __init__(self, frame: pd.DataFrame, check, source: str | None) -> None:
        self.whole = None
        try:
            whole = check(at_timepoint(frame, None), source=source)
        except Exception:  # reported again, exactly, by the timepoint that has the problem
            return
        self.whole = whole
        self.keyed = "timepoint" in frame.columns
        if self.keyed:
            codes, labels = pd.factorize(whole["timepoint"].astype(str).str.strip())
            self.positions = {label: np.flatnonzero(codes == k) for k, label in enumerate(labels)}

    def rows(self, timepoint) -> pd.DataFrame | None:
        """The checked rows of ``timepoint`` (None when they must be checked on their own)."""
        if self.whole is None:
            return None
        if timepoint is None or not self.keyed:
            return self.whole
        pos = self.positions.get(str(timepoint))
        if pos is None:  # no rows: the timepoint's own (empty) table
            return None
        return self.whole.iloc[pos].reset_index(drop=True)


class CohortTables:
    """A cohort (or cohort-like object) whose long tables feed :func:`build_features` at any timepoint.

    Parameters
    ----------
    cohort : Cohort or any object with ``clinical``, ``immunophenotype``,
        ``function_assays`` and ``sources``.
    split : bool
        Check each long table once and split it by timepoint (for many timepoints);
        otherwise each :meth:`at` checks its timepoint's rows.
    """

    def __init__(self, cohort, *, split: bool = False) -> None:
        self.cohort = cohort
        self.clinical = cohort.clinical
        self.sources = dict(getattr(cohort, "sources", {}) or {})
        self.immunophenotype = _frame_or_empty(cohort, "immunophenotype")
        self.function_assays = _frame_or_empty(cohort, "function_assays")
        self._imm = self._fun = None
        if split and len(self.immunophenotype):
            self._imm = _Split(self.immunophenotype, validate_immunophenotype, self.sources.get("immunophenotype"))
        if split and len(self.function_assays):
            self._fun = _Split(self.function_assays, validated_assays, self.sources.get("function_assays"))

    def at(self, timepoint) -> tuple[GateTable | None, AssayTable | None]:
        """The gate table and assay table of ``timepoint`` (None for a table that was not given)."""
        return (
            self._table(self.immunophenotype, self._imm, GateTable, "immunophenotype", timepoint),
            self._table(self.function_assays, self._fun, AssayTable, "function_assays", timepoint),
        )

    def _table(self, frame: pd.DataFrame, split: _Split | None, kind, name: str, timepoint):
        """``kind`` (GateTable or AssayTable) of ``timepoint``: from the rows checked whole, else checked now."""
        if not len(frame):
            return None
        source = self.sources.get(name)
        rows = split.rows(timepoint) if split is not None else None
        if rows is None:
            return kind(frame, timepoint, source=source)
        return kind.from_validated(rows, timepoint, source=source)
