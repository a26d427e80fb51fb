"""Absolute cell counts (cells/uL): dual-platform and single-platform bead counting.

Dual platform (haematology analyser + flow cytometer)::

    cells/uL = ALC [10^9/L] x 1000 x fraction of lymphocytes

since 1 x 10^9 cells/L = 10^9 cells / 10^6 uL = 1000 cells/uL.

Single platform with counting beads (e.g. BD Trucount)::

    cells/uL = cell events / bead events x beads per tube / blood volume [uL]

References
----------
Brando B, et al. Cytofluorometric methods for assessing absolute numbers of
cell subsets in blood. Cytometry 2000;42:327-346.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..data.gating import ROOT, normalise_path
from ..data.samples import BASELINE, nominal_day
from ..errors import ConfigError
from ._common import Computed
from .populations import GateTable

__all__ = ["dual_platform_count", "bead_count", "absolute_count", "COUNT_METHODS"]

COUNT_METHODS = ("dual", "bead", "auto")
BEAD_COLUMNS = ("bead_events", "beads_per_tube", "sample_volume_ul")


def dual_platform_count(alc, fraction_of_lymphocytes):
    """Cells/uL from the absolute lymphocyte count and the population's fraction of lymphocytes.

    Parameters
    ----------
    alc : float or array-like
        Absolute lymphocyte count, x 10^9/L.
    fraction_of_lymphocytes : float or array-like
        Fraction (0-1, not percent) of lymphocytes in the population.

    Returns
    -------
    float or array: ``alc * 1000 * fraction`` cells/uL (NaN propagates).

    Examples
    --------
    >>> float(dual_platform_count(2.5, 0.30))   # 2.5 x 10^9/L = 2500 /uL; 30 % of it
    750.0
    """
    return np.multiply(np.multiply(alc, 1000.0), fraction_of_lymphocytes)


def bead_count(cell_events, bead_events, beads_per_tube, sample_volume_ul):
    """Cells/uL by single-platform bead counting.

    ``cell_events / bead_events * beads_per_tube / sample_volume_ul``.

    Examples
    --------
    >>> float(bead_count(6000, 10000, 50000, 50))   # 0.6 x 50000 beads / 50 uL
    600.0
    """
    return np.divide(np.multiply(np.divide(cell_events, bead_events), beads_per_tube), sample_volume_ul)


def _bead_data(table: GateTable, path: str) -> pd.DataFrame:
    """Bead events, beads per tube and volume for ``path``: its own row, else the sample's.

    The sample-level fallback is used only when every row of the sample that
    carries the column agrees on one value (one counting tube).
    """
    long = table.long
    patients = pd.Index(list(table.exists.index), name="patient_id")
    out = pd.DataFrame(np.nan, index=patients, columns=list(BEAD_COLUMNS))
    if len(long) == 0:
        return out
    own = long.loc[long["gating_path"] == path].set_index("patient_id")
    for col in BEAD_COLUMNS:
        if col not in long.columns:
            continue
        values = pd.to_numeric(long[col], errors="coerce").astype(float)
        per_sample = values.groupby(long["patient_id"])
        unique = per_sample.nunique()
        sample_value = per_sample.first().where(unique == 1)
        row_value = pd.to_numeric(own[col], errors="coerce").astype(float) if col in own.columns else None
        col_value = sample_value.reindex(patients)
        if row_value is not None:
            col_value = row_value.reindex(patients).fillna(col_value)
        out[col] = col_value.to_numpy(dtype=float)
    return out


def _pretreatment(table: GateTable, clinical: pd.DataFrame, idx: pd.Index) -> pd.Series:
    """Whether each patient's sample at this timepoint was drawn on or before the first dose."""
    if str(table.timepoint).casefold() == BASELINE:
        return pd.Series(True, index=idx)
    day = table.sample_value("day").reindex(idx).astype(float).fillna(nominal_day(table.timepoint))
    dates = table.sample_value("sample_date")
    if len(dates) and "treatment_start" in clinical.columns:
        start = pd.to_datetime(clinical["treatment_start"], errors="coerce").reindex(idx)
        from_date = (pd.to_datetime(dates.reindex(idx), errors="coerce") - start).dt.days.astype(float)
        day = from_date.fillna(day)
    return day <= 0


