"""Validation of each input table and of the tables against each other.

Everything is checked before anything is computed.  Each check raises an
:class:`~immune_correlates.errors.InputError` naming the file, the column, and
every offending row (patient id and value).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from .parsers import (
    CellContext,
    parse_binary,
    parse_code,
    parse_date,
    parse_number,
    parse_text,
)
from .schema import TableSpec

__all__ = ["validate_table", "check_date_order", "check_response_dates", "check_known_patients", "check_assay_units",
           "empty_table"]


def empty_table(spec: TableSpec) -> pd.DataFrame:
    """A table with the spec's columns and no rows (for a table the user did not give)."""
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in spec.columns})


def _ids(frame: pd.DataFrame, source: str) -> CellContext:
    return CellContext(source, frame["patient_id"].map(lambda v: v if isinstance(v, str) else str(v)))


def validate_table(frame: pd.DataFrame, spec: TableSpec, source: str) -> pd.DataFrame:
    """Check and type one table.

    Returns a new frame whose spec columns are typed (text as object, dates as
    ``datetime64``, numbers and binary codes as float) followed by any extra columns.
    """
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise InputError(
            f"required column(s) {missing} are missing from the {spec.name} table. "
            f"Found columns: {list(frame.columns)}.",
            source=source, column=missing[0], hint="See docs/data-format.md for the expected columns.",
        )
    out = frame.copy()
    ids = parse_text(out["patient_id"].rename("patient_id"), CellContext(source, out["patient_id"].astype(str)), required=True)
    _check_id_text(ids, source)
    out["patient_id"] = ids
    ctx = _ids(out, source)
    for col in spec.columns:
        if col.name == "patient_id" or col.name not in out.columns:
            continue
        series = out[col.name].rename(col.name)
        if col.kind == "text":
            out[col.name] = parse_text(series, ctx, required=col.required)
        elif col.kind == "date":
            out[col.name] = parse_date(series, ctx, required=col.required)
        elif col.kind == "binary":
            out[col.name] = parse_binary(series, ctx, required=col.required)
        elif col.kind in ("number", "integer"):
            out[col.name] = parse_number(
                series, ctx, required=col.required, integer=col.kind == "integer",
                minimum=col.minimum, maximum=col.maximum, strict_min=col.strict_min,
                what="whole numbers" if col.kind == "integer" else "numbers",
            )
        elif col.kind == "code":
            out[col.name] = parse_code(series, ctx, col.allowed, required=col.required)
        else:  # pragma: no cover - the specs are ours
            raise AssertionError(col.kind)
    if spec.key:
        _check_duplicates(out, spec, source)
    spec_cols = [c.name for c in spec.columns if c.name in out.columns]
    return out[spec_cols + [c for c in out.columns if c not in spec_cols]]


def _check_id_text(ids: pd.Series, source: str) -> None:
    padded = ids.map(lambda s: s != s.strip()).to_numpy(dtype=bool)
    if padded.any():
        rows = [{"row": int(i) + 1, "patient_id": ids.iloc[i]} for i in np.flatnonzero(padded)]
        raise InputError("patient ids have leading or trailing spaces", source=source, column="patient_id",
                         rows=rows, hint="Remove the spaces so that ids match across tables.")


def _check_duplicates(frame: pd.DataFrame, spec: TableSpec, source: str) -> None:
    key = list(spec.key)
    dup = frame.duplicated(subset=key, keep=False).to_numpy()
    if dup.any():
        rows = [{"row": int(i) + 1, **{k: frame[k].iloc[i] for k in key}} for i in np.flatnonzero(dup)]
        what = "patients" if key == ["patient_id"] else "rows for the same " + ", ".join(key)
        raise InputError(f"duplicate {what}", source=source, column=key[-1], rows=rows,
                         hint="Keep one row per " + ", ".join(key) + ".")
    folded = frame["patient_id"].str.casefold()
    by_fold = frame.assign(_fold=folded).groupby("_fold")["patient_id"].nunique()
    clash = by_fold[by_fold > 1].index
    if len(clash):
        mask = folded.isin(clash).to_numpy()
        rows = [{"row": int(i) + 1, "patient_id": frame["patient_id"].iloc[i]} for i in np.flatnonzero(mask)]
        raise InputError("patient ids differ only by upper/lower case, which is ambiguous", source=source,
                         column="patient_id", rows=rows, hint="Use one spelling per patient.")


