"""Rank tests: Wilcoxon rank-sum with Hodges-Lehmann, Kruskal-Wallis, Jonckheere-Terpstra.

Two-sided throughout.  The Wilcoxon test and its Hodges-Lehmann estimate and
interval follow R ``wilcox.test(x, y, conf.int = TRUE)`` step by step
(including its ``uniroot`` search in the asymptotic case); Kruskal-Wallis
follows ``kruskal.test``.  The exact null distributions are counted, not
simulated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, Instance, Interval, Options, check_params
from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError
from .proportions import r_uniroot

__all__ = [
    "wilcoxon_rank_sum",
    "WilcoxonResult",
    "kruskal_wallis",
    "KruskalResult",
    "jonckheere_terpstra",
    "mann_whitney_pmf",
]

_EPS = np.finfo(float).eps


@lru_cache(maxsize=256)
def _mw_pmf_cached(m: int, n: int) -> np.ndarray:
    # f_{i,j}(u) = f_{i-1,j}(u - j) + f_{i,j-1}(u): counts of U = #(x > y) over
    # all C(i+j, i) arrangements (Mann & Whitney 1947), normalised at the end.
    prev = [np.ones(1) for _ in range(n + 1)]  # i = 0: U = 0 whatever j
    for i in range(1, m + 1):
        cur = [np.ones(1)]  # j = 0
        for j in range(1, n + 1):
            f = np.zeros(i * j + 1)
            a = prev[j]  # f_{i-1, j}, support 0..(i-1)j, shifted by j
            f[j : j + a.size] += a
            b = cur[j - 1]  # f_{i, j-1}, support 0..i(j-1)
            f[: b.size] += b
            cur.append(f)
        prev = cur
    counts = prev[n]
    out = counts / counts.sum()
    out.setflags(write=False)
    return out


def mann_whitney_pmf(m: int, n: int) -> np.ndarray:
    """Null pmf of the Mann-Whitney count ``W = #(x_i > y_j)`` on 0..m*n (R ``dwilcox``)."""
    if m > n:  # symmetric in (m, n); the recursion is cheaper with m <= n
        return _mw_pmf_cached(n, m)
    return _mw_pmf_cached(m, n)


def _qwilcox(p: float, m: int, n: int) -> int:
    """R ``qwilcox(p, m, n)`` for p <= 0.5: smallest q with P(W <= q) >= p."""
    cdf = np.cumsum(mann_whitney_pmf(m, n))
    return int(np.argmax(cdf >= p - 10 * _EPS))


def _tie_term(ranks: np.ndarray) -> float:
    _, t = np.unique(ranks, return_counts=True)
    return float(np.sum(t**3 - t))


