"""Pseudo-true values: what a one-feature model estimates in a very large trial of the design.

The coefficient a one-feature model converges to differs from the design's
conditional effect when other drivers are correlated with the feature, when
the feature is measured with error and, for odds and hazard ratios, by
non-collapsibility (Gail, Wieand & Piantadosi 1984, Biometrika 71:431).  It
is the target of the bias and coverage reported by
:func:`immune_correlates.design.power`: the ML estimate in one simulated
trial of :data:`TRUTH_N` patients (Monte Carlo SE about 0.002-0.003).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..data.design import TrialDesign
from . import _fits
from .simulate_batch import simulate_trials

__all__ = ["large_sample_value", "TRUTH_N"]

#: Patients in the one large simulated trial that defines an estimand's pseudo-true value.
TRUTH_N = {"logistic": 1_000_000, "cox": 500_000}
_TRUTH_SEED = 20_240_801
_CACHE: dict = {}


def large_sample_value(analysis, design: TrialDesign, family: str) -> float:
    """ML estimate of ``analysis``'s coefficient in one trial of ``TRUTH_N[family]`` patients.

    ``analysis`` is a :class:`~immune_correlates.design.analyses.LogisticAnalysis`
    (``family="logistic"``) or :class:`~immune_correlates.design.analyses.CoxAnalysis`
    (``"cox"``).  Designs with no immune effect give exactly 0.  Results are
    cached per design and analysis.
    """
    if not np.any(design.coefficients("or_cr")) and not np.any(design.coefficients("hr_pfs")):
        return 0.0
    key = (repr(sorted(design.to_dict().items())), repr(dataclasses.replace(analysis, alpha=0.05)))
    if key not in _CACHE:
        batch = simulate_trials(design, n_sim=1, seed=_TRUTH_SEED, n_patients=TRUTH_N[family])
        if family == "logistic":
            X, y = analysis._design_matrix(batch)
            fit = _fits.logistic_trials(X, y, firth=False)
        else:
            fit = _fits.cox_trials(analysis._x(batch), batch.time, batch.event, firth=False)
        _CACHE[key] = float(fit.estimate[0])
    return _CACHE[key]
