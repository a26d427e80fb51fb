"""Meta-analysis of one effect across trials: :func:`meta_analysis`, as ``metafor::rma``.

The normal-normal model ``y_i ~ N(mu, v_i + tau^2)`` for ``k`` trials' estimates ``y_i`` (log
odds or log hazard ratios) with known within-trial variances ``v_i = se_i^2``; the pooled
estimate is the inverse-variance weighted mean with weights ``w_i = 1 / (v_i + tau^2)``.

Between-trial variance ``tau^2``: ``"FE"`` (none), ``"DL"``, ``"PM"`` or ``"REML"``, estimated in
:mod:`.meta_estimators` (:func:`~.meta_estimators.tau2_estimate`, re-exported here).

Inference: ``test="z"`` refers ``mu / se`` to the normal distribution; ``test="knha"``
(Hartung & Knapp 2001; Sidik & Jonkman 2002) uses ``se^2 = sum w_i (y_i - mu)^2 / ((k - 1)
sum w_i)`` and the t distribution on ``k - 1`` df, not truncated at the model-based variance
(metafor's ``"knha"``, not its ``"adhoc"``).  Heterogeneity: Cochran's ``Q`` with the
fixed-effect weights and its chi-square p on ``k - 1`` df; for random-effects methods
``I^2 = 100 tau^2 / (tau^2 + s^2)`` and ``H^2 = (tau^2 + s^2) / s^2`` with the typical
within-trial variance ``s^2 = (k - 1) sum(1/v) / ((sum 1/v)^2 - sum 1/v^2)`` (Higgins &
Thompson 2002); for ``"FE"`` ``I^2 = 100 max(0, (Q - (k - 1)) / Q)`` and ``H^2 = Q / (k - 1)``.
The prediction interval for a new trial's effect is ``mu -/+ crit sqrt(se^2 + tau^2)``
(``crit`` the z or t quantile of the test), as ``predict.rma``; under ``"FE"`` it is the
confidence interval.

This module holds :func:`meta_analysis` and its result; :func:`~.meta_by.meta_analysis_by` (one model
per trial, then pooled) lives in :mod:`.meta_by`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._params import (
    ALPHA,
    Instance,
    ListLike,
    Options,
    check_params,
)
from ..._results import ResultDisplay
from ...errors import InputError, plain
from .meta_estimators import METHODS, TESTS, _heterogeneity, _pooled_test, _wmean, tau2_estimate

__all__ = ["meta_analysis", "MetaAnalysisResult", "tau2_estimate", "METHODS", "TESTS"]

_METHOD_WORDS = {
    "REML": "random effects, REML",
    "DL": "random effects, DerSimonian-Laird",
    "PM": "random effects, Paule-Mandel",
    "FE": "fixed (common) effect",
}


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class MetaAnalysisResult(ResultDisplay):
    """A meta-analysis (see :func:`meta_analysis`); estimates on the scale given (log ratios).

    Attributes
    ----------
    estimate, std_error, ci_lower, ci_upper, statistic, pvalue : float
        Pooled effect, its standard error, interval, z or t statistic and p-value.
    df : float
        Degrees of freedom of the test (``inf`` for z, ``k - 1`` for Hartung-Knapp).
    tau2, tau : float
        Between-trial variance and SD.
    i2, h2 : float
        I² (percent) and H².
    q, q_df, q_pvalue : float
        Cochran's Q, its df and chi-square p-value.
    pi_lower, pi_upper : float
        Prediction interval for the effect in a new trial.
    k : int
        Trials pooled.
    method, test : str
    alpha : float
    studies : DataFrame
        One row per trial: ``label``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``
        (Wald), ``weight`` (percent of the total weight in the pooled estimate).
    ratio : str or None
        ``"odds_ratio"``, ``"hazard_ratio"``, ...: the estimates are logs of this ratio
        (plots then draw the exponentiated scale).
    fits : dict
        Per-trial fitted results (:func:`meta_analysis_by`).
    excluded : DataFrame
        Trials left out (``trial``, ``reason``) by :func:`meta_analysis_by`.
    notes : tuple of str
    """

    estimate: float
    std_error: float
    ci_lower: float
    ci_upper: float
    statistic: float
    pvalue: float
    df: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    pi_lower: float
    pi_upper: float
    k: int
    method: str
    test: str
    alpha: float
    studies: pd.DataFrame
    ratio: str | None = None
    fits: dict = field(default_factory=dict)
    excluded: pd.DataFrame = field(default=None)
    notes: tuple[str, ...] = ()

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2)

    @property
    def weights(self) -> pd.Series:
        """Percent weights of the trials, indexed by label (as ``weights(rma_fit)``)."""
        return pd.Series(self.studies["weight"].to_numpy(), index=self.studies["label"], name="weight")

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        """Interval of the pooled effect at another level (same test): columns ``lower``, ``upper``."""
        a = self.alpha if alpha is None else alpha
        crit = stats.norm.ppf(1 - a / 2) if self.test == "z" else stats.t.ppf(1 - a / 2, self.df)
        return pd.DataFrame(
            {"lower": [self.estimate - crit * self.std_error], "upper": [self.estimate + crit * self.std_error]},
            index=["pooled"],
        )

    def summary(self) -> pd.DataFrame:
        """The trials and the pooled effect: ``label``, ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``,
        ``weight``, ``p_value`` (with ratio columns when the estimates are log ratios)."""
        pooled = pd.DataFrame(
            {
                "label": [f"Pooled ({self.method})"],
                "estimate": [self.estimate],
                "std_error": [self.std_error],
                "ci_lower": [self.ci_lower],
                "ci_upper": [self.ci_upper],
                "weight": [100.0],
                "p_value": [self.pvalue],
            }
        )
        out = pd.concat([self.studies, pooled], ignore_index=True)
        if self.ratio:
            for c, src in (
                (self.ratio, "estimate"),
                (f"{self.ratio}_ci_lower", "ci_lower"),
                (f"{self.ratio}_ci_upper", "ci_upper"),
            ):
                out[c] = np.exp(out[src])
        return out

    def _title(self) -> str:
        return f"Meta-analysis of {self.k} trials ({_METHOD_WORDS[self.method]}, {'z' if self.test == 'z' else 'Hartung-Knapp'} test)"

    def _notes(self) -> list[str]:
        level = f"{100 * (1 - self.alpha):g}%"
        lines = [
            f"pooled estimate {self.estimate:.4g} ({level} CI {self.ci_lower:.4g} to {self.ci_upper:.4g}), "
            + (f"z = {self.statistic:.3f}" if self.test == "z" else f"t = {self.statistic:.3f} on {self.df:g} df")
            + f", p = {self.pvalue:.3g}",
            f"heterogeneity: tau^2 = {self.tau2:.4g}, I^2 = {self.i2:.1f}%, H^2 = {self.h2:.3g}, "
            f"Q = {self.q:.3f} on {self.q_df} df (p = {self.q_pvalue:.3g})",
            f"{level} prediction interval for a new trial: {self.pi_lower:.4g} to {self.pi_upper:.4g}",
        ]
        if self.excluded is not None and len(self.excluded):
            lines.append(
                "trials left out: "
                + "; ".join(f"{t} ({r})" for t, r in zip(self.excluded["trial"], self.excluded["reason"]))
            )
        lines.extend(self.notes)
        return lines


def _as_array(values, name: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=float).reshape(-1)
    except (TypeError, ValueError) as e:
        raise InputError(f"meta_analysis: {name} must be numbers, got {values!r}.") from e
    return out


def _check_inputs(y, se, labels):
    if len(y) != len(se):
        raise InputError(
            f"meta_analysis: {len(y)} estimates but {len(se)} standard errors; give one of each per trial."
        )
    if labels is not None and len(labels) != len(y):
        raise InputError(f"meta_analysis: {len(labels)} labels for {len(y)} trials; give one label per trial.")
    names = [str(lab) for lab in labels] if labels is not None else [f"trial {i + 1}" for i in range(len(y))]
    bad = [
        {"trial": n, "estimate": plain(a), "std_error": plain(b)}
        for n, a, b in zip(names, y, se)
        if not (np.isfinite(a) and np.isfinite(b) and b > 0)
    ]
    if bad:
        raise InputError(
            "meta_analysis: every trial needs a finite estimate and a standard error > 0; these do not",
            rows=bad,
            hint="Leave out trials whose model could not be estimated (and say so), or fit them with Firth's method.",
        )
    if len(y) < 2:
        raise InputError(f"meta_analysis: pooling needs at least 2 trials, got {len(y)}.")
    return names


@check_params(
    method=Options(*METHODS),
    test=Options(*TESTS),
    alpha=ALPHA,
    ratio=(Options(None), Instance(str, name="a ratio name such as 'odds_ratio'")),
)
@check_params(
    labels=(Options(None), ListLike("a list of trial names")),
)
def meta_analysis(
    estimates: Sequence[float],
    std_errors: Sequence[float],
    *,
    method: str = "REML",
    test: str = "z",
    alpha: float = 0.05,
    labels: Sequence[str] | None = None,
    ratio: str | None = None,
) -> MetaAnalysisResult:
    """Pool one effect (log odds or log hazard ratios) across trials, as ``metafor::rma(yi, sei=)``.

    Parameters
    ----------
    estimates, std_errors : sequences of float
        Each trial's estimate (on the log scale for ratios) and its standard error.
    method : {"REML", "DL", "PM", "FE"}
        Estimator of the between-trial variance tau² (``"FE"``: none, a common effect).
    test : {"z", "knha"}
        Normal test and interval, or Hartung-Knapp's t on ``k - 1`` df (recommended with
        few trials: the z interval is too narrow when tau² is estimated from 3-5 trials).
    alpha : float
        ``1 - level`` of the confidence and prediction intervals.
    labels : sequence of str, optional
        Trial names (for tables and the forest plot).
    ratio : str, optional
        ``"odds_ratio"``, ``"hazard_ratio"``, ...: the estimates are log ratios;
        ``summary()`` adds the ratio and :func:`immune_correlates.plots.forest` draws it.

    Returns
    -------
    MetaAnalysisResult
        ``estimate``, ``std_error``, ``ci_lower``, ``ci_upper``, ``pvalue``, ``tau2``, ``i2``
        (percent), ``h2``, ``q``, ``q_pvalue``, ``pi_lower``, ``pi_upper``, ``studies`` (with
        percent weights).

    Raises
    ------
    InputError
        Fewer than 2 trials, lengths that differ, a missing or non-finite estimate, or a
        standard error that is not positive (the trials are named).

    Notes
    -----
    See the module docstring for the formulas; they are those of metafor 3.8 (``rma.uni``),
    with tau² solved to machine precision.  With 2-5 trials tau² is poorly estimated: read the
    prediction interval and prefer ``test="knha"``.

    References
    ----------
    DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. *Control Clin Trials* 7:177-188.
    Paule RC, Mandel J (1982). Consensus values and weighting factors. *J Res Natl Bur Stand* 87:377-385.
    Viechtbauer W (2005). Bias and efficiency of meta-analytic variance estimators in the
    random-effects model. *J Educ Behav Stat* 30:261-293.
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. *J Stat Softw* 36(3).
    Hartung J, Knapp G (2001). On tests of the overall treatment effect in meta-analysis with
    normally distributed responses. *Stat Med* 20:1771-1782.
    Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a meta-analysis. *Stat Med* 21:1539-1558.

    Examples
    --------
    >>> import immune_correlates as ic
    >>> res = ic.meta_analysis([0.41, 0.92, 0.25], [0.30, 0.45, 0.38], labels=["A", "B", "C"], ratio="odds_ratio")
    >>> round(res.estimate, 4), round(res.tau2, 4), round(res.i2, 1)
    (0.4714, 0.0, 0.0)
    >>> res.summary()["label"].tolist()
    ['A', 'B', 'C', 'Pooled (REML)']
    """
    y = _as_array(estimates, "estimates")
    se = _as_array(std_errors, "std_errors")
    names = _check_inputs(y, se, labels)
    v = se**2
    k = len(y)
    tau2 = tau2_estimate(y, v, method)
    w = 1.0 / (v + tau2)
    mu = _wmean(y, w)
    wf = 1.0 / v
    q = float(np.sum(wf * (y - _wmean(y, wf)) ** 2))
    se_mu, df, crit, p = _pooled_test(y, w, mu, test, alpha)
    i2, h2 = _heterogeneity(q, wf, tau2, method)
    half_pi = crit * math.sqrt(se_mu**2 + tau2)
    z = float(stats.norm.ppf(1 - alpha / 2))
    studies = pd.DataFrame(
        {
            "label": names,
            "estimate": y,
            "std_error": se,
            "ci_lower": y - z * se,
            "ci_upper": y + z * se,
            "weight": 100.0 * w / np.sum(w),
            "p_value": 2 * stats.norm.sf(np.abs(y / se)),
        }
    )
    notes = (
        ("Hartung-Knapp's adjustment is meant for random-effects models",)
        if (test == "knha" and method == "FE")
        else ()
    )
    return MetaAnalysisResult(
        estimate=mu,
        std_error=se_mu,
        ci_lower=mu - crit * se_mu,
        ci_upper=mu + crit * se_mu,
        statistic=mu / se_mu,
        pvalue=p,
        df=df,
        tau2=tau2,
        i2=float(i2),
        h2=float(h2),
        q=q,
        q_df=k - 1,
        q_pvalue=float(stats.chi2.sf(q, k - 1)),
        pi_lower=mu - half_pi,
        pi_upper=mu + half_pi,
        k=k,
        method=method,
        test=test,
        alpha=alpha,
        studies=studies,
        ratio=ratio,
        notes=notes,
    )
