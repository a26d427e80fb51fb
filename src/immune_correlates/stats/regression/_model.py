"""The result object shared by regression models (logistic, Cox, Fine-Gray).

Follows statsmodels' naming (``params``, ``bse``, ``pvalues``, ``conf_int()``,
``llf``, ``nobs``) so users can move between the two without relearning, and
keeps, as statsmodels' results do, the fitted model: a small frozen ``model``
object (design matrix, outcome, options; no closures, so results can be saved and sent to workers) that
refits itself for profile intervals at another level and for ``anova()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import ALPHA, validate
from ..._results import ResultDisplay
from ...errors import ConvergenceWarning, ModelError, warn
from ..engine.profile import Profile
from .design_matrix import Design

__all__ = ["RegressionResult", "FittedModel", "wald_table", "profile_inference"]


def wald_table(params: pd.Series, bse: pd.Series, alpha: float) -> pd.DataFrame:
    """Wald intervals ``params -/+ z_{1-alpha/2} * bse`` as a ``lower``/``upper`` frame."""
    z = stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame({"lower": params - z * bse, "upper": params + z * bse})


class FittedModel:
    """What a regression result keeps to recompute: the data it used and how to refit it.

    Subclasses (``LogisticModel``, ``CoxModel``, ``FineGrayModel``) are frozen
    dataclasses and implement :meth:`refit`: the maximised (penalized)
    log-likelihood with the coefficients of ``fixed`` held at their ``start``
    values.  ``follow_path`` says whether profile refits start on the path of
    the previous ones (logistf) or from the estimate (coxph);
    ``warn_profile`` whether a profile refit that does not converge is warned
    about (a term's refit always is).
    """

    follow_path: bool = True
    warn_profile: bool = True

    def refit(self, start: np.ndarray, fixed: np.ndarray) -> tuple[float, np.ndarray, bool]:
        """``(llf, beta, converged)`` of the fit with ``beta[fixed]`` held at ``start[fixed]``."""
        raise NotImplementedError

    def _warn(self, start, fixed, what: str) -> None:
        names = getattr(self, "names", [f"coefficient {k}" for k in range(len(start))])
        held = ", ".join(f"{n} = {v:.6g}" for n, v, f in zip(names, start, fixed) if f)
        warn(
            f"{what}: the fit with {held} did not converge in {getattr(self, 'max_iter', '?')} iterations; "
            "the result may be "
            "inaccurate. Increase max_iter.",
            ConvergenceWarning,
        )

    def profile(self, beta: np.ndarray, llf: float) -> Profile:
        """The profile likelihood of each coefficient (see :class:`~..engine.profile.Profile`)."""

        def one(k, start):
            fixed = np.zeros(len(start), dtype=bool)
            fixed[k] = True
            value, solution, converged = self.refit(start, fixed)
            if not converged and self.follow_path:  # an extrapolated start can be far off: start at the estimate
                again = np.where(fixed, start, beta)
                value2, solution2, converged = self.refit(again, fixed)
                if converged or value2 > value:
                    value, solution = value2, solution2
            if not converged and self.warn_profile:
                self._warn(start, fixed, "profile likelihood")
            return value, solution

        return Profile(one, beta, llf, follow_path=self.follow_path)

    def llf_without(self, beta: np.ndarray, columns: tuple[int, ...]) -> float:
        """Maximum (penalized) llf with the coefficients of ``columns`` fixed at 0 (a term's test)."""
        fixed = np.zeros(len(beta), dtype=bool)
        fixed[list(columns)] = True
        start = np.where(fixed, 0.0, beta)
        value, _, converged = self.refit(start, fixed)
        if not converged:
            self._warn(start, fixed, "anova")
        return value


def profile_inference(
    model: FittedModel, params: pd.Series, bse: pd.Series, llf: float, alpha: float, diverged=(), *, pvalues=True
):
    """Likelihood-ratio p-values and profile intervals of every coefficient: ``(pvalues, intervals)``.

    The first bracket of each profile is its Wald standard error, or
    ``1 + |beta|`` for an infinite maximum likelihood estimate (``diverged``),
    whose standard error only reflects where the iteration stopped.
    """
    beta = params.to_numpy()
    infinite = np.array([t in diverged for t in params.index], dtype=bool)
    scale = np.where(infinite, 1.0 + np.abs(beta), bse.to_numpy())
    profile = model.profile(beta, llf)
    p = pd.Series([profile.pvalue(k) for k in range(beta.size)], index=params.index) if pvalues else None
    ends = profile.intervals(scale, alpha, infinite)
    return p, pd.DataFrame(ends, index=params.index, columns=["lower", "upper"])


def _term_table(rows: list, test: str) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["term", "df", "statistic", "p_value"]).set_index("term")
    out["df"] = out["df"].astype(int)
    out.attrs["test"] = test
    return out


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
    model : FittedModel
        The model fitted (design matrix, outcome, options), which refits
        itself for ``conf_int(alpha)`` with profile intervals and ``anova()``.
    diverged : tuple of str
        Coefficients whose maximum likelihood estimate is infinite
        (separation, monotone likelihood): the reported value is where the
        iteration stopped, and their profile interval is open on that side.
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
    model: FittedModel | None = None
    diverged: tuple[str, ...] = ()
    _intervals: pd.DataFrame = field(default=None)  # at self.alpha

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
        validate("conf_int", "alpha", alpha, ALPHA)
        if self.ci_method == "wald":
            return wald_table(self.params, self.bse, alpha)
        return self._profile_intervals(alpha)

    def _profile_intervals(self, alpha: float) -> pd.DataFrame:
        """Profile intervals at ``alpha``, by refits of ``model``."""
        if self.model is None:
            raise ModelError("conf_int: this result keeps no model to refit; profile intervals are not available.")
        return profile_inference(self.model, self.params, self.bse, self.llf, alpha, self.diverged, pvalues=False)[1]

    def _constrained_llf(self, columns: tuple[int, ...]) -> float:
        """Maximum (penalized) llf with the coefficients of ``columns`` fixed at 0."""
        assert self.model is not None  # anova() checks it (_terms_design)
        return self.model.llf_without(self.params.to_numpy(), columns)

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
        design = self._terms_design()
        rows = []
        for i in design.droppable():
            cols = design.term_columns[i]
            stat = max(2.0 * (self.llf - self._constrained_llf(cols)), 0.0)
            rows.append((design.terms[i], len(cols), stat, float(stats.chi2.sf(stat, len(cols)))))
        return _term_table(rows, "lr")

    def _terms_design(self) -> Design:
        if self.design is None or self.model is None:
            raise ModelError(
                "anova: this result keeps no design matrix and model to refit, so its terms cannot be tested."
            )
        return self.design

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
            seen: dict[str, object] = {}
            for col, ref in self.design.references.items():
                seen.setdefault(col.split(":")[-1].rsplit("[T.", 1)[0], ref)
            lines.append("reference levels: " + "; ".join(f"{f} = {r}" for f, r in seen.items()))
        lines.extend(self.notes)
        return lines
