"""The validated cohort: four tables and a report of what each patient lacks."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

import pandas as pd

from .._params import COUNT, MAPPING, check_params
from .._results import ResultDisplay
from ..errors import InputError
from .io import check_column_map, read_table
from .samples import BASELINE_WINDOW, SAMPLE_COLUMNS, check_samples, sample_rows
from .schema import ADVERSE_EVENTS, CLINICAL, FUNCTION_ASSAYS, IMMUNOPHENOTYPE
from .validate import (
    check_assay_units,
    check_date_order,
    check_gate_events,
    check_known_patients,
    check_not_future,
    check_part_duplicates,
    check_table,
    empty_table,
    raise_problems,
)

__all__ = ["Cohort", "read_cohort"]

TableLike: TypeAlias = str | os.PathLike | pd.DataFrame | None
#: A table, or one table in several files (baseline and on-treatment exports).
TablesLike: TypeAlias = TableLike | list | tuple


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
    samples : DataFrame
        One row per patient and timepoint of the immunophenotype and assay tables:
        ``patient_id``, ``timepoint``, ``day`` (days from ``treatment_start``),
        ``day_source`` (``"day"``, ``"sample_date"`` or ``"nominal"``: placed at the
        timepoint's nominal day), ``sample_date``, ``alc`` (the sample's lymphocyte
        count, when given) and ``tables`` (which tables measured it); see
        :mod:`immune_correlates.data.samples`.
    """

    clinical: pd.DataFrame
    immunophenotype: pd.DataFrame
    function_assays: pd.DataFrame
    adverse_events: pd.DataFrame
    sources: dict = field(default_factory=dict)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["table", "patient_id", "reason"]))
    notes: tuple[str, ...] = ()
    metadata: dict = field(default_factory=dict)
    samples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SAMPLE_COLUMNS))

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
    baseline_window=COUNT,
)
def read_cohort(
    clinical: TableLike,
    immunophenotype: TablesLike = None,
    function_assays: TablesLike = None,
    adverse_events: TablesLike = None,
    *,
    columns: Mapping[str, str] | None = None,
    baseline_window: int = BASELINE_WINDOW,
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
    immunophenotype, function_assays, adverse_events : path or DataFrame, or a list of them, optional
        Long tables keyed by ``patient_id``.  A list is one table in several files (for
        example the baseline export and the on-treatment export); each file is checked
        on its own (errors name it and its rows), then together (a row in two files is a
        duplicate).
    columns : mapping, optional
        The site's column names to ours, applied to every table and matched
        ignoring case and surrounding spaces, e.g. ``{"Patient ID": "patient_id",
        "ALC (10^9/L)": "alc"}``. Each name must occur in at least one table.
    baseline_window : int
        Days before ``treatment_start`` within which a sample may be drawn (default 28).

    Returns
    -------
    Cohort
        Typed tables and ``samples`` (the day of every patient's timepoints); nothing
        on disk is changed and input DataFrames are not modified.

    Raises
    ------
    InputError
        On any unreadable file, invalid cell, missing or duplicated column,
        duplicate row, date-order violation, future date, gate with more events
        than its parent, unknown patient, or sample-timing problem (a timepoint
        that cannot be placed in time, day and sample_date that disagree, two days
        for one sample, a sample outside the baseline window, after death or after
        the last follow-up), naming file, column, patients and values.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> cohort = ic.read_cohort("data/ofa_len/clinical.csv",
    ...                         immunophenotype=["data/ofa_len/immunophenotype.csv",
    ...                                          "data/ofa_len/immunophenotype_on_treatment.csv"],
    ...                         columns={"Patient ID": "patient_id"})  # doctest: +SKIP
    >>> cohort.samples.groupby("timepoint")["day"].median()  # doctest: +SKIP
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
    checked: dict[str, list] = {}
    used: set[str] = set()
    for spec, obj in given:
        checked[spec.name] = _read_parts(spec, obj, columns, used, problems, notes)
    unused = [site for site in mapping if site not in used]
    if unused and all(src is not None for parts in checked.values() for _, _, src in parts):
        problems.append(
            InputError(
                f"columns= names {unused}, which no table has.",
                hint="Check the spelling of the site's column names (case and surrounding spaces are ignored).",
            )
        )
    clin, clin_failed, src = (checked.get("clinical") or [(None, {"patient_id"}, "clinical")])[0]
    src = src or "clinical"
    if clin is not None:
        check_date_order(clin, src, problems=problems, skip=clin_failed)
        check_not_future(clin, CLINICAL, src, problems=problems, skip=clin_failed)
    known = None if clin is None or "patient_id" in clin_failed else pd.Index(clin["patient_id"])
    timing = _timing_clinical(clin, clin_failed)
    rows = []
    for spec in (IMMUNOPHENOTYPE, FUNCTION_ASSAYS, ADVERSE_EVENTS):
        for table, failed, src_t in checked.get(spec.name, []):
            if table is None:
                continue
            if known is not None and "patient_id" not in failed:
                check_known_patients(table, known, src_t, src, problems=problems)
            if spec is FUNCTION_ASSAYS:
                check_assay_units(table, src_t, problems=problems, skip=failed)
            if spec is IMMUNOPHENOTYPE:
                check_gate_events(table, src_t, problems=problems, skip=failed)
            if spec is not ADVERSE_EVENTS:
                check_not_future(table, spec, src_t, problems=problems, skip=failed)
                if not {"patient_id", "timepoint"} & failed:
                    rows.append(sample_rows(table, spec.name, src_t, timing, problems=problems, skip=failed))
    samples = check_samples(
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(),
        timing,
        problems=problems,
        notes=notes,
        window=baseline_window,
    )
    specs = {s.name: s for s in (IMMUNOPHENOTYPE, FUNCTION_ASSAYS, ADVERSE_EVENTS)}
    combined = {name: _combine(parts, specs[name], problems) for name, parts in checked.items() if name in specs}
    raise_problems(problems)
    return _assemble(clin, src, combined, samples, notes)


def _read_parts(spec, obj, columns, used, problems, notes) -> list:
    """Read and check each file of one table: ``[(typed frame or None, failed columns, source), ...]``."""
    parts = list(obj) if isinstance(obj, list | tuple) else [obj]
    if spec is CLINICAL and len(parts) != 1:
        problems.append(
            InputError("clinical must be one table (a path or a DataFrame), not a list.", source="clinical")
        )
        return []
    if not parts:
        problems.append(InputError(f"{spec.name} is an empty list: give a path, a DataFrame or a list of them."))
    out: list[tuple] = []
    for part in parts:
        try:
            raw, src = read_table(part, spec.name, columns=columns, used=used)
        except InputError as exc:
            problems.append(exc)
            out.append((None, {"patient_id"}, None))  # unreadable: the other files are still checked
            continue
        table, failed = check_table(raw, spec, src, problems, notes)
        out.append((table, failed, src))
    return out


def _timing_clinical(clin, failed) -> pd.DataFrame | None:
    """The clinical columns the sample-timing checks compare with (None when they cannot be used)."""
    if clin is None or {"patient_id", "treatment_start"} & failed:
        return None
    cols = [
        c for c in ("patient_id", "treatment_start", "death_date", "last_followup") if c in clin and c not in failed
    ]
    return clin[cols].drop_duplicates("patient_id")


def _combine(parts: list, spec, problems: list):
    """One table from its files (a row in two files is a duplicate)."""
    parts = [p for p in parts if p[0] is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    failed = set().union(*(p[1] for p in parts))
    check_part_duplicates(parts, spec, problems)
    table = pd.concat([p[0] for p in parts], ignore_index=True)
    return table, failed, " + ".join(p[2] for p in parts)


def _assemble(clin, src, combined: dict, samples: pd.DataFrame, notes: list) -> Cohort:
    sources = {"clinical": src}
    clin = clin.set_index("patient_id", drop=True)
    tables = {}
    gaps: list[dict] = []
    for spec in (IMMUNOPHENOTYPE, FUNCTION_ASSAYS, ADVERSE_EVENTS):
        if combined.get(spec.name) is None:
            tables[spec.name] = empty_table(spec)
            notes.append(f"No {spec.name} table was given.")
            continue
        table, _, src_t = combined[spec.name]
        tables[spec.name] = table
        sources[spec.name] = src_t
        if spec.name != "adverse_events":  # no adverse event is a valid observation
            lacking = clin.index[~clin.index.isin(table["patient_id"])]
            gaps.extend({"table": spec.name, "patient_id": p, "reason": f"no rows in {src_t}"} for p in lacking)
    order = pd.Series(range(len(clin)), index=clin.index)
    samples = (
        samples.assign(_order=samples["patient_id"].map(order))
        .sort_values(["_order", "day", "timepoint"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    return Cohort(
        clinical=clin,
        immunophenotype=tables["immunophenotype"],
        function_assays=tables["function_assays"],
        adverse_events=tables["adverse_events"],
        sources=sources,
        exclusions=pd.DataFrame(gaps, columns=["table", "patient_id", "reason"]),
        notes=tuple(notes),
        samples=samples,
    )
