"""ROC curve and the area under it with DeLong or Hanley-McNeil intervals.

How well does one baseline feature (or a model's fitted probability) rank
the patients who respond above those who do not?  The area under the ROC
curve is the Mann-Whitney probability ``P(score_pos > score_neg) + P(tie)/2``;
its standard error is DeLong's structural-components estimate (the default,
as R ``pROC::ci.auc(method="delong")``) or Hanley & McNeil's exponential
approximation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._missing import complete_cases, row_ids
from ..._params import ALPHA, MISSING, Instance, Options, check_params
from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError
from ..engine.discrimination import auc_batch

__all__ = ["roc_curve", "RocResult", "delong_placements", "hanley_mcneil_se"]

CI_METHODS = ("delong", "hanley_mcneil")


def _midranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, method="average")


def delong_placements(pos: np.ndarray, neg: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """AUC and DeLong's placement values (structural components).

    ``V10[i]`` is the fraction of negatives that positive ``i`` scores above
    (ties 1/2); ``V01[j]`` the fraction of positives scoring above negative
    ``j``.  Computed from mid-ranks (Sun & Xu 2014) in O(n log n).  The AUC
    (the mean of ``V10``) comes from :func:`~immune_correlates.stats.engine.discrimination.auc_batch`,
    the package's one AUC.

    Returns
    -------
    auc, v10, v01
    """
    m, n = pos.size, neg.size
    r_all = _midranks(np.concatenate([pos, neg]))
    v10 = (r_all[:m] - _midranks(pos)) / n
    v01 = 1.0 - (r_all[m:] - _midranks(neg)) / m
    auc = auc_batch(np.concatenate([pos, neg]), np.r_[np.ones(m), np.zeros(n)])[0]
    return float(auc), v10, v01


def hanley_mcneil_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC.

    ``SE^2 = [A(1-A) + (n1-1)(Q1-A^2) + (n0-1)(Q2-A^2)] / (n1 n0)`` with
    ``Q1 = A/(2-A)`` and ``Q2 = 2A^2/(1+A)``.
    """
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc**2 / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(np.sqrt(max(var, 0.0)))


