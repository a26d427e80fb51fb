"""High-dimensional panels: many populations per sample, many features per patient.

Lives here (the top family of :mod:`immune_correlates.stats`):

- :func:`differential_abundance` (:mod:`.abundance`): which populations (gates or clusters)
  differ in abundance between groups, a log-ratio linear model per population with
  empirical-Bayes moderated t-tests (Smyth 2004), covariates and paired designs, optional
  permutation p-values; :func:`abundance_features` turns counts into centred log-ratios or
  log-proportions and :func:`screen_populations` screens them against an outcome with
  :func:`~immune_correlates.stats.screening.screen.screen`.
- :func:`fit_penalized` (:mod:`.penalized`): elastic-net logistic and Cox models with glmnet's
  objective, standardisation and lambda path, solved by batched coordinate descent
  (:mod:`._glmnet`), lambda by cross-validation.
- :func:`validate_signature` and :func:`stability_selection` (:mod:`.validation`): nested
  cross-validation and Harrell's bootstrap optimism of a penalized signature's AUC / C,
  complementary-pairs stability selection with the Shah-Samworth error bounds.

May import: every other family of :mod:`immune_correlates.stats` (``screening`` and below)
and the package floor; nothing above ``stats`` (``design``, ``plots``, ``report``,
``estimators``) imports back into it except through the public functions.
"""

from .abundance import abundance_features, differential_abundance
from .penalized import PenalizedResult, fit_penalized
from .populations import screen_populations
from .stability import StabilityResult, stability_selection
from .validation import SignatureValidation, validate_signature

__all__ = [
    "differential_abundance",
    "abundance_features",
    "screen_populations",
    "fit_penalized",
    "PenalizedResult",
    "validate_signature",
    "SignatureValidation",
    "stability_selection",
    "StabilityResult",
]
