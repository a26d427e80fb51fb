"""Validation of each input table and of the tables against each other.

Everything is checked before anything is computed, in one pass: every check
appends an :class:`~immune_correlates.errors.InputError` (naming the file, the
column, and every offending row with patient id and value) to a list of
problems, and :func:`~immune_correlates.read_cohort` raises them together.
Called without a ``problems`` list, each function raises its own errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._text import any_hidden, hidden_characters
from ..errors import InputError, combine_input_errors
from .parsers import (
    CellContext,
    map_cells,
    parse_binary,
    parse_code,
    parse_date,
    parse_number,
    parse_text,
)
from .schema import TableSpec

__all__ = [
    "validate_table",
    "check_table",
    "unify_timepoints",
    "check_date_order",
    "check_response_dates",
    "check_known_patients",
    "check_assay_units",
    "empty_table",
    "check_gate_events",
    "check_not_future",
    "check_part_duplicates",
    "raise_problems",
]


def empty_table(spec: TableSpec) -> pd.DataFrame:
    """A table with the spec's columns and no rows (for a table the user did not give)."""
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in spec.columns})


def raise_problems(problems: list) -> None:
    """Raise every collected problem as one :class:`InputError` (nothing when the list is empty)."""
    if problems:
        raise combine_input_errors(problems)


def _report(problems: list | None, error: InputError) -> None:
    if problems is None:
        raise error
    problems.append(error)


def _ids(frame: pd.DataFrame, source: str, problems: list) -> CellContext:
    return CellContext(source, map_cells(frame["patient_id"], _as_text), problems)


def _as_text(v) -> str:
    return v if isinstance(v, str) else str(v)


def validate_table(frame: pd.DataFrame, spec: TableSpec, source: str) -> pd.DataFrame:
    """Check and type one table; an :class:`InputError` reports every problem found.

    Returns a new frame whose spec columns are typed (text as object, dates as
    ``datetime64``, numbers and binary codes as float) followed by any extra columns.
    """
    problems: list = []
    out, _ = check_table(frame, spec, source, problems)
    raise_problems(problems)
    return out


def check_table(
    frame: pd.DataFrame, spec: TableSpec, source: str, problems: list, notes: list | None = None
) -> tuple[pd.DataFrame | None, set[str]]:
    """Check and type one table, appending every problem to ``problems``.

    Returns the typed frame (columns that failed are left as read; ``None``
    when the table has no ``patient_id``) and the set of columns that failed.
    Spelling variants of one timepoint are unified and described in ``notes``.
    """
    collect = problems
    failed: set[str] = set()
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        collect.append(
            InputError(
                f"required column(s) {missing} are missing from the {spec.name} table. "
                f"Found columns: {list(frame.columns)}.",
                source=source,
                column=missing[0],
                hint="See docs/data-format.md for the expected columns.",
            )
        )
        failed.update(missing)
    if "patient_id" in missing:
        return None, failed
    out = frame.copy()
    before_ids = len(collect)
    ids = parse_text(
        out["patient_id"].rename("patient_id"),
        CellContext(source, out["patient_id"].astype(str), collect),
        required=True,
    )
    if len(collect) > before_ids:
        failed.add("patient_id")
    out["patient_id"] = ids
    ctx = _ids(out, source, collect)
    for col in spec.columns:
        if col.name not in out.columns:
            continue
        before = len(collect)
        series = out[col.name].rename(col.name)
        if col.name == "patient_id":
            _check_id_text(ids, source, collect)
        elif col.kind == "text":
            out[col.name] = parse_text(series, ctx, required=col.required)
        elif col.kind == "date":
            out[col.name] = parse_date(series, ctx, required=col.required)
        elif col.kind == "binary":
            out[col.name] = parse_binary(series, ctx, required=col.required)
        elif col.kind in ("number", "integer"):
            out[col.name] = parse_number(
                series,
                ctx,
                required=col.required,
                integer=col.kind == "integer",
                minimum=col.minimum,
                maximum=col.maximum,
                strict_min=col.strict_min,
                what="whole numbers" if col.kind == "integer" else "numbers",
                hint=col.hint,
            )
        elif col.kind == "code":
            out[col.name] = parse_code(series, ctx, col.allowed, required=col.required)
        else:  # pragma: no cover - the specs are ours
            raise AssertionError(col.kind)
        if col.kind == "text" and col.name != "patient_id":
            _check_hidden(out[col.name], ctx, collect)
        if len(collect) > before:
            failed.add(col.name)
    if "timepoint" in out.columns and "timepoint" not in failed:
        out["timepoint"] = unify_timepoints(out["timepoint"], source, notes)
    if spec.key and not failed & set(spec.key):
        _check_duplicates(out, spec, source, collect)
    spec_cols = [c.name for c in spec.columns if c.name in out.columns]
    return out[spec_cols + [c for c in out.columns if c not in spec_cols]], failed


