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
from ._common import Computed, patient_index
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


def _bead_arrays(table: GateTable, path: str) -> dict[str, np.ndarray]:
    """Bead events, beads per tube and volume for ``path`` (aligned with the table's patients).

    Each value is the gate's own row, else the sample's: the sample-level fallback is used only
    when every row of the sample that carries the column agrees on one value (one counting tube).
    Computed once per table for every gate.
    """
    cache = table.__dict__.setdefault("_beads", {})
    if "sample" not in cache:
        long = table.long
        rows, gates = table.positions()
        n_patients, n_gates = len(table.exists.index), len(table.exists.columns)
        sample, wide = {}, {}
        for col in BEAD_COLUMNS:
            if col not in long.columns:
                continue
            values = pd.to_numeric(long[col], errors="coerce").to_numpy(dtype=float)
            wide[col] = np.full((n_patients, n_gates), np.nan)
            wide[col][rows, gates] = values
            sample[col] = np.full(n_patients, np.nan)
            for p in range(n_patients):  # the sample's value when its rows agree on one (one counting tube)
                given = values[rows == p]
                given = given[~np.isnan(given)]
                if given.size and (given == given[0]).all():
                    sample[col][p] = given[0]
        cache["sample"], cache["wide"] = sample, wide
    j = table._arrays()[0].get(path)
    out = {}
    for col, fallback in cache["sample"].items():
        own = cache["wide"][col][:, j] if j is not None else np.full(fallback.shape, np.nan)
        out[col] = np.where(np.isnan(own), fallback, own)
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
    count would inflate every later dual-platform count.  Kept on the table for the
    same clinical table and patients (every count of one timepoint asks again).
    """
    cached = table.__dict__.get("_alc")
    if cached is not None and cached[0] is clinical and cached[1].equals(idx):
        return cached[2], cached[3]
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
    table.__dict__["_alc"] = (clinical, idx, alc.astype(float), why)
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
    idx = patient_index(clinical.index if patients is None else patients)
    frac, reason, events, events_name = table.fraction_on(path, ROOT, idx, errors=errors)
    beads = _bead_data_on(table, path, idx)
    has_beads = ~np.isnan(beads).any(axis=1) & ~np.isnan(events) & ~np.isnan(frac)
    alc_series, no_alc_reason = _sample_alc(table, clinical, idx)
    alc = alc_series.to_numpy()
    dual = dual_platform_count(alc, frac)
    bead = bead_count(events, beads[:, 0], beads[:, 1], beads[:, 2])
    if method == "bead":
        use_bead = np.ones(len(idx), dtype=bool)
    elif method == "dual":
        use_bead = np.zeros(len(idx), dtype=bool)
    else:
        use_bead = has_beads
    value = np.where(use_bead, bead, dual)
    meth = np.where(use_bead, "bead", "dual").astype(object)
    no_alc = ~np.isnan(frac) & ~use_bead & np.isnan(alc)
    reason = np.where(no_alc & (reason == ""), no_alc_reason, reason)
    no_bead = ~np.isnan(frac) & use_bead & ~has_beads
    reason = np.where(
        no_bead & (reason == ""),
        "bead method requested but event_count or bead_events/beads_per_tube/sample_volume_ul "
        "missing (or ambiguous across rows) for this sample",
        reason,
    )
    built = Computed.from_parts(
        idx, np.where(reason == "", value, np.nan), reason, meth, events, names=(None, None, events_name, None, None)
    )
    bead_events = pd.Series(np.where(use_bead, beads[:, 0], np.nan), index=idx, name="bead_events", dtype=float)
    return dataclasses.replace(built, bead_events=bead_events)


def _bead_data_on(table: GateTable, path: str, idx: pd.Index) -> np.ndarray:
    """:func:`_bead_arrays` on the patients ``idx`` (patients x the three bead columns; NaN without rows)."""
    out = np.full((len(idx), len(BEAD_COLUMNS)), np.nan)
    if len(table.long) == 0:
        return out
    rows = table.rows_of(idx)
    found = rows >= 0
    given = _bead_arrays(table, path)
    for k, col in enumerate(BEAD_COLUMNS):
        values = given.get(col)
        if values is not None:
            out[found, k] = values[rows[found]]
    return out
