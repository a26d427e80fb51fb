"""Comparisons between groups of patients and descriptive tables.

Lives here: rank tests (Wilcoxon, Kruskal-Wallis, Jonckheere-Terpstra, Hodges-Lehmann),
exact proportions (Clopper-Pearson, Fisher), :func:`compare_groups`, Table 1, ROC curves
with DeLong intervals and the trial summary.

May import: the package floor, :mod:`..engine`, :mod:`..regression` and :mod:`..survival`.
"""
