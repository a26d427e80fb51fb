"""Cytotoxicity and ADCC: percent specific lysis over several effector:target ratios.

Two summaries of a titration curve (percent specific lysis ``y_i`` at E:T
ratios ``r_1 < ... < r_k``):

* **Area under the curve over log2 E:T** (trapezoid rule)::

      AUC = sum_i (x_{i+1} - x_i) (y_i+ + y_{i+1}+) / 2,   x_i = log2(r_i),  y+ = max(y, 0)

  Negative lysis (spontaneous release above the experimental well, i.e. no
  killing) is set to 0 before integrating, so that noise below zero cannot
  subtract area.  Unit: % lysis x log2(E:T).  Needs >= 2 ratios.

* **Lytic units** (Pross et al. 1981; Bryant et al. 1992): one lytic unit
  (LU_p) is the number of effector cells needed to lyse p % of the targets in
  a well (default p = 20, 10^4 targets per well).  The E:T ratio giving p %
  is interpolated linearly in lysis against log(E:T) between the two
  measured ratios that bracket p % (the first crossing, going up from the
  lowest ratio), and::

      LU_p per 10^7 effectors = 10^7 / (E:T_p x targets per well)

  If lysis never reaches p % (below range) or already exceeds it at the
  lowest ratio (above range) nothing is extrapolated: the value is missing
  with that reason.

References
----------
Pross HF, et al. Determination of human natural killer activity: lytic units.
J Clin Immunol 1981;1:51-63.
Bryant J, et al. Calculation of lytic units for the expression of cell-mediated
cytotoxicity. J Immunol Methods 1992;146:91-103.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .._checks import raise_bad_rows
from .._params import Interval, check_params
from ..errors import ConfigError
from ._common import Computed, patient_index
from .function import AssayTable

__all__ = ["parse_et_ratio", "lysis_auc", "lytic_units", "lysis_summary"]

_ET = re.compile(
    r"^\s*(?:e\s*:\s*t\s*(?:[=:]\s*|\s+))?(\d+(?:\.\d*)?|\.\d+)\s*:\s*(\d+(?:\.\d*)?|\.\d+)\s*$",
    re.IGNORECASE,
)


def parse_et_ratio(text) -> float:
    """Effector:target ratio as a number: ``"E:T 40:1"``, ``"40:1"``, ``"E:T=40:1"`` -> 40.0.

    Raises ValueError for anything else (the table readers turn it into an
    InputError naming the sample).

    Examples
    --------
    >>> parse_et_ratio("E:T 40:1"), parse_et_ratio("12.5:1"), parse_et_ratio("e:t=1:2")
    (40.0, 12.5, 0.5)
    """
    m = _ET.match(str(text))
    if not m:
        raise ValueError(f"cannot read an effector:target ratio from {text!r}")
    effectors, targets = float(m.group(1)), float(m.group(2))
    if effectors <= 0 or targets <= 0:
        raise ValueError(f"effector:target ratio {text!r} must have positive numbers")
    return effectors / targets


def _sorted_curve(et_ratios, lysis):
    r = np.asarray(et_ratios, dtype=float)
    y = np.asarray(lysis, dtype=float)
    keep = ~(np.isnan(r) | np.isnan(y))
    r, y = r[keep], y[keep]
    order = np.argsort(r, kind="stable")
    return r[order], y[order]


def lysis_auc(et_ratios, lysis) -> float:
    """Area under the lysis curve over log2(E:T), trapezoid rule, negative lysis set to 0.

    Parameters
    ----------
    et_ratios : array-like of float
        Effector:target ratios (e.g. 40, 20, 10, 5), any order.
    lysis : array-like of float
        Percent specific lysis at each ratio.

    Returns
    -------
    float: area in % lysis x log2(E:T); NaN with fewer than 2 non-missing points.

    Examples
    --------
    >>> round(lysis_auc([5, 10, 20, 40], [8, 15, 28, 45]), 10)   # 11.5 + 21.5 + 36.5
    69.5
    """
    r, y = _sorted_curve(et_ratios, lysis)
    if r.size < 2:
        return float("nan")
    x = np.log2(r)
    y = np.maximum(y, 0.0)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


@check_params(
    percent=Interval(0, 100, closed="neither"),
    targets_per_well=Interval(0, None, closed="neither"),
    per_effectors=Interval(0, None, closed="neither"),
)
def lytic_units(
    et_ratios, lysis, *, percent: float = 20.0, targets_per_well: float = 1e4, per_effectors: float = 1e7
) -> tuple[float, str]:
    """Lytic units LU_p per ``per_effectors`` effector cells, and why it is missing (if so).

    Parameters
    ----------
    et_ratios, lysis : array-like
        The titration curve.
    percent : float
        Lysis level defining a lytic unit (default 20 %).
    targets_per_well : float
        Target cells per well (default 10^4).
    per_effectors : float
        Express LU per this many effectors (default 10^7).

    Returns
    -------
    (lu, reason) : float, str
        ``reason`` is ``""`` when ``lu`` is available.

    Examples
    --------
    >>> lu, _ = lytic_units([5, 10, 20, 40], [8, 15, 28, 45])
    >>> round(lu, 4)   # E:T_20 = 10 x 2**(5/13); 10^7 / (E:T_20 x 10^4)
    76.5983
    """
    r, y = _sorted_curve(et_ratios, lysis)
    if r.size < 2:
        return float("nan"), f"fewer than 2 E:T ratios with lysis values ({r.size})"
    reached = np.flatnonzero(y >= percent)
    if reached.size == 0:
        return float("nan"), (
            f"lysis never reaches {percent:g}% (max {y.max():g}% at E:T {r[np.argmax(y)]:g}:1): "
            f"below {per_effectors / (r.max() * targets_per_well):.4g} LU{percent:g}, not extrapolated"
        )
    i = int(reached[0])
    if i == 0:
        return float("nan"), (
            f"lysis already {y[0]:g}% >= {percent:g}% at the lowest E:T ({r[0]:g}:1): "
            f"above {per_effectors / (r[0] * targets_per_well):.4g} LU{percent:g}, not extrapolated"
        )
    x0, x1 = np.log(r[i - 1]), np.log(r[i])
    y0, y1 = y[i - 1], y[i]
    x = x0 + (percent - y0) * (x1 - x0) / (y1 - y0)
    et = float(np.exp(x))
    return per_effectors / (et * targets_per_well), ""


def lysis_summary(
    table: AssayTable,
    patients,
    assay: str,
    cell_type: str,
    *,
    summary: str = "auc",
    percent: float = 20.0,
    targets_per_well: float = 1e4,
    per_effectors: float = 1e7,
) -> Computed:
    """AUC or lytic units of one lysis assay for every patient.

    E:T ratios are parsed from ``condition``; an unreadable one is an
    InputError naming patient, timepoint, column and value.
    """
    if summary not in ("auc", "lytic_units"):
        raise ConfigError(f"lysis summary must be 'auc' or 'lytic_units', got {summary!r}.")
    idx = patient_index(patients)
    what = f"{assay}/{cell_type} (% lysis)"
    rows = table.select(assay, cell_type, "% lysis")
    if len(rows) == 0:
        return Computed.empty(idx, f"no {what} rows at timepoint {table.timepoint!r}")
    parsed: dict = {}  # parse_et_ratio reads str(condition): each distinct text once
    for text in dict.fromkeys(str(cond) for cond in rows["condition"]):
        try:
            parsed[text] = parse_et_ratio(text)
        except ValueError:
            parsed[text] = np.nan
    rows = rows.assign(et=[parsed[str(cond)] for cond in rows["condition"]])
    raise_bad_rows(
        rows,
        rows["et"].isna(),
        "condition",
        "is not an effector:target ratio",
        source=table.source,
        extra=["assay", "cell_type"],
        hint="Write ratios as 'E:T 40:1', '40:1' or 'E:T=40:1'.",
    )
    dup = rows.duplicated(["patient_id", "et"], keep=False)
    raise_bad_rows(
        rows,
        dup,
        "condition",
        "gives the same E:T ratio as another row of this sample",
        source=table.source,
        extra=["assay", "cell_type"],
        hint="Keep one row per E:T ratio.",
    )
    values, reasons = {}, {}
    pids = rows["patient_id"].to_numpy(dtype=object)
    codes, order = pd.factorize(pids)  # patients in order of first appearance, as groupby(sort=False)
    et, lysis = rows["et"].to_numpy(dtype=float), rows["value"].to_numpy(dtype=float)
    for k in range(len(order)):
        at = codes == k
        pid, r, y = order[k], et[at], lysis[at]
        if summary == "auc":
            n = int(np.count_nonzero(~np.isnan(y)))
            values[pid] = lysis_auc(r, y)
            reasons[pid] = "" if n >= 2 else f"fewer than 2 E:T ratios with {what} values ({n})"
        else:
            values[pid], reasons[pid] = lytic_units(
                r, y, percent=percent, targets_per_well=targets_per_well, per_effectors=per_effectors
            )
    default = f"no {what} rows at timepoint {table.timepoint!r}"
    computed = idx.get_indexer(order)
    value, reason = np.full(len(idx), np.nan), np.full(len(idx), default, dtype=object)
    found = computed >= 0
    value[computed[found]] = [values[p] for p in order[found]]
    reason[computed[found]] = [reasons[p] for p in order[found]]
    method = "trapezoid_auc_log2_et" if summary == "auc" else f"lytic_units_{percent:g}"
    return Computed.from_parts(idx, value, reason, method)
