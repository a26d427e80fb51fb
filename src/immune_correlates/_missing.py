"""Complete-case selection that never loses a row silently.

Every model and test in :mod:`immune_correlates.stats` calls
:func:`complete_cases` on the columns it needs.  Rows that cannot be used are
returned in an exclusion table (patient id and reason) and announced with a
:class:`~immune_correlates.errors.MissingDataWarning`, or refused with a
:class:`~immune_correlates.errors.MissingDataError` when ``missing="raise"``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._checks import numeric_column, require_columns
from ._params import MISSING, validate
from .errors import MissingDataError, MissingDataWarning, warn

__all__ = ["complete_cases", "row_ids", "empty_exclusions", "EXCLUSION_COLUMNS"]

EXCLUSION_COLUMNS = ["patient_id", "reason"]


_EMPTY_EXCLUSIONS = pd.DataFrame({"patient_id": pd.Series(dtype=object), "reason": pd.Series(dtype=object)})


def empty_exclusions() -> pd.DataFrame:
    """An exclusion table with no rows (a fresh copy: callers may add to it)."""
    return _EMPTY_EXCLUSIONS.copy()


def row_ids(data: pd.DataFrame) -> pd.Series:
    """Patient ids of ``data``'s rows: the ``patient_id`` column, else the index."""
    if "patient_id" in data.columns:
        return data["patient_id"].astype(object)
    return pd.Series(data.index.astype(object), index=data.index)


def complete_cases(
    data: pd.DataFrame,
    columns: Sequence[str],
    *,
    missing: str = "drop",
    numeric: Sequence[str] = (),
    caller: str = "analysis",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the rows of ``data`` that are complete in ``columns``.

    Parameters
    ----------
    data : DataFrame
        Patient-level data; ids come from a ``patient_id`` column or the index.
    columns : sequence of str
        Every column the analysis uses.
    missing : {"drop", "raise"}
        ``"drop"`` leaves incomplete rows out, records them and warns;
        ``"raise"`` refuses with :class:`MissingDataError`.
    numeric : sequence of str
        Columns that must be numeric (booleans allowed) and finite; a
        non-numeric or infinite value is an :class:`InputError` naming patient
        and value (:func:`immune_correlates._checks.numeric_column`).
    caller : str
        Name used in messages (``"fit_cox"``, ...).

    Returns
    -------
    complete : DataFrame
        The complete rows, in their original order.
    excluded : DataFrame
        Columns ``patient_id`` and ``reason`` (``"missing cd3_per_ul, pfs_months"``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0]}, index=pd.Index(["P1", "P2", "P3"], name="patient_id"))
    >>> kept, excluded = complete_cases(df, ["x"], caller="demo")  # doctest: +SKIP
    >>> excluded.to_dict("records")  # doctest: +SKIP
    [{'patient_id': 'P2', 'reason': 'missing x'}]
    """
    validate(caller, "missing", missing, MISSING)
    columns = list(dict.fromkeys(columns))
    require_columns(data, columns, caller)
    ids = lambda: row_ids(data)  # built only when rows are reported (boxing 10^6 ids takes ~40 ms)
    na_of = {col: np.isnan(numeric_column(data[col], col, caller, ids)) for col in numeric}
    na = (
        np.column_stack([na_of[c] if c in na_of else data[c].isna().to_numpy(dtype=bool) for c in columns])
        if columns
        else (np.zeros((len(data), 0), dtype=bool))
    )
    incomplete = na.any(axis=1)
    if not incomplete.any():
        return data, empty_exclusions()
    reasons = ["missing " + ", ".join(c for c, gone in zip(columns, row) if gone) for row in na[incomplete]]
    excluded = pd.DataFrame({"patient_id": row_ids(data)[incomplete].to_list(), "reason": reasons})
    listing = "; ".join(f"{p} ({r})" for p, r in zip(excluded["patient_id"], excluded["reason"]))
    if incomplete.all():
        raise MissingDataError(
            f"{caller}: no row is complete in {columns}: {listing}. "
            "Check the column names and the data; nothing can be estimated from zero rows."
        )
    if missing == "raise":
        raise MissingDataError(
            f"{caller}: {len(excluded)} row(s) have missing values: {listing}. "
            "Impute or remove them, or pass missing='drop' to analyse complete cases."
        )
    warn(
        f"{caller}: left out {len(excluded)} of {len(data)} row(s) with missing values: {listing}. "
        "They are listed in the result's `excluded` table.",
        MissingDataWarning,
    )
    return data.loc[~incomplete], excluded
