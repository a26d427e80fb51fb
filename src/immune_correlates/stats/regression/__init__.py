"""Regression models of one outcome: logistic and Cox, maximum likelihood and Firth.

Lives here: :func:`fit_logistic` and :func:`fit_cox` with their results, the one
design-matrix layer (``design_matrix``: formulas and R's dummy coding; ``formula``:
the parser), the shared result base (``_model``), Cox diagnostics (``ph_test``,
``concordance``).

May import: the package floor (``errors``, ``_params``, ``_missing``, ``_checks``...)
and :mod:`..engine`. Never survival, groups, screening or anything above ``stats``.
"""
