"""Repeated measures: linear mixed models of on-treatment samples and marginal models of repeated outcomes.

Lives here: :func:`fit_mixed` (lme4's models with lmerTest's Satterthwaite and
pbkrtest's Kenward-Roger tests) and its result; the random-effects syntax
(``_terms``), the profiled (RE)ML deviance with its exact derivatives, batched over
outcomes (``_lmm``), the Newton optimiser (``_optimize``), the small-sample tests
(``_inference``), type III hypotheses (``_contrasts``) and the batched mixed-model
screen (``screen``) that :func:`~immune_correlates.stats.screening.screen.screen`
calls for ``model="mixed"``; :func:`~.gee.fit_gee` (marginal models for repeated
outcomes, such as grade >= 3 neutropenia per treatment cycle, as ``geepack::geeglm``:
``gee``, ``_gee_model``, ``_gee_result``).

May import: the package floor (``errors``, ``_params``, ``_missing``, ``_results``,
``multiplicity``), :mod:`..engine` and :mod:`..regression` (the one design-matrix
layer and the Wald interval helper). Never survival, groups, screening or anything
above ``stats``.
"""

from ._result import MixedResult
from .mixed import fit_mixed

__all__ = ["fit_mixed", "MixedResult"]
