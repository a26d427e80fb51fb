"""The fitted logistic model: :class:`LogisticModel` (data and options) and :class:`LogisticResult`.

The result keeps a small frozen :class:`LogisticModel` (design matrix,
outcome, weights, fitting options) instead of closures, so it pickles, and
recomputes profile intervals at another ``alpha`` and term tests
(``anova()``) from it (:class:`~._model.FittedModel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ...errors import InputError, ModelError
from ..engine.logistic_core import newton_fit
from ..engine.separation import SeparationResult
from ._model import FittedModel, RegressionResult

__all__ = ["LogisticModel", "LogisticResult"]


@dataclass(frozen=True, eq=False)
class LogisticModel(FittedModel):
    """What a logistic fit used: design matrix, 0/1 outcome, case weights and options."""

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray
    names: tuple[str, ...]
    firth: bool
    max_iter: int
    tol: float
    flat_tol: float | None = None

    def fit(self, beta0: np.ndarray | None = None, fixed: np.ndarray | None = None):
        """Newton fit of this model (coefficients in ``fixed`` held at ``beta0``)."""
        return newton_fit(
            self.X,
            self.y,
            self.w,
            firth=self.firth,
            beta0=beta0,
            fixed=fixed,
            max_iter=self.max_iter,
            tol=self.tol,
            flat_tol=self.flat_tol,
        )

    @property
    def warn_profile(self) -> bool:  # type: ignore[override]
        """Separated ML fits (``flat_tol``) have infinite estimates: their refits are not expected to settle."""
        return self.flat_tol is None

    def refit(self, start: np.ndarray, fixed: np.ndarray) -> tuple[float, np.ndarray, bool]:
        """Constrained fit (logistf's: the penalty keeps the full model's information)."""
        fit = self.fit(beta0=start, fixed=fixed)
        return float(fit.llf), fit.beta, bool(fit.converged)


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class LogisticResult(RegressionResult):
    """A fitted logistic regression (see :func:`fit_logistic`).

    Besides :class:`RegressionResult`'s attributes: ``llf_null`` (intercept-only
    fit, same method; for Firth, logistf's null model: every slope fixed at 0
    while the penalty keeps the full model's information), ``lr_statistic``, ``lr_df``, ``lr_pvalue`` (likelihood-ratio
    test of all covariates), ``fitted`` (probabilities of the rows used),
    ``auc`` (C statistic of ``fitted``), ``separation`` (the
    :class:`SeparationResult` found before fitting), ``outcome``, ``covariates``
    (the model-matrix columns other than the intercept), ``formula`` (if
    fitted from one), ``model`` (the :class:`LogisticModel` fitted), and
    ``anova()`` (likelihood-ratio test of each term).
    """

    llf_null: float = float("nan")
    lr_statistic: float = float("nan")
    lr_df: int = 0
    lr_pvalue: float = float("nan")
    fitted: pd.Series = None
    auc: float = float("nan")
    separation: SeparationResult | None = None
    outcome: str = ""
    covariates: tuple[str, ...] = ()
    formula: str | None = None
    model: LogisticModel | None = None

    ratio_name = "odds_ratio"

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Predicted probabilities for the rows of ``data`` (NaN where a covariate is missing)."""
        design = self.design
        if design is None:
            raise ModelError("predict: this result keeps no design matrix to apply to new data.")
        try:
            X = design.frame(data)
        except Exception as e:  # formulaic reports unknown columns, levels or non-numeric values
            raise InputError(
                f"predict: cannot build the model columns {list(design.names)} from the data ({e}).",
                hint="Give the columns the model was fitted with, with the same kinds "
                "of values (numbers, or known levels of a factor).",
            ) from e
        return pd.Series(expit(X @ self.params.to_numpy()), index=data.index, name="probability")

    def _title(self) -> str:
        kind = "Firth-penalized" if self.method == "firth" else "maximum likelihood"
        return f"Logistic regression ({kind}) of {self.outcome}"

    def _notes(self) -> list[str]:
        lines = super()._notes()
        lines.append(
            f"LR test of the model: chi2 = {self.lr_statistic:.4g} on {self.lr_df} df, p = {self.lr_pvalue:.4g}; "
            f"AUC = {self.auc:.3f}"
        )
        return lines
