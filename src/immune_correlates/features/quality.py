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
    events = comp.events
    low = (events < min_events).fillna(False) & comp.values.notna()
    excluded = low & exclude_flagged
    values, reasons, method = comp.values, comp.reasons, comp.method
    if excluded.any():
        text = events.map(lambda e: f"excluded: {e:g} events < min_events {min_events:g}")
        reasons = reasons.where(~excluded, text)
        values = values.where(~excluded)
        method = method.where(~excluded, "")
    flags = comp.flags.copy()
    low_text = events.map(lambda e: f"{e:g} events < {min_events:g}" if e == e else "")
    flags = flags.where(~low, np.where(flags == "", low_text, flags + "; " + low_text))
    rows = pd.DataFrame(
        {
            "patient_id": comp.values.index.astype(object),
            "feature": name,
            "value": comp.values.to_numpy(),
            "method": comp.method.to_numpy(),
            "events": events.to_numpy(),
            "poisson_cv": poisson_cv(
                events.to_numpy(), None if comp.bead_events is None else comp.bead_events.to_numpy()
            ),
            "low_events": low.to_numpy(),
            "flags": flags.to_numpy(),
            "excluded": excluded.to_numpy(),
        },
        columns=QUALITY_COLUMNS,
    )
    new = Computed(
        values=values, method=method, events=events, flags=flags, reasons=reasons, bead_events=comp.bead_events
    )
    return rows, new, int(excluded.sum())
