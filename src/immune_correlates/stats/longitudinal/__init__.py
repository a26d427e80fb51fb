"""Repeated measures: linear mixed models (and marginal models) of on-treatment samples.

Lives here: :func:`fit_mixed` (lme4's models with lmerTest's Satterthwaite and
pbkrtest's Kenward-Roger tests) and its result; the random-effects syntax
(``_terms``), the profiled (RE)ML deviance with its exact derivatives, batched over
outcomes (``_lmm``), the Newton optimiser (``_optimize``), the small-sample tests
(``_inference``), type III hypotheses (``_contrasts``) and the batched mixed-model
screen (``screen``) that :func:`~immune_correlates.stats.screening.screen.screen`
calls for ``model="mixed"``.

May import: the package floor (``errors``, ``_params``, ``_missing``, ``_results``,
``multiplicity``), :mod:`..engine` and :mod:`..regression` (the one design-matrix
layer). Never survival, groups, screening or anything above ``stats``.
"""

from ._result import MixedResult
from .mixed import fit_mixed

__all__ = ["fit_mixed", "MixedResult"]