def _curve(score: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Every operating point: calling ``score >= threshold`` positive."""
    order = np.argsort(-score, kind="mergesort")
    s, yy = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # last index of each distinct score
    tp = np.cumsum(yy)[last]
    fp = np.cumsum(1 - yy)[last]
    n_pos, n_neg = yy.sum(), (1 - yy).sum()
    return pd.DataFrame(
        {
            "threshold": np.r_[np.inf, s[last]],
            "fpr": np.r_[0.0, fp / n_neg],
            "tpr": np.r_[0.0, tp / n_pos],
            "tp": np.r_[0, tp].astype(int),
            "fp": np.r_[0, fp].astype(int),
        }
    )


@dataclass(frozen=True, repr=False)
class RocResult(ResultDisplay):
    """ROC analysis of one score against a binary outcome.

    Attributes
    ----------
    curve : DataFrame
        ``threshold`` (descending, starting at ``inf``), ``fpr``, ``tpr``,
        ``tp``, ``fp``: the operating point of calling ``score >= threshold``
        positive, one row per distinct score (as
        ``sklearn.metrics.roc_curve(drop_intermediate=False)``).  With
        ``higher_is_positive=False`` the rule is ``score <= threshold`` and
        thresholds ascend from ``-inf``.
    auc, se, ci_lower, ci_upper : float
        Area, its standard error and interval (clipped to [0, 1]).
    ci_method : str
        ``"delong"`` or ``"hanley_mcneil"``.
    alpha : float
    n_positive, n_negative : int
    outcome, score : str
        Column names.
    excluded : DataFrame
        Patients left out for missing values.
    """

    curve: pd.DataFrame
    auc: float
    se: float
    ci_lower: float
    ci_upper: float
    ci_method: str
    alpha: float
    n_positive: int
    n_negative: int
    outcome: str = ""
    score: str = ""
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """One row: score, n, AUC, SE and interval."""
        return pd.DataFrame(
            [
                {
                    "score": self.score,
                    "outcome": self.outcome,
                    "n_positive": self.n_positive,
                    "n_negative": self.n_negative,
                    "auc": self.auc,
                    "std_error": self.se,
                    "ci_lower": self.ci_lower,
                    "ci_upper": self.ci_upper,
                    "ci_method": self.ci_method,
                }
            ]
        )

    def _title(self) -> str:
        return f"ROC of {self.score} for {self.outcome}: AUC = {self.auc:.3f}"

    def _notes(self) -> list[str]:
        notes = [f"{100 * (1 - self.alpha):g}% interval: {self.ci_method}; higher score = more likely positive."]
        if len(self.excluded):
            notes.append(f"{len(self.excluded)} patient(s) excluded for missing values.")
        return notes


@check_params(
    ci=Options(*CI_METHODS), alpha=ALPHA, higher_is_positive=Instance(bool, name="True or False"), missing=MISSING
)
def roc_curve(
    data: pd.DataFrame,
    outcome: str,
    score: str,
    *,
    ci: str = "delong",
    alpha: float = 0.05,
    higher_is_positive: bool = True,
    missing: str = "drop",
) -> RocResult:
    """ROC curve of ``score`` for a 0/1 ``outcome`` with the AUC and its interval.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        0/1 (or boolean) column; 1 is the positive class (e.g. ``cr``).
    score : str
        Numeric column: a feature or a fitted probability.
    ci : {"delong", "hanley_mcneil"}
        Standard error of the AUC: DeLong et al. (1988) structural components
        (exact for the Mann-Whitney statistic, handles ties), or Hanley &
        McNeil (1982), which assumes exponential score distributions.
    alpha : float
        One minus the level of the Wald interval ``AUC -/+ z SE``, clipped to
        [0, 1] as pROC does.
    higher_is_positive : bool
        Whether higher scores point to the positive class.  ``False`` negates
        the score (the direction is never guessed from the data, which would
        bias the AUC upwards).
    missing : {"drop", "raise"}
        Handling of incomplete rows.

    Returns
    -------
    RocResult

    Notes
    -----
    Hanley & McNeil (1982), *Radiology* 143:29; DeLong, DeLong &
    Clarke-Pearson (1988), *Biometrics* 44:837; Sun & Xu (2014), *IEEE Signal
    Process Lett* 21:1389 (the mid-rank algorithm).  The AUC equals
    ``sklearn.metrics.roc_auc_score`` and ``W / (n1 n0)`` of R's
    ``wilcox.test``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [0, 0, 1, 1], "s": [0.1, 0.4, 0.35, 0.8]})
    >>> roc_curve(df, "y", "s").auc
    0.75
    """
    caller = "roc_curve"
    kept, excluded = complete_cases(data, [outcome, score], missing=missing, numeric=[outcome, score], caller=caller)
    ids = row_ids(kept)
    y = pd.to_numeric(kept[outcome]).to_numpy(dtype=float)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        listing = ", ".join(f"{ids.iloc[i]}={y[i]:g}" for i in np.flatnonzero(bad)[:10])
        raise ImmuneCorrelatesError(
            f"{caller}: outcome column {outcome!r} must be 0/1; got {listing}. Recode it (1 = positive) and call again."
        )
    s = pd.to_numeric(kept[score]).to_numpy(dtype=float)
    if not higher_is_positive:
        s = -s
    pos, neg = s[y == 1], s[y == 0]
    if pos.size == 0 or neg.size == 0:
        raise ImmuneCorrelatesError(
            f"{caller}: outcome {outcome!r} needs both classes among complete rows; "
            f"got {pos.size} positive and {neg.size} negative."
        )
    auc, v10, v01 = delong_placements(pos, neg)
    if ci == "delong":
        var10 = v10.var(ddof=1) if pos.size > 1 else 0.0
        var01 = v01.var(ddof=1) if neg.size > 1 else 0.0
        se = float(np.sqrt(var10 / pos.size + var01 / neg.size))
    else:
        se = hanley_mcneil_se(auc, pos.size, neg.size)
    z = stats.norm.ppf(1 - alpha / 2)
    curve = _curve(s, y)
    if not higher_is_positive:
        curve["threshold"] = -curve["threshold"]
    return RocResult(
        curve=curve,
        auc=auc,
        se=se,
        ci_lower=float(max(auc - z * se, 0.0)),
        ci_upper=float(min(auc + z * se, 1.0)),
        ci_method=ci,
        alpha=alpha,
        n_positive=int(pos.size),
        n_negative=int(neg.size),
        outcome=outcome,
        score=score,
        excluded=excluded,
    )
