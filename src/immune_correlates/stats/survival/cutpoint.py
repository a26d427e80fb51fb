"""Optimal cutpoint of a continuous feature by maximally selected log-rank statistics.

Reproduces ``maxstat::maxstat.test(Surv(time, event) ~ x, smethod = "LogRank")``
(Lausen & Schumacher 1992; Hothorn & Lausen 2003): log-rank scores with
exactRankTests' tie handling, standardized linear rank statistics for every
split ``x <= c`` between the ``minprop`` and ``maxprop`` quantiles, and the
p-value of the maximum by the Lausen-Schumacher (1992) or Lausen-Sauerbrei-
Schumacher (1994) approximations, its exact Gaussian limit, or permutation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._checks import check_durations, event_indicator
from ..._missing import complete_cases, row_ids
from ..._params import MISSING, SEED, Interval, Options, check_params
from ..._results import ResultDisplay
from ..._seeds import rng
from ...errors import ImmuneCorrelatesError, ParameterError, plain

__all__ = ["optimal_cutpoint", "CutpointResult", "logrank_scores"]

PMETHODS = ("lausen92", "lausen94", "exact", "permutation")


def logrank_scores(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Log-rank scores ``a_i = d_i - sum_{j: t_j <= t_i} d_j / (N - r_j + 1)``.

    As ``exactRankTests::cscores(Surv(time, event), "LogRank")``: ``r_j`` is
    the rank of ``t_j`` with ties given the maximum rank.
    """
    n = time.size
    order = np.argsort(time, kind="stable")
    rank_max = stats.rankdata(time, method="max")
    fact = event / (n - rank_max + 1)
    cum = np.cumsum(fact[order])
    return event - cum[rank_max.astype(int) - 1]


def split_statistics(x: np.ndarray, scores: np.ndarray, minprop: float, maxprop: float):
    """Candidate cutpoints of ``x`` and the standardized linear rank statistic of each (maxstat's).

    Shared by :func:`optimal_cutpoint` and the permutation test that repeats the search.
    """
    n = x.size
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], scores[order]
    first = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]])  # 0-based first index of each value
    m = first.copy()  # number of observations below each distinct value
    if len(first) < 2:
        raise ImmuneCorrelatesError(
            f"optimal_cutpoint: the feature has a single distinct value ({plain(xs[0])!r}) among the {n} rows used, "
            "so there is no cutpoint to search. Choose a feature that varies."
        )
    if minprop == 0 and maxprop == 1:
        m = m[1:]
    else:
        if np.all(m < np.floor(n * minprop)):
            raise ImmuneCorrelatesError(
                f"optimal_cutpoint: no candidate cutpoint leaves at least minprop={minprop:g} of the {n} rows "
                "on each side (too many tied values). Lower minprop or choose a feature with more distinct values."
            )
        m = m[(m >= max(1, np.floor(n * minprop))) & (m <= np.floor(n * maxprop))]
    if m.size < 1:
        raise ImmuneCorrelatesError(
            f"optimal_cutpoint: no split leaves between {minprop:g} and {maxprop:g} of the "
            f"{n} patients on each side; lower minprop or use a feature with more distinct values."
        )
    ss = ys.sum()
    e = m / n * ss
    v = m * (n - m) / (n**2 * (n - 1)) * (n * np.sum(ys**2) - ss**2)
    cs = np.cumsum(ys)
    test = np.abs((cs[m - 1] - e) / np.sqrt(v))
    return xs[m - 1], test, m, ys, e, v


def _p_lausen92(b: float, minprop: float, maxprop: float) -> float:
    if b < 1:
        return 1.0
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * np.log((maxprop * (1 - minprop)) / ((1 - maxprop) * minprop))
    return float(max(p, 0.0))


def _p_lausen94(b: float, n: int, m: np.ndarray) -> float:
    if m.size <= 1:
        d = 0.0
    else:
        m1, m2 = m[:-1].astype(float), m[1:].astype(float)
        t = np.sqrt(1 - m1 * (n - m2) / ((n - m1) * m2))
        d = float(np.sum(1 / np.pi * np.exp(-(b**2) / 2) * (t - (b**2 / 4 - 1) * t**3 / 6)))
    return float(1 - (stats.norm.cdf(b) - stats.norm.cdf(-b)) + d)


