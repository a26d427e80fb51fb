"""Rubin's rules: one estimate from fits to ``m`` imputed data sets, as ``mice::pool`` (mice 3.15).

For each coefficient, with ``Q_l`` and ``U_l`` the estimate and its variance in
imputation ``l = 1..m``:

- pooled estimate ``Qbar = mean(Q_l)``; within-imputation variance ``Ubar = mean(U_l)``;
- between-imputation variance ``B = var(Q_l)`` (divisor ``m - 1``);
- total variance ``T = Ubar + (1 + 1/m) B`` (``bse = sqrt(T)``);
- relative increase in variance ``riv = (1 + 1/m) B / Ubar``, proportion of the
  variance due to the missing data ``lambda = (1 + 1/m) B / T``;
- Barnard-Rubin degrees of freedom ``df`` (:func:`.rubin_df.barnard_rubin_df`);
- fraction of missing information ``fmi = (riv + 2 / (df + 3)) / (riv + 1)``;
- ``t = Qbar / sqrt(T)`` on ``df`` degrees of freedom: ``p = 2 P(t_df > |t|)`` (df floored at
  0.001, as ``summary.mipo``) and the interval ``Qbar -/+ t_{df, 1 - alpha/2} sqrt(T)``.

The complete-data degrees of freedom ``dfcom`` follow ``mice:::get.dfcom``
(:func:`.rubin_df.complete_data_df`).

This module holds the numbers (:func:`rubin_rules`) and the pooled result
(:class:`PooledResult`, built by :func:`pool_fits` from any fitted results with ``params`` and
``bse``); the degrees of freedom and the D1 test are in :mod:`.rubin_df` (re-exported here).
:func:`immune_correlates.pool` and the ``fit_*`` functions given an
:class:`~immune_correlates.data.imputed.ImputedData` call it.

References
----------
Rubin DB (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
Barnard J, Rubin DB (1999). Small-sample degrees of freedom with multiple imputation.
*Biometrika* 86:948-955.
Li KH, Raghunathan TE, Rubin DB (1991). Large-sample significance levels from multiply imputed
data using moment-based statistics and an F reference distribution. *JASA* 86:1065-1073.
Reiter JP (2007). Small-sample degrees of freedom for multi-component significance tests with
multiple imputation for missing data. *Biometrika* 94:502-508.
van Buuren S (2018). *Flexible Imputation of Missing Data*, 2nd ed., ch. 5. CRC Press.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ..._results import ResultDisplay
from ...errors import InputError
from .rubin_df import D1Test, barnard_rubin_df, complete_data_df, d1_test

__all__ = [
    "RubinPool",
    "rubin_rules",
    "barnard_rubin_df",
    "complete_data_df",
    "D1Test",
    "d1_test",
    "PooledResult",
    "pool_fits",
]


class RubinPool(NamedTuple):
    """Rubin's rules per coefficient (arrays of the coefficients' length)."""

    estimate: np.ndarray
    ubar: np.ndarray
    b: np.ndarray
    t: np.ndarray
    df: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    cov: np.ndarray  # the total covariance Ubar + (1 + 1/m) B (matrices when given, else diagonal)


def rubin_rules(estimates, variances, dfcom: float = math.inf) -> RubinPool:
    """Pool ``m`` sets of estimates by Rubin's rules with Barnard-Rubin degrees of freedom.

    Parameters
    ----------
    estimates : array, shape (m, k)
        The coefficients of each imputation's fit.
    variances : array, shape (m, k) or (m, k, k)
        Their squared standard errors, or their covariance matrices (then ``cov`` is the
        pooled total covariance matrix ``Ubar + (1 + 1/m) B``).
    dfcom : float
        Complete-data degrees of freedom (``inf`` for large-sample fits).

    Returns
    -------
    RubinPool

    Examples
    --------
    >>> import numpy as np
    >>> q = np.array([[1.0], [1.2], [0.9], [1.1], [1.0]])
    >>> u = np.full((5, 1), 0.04)
    >>> r = rubin_rules(q, u, dfcom=20)
    >>> round(float(r.estimate[0]), 3), round(float(r.t[0]), 4), round(float(r.df[0]), 2)
    (1.04, 0.0556, 10.44)
    """
    q = np.asarray(estimates, dtype=float)
    v = np.asarray(variances, dtype=float)
    m = q.shape[0]
    if m < 2:
        raise InputError(
            f"Rubin's rules need fits to at least 2 imputed data sets, got {m}; impute with m >= 2 "
            "(m = 20 or more is usual)."
        )
    qbar = q.mean(axis=0)
    dev = q - qbar
    if v.ndim == 3:
        ubar_m = v.mean(axis=0)
        b_m = dev.T @ dev / (m - 1)
        cov = ubar_m + (1.0 + 1.0 / m) * b_m
        ubar, b = np.diag(ubar_m).copy(), np.diag(b_m).copy()
    else:
        ubar = v.mean(axis=0)
        b = np.var(q, axis=0, ddof=1)
        cov = np.diag(ubar + (1.0 + 1.0 / m) * b)
    t = ubar + (1.0 + 1.0 / m) * b
    df = barnard_rubin_df(m, b, t, dfcom)
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1.0 + 1.0 / m) * b / ubar
        lam = (1.0 + 1.0 / m) * b / t
    fmi = (riv + 2.0 / (df + 3.0)) / (riv + 1.0)
    return RubinPool(qbar, ubar, b, t, df, riv, lam, fmi, cov)


def _terms(result) -> list[str]:
    params = result.params
    if isinstance(params, pd.Series):
        return [str(t) for t in params.index]
    names = getattr(getattr(result, "model", None), "exog_names", None)
    return list(names) if names is not None else [f"x{j}" for j in range(len(np.atleast_1d(params)))]


def _variances(result, k: int) -> np.ndarray:
    """Covariance matrix of a fit's params if it has one, else its squared standard errors."""
    for name in ("cov", "cov_params"):
        c = getattr(result, name, None)
        c = c() if callable(c) else c
        if c is not None and np.shape(c) == (k, k):
            return np.asarray(c, dtype=float)
    bse = getattr(result, "bse", None)
    if bse is None:
        raise InputError(
            f"a {type(result).__name__} has params but neither bse nor a covariance matrix; "
            "pool fitted results that report standard errors."
        )
    return np.asarray(bse, dtype=float) ** 2


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class PooledResult(ResultDisplay):
    """Estimates pooled over ``m`` imputed data sets by Rubin's rules (see :func:`immune_correlates.pool`).

    Attributes
    ----------
    params, bse, pvalues, df : Series
        Pooled estimate ``Qbar``, ``sqrt(T)``, the Barnard-Rubin t-test's p-value and its df.
    riv, lambda_, fmi, ubar, b, t : Series
        Relative increase in variance, proportion of variance due to missingness (``lambda``
        in ``summary()``), fraction of missing information, within, between and total variance.
    cov : DataFrame
        ``Ubar + (1 + 1/m) B`` as matrices where the fits had covariance matrices.
    m : int
        Number of imputations pooled.
    dfcom : float
        Complete-data degrees of freedom used.
    alpha : float
        ``conf_int()``'s default ``1 - level``.
    method : str
        The fitting method of the pooled fits (``"ml"``, ``"firth"``, or the class name).
    ci_method, test : str
        ``"rubin"``: intervals and p-values both from ``Qbar / sqrt(T)`` on the Barnard-Rubin df.
    nobs, n_events : int or None
        Rows and events of the fits (of the first; equal in all when only covariates were imputed).
    excluded : DataFrame
        Rows left out of the fits (a column the fits used that was not imputed).
    fits : tuple
        The ``m`` fitted results.
    notes : tuple of str
        What was done, in words.
    """

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    df: pd.Series
    riv: pd.Series
    lambda_: pd.Series
    fmi: pd.Series
    ubar: pd.Series
    b: pd.Series
    t: pd.Series
    cov: pd.DataFrame
    m: int
    dfcom: float
    alpha: float = 0.05
    method: str = ""
    ci_method: str = "rubin"
    test: str = "rubin"
    nobs: int | None = None
    n_events: int | None = None
    excluded: pd.DataFrame = field(default=None)
    fits: tuple = ()
    notes: tuple[str, ...] = ()
    ratio_name: str | None = None
    title: str = "Pooled estimates (Rubin's rules)"

    @property
    def tvalues(self) -> pd.Series:
        """``Qbar / sqrt(T)``, referred to the t distribution on ``df``."""
        return self.params / self.bse

    def cov_params(self) -> pd.DataFrame:
        """The pooled total covariance matrix."""
        return self.cov

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """``Qbar -/+ t_{df, 1 - alpha/2} sqrt(T)`` (columns ``lower``, ``upper``), as ``summary(pool(fit), conf.int = TRUE)``."""
        a = self.alpha if alpha is None else alpha
        if not 0 < a < 1:
            from ..._params import ALPHA, validate

            validate("conf_int", "alpha", a, ALPHA)
        crit = stats.t.ppf(1 - a / 2, np.maximum(self.df.to_numpy(), 0.001))
        half = crit * self.bse.to_numpy()
        return pd.DataFrame({"lower": self.params - half, "upper": self.params + half})

    def anova(self) -> pd.DataFrame:
        """Pooled test of each model term (a factor's dummies together): the D1 test of ``mice::D1``.

        Each term droppable under R's ``drop1`` marginality is tested by the multivariate Wald
        test pooled over the imputations (Li, Raghunathan & Rubin 1991), with Reiter's (2007)
        small-sample denominator df from ``dfcom``, as ``mice::D1(fit, fit_without_term)``.
        Likelihood-ratio tests (the single-fit ``anova()``) have no Rubin's-rules form; D1 is
        the Wald counterpart, consistent with the pooled intervals.

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``df`` (numerator), ``den_df``, ``statistic`` (F), ``p_value``,
            ``riv`` (average relative increase in variance).

        Raises
        ------
        ModelError
            The fits do not say which coefficients form a term (fits made outside this package).
        """
        design = getattr(self.fits[0], "design", None) if self.fits else None
        if design is None:
            from ...errors import ModelError

            raise ModelError(
                "anova: these fits do not say which coefficients form each term; test a set of "
                "coefficients with immune_correlates.stats.engine.rubin.d1_test."
            )
        rows = []
        for i in design.droppable():
            cols = list(design.term_columns[i])
            q = np.stack([np.asarray(f.params, dtype=float)[cols] for f in self.fits])
            u = np.stack([np.asarray(f.cov, dtype=float)[np.ix_(cols, cols)] for f in self.fits])
            res = d1_test(q, u, self.dfcom)
            rows.append((design.terms[i], res.df1, res.df2, res.statistic, res.pvalue, res.riv))
        out = pd.DataFrame(rows, columns=["term", "df", "den_df", "statistic", "p_value", "riv"]).set_index("term")
        out["df"] = out["df"].astype(int)
        return out

    def summary(self) -> pd.DataFrame:
        """One row per term: ``estimate``, ``std_error``, ``statistic``, ``df``, ``p_value``, interval,
        ``riv``, ``lambda``, ``fmi``, ``ubar``, ``b``, ``t`` (and the ratio with its interval)."""
        ci = self.conf_int()
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": self.bse.to_numpy(),
                "statistic": self.tvalues.to_numpy(),
                "df": self.df.to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
                "riv": self.riv.to_numpy(),
                "lambda": self.lambda_.to_numpy(),
                "fmi": self.fmi.to_numpy(),
                "ubar": self.ubar.to_numpy(),
                "b": self.b.to_numpy(),
                "t": self.t.to_numpy(),
            }
        )
        if self.ratio_name:
            with np.errstate(over="ignore"):
                out[self.ratio_name] = np.exp(out["estimate"])
                out[f"{self.ratio_name}_ci_lower"] = np.exp(out["ci_lower"])
                out[f"{self.ratio_name}_ci_upper"] = np.exp(out["ci_upper"])
        out["m"] = self.m
        out["method"] = self.method
        out["ci_method"] = self.ci_method
        out["test"] = self.test
        return out

    def _title(self) -> str:
        return self.title

    def _notes(self) -> list[str]:
        lines = [
            f"m = {self.m} imputations; complete-data df = {self.dfcom:g}; intervals and p-values from "
            f"Qbar / sqrt(T) on Barnard-Rubin df ({100 * (1 - self.alpha):g}% intervals)"
        ]
        if self.nobs is not None:
            lines.append(f"n = {self.nobs}" + (f", events = {self.n_events}" if self.n_events is not None else ""))
        if self.excluded is not None and len(self.excluded):
            lines.append(
                f"{len(self.excluded)} row(s) excluded: "
                + "; ".join(f"{p} ({r})" for p, r in zip(self.excluded["patient_id"], self.excluded["reason"]))
            )
        lines.extend(self.notes)
        return lines