@dataclass(frozen=True)
class WilcoxonResult(ResultDisplay):
    """Two-sample Wilcoxon rank-sum test with Hodges-Lehmann shift."""

    statistic: float  # R's W for x: sum of x ranks - n_x (n_x + 1) / 2
    pvalue: float
    exact: bool
    estimate: float  # Hodges-Lehmann difference x - y
    ci_lower: float
    ci_upper: float
    rank_biserial: float  # 2 W / (n_x n_y) - 1: positive when x tends to be larger
    n_x: int
    n_y: int

    def summary(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([asdict(self)], index=pd.Index(["Wilcoxon rank-sum"], name="test"))


@check_params(
    alpha=ALPHA,
    exact=(Options(None), Instance(bool, name="True or False")),
    correct=Instance(bool, name="True or False"),
)
def wilcoxon_rank_sum(x, y, *, alpha: float = 0.05, exact: bool | None = None, correct: bool = True) -> WilcoxonResult:
    """Wilcoxon rank-sum (Mann-Whitney) test, Hodges-Lehmann estimate and interval.

    Parameters
    ----------
    x, y : array-like
        The two samples (no missing values).
    alpha : float
        One minus the confidence level of the shift interval.
    exact : bool, optional
        Exact null distribution; default: both samples smaller than 50.  Ties
        always give the normal approximation (with tie correction), as R.
    correct : bool
        Continuity correction of the normal approximation.

    Returns
    -------
    WilcoxonResult
        ``statistic`` is R's ``W`` for ``x``.  Exact case: the interval is
        ``[D_(q), D_(mn+1-q)]`` of the sorted differences with
        ``q = qwilcox(alpha/2)``, the estimate their median.  Otherwise the
        interval ends and the estimate are the roots (R ``uniroot``,
        tolerance 1e-4, reproduced step by step) of the standardized statistic
        of ``x - d`` versus ``y``, corrected for continuity for the interval
        only, exactly as ``wilcox.test(x, y, conf.int = TRUE)``.

    Notes
    -----
    Wilcoxon (1945); Mann & Whitney (1947); Hodges & Lehmann (1963),
    *Ann Math Stat* 34:598; Bauer (1972), *J Am Stat Assoc* 67:687.

    Examples
    --------
    >>> r = wilcoxon_rank_sum([1.5, 3.2], [0.1, 2.2, 4.4])
    >>> r.statistic, r.pvalue
    (3.0, 1.0)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    nx, ny = x.size, y.size
    if nx < 1 or ny < 1:
        raise ImmuneCorrelatesError(f"wilcoxon_rank_sum: both groups need at least one value (got {nx} and {ny}).")
    r = stats.rankdata(np.concatenate([x, y]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2)
    ties = np.unique(r).size != r.size
    if exact is None:
        exact = nx < 50 and ny < 50
    rb = 2 * w / (nx * ny) - 1
    if exact and not ties:
        pmf = mann_whitney_pmf(nx, ny)
        wi = int(round(w))
        p = pmf[wi:].sum() if w > nx * ny / 2 else pmf[: wi + 1].sum()
        pvalue = min(2 * p, 1.0)
        diffs = np.sort(np.subtract.outer(x, y).ravel())
        qu = _qwilcox(alpha / 2, nx, ny) or 1
        ql = nx * ny - qu
        return WilcoxonResult(
            w, float(pvalue), True, float(np.median(diffs)), float(diffs[qu - 1]), float(diffs[ql]), rb, nx, ny
        )
    nn = nx + ny
    z = w - nx * ny / 2
    sigma = np.sqrt(nx * ny / 12 * ((nn + 1) - _tie_term(r) / (nn * (nn - 1))))
    corr = np.sign(z) * 0.5 if correct else 0.0
    zz = (z - corr) / sigma
    pvalue = float(2 * min(stats.norm.cdf(zz), stats.norm.sf(zz)))

    def w_std(d, use_corr):
        dr = stats.rankdata(np.concatenate([x - d, y]))
        dz = dr[:nx].sum() - nx * (nx + 1) / 2 - nx * ny / 2
        c = np.sign(dz) * 0.5 if use_corr else 0.0
        s = np.sqrt(nx * ny / 12 * ((nn + 1) - _tie_term(dr) / (nn * (nn - 1))))
        return (dz - c) / s

    mumin, mumax = x.min() - y.max(), x.max() - y.min()
    if mumin == mumax:  # every difference equal: R cannot form an interval
        return WilcoxonResult(w, pvalue, False, np.nan, np.nan, np.nan, rb, nx, ny)
    w_min, w_max = w_std(mumin, correct), w_std(mumax, correct)

    def root(zq):
        fl = w_min - zq
        if fl <= 0:
            return mumin
        fu = w_max - zq
        if fu >= 0:
            return mumax
        return r_uniroot(lambda d: w_std(d, correct) - zq, mumin, mumax, tol=1e-4, f_lower=fl, f_upper=fu)

    zq = stats.norm.isf(alpha / 2)
    lo, hi = root(zq), root(-zq)
    est = r_uniroot(lambda d: w_std(d, False), mumin, mumax, tol=1e-4)
    return WilcoxonResult(w, pvalue, False, float(est), float(lo), float(hi), rb, nx, ny)


@dataclass(frozen=True, repr=False)
class KruskalResult(ResultDisplay):
    """Kruskal-Wallis H test (see :func:`kruskal_wallis`).

    ``statistic`` (H), ``df`` and ``pvalue``; unpacks as ``h, df, p = result``
    (the tuple :func:`kruskal_wallis` returned before it returned this object).
    """

    statistic: float
    df: int
    pvalue: float

    def __iter__(self):
        return iter((self.statistic, self.df, self.pvalue))

    def summary(self) -> pd.DataFrame:
        """One row: ``statistic``, ``df``, ``p_value``."""
        return pd.DataFrame(
            {"statistic": [self.statistic], "df": [self.df], "p_value": [self.pvalue]},
            index=pd.Index(["Kruskal-Wallis"], name="test"),
        )


def kruskal_wallis(samples) -> KruskalResult:
    """Kruskal-Wallis H test with tie correction, as R ``kruskal.test``.

    Parameters
    ----------
    samples : sequence of array-like
        One sample per group (groups with no values are dropped).

    Returns
    -------
    KruskalResult
        ``statistic`` (H), ``df``, ``pvalue``; ``h, df, p = kruskal_wallis(...)`` also works.

    Notes
    -----
    Kruskal & Wallis (1952), *J Am Stat Assoc* 47:583.

    Examples
    --------
    >>> res = kruskal_wallis([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    >>> round(res.statistic, 3), res.df
    (7.2, 2)
    >>> h, df, p = res
    """
    samples = [np.asarray(s, dtype=float) for s in samples if len(s)]
    k = len(samples)
    if k < 2:
        raise ImmuneCorrelatesError("kruskal_wallis: need at least two non-empty groups.")
    allv = np.concatenate(samples)
    n = allv.size
    r = stats.rankdata(allv)
    sizes = np.array([s.size for s in samples])
    sums = np.add.reduceat(r, np.concatenate([[0], np.cumsum(sizes)[:-1]]))
    denom = 1 - _tie_term(r) / (n**3 - n)
    if denom == 0:
        return KruskalResult(float("nan"), k - 1, float("nan"))
    h = (12 * np.sum(sums**2 / sizes) / (n * (n + 1)) - 3 * (n + 1)) / denom
    return KruskalResult(float(h), k - 1, float(stats.chi2.sf(h, k - 1)))


@dataclass(frozen=True)
class JonckheereResult(ResultDisplay):
    """Jonckheere-Terpstra trend test over ordered groups."""

    statistic: float  # J = sum over ordered pairs of groups of #(x_i < x_j) + ties / 2
    pvalue: float
    exact: bool
    mean: float
    variance: float
    z: float

    def summary(self) -> pd.DataFrame:
        """One row with every field."""
        return pd.DataFrame([asdict(self)], index=pd.Index(["Jonckheere-Terpstra"], name="test"))


@check_params(exact=(Options(None), Instance(bool, name="True or False")), max_exact=Interval(0, None, integer=True))
def jonckheere_terpstra(samples, *, exact: bool | None = None, max_exact: int = 100) -> JonckheereResult:
    """Jonckheere-Terpstra test for an ordered alternative (two-sided).

    Parameters
    ----------
    samples : sequence of array-like
        Samples in the hypothesised order (lowest group first).
    exact : bool, optional
        Exact null distribution; default when there are no ties and at most
        ``max_exact`` observations.
    max_exact : int
        Size limit of the default exact computation.

    Returns
    -------
    JonckheereResult
        Exact: ``p = min(1, 2 min(P(J <= j), P(J >= j)))`` from the exact pmf,
        the convolution of the independent Mann-Whitney counts of each group
        against the pooled lower groups.  Otherwise the normal approximation
        with the tie-corrected variance (Hollander & Wolfe 1999, eq. 6.19),
        without continuity correction.

    Notes
    -----
    Terpstra (1952); Jonckheere (1954), *Biometrika* 41:133.

    Examples
    --------
    >>> r = jonckheere_terpstra([[1.1, 2.3], [2.9, 4.0], [3.5, 5.2]])
    >>> r.statistic, r.exact
    (11.0, True)
    """
    samples = [np.asarray(s, dtype=float) for s in samples if len(s)]
    k = len(samples)
    if k < 2:
        raise ImmuneCorrelatesError("jonckheere_terpstra: need at least two non-empty groups.")
    sizes = np.array([s.size for s in samples], dtype=float)
    allv = np.concatenate(samples)
    n = allv.size
    j_stat = 0.0
    for i in range(k - 1):
        later = np.concatenate(samples[i + 1 :])
        d = np.subtract.outer(samples[i], later)
        j_stat += float(np.sum(d < 0) + 0.5 * np.sum(d == 0))
    _, t = np.unique(allv, return_counts=True)
    t = t.astype(float)
    mean = (n**2 - np.sum(sizes**2)) / 4
    var = (
        (n * (n - 1) * (2 * n + 5) - np.sum(sizes * (sizes - 1) * (2 * sizes + 5)) - np.sum(t * (t - 1) * (2 * t + 5)))
        / 72
        + np.sum(sizes * (sizes - 1) * (sizes - 2)) * np.sum(t * (t - 1) * (t - 2)) / (36 * n * (n - 1) * (n - 2))
        + np.sum(sizes * (sizes - 1)) * np.sum(t * (t - 1)) / (8 * n * (n - 1))
    )
    z = (j_stat - mean) / np.sqrt(var) if var > 0 else np.nan
    ties = t.size < n
    if exact is None:
        exact = not ties and n <= max_exact
    if exact and not ties:
        pmf = np.ones(1)
        cum = int(sizes[0])
        for s in sizes[1:]:
            pmf = np.convolve(pmf, mann_whitney_pmf(int(s), cum))
            cum += int(s)
        jj = int(round(j_stat))
        p = min(1.0, 2 * min(pmf[: jj + 1].sum(), pmf[jj:].sum()))
        return JonckheereResult(j_stat, float(p), True, float(mean), float(var), float(z))
    p = 2 * stats.norm.sf(abs(z)) if np.isfinite(z) else np.nan
    return JonckheereResult(j_stat, float(p), False, float(mean), float(var), float(z))
