"""Planned analyses of a simulated trial: what is fitted, what is tested.

Each analysis is a small frozen dataclass.  :meth:`evaluate` runs it on a
:class:`~immune_correlates.design.simulate_batch.TrialBatch` (all trials at
once, see :mod:`immune_correlates.design._fits`) and returns per-trial arrays;
:func:`immune_correlates.design.power` turns those into operating
characteristics.  Supported: Firth or ML logistic regression of CR on one
feature (Wald or likelihood-ratio test), the exact Wilcoxon rank-sum test of
a feature between CR and the rest, Cox regression (ML or Firth) of PFS on one
feature, the log-rank test of a median split, and a screen of several
features with Benjamini-Hochberg control of the false discovery rate.

The base class :class:`Analysis` (setting an effect size, the null design) and the steps the
analyses share live in :mod:`.analysis_base` (``Analysis`` is re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._params import ALPHA, Instance, Options, check_params, validate
from ..data.design import DRIVERS, TrialDesign
from ..errors import ConfigError, ParameterError
from ..stats.engine.discrimination import auc_batch
from . import _fits
from .analysis_base import Analysis, _check, _large_sample_value, _ml_and_firth, _outcome
from .model import driver_covariance
from .simulate_batch import TrialBatch

__all__ = [
    "Analysis",
    "LogisticAnalysis",
    "WilcoxonAnalysis",
    "CoxAnalysis",
    "LogrankAnalysis",
    "ScreenAnalysis",
    "make_analysis",
    "ANALYSES",
]


@dataclass(frozen=True)
class LogisticAnalysis(Analysis):
    """Logistic regression of CR (or response) on one feature.

    Parameters
    ----------
    feature : str
        A driver (``log2_cd3``, ``log2_nk``, ``t_function``, ``nk_function``)
        or a null feature ``null_j``.
    method : {"firth", "ml"}
        The fit whose test decides significance.  Both fits are always run,
        so the result compares the bias and coverage of ML and Firth.
    test : {"lr", "wald"}
        Penalized (Firth) or ordinary (ML) likelihood-ratio test, or Wald.
    outcome : {"cr", "responder"}
    alpha : float
    ci : {"wald", "profile"}
        Intervals whose coverage and width are reported: Wald, or profile
        (penalized) likelihood as ``fit_logistic(ci="profile")`` (slower).
    """

    method: str = "firth"
    test: str = "lr"
    outcome: str = "cr"
    ci: str = "wald"

    family = "logistic"

    def __post_init__(self):
        super().__post_init__()
        _check(self, "method", ("firth", "ml"))
        _check(self, "test", ("lr", "wald"))
        _check(self, "outcome", ("cr", "responder"))
        _check(self, "ci", ("wald", "profile"))

    @property
    def label(self) -> str:
        fit = "Firth" if self.method == "firth" else "ML"
        return f"{fit} logistic of {self.outcome} on {self.feature} ({self.test})"

    def _design_matrix(self, batch):
        x = batch.feature(self.feature)
        return np.stack([np.ones_like(x), x], axis=2), _outcome(batch, self.outcome)

    def evaluate(self, batch: TrialBatch) -> dict:
        X, y = self._design_matrix(batch)
        return _ml_and_firth(
            self,
            lambda firth, test: _fits.logistic_trials(X, y, firth=firth, test=test, alpha=self.alpha, ci=self.ci),
            y.sum(axis=1),
            "separation",
        )

    def true_value(self, design: TrialDesign) -> float:
        return _large_sample_value(self, design)


@dataclass(frozen=True)
class WilcoxonAnalysis(Analysis):
    """Exact Wilcoxon rank-sum test of a feature, CR (or responders) against the rest."""

    outcome: str = "cr"

    def __post_init__(self):
        super().__post_init__()
        _check(self, "outcome", ("cr", "responder"))

    @property
    def label(self) -> str:
        return f"Wilcoxon rank-sum of {self.feature}, {self.outcome} vs rest"

    def evaluate(self, batch: TrialBatch) -> dict:
        y = _outcome(batch, self.outcome)
        x = batch.feature(self.feature)
        _, p = _fits.wilcoxon_trials(x, y)
        n1 = y.sum(axis=1)
        auc = auc_batch(x, y)
        return {"n_events": n1, "pvalue": p, "reject": p < self.alpha, "auc": auc}


@dataclass(frozen=True)
class CoxAnalysis(Analysis):
    """Cox regression of PFS on one feature (optionally adjusted for the response group).

    Parameters
    ----------
    feature : str
    method : {"ml", "firth"}
        The fit whose test decides significance; both are run for bias and coverage.
    test : {"wald", "lr"}
    adjust_for_response : bool
        Add PR and CR indicators as covariates (the design's model of PFS).
    alpha : float
    ci : {"wald", "profile"}
        Intervals whose coverage and width are reported (profile: as
        ``fit_cox(ci="profile")``, slower).
    """

    method: str = "ml"
    test: str = "wald"
    adjust_for_response: bool = False
    ci: str = "wald"

    effect_on = "hr_pfs"
    ratio_name = "hazard_ratio"
    family = "cox"

    def __post_init__(self):
        super().__post_init__()
        _check(self, "method", ("firth", "ml"))
        _check(self, "test", ("lr", "wald"))
        _check(self, "ci", ("wald", "profile"))

    @property
    def label(self) -> str:
        adj = " given response" if self.adjust_for_response else ""
        return f"{'Firth' if self.method == 'firth' else 'ML'} Cox of PFS on {self.feature}{adj} ({self.test})"

    def _x(self, batch):
        x = batch.feature(self.feature)[..., None]
        if self.adjust_for_response:
            x = np.concatenate([x, (batch.group == 1)[..., None], (batch.group == 2)[..., None]], axis=2)
        return x.astype(float)

    def evaluate(self, batch: TrialBatch) -> dict:
        x = self._x(batch)
        return _ml_and_firth(
            self,
            lambda firth, test: _fits.cox_trials(
                x, batch.time, batch.event, firth=firth, test=test, alpha=self.alpha, ci=self.ci
            ),
            batch.event.sum(axis=1),
            "monotone_likelihood",
        )

    def true_value(self, design: TrialDesign) -> float:
        return _large_sample_value(self, design)


@dataclass(frozen=True)
class LogrankAnalysis(Analysis):
    """Log-rank test of PFS between patients above and at-or-below a cut of the feature.

    ``cut="median"`` splits each trial at its own sample median; a number
    splits at that value of the (standardized) feature.
    """

    cut: object = "median"

    effect_on = "hr_pfs"
    ratio_name = "hazard_ratio"

    def __post_init__(self):
        super().__post_init__()
        if not (self.cut == "median" or isinstance(self.cut, (int, float))):
            raise ParameterError(
                f"{type(self).__name__}: cut={self.cut!r} is not allowed; cut must be 'median' or a number."
            )

    @property
    def label(self) -> str:
        return f"log-rank of PFS, {self.feature} above vs below {self.cut}"

    def evaluate(self, batch: TrialBatch) -> dict:
        x = batch.feature(self.feature)
        cut = np.median(x, axis=1, keepdims=True) if self.cut == "median" else float(self.cut)  # type: ignore[arg-type]  # a number unless "median"
        high = (x > cut).astype(float)
        _chi2, p, hr = _fits.logrank_trials(high, batch.time, batch.event)
        return {"n_events": batch.event.sum(axis=1), "pvalue": p, "reject": p < self.alpha, "peto_log_hr": hr}


@dataclass(frozen=True)
class ScreenAnalysis(Analysis):
    """A screen of several features, one model per feature, Benjamini-Hochberg at ``fdr``.

    Parameters
    ----------
    features : tuple of str, optional
        Features screened (default: every simulated feature, drivers and nulls).
    model : {"firth", "logistic", "cox", "firth_cox"}
        Per-feature model: Firth or ML logistic of ``outcome``, ML or Firth Cox of PFS.
    test : {"lr", "wald"}
    outcome : {"cr", "responder"}
        For the logistic models.
    fdr : float
        False discovery rate of the Benjamini-Hochberg step-up procedure.

    Notes
    -----
    A feature counts as truly associated when its marginal association with
    the outcome is non-zero under the design: a driver that has an effect or
    is correlated with a driver that has one (for PFS also through the
    response group).  Null features ``null_j`` never are.
    Benjamini & Hochberg (1995), J R Stat Soc B 57:289.
    """

    features: tuple | None = None
    model: str = "firth"
    test: str = "lr"
    outcome: str = "cr"
    fdr: float = 0.1
    feature: str = ""

    def __post_init__(self):
        super().__post_init__()
        _check(self, "model", ("firth", "logistic", "cox", "firth_cox"))
        _check(self, "test", ("lr", "wald"))
        _check(self, "outcome", ("cr", "responder"))
        validate(type(self).__name__, "fdr", self.fdr, ALPHA)

    @property
    def effect_on(self):
        return "hr_pfs" if self.model in ("cox", "firth_cox") else "or_cr"

    @property
    def ratio_name(self):
        return "hazard_ratio" if self.model in ("cox", "firth_cox") else "odds_ratio"

    @property
    def label(self) -> str:
        return f"screen ({self.model}, BH at FDR {self.fdr:g})"

    def _names(self, batch: TrialBatch) -> tuple:
        names = tuple(batch.feature_names) if self.features is None else tuple(self.features)
        unknown = [f for f in names if f not in batch.feature_names]
        if unknown:
            raise ConfigError(
                f"screen features {unknown} are not simulated; the design has "
                f"{list(batch.feature_names)} (add null features with n_null_features)."
            )
        return names

    def drivers(self) -> tuple[str, ...]:
        return tuple(d for d in (DRIVERS if self.features is None else self.features) if d in DRIVERS)

    def associated(self, design: TrialDesign, names) -> np.ndarray:
        """Which screened features are truly (marginally) associated with the outcome."""
        cov = driver_covariance(design)
        assoc = cov @ design.coefficients("or_cr") != 0
        if self.effect_on == "hr_pfs":
            via_response = assoc & any(v != 0 for v in design.hr_response.values())
            assoc = (cov @ design.coefficients("hr_pfs") != 0) | via_response
        lookup = dict(zip(DRIVERS, assoc))
        return np.array([bool(lookup.get(f, False)) for f in names])

    def evaluate(self, batch: TrialBatch) -> dict:
        names = self._names(batch)
        F = np.stack([batch.feature(f) for f in names], axis=1)  # (B, k, n)
        B, k, n = F.shape
        flat = F.reshape(B * k, n)
        if self.effect_on == "or_cr":
            y = np.repeat(_outcome(batch, self.outcome), k, axis=0)
            X = np.stack([np.ones_like(flat), flat], axis=2)
            fit = _fits.logistic_trials(X, y, firth=self.model == "firth", test=self.test, alpha=self.alpha)
            n_events = _outcome(batch, self.outcome).sum(axis=1)
        else:
            time, event = (np.repeat(a, k, axis=0) for a in (batch.time, batch.event))
            fit = _fits.cox_trials(
                flat[..., None], time, event, firth=self.model == "firth_cox", test=self.test, alpha=self.alpha
            )
            n_events = batch.event.sum(axis=1)
        p = fit.pvalue.reshape(B, k)
        reject = _fits.bh_reject(p, self.fdr)
        truth = self.associated(batch.design, names)
        false = (reject & ~truth).sum(axis=1)
        found = reject.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share_true = np.where(truth.any(), (reject & truth).sum(axis=1) / max(truth.sum(), 1), np.nan)
        return {
            "n_events": n_events,
            "reject": found > 0,
            "discoveries": found,
            "false_discoveries": false,
            "fdp": false / np.maximum(found, 1),
            "true_discovery_share": share_true,
            "any_true": (reject & truth).any(axis=1),
            "flagged": fit.flagged.reshape(B, k).mean(axis=1),
            "_reject_by_feature": reject,
            "_names": names,
            "_associated": truth,
        }


ANALYSES = {
    "firth": lambda feature, alpha: LogisticAnalysis(feature, alpha, method="firth", test="lr"),
    "firth_wald": lambda feature, alpha: LogisticAnalysis(feature, alpha, method="firth", test="wald"),
    "logistic": lambda feature, alpha: LogisticAnalysis(feature, alpha, method="ml", test="wald"),
    "logistic_lr": lambda feature, alpha: LogisticAnalysis(feature, alpha, method="ml", test="lr"),
    "wilcoxon": lambda feature, alpha: WilcoxonAnalysis(feature, alpha),
    "cox": lambda feature, alpha: CoxAnalysis(feature, alpha, method="ml", test="wald"),
    "firth_cox": lambda feature, alpha: CoxAnalysis(feature, alpha, method="firth", test="lr"),
    "logrank": lambda feature, alpha: LogrankAnalysis(feature, alpha),
    "screen": lambda feature, alpha: ScreenAnalysis(alpha=alpha, model="firth"),
    "screen_cox": lambda feature, alpha: ScreenAnalysis(alpha=alpha, model="cox", test="wald"),
}


@check_params(feature=Instance(str, name="a feature name"), alpha=ALPHA)
def make_analysis(name: str | Analysis, *, feature: str = "nk_function", alpha: float = 0.05) -> Analysis:
    """An analysis by name: one of :data:`ANALYSES` (an :class:`Analysis` passes through).

    Examples
    --------
    >>> make_analysis("firth").label
    'Firth logistic of cr on nk_function (lr)'
    """
    if isinstance(name, Analysis):
        return name
    validate("make_analysis", "analysis", name, Options(*sorted(ANALYSES)))
    return ANALYSES[name](feature, alpha)