def pool_fits(
    fits,
    *,
    dfcom: float | None = None,
    alpha: float = 0.05,
    notes: tuple[str, ...] = (),
    excluded: pd.DataFrame | None = None,
    title: str | None = None,
) -> PooledResult:
    """A :class:`PooledResult` from fitted results (each with ``params`` and ``bse`` or a covariance).

    ``dfcom=None`` takes it from the first fit (:func:`complete_data_df`), as mice.  Every fit
    must have the same terms in the same order; otherwise an :class:`InputError` names the fit.
    """
    fits = tuple(fits)
    if not fits:
        raise InputError("pool: no fitted results were given; pass a list of the m fits, one per imputed data set.")
    names = _terms(fits[0])
    k = len(names)
    for i, f in enumerate(fits[1:], start=1):
        other = _terms(f)
        if other != names:
            raise InputError(
                f"pool: fit {i} has terms {other}, fit 0 has {names}; every imputed data set must be fitted "
                "with the same model (a factor level absent from one completed data set changes the terms: "
                "fix the levels with a categorical column)."
            )
    q = np.stack([np.asarray(f.params, dtype=float).reshape(k) for f in fits])
    var = [_variances(f, k) for f in fits]
    if any(np.ndim(x) == 1 for x in var):  # some fits give standard errors only: pool the variances
        var = [np.diag(x) if np.ndim(x) == 2 else x for x in var]
    v = np.stack(var)
    dfc = complete_data_df(fits[0]) if dfcom is None else max(float(dfcom), 1.0)
    r = rubin_rules(q, v, dfc)
    se = np.sqrt(r.t)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2.0 * stats.t.sf(np.abs(r.estimate / se), np.maximum(r.df, 0.001))
    s = lambda a: pd.Series(a, index=names)
    first = fits[0]
    return PooledResult(
        params=s(r.estimate),
        bse=s(se),
        pvalues=s(p),
        df=s(r.df),
        riv=s(r.riv),
        lambda_=s(r.lambda_),
        fmi=s(r.fmi),
        ubar=s(r.ubar),
        b=s(r.b),
        t=s(r.t),
        cov=pd.DataFrame(r.cov, index=names, columns=names),
        m=len(fits),
        dfcom=dfc,
        alpha=alpha,
        method=str(getattr(first, "method", type(first).__name__)),
        nobs=getattr(first, "nobs", None),
        n_events=getattr(first, "n_events", None),
        excluded=excluded if excluded is not None else getattr(first, "excluded", None),
        fits=fits,
        notes=tuple(notes),
        ratio_name=getattr(first, "ratio_name", None) if getattr(first, "ratio_name", None) != "ratio" else None,
        title=title or "Pooled estimates (Rubin's rules)",
    )
