"""Many features at once: the screen, the bootstrap, optimism correction and permutation tests.

Lives here: :func:`screen` (every feature's model fitted as one batch on :mod:`..engine`),
bootstrap percentile and BCa intervals, optimism-corrected AUC / C, permutation and
Westfall-Young maxT p-values, and ``single`` (the per-feature fallback through ``fit_*``).

May import: everything else in :mod:`immune_correlates.stats` and the package floor.
"""
