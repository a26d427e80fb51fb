"""Fitting a model to multiply imputed data: every completed data set, then Rubin's rules.

``fit_logistic``, ``fit_cox`` (and ``fit_fine_gray`` above this family) start with two lines::

    if isinstance(data, ImputedData):
        return fit_imputed(fit_logistic, locals())

:func:`fit_imputed` refits the same call on each completed data set and pools the
coefficients and their variances by Rubin's rules (:mod:`..engine.rubin`).

**Intervals and p-values.**  Rubin's rules combine estimates and their variances, not
likelihood profiles: a profile-likelihood interval has no pooled counterpart under these
rules.  Each completed data set is therefore fitted with Wald standard errors (ML, or
Firth's penalized estimate with the inverse information at it), and the pooled interval and
the pooled p-value both come from ``Qbar / sqrt(T)`` on the Barnard-Rubin degrees of
freedom: a consistent pair, recorded as ``ci_method = test = "rubin"``.  A request for
profile intervals is answered this way and said so in the result's notes.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from ...errors import warn
from ..engine.rubin import PooledResult, pool_fits

__all__ = ["fit_imputed", "fit_each", "PROFILE_NOTE"]

PROFILE_NOTE = (
    "profile-likelihood intervals cannot be pooled by Rubin's rules: the interval and the p-value of "
    "each term are both from the pooled estimate / sqrt(T) on Barnard-Rubin degrees of freedom"
)


def fit_each(fit: Callable, args: dict, *, override: dict | None = None) -> tuple[list, list[str]]:
    """``fit(frame, **args)`` for every completed frame of ``args["data"]``; warnings said once.

    Returns the fits and notes.  A warning raised in several completed data sets is issued
    once, saying in how many of the ``m`` it arose.
    """
    args = dict(args)
    imputed = args.pop("data")
    args.update(override or {})
    fits = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for frame in imputed:
            fits.append(fit(frame, **args))
    seen: dict = {}
    for w in caught:
        key = (w.category, str(w.message).split(":", 1)[0], str(w.message)[:60])
        seen.setdefault(key, [w, 0])[1] += 1
    notes = []
    for (category, _, _), (w, count) in seen.items():
        text = str(w.message)
        if count < imputed.m:
            text = f"in {count} of {imputed.m} completed data sets: {text}"
        warn(text, category)
        notes.append(text)
    return fits, notes


def fit_imputed(fit: Callable, args: dict) -> PooledResult:
    """Fit ``fit`` (``fit_logistic``, ``fit_cox``, ...) with ``args`` on every completed data set and pool.

    ``args`` are the caller's arguments (its ``locals()`` on entry), ``args["data"]`` the
    :class:`~immune_correlates.data.imputed.ImputedData`.
    """
    override = {"ci": "wald"} if "ci" in args else {}
    fits, notes = fit_each(fit, args, override=override)
    if args.get("ci") == "profile":
        notes.insert(0, PROFILE_NOTE)
    first = fits[0]
    return pool_fits(
        fits,
        alpha=args.get("alpha", 0.05),
        notes=tuple(notes),
        title=f"{first._title()}, pooled over {len(fits)} imputations (Rubin's rules)",
    )
