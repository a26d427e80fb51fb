"""The design matrix of a model with its term structure (:class:`Design`).

Made by :func:`~.design_matrix.model_data` (formulaic, or the numeric fast path
for plain numeric ``covariates=``); ``anova()`` (R's ``drop1``), summaries and
``predict`` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..._missing import row_ids
from ...errors import InputError
from .formula import evaluation_context

__all__ = ["Design"]


@dataclass(frozen=True, eq=False)
class Design:
    """A design matrix with the term structure R's ``drop1`` and summaries need.

    Attributes
    ----------
    X : ndarray
        The model matrix of the rows used (intercept column first if any).
    names : tuple of str
        Column names (formulaic's: ``C(sex)[T.M]``; a numeric or boolean
        column keeps its name).
    terms : tuple of str
        Model terms other than the intercept, in column order.
    term_columns : tuple of tuple of int
        Columns of ``X`` belonging to each term.
    term_factors : tuple of frozenset
        The factors of each term (``x:C(sex)`` -> ``{x, C(sex)}``); a term
        contained in a higher-order term is not dropped by ``anova()``.
    references : dict
        Reference level of each dummy column (``{"C(sex)[T.M]": "F"}``).
    spec : formulaic ModelSpec
        Turns new data into the same columns (``predict``).
    aliases : tuple of (alias, column) pairs
        Internal names the ``covariates=`` path gave to columns.
    """

    X: np.ndarray
    names: tuple[str, ...]
    terms: tuple[str, ...]
    term_columns: tuple[tuple[int, ...], ...]
    term_factors: tuple[frozenset, ...]
    references: dict
    spec: Any  # formulaic's ModelSpec
    aliases: tuple[tuple[str, str], ...] = ()
    numeric: tuple[str, ...] = ()  # data columns used as numbers (alias names)

    def droppable(self) -> list[int]:
        """Indices of terms R's ``drop1`` would test (not inside a higher-order term)."""
        return [
            i
            for i, f in enumerate(self.term_factors)
            if not any(f < other for j, other in enumerate(self.term_factors) if j != i)
        ]

    def describe(self, column: str) -> str:
        """``"level 'M' of C(sex) (reference 'F')"`` for a dummy column, else the name."""
        ref = self.references.get(column)
        if ref is None or "[T." not in column:
            return repr(column)
        head, level = column.rsplit("[T.", 1)
        return f"level {level[:-1]!r} of {head} (reference {ref!r})"

    def frame(self, data: pd.DataFrame) -> np.ndarray:
        """The model matrix of new rows (same columns as ``X``; NaN where a value is missing)."""
        mm = self.spec.get_model_matrix(self._numeric_frame(data), context=evaluation_context(), na_action="ignore")
        return np.asarray(mm, dtype=float)

    def overparametrized(self, data: pd.DataFrame) -> tuple[np.ndarray, tuple[tuple[int, ...], ...]]:
        """Every level of each factor in every term, as R's ``model.matrix(~ 0 + term)`` term by term.

        Returns the matrix (intercept column first if the model has one) and
        the columns of each of :attr:`terms`.  Type III hypotheses (lmerTest's
        ``get_rdX``) are built from it.
        """
        spec = self.spec.update(ensure_full_rank=False, structure=None)
        mm = spec.get_model_matrix(self._numeric_frame(data), context=evaluation_context(), na_action="ignore")
        cols = tuple(
            tuple(range(sl.start, sl.stop)) for term, sl in mm.model_spec.term_slices.items() if str(term) != "1"
        )
        return np.asarray(mm, dtype=float), cols

    def _numeric_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """``data`` with the alias names and the numeric columns as floats (errors name patient and value)."""
        renamed = data.rename(columns={c: a for a, c in self.aliases})
        back, ids = dict(self.aliases), row_ids(data)
        for col in self.numeric:
            if col not in renamed.columns:
                continue
            series = renamed[col]
            if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
                series = series.astype(float)
            values = pd.to_numeric(series, errors="coerce")
            bad = values.isna() & series.notna()
            if bad.any():
                raise InputError(
                    "predict: covariate values must be numeric",
                    column=back.get(col, col),
                    rows=[{"patient_id": ids[i], "value": series[i]} for i in series.index[bad]],
                )
            renamed[col] = values.astype(float)
        return renamed

    def without_intercept(self) -> Design:
        """The same design without its intercept column (Cox models)."""
        if not self.names or self.names[0] != "Intercept":
            return self
        return replace(
            self,
            X=self.X[:, 1:],
            names=self.names[1:],
            term_columns=tuple(tuple(c - 1 for c in cols) for cols in self.term_columns),
        )
