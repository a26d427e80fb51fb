"""Exact inference on proportions: Clopper-Pearson intervals and Fisher's 2x2 test.

Also holds :func:`r_uniroot`, a line-by-line port of R's ``uniroot``
(``R_zeroin2``, Brent 1973), used wherever an R result is itself the output of
a coarse ``uniroot`` search (``fisher.test``'s odds ratio and interval,
``wilcox.test``'s asymptotic Hodges-Lehmann estimate and interval), so the
same iterates, and hence the same numbers, come out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from ..._params import ALPHA, check_params
from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError, InputError

__all__ = ["binomial_ci", "fisher_exact", "FisherResult", "r_uniroot"]

_EPS = np.finfo(float).eps


def r_uniroot(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = _EPS**0.25,
    maxiter: int = 1000,
    f_lower: float | None = None,
    f_upper: float | None = None,
) -> float:
    """Root of ``f`` in ``[lower, upper]`` exactly as R's ``uniroot(...)$root``."""
    fa = f(lower) if f_lower is None else f_lower
    fb = f(upper) if f_upper is None else f_upper
    if fa * fb > 0:
        raise ImmuneCorrelatesError("r_uniroot: f() values at the end points are not of opposite sign.")
    a, b = float(lower), float(upper)
    c, fc = a, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


@check_params(alpha=ALPHA)
def binomial_ci(k: int, n: int, *, alpha: float = 0.05) -> tuple[float, float]:
    """Clopper-Pearson exact confidence interval for a binomial proportion.

    Parameters
    ----------
    k, n : int
        Successes and trials (0 <= k <= n, n >= 1).
    alpha : float
        One minus the confidence level.

    Returns
    -------
    (lower, upper) : tuple of float
        As R ``binom.test(k, n, conf.level = 1 - alpha)$conf.int``: beta
        quantiles ``B(alpha/2; k, n-k+1)`` and ``B(1-alpha/2; k+1, n-k)``,
        0 when ``k == 0`` and 1 when ``k == n``.

    Notes
    -----
    Clopper & Pearson (1934), *Biometrika* 26:404.

    Examples
    --------
    >>> lo, hi = binomial_ci(24, 34)
    >>> round(lo, 4), round(hi, 4)
    (0.5252, 0.849)
    """
    if not (float(k).is_integer() and float(n).is_integer()) or n < 1 or not 0 <= k <= n:
        raise ImmuneCorrelatesError(f"binomial_ci: need whole numbers 0 <= k <= n and n >= 1, got k={k!r}, n={n!r}.")
    lower = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, alpha / 2))
    upper = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1 - alpha / 2))
    return lower, upper


@dataclass(frozen=True)
class FisherResult(ResultDisplay):
    """Fisher's exact test on a 2x2 table: p-value, conditional MLE odds ratio and CI."""

    pvalue: float
    odds_ratio: float
    ci_lower: float
    ci_upper: float

    def summary(self) -> pd.DataFrame:
        """One row: ``pvalue``, ``odds_ratio``, ``ci_lower``, ``ci_upper``."""
        return pd.DataFrame([asdict(self)], index=pd.Index(["Fisher exact"], name="test"))


