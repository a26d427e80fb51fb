"""The validated cohort: four tables and a report of what each patient lacks."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pandas as pd

from .._results import ResultDisplay
from .io import read_table
from .schema import ADVERSE_EVENTS, CLINICAL, FUNCTION_ASSAYS, IMMUNOPHENOTYPE
from .validate import (
    check_assay_units,
    check_date_order,
    check_known_patients,
    empty_table,
    validate_table,
)

__all__ = ["Cohort", "read_cohort"]

TableLike = str | os.PathLike | pd.DataFrame | None


@dataclass(frozen=True, eq=False, repr=False)
class Cohort(ResultDisplay):
    """A validated trial cohort.

    Attributes
    ----------
    clinical : DataFrame
        One row per patient, indexed by ``patient_id``, typed columns.
    immunophenotype, function_assays, adverse_events : DataFrame
        Long tables with a ``patient_id`` column (empty with the documented
        columns when not given).
    sources : dict
        Table name to file name (or ``"<clinical DataFrame>"``).
    exclusions : DataFrame
        ``table``, ``patient_id``, ``reason``: every patient who lacks rows in a
        table that was given.  Such patients are kept; analyses that need the
        table report them again.
    notes : tuple of str
        Plain-text notes (tables not given, ...).
    """

    clinical: pd.DataFrame
    immunophenotype: pd.DataFrame
    function_assays: pd.DataFrame
    adverse_events: pd.DataFrame
    sources: dict = field(default_factory=dict)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["table", "patient_id", "reason"]))
    notes: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)

    @property
    def patient_ids(self) -> pd.Index:
        """The patients of the clinical table, in input order."""
        return self.clinical.index

    @property
    def n_patients(self) -> int:
        return len(self.clinical)

    def _title(self) -> str:
        return f"Cohort of {self.n_patients} patients"

    def summary(self) -> pd.DataFrame:
        """One row per table: source, rows and patients covered."""
        rows = []
        for name in ("clinical", "immunophenotype", "function_assays", "adverse_events"):
            table = getattr(self, name)
            patients = table.index.nunique() if name == "clinical" else table["patient_id"].nunique()
            rows.append({"table": name, "source": self.sources.get(name, "(not given)"),
                         "rows": len(table), "patients": patients})
        return pd.DataFrame(rows).set_index("table")

    def _notes(self) -> list[str]:
        lines = list(self.notes)
        if len(self.exclusions):
            lines.append(f"{len(self.exclusions)} patient-table gap(s): see `exclusions`.")
        return lines


def read_cohort(
    clinical: TableLike,
    immunophenotype: TableLike = None,
    function_assays: TableLike = None,
    adverse_events: TableLike = None,
) -> Cohort:
    """Read and validate a trial's tables.

    Parameters
    ----------
    clinical : path or DataFrame
        One row per patient (see ``docs/data-format.md``).
    immunophenotype, function_assays, adverse_events : path or DataFrame, optional
        Long tables keyed by ``patient_id``.

    Returns
    -------
    Cohort
        Typed tables; nothing on disk is changed and input DataFrames are not modified.

    Raises
    ------
    InputError
        On any invalid cell, missing column, duplicate, date-order violation or
        unknown patient, naming file, column, patients and values.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cohort = ic.read_cohort("data/ofa_len/clinical.csv",
    ...                         immunophenotype="data/ofa_len/immunophenotype.csv")  # doctest: +SKIP
    >>> cohort.n_patients  # doctest: +SKIP
    34
    """
    raw, src = read_table(clinical, "clinical")
    clin = validate_table(raw, CLINICAL, src)
    check_date_order(clin, src)
    sources = {"clinical": src}
    clin = clin.set_index("patient_id", drop=True)
    tables = {}
    notes = []
    gaps = []
    for spec, obj in ((IMMUNOPHENOTYPE, immunophenotype), (FUNCTION_ASSAYS, function_assays),
                      (ADVERSE_EVENTS, adverse_events)):
        if obj is None:
            tables[spec.name] = empty_table(spec)
            notes.append(f"No {spec.name} table was given.")
            continue
        raw_t, src_t = read_table(obj, spec.name)
        table = validate_table(raw_t, spec, src_t)
        check_known_patients(table, clin.index, src_t, src)
        if spec.name == "function_assays":
            check_assay_units(table, src_t)
        tables[spec.name] = table
        sources[spec.name] = src_t
        if spec.name != "adverse_events":  # no adverse event is a valid observation
            lacking = clin.index[~clin.index.isin(table["patient_id"])]
            gaps.extend({"table": spec.name, "patient_id": p, "reason": f"no rows in {src_t}"} for p in lacking)
    exclusions = pd.DataFrame(gaps, columns=["table", "patient_id", "reason"])
    return Cohort(
        clinical=clin,
        immunophenotype=tables["immunophenotype"],
        function_assays=tables["function_assays"],
        adverse_events=tables["adverse_events"],
        sources=sources,
        exclusions=exclusions,
        notes=tuple(notes),
    )