def _sample_alc(table: GateTable, clinical: pd.DataFrame, idx: pd.Index) -> tuple[pd.Series, str]:
    """The lymphocyte count of each patient's sample, and why it is missing.

    The sample's own ``alc`` (immunophenotype column) when given; otherwise the
    clinical table's ``alc`` (the baseline count) for samples drawn on or before the
    first dose only: after anti-CD20 therapy the count falls many-fold, and a baseline
    count would inflate every later dual-platform count.
    """
    own = table.sample_value("alc").reindex(idx).astype(float)
    base = (
        pd.to_numeric(clinical["alc"], errors="coerce").astype(float).reindex(idx)
        if "alc" in clinical.columns
        else pd.Series(np.nan, index=idx)
    )
    alc = own.fillna(base.where(_pretreatment(table, clinical, idx)))
    if str(table.timepoint).casefold() == BASELINE:
        why = "no alc (absolute lymphocyte count) in clinical for dual-platform count"
    else:
        why = (
            f"no alc for the {table.timepoint!r} sample (dual-platform count after treatment start needs the "
            "sample's own lymphocyte count: an alc column in the immunophenotype table; the clinical alc is "
            "the baseline count)"
        )
    return alc.astype(float), why


def absolute_count(
    table: GateTable,
    clinical: pd.DataFrame,
    path: str,
    method: str = "auto",
    *,
    patients=None,
    errors: str = "raise",
) -> Computed:
    """Absolute count (cells/uL) of the population at ``path`` for every patient.

    Parameters
    ----------
    table : GateTable
        One timepoint of the immunophenotype table.
    clinical : DataFrame
        Indexed by ``patient_id`` with ``alc`` (x 10^9/L, the baseline count) for
        dual-platform counts of samples drawn on or before the first dose; later
        samples need their own ``alc`` in the immunophenotype table.
    path : str
        Gating path of the population.
    method : {"auto", "dual", "bead"}
        ``"auto"`` uses beads when the population's event count and all three
        bead columns are available for that sample, else dual platform.
    patients : sequence of str, optional
        Patients to report (default: the clinical table's).
    errors : {"raise", "missing"}
        A population whose parent gate is absent: InputError, or missing with the reason.

    Returns
    -------
    Computed with ``method`` per value (``"dual"`` or ``"bead"``).
    """
    if method not in COUNT_METHODS:
        raise ConfigError(f"count method must be one of {COUNT_METHODS}, got {method!r}.")
    path = normalise_path(path)
    patients = list(clinical.index if patients is None else patients)
    idx = pd.Index(patients, name="patient_id", dtype=object)
    freq = table.fraction(path, ROOT, errors=errors)
    frac = freq.values.reindex(idx)
    reason = freq.reasons.reindex(idx).fillna(f"no immunophenotype rows at timepoint {table.timepoint!r}")
    events = freq.events.reindex(idx)
    beads = _bead_data(table, path).reindex(idx)
    has_beads = beads.notna().all(axis=1) & events.notna() & frac.notna()
    alc, no_alc_reason = _sample_alc(table, clinical, idx)
    dual = pd.Series(dual_platform_count(alc.to_numpy(), frac.to_numpy()), index=idx)
    bead = pd.Series(
        bead_count(
            events.to_numpy(),
            beads["bead_events"].to_numpy(),
            beads["beads_per_tube"].to_numpy(),
            beads["sample_volume_ul"].to_numpy(),
        ),
        index=idx,
    )
    if method == "bead":
        use_bead = pd.Series(True, index=idx)
    elif method == "dual":
        use_bead = pd.Series(False, index=idx)
    else:
        use_bead = has_beads
    value = bead.where(use_bead, dual)
    meth = pd.Series(np.where(use_bead, "bead", "dual"), index=idx, dtype=object)
    no_alc = frac.notna() & ~use_bead & alc.isna()
    reason = reason.where(~(no_alc & (reason == "")), no_alc_reason)
    no_bead = frac.notna() & use_bead & ~has_beads
    reason = reason.where(
        ~(no_bead & (reason == "")),
        "bead method requested but event_count or bead_events/beads_per_tube/sample_volume_ul "
        "missing (or ambiguous across rows) for this sample",
    )
    built = Computed.build(patients, value.where(reason == ""), reason, meth, events=events)
    bead_events = beads["bead_events"].where(use_bead).reindex(built.values.index).astype(float)
    return dataclasses.replace(built, bead_events=bead_events)
