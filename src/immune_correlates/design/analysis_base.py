"""What every planned analysis of a simulated trial is: the :class:`Analysis` base class and its shared steps.

An analysis names one feature and a level ``alpha``; the base class sets an effect size on the
design (:meth:`Analysis.with_effect`, holding the cohort's response rates), makes the null design
(:meth:`Analysis.null_design`) and gives the pseudo-true value.  The helpers shared by the concrete
analyses live here too: the outcome of a batch (``_outcome``), an option check (``_check``), and
fitting every trial by ML and by Firth (``_ml_and_firth``).  The concrete analyses (logistic,
Wilcoxon, Cox, log-rank, screen) and :func:`~.analyses.make_analysis` live in :mod:`.analyses`,
which re-exports :class:`Analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._params import ALPHA, Options, validate
from ..data.design import DRIVERS, TrialDesign
from ..errors import ConfigError
from .calibrate import marginal_response_rates, match_response_rates
from .simulate_batch import TrialBatch

__all__ = ["Analysis"]


def _outcome(batch: TrialBatch, outcome: str) -> np.ndarray:
    if outcome == "cr":
        return batch.cr
    if outcome == "responder":
        return (batch.group >= 1).astype(float)
    raise ConfigError(f"outcome must be 'cr' or 'responder', got {outcome!r}.")


def _check(analysis, name, allowed):
    validate(type(analysis).__name__, name, getattr(analysis, name), Options(*allowed))


def _ml_and_firth(analysis, fit_trials, n_events, flag: str) -> dict:
    """Fit every trial by ML and by Firth: both estimates and intervals (for bias and coverage), the
    planned method's p-value, and how often ML broke down (``flag``: separation or monotone likelihood)."""
    out = {"n_events": n_events}
    for method in ("ml", "firth"):
        test = analysis.test if method == analysis.method else "wald"
        fit = fit_trials(method == "firth", test)
        out.update(
            {
                f"estimate_{method}": fit.estimate,
                f"lower_{method}": fit.lower,
                f"upper_{method}": fit.upper,
                f"finite_{method}": fit.finite,
            }
        )
        if method == analysis.method:
            out["pvalue"] = fit.pvalue
        out[flag] = fit.flagged
    out["reject"] = out["pvalue"] < analysis.alpha
    return out


def _large_sample_value(analysis, design: TrialDesign) -> float:
    from .truth import large_sample_value

    return large_sample_value(analysis, design, analysis.family)


@dataclass(frozen=True)
class Analysis:
    """Base class: one planned analysis of one feature, tested at level ``alpha``."""

    feature: str = "nk_function"
    alpha: float = 0.05

    #: which design coefficients an effect size sets ("or_cr" or "hr_pfs")
    effect_on = "or_cr"
    #: name of the effect on the ratio scale, for tables and plots
    ratio_name = "odds_ratio"

    def __post_init__(self):
        validate(type(self).__name__, "alpha", self.alpha, ALPHA)

    @property
    def label(self) -> str:
        return type(self).__name__

    def drivers(self) -> tuple[str, ...]:
        """Drivers whose effect :meth:`with_effect` sets."""
        return (self.feature,) if self.feature in DRIVERS else ()

    def with_effect(self, design: TrialDesign, effect: float, hold_response_rates: bool = True) -> TrialDesign:
        """The design with the analysed driver's log odds (or hazard) ratio per SD set to ``effect``.

        With ``hold_response_rates`` a change of ``or_cr`` keeps the
        cohort-level CR and PR rates of ``design`` (see
        :func:`~immune_correlates.design.calibrate.match_response_rates`), so
        curves over effect sizes compare trials with the same expected number of CRs.
        """
        drivers = self.drivers()
        if not drivers:
            raise ConfigError(
                f"{self.label}: an effect size needs a driver feature ({list(DRIVERS)}); got {self.feature!r}."
            )
        coefs = dict(getattr(design, self.effect_on))
        coefs.update({d: float(effect) for d in drivers})
        out = design.replace(**{self.effect_on: coefs})
        if hold_response_rates and self.effect_on == "or_cr":
            rates = marginal_response_rates(design)
            out = match_response_rates(out, cr=rates["cr"], pr=rates["pr"])
        return out

    def null_design(self, design: TrialDesign) -> TrialDesign:
        """The design with no immune effect on any outcome and the same cohort-level response rates."""
        zero = dict.fromkeys(DRIVERS, 0.0)
        rates = marginal_response_rates(design)
        return design.replace(or_cr=zero, hr_pfs=dict(zero), p_cr=rates["cr"], p_pr=rates["pr"])

    def evaluate(self, batch: TrialBatch) -> dict:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def true_value(self, design: TrialDesign) -> float:
        """Pseudo-true value of the estimated coefficient (NaN when the analysis estimates none)."""
        return float("nan")
