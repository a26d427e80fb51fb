"""Composite function scores: the mean of signed, standardised readouts of one lineage.

For readout ``j`` with sign ``s_j`` (+1 when higher means better function,
-1 for inhibitory markers such as the PD-1+ fraction of CD8 T cells)::

    z_ij = s_j (x_ij - m_j) / sd_j
    score_i = mean of z_ij over the readouts available for patient i

``m_j`` and ``sd_j`` are the cohort mean and standard deviation (ddof = 1)
of the patients with a value at that timepoint, or reference values supplied
by the user.  A patient with fewer than ``min_readouts`` readouts (default 2)
gets no score, and the reason is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._params import MAPPING, Instance, Interval, Options, check_params
from ..errors import ConfigError

__all__ = ["composite_score", "reference_table"]


def reference_table(reference) -> pd.DataFrame:
    """Reference means/SDs as a DataFrame indexed by readout with columns ``mean``, ``sd``.

    Accepts a DataFrame (index = readout, or a ``readout``/``feature`` column),
    or a mapping ``{readout: {"mean": m, "sd": s}}`` or ``{readout: (m, s)}``.
    """
    if reference is None:
        return pd.DataFrame(columns=["mean", "sd"], dtype=float)
    if isinstance(reference, pd.DataFrame):
        ref = reference.copy()
        for key in ("readout", "feature"):
            if key in ref.columns:
                ref = ref.set_index(key)
    elif isinstance(reference, Mapping):
        rows = {}
        for name, val in reference.items():
            if isinstance(val, Mapping):
                rows[name] = {"mean": val.get("mean"), "sd": val.get("sd")}
            elif isinstance(val, Sequence) and len(val) == 2:
                rows[name] = {"mean": val[0], "sd": val[1]}
            else:
                raise ConfigError(f"reference for {name!r} must be {{'mean': m, 'sd': s}} or (m, s), got {val!r}.")
        ref = pd.DataFrame.from_dict(rows, orient="index")
    else:
        raise ConfigError(f"reference must be a DataFrame or a mapping, got {type(reference).__name__}.")
    missing = [c for c in ("mean", "sd") if c not in ref.columns]
    if missing:
        raise ConfigError(f"reference table lacks column(s) {missing}; it needs 'mean' and 'sd'.")
    ref = ref[["mean", "sd"]].apply(pd.to_numeric, errors="coerce")
    bad = ref.index[~(ref["sd"] > 0) | ref["mean"].isna()]
    if len(bad):
        raise ConfigError(
            f"reference values for {list(bad)} need a finite mean and an sd > 0; got "
            + "; ".join(f"{b}: mean={ref.at[b, 'mean']}, sd={ref.at[b, 'sd']}" for b in bad)
        )
    return ref


@check_params(
    signs=MAPPING,
    reference=(Options(None), Instance(Mapping, pd.DataFrame, name="a mapping or table of reference means and SDs")),
    min_readouts=Interval(1, None, integer=True),
)
def composite_score(
    values: pd.DataFrame,
    readouts: Sequence[str],
    *,
    signs: Mapping[str, int] | None = None,
    reference=None,
    min_readouts: int = 2,
) -> tuple[pd.Series, pd.Series, pd.Series, pd.DataFrame]:
    """Mean of signed z-scores of ``readouts`` per patient (row of ``values``).

    Parameters
    ----------
    values : DataFrame
        One row per patient, one column per readout (NaN = not available).
    readouts : sequence of str
        Columns to combine.
    signs : mapping, optional
        ``{readout: -1}`` for readouts where higher means worse function.
    reference : DataFrame or mapping, optional
        Mean and SD per readout (see :func:`reference_table`); readouts not
        in it are standardised within ``values``.
    min_readouts : int
        Fewest readouts a patient needs to get a score.

    Returns
    -------
    score : Series
    n_used : Series of int, readouts available per patient
    reasons : Series of str, why a score is missing (``""`` otherwise)
    standardisation : DataFrame indexed by readout: ``mean``, ``sd``, ``sign``, ``source``

    Examples
    --------
    >>> import pandas as pd
    >>> v = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [10.0, 30.0, 20.0]})
    >>> score, n, why, _ = composite_score(v, ["a", "b"])
    >>> score.round(3).tolist()   # a: z = -1, 0, 1; b: z = -1, 1, 0
    [-1.0, 0.5, 0.5]
    """
    signs = dict(signs or {})
    if min_readouts < 1:
        raise ConfigError(f"min_readouts must be at least 1, got {min_readouts}.")
    absent = [r for r in readouts if r not in values.columns]
    if absent:
        raise ConfigError(f"composite readouts {absent} are not features of this panel.")
    ref = reference_table(reference)
    sub = values[list(readouts)].astype(float)
    rows = []
    z = pd.DataFrame(index=sub.index, columns=list(readouts), dtype=float)
    unusable = []
    for name in readouts:
        sign = float(signs.get(name, 1))
        if sign not in (1.0, -1.0):
            raise ConfigError(f"sign of readout {name!r} must be +1 or -1, got {signs[name]!r}.")
        col = sub[name]
        if name in ref.index:
            m, s, src = float(ref.at[name, "mean"]), float(ref.at[name, "sd"]), "reference"
        else:
            m, s, src = float(col.mean()), float(col.std(ddof=1)), "cohort"
            if not (np.isfinite(s) and s > 0):
                unusable.append(name)
        rows.append(
            {"readout": name, "mean": m, "sd": s, "sign": int(sign), "source": src, "n": int(col.notna().sum())}
        )
        z[name] = sign * (col - m) / s if name not in unusable else np.nan
    n_used = z.notna().sum(axis=1).astype(int)
    score = z.mean(axis=1, skipna=True).where(n_used >= min_readouts)
    avail = sub.notna().to_numpy()
    why = np.full(len(sub), "", dtype=object)
    for i in np.flatnonzero(score.isna().to_numpy()):
        have = [r for r, ok in zip(readouts, avail[i]) if ok and r not in unusable]
        lacking = [r for r, ok in zip(readouts, avail[i]) if not ok]
        text = (
            f"too few readouts: {len(have)} of {len(readouts)} available, "
            f"{min_readouts} needed (missing: {', '.join(lacking) or 'none'})"
        )
        if unusable:
            text += f"; not standardisable (cohort SD 0 or n < 2): {', '.join(unusable)}"
        why[i] = text
    reasons = pd.Series(why, index=sub.index, dtype=object)
    standardisation = pd.DataFrame(rows).set_index("readout")
    return score, n_used, reasons, standardisation
