"""The validated cohort: four tables and a report of what each patient lacks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import pandas as pd

from .._params import MAPPING, check_params
from .._results import ResultDisplay
from ..errors import InputError
from .io import check_column_map, read_table
from .schema import ADVERSE_EVENTS, CLINICAL, FUNCTION_ASSAYS, IMMUNOPHENOTYPE
from .validate import (
    check_assay_units,
    check_date_order,
    check_gate_events,
    check_known_patients,
    check_not_future,
    check_table,
    empty_table,
    raise_problems,
)

__all__ = ["Cohort", "read_cohort"]

TableLike: TypeAlias = str | os.PathLike | pd.DataFrame | None


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
            rows.append(
                {
                    "table": name,
                    "source": self.sources.get(name, "(not given)"),
                    "rows": len(table),
                    "patients": patients,
                }
            )
        return pd.DataFrame(rows).set_index("table")

    def _notes(self) -> list[str]:
        lines = list(self.notes)
        if len(self.exclusions):
            lines.append(f"{len(self.exclusions)} patient-table gap(s): see `exclusions`.")
        return lines


@check_params(
    columns=MAPPING,
)
def read_cohort(
    clinical: TableLike,
    immunophenotype: TableLike = None,
    function_assays: TableLike = None,
    adverse_events: TableLike = None,
    *,
    columns: Mapping[str, str] | None = None,
) -> Cohort:
    """Read and validate a trial's tables.

    Every table is read and checked before anything is computed, and every
    problem of every file is reported at once: an :class:`InputError` grouped
    by file and column, listing up to 20 rows each and then a count (its
    ``problems`` attribute holds one error per problem).

    Parameters
    ----------
    clinical : path or DataFrame
        One row per patient (see ``docs/data-format.md``).
    immunophenotype, function_assays, adverse_events : path or DataFrame, optional
        Long tables keyed by ``patient_id``.
    columns : mapping, optional
        The site's column names to ours, applied to every table and matched
        ignoring case and surrounding spaces, e.g. ``{"Patient ID": "patient_id",
        "ALC (10^9/L)": "alc"}``. Each name must occur in at least one table.

    Returns
    -------
    Cohort
        Typed tables; nothing on disk is changed and input DataFrames are not modified.

    Raises
    ------
    InputError
        On any unreadable file, invalid cell, missing or duplicated column,
        duplicate row, date-order violation, future date, gate with more events
        than its parent, or unknown patient, naming file, column, patients and values.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cohort = ic.read_cohort("data/ofa_len/clinical.csv",
    ...                         immunophenotype="data/ofa_len/immunophenotype.csv",
    ...                         columns={"Patient ID": "patient_id"})  # doctest: +SKIP
    >>> cohort.n_patients  # doctest: +SKIP
    34
    """
    mapping = check_column_map(columns)
    problems: list = []
    notes: list[str] = []
    given = [
        (spec, obj)
        for spec, obj in (
            (CLINICAL, clinical),
            (IMMUNOPHENOTYPE, immunophenotype),
            (FUNCTION_ASSAYS, function_assays),
            (ADVERSE_EVENTS, adverse_events),
        )
        if obj is not None or spec is CLINICAL
    ]
    checked = _read_tables(given, columns, mapping, problems, notes)
    _check_across_tables(checked, problems)
    raise_problems(problems)  # every problem of every file, in one error
    return _cohort(checked, notes)


def _read_tables(given, columns, mapping, problems: list, notes: list) -> dict[str, tuple]:
    """Each table read and checked on its own: ``{name: (table, failed columns, source)}``."""
    checked: dict[str, tuple] = {}
    used: set[str] = set()
    for spec, obj in given:
        try:
            raw, src = read_table(obj, spec.name, columns=columns, used=used)
        except InputError as exc:
            problems.append(exc)
            continue
        table, failed = check_table(raw, spec, src, problems, notes)
        checked[spec.name] = (table, failed, src)
    unused = [site for site in mapping if site not in used]
    if unused and len(checked) == len(given):
        problems.append(
            InputError(
                f"columns= names {unused}, which no table has.",
                hint="Check the spelling of the site's column names (case and surrounding spaces are ignored).",
            )
        )
    return checked


def _check_across_tables(checked: dict[str, tuple], problems: list) -> None:
    """Dates in order, no future dates, every patient known to the clinical table, assay units, gate events."""
    clin, clin_failed, src = checked.get("clinical", (None, {"patient_id"}, "clinical"))
    if clin is not None:
        check_date_order(clin, src, problems=problems, skip=clin_failed)
        check_not_future(clin, CLINICAL, src, problems=problems, skip=clin_failed)
    known = None if clin is None or "patient_id" in clin_failed else pd.Index(clin["patient_id"])
    for name, (table, failed, src_t) in checked.items():
        if name == "clinical" or table is None:
            continue
        if known is not None and "patient_id" not in failed:
            check_known_patients(table, known, src_t, src, problems=problems)
        if name == "function_assays":
            check_assay_units(table, src_t, problems=problems, skip=failed)
        if name == "immunophenotype":
            check_gate_events(table, src_t, problems=problems, skip=failed)


def _cohort(checked: dict[str, tuple], notes: list[str]) -> Cohort:
    """The Cohort of valid tables, with the patients a table has no rows for listed in ``exclusions``."""
    clin, _, src = checked["clinical"]
    sources = {"clinical": src}
    clin = clin.set_index("patient_id", drop=True)
    tables = {}
    gaps: list[dict] = []
    for spec in (IMMUNOPHENOTYPE, FUNCTION_ASSAYS, ADVERSE_EVENTS):
        if spec.name not in checked:
            tables[spec.name] = empty_table(spec)
            notes.append(f"No {spec.name} table was given.")
            continue
        table, _, src_t = checked[spec.name]
        tables[spec.name] = table
        sources[spec.name] = src_t
        if spec.name != "adverse_events":  # no adverse event is a valid observation
            lacking = clin.index[~clin.index.isin(table["patient_id"])]
            gaps.extend({"table": spec.name, "patient_id": p, "reason": f"no rows in {src_t}"} for p in lacking)
    return Cohort(
        clinical=clin,
        immunophenotype=tables["immunophenotype"],
        function_assays=tables["function_assays"],
        adverse_events=tables["adverse_events"],
        sources=sources,
        exclusions=pd.DataFrame(gaps, columns=["table", "patient_id", "reason"]),
        notes=tuple(notes),
    )
