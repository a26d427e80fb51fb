"""When each blood sample was drawn: the timepoints of the immunophenotype and assay tables.

A sample is one patient at one timepoint (``baseline``, ``C1D15``, ``C3D1``, ``EOT``...).
Its study day counts from the first dose (``treatment_start`` is day 0, so C1D15 is day 14)
and comes from, in this order:

1. a ``day`` column (whole days from ``treatment_start``);
2. a ``sample_date`` column (the day is the date minus ``treatment_start``);
3. the timepoint's name: ``baseline`` is day 0 and ``C<k>D<d>`` (cycle ``k``, day ``d`` of
   28-day cycles) is day ``28 (k - 1) + d - 1``, the visit's nominal day.

Any other timepoint without a day or a date cannot be placed in time and is an error.
The checks (all reported together by :func:`~immune_correlates.read_cohort`): ``day`` and
``sample_date`` agree where both are given; the rows of one sample agree on its day (two
draws under one timepoint name are two samples and need two names) and on its ``alc``;
the same sample has the same day in both tables; no sample is drawn more than the baseline
window (28 days by default) before ``treatment_start``; a ``baseline`` sample is not drawn
after it; no sample follows the patient's death or last follow-up.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import InputError

__all__ = [
    "BASELINE",
    "BASELINE_WINDOW",
    "CYCLE_DAYS",
    "SAMPLE_COLUMNS",
    "check_samples",
    "nominal_day",
    "sample_rows",
    "samples_of",
]

BASELINE = "baseline"
#: Days before ``treatment_start`` within which a sample may be drawn (screening window).
BASELINE_WINDOW = 28
#: Length of a treatment cycle for the nominal day of ``C<k>D<d>`` timepoints.
CYCLE_DAYS = 28
#: Columns of :attr:`Cohort.samples <immune_correlates.Cohort.samples>`.
SAMPLE_COLUMNS = ["patient_id", "timepoint", "day", "day_source", "sample_date", "alc", "tables"]

_CYCLE_DAY = re.compile(r"^C(?P<cycle>\d+)\s*D(?P<day>\d+)$", re.IGNORECASE)
_MAX_ROWS = 200  # offending samples listed per error (the message lists 20 and counts the rest)


def nominal_day(timepoint) -> float:
    """Nominal study day of a timepoint name: 0 for ``baseline``, ``28 (k - 1) + d - 1`` for ``CkDd``, else NaN.

    Examples
    --------
    >>> [nominal_day(t) for t in ("baseline", "C1D1", "C1D15", "C3D1", "EOT")]
    [0.0, 0.0, 14.0, 56.0, nan]
    """
    text = str(timepoint).strip()
    if text.casefold() == BASELINE:
        return 0.0
    m = _CYCLE_DAY.match(text)
    if m is None or int(m.group("cycle")) < 1 or int(m.group("day")) < 1:
        return float("nan")
    return float(CYCLE_DAYS * (int(m.group("cycle")) - 1) + int(m.group("day")) - 1)


def _days_from_start(dates: pd.Series, start: pd.Series) -> np.ndarray:
    delta = (pd.to_datetime(dates) - pd.to_datetime(start)).dt.days
    return delta.to_numpy(dtype=float, na_value=np.nan)


def sample_rows(
    table: pd.DataFrame, name: str, source: str, clinical: pd.DataFrame | None, *, problems: list, skip=frozenset()
) -> pd.DataFrame:
    """One row per table row: where it comes from, its sample and its measured day (NaN when not given).

    Appends an error for every row whose ``day`` disagrees with its ``sample_date``.
    ``clinical`` has ``patient_id`` and ``treatment_start`` columns (None when unusable).
    """
    n = len(table)
    out = pd.DataFrame(
        {
            "file": source,
            "table": name,
            "row": np.arange(1, n + 1),
            "patient_id": table["patient_id"].to_numpy(dtype=object),
            "timepoint": table["timepoint"].to_numpy(dtype=object),
        }
    )
    day = (
        pd.to_numeric(table["day"], errors="coerce").to_numpy(dtype=float)
        if "day" in table.columns and "day" not in skip
        else np.full(n, np.nan)
    )
    dates = (
        table["sample_date"]
        if "sample_date" in table.columns and "sample_date" not in skip
        else pd.Series(pd.NaT, index=table.index)
    )
    from_date = np.full(n, np.nan)
    if clinical is not None and dates.notna().any():
        start = table["patient_id"].map(clinical.set_index("patient_id")["treatment_start"])
        from_date = _days_from_start(dates, start)
    clash = ~np.isnan(day) & ~np.isnan(from_date) & (day != from_date)
    if clash.any() and clinical is not None:  # from_date is known only with the clinical dates
        start = table["patient_id"].map(clinical.set_index("patient_id")["treatment_start"])
        problems.append(
            InputError(
                "day and sample_date disagree (day counts from treatment_start = day 0, so C1D15 is day 14)",
                source=source,
                column="day",
                rows=[
                    {
                        "row": int(i) + 1,
                        "patient_id": out["patient_id"].iat[i],
                        "timepoint": out["timepoint"].iat[i],
                        "value": int(day[i]),
                        "sample_date": dates.iat[i].date().isoformat(),
                        "days_from_treatment_start": int(from_date[i]),
                    }
                    for i in np.flatnonzero(clash)
                ],
                hint="Correct one of them; a study day of 1 for the first dose is day 0 here.",
            )
        )
    out["day"] = np.where(np.isnan(day), from_date, day)
    out["day_source"] = np.where(~np.isnan(day), "day", np.where(~np.isnan(from_date), "sample_date", ""))
    out["sample_date"] = dates.to_numpy()
    out["alc"] = (
        pd.to_numeric(table["alc"], errors="coerce").to_numpy(dtype=float)
        if name == "immunophenotype" and "alc" in table.columns and "alc" not in skip
        else np.nan
    )
    return out


def _report(problems, rows, mask, message, column, hint, extra=()):
    """One error per file, listing the first row of each offending sample in that file."""
    if not np.asarray(mask, dtype=bool).any():
        return
    bad = rows.loc[mask].drop_duplicates(["file", "patient_id", "timepoint", *extra])
    for source, group in bad.groupby("file", sort=False):
        listed = [
            {
                "row": int(r["row"]),
                "patient_id": r["patient_id"],
                "timepoint": r["timepoint"],
                **{k: _plain(r[k]) for k in ("value", *extra, "limit") if k in r and not _missing(r[k])},
            }
            for _, r in group.head(_MAX_ROWS).iterrows()
        ]
        problems.append(InputError(message, source=source, column=column, rows=listed, hint=hint))


def _missing(v) -> bool:
    return v is None or (not isinstance(v, str) and pd.isna(v))


def _plain(v):
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return int(v)
    return v


def _consistent(rows: pd.DataFrame, column: str, problems: list, message: str, hint: str) -> pd.Series:
    """The one value of ``column`` per sample (NaN if none); an error where a sample has several."""
    keys = ["patient_id", "timepoint"]
    given = rows.dropna(subset=[column])
    distinct = given.groupby(keys, sort=False)[column].nunique()
    several = distinct[distinct > 1].index
    if len(several):
        mask = pd.MultiIndex.from_frame(rows[keys]).isin(several) & rows[column].notna().to_numpy()
        shown = rows.assign(value=rows[column])
        if column == "day":  # name the user's column: the day given, or the date it came from
            for src in ("day", "sample_date"):
                _report(problems, shown, mask & rows["day_source"].eq(src).to_numpy(), message, src, hint, ("value",))
        else:
            _report(problems, shown, mask, message, column, hint, extra=("value",))
    return given.groupby(keys, sort=False)[column].first()


def check_samples(
    rows: pd.DataFrame,
    clinical: pd.DataFrame | None,
    *,
    problems: list,
    notes: list | None = None,
    window: int = BASELINE_WINDOW,
) -> pd.DataFrame:
    """The samples of every assay table with their day, checked (see the module docstring).

    ``rows`` are :func:`sample_rows` of every table given (concatenated); ``clinical`` has
    ``patient_id``, ``treatment_start``, ``death_date``, ``last_followup`` (None when unusable).
    Returns one row per patient and timepoint (:data:`SAMPLE_COLUMNS`).
    """
    if len(rows) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SAMPLE_COLUMNS})
    keys = ["patient_id", "timepoint"]
    day = _consistent(
        rows,
        "day",
        problems,
        "rows of one patient and timepoint give different sample days (two samples under one timepoint name?)",
        "A timepoint names one blood sample: give each draw its own timepoint (e.g. C3D1 and C3D1_repeat), "
        "or correct the day or sample_date.",
    )
    alc = _consistent(
        rows,
        "alc",
        problems,
        "rows of one sample give different alc values",
        "alc is the sample's absolute lymphocyte count (10^9/L): one value per patient and timepoint.",
    )
    first = rows.drop_duplicates(keys)
    samples = first[keys].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(samples)
    measured = day.reindex(index).to_numpy(dtype=float)
    source = rows.dropna(subset=["day"]).groupby(keys, sort=False)["day_source"].first().reindex(index)
    nominal = samples["timepoint"].map(nominal_day).to_numpy(dtype=float)
    samples["day"] = np.where(np.isnan(measured), nominal, measured)
    samples["day_source"] = np.where(np.isnan(measured), np.where(np.isnan(nominal), "", "nominal"), source)
    dates = rows.dropna(subset=["sample_date"]).groupby(keys, sort=False)["sample_date"].first()
    samples["sample_date"] = dates.reindex(index).to_numpy() if len(dates) else pd.NaT
    samples["alc"] = alc.reindex(index).to_numpy(dtype=float) if len(alc) else np.nan
    samples["tables"] = (
        rows.groupby(keys, sort=False)["table"].agg(lambda t: ", ".join(dict.fromkeys(t))).reindex(index).to_numpy()
    )
    per_row = rows.merge(samples[[*keys, "day"]].rename(columns={"day": "value"}), on=keys, how="left")
    _timing_problems(per_row, clinical, problems, window)
    n_nominal = int(((samples["day_source"] == "nominal") & (samples["timepoint"] != BASELINE)).sum())
    if notes is not None and n_nominal > 0:
        notes.append(
            f"{n_nominal} sample(s) without day or sample_date placed at the nominal day of their timepoint "
            f"(C<cycle>D<day> of {CYCLE_DAYS}-day cycles)."
        )
    return samples[SAMPLE_COLUMNS]


def _timing_problems(rows: pd.DataFrame, clinical: pd.DataFrame | None, problems: list, window: int) -> None:
    """Unknown timepoints, the baseline window, and samples after death or the last follow-up."""
    day = rows["value"].to_numpy(dtype=float)
    column = np.where(rows["day_source"].eq("sample_date"), "sample_date", "day")
    unknown = np.isnan(day)
    _report(
        problems,
        rows,
        unknown,
        "timepoints cannot be placed in time: they have no day or sample_date and their name is not baseline "
        "or C<cycle>D<day>",
        "timepoint",
        "Give the sample's day (days from treatment_start) or sample_date for every timepoint other than "
        "baseline and C<cycle>D<day>.",
    )
    early = ~unknown & (day < -window)
    late_baseline = ~unknown & (day > 0) & rows["timepoint"].eq(BASELINE).to_numpy()
    for mask, message, hint in (
        (
            early,
            f"samples drawn more than {window} days before treatment_start (outside the baseline window)",
            "Check the date (year, day/month order) or leave the sample out; a wider window is "
            "read_cohort(..., baseline_window=days).",
        ),
        (
            late_baseline,
            "baseline samples drawn after treatment_start",
            "A baseline sample is drawn on or before the first dose (day 0); rename the timepoint or correct the date.",
        ),
    ):
        for col in ("day", "sample_date"):
            _report(problems, rows, mask & (column == col), message, col, hint, extra=("value",))
    if clinical is None:
        return
    ends = clinical.set_index("patient_id")
    start = rows["patient_id"].map(ends["treatment_start"])
    for col, what in (("death_date", "death"), ("last_followup", "the last follow-up")):
        if col not in ends.columns:
            continue
        limit = _days_from_start(rows["patient_id"].map(ends[col]), start)
        after = ~unknown & ~np.isnan(limit) & (day > limit)
        if col == "last_followup" and "death_date" in ends.columns:
            death = _days_from_start(rows["patient_id"].map(ends["death_date"]), start)
            after &= ~(~np.isnan(death) & (day > death))  # reported once, as after death
        shown = rows.assign(limit=limit, **{col: rows["patient_id"].map(ends[col])})
        for src_col in ("day", "sample_date"):
            _report(
                problems,
                shown,
                after & (column == src_col),
                f"samples drawn after {what} ({col}; 'limit' is its day from treatment_start)",
                src_col,
                "A sample is a contact with a living patient: correct the sample's date or the clinical "
                f"table's {col}.",
                extra=("value", col),
            )


def samples_of(cohort) -> pd.DataFrame:
    """``cohort.samples``, or the same table computed from a cohort-like object without it (no checks)."""
    samples = getattr(cohort, "samples", None)
    if isinstance(samples, pd.DataFrame):
        return samples
    clinical = cohort.clinical.reset_index() if "patient_id" not in cohort.clinical.columns else cohort.clinical
    parts = [
        sample_rows(t, name, name, clinical if "treatment_start" in clinical.columns else None, problems=[])
        for name in ("immunophenotype", "function_assays")
        if isinstance(t := getattr(cohort, name, None), pd.DataFrame) and len(t)
    ]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SAMPLE_COLUMNS})
    return check_samples(pd.concat(parts, ignore_index=True), None, problems=[])
