"""Numbers for tables, rounded as R's gtsummary prints them (usable by every layer).

Table 1 follows gtsummary's ``tbl_summary(by=) |> add_p()`` conventions
(gtsummary 2.x, written from its documented rules; gtsummary itself is not
available from Debian):

* :func:`style_number`: fixed decimals, halves rounded away from zero (R's
  ``round2``), thousands separated by commas;
* :func:`style_percent`: ``>= 10%`` no decimal, ``>= 0.1%`` one decimal,
  smaller ``<0.1``;
* :func:`style_pvalue` (``digits=1``, ``add_p``'s default): ``>0.9``; one
  decimal from 0.2 on; two decimals from 0.1 on; three decimals down to
  0.001; ``<0.001`` below;
* :func:`continuous_digits`: decimals of a continuous variable from the
  spread between its 5th and 95th percentiles (``< 0.01`` -> 4, ``< 0.1``
  -> 3, ``< 10`` -> 2, ``< 20`` -> 1, else 0), whole-number variables 0;
* :func:`quartiles`: median and quartiles as R's ``quantile(type = 2)``
  (the inverse of the empirical distribution, averaging at discontinuities),
  which gtsummary uses.

References
----------
Sjoberg DD, Whiting K, Curry M, Lavery JA, Larmarange J (2021). Reproducible
summary tables with the gtsummary package. *The R Journal* 13:570-580.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["style_number", "style_percent", "style_pvalue", "continuous_digits", "quartiles"]


def _round_half_up(x: float, digits: int) -> float:
    """R's ``gtsummary:::round2``: halves away from zero (0.125 -> 0.13), robust to binary representation."""
    scale = 10.0**digits
    return math.copysign(math.floor(abs(x) * scale + 0.5 + 1e-9) / scale, x)


def style_number(x: float, digits: int = 0) -> str:
    """``x`` with ``digits`` decimals, halves rounded away from zero, thousands separated by commas.

    Examples
    --------
    >>> style_number(72.75, 1), style_number(2.5), style_number(1686.4), style_number(-0.0417, 2)
    ('72.8', '3', '1,686', '-0.04')
    """
    if x is None or not math.isfinite(float(x)):
        return ""
    value = _round_half_up(float(x), digits) + 0.0  # + 0.0: no "-0"
    return f"{abs(value) if value == 0 else value:,.{digits}f}"


def style_percent(p: float) -> str:
    """A proportion as a percentage the way gtsummary prints it (no % sign).

    Examples
    --------
    >>> [style_percent(v) for v in (0.7058, 0.0833, 0.0004, 0.0, 1.0)]
    ['71', '8.3', '<0.1', '0', '100']
    """
    if p is None or not math.isfinite(float(p)):
        return ""
    pct = 100 * float(p)
    if pct >= 10:
        return style_number(pct, 0)
    if pct >= 0.1:
        return style_number(pct, 1)
    return "<0.1" if pct > 0 else "0"


def style_pvalue(p: float) -> str:
    """A p-value as gtsummary's ``style_pvalue(digits = 1)`` prints it.

    Examples
    --------
    >>> [style_pvalue(v) for v in (0.9209, 0.2509, 0.1725, 0.1058, 0.0312, 0.0004, 1.0)]
    ['>0.9', '0.3', '0.2', '0.11', '0.031', '<0.001', '>0.9']
    """
    if p is None or not math.isfinite(float(p)) or p < 0 or p > 1 + 1e-15:
        return ""
    p = float(p)
    if p > 0.9:
        return ">0.9"
    if _round_half_up(p, 1) >= 0.2:
        return style_number(p, 1)
    if _round_half_up(p, 2) >= 0.1:
        return style_number(p, 2)
    if p >= 0.001:
        return style_number(p, 3)
    return "<0.001"


def _quantile_type7(x: np.ndarray, prob: float) -> float:
    return float(np.quantile(x, prob, method="linear"))


def continuous_digits(values) -> int:
    """Decimals gtsummary gives a continuous variable (from its 5th-95th percentile spread).

    Examples
    --------
    >>> continuous_digits([58, 63, 72, 80]), continuous_digits([0.12, 0.5, 1.9, 2.2]), continuous_digits([1.5, 17.5])
    (0, 2, 1)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if not x.size or np.all(x == np.round(x)):
        return 0
    spread = _quantile_type7(x, 0.95) - _quantile_type7(x, 0.05)
    for limit, digits in ((0.01, 4), (0.1, 3), (10, 2), (20, 1)):
        if spread < limit:
            return digits
    return 0


def quartiles(values) -> tuple[float, float, float]:
    """``(Q1, median, Q3)`` as R's ``quantile(x, c(0.25, 0.5, 0.75), type = 2)``.

    Examples
    --------
    >>> quartiles([1, 2, 3, 4])
    (1.5, 2.5, 3.5)
    """
    x = np.sort(np.asarray(values, dtype=float))
    x = x[np.isfinite(x)]
    if not x.size:
        return (np.nan, np.nan, np.nan)
    q = np.quantile(x, [0.25, 0.5, 0.75], method="averaged_inverted_cdf")
    return float(q[0]), float(q[1]), float(q[2])
