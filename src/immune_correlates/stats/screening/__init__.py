"""Many features at once: the screen, the bootstrap, optimism correction and permutation tests.

Lives here: :func:`screen` (every feature's model fitted as one batch on :mod:`..engine`),
bootstrap percentile and BCa intervals, optimism-corrected AUC / C, permutation and
Westfall-Young maxT p-values; ``_prepare`` (validation and the batched design) and ``_bootstrap``.

May import: everything else in :mod:`immune_correlates.stats` and the package floor.
"""
