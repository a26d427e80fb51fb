"""Multiple-testing adjustment of p-values, as R's ``p.adjust``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._params import Options, check_params, validate
from .errors import ImmuneCorrelatesError

__all__ = ["adjust_pvalues", "ADJUST_METHODS", "ADJUST_OPTIONS"]

ADJUST_METHODS = ("fdr_bh", "holm", "bonferroni", "none")
_ALIASES = {"bh": "fdr_bh", "fdr": "fdr_bh", "BH": "fdr_bh", None: "none"}
#: What ``adjust=`` / ``method=`` may be, wherever p-values are adjusted.
ADJUST_OPTIONS = Options(*ADJUST_METHODS, *_ALIASES)


@check_params(
    method=ADJUST_OPTIONS,
)
def adjust_pvalues(p, *, method: str = "fdr_bh"):
    """Adjust p-values for multiple testing; missing p-values stay missing.

    Parameters
    ----------
    p : array-like or Series
        Unadjusted p-values; NaN entries are ignored (the number of tests is
        the number of non-missing p-values, as ``p.adjust``) and returned as NaN.
    method : {"fdr_bh", "holm", "bonferroni", "none"}
        Benjamini-Hochberg false discovery rate, Holm step-down,
        Bonferroni, or no adjustment.  ``"BH"``/``"fdr"`` are accepted
        for ``"fdr_bh"``.

    Returns
    -------
    ndarray or Series
        Adjusted p-values (a Series with ``p``'s index if ``p`` is a Series).

    Notes
    -----
    Holm (1979), *Scand J Stat* 6:65; Benjamini & Hochberg (1995),
    *J R Stat Soc B* 57:289.  Matches R ``p.adjust`` exactly.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, float("nan"), 0.03], method="holm").round(3).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    validate("adjust_pvalues", "method", method, ADJUST_OPTIONS)
    method = _ALIASES.get(method, method)
    series = p if isinstance(p, pd.Series) else None
    arr = np.asarray(p, dtype=float).ravel()
    bad = ~np.isnan(arr) & ((arr < 0) | (arr > 1))
    if bad.any():
        raise ImmuneCorrelatesError(
            f"adjust_pvalues: p-values must lie in [0, 1]; got {arr[bad][:5].tolist()} "
            f"at position(s) {np.flatnonzero(bad)[:5].tolist()}."
        )
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    v = arr[ok]
    n = v.size
    if n:
        if method == "none":
            adj = v
        elif method == "bonferroni":
            adj = np.minimum(1.0, n * v)
        elif method == "holm":
            o = np.argsort(v, kind="stable")
            stepped = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * v[o]))
            adj = np.empty(n)
            adj[o] = stepped
        else:
            o = np.argsort(v, kind="stable")[::-1]
            i = np.arange(n, 0, -1)
            stepped = np.minimum(1.0, np.minimum.accumulate(n / i * v[o]))
            adj = np.empty(n)
            adj[o] = stepped
        out[ok] = adj
    if series is not None:
        return pd.Series(out, index=series.index, name=series.name)
    return out