def _check_hidden(values: pd.Series, ctx: CellContext, problems: list) -> None:
    if not any_hidden(values.to_numpy(dtype=object)):
        return
    hidden = values.map(lambda v: bool(hidden_characters(v)) if isinstance(v, str) else False).to_numpy(dtype=bool)
    if hidden.any():
        ctx.fail(
            values,
            hidden,
            "values contain control, bidirectional or invisible characters "
            "(" + ", ".join(dict.fromkeys(c for v in values[hidden] for c in hidden_characters(v))) + ")",
            "Such characters (a NUL byte, a right-to-left override, a zero-width space) change how a value "
            "reads or matches; remove them in the source file.",
        )


def _check_id_text(ids: pd.Series, source: str, problems: list) -> None:
    distinct = pd.unique(ids.to_numpy(dtype=object))
    if not any(isinstance(s, str) and s != s.strip() for s in distinct) and not any_hidden(distinct):
        return
    text = ids.map(lambda s: isinstance(s, str))
    padded = ids.map(lambda s: isinstance(s, str) and s != s.strip()).to_numpy(dtype=bool)
    if padded.any():
        rows = [{"row": int(i) + 1, "patient_id": ids.iloc[i]} for i in np.flatnonzero(padded)]
        problems.append(
            InputError(
                "patient ids have leading or trailing spaces",
                source=source,
                column="patient_id",
                rows=rows,
                hint="Remove the spaces so that ids match across tables.",
            )
        )
    hidden = (text & ids.map(lambda s: isinstance(s, str) and bool(hidden_characters(s)))).to_numpy(dtype=bool)
    if hidden.any():
        rows = [
            {"row": int(i) + 1, "patient_id": ids.iloc[i], "characters": ", ".join(hidden_characters(ids.iloc[i]))}
            for i in np.flatnonzero(hidden)
        ]
        problems.append(
            InputError(
                "patient ids contain control, bidirectional or invisible characters",
                source=source,
                column="patient_id",
                rows=rows,
                hint="A NUL byte, a right-to-left override or a zero-width space makes an id read or match as "
                "another one; remove them in the source file.",
            )
        )


def unify_timepoints(values: pd.Series, source: str, notes: list | None = None) -> pd.Series:
    """One spelling per timepoint: spaces trimmed and collapsed; case variants of one name unified.

    Any case of ``baseline`` becomes ``baseline`` (the name the analysis asks
    for); other names spelt in several cases take their most frequent spelling.
    Each change is described in ``notes``.
    """

    def tidy(v):
        return " ".join(v.split()) if isinstance(v, str) else v

    tidy_values = map_cells(values, tidy)
    spellings = tidy_values.dropna().value_counts(sort=True)
    canon: dict[str, str] = {}
    for spelling in spellings.index:  # most frequent first
        canon.setdefault(spelling.casefold(), "baseline" if spelling.casefold() == "baseline" else spelling)
    out = map_cells(tidy_values, lambda v: canon[v.casefold()] if isinstance(v, str) else v)
    changed = values.notna() & (out != values)
    if notes is not None and changed.any():
        pairs = sorted({(repr(a), b) for a, b in zip(values[changed], out[changed], strict=True)})
        notes.append(
            f"{source}: timepoint spellings unified ({int(changed.sum())} rows): "
            + "; ".join(f"{a} -> {b!r}" for a, b in pairs)
            + "."
        )
    return out.astype(object)


def _check_duplicates(frame: pd.DataFrame, spec: TableSpec, source: str, problems: list | None = None) -> None:
    key = list(spec.key)
    dup = frame.duplicated(subset=key, keep=False).to_numpy()
    if dup.any():
        rows = [{"row": int(i) + 1, **{k: frame[k].iloc[i] for k in key}} for i in np.flatnonzero(dup)]
        what = "patients" if key == ["patient_id"] else "rows for the same " + ", ".join(key)
        _report(
            problems,
            InputError(
                f"duplicate {what}",
                source=source,
                column=key[-1],
                rows=rows,
                hint="Keep one row per " + ", ".join(key) + ".",
            ),
        )
    folded = frame["patient_id"].str.casefold()
    by_fold = frame.assign(_fold=folded).groupby("_fold")["patient_id"].nunique()
    clash = by_fold[by_fold > 1].index
    if len(clash):
        mask = folded.isin(clash).to_numpy()
        rows = [{"row": int(i) + 1, "patient_id": frame["patient_id"].iloc[i]} for i in np.flatnonzero(mask)]
        _report(
            problems,
            InputError(
                "patient ids differ only by upper/lower case, which is ambiguous",
                source=source,
                column="patient_id",
                rows=rows,
                hint="Use one spelling per patient.",
            ),
        )