@check_params(alpha=ALPHA)
def fisher_exact(table, *, alpha: float = 0.05) -> FisherResult:
    """Two-sided Fisher exact test with R's conditional maximum-likelihood odds ratio.

    Parameters
    ----------
    table : array-like, shape (2, 2)
        Counts ``[[a, b], [c, d]]``; the odds ratio is that of column 1 in
        row 1 versus row 2.
    alpha : float
        One minus the confidence level of the interval.

    Returns
    -------
    FisherResult
        As R ``fisher.test``: the p-value sums the (central) hypergeometric
        probabilities not above the observed one (relative tolerance 1e-7);
        the odds ratio maximises the conditional (noncentral hypergeometric)
        likelihood and its interval inverts the two one-sided tests, both
        found with R's ``uniroot`` search.

    Notes
    -----
    Fisher (1935); Cornfield (1956) for the conditional interval.

    Examples
    --------
    >>> r = fisher_exact([[3, 1], [1, 3]])
    >>> round(r.pvalue, 4), round(r.odds_ratio, 3)
    (0.4857, 6.408)
    """
    t = np.asarray(table, dtype=float)
    if t.shape != (2, 2) or (t < 0).any() or not np.all(t == np.round(t)):
        raise InputError(f"fisher_exact: need a 2x2 table of counts, got {table!r}.")
    nh = _NonCentral(t)
    d1 = nh.density(1.0)
    pvalue = float(min(1.0, d1[d1 <= d1[int(nh.x - nh.lo)] * (1 + 1e-7)].sum()))
    lower, upper = nh.interval(alpha)
    return FisherResult(pvalue=pvalue, odds_ratio=float(nh.estimate()), ci_lower=float(lower), ci_upper=float(upper))


class _NonCentral:
    """The noncentral hypergeometric distribution of the first cell of a 2x2 table (R's ``fisher.test``)."""

    def __init__(self, t: np.ndarray) -> None:
        self.m, self.n = t[:, 0].sum(), t[:, 1].sum()
        self.k, self.x = t[0].sum(), t[0, 0]
        self.lo, self.hi = max(0.0, self.k - self.n), min(self.k, self.m)
        self.support = np.arange(self.lo, self.hi + 1)
        self.logdc = stats.hypergeom.logpmf(self.support, self.m + self.n, self.m, self.k)

    def density(self, ncp: float) -> np.ndarray:
        d = self.logdc + np.log(ncp) * self.support
        d = np.exp(d - d.max())
        return d / d.sum()

    def mean(self, ncp: float) -> float:
        if ncp == 0:
            return self.lo
        if np.isinf(ncp):
            return self.hi
        return float((self.support * self.density(ncp)).sum())

    def cdf(self, q: float, ncp: float, upper_tail: bool = False) -> float:
        m, n, k, x = self.m, self.n, self.k, self.x
        if ncp == 1:
            return float(stats.hypergeom.sf(x - 1, m + n, m, k) if upper_tail else stats.hypergeom.cdf(x, m + n, m, k))
        if ncp == 0:
            return float(q <= self.lo if upper_tail else q >= self.lo)
        if np.isinf(ncp):
            return float(q <= self.hi if upper_tail else q >= self.hi)
        d = self.density(ncp)
        return float(d[self.support >= q].sum() if upper_tail else d[self.support <= q].sum())

    def estimate(self) -> float:
        """The conditional maximum likelihood odds ratio."""
        x = self.x
        if x == self.lo:
            return 0.0
        if x == self.hi:
            return np.inf
        mu = self.mean(1.0)
        if mu > x:
            return r_uniroot(lambda s: self.mean(s) - x, 0.0, 1.0)
        if mu < x:
            return 1.0 / r_uniroot(lambda s: self.mean(1.0 / s) - x, _EPS, 1.0)
        return 1.0

    def interval(self, alpha: float) -> tuple[float, float]:
        """The conditional interval: the two one-sided tests inverted (Cornfield 1956)."""
        x, a2 = self.x, alpha / 2

        def end(upper_tail: bool) -> float:
            if x == (self.lo if upper_tail else self.hi):
                return 0.0 if upper_tail else np.inf
            p = self.cdf(x, 1.0, upper_tail)
            f = lambda s: self.cdf(x, s, upper_tail) - a2
            if (p > a2) if upper_tail else (p < a2):
                return r_uniroot(f, 0.0, 1.0)
            if (p < a2) if upper_tail else (p > a2):
                return 1.0 / r_uniroot(lambda s: f(1.0 / s), _EPS, 1.0)
            return 0.0 if upper_tail else 1.0

        return end(True), end(False)
