"""The fitted logistic model: :class:`LogisticModel` (data and options) and :class:`LogisticResult`.

The result keeps a small frozen :class:`LogisticModel` (design matrix,
outcome, weights, fitting options) instead of closures, so it pickles, and
recomputes profile intervals at another ``alpha`` and term tests
(``anova()``) from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from ...errors import ConvergenceWarning, InputError, warn
from ..engine.logistic_core import newton_fit
from ..engine.profile import profile_bounds
from ..engine.separation import SeparationResult
from ._model import RegressionResult

__all__ = ["LogisticModel", "LogisticResult", "Profiler"]


@dataclass(frozen=True, eq=False)
class LogisticModel:
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


class Profiler:
    """Constrained (penalized) llf of one coefficient and profile intervals, as logistf computes them.

    Path following: a constrained fit starts from the line through the two
    solutions profiled nearest to the value asked (on a separated profile the
    other coefficients move linearly with this one, far beyond what a few
    capped steps reach).
    """

    def __init__(self, model: LogisticModel, beta: np.ndarray, llf: float, scale: np.ndarray):
        self.model, self.beta, self.llf, self.scale = model, beta, llf, scale
        self.path = {k: [(beta[k], beta)] for k in range(len(beta))}

    def constrained(self, k: int, value: float) -> float:
        near = sorted(self.path[k], key=lambda item: abs(item[0] - value))[:2]
        start = near[0][1].copy()
        if len(near) == 2 and near[0][0] != near[1][0]:
            slope = (near[0][1] - near[1][1]) / (near[0][0] - near[1][0])
            start = start + slope * (value - near[0][0])
        start[k] = value
        fixed = np.zeros(len(start), dtype=bool)
        fixed[k] = True
        fit = self.model.fit(beta0=start, fixed=fixed)
        if not fit.converged:
            warn(
                f"fit_logistic: the constrained fit with {self.model.names[k]} = {value:.6g} (profile "
                f"likelihood) did not converge in {self.model.max_iter} iterations; that interval end may "
                "be inaccurate. Increase max_iter.",
                ConvergenceWarning,
            )
        self.path[k].append((value, fit.beta))
        return float(fit.llf)

    def intervals(self, alpha: float) -> pd.DataFrame:
        ends = [
            profile_bounds(lambda b, k=k: self.constrained(k, b), self.beta[k], self.scale[k], self.llf, alpha)
            for k in range(len(self.beta))
        ]
        return pd.DataFrame(ends, index=list(self.model.names), columns=["lower", "upper"])


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
    separation: SeparationResult = None
    outcome: str = ""
    covariates: tuple[str, ...] = ()
    formula: str | None = None
    model: LogisticModel = None
    scale: np.ndarray = None  # first profile bracket of each coefficient

    ratio_name = "odds_ratio"

    def _profile_intervals(self, alpha: float) -> pd.DataFrame:
        return Profiler(self.model, self.params.to_numpy(), self.llf, self.scale).intervals(alpha)

    def _constrained_llf(self, columns: tuple[int, ...]) -> float:
        fixed = np.zeros(len(self.params), dtype=bool)
        fixed[list(columns)] = True
        start = np.where(fixed, 0.0, self.params.to_numpy())
        fit = self.model.fit(beta0=start, fixed=fixed)
        if not fit.converged:
            warn(
                "anova: a fit without a term did not converge; its test may be inaccurate. Increase max_iter.",
                ConvergenceWarning,
            )
        return float(fit.llf)

    def predict(self, data: pd.DataFrame) -> pd.Series:
        """Predicted probabilities for the rows of ``data`` (NaN where a covariate is missing)."""
        try:
            X = self.design.frame(data)
        except Exception as e:  # formulaic reports unknown columns, levels or non-numeric values
            raise InputError(
                f"predict: cannot build the model columns {list(self.design.names)} from the data ({e}).",
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
