"""The result of :func:`~immune_correlates.fit_mixed`: estimates, small-sample tests, variance components."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, validate
from ..._results import ResultDisplay
from ..regression.design_matrix import Design

__all__ = ["MixedResult", "DF_NAMES"]

#: How each ``df=`` is named in notes and tables.
DF_NAMES = {
    "satterthwaite": "Satterthwaite (lmerTest)",
    "kenward-roger": "Kenward-Roger (pbkrtest)",
    "residual": "residual (n - p)",
}


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class MixedResult(ResultDisplay):
    """A linear mixed model fitted by REML or ML, as ``lme4::lmer`` with ``lmerTest``'s tests.

    Attributes
    ----------
    params, bse, df, tvalues, pvalues : Series
        Fixed effects, their standard errors (Kenward-Roger fits: the adjusted
        ones, ``pbkrtest::vcovAdj``), denominator degrees of freedom, t
        statistics and two-sided t-test p-values, indexed by term (the fixed
        formula's columns, named by formulaic).
    cov : DataFrame
        Covariance of ``params`` (adjusted for Kenward-Roger fits).
    variance_components : DataFrame
        ``group``, ``term``, ``term2``, ``variance``, ``std_dev``, ``corr``:
        one row per variance (``std_dev`` its square root), one per pair of
        correlated effects (``variance`` their covariance, ``corr`` their
        correlation), and the residual (group ``"Residual"``), as
        ``as.data.frame(VarCorr(fit))``.
    theta : Series
        The relative covariance factor (lme4's ``getME(fit, "theta")``).
    sigma : float
        Residual standard deviation.
    llf : float
        Log-likelihood (REML criterion x -1/2 for REML fits), as ``logLik``.
    aic, bic : float
        With fixed effects, variance parameters and ``sigma`` counted.
    nobs : int
    n_groups : dict
        Levels of each grouping factor among the rows used.
    reml : bool
    df_method : str
        ``"satterthwaite"``, ``"kenward-roger"`` or ``"residual"``.
    alpha : float
        ``conf_int()``'s default level.
    singular, converged : bool
    notes : tuple of str
        The method, singular-fit and convergence diagnostics, in words.
    excluded : DataFrame
        ``patient_id`` and ``reason`` of every row not used.
    design : Design
        The fixed-effects design (terms, reference levels).
    formula : str
    """

    params: pd.Series
    bse: pd.Series
    df: pd.Series
    pvalues: pd.Series
    cov: pd.DataFrame
    variance_components: pd.DataFrame
    theta: pd.Series
    sigma: float
    llf: float
    aic: float
    bic: float
    nobs: int
    n_groups: dict
    reml: bool
    df_method: str
    alpha: float
    singular: bool
    converged: bool
    n_iter: int
    notes: tuple[str, ...]
    excluded: pd.DataFrame
    design: Design
    formula: str
    anova_table: pd.DataFrame
    test: str = "t"
    ci_method: str = "t"

    @property
    def tvalues(self) -> pd.Series:
        """t statistics ``params / bse``."""
        return self.params / self.bse

    def cov_params(self) -> pd.DataFrame:
        """The covariance matrix of the fixed effects."""
        return self.cov.copy()

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """``params -/+ t_{1-alpha/2, df} * bse`` (``lower``, ``upper``), on each term's ``df``.

        Parameters
        ----------
        alpha : float, optional
            ``1 - level``; defaults to the ``alpha`` the model was fitted with.
        """
        alpha = self.alpha if alpha is None else alpha
        validate("conf_int", "alpha", alpha, ALPHA)
        half = stats.t.ppf(1 - alpha / 2, self.df.to_numpy()) * self.bse.to_numpy()
        return pd.DataFrame({"lower": self.params - half, "upper": self.params + half})

    def anova(self) -> pd.DataFrame:
        """Type III F-tests of the model terms, as ``lmerTest::anova(fit, ddf=...)``.

        Each term's hypothesis is the Wald test of its columns under
        sum-to-zero coding (numeric covariates not centred), with the fit's
        denominator df: Satterthwaite's (lmerTest's formula for multi-df
        terms), Kenward-Roger's (pbkrtest's scaled F) or ``n - p``.

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``num_df``, ``den_df``, ``statistic`` (F),
            ``p_value``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> import immune_correlates as ic
        >>> rng = np.random.default_rng(1)
        >>> long = pd.DataFrame({"patient_id": np.repeat([f"P{i:02d}" for i in range(15)], 4),
        ...                      "day": np.tile([0.0, 15, 60, 140], 15), "arm": np.repeat(list("abc"), 20)})
        >>> long["nk"] = (200 + 0.5 * long["day"] * (long["arm"] == "c") + np.repeat(rng.normal(0, 30, 15), 4)
        ...               + rng.normal(0, 20, 60))
        >>> ic.fit_mixed(long, "nk ~ day * arm + (1 | patient_id)").anova().round(3)  # doctest: +NORMALIZE_WHITESPACE
                 num_df  den_df  statistic  p_value
        term
        day         1.0  42.000     31.249      0.0
        arm         2.0  17.486      0.364      0.7
        day:arm     2.0  42.000     11.288      0.0

        References
        ----------
        Kuznetsova A, Brockhoff PB, Christensen RHB (2017) J Stat Softw 82(13);
        Halekoh U, Hojsgaard S (2014) J Stat Softw 59(9).
        """
        return self.anova_table.copy()

    def summary(self) -> pd.DataFrame:
        """One row per fixed effect: estimate, standard error, df, t, p-value and interval."""
        ci = self.conf_int()
        return pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": self.bse.to_numpy(),
                "df": self.df.to_numpy(),
                "statistic": self.tvalues.to_numpy(),
                "p_value": self.pvalues.to_numpy(),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
            }
        )

    def _title(self) -> str:
        return f"MixedResult: {self.formula}"

    def _notes(self) -> list[str]:
        groups = ", ".join(f"{g}: {k}" for g, k in self.n_groups.items())
        lines = [
            f"n = {self.nobs} rows, groups: {groups}; {'REML' if self.reml else 'ML'} fit, "
            f"log-likelihood {self.llf:.6g}; t-tests and {100 * (1 - self.alpha):g}% intervals on "
            f"{DF_NAMES[self.df_method]} degrees of freedom",
        ]
        vc = self.variance_components
        parts = [
            f"{g} {t}: SD {sd:.4g}" if g != "Residual" else f"residual SD {sd:.4g}"
            for g, t, t2, sd in zip(vc["group"], vc["term"], vc["term2"], vc["std_dev"])
            if not t2
        ]
        lines.append("variance components: " + "; ".join(parts))
        if len(self.excluded):
            lines.append(
                f"{len(self.excluded)} row(s) excluded: "
                + "; ".join(f"{p} ({r})" for p, r in zip(self.excluded["patient_id"], self.excluded["reason"]))
            )
        lines.extend(self.notes)
        return lines


def variance_table(terms, theta: np.ndarray, sigma: float, index) -> pd.DataFrame:
    """``as.data.frame(VarCorr(fit))``: variances, then covariances/correlations, per term; the residual last."""
    rows = []
    for i, t in enumerate(terms):
        T = np.zeros((t.nc, t.nc))
        for k, (term, r, c) in enumerate(index):
            if term == i:
                T[r, c] = theta[k]
        cov = sigma**2 * T @ T.T
        sd = np.sqrt(np.diag(cov))
        for a in range(t.nc):
            rows.append((t.group, t.columns[a], "", cov[a, a], sd[a], np.nan))
        for a in range(t.nc):
            for b in range(a + 1, t.nc):
                corr = cov[a, b] / (sd[a] * sd[b]) if sd[a] > 0 and sd[b] > 0 else np.nan
                rows.append((t.group, t.columns[a], t.columns[b], cov[a, b], np.nan, corr))
    rows.append(("Residual", "", "", sigma**2, sigma, np.nan))
    return pd.DataFrame(rows, columns=["group", "term", "term2", "variance", "std_dev", "corr"])