def _day(value) -> str:
    return value.date().isoformat() if not pd.isna(value) else ""


def check_date_order(
    clinical: pd.DataFrame, source: str, *, problems: list | None = None, skip: set | frozenset = frozenset()
) -> None:
    """Event dates must not precede treatment start; progression must not follow death.

    Columns in ``skip`` (which failed their own checks) are left out.
    """
    has = {
        c
        for c in ("treatment_start", "progression_date", "death_date", "last_followup")
        if c in clinical.columns and c not in skip
    }
    checks = []
    if "treatment_start" in has:
        start = clinical["treatment_start"]
        for col in ("progression_date", "death_date", "last_followup"):
            if col in has:
                checks.append((col, clinical[col] < start, f"{col} is before treatment_start", "treatment_start"))
    if {"progression_date", "death_date"} <= has:
        checks.append(
            (
                "progression_date",
                clinical["progression_date"] > clinical["death_date"],
                "progression_date is after death_date",
                "death_date",
            )
        )
    if {"progression_date", "last_followup"} <= has and ("death_date" in has or "death_date" not in clinical):
        alive = clinical["death_date"].isna() if "death_date" in clinical.columns else True
        checks.append(
            (
                "last_followup",
                alive & (clinical["last_followup"] < clinical["progression_date"]),
                "last_followup is before progression_date for a patient without a death date",
                "progression_date",
            )
        )
    for col, mask, message, other in checks:
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows = [
                {
                    "row": int(i) + 1,
                    "patient_id": clinical["patient_id"].iloc[i],
                    "value": _day(clinical[col].iloc[i]),
                    other: _day(clinical[other].iloc[i]),
                }
                for i in np.flatnonzero(mask)
            ]
            _report(
                problems,
                InputError(
                    message,
                    source=source,
                    column=col,
                    rows=rows,
                    hint="Correct the dates; an event cannot precede the start of treatment and nothing follows death.",
                ),
            )
    if "response_date" in clinical.columns and "response_date" not in skip:
        check_response_dates(clinical, source, problems=problems, skip=skip)


_RESPONDERS = ("CR", "CRi", "nPR", "PR")


def check_response_dates(
    clinical: pd.DataFrame, source: str, *, problems: list | None = None, skip: set | frozenset = frozenset()
) -> None:
    """``response_date`` (optional): only for responders, after treatment start, not after progression or death.

    Columns in ``skip`` already failed their own checks and are not compared.
    """
    resp = clinical["response_date"]
    has = resp.notna()
    checks = []
    if "best_response" not in skip:
        checks.append(
            (
                has & ~clinical["best_response"].isin(_RESPONDERS),
                "response_date is given for a patient whose best_response is not a response (CR, CRi, nPR, PR)",
                "Leave response_date empty for SD, PD and NE, or correct best_response.",
            )
        )
    if "treatment_start" not in skip:
        checks.append(
            (
                has & (resp <= clinical["treatment_start"]),
                "response_date is not after treatment_start",
                "A response is documented after treatment starts; correct the date.",
            )
        )
    for col in ("progression_date", "death_date", "last_followup"):
        if col in clinical.columns and col not in skip:
            checks.append(
                (
                    has & (resp > clinical[col]),
                    f"response_date is after {col}",
                    "A response is documented before progression, death and the last follow-up; correct the dates.",
                )
            )
    for mask, message, hint in checks:
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows = [
                {
                    "row": int(i) + 1,
                    "patient_id": clinical["patient_id"].iloc[i],
                    "value": _day(resp.iloc[i]),
                    "best_response": clinical["best_response"].iloc[i],
                }
                for i in np.flatnonzero(mask)
            ]
            _report(problems, InputError(message, source=source, column="response_date", rows=rows, hint=hint))


def check_not_future(
    table: pd.DataFrame,
    spec: TableSpec,
    source: str,
    *,
    today: pd.Timestamp | None = None,
    problems: list | None = None,
    skip: set | frozenset = frozenset(),
) -> None:
    """No date may lie after today (a follow-up date in the future is a typing error)."""
    today = pd.Timestamp.today().normalize() if today is None else pd.Timestamp(today).normalize()
    for col in (c.name for c in spec.columns if c.kind == "date"):
        if col not in table.columns or col in skip:
            continue
        mask = (table[col] > today).fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows = [
                {"row": int(i) + 1, "patient_id": table["patient_id"].iloc[i], "value": _day(table[col].iloc[i])}
                for i in np.flatnonzero(mask)
            ]
            _report(
                problems,
                InputError(
                    f"dates are in the future (after today, {today.date().isoformat()})",
                    source=source,
                    column=col,
                    rows=rows,
                    hint="Check the year and the day/month order; leave a date empty when the event has not happened.",
                ),
            )


