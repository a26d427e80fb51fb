"""The result object shared by regression models (logistic and Cox).

Follows statsmodels' naming (``params``, ``bse``, ``pvalues``, ``conf_int()``,
``llf``, ``nobs``) so users can move between the two without relearning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError
from .design_matrix import Design

__all__ = ["RegressionResult", "wald_table"]


def wald_table(params: pd.Series, bse: pd.Series, alpha: float) -> pd.DataFrame:
    """Wald intervals ``params -/+ z_{1-alpha/2} * bse`` as a ``lower``/``upper`` frame."""
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame({"lower": params - z * bse, "upper": params + z * bse})


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class RegressionResult(ResultDisplay):
    """Estimates of a fitted regression model.

    Attributes
    ----------
    params, bse, pvalues : Series
        Coefficients, standard errors and p-values, indexed by term.
    llf : float
        Log-likelihood at the estimate (penalized for Firth fits).
    nobs, n_events : int
        Rows used and events (outcome 1, or observed failures) among them.
    excluded : DataFrame
        ``patient_id`` and ``reason`` of every row the fit did not use.
    method : str
        ``"ml"`` or ``"firth"``.
    ci_method : str
        ``"wald"`` or ``"profile"``; ``conf_int()`` uses it.
    test : str
        What ``pvalues`` are: ``"wald"`` or ``"lr"`` (likelihood ratio).
    alpha : float
        The level the result was fitted with; ``conf_int()`` defaults to it.
    cov : DataFrame
        The covariance matrix of ``params`` (inverse information, or the
        robust sandwich when asked).
    design : Design
        The model matrix with its terms and reference levels (see
        :class:`~immune_correlates.stats.regression.design_matrix.Design`).
    converged : bool
    n_iter : int
    notes : tuple of str
        What was done and warned about, in plain words.
    """

    params: pd.Series
    bse: pd.Series
    pvalues: pd.Series
    llf: float
    nobs: int
    n_events: int
    excluded: pd.DataFrame
    method: str
    ci_method: str
    test: str
    alpha: float
    cov: pd.DataFrame
    converged: bool = True
    n_iter: int = 0
    notes: tuple[str, ...] = ()
    design: Design | None = None
    _intervals: pd.DataFrame = field(default=None)  # at self.alpha
    _interval_fn: Callable[[float], pd.DataFrame] | None = field(default=None)

    #: Name of the exponentiated-coefficient column in ``summary()``.
    ratio_name = "ratio"

    def cov_params(self) -> pd.DataFrame:
        """The covariance matrix of the coefficients."""
        return self.cov

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Confidence intervals on the coefficient scale.

        Parameters
        ----------
        alpha : float, optional
            ``1 - level``; defaults to the ``alpha`` the model was fitted with.

        Returns
        -------
        DataFrame
            Columns ``lower`` and ``upper``, indexed by term, by the method of
            ``ci_method`` (Wald or profile likelihood).
        """
        if alpha is None or np.isclose(alpha, self.alpha):
            if self._intervals is not None:
                return self._intervals.copy()
            alpha = self.alpha
        if not 0 < alpha < 1:
            raise ImmuneCorrelatesError(f"alpha must lie in (0, 1), got {alpha!r}.")
        if self.ci_method == "wald":
            return wald_table(self.params, self.bse, alpha)
        return self._profile_intervals(alpha)

    def _profile_intervals(self, alpha: float) -> pd.DataFrame:
        """Profile intervals at ``alpha`` (models override this; no closures, so results can be saved and reloaded)."""
        if self._interval_fn is None:
            return wald_table(self.params, self.bse, alpha)
        return self._interval_fn(alpha)

    def _constrained_llf(self, columns: tuple[int, ...]) -> float:
        """Maximum (penalized) llf with the coefficients of ``columns`` fixed at 0 (models override)."""
        raise NotImplementedError

    def anova(self) -> pd.DataFrame:
        """Likelihood-ratio test of each model term, as R's ``drop1(fit, test = "Chisq")``.

        A factor's dummy columns are tested together; a term contained in a
        higher-order term (a main effect under its interaction) is not tested,
        as R's ``drop1`` (marginality).  Maximum likelihood fits are refitted
        without the term; Firth fits fix the term's coefficients at zero inside
        the full penalized model (logistf's ``drop1`` and coxphf's convention,
        consistent with the Firth p-values).

        Returns
        -------
        DataFrame
            Indexed by ``term``: ``df``, ``statistic`` (likelihood-ratio
            chi-square ``2 (llf - llf_without)``), ``p_value``.

        Examples
        --------
        >>> import pandas as pd
        >>> from immune_correlates.stats import fit_logistic
        >>> df = pd.DataFrame({"cr": [0, 1, 0, 1, 1, 0, 1, 0, 0, 1],
        ...                    "arm": list("aabbccaabc"), "nk": [1.0, 5, 2, 4, 6, 1, 3, 2, 5, 4]})
        >>> fit_logistic(df, formula="cr ~ nk + C(arm)").anova().columns.tolist()
        ['df', 'statistic', 'p_value']

        Notes
        -----
        Chambers JM, Hastie TJ (1992) *Statistical Models in S*, ch. 6 (drop1
        and marginality); Heinze G, Schemper M (2002) for penalized LR tests.
        """
        rows = []
        design = self.design
        if design is not None:
            for i in design.droppable():
                cols = design.term_columns[i]
                stat = max(2.0 * (self.llf - self._constrained_llf(cols)), 0.0)
                rows.append((design.terms[i], len(cols), stat, float(stats.chi2.sf(stat, len(cols)))))
        out = pd.DataFrame(rows, columns=["term", "df", "statistic", "p_value"]).set_index("term")
        out["df"] = out["df"].astype(int)
        return out

    @property
    def tvalues(self) -> pd.Series:
        """Wald z statistics ``params / bse``."""
        return self.params / self.bse

    def summary(self) -> pd.DataFrame:
        """One row per term: estimate, standard error, interval, p-value and ratio."""
        ci = self.conf_int()
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.to_numpy(),
                "std_error": self.bse.to_numpy(),
                "ci_lower": ci["lower"].to_numpy(),
                "ci_upper": ci["upper"].to_numpy(),
                "p_value": self.pvalues.to_numpy(),
            }
        )
        with np.errstate(over="ignore"):
            out[self.ratio_name] = np.exp(out["estimate"])
            out[f"{self.ratio_name}_ci_lower"] = np.exp(out["ci_lower"])
            out[f"{self.ratio_name}_ci_upper"] = np.exp(out["ci_upper"])
        refs = self.design.references if self.design is not None else {}
        out["reference"] = [refs.get(t) for t in self.params.index]
        out["method"] = self.method
        out["ci_method"] = self.ci_method
        out["test"] = self.test
        return out

    def _notes(self) -> list[str]:
        lines = [
            f"n = {self.nobs}, events = {self.n_events}, method = {self.method}, "
            f"intervals = {self.ci_method} ({100 * (1 - self.alpha):g}%), p-values = {self.test}"
        ]
        if len(self.excluded):
            lines.append(
                f"{len(self.excluded)} row(s) excluded: "
                + "; ".join(f"{p} ({r})" for p, r in zip(self.excluded["patient_id"], self.excluded["reason"]))
            )
        if self.design is not None and self.design.references:
            seen = {}
            for col, ref in self.design.references.items():
                seen.setdefault(col.split(":")[-1].rsplit("[T.", 1)[0], ref)
            lines.append("reference levels: " + "; ".join(f"{f} = {r}" for f, r in seen.items()))
        lines.extend(self.notes)
        return lines
