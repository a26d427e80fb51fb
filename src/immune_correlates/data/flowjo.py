"""Read a FlowJo table export into the long immunophenotype format.

A FlowJo "Table Editor" export has one row per sample (first column: the
sample, usually the FCS file name) and one column per gate and statistic,
headed ``<gating path> | <statistic>``, for example::

    ,Lymphocytes | Freq. of Parent,Lymphocytes/CD3+ | Freq. of Parent,Lymphocytes/CD3+ | Count
    P01_baseline.fcs,45.2,70.1,7010
    Mean,...
    SD,...

``Freq. of Parent`` (percent) becomes ``freq_of_parent`` and ``Count`` becomes
``event_count``; the trailing ``Mean``/``SD`` summary rows and other
statistics are ignored.  A sample map (columns ``sample``, ``patient_id``,
``timepoint``; optionally ``beads_per_tube`` and ``sample_volume_ul``) says
whose sample each row is.  The count of the bead gate (``bead_gate``,
default ``"Beads"``) becomes ``bead_events`` of every row of the sample.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._params import TEXT, check_params
from ..errors import InputError
from .gating import normalise_path, validate_immunophenotype

__all__ = ["read_flowjo", "read_sample_map"]

_SUMMARY_ROWS = {"mean", "sd", "median", "cv", "min", "max", "std", "std dev"}
_FREQ = re.compile(r"^freq\.?\s*of\s*parent(\s*\(%\))?$", re.IGNORECASE)
_COUNT = re.compile(r"^count$", re.IGNORECASE)


def _read_table(obj, what: str) -> tuple[pd.DataFrame, str]:
    if isinstance(obj, pd.DataFrame):
        return obj.copy(), "<DataFrame>"
    path = Path(obj)
    if not path.is_file():
        raise InputError(f"{what} file not found", source=str(path))
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path, dtype=object), path.name
    sep = "\t" if path.suffix.lower() in (".tsv", ".txt") else ","
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False), path.name


def read_sample_map(sample_map, source: str) -> dict[str, dict]:
    """A sample sheet (path, DataFrame or dict) as ``{sample: {patient_id, timepoint, ...}}``."""
    if isinstance(sample_map, dict) and not isinstance(sample_map, pd.DataFrame):
        out = {}
        for sample, val in sample_map.items():
            if isinstance(val, (tuple, list)) and len(val) == 2:
                out[str(sample).strip()] = {"patient_id": str(val[0]), "timepoint": str(val[1])}
            elif isinstance(val, dict) and {"patient_id", "timepoint"} <= set(val):
                out[str(sample).strip()] = dict(val)
            else:
                raise InputError(
                    f"sample map entry for {sample!r} must be (patient_id, timepoint) "
                    f"or a dict with patient_id and timepoint, got {val!r}",
                    source="<dict>",
                )
        return out
    frame, map_source = _read_table(sample_map, "sample map")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    need = [c for c in ("sample", "patient_id", "timepoint") if c not in frame.columns]
    if need:
        raise InputError(
            f"sample map lacks column(s) {need}; it needs sample, patient_id, timepoint", source=map_source
        )
    frame["sample"] = frame["sample"].astype(str).str.strip()
    dup = frame["sample"].duplicated(keep=False)
    if dup.any():
        raise InputError(
            "sample listed more than once in the sample map",
            source=map_source,
            column="sample",
            rows=frame.loc[dup, ["sample"]].to_dict("records"),
        )
    return {r["sample"]: r for r in frame.to_dict("records")}


@check_params(
    bead_gate=TEXT,
)
def read_flowjo(export, sample_map, *, bead_gate: str | None = "Beads") -> pd.DataFrame:
    """Long immunophenotype table from a FlowJo table export.

    Parameters
    ----------
    export : path or DataFrame
        The FlowJo export (CSV, TSV or XLSX).  First column: sample name.
    sample_map : path, DataFrame or dict
        ``sample -> (patient_id, timepoint)``; as a table with columns
        ``sample``, ``patient_id``, ``timepoint`` and optionally
        ``beads_per_tube``, ``sample_volume_ul``.
    bead_gate : str or None
        Gating path of the counting-bead gate (default ``"Beads"``, used when
        the export has it); its Count becomes ``bead_events`` of every row of
        the sample.  None reads every gate as a population.

    Returns
    -------
    DataFrame with ``patient_id``, ``timepoint``, ``gating_path``,
    ``freq_of_parent``, ``event_count`` (and bead columns when available),
    validated like the immunophenotype table.

    Raises
    ------
    InputError
        For an unmapped sample, a non-numeric cell (naming sample, patient,
        timepoint, column and value) or an invalid percentage.

    Examples
    --------
    >>> imm = read_flowjo("tests/data/flowjo_export.csv",
    ...                   "tests/data/flowjo_sample_map.csv")   # doctest: +SKIP
    """
    frame, source = _read_table(export, "FlowJo export")
    mapping = read_sample_map(sample_map, source)
    first = frame.columns[0]
    samples = frame[first].astype(str).str.strip()
    keep = ~samples.str.lower().isin(_SUMMARY_ROWS) & (samples != "")
    frame, samples = frame.loc[keep], samples[keep]
    unmapped = sorted(set(samples) - set(mapping))
    if unmapped:
        raise InputError(
            f"{len(unmapped)} sample(s) of the export are not in the sample map",
            source=source,
            column=str(first),
            rows=[{"sample": s} for s in unmapped],
            hint="Add them to the sample map (sample, patient_id, timepoint).",
        )
    stats: dict[str, dict[str, str]] = {}
    for col in frame.columns[1:]:
        if "|" not in str(col):
            continue
        gate, stat = (part.strip() for part in str(col).rsplit("|", 1))
        kind = "freq_of_parent" if _FREQ.match(stat) else "event_count" if _COUNT.match(stat) else None
        if kind:
            stats.setdefault(normalise_path(gate), {})[kind] = col
    if not stats:
        raise InputError(
            "no '<gate> | Freq. of Parent' or '<gate> | Count' columns found",
            source=source,
            hint="Export the Freq. of Parent and Count statistics.",
        )
    bead_gate = normalise_path(bead_gate) if bead_gate else None
    records = []
    for sample, (_, row) in zip(samples, frame.iterrows()):
        info = mapping[sample]
        base = {"patient_id": str(info["patient_id"]).strip(), "timepoint": str(info["timepoint"]).strip()}
        extra = {c: info[c] for c in ("beads_per_tube", "sample_volume_ul") if c in info}
        beads = np.nan
        if bead_gate and bead_gate in stats and "event_count" in stats[bead_gate]:
            beads = _number(row[stats[bead_gate]["event_count"]], sample, base, stats[bead_gate]["event_count"], source)
        for gate, cols in stats.items():
            if gate == bead_gate:
                continue
            rec: dict[str, object] = dict(base, gating_path=gate)
            for kind in ("freq_of_parent", "event_count"):
                rec[kind] = _number(row[cols[kind]], sample, base, cols[kind], source) if kind in cols else np.nan
            if bead_gate and bead_gate in stats:
                rec["bead_events"] = beads
            rec.update({k: _number(v, sample, base, k, "sample map") for k, v in extra.items()})
            records.append(rec)
    long = pd.DataFrame.from_records(records)
    return validate_immunophenotype(long, source=source)


def _number(value, sample, base, column, source) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    text = str(value).strip()
    if text == "":
        return np.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"sample {sample!r} (patient {base['patient_id']!r}, timepoint {base['timepoint']!r}): "
            f"{column} = {value!r} is not a number",
            source=source,
            column=str(column),
            rows=[dict(base, sample=sample, value=value)],
            hint="FlowJo cells must be numbers (blank for missing).",
        ) from None
