"""Per-value quality: events in the gate and the Poisson counting error.

Counting ``n`` events of a rare population is a Poisson process, so the
coefficient of variation of the count is ``1 / sqrt(n)``: 100 events give a
10 % CV, 25 events 20 %.  A single-platform (bead) count divides ``n`` cell
events by ``b`` bead events, two independent Poisson counts, so its CV is
``sqrt(1/n + 1/b)`` (delta method).  A value whose gate holds fewer than ``min_events``
events (default 100) is flagged ``low_events``.

References
----------
Roederer M. How many events is enough? Are you positive? Cytometry A
2008;73:384-385.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import Computed

__all__ = ["poisson_cv", "quality_rows", "DEFAULT_MIN_EVENTS", "QUALITY_COLUMNS"]

DEFAULT_MIN_EVENTS = 100
QUALITY_COLUMNS = [
    "patient_id",
    "feature",
    "value",
    "method",
    "events",
    "poisson_cv",
    "low_events",
    "flags",
    "excluded",
]


def poisson_cv(events, bead_events=None):
    """Poisson coefficient of variation of a count, ``1 / sqrt(events)``.

    With ``bead_events`` (a bead-based absolute count, cells / beads x beads per
    tube / volume), ``sqrt(1 / events + 1 / bead_events)``; NaN bead events
    leave the plain count's CV.  Zero events give ``inf``; NaN stays NaN.

    Examples
    --------
    >>> poisson_cv([100, 25, 0])
    array([0.1, 0.2, inf])
    >>> poisson_cv([100], bead_events=[100])   # sqrt(0.01 + 0.01)
    array([0.14142136])
    """
    n = np.asarray(events, dtype=float)
    with np.errstate(divide="ignore"):
        var = 1.0 / n
        if bead_events is not None:
            b = np.asarray(bead_events, dtype=float)
            var = var + np.where(np.isnan(b), 0.0, 1.0 / b)
        return np.sqrt(var)


def quality_rows(
    name: str, comp: Computed, min_events: float, exclude_flagged: bool
) -> tuple[pd.DataFrame, Computed, int]:
    """Quality table rows of one feature; with ``exclude_flagged`` also the masked feature.

    Returns
    -------
    rows : DataFrame with :data:`QUALITY_COLUMNS`
    comp : Computed, with low-event values set to NaN (and their reason) if asked
    n_excluded : int
    """
    columns, new, n_excluded = quality_columns(name, comp, min_events, exclude_flagged)
    return quality_frame([columns]), new, n_excluded


def quality_columns(name: str, comp: Computed, min_events: float, exclude_flagged: bool) -> tuple[dict, Computed, int]:
    """The columns of :func:`quality_rows` as arrays (stack several with :func:`quality_frame`)."""
    events = comp.events.to_numpy()
    value = comp.values.to_numpy()
    low = (events < min_events) & ~np.isnan(value)
    excluded = low & exclude_flagged
    values, reasons, method = comp.values, comp.reasons, comp.method
    if excluded.any():
        text = np.array([f"excluded: {e:g} events < min_events {min_events:g}" for e in events], dtype=object)
        reasons = _replaced(reasons, excluded, text)
        values = values.where(~excluded)
        method = _replaced(method, excluded, "")
    flags = comp.flags
    if low.any():
        old = flags.to_numpy()
        new_flags = old.copy()
        for i in np.flatnonzero(low):
            low_text = f"{events[i]:g} events < {min_events:g}"
            new_flags[i] = low_text if old[i] == "" else old[i] + "; " + low_text
        flags = pd.Series(new_flags, index=flags.index, name=flags.name, dtype=object)
    else:
        flags = flags.copy()
    columns = {
        "patient_id": comp.values.index.to_numpy(dtype=object),
        "feature": np.full(len(value), name, dtype=object),
        "value": value,
        "method": comp.method.to_numpy(),
        "events": events,
        "poisson_cv": poisson_cv(events, None if comp.bead_events is None else comp.bead_events.to_numpy()),
        "low_events": low,
        "flags": flags.to_numpy(),
        "excluded": excluded,
    }
    new = Computed(
        values=values, method=method, events=comp.events, flags=flags, reasons=reasons, bead_events=comp.bead_events
    )
    return columns, new, int(excluded.sum())


def _replaced(series: pd.Series, mask: np.ndarray, other) -> pd.Series:
    """``series.where(~mask, other)`` for a text Series."""
    out = np.where(mask, other, series.to_numpy())
    return pd.Series(out, index=series.index, name=series.name, dtype=object)


def quality_frame(parts: list[dict]) -> pd.DataFrame:
    """One quality table from the columns of several features (in order)."""
    stacked = {c: np.concatenate([p[c] for p in parts]) for c in QUALITY_COLUMNS}
    stacked["patient_id"] = pd.Index(stacked["patient_id"], dtype=object)
    stacked["feature"] = pd.array(stacked["feature"], dtype="str")  # as a broadcast name is stored
    return pd.DataFrame(stacked, columns=QUALITY_COLUMNS)
