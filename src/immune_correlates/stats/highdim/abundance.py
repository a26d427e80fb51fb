"""Differential abundance of cell populations between two groups of samples.

For each population the log2 proportion of a sample's cells, ``log2((count + 0.5) /
(total + 1))``, is modelled by one linear model shared by all populations (intercept, group,
covariates, and one term per patient in a paired design), and the group coefficient is
tested with the empirical-Bayes moderated t of Smyth (2004): each population's residual
variance is shrunk towards a prior estimated from all populations, which gives small
studies stable variances and more degrees of freedom without assuming a count distribution.
The sample-to-sample (biological) variation is in the residuals, so overdispersion is never
ignored: this is the calibration that a binomial or Poisson model lacks (Weber et al. 2019;
Phipson et al. 2022 use the same idea on transformed proportions).  With ``n_perm > 0`` the
p-values come from permutations of the residuals (Freedman & Lane 1983), within patients in
a paired design: exact for exchangeable samples whatever the distribution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, COLUMNS, MISSING, SEED, Instance, Interval, Options, check_params
from ..._seeds import rng as make_rng
from ..._seeds import spawn
from ...multiplicity import ADJUST_OPTIONS, adjust_pvalues
from ._counts import PSEUDOCOUNT, abundance_design, check_counts, log2_proportions
from ._moderated import least_squares, moderate

__all__ = ["differential_abundance", "abundance_features", "TRANSFORMS"]

#: What ``abundance_features(transform=)`` may be.
TRANSFORMS = ("clr", "log_proportion", "proportion")

#: Permutations moderated in one batch (``n_perm x samples x populations`` floats each).
_PERM_BLOCK = 256


@check_params(
    group=Instance(str, name="a column name"),
    covariates=COLUMNS,
    paired=(Options(None), Instance(str, name="a column name")),
    levels=(Options(None), Instance(list, tuple, name="a list of two levels")),
    alpha=ALPHA,
    adjust=ADJUST_OPTIONS,
    n_perm=Interval(0, None, integer=True),
    seed=SEED,
    missing=MISSING,
)
def differential_abundance(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    group: str,
    covariates: str | Sequence[str] = (),
    paired: str | None = None,
    levels: Sequence | None = None,
    alpha: float = 0.05,
    adjust: str = "fdr_bh",
    n_perm: int = 0,
    seed=None,
    missing: str = "drop",
) -> pd.DataFrame:
    """Which populations differ in abundance between two groups of samples.

    Parameters
    ----------
    counts : DataFrame
        Cell counts, one row per sample and one column per population (gate or cluster),
        indexed by ``sample_id`` (or with a ``sample_id`` column).  Whole numbers >= 0; an
        empty (missing) count leaves its sample out.
    samples : DataFrame
        One row per sample, indexed by ``sample_id`` (or with a ``sample_id`` column), with
        ``group``, the covariates and the ``paired`` column.  Matched to ``counts`` by id.
    group : str
        Column with the two groups compared (0/1, True/False or text).  The estimate is the
        second level (sorted; a categorical's own order) over the first.
    covariates : str or sequence of str
        Adjustment columns of the sample table (batch, site, age); text columns are
        dummy-coded as in :func:`fit_logistic`.
    paired : str, optional
        Column naming the patient of each sample when patients give several samples (two
        timepoints): every patient gets their own term, so the group effect is estimated
        within patients (the paired t-test when there are two samples per patient).
    levels : list of two levels, optional
        ``[reference, compared]`` when ``group`` has more than two levels (the other samples
        are left out and listed in ``attrs["excluded"]``).
    alpha : float
        ``1 - level`` of the intervals.
    adjust : {"fdr_bh", "holm", "bonferroni", "none"}
        Multiplicity adjustment of ``q_value`` (Benjamini-Hochberg by default).
    n_perm : int
        0 (default): moderated-t p-values.  ``n_perm > 0``: permutation p-values of the
        moderated t, ``(1 + #{|t*| >= |t|}) / (1 + n_perm)``, residuals of the model without
        the group permuted (Freedman-Lane), within patients when ``paired``.
    seed : int, SeedSequence, Generator or None
        Seeds the permutations (permutation ``r`` draws from child ``r``).
    missing : {"drop", "raise"}
        Samples with a missing count or a missing group / covariate value are left out,
        listed and warned about, or refused.

    Returns
    -------
    DataFrame
        One row per population (in the counts' column order): ``population``, ``estimate``
        (log2 ratio of the proportions, compared level over reference, as a ratio of
        geometric means), ``std_error``, ``ci_lower``, ``ci_upper`` (moderated-t interval),
        ``ratio`` (``2**estimate``) with ``ratio_ci_lower``/``ratio_ci_upper``, ``statistic``
        (moderated t), ``df``, ``p_value``, ``q_value``, ``proportion_<level>`` (mean
        proportion of the samples in each group), ``total_cells`` and ``test``.  ``attrs``
        holds ``levels``, ``design`` (column names), ``df_prior``, ``s2_prior``, ``n_perm``,
        ``excluded`` (DataFrame of ``sample_id`` and ``reason``) and ``method``.

    Raises
    ------
    InputError
        Counts that are negative, not whole numbers or not numbers (sample, population and
        value named); samples with counts but no row in the sample table; a group with fewer
        than two samples; a population or sample with no cells; a design that is not
        estimable or leaves no residual degrees of freedom.

    Notes
    -----
    The estimates, intervals and moderated-t p-values equal limma's (3.54) ``lmFit`` +
    ``eBayes`` + ``topTable(confint=TRUE)`` on ``log2((count + 0.5) / (total + 1))``
    (``tests/reference/differential_abundance.R``).  In seeded simulations of log-normal
    biological variation (SD 0.4 on the log scale, ~50,000 cells, 30 populations) the
    per-test false-positive rate and the false discovery rate stay at 5% for 10 vs 10 and 8
    vs 26 samples, where a binomial GLM rejects most true nulls
    (``benchmarks/bench_differential_abundance.py``).

    References
    ----------
    Smyth GK (2004) Stat Appl Genet Mol Biol 3:Article 3 (moderated t);
    Law CW, Chen Y, Shi W, Smyth GK (2014) Genome Biol 15:R29 (log-CPM with 0.5 pseudo-count);
    Phipson B et al. (2022) Bioinformatics 38:4720-4726 (propeller: moderated tests of
    transformed cell-type proportions);
    Weber LM et al. (2019) Commun Biol 2:183 (diffcyt: overdispersion in differential abundance);
    Freedman D, Lane D (1983) J Bus Econ Stat 1:292-298; Winkler AM et al. (2014)
    NeuroImage 92:381-397 (permutation of residuals, exchangeability blocks);
    Benjamini Y, Hochberg Y (1995) JRSS B 57:289-300.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> ids = [f"S{i:02d}" for i in range(12)]
    >>> share = np.exp(np.log([0.5, 0.3, 0.15, 0.05]) + 0.3 * rng.standard_normal((12, 4)))
    >>> share[6:, 2] /= 3  # in the responders, C is three times rarer and D three times as abundant
    >>> share[6:, 3] *= 3
    >>> counts = pd.DataFrame([rng.multinomial(20000, s / s.sum()) for s in share],
    ...                       index=pd.Index(ids, name="sample_id"), columns=list("ABCD"))
    >>> samples = pd.DataFrame({"response": ["NR"] * 6 + ["R"] * 6}, index=counts.index)
    >>> res = differential_abundance(counts, samples, group="response")
    >>> res[["population", "ratio", "ratio_ci_lower", "ratio_ci_upper", "q_value"]].round(3)
      population  ratio  ratio_ci_lower  ratio_ci_upper  q_value
    0          A  0.902           0.743           1.096    0.376
    1          B  1.043           0.833           1.306    0.697
    2          C  0.457           0.350           0.596    0.000
    3          D  3.063           2.238           4.190    0.000
    """
    caller = "differential_abundance"
    design = abundance_design(
        counts,
        samples,
        group=group,
        covariates=covariates,
        paired=paired,
        levels=levels,
        missing=missing,
        caller=caller,
    )
    Y = log2_proportions(design.counts)
    fits = least_squares(design.X, Y)
    mod = moderate(fits, coef=1)
    est, se, t, df = mod.estimate[0], mod.std_error[0], mod.t[0], float(mod.df_total[0])
    if n_perm > 0:
        p, test = _permutation_pvalues(design, Y, t, n_perm, seed), "permutation (Freedman-Lane) of the moderated t"
    else:
        p, test = 2.0 * stats.t.sf(np.abs(t), df), "moderated t"
    half = stats.t.ppf(1.0 - alpha / 2.0, df) * se
    table = _assemble(design, est, se, t, df, p, half, adjust, test)
    table.attrs.update(
        {
            "method": "log-ratio linear model with empirical-Bayes moderated t (limma lmFit + eBayes)",
            "levels": list(design.levels),
            "group": group,
            "design": list(design.names),
            "df_residual": int(fits.df),
            "df_prior": float(mod.df_prior[0]),
            "s2_prior": float(mod.s2_prior[0]),
            "n_perm": int(n_perm),
            "alpha": float(alpha),
            "n_samples": int(len(design.samples)),
            "excluded": design.excluded,
        }
    )
    return table


def _assemble(design, est, se, t, df, p, half, adjust, test) -> pd.DataFrame:
    props = design.counts / design.counts.sum(axis=1, keepdims=True)
    ref, cmp_ = design.levels
    out = pd.DataFrame(
        {
            "population": design.populations,
            "estimate": est,
            "std_error": se,
            "ci_lower": est - half,
            "ci_upper": est + half,
            "ratio": np.exp2(est),
            "ratio_ci_lower": np.exp2(est - half),
            "ratio_ci_upper": np.exp2(est + half),
            "statistic": t,
            "df": np.full(est.shape, df),
            "p_value": p,
            "q_value": adjust_pvalues(p, method=adjust),
            f"proportion_{ref}": props[design.group == 0].mean(axis=0),
            f"proportion_{cmp_}": props[design.group == 1].mean(axis=0),
            "total_cells": design.counts.sum(axis=0).astype(np.int64),
            "test": test,
        }
    )
    return out


def _permutation_pvalues(design, Y, t_obs, n_perm, seed) -> np.ndarray:
    """Freedman-Lane permutation p-values of the moderated t (residuals of the reduced model permuted)."""
    X = design.X
    reduced = np.delete(X, 1, axis=1)
    H = reduced @ np.linalg.pinv(reduced)
    fitted, resid = H @ Y, Y - H @ Y
    n = X.shape[0]
    blocks = (
        [np.arange(n)]
        if design.blocks is None
        else [np.flatnonzero(design.blocks == b) for b in np.unique(design.blocks)]
    )
    seeds = spawn(seed, n_perm, caller="differential_abundance")
    exceed = np.zeros(Y.shape[1])
    for lo in range(0, n_perm, _PERM_BLOCK):
        chunk = seeds[lo : lo + _PERM_BLOCK]
        idx = np.empty((len(chunk), n), dtype=np.int64)
        for r, ss in enumerate(chunk):
            rng = make_rng(ss)
            for b in blocks:
                idx[r, b] = b[rng.permutation(b.size)]
        Ystar = fitted[None] + resid[idx]  # (R, n, G)
        fits = least_squares(X, Ystar)
        t_star = moderate(fits, coef=1).t
        exceed += np.sum(np.abs(t_star) >= np.abs(t_obs)[None] * (1 - 1e-12), axis=0)
    return (1.0 + exceed) / (1.0 + n_perm)


@check_params(transform=Options(*TRANSFORMS), pseudocount=Interval(0, None, closed="neither"))
def abundance_features(
    counts: pd.DataFrame, *, transform: str = "clr", pseudocount: float = PSEUDOCOUNT
) -> pd.DataFrame:
    """Per-sample abundance of each population, on a scale fit for models of an outcome.

    Parameters
    ----------
    counts : DataFrame
        Cell counts, samples x populations, indexed by ``sample_id`` (checked as in
        :func:`differential_abundance`).
    transform : {"clr", "log_proportion", "proportion"}
        ``"clr"``: centred log-ratio, ``log2(count + c) - mean over populations of
        log2(count + c)`` (Aitchison 1986): a population's abundance relative to the sample's
        typical population, free of the closure of proportions; ``"log_proportion"``:
        ``log2((count + c) / (total + 2c))``; ``"proportion"``: ``count / total``.  On the
        log2 scales a model's coefficient is per doubling.
    pseudocount : float
        ``c``, added to every count before taking logs (default 0.5).

    Returns
    -------
    DataFrame
        Indexed by ``sample_id``, one column per population.  Samples with a missing count
        get missing values (not zeros).

    References
    ----------
    Aitchison J (1986) *The Statistical Analysis of Compositional Data*, Chapman & Hall;
    Gloor GB et al. (2017) Front Microbiol 8:2224.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"A": [100, 300], "B": [100, 100]}, index=pd.Index(["s1", "s2"], name="sample_id"))
    >>> abundance_features(counts, transform="clr").loc["s2"].round(3).tolist()  # log2(300.5 / 100.5) / 2 either side
    [0.79, -0.79]
    """
    frame, _ = check_counts(counts, "abundance_features")
    values = frame.to_numpy()
    if transform == "proportion":
        with np.errstate(invalid="ignore", divide="ignore"):
            out = values / values.sum(axis=1, keepdims=True)
    else:
        logs = np.log2(values + pseudocount)
        if transform == "clr":
            out = logs - logs.mean(axis=1, keepdims=True)
        else:
            out = logs - np.log2(values.sum(axis=1, keepdims=True) + 2 * pseudocount)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)
