"""The fitted GEE: :class:`GEEResult` (robust SEs, Wald tests, the working correlation)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._results import ResultDisplay
from ...errors import ModelError
from ..regression._model import wald_table
from ..regression.design_matrix import Design
from ._gee_model import GEEModel

__all__ = ["GEEResult", "RATIO_NAMES"]

#: Name of the exponentiated coefficient in ``summary()`` per family (none for the identity link).
RATIO_NAMES = {"binomial": "odds_ratio", "poisson": "rate_ratio"}


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class GEEResult(ResultDisplay):
    """A fitted marginal model for repeated outcomes.

    Attributes
    ----------
    params, bse, pvalues : Series
        Coefficients, robust (sandwich) standard errors and Wald chi-square p-values, by term.
    cov : DataFrame
        The robust covariance of ``params``; ``cov_naive`` the model-based one.
    correlation : float
        The working-correlation parameter (geepack's ``alpha``; NaN for independence).
    scale : float
        The mean squared Pearson residual (geepack's ``gamma``).
    nobs, n_groups : int
        Rows and groups (patients) used; ``cluster_sizes`` the smallest and largest group.
    family, cov_struct : str
    alpha : float
        Level of ``conf_int()`` (Wald intervals on the robust SE).
    ci_method, test : str
        ``"wald"`` and ``"wald"``: the interval and the p-value agree.
    excluded : DataFrame
        ``patient_id`` and ``reason`` of every row not used.
    design : Design
    model : GEEModel
    converged : bool
    n_iter : int
    notes : tuple of str
    """

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    cov: pd.DataFrame
    cov_naive: pd.DataFrame
    correlation: float
    scale: float
    nobs: int
    n_groups: int
    cluster_sizes: tuple[int, int]
    family: str
    cov_struct: str
    alpha: float
    excluded: pd.DataFrame
    design: Design
    model: GEEModel
    ci_method: str = "wald"
    test: str = "wald"
    converged: bool = True
    n_iter: int = 0
    notes: tuple[str, ...] = field(default=())

    def cov_params(self) -> pd.DataFrame:
        """The robust covariance matrix of the coefficients."""
        return self.cov

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics ``params / bse`` (their squares are geepack's Wald chi-squares)."""
        return self.params / self.bse

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Wald intervals on the robust standard errors (``lower``, ``upper``), at ``alpha`` or the fit's level."""
        a = self.alpha if alpha is None else alpha
        if not 0 < a < 1:
            raise ModelError(f"alpha must lie in (0, 1), got {alpha!r}.")
        return wald_table(self.params, self.bse, a)

    def working_correlation(self, size: int | None = None) -> pd.DataFrame:
        """The working correlation of ``size`` consecutive observations (default: the largest group).

        Independence gives the identity, exchangeable ``alpha`` off the diagonal and AR(1)
        ``alpha^|j - k|`` for observations ``j`` and ``k`` one time unit apart per step.
        """
        n = self.cluster_sizes[1] if size is None else int(size)
        idx = np.arange(n)
        if self.cov_struct == "exchangeable":
            mat = np.full((n, n), self.correlation)
            np.fill_diagonal(mat, 1.0)
        elif self.cov_struct == "ar1":
            mat = self.correlation ** np.abs(idx[:, None] - idx[None, :])
        else:
            mat = np.eye(n)
        labels = pd.Index(idx + 1, name="observation")
        return pd.DataFrame(mat, index=labels, columns=labels)

    def summary(self) -> pd.DataFrame:
        """One row per term: estimate, robust SE, Wald chi-square, p-value, interval (and ratio for log/logit links)."""
        ci = self.conf_int()
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": self.bse.to_numpy(),
                "statistic": (self.tvalues**2).to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
            }
        )
        ratio = RATIO_NAMES.get(self.family)
        if ratio is not None:
            with np.errstate(over="ignore"):
                out[ratio] = np.exp(out["estimate"])
                out[f"{ratio}_ci_lower"] = np.exp(out["ci_lower"])
                out[f"{ratio}_ci_upper"] = np.exp(out["ci_upper"])
        out["ci_method"] = self.ci_method
        out["test"] = self.test
        return out

    def _title(self) -> str:
        return f"GEE ({self.family}, {self.cov_struct} working correlation)"

    def _notes(self) -> list[str]:
        corr = "" if self.cov_struct == "independence" else f", working correlation alpha = {self.correlation:.3f}"
        lines = [
            f"n = {self.nobs} rows in {self.n_groups} groups (sizes {self.cluster_sizes[0]}-"
            f"{self.cluster_sizes[1]}){corr}, scale = {self.scale:.3f}; robust (sandwich) SEs, "
            f"Wald {100 * (1 - self.alpha):g}% intervals and Wald chi-square p-values"
        ]
        if len(self.excluded):
            lines.append(
                f"{len(self.excluded)} row(s) excluded: "
                + "; ".join(f"{p} ({r})" for p, r in zip(self.excluded["patient_id"], self.excluded["reason"]))
            )
        lines.extend(self.notes)
        return lines
