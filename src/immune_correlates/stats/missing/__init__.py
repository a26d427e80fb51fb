"""Missing data and more than one trial: multiple imputation, Rubin's rules, meta-analysis.

Lives here: :func:`impute` (chained equations; the elementary methods in ``methods``),
:func:`pool` (Rubin's rules over any fitted results), the pooled screen over imputed data
(``screen_pool``), :func:`meta_analysis` and :func:`meta_analysis_by` (fixed and random
effects, as metafor; the result in ``meta``, the tau² estimators and tests in ``meta_estimators``,
the per-trial fits in ``meta_by``).  The imputed-data container lives in :mod:`immune_correlates.data.imputed`
and Rubin's numerics in :mod:`..engine.rubin`, so that the regression functions below this
family recognise and pool imputed data without importing it.

May import: the package floor, :mod:`immune_correlates.data`, and the families below it
(engine, regression, longitudinal, survival, groups).  Never screening or anything above
``stats``.
"""

from .impute import impute
from .meta import MetaAnalysisResult, meta_analysis
from .meta_by import meta_analysis_by
from .pool import PooledResult, pool

__all__ = ["impute", "pool", "PooledResult", "meta_analysis", "meta_analysis_by", "MetaAnalysisResult"]
