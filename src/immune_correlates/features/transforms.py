"""Transforms for modelling: log2 with an offset, per-SD scaling, dichotomisation.

All functions are pure: they return new Series/DataFrames and keep NaN as NaN.

* ``log2_transform(x, offset=1.0)`` = ``log2(x + offset)``.  The default offset
  of 1 is in the feature's own unit: 1 cell/uL for counts (negligible against
  typical counts of 10-2000 cells/uL, and it keeps a count of 0 finite),
  1 percentage point for percents.  Use ``offset=0`` for strictly positive
  features such as ``cd4_cd8_ratio``.  A value with ``x + offset <= 0`` is an
  error.
* ``scale_per_sd(x)`` = ``(x - mean) / sd`` (sample SD, ddof = 1), so model
  coefficients are per SD of the feature.
* ``dichotomise(x, "median" | "tertiles" | cutpoints)``: ``x <= cut`` is the
  lower group (as in maxstat); the median split gives 0/1, tertiles and two
  or more cutpoints give an ordered categorical.
* ``split_groups(data, feature)``: the same median (or given) split as a
  labelled two-level column ("NK cells > median (523 cells/µL)"), the
  grouping that Kaplan-Meier curves, log-rank tests and the report share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._missing import row_ids
from .._params import COLUMNS, MAPPING, Instance, Interval, Options, check_params
from ..errors import DataQualityWarning, InputError, ParameterError, warn
from .labels import column_label, column_unit

__all__ = ["log2_transform", "scale_per_sd", "dichotomise", "log2_features", "split_groups", "SplitGroups"]


def _series(x, name: str | None = None) -> pd.Series:
    if isinstance(x, pd.Series):
        return x.astype(float)
    return pd.Series(np.asarray(x, dtype=float), name=name)


@check_params(offset=Interval(0, None))
def log2_transform(x, *, offset: float = 1.0) -> pd.Series:
    """``log2(x + offset)``, NaN-preserving.

    Examples
    --------
    >>> log2_transform([0.0, 1.0, 7.0, float("nan")]).tolist()
    [0.0, 1.0, 3.0, nan]
    """
    s = _series(x)
    shifted = s + float(offset)
    bad = shifted <= 0
    if bad.any():
        rows = [{"patient_id": i, "value": v} for i, v in s[bad].items()]
        raise InputError(
            f"log2_transform: value + offset ({offset:g}) must be > 0",
            column=str(s.name) if s.name is not None else None,
            rows=rows,
            hint="Use a larger offset or check the values.",
        )
    out = np.log2(shifted)
    out.name = s.name
    return out


@check_params(center=Instance(bool, name="True or False"))
def scale_per_sd(x, *, center: bool = True) -> pd.Series:
    """``(x - mean) / sd`` with the sample SD (ddof = 1); only ``/ sd`` if ``center=False``.

    Fewer than 2 non-missing values give all NaN (with a DataQualityWarning);
    a constant feature (SD 0) is an InputError.

    Examples
    --------
    >>> scale_per_sd([1.0, 2.0, 3.0, float("nan")]).tolist()
    [-1.0, 0.0, 1.0, nan]
    """
    s = _series(x)
    if s.notna().sum() < 2:
        warn(
            f"scale_per_sd: {s.name or 'values'} has fewer than 2 non-missing values; returning all NaN.",
            DataQualityWarning,
        )
        return s * np.nan
    sd = s.std(ddof=1)
    if not (np.isfinite(sd) and sd > 0):
        raise InputError(
            f"scale_per_sd: {s.name or 'values'} has SD {sd} (needs >= 2 distinct values).",
            column=str(s.name) if s.name is not None else None,
        )
    return ((s - s.mean()) if center else s) / sd


@check_params(
    method=(
        Options("median", "tertiles"),
        Interval(),
        Instance(list, tuple, np.ndarray, pd.Series, name="a sequence of cutpoints"),
    ),
    labels=(Options(None), Instance(list, tuple, name="a list of labels")),
)
def dichotomise(
    x, method: str | Sequence[float] | float = "median", *, labels: Sequence[str] | None = None
) -> pd.Series:
    """Split a feature at the median, at tertiles, or at user cutpoints.

    Parameters
    ----------
    x : array-like or Series
    method : "median", "tertiles", a number or a sequence of numbers
        Cutpoints: a value ``<= cut`` falls in the lower group.  Tertile cuts
        are the 1/3 and 2/3 sample quantiles (linear interpolation, R type 7).
    labels : sequence of str, optional
        Group labels for three or more groups (default ``low``, ``mid``,
        ``high`` for tertiles, ``g1``, ``g2``, ... otherwise).

    Returns
    -------
    Series: 0/1 floats for one cut (1 = above it), else an ordered categorical;
    NaN stays NaN.

    Examples
    --------
    >>> dichotomise([1.0, 2.0, 3.0, 4.0]).tolist()   # median 2.5
    [0.0, 0.0, 1.0, 1.0]
    >>> dichotomise([1, 2, 3, 4, 5, 6], "tertiles").astype(str).tolist()
    ['low', 'low', 'mid', 'mid', 'high', 'high']
    """
    s = _series(x)
    if isinstance(method, str):
        if method == "median":
            cuts = [float(s.median())]
        elif method == "tertiles":
            cuts = [float(s.quantile(1 / 3)), float(s.quantile(2 / 3))]
            labels = labels or ["low", "mid", "high"]
    else:
        cuts = [float(method)] if np.isscalar(method) else [float(c) for c in method]  # type: ignore[union-attr, arg-type]  # numbers, checked by the declaration
    if not cuts or any(np.isnan(cuts)) or any(np.diff(cuts) <= 0):
        raise ParameterError(f"dichotomise: cutpoints {cuts} must be finite and increasing (too few values to split?).")
    if len(cuts) == 1:
        out = (s > cuts[0]).astype(float).where(s.notna())
        out.name = s.name
        return out
    labels = list(labels or [f"g{i + 1}" for i in range(len(cuts) + 1)])
    if len(labels) != len(cuts) + 1:
        raise ParameterError(f"dichotomise: {len(cuts) + 1} groups need {len(cuts) + 1} labels, got {labels}.")
    codes = np.searchsorted(np.asarray(cuts), s.to_numpy(), side="left")
    cat = pd.Categorical.from_codes(np.where(s.isna(), -1, codes), categories=labels, ordered=True)
    return pd.Series(cat, index=s.index, name=s.name)


@check_params(
    prefix=Instance(str, name="a string"),
    offset=(Interval(0, None), Instance(Mapping, name="a mapping of offsets by column")),
)
def log2_features(
    frame: pd.DataFrame, columns: Sequence[str] | None = None, *, offset: float | dict = 1.0, prefix: str = "log2_"
) -> pd.DataFrame:
    """New DataFrame with ``log2_<column>`` for each column (offset per column via a dict).

    Examples
    --------
    >>> import pandas as pd
    >>> log2_features(pd.DataFrame({"cd3_per_ul": [0.0, 1023.0]}))["log2_cd3_per_ul"].tolist()
    [0.0, 10.0]
    """
    columns = list(frame.columns if columns is None else columns)
    out = {}
    for col in columns:
        off = offset.get(col, 1.0) if isinstance(offset, dict) else offset
        out[prefix + col] = log2_transform(frame[col], offset=off)
    return pd.DataFrame(out, index=frame.index)


@dataclass(frozen=True)
class SplitGroups:
    """A feature split into two labelled groups (from :func:`split_groups`)."""

    frame: pd.DataFrame = field(repr=False)  #: the data with the group column added
    column: str  #: name of the group column: ``"<feature> split"``
    feature: str
    cut: float  #: values ``<= cut`` form the lower group
    how: str  #: "median" or "given"
    levels: tuple[str, str]  #: (lower, upper) group labels, the column's category order
    short: Mapping[str, str] = field(repr=False)  #: short labels ("≤ 523", "> 523"), e.g. for numbers at risk


@check_params(split=(Options("median"), Interval()), among=COLUMNS, labels=MAPPING)
def split_groups(
    data: pd.DataFrame,
    feature: str,
    *,
    split="median",
    among: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> SplitGroups:
    """Split a numeric feature at its median (or at a given value) into two labelled groups.

    The cut is :func:`dichotomise`'s (``value <= cut`` is the lower group);
    the median is taken over the patients complete in ``feature`` and every
    column of ``among`` (for a survival split: the duration and event
    columns), so both groups hold patients who enter the analysis.

    Parameters
    ----------
    data : DataFrame
    feature : str
        Numeric column to split.
    split : "median" or float
    among : sequence of str
        Columns a patient must have for the median.
    labels : mapping, optional
        Display names of columns (default: the feature catalogue's).

    Returns
    -------
    SplitGroups
        ``frame`` (``data`` plus the categorical ``column``; patients without
        a value stay missing), ``cut``, ``levels`` (lower, upper) and
        ``short`` labels.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"nk_per_ul": [100.0, 200.0, 300.0, 400.0, None]})
    >>> sg = split_groups(df, "nk_per_ul")
    >>> sg.cut, sg.levels[1]
    (250.0, 'NK cells > median (250 cells/µL)')
    >>> sg.frame[sg.column].isna().tolist()
    [False, False, False, False, True]
    """
    missing = [c for c in [feature, *among] if c not in data.columns]
    if missing:
        raise InputError(f"split_groups: column(s) {missing} are not in the data.", column=missing[0])
    values = pd.to_numeric(data[feature], errors="coerce")
    text = values.isna() & data[feature].notna()
    if text.any():  # a value that is not a number is an error, not a patient without a value
        ids = row_ids(data)
        raise InputError(
            f"split_groups: {feature} must be numeric to be split",
            column=feature,
            rows=[{"patient_id": ids[i], "value": data[feature][i]} for i in data.index[text]],
            hint="Recode these values as numbers (or leave them empty for missing) and split again.",
        )
    complete = values.notna() & data[list(among)].notna().all(axis=1) if among else values.notna()
    if split == "median":
        cut, how = float(values[complete].median()), "median"
    else:
        cut, how = float(split), "given"
    if not np.isfinite(cut):
        raise InputError(
            f"split_groups: {feature} has no value to split (every patient is missing it).",
            column=feature,
            hint="Check the column, or give the cut as a number.",
        )
    name, unit = column_label(feature, labels=labels), column_unit(feature)
    value = f"{cut:.3g}" + (f" {unit}" if unit and unit not in ("z-score", "index", "ratio") else "")
    low, high = (
        (f"{name} \u2264 median ({value})", f"{name} > median ({value})")
        if how == "median"
        else (f"{name} \u2264 {value}", f"{name} > {value}")
    )
    upper = dichotomise(values, cut)
    column = f"{feature} split"
    named = np.where(upper == 1.0, high, low).astype(object)
    named[upper.isna().to_numpy()] = None
    groups = pd.Categorical(named, categories=[low, high])
    return SplitGroups(
        data.assign(**{column: groups}),
        column,
        feature,
        cut,
        how,
        (low, high),
        {low: f"\u2264 {cut:.3g}", high: f"> {cut:.3g}"},
    )
