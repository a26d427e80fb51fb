"""Competing risks: cumulative incidence (Aalen-Johansen); Gray's test is in :mod:`.gray_test`.

When death without progression competes with progression, ``1 - KM`` of
progression (deaths censored) overstates the chance of progressing: it
describes a world in which nobody dies.  The cumulative incidence function
``F_k(t) = P(T <= t, cause = k)`` is what a reviewer expects instead.

Event codes: ``0`` censored, ``1, 2, ...`` the cause of the event.  With the
columns of :func:`immune_correlates.analysis_frame`, ``pfs_cause`` codes
progression ``1`` and death without progression ``2``.

Estimates, variances and tests are those of R's ``cmprsk`` (Gray 1988;
``cuminc``, ``timepoints``), which the tests pin to 1e-8.

Cause-specific hazards need no new function: :func:`immune_correlates.fit_cox`
with the event column ``(pfs_cause == k)`` (other causes censored) is the
cause-specific Cox model of cause ``k``, as ``coxph(Surv(time, cause == k) ~ ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._checks import cause_codes, check_durations
from ..._missing import complete_cases, empty_exclusions, row_ids
from ..._params import MISSING, Interval, check_params
from ..._results import ResultDisplay
from ...errors import InputError

#: ``cause=`` of the competing-risk functions: the code of the cause of interest.
CAUSE = Interval(1, None, integer=True)

__all__ = [
    "CumulativeIncidenceResult",
    "cause_codes",
    "cumulative_incidence",
    "group_codes",
    "prepare_competing_risks",
]


def prepare_competing_risks(data, duration, event, group, strata, missing, caller):
    """Complete rows (others reported), durations and cause codes, with errors naming patients and values."""
    cols = [duration, event] + [c for c in (group, strata) if c is not None]
    kept, excluded = complete_cases(data, cols, missing=missing, numeric=[duration, event], caller=caller)
    ids = row_ids(kept)
    time = pd.to_numeric(kept[duration]).to_numpy(float)
    check_durations(time, duration, caller, ids)
    codes = cause_codes(kept[event], event, caller, ids)
    if not len(kept):
        raise InputError(f"{caller}: no complete rows in {cols}; check the columns and missing values.")
    return kept, excluded, time, codes


def group_codes(kept: pd.DataFrame, group: str | None) -> tuple[np.ndarray, list]:
    """Codes 0, 1, ... of a group column (category order, else sorted, as R's factor) and the labels."""
    if group is None:
        return np.zeros(len(kept), dtype=np.int64), ["all"]
    col = kept[group]
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = [c for c in col.cat.categories if (col == c).any()]
    else:
        levels = sorted(pd.unique(col.to_numpy()), key=lambda v: (str(type(v)), v))
    lookup = {v: i for i, v in enumerate(levels)}
    return np.array([lookup[v] for v in col.to_numpy()], dtype=np.int64), levels


def _aalen_johansen(time: np.ndarray, codes: np.ndarray, cause: int) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` and Gray's variance at every distinct time of one group.

    The variance is updated at the times of the cause of interest only, as
    ``cmprsk``'s ``cinc`` reports it (Gray 1988, Ann Stat 16:1141; the
    asymptotic variance of Aalen 1978 with a tie correction).
    """
    order = np.argsort(time, kind="stable")
    t, c = time[order], codes[order]
    uniq, start = np.unique(t, return_index=True)
    n = len(t)
    ends = np.append(start[1:], n)
    rows = []
    surv, f, var = 1.0, 0.0, 0.0
    v1 = v2 = v3 = 0.0
    for u, a, b in zip(uniq, start, ends):
        at_risk = float(n - a)
        block = c[a:b]
        d1 = int(np.sum(block == cause))
        d2 = int(np.sum((block > 0) & (block != cause)))
        d = d1 + d2
        censored = int(np.sum(block == 0))
        if d:
            s_new = surv * (at_risk - d) / at_risk
            if d1:
                f = f + surv * d1 / at_risk
            if d2 and s_new > 0:
                tie = 1.0 if d2 == 1 else 1.0 - (d2 - 1.0) / (at_risk - 1.0)
                w = surv * surv * tie * d2 / (at_risk * at_risk)
                inv, ratio = 1.0 / s_new, f / s_new
                v1 += ratio * ratio * w
                v2 += inv * ratio * w
                v3 += inv * inv * w
            if d1:
                tie = 1.0 if d1 == 1 else 1.0 - (d1 - 1.0) / (at_risk - 1.0)
                w = surv * surv * tie * d1 / (at_risk * at_risk)
                inv = 1.0 / s_new if s_new > 0 else 0.0
                lead = 1.0 + inv * f
                v1 += lead * lead * w
                v2 += inv * lead * w
                v3 += inv * inv * w
                var = v1 + f * f * v3 - 2 * f * v2
            surv = s_new
        rows.append((u, int(at_risk), d1, d2, censored, f, var))
    return pd.DataFrame(
        rows, columns=["time", "n_risk", "n_event", "n_competing", "n_censored", "estimate", "variance"]
    )


@dataclass(frozen=True, eq=False, repr=False)
class CumulativeIncidenceResult(ResultDisplay):
    """Aalen-Johansen cumulative incidence of one cause, by group.

    Attributes
    ----------
    table : DataFrame
        One row per group and distinct time (censored times included):
        ``group``, ``time``, ``n_risk``, ``n_event`` (the cause),
        ``n_competing`` (other causes), ``n_censored``, ``estimate``,
        ``variance`` and ``std_error``.
    cause : int
        The cause of interest.
    groups : list
        Group labels, in order (``["all"]`` without a group column).
    group_column : str or None
    excluded : DataFrame
        Patients left out for missing values (``patient_id``, ``reason``).
    """

    table: pd.DataFrame
    cause: int
    groups: list
    group_column: str | None = None
    excluded: pd.DataFrame = field(default_factory=empty_exclusions)

    def estimate_at(self, times) -> pd.DataFrame:
        """Cumulative incidence and its standard error at given times, as ``cmprsk::timepoints``.

        Parameters
        ----------
        times : float or sequence of float

        Returns
        -------
        DataFrame
            ``group``, ``time``, ``estimate``, ``std_error`` (square root of
            Gray's variance), one row per group and time; NaN at times before 0
            or after the group's last follow-up time.
        """
        times = np.sort(np.unique(np.atleast_1d(np.asarray(times, dtype=float))))
        out = []
        for g in self.groups:
            rows = self.table[self.table["group"] == g]
            t = rows["time"].to_numpy()
            pos = np.searchsorted(t, times, side="right") - 1
            est = np.where(pos >= 0, rows["estimate"].to_numpy()[np.maximum(pos, 0)], 0.0)
            var = np.where(pos >= 0, rows["variance"].to_numpy()[np.maximum(pos, 0)], 0.0)
            outside = (times < 0) | (times > t[-1])
            est = np.where(outside, np.nan, est)
            se = np.where(outside, np.nan, np.sqrt(var))
            out.append(pd.DataFrame({"group": [g] * len(times), "time": times, "estimate": est, "std_error": se}))
        return pd.concat(out, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per group: patients, events of the cause, competing events, censored, and the final estimate."""
        rows = []
        for g in self.groups:
            sub = self.table[self.table["group"] == g]
            rows.append(
                {
                    "group": g,
                    "n": int(sub["n_risk"].iloc[0]),
                    "events": int(sub["n_event"].sum()),
                    "competing_events": int(sub["n_competing"].sum()),
                    "censored": int(sub["n_censored"].sum()),
                    "last_time": float(sub["time"].iloc[-1]),
                    "estimate_at_last": float(sub["estimate"].iloc[-1]),
                    "std_error_at_last": float(sub["std_error"].iloc[-1]),
                }
            )
        return pd.DataFrame(rows)

    def _title(self) -> str:
        return f"Cumulative incidence of cause {self.cause} (Aalen-Johansen, Gray's variance)"

    def _notes(self) -> list[str]:
        if len(self.excluded):
            return [
                f"{len(self.excluded)} patient(s) excluded: "
                + "; ".join(f"{p} ({r})" for p, r in zip(self.excluded["patient_id"], self.excluded["reason"]))
            ]
        return []


@check_params(cause=CAUSE, missing=MISSING)
def cumulative_incidence(
    data: pd.DataFrame, duration: str, event: str, group: str | None = None, *, cause: int = 1, missing: str = "drop"
) -> CumulativeIncidenceResult:
    """Aalen-Johansen cumulative incidence of one cause in the presence of competing causes.

    Parameters
    ----------
    data : DataFrame
        One row per patient; ids from a ``patient_id`` column or the index.
    duration : str
        Follow-up time (finite, >= 0).
    event : str
        ``0`` censored, ``1, 2, ...`` the cause of the event (e.g. ``pfs_cause``).
    group : str, optional
        Column whose levels get separate curves.
    cause : int
        The cause of interest.
    missing : {"drop", "raise"}
        Rows with a missing value are left out and reported, or refused.

    Returns
    -------
    CumulativeIncidenceResult
        ``estimate_at(times)`` and ``table``.

    Notes
    -----
    ``F(t) = sum_{s <= t} S(s-) d_k(s) / n(s)`` with ``S`` the all-cause
    Kaplan-Meier (Kalbfleisch & Prentice 1980); variance of Gray (1988, Ann
    Stat 16:1141) as R's ``cmprsk::cuminc``.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> ci = ic.cumulative_incidence(frame, "pfs_months", "pfs_cause", cause=1)
    >>> ci.estimate_at([12, 24]).columns.tolist()
    ['group', 'time', 'estimate', 'std_error']
    """
    caller = "cumulative_incidence"
    kept, excluded, time, codes = prepare_competing_risks(data, duration, event, group, None, missing, caller)
    labels, levels = group_codes(kept, group)
    parts = []
    for i, g in enumerate(levels):
        sel = labels == i
        tab = _aalen_johansen(time[sel], codes[sel], cause)
        tab.insert(0, "group", [g] * len(tab))
        parts.append(tab)
    table = pd.concat(parts, ignore_index=True)
    table["std_error"] = np.sqrt(table["variance"])
    return CumulativeIncidenceResult(
        table=table, cause=cause, groups=list(levels), group_column=group, excluded=excluded
    )
