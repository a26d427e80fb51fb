"""Numbers for people (usable by every layer): journal style for results, gtsummary's for Table 1.

Results (figures, report tables, sentences): :func:`format_p` (two
significant digits, ``<0.001``), :func:`format_number` (two or three
significant digits, a true minus sign), :func:`format_ci` and
:func:`format_estimate_ci` (``"3.12 (1.25–10.7)"``).  The report re-exports
them from :mod:`immune_correlates.report.formatting`, where its table helpers live.

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

__all__ = [
    "style_number",
    "style_percent",
    "style_pvalue",
    "continuous_digits",
    "quartiles",
    "MINUS",
    "format_p",
    "p_phrase",
    "format_number",
    "format_ci",
    "format_estimate_ci",
]

#: The minus sign printed before negative numbers (U+2212, as typeset; CSV files keep "-").
MINUS = "\u2212"
_DASH = "\u2013"


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _minus(text: str) -> str:
    return text.replace("-", MINUS) if text.startswith("-") else text


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


def format_p(p, *, nan: str = "\u2013") -> str:
    """A p- or q-value as journals print it: two significant digits, ``<0.001`` below 0.001.

    Values of 0.99 and above print as ``>0.99``; NaN prints ``nan`` (an en dash).

    Examples
    --------
    >>> [format_p(p) for p in (0.051, 0.00139, 0.0125, 0.359, 4.8e-05, 0.999, float("nan"))]
    ['0.051', '0.0014', '0.013', '0.36', '<0.001', '>0.99', '–']
    """
    if not _finite(p):
        return nan
    p = float(p)
    if p < 0.001:
        return "<0.001"
    if p >= 0.995:
        return ">0.99"
    p2 = float(f"{p:.2g}")  # two significant digits: 0.0125 -> 0.013, 0.359 -> 0.36
    return f"{p2:.{max(2, 1 - math.floor(math.log10(p2)))}f}"


def p_phrase(p, name: str = "p") -> str:
    """``"p = 0.013"`` or ``"p < 0.001"`` for a sentence.

    Examples
    --------
    >>> p_phrase(0.0125), p_phrase(2e-6, "q")
    ('p = 0.013', 'q < 0.001')
    """
    text = format_p(p)
    if text.startswith("<"):
        return f"{name} < {text[1:]}"
    if text.startswith(">"):
        return f"{name} > {text[1:]}"
    return f"{name} = {text}"


def format_number(x, *, sig: int = 3, nan: str = "\u2013") -> str:
    """An estimate to ``sig`` significant digits (no exponent; whole numbers from 100 on).

    Examples
    --------
    >>> [format_number(v) for v in (3.1234, 10.69, 0.1371, 1234.6, -0.6012, 0.000123)]
    ['3.12', '10.7', '0.137', '1,235', '−0.601', '0.000123']
    >>> format_number(float("inf")), format_number(2.0, sig=2)
    ('∞', '2.0')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return nan
    x = float(x)
    if math.isnan(x):
        return nan
    if math.isinf(x):
        return "\u221e" if x > 0 else f"{MINUS}\u221e"
    if x == 0:
        return "0"
    if abs(x) >= 10 ** (sig - 1):
        return _minus(f"{x:,.0f}")  # thousands separated as in Table 1 (gtsummary's big.mark)
    decimals = sig - 1 - math.floor(math.log10(abs(x)))
    rounded = round(x, decimals)
    if rounded != 0 and abs(rounded) >= 10 ** (sig - decimals):  # 9.996 -> 10.0: one digit fewer
        decimals -= 1
    return _minus(f"{x:.{max(decimals, 0)}f}")


def format_ci(lo, hi, *, sig: int = 3) -> str:
    """An interval: ``"1.25–10.7"``, or ``"−1.10 to −0.12"`` when a limit is negative.

    Examples
    --------
    >>> format_ci(1.2512, 10.69), format_ci(-1.1, -0.123), format_ci(0.5, float("inf"))
    ('1.25–10.7', '−1.10 to −0.123', '0.500–∞')
    """
    a, b = format_number(lo, sig=sig), format_number(hi, sig=sig)
    negative = (_finite(lo) and float(lo) < 0) or (_finite(hi) and float(hi) < 0)
    return f"{a} to {b}" if negative else f"{a}{_DASH}{b}"


def format_estimate_ci(est, lo, hi, *, sig: int = 3) -> str:
    """``"3.12 (1.25–10.7)"``; ``"not estimable"`` when the estimate is missing.

    A limit that would print as the estimate gets more digits (up to three more), so an
    interval never reads as a point: an odds ratio per cell/µL of 1.0032 (1.0006–1.0058)
    with p = 0.016 is not shown as "1.00 (1.00–1.01)".

    Examples
    --------
    >>> format_estimate_ci(0.341, 0.137, 1.007)
    '0.341 (0.137–1.01)'
    >>> format_estimate_ci(1.0032, 1.0006, 1.0058)
    '1.003 (1.001–1.006)'
    """
    if not _finite(est) and not (isinstance(est, float) and math.isinf(est)):
        return "not estimable"
    shown = sig
    for extra in range(4):
        shown = sig + extra
        e, a, b = (format_number(v, sig=shown) for v in (est, lo, hi))
        if (a != e or not _finite(lo) or lo == est) and (b != e or not _finite(hi) or hi == est):
            break
    return f"{format_number(est, sig=shown)} ({format_ci(lo, hi, sig=shown)})"