def check_known_patients(
    table: pd.DataFrame, known: pd.Index, table_source: str, clinical_source: str, *, problems: list | None = None
) -> None:
    """Every patient of an assay or adverse-event table must be in the clinical table."""
    unknown = ~table["patient_id"].isin(known).to_numpy()
    if unknown.any():
        rows = [{"row": int(i) + 1, "patient_id": table["patient_id"].iloc[i]} for i in np.flatnonzero(unknown)]
        _report(
            problems,
            InputError(
                f"patients are not in the clinical table ({clinical_source})",
                source=table_source,
                column="patient_id",
                rows=rows,
                hint="Add them to the clinical table or remove their rows (ids must match exactly).",
            ),
        )


def check_gate_events(
    gates: pd.DataFrame, source: str, *, problems: list | None = None, skip: set | frozenset = frozenset()
) -> None:
    """A gate cannot hold more events than its parent gate (same patient and timepoint)."""
    if "event_count" not in gates.columns or {"event_count", "gating_path", "timepoint"} & set(skip):
        return
    paths = gates["gating_path"].astype(str).str.strip()
    parent = paths.str.rpartition("/")[0]
    counts = pd.Series(
        gates["event_count"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays([gates["patient_id"], gates["timepoint"], paths]),
    )
    counts = counts[~counts.index.duplicated()]
    keys = pd.MultiIndex.from_arrays([gates["patient_id"], gates["timepoint"], parent])
    parent_events = counts.reindex(keys).to_numpy()
    child = gates["event_count"].to_numpy(dtype=float)
    bad = (parent != "").to_numpy() & ~np.isnan(parent_events) & ~np.isnan(child) & (child > parent_events)
    if bad.any():
        rows = [
            {
                "row": int(i) + 1,
                "patient_id": gates["patient_id"].iloc[i],
                "timepoint": gates["timepoint"].iloc[i],
                "gating_path": paths.iloc[i],
                "value": child[i],
                "parent_events": parent_events[i],
            }
            for i in np.flatnonzero(bad)
        ]
        _report(
            problems,
            InputError(
                "gates have more events than their parent gate",
                source=source,
                column="event_count",
                rows=rows,
                hint="A population is a subset of its parent; check the gating path and the "
                "exported counts (a swapped row or column).",
            ),
        )


_UNIT_RANGES = {"%": (0.0, 100.0), "% lysis": (-100.0, 100.0), "index": (0.0, np.inf)}


def check_assay_units(
    assays: pd.DataFrame, source: str, *, problems: list | None = None, skip: set | frozenset = frozenset()
) -> None:
    """Values must lie in the range of their unit: % in 0-100, % lysis <= 100, index >= 0."""
    if {"unit", "value", "assay", "condition"} & set(skip):
        return
    for unit, (low, high) in _UNIT_RANGES.items():
        sel = (assays["unit"] == unit).to_numpy()
        values = assays["value"].to_numpy(dtype=float)
        bad = sel & ((values < low) | (values > high))
        if bad.any():
            rows = [
                {
                    "row": int(i) + 1,
                    "patient_id": assays["patient_id"].iloc[i],
                    "assay": assays["assay"].iloc[i],
                    "condition": assays["condition"].iloc[i],
                    "value": values[i],
                }
                for i in np.flatnonzero(bad)
            ]
            rng = f"{low:g} to {high:g}" if np.isfinite(high) else f">= {low:g}"
            _report(
                problems,
                InputError(
                    f"values with unit {unit!r} must lie in {rng}",
                    source=source,
                    column="value",
                    rows=rows,
                    hint="Check the unit column: percentages are 0-100, not fractions or counts.",
                ),
            )


def check_part_duplicates(parts: list, spec: TableSpec, problems: list) -> None:
    """A row of one table given in two files (same key: patient, timepoint, gate or assay) is a duplicate.

    ``parts`` are ``(typed frame, failed columns, file)`` of the files of one table.
    """
    key = list(spec.key)
    usable = [(t, src) for t, failed, src in parts if t is not None and not failed & set(key)]
    if not key or len(usable) < 2:
        return
    stacked = pd.concat(
        [t[key].assign(_file=src, _row=np.arange(1, len(t) + 1)) for t, src in usable], ignore_index=True
    )
    files = stacked.groupby(key, sort=False, dropna=False)["_file"].transform("nunique").to_numpy()
    clash = stacked.loc[files > 1]
    for src, group in clash.groupby("_file", sort=False):
        others = sorted(set(clash["_file"]) - {src})
        problems.append(
            InputError(
                f"rows also given in {', '.join(others)} (same " + ", ".join(key) + ")",
                source=src,
                column=key[-1],
                rows=[{"row": int(r["_row"]), **{k: r[k] for k in key}} for _, r in group.iterrows()],
                hint="Give each row in one file only.",
            )
        )
