"""The fitted Cox model: :class:`CoxModel` (data and options) and :class:`CoxResult`.

As for logistic regression, the result keeps a small frozen model object (the
sorted risk-set data of ``engine.cox_core``, the method and the fitting
options) from which profile intervals at another ``alpha``, term tests
(``anova()``), the concordance and the test of proportional hazards are
recomputed; it pickles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ...errors import ModelError
from ..engine import cox_core as core
from ..engine.cox_fit import fit_cox_model
from ._model import FittedModel, RegressionResult
from .concordance import ConcordanceResult, concordance_index
from .ph_test import PHTestResult, ph_test

__all__ = ["CoxModel", "CoxResult"]


@dataclass(frozen=True, eq=False)
class CoxModel(FittedModel):
    """What a Cox fit used: the risk-set data (sorted by time), the method and the fitting options."""

    data: core.CoxData
    names: tuple[str, ...]
    firth: bool
    max_iter: int = 100
    tol: float = 1e-10
    cluster: np.ndarray | None = None  # cluster labels in the sorted order of ``data``

    follow_path = False  # coxph and coxphf start every profile refit from the estimate
    warn_profile = False

    def fit(self, beta0: np.ndarray, free: np.ndarray | None = None):
        """Newton fit of this model (coefficients outside ``free`` held at ``beta0``)."""
        return fit_cox_model(self.data, beta0, firth=self.firth, free=free, tol=self.tol, max_iter=self.max_iter)

    def refit(self, start: np.ndarray, fixed: np.ndarray) -> tuple[float, np.ndarray, bool]:
        fit = self.fit(start, free=~fixed)
        return float(fit.obj.value), fit.beta, fit.converged


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class CoxResult(RegressionResult):
    """A fitted Cox model (see :func:`~.cox.fit_cox`).

    Besides the attributes of :class:`RegressionResult` (``params`` are log
    hazard ratios; ``summary()`` adds ``hazard_ratio`` columns; ``model`` is
    the :class:`CoxModel` fitted):

    Attributes
    ----------
    llf_null : float
        Log partial likelihood at ``beta = 0`` (penalized for Firth fits).
    model_tests : DataFrame
        Tests of the whole model as ``summary(coxph)`` prints them, indexed by
        ``lr``, ``score``, ``wald`` (and ``robust_score`` with ``robust=True``):
        ``statistic``, ``df``, ``p_value``.  The Wald test uses the robust
        variance when ``robust=True``.  Firth fits report the penalized LR and
        the Wald test only.
    ties, strata, robust : str, tuple of str, bool
        How the model was fitted.
    cov_naive : DataFrame
        The model-based covariance ``I^-1`` (equal to ``cov`` unless robust).
    linear_predictor : Series
        ``x'beta`` with covariates centred at their (weighted) means, as coxph.
    formula : str or None
        The formula fitted, if any.
    anova() : DataFrame
        Likelihood-ratio test of each term (R's ``drop1(fit, test="Chisq")``).
    """

    llf_null: float
    model_tests: pd.DataFrame
    ties: str
    strata: tuple[str, ...] = ()
    robust: bool = False
    cov_naive: pd.DataFrame = None
    linear_predictor: pd.Series = None
    formula: str | None = None
    model: CoxModel | None = None

    ratio_name = "hazard_ratio"

    def _title(self) -> str:
        return f"Cox proportional hazards ({self.method}, {self.ties} ties)"

    @cached_property
    def concordance(self) -> ConcordanceResult:
        """Harrell's C of the linear predictor, as ``survival::concordance(fit)``.

        Returns a :class:`~immune_correlates.stats.regression.concordance.ConcordanceResult`
        (``concordance``, ``std_error``, interval, pair counts); comparisons are
        within strata, weighted by the case weights.
        """
        model = self.model
        assert model is not None  # fit_cox always keeps its model
        cd = model.data
        if cd.entry is not None:
            raise ModelError(
                "concordance: not available for counting-process fits (entry=) yet: pairs must be "
                "compared within (start, stop] risk sets, as survival::concordance does."
            )
        return concordance_index(
            cd.time,
            cd.status,
            self.linear_predictor.to_numpy()[cd.order],
            strata=cd.stratum,
            weights=cd.w,
            cluster=model.cluster,
            reverse=True,
            alpha=self.alpha,
        )

    def ph_test(self) -> PHTestResult:
        """Test of proportional hazards on scaled Schoenfeld residuals (see :func:`.ph_test.ph_test`)."""
        return ph_test(self)
