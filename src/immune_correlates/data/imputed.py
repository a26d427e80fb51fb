"""Multiply imputed data: the original frame and ``m`` sets of imputed values (:class:`ImputedData`).

:func:`immune_correlates.impute` makes one; ``fit_logistic``, ``fit_cox``, ``fit_fine_gray`` and
``screen`` recognise one and fit every completed data set, pooling by Rubin's rules.  The class
lives with the data readers (below the estimators) so every estimator can recognise it without
importing the imputation code above it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._results import ResultDisplay
from ..errors import ParameterError

__all__ = ["ImputedData", "ImputedColumn"]

#: Words for the imputation methods, in notes and the report's methods.
METHOD_WORDS = {
    "pmm": "predictive mean matching",
    "logreg": "logistic regression",
    "polyreg": "multinomial logistic regression",
}


@dataclass(frozen=True, eq=False)
class ImputedColumn:
    """The imputations of one column.

    ``rows`` are the positions (0-based) of the missing values in the data, ``values`` an
    object or float array of shape ``(len(rows), m)``: column ``i`` holds imputation ``i``.
    ``kind`` is ``"numeric"``, ``"binary"`` or ``"categorical"``; ``method`` one of
    ``"pmm"``, ``"logreg"``, ``"polyreg"``; ``predictors`` the columns of its imputation model
    (after constant and collinear ones were set aside); ``levels`` the categories in code
    order (binary and categorical columns: the traces follow their codes).
    """

    name: str
    rows: np.ndarray
    values: np.ndarray
    kind: str
    method: str
    predictors: tuple[str, ...]
    levels: tuple = ()


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class ImputedData(ResultDisplay):
    """``m`` completed versions of a data frame, made by multiple imputation (:func:`immune_correlates.impute`).

    Iterating yields the ``m`` completed frames (the data's index and columns, values observed
    in the data unchanged); ``completed(i)`` (0-based) returns frame ``i``; ``len()`` is ``m``.

    Attributes
    ----------
    data : DataFrame
        A copy of the data as given (never changed).
    m : int
        Number of imputations (chains).
    columns : dict
        Column name -> :class:`ImputedColumn` for every column that had missing values and was
        imputed.
    n_iter : int
        Iterations of the chained equations per chain.
    seed : int, tuple or None
        The entropy of the seed sequence the imputations were drawn from (an int seed given as
        is), so a run can be repeated.
    traces : DataFrame
        Convergence traces: ``column``, ``chain``, ``iteration``, ``mean`` and ``sd`` of the
        imputed values (category codes for categorical columns, as mice's ``chainMean``).
    survival : tuple of (str, str)
        ``(duration, event)`` pairs entered as the event and the Nelson-Aalen cumulative hazard.
    model_columns : tuple of str
        Every column of the imputation model (imputed and predictors).
    donors : int
        Donor pool size of predictive mean matching.
    notes : tuple of str
        What was done and set aside, in words.
    """

    data: pd.DataFrame
    m: int
    columns: dict
    n_iter: int
    seed: object = None
    traces: pd.DataFrame = field(default=None)
    survival: tuple = ()
    model_columns: tuple[str, ...] = ()
    donors: int = 5
    notes: tuple[str, ...] = ()

    @classmethod
    def from_frames(cls, data: pd.DataFrame, frames, *, seed=None) -> ImputedData:
        """Imputations made elsewhere (R's ``mice``, a collaborator's files) as an :class:`ImputedData`.

        ``data`` is the frame with its missing values, ``frames`` the ``m`` completed frames
        (same index and columns, the observed values unchanged).  The fits of this package then
        pool over them by Rubin's rules.

        Examples
        --------
        >>> import pandas as pd
        >>> data = pd.DataFrame({"x": [1.0, None, 3.0]})
        >>> imp = ImputedData.from_frames(data, [data.fillna(2.0), data.fillna(2.5)])
        >>> imp.imputed("x").values.tolist()
        [[2.0, 2.5]]
        """
        from ..errors import InputError

        frames = list(frames)
        for i, f in enumerate(frames):
            if not (f.index.equals(data.index) and f.columns.equals(data.columns)):
                raise InputError(
                    f"ImputedData.from_frames: completed frame {i} does not have the data's index and columns."
                )
            if f.isna().any().any():
                gaps = list(f.columns[f.isna().any()])
                raise InputError(f"ImputedData.from_frames: completed frame {i} still has missing values in {gaps}.")
            changed = data.notna() & (f != data)
            if changed.any().any():
                col = changed.any().idxmax()
                raise InputError(
                    f"ImputedData.from_frames: completed frame {i} changes observed values of {col!r} "
                    f"(patients {list(data.index[changed[col]][:5])}); only missing values may be filled.",
                    column=col,
                )
        cols = {}
        for name in data.columns[data.isna().any()]:
            rows = np.flatnonzero(data[name].isna().to_numpy())
            values = np.column_stack([f[name].to_numpy()[rows] for f in frames])
            kind = "numeric" if pd.api.types.is_numeric_dtype(data[name]) else "categorical"
            cols[name] = ImputedColumn(name, rows, values, kind, "given", ())
        return cls(
            data=data.copy(), m=len(frames), columns=cols, n_iter=0, seed=seed, notes=("imputations made elsewhere",)
        )

    def __len__(self) -> int:
        return self.m

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for i in range(self.m):
            yield self.completed(i)

    def completed(self, i: int) -> pd.DataFrame:
        """Completed data set ``i`` (0-based): the data with imputation ``i`` filled in.

        Examples
        --------
        >>> import pandas as pd, immune_correlates as ic
        >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0, 5.0, 6.0], "y": [1.1, 2.2, 2.9, 4.2, 4.8, 6.1]})
        >>> imp = ic.impute(df, m=3, seed=1)
        >>> imp.completed(0)["x"].isna().any(), len(list(imp))
        (np.False_, 3)
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < self.m:
            raise ParameterError(
                f"completed: i={i!r} is not allowed; i must be an integer in [0, {self.m - 1}] (imputations are 0-based)."
            )
        out = self.data.copy()
        for name, col in self.columns.items():
            values = out[name].copy()
            values.iloc[col.rows] = col.values[:, i]
            if values.dtype == object and col.kind == "numeric":
                values = pd.to_numeric(values)
            out[name] = values
        return out

    def imputed(self, column: str) -> pd.DataFrame:
        """The imputed values of ``column``: one row per missing value (the data's index), one column per imputation."""
        if column not in self.columns:
            raise ParameterError(
                f"imputed: column={column!r} is not allowed; column must be one of the imputed columns "
                f"{list(self.columns)}."
            )
        col = self.columns[column]
        return pd.DataFrame(col.values, index=self.data.index[col.rows], columns=range(self.m))

    def long(self) -> pd.DataFrame:
        """The data and every completed data set stacked, with a column ``imputation`` (0 = the data as given,
        1..m = completed data sets), as ``mice::complete(imp, "long", include = TRUE)``."""
        frames = [self.data.assign(imputation=0)] + [f.assign(imputation=i + 1) for i, f in enumerate(self)]
        return pd.concat(frames)

    def summary(self) -> pd.DataFrame:
        """One row per imputed column: kind, method, missing count and share, predictors, observed and imputed means."""
        rows = []
        n = len(self.data)
        for name, col in self.columns.items():
            observed = self.data[name].drop(self.data.index[col.rows])
            if col.kind == "numeric":
                obs_mean = float(pd.to_numeric(observed).mean())
                imp_mean = float(np.mean(col.values.astype(float)))
            else:
                obs_mean = imp_mean = np.nan
            rows.append(
                {
                    "column": name,
                    "kind": col.kind,
                    "method": col.method,
                    "n_missing": len(col.rows),
                    "pct_missing": 100.0 * len(col.rows) / n,
                    "n_predictors": len(col.predictors),
                    "observed_mean": obs_mean,
                    "imputed_mean": imp_mean,
                }
            )
        return pd.DataFrame(rows)

    def describe(self) -> str:
        """One sentence for a methods section: what was imputed, how, with m, iterations and the seed."""
        if not self.columns:
            return "No value was missing in the imputation model's columns; nothing was imputed."
        parts = []
        for method in ("pmm", "logreg", "polyreg"):
            cols = [f"{c} ({len(v.rows)})" for c, v in self.columns.items() if v.method == method]
            if cols:
                parts.append(f"{METHOD_WORDS[method]} for {', '.join(cols)}")
        surv = (
            "; survival outcomes entered the imputation models as the event indicator and the Nelson-Aalen "
            "cumulative hazard (" + ", ".join(f"{d}/{e}" for d, e in self.survival) + ")"
            if self.survival
            else ""
        )
        return (
            f"Missing values (count per column) were multiply imputed by chained equations (m = {self.m}, "
            f"{self.n_iter} iterations, seed {self.seed}): {'; '.join(parts)}{surv}. Estimates were pooled by "
            "Rubin's rules with Barnard-Rubin degrees of freedom."
        )

    def _title(self) -> str:
        return f"Multiply imputed data: {len(self.data)} rows, m = {self.m}"

    def _notes(self) -> list[str]:
        lines = [
            f"{self.n_iter} iterations per chain; seed {self.seed}; predictive mean matching with {self.donors} donors"
        ]
        if self.survival:
            lines.append(
                "survival outcomes as event + Nelson-Aalen cumulative hazard: "
                + ", ".join(f"{d}/{e}" for d, e in self.survival)
            )
        lines.extend(self.notes)
        return lines