def _p_exact_gauss(b: float, n: int, m: np.ndarray) -> float:
    """``1 - P(max |Z_m| <= b)`` for the Gaussian limit of the standardized splits.

    The split statistics have ``corr(Z_i, Z_j) = sqrt(m_i (n - m_j) / (m_j (n - m_i)))``
    (i < j), a Markov chain, so the probability is a product of Gaussian
    transition kernels integrated by Gauss-Legendre quadrature on [-b, b]
    (maxstat's ``pmethod = "exactGauss"`` computes the same integral with
    randomized Genz-Bretz quadrature).
    """
    if m.size == 1:
        return float(2 * stats.norm.sf(b))
    mi, mj = m[:-1].astype(float), m[1:].astype(float)
    rho = np.sqrt(mi * (n - mj) / (mj * (n - mi)))
    s = np.sqrt(1 - rho**2)
    k = int(np.clip(np.ceil(16 * 2 * b / s.min()), 200, 3000))
    z, wq = np.polynomial.legendre.leggauss(k)
    z, wq = z * b, wq * b
    f = stats.norm.pdf(z)
    for r, sd in zip(rho, s):
        kern = stats.norm.pdf((z[:, None] - r * z[None, :]) / sd) / sd  # new z (rows) given old z
        f = kern @ (f * wq)
    return float(max(0.0, 1 - np.sum(f * wq)))


def _p_permutation(stat, ys, m, e, v, n_perm, rng, chunk=2000):
    """Share of ``n_perm`` random permutations of the scores whose maximum reaches ``stat``."""
    hits = 0
    done = 0
    sd = np.sqrt(v)
    while done < n_perm:
        b = min(chunk, n_perm - done)
        perm = rng.permuted(np.broadcast_to(ys, (b, ys.size)), axis=1)
        cs = np.cumsum(perm, axis=1)[:, m - 1]
        mx = np.max(np.abs((cs - e) / sd), axis=1)
        hits += int(np.sum(mx >= stat * (1 - 1e-12)))
        done += b
    return hits / n_perm


@dataclass(frozen=True, repr=False)
class CutpointResult(ResultDisplay):
    """Result of :func:`optimal_cutpoint`.

    Attributes
    ----------
    cutpoint : float
        Estimated cutpoint ``c``: patients with ``feature <= c`` form the low group.
    statistic : float
        The maximal standardized log-rank statistic ``M``.
    pvalue : float
        P-value of ``M`` by ``pmethod``.
    table : DataFrame
        Every candidate ``cutpoint`` with ``n_low``, ``n_high`` and ``statistic``.
    """

    cutpoint: float
    statistic: float
    pvalue: float
    pmethod: str
    table: pd.DataFrame
    minprop: float
    maxprop: float
    n: int
    n_events: int
    n_perm: int | None = None
    feature: str = ""
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """One row: feature, cutpoint, statistic, p-value and method."""
        return pd.DataFrame(
            [
                {
                    "feature": self.feature,
                    "cutpoint": self.cutpoint,
                    "statistic": self.statistic,
                    "p_value": self.pvalue,
                    "pmethod": self.pmethod,
                    "n": self.n,
                    "n_events": self.n_events,
                    "n_candidates": len(self.table),
                }
            ]
        )

    def _title(self) -> str:
        return f"Maximally selected log-rank statistic for {self.feature}"

    def _notes(self) -> list[str]:
        notes = [
            f"Splits with {self.minprop:g} to {self.maxprop:g} of patients in the low group; p-value: {self.pmethod}."
        ]
        if self.pmethod == "lausen92":
            notes.append("Lausen92 is conservative for small samples; consider pmethod='exact' or 'permutation'.")
        if len(self.excluded):
            notes.append(f"{len(self.excluded)} patient(s) excluded for missing values.")
        return notes