def check_date_order(clinical: pd.DataFrame, source: str) -> None:
    """Event dates must not precede treatment start; progression must not follow death."""
    start = clinical["treatment_start"]
    checks = []
    for col in ("progression_date", "death_date", "last_followup"):
        if col in clinical.columns:
            checks.append((col, clinical[col] < start, f"{col} is before treatment_start"))
    if {"progression_date", "death_date"} <= set(clinical.columns):
        checks.append(("progression_date", clinical["progression_date"] > clinical["death_date"],
                       "progression_date is after death_date"))
    if "progression_date" in clinical.columns:
        alive = clinical["death_date"].isna() if "death_date" in clinical.columns else True
        checks.append(("last_followup", alive & (clinical["last_followup"] < clinical["progression_date"]),
                       "last_followup is before progression_date for a patient without a death date"))
    for col, mask, message in checks:
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows = [
                {"row": int(i) + 1, "patient_id": clinical["patient_id"].iloc[i],
                 "value": clinical[col].iloc[i].date().isoformat(),
                 "treatment_start": clinical["treatment_start"].iloc[i].date().isoformat()}
                for i in np.flatnonzero(mask)
            ]
            raise InputError(message, source=source, column=col, rows=rows,
                             hint="Correct the dates; an event cannot precede the start of treatment.")
    if "response_date" in clinical.columns:
        check_response_dates(clinical, source)


_RESPONDERS = ("CR", "CRi", "nPR", "PR")


def check_response_dates(clinical: pd.DataFrame, source: str) -> None:
    """``response_date`` (optional): only for responders, after treatment start, not after progression or death."""
    resp = clinical["response_date"]
    has = resp.notna()
    checks = [
        (has & ~clinical["best_response"].isin(_RESPONDERS),
         "response_date is given for a patient whose best_response is not a response (CR, CRi, nPR, PR)",
         "Leave response_date empty for SD, PD and NE, or correct best_response."),
        (has & (resp <= clinical["treatment_start"]), "response_date is not after treatment_start",
         "A response is documented after treatment starts; correct the date."),
    ]
    for col in ("progression_date", "death_date", "last_followup"):
        if col in clinical.columns:
            checks.append((has & (resp > clinical[col]), f"response_date is after {col}",
                           "A response is documented before progression, death and the last follow-up; "
                           "correct the dates."))
    for mask, message, hint in checks:
        mask = mask.fillna(False).to_numpy(dtype=bool)
        if mask.any():
            rows = [{"row": int(i) + 1, "patient_id": clinical["patient_id"].iloc[i],
                     "value": resp.iloc[i].date().isoformat(), "best_response": clinical["best_response"].iloc[i]}
                    for i in np.flatnonzero(mask)]
            raise InputError(message, source=source, column="response_date", rows=rows, hint=hint)


def check_known_patients(table: pd.DataFrame, known: pd.Index, table_source: str, clinical_source: str) -> None:
    """Every patient of an assay or adverse-event table must be in the clinical table."""
    unknown = ~table["patient_id"].isin(known).to_numpy()
    if unknown.any():
        rows = [{"row": int(i) + 1, "patient_id": table["patient_id"].iloc[i]} for i in np.flatnonzero(unknown)]
        raise InputError(
            f"patients are not in the clinical table ({clinical_source})", source=table_source,
            column="patient_id", rows=rows,
            hint="Add them to the clinical table or remove their rows (ids must match exactly).",
        )


_UNIT_RANGES = {"%": (0.0, 100.0), "% lysis": (-100.0, 100.0), "index": (0.0, np.inf)}


def check_assay_units(assays: pd.DataFrame, source: str) -> None:
    """Values must lie in the range of their unit: % in 0-100, % lysis <= 100, index >= 0."""
    for unit, (low, high) in _UNIT_RANGES.items():
        sel = (assays["unit"] == unit).to_numpy()
        values = assays["value"].to_numpy(dtype=float)
        bad = sel & ((values < low) | (values > high))
        if bad.any():
            rows = [
                {"row": int(i) + 1, "patient_id": assays["patient_id"].iloc[i], "assay": assays["assay"].iloc[i],
                 "condition": assays["condition"].iloc[i], "value": values[i]}
                for i in np.flatnonzero(bad)
            ]
            rng = f"{low:g} to {high:g}" if np.isfinite(high) else f">= {low:g}"
            raise InputError(f"values with unit {unit!r} must lie in {rng}", source=source, column="value",
                             rows=rows, hint="Check the unit column: percentages are 0-100, not fractions or counts.")
