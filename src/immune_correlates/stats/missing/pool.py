"""Rubin's rules over any fitted results: :func:`pool`, as ``mice::pool``."""

from __future__ import annotations

from collections.abc import Sequence

from ..._params import ALPHA, HasAttributes, Instance, Interval, Options, check_params, validate
from ..engine.rubin import PooledResult, pool_fits

__all__ = ["pool", "PooledResult"]

_FIT = HasAttributes("params", name="a fitted result with params and bse (or a covariance matrix)")


@check_params(
    results=Instance(list, tuple, name="a list of fitted results, one per completed data set"),
    dfcom=(Options(None), Interval(0, None, closed="neither")),
    alpha=ALPHA,
)
def pool(results: Sequence, *, dfcom: float | None = None, alpha: float = 0.05) -> PooledResult:
    """Combine the fits of one model to ``m`` completed data sets by Rubin's rules, as ``mice::pool``.

    Parameters
    ----------
    results : list
        The ``m`` fitted results (``fit_logistic``, ``fit_cox``, statsmodels results, or
        anything with ``params`` and ``bse`` or a covariance matrix, ``cov`` /
        ``cov_params()``), in the order of the imputations, with the same terms.
    dfcom : float, optional
        Complete-data degrees of freedom; default as ``mice:::get.dfcom``: a fit's residual df
        (statsmodels' ``df_resid``), ``max(events - p, 1)`` for a Cox model, ``max(n - p, 1)``
        for other fits with ``nobs`` (``n - p`` for logistic), else infinite.
    alpha : float
        ``1 - level`` of ``conf_int()`` and ``summary()``.

    Returns
    -------
    PooledResult
        ``params``, ``bse`` (``sqrt(T)``), ``df`` (Barnard-Rubin), ``pvalues`` (t-test on
        ``df``), ``conf_int()``, and ``riv``, ``lambda_``, ``fmi``, ``ubar``, ``b``, ``t``;
        ``summary()`` shows them all as ``mice``'s ``summary(pool(fit), "all")``.

    Notes
    -----
    ``T = Ubar + (1 + 1/m) B``; ``df`` by Barnard & Rubin (1999) with ``lambda`` floored at
    1e-4 inside the df formula; ``fmi = (riv + 2 / (df + 3)) / (riv + 1)`` (see
    :mod:`immune_correlates.stats.engine.rubin`).  The pooled interval and p-value are both
    from ``Qbar / sqrt(T)`` on ``df``; profile-likelihood intervals have no pooled form under
    Rubin's rules.

    References
    ----------
    Rubin DB (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Barnard J, Rubin DB (1999). Small-sample degrees of freedom with multiple imputation.
    *Biometrika* 86:948-955.
    van Buuren S (2018). *Flexible Imputation of Missing Data*, 2nd ed., sec. 5.2. CRC Press.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    >>> imp = ic.impute(frame, m=5, columns=["cr", "age", "nk_adcc_lu20", "t_synapse_index"], seed=7)
    >>> fits = [ic.fit_logistic(d, "cr", ["nk_adcc_lu20"], method="firth", ci="wald") for d in imp]
    >>> pooled = ic.pool(fits)
    >>> pooled.m, pooled.dfcom
    (5, 32.0)
    >>> list(pooled.summary().columns[:6])
    ['term', 'estimate', 'std_error', 'statistic', 'df', 'p_value']
    """
    for i, r in enumerate(results):
        validate("pool", f"results[{i}]", r, _FIT)
    return pool_fits(results, dfcom=dfcom, alpha=alpha)