@check_params(
    method=Options("maxstat"),
    pmethod=Options(*PMETHODS),
    minprop=Interval(0, 0.5),
    maxprop=(Options(None), Interval(0, 1)),
    n_perm=Interval(1, None, integer=True),
    seed=SEED,
    missing=MISSING,
)
def optimal_cutpoint(
    data: pd.DataFrame,
    feature: str,
    duration: str,
    event: str,
    *,
    method: str = "maxstat",
    pmethod: str = "lausen92",
    minprop: float = 0.1,
    maxprop: float | None = None,
    n_perm: int = 10_000,
    seed=None,
    missing: str = "drop",
) -> CutpointResult:
    """Cutpoint of a feature that best separates survival, with a selection-adjusted p-value.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    feature : str
        Continuous feature to dichotomize.
    duration, event : str
        Follow-up time and event indicator (1 event, 0 censored).
    method : {"maxstat"}
        Maximally selected (standardized) log-rank statistics.
    pmethod : {"lausen92", "lausen94", "exact", "permutation"}
        P-value of the maximum: the Lausen-Schumacher (1992) approximation
        (maxstat ``"Lau92"``), the improved Bonferroni bound of Lausen,
        Sauerbrei & Schumacher (1994) (``"Lau94"``), the exact probability
        under the Gaussian limit (``"exactGauss"``, computed here by
        deterministic quadrature), or the conditional Monte-Carlo permutation
        p-value (``"condMC"``) from ``n_perm`` permutations of the scores.
    minprop, maxprop : float
        Smallest and largest share of patients in the low group
        (``maxprop=None``: ``1 - minprop``).
    n_perm : int
        Permutations for ``pmethod="permutation"``.
    seed : int, numpy Generator or None
        Seed of the permutations (same seed, same p-value).
    missing : {"drop", "raise"}
        Handling of incomplete rows.

    Returns
    -------
    CutpointResult

    Notes
    -----
    Lausen & Schumacher (1992), *Biometrics* 48:73; Lausen, Sauerbrei &
    Schumacher (1994), *Computational Statistics* 483; Hothorn & Lausen
    (2003), *Comput Stat Data Anal* 43:121.  Statistic, cutpoint and the
    Lau92 / Lau94 p-values match maxstat 0.7 to 1e-9.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=60)
    >>> df = pd.DataFrame({"x": x, "t": rng.exponential(np.exp(-1.0 * (x > 0.3))), "e": 1})
    >>> res = optimal_cutpoint(df, "x", "t", "e")
    >>> bool(0.0 < res.pvalue <= 1.0)
    True
    """
    caller = "optimal_cutpoint"
    maxprop = 1 - minprop if maxprop is None else maxprop
    if not (0 <= minprop <= maxprop <= 1):
        raise ParameterError(f"{caller}: need 0 <= minprop <= maxprop <= 1, got minprop={minprop}, maxprop={maxprop}.")
    if pmethod == "lausen92" and not (minprop > 0 and maxprop < 1):
        raise ParameterError(
            f"{caller}: pmethod='lausen92' needs 0 < minprop and maxprop < 1; "
            f"got minprop={minprop}, maxprop={maxprop}. Use pmethod='exact' or 'permutation'."
        )
    kept, excluded = complete_cases(
        data, [feature, duration, event], missing=missing, numeric=[feature, duration, event], caller=caller
    )
    ids = row_ids(kept)
    time = pd.to_numeric(kept[duration]).to_numpy(dtype=float)
    check_durations(time, duration, caller, ids)
    ev = event_indicator(kept[event], event, caller, ids)
    if ev.sum() == 0:
        raise ImmuneCorrelatesError(f"{caller}: no events in {event!r}; a cutpoint cannot be estimated.")
    x = pd.to_numeric(kept[feature]).to_numpy(dtype=float)
    n = x.size
    scores = logrank_scores(time, ev)
    cuts, test, m, ys, e, v = split_statistics(x, scores, minprop, maxprop)
    stat = float(test.max())
    best = int(np.flatnonzero(test == stat)[0])
    if pmethod == "lausen92":
        p = _p_lausen92(stat, minprop, maxprop)
    elif pmethod == "lausen94":
        p = _p_lausen94(stat, n, m)
    elif pmethod == "exact":
        p = _p_exact_gauss(stat, n, m)
    else:
        p = _p_permutation(stat, ys, m, e, v, int(n_perm), rng(seed, caller="optimal_cutpoint"))
    table = pd.DataFrame({"cutpoint": cuts, "n_low": m, "n_high": n - m, "statistic": test})
    return CutpointResult(
        cutpoint=float(cuts[best]),
        statistic=stat,
        pvalue=float(p),
        pmethod=pmethod,
        table=table,
        minprop=minprop,
        maxprop=maxprop,
        n=n,
        n_events=int(ev.sum()),
        n_perm=int(n_perm) if pmethod == "permutation" else None,
        feature=feature,
        excluded=excluded,
    )
