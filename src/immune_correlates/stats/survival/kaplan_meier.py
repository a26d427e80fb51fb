"""Kaplan-Meier survival curves with Greenwood intervals, as R's ``survfit``.

The curve, its standard error, the pointwise confidence band (``"log"``,
``"log-log"`` or ``"plain"``), the median with its confidence interval and
the restricted mean all follow R ``survival`` 3.5 (``survfit``,
``print.survfit`` / ``summary(fit)$table`` and ``summary(fit, times=)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._checks import check_durations, event_indicator
from ..._missing import complete_cases, row_ids
from ..._params import ALPHA, MISSING, Options, check_params
from ..._results import ResultDisplay
from ...errors import ImmuneCorrelatesError

__all__ = ["kaplan_meier", "KaplanMeierResult", "group_levels"]

CONF_TYPES = ("log", "log-log", "plain")
_TOL = np.sqrt(np.finfo(float).eps)  # survival's tolerance in print.survfit


def group_levels(series: pd.Series) -> list:
    """Group labels in analysis order: category order if categorical, else sorted."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    return sorted(series.dropna().unique().tolist())


def _curve(time: np.ndarray, event: np.ndarray) -> dict[str, np.ndarray]:
    """Product-limit estimate at every distinct time (event or censoring)."""
    utime, inverse = np.unique(time, return_inverse=True)
    n_event = np.bincount(inverse, weights=event, minlength=utime.size)
    n_total = np.bincount(inverse, minlength=utime.size).astype(float)
    n_risk = n_total[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - n_event / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        inc = np.where(n_event > 0, n_event / (n_risk * (n_risk - n_event)), 0.0)
    std_err = np.sqrt(np.cumsum(inc))
    return {
        "time": utime,
        "n_risk": n_risk,
        "n_event": n_event,
        "n_censor": n_total - n_event,
        "survival": surv,
        "std_err": std_err,
    }


def _band(surv: np.ndarray, se: np.ndarray, conf_type: str, alpha: float):
    """survival's ``survfit_confint``: pointwise band from the log-scale SE."""
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "plain":
            half = z * se * surv
            lower = np.maximum(surv - half, 0.0)
            upper = np.minimum(surv + half, 1.0)
            nan = np.isnan(half)
            lower[nan] = np.nan
            upper[nan] = np.nan
        elif conf_type == "log":
            xx = np.where(surv == 0, np.nan, surv)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        else:  # log-log
            xx = np.where((surv == 0) | (surv == 1), np.nan, surv)
            half = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - half))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + half))
    return lower, upper


def _first_below_half(y: np.ndarray, x: np.ndarray) -> float:
    """survival's ``minmin``: median rule of ``print.survfit``.

    The first time the curve is at or below 0.5; when it equals 0.5 (within
    ``sqrt(eps)``) on a flat segment that later drops, the midpoint of that
    segment's start and the time of the drop.
    """
    keep = ~np.isnan(y) & (y < 0.5 + _TOL)
    if not keep.any():
        return np.nan
    xs, ys = x[keep], y[keep]
    if abs(ys[0] - 0.5) < _TOL and (ys < ys[0]).any():
        return (xs[0] + xs[np.argmax(ys < ys[0])]) / 2.0
    return float(xs[0])


def _restricted_mean(t, surv, n_risk, n_event, end):
    """Restricted mean survival up to ``end`` and its SE, as ``survmean``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hh = np.where(n_risk - n_event == 0, 0.0, n_event / (n_risk * (n_risk - n_event)))
    keep = t <= end
    if not keep.any():
        return float(end), 0.0
    tt = np.append(t[keep], end)
    ss = np.append(surv[keep], surv[keep][-1])
    hh = np.append(hh[keep], 0.0)
    start = min(0.0, t.min())
    rect = np.diff(np.concatenate([[start], tt])) * np.concatenate([[1.0], ss[:-1]])
    area_after = np.cumsum(rect[1:][::-1])[::-1]  # area from t_j to end, j = 1..n-1
    var = np.sum(area_after**2 * hh[:-1])
    return float(rect.sum() + start), float(np.sqrt(var))


@dataclass(frozen=True, repr=False)
class KaplanMeierResult(ResultDisplay):
    """Kaplan-Meier estimate, one curve per group.

    Attributes
    ----------
    table : DataFrame
        One row per group and distinct time (event or censoring): ``group``,
        ``time``, ``n_risk``, ``n_event``, ``n_censor``, ``survival``,
        ``std_err`` (Greenwood standard error of the cumulative hazard
        ``-log S``, which is what ``survfit``'s ``std.err`` holds; multiply by
        ``survival`` for the SE of the survival probability), ``ci_lower``,
        ``ci_upper``.  Bands are NaN where R gives NA (survival 0; survival 1
        for ``"log-log"``).
    groups : list
        Group labels in order.
    conf_type, alpha : str, float
        Band transformation and level.
    excluded : DataFrame
        Patients left out for missing values.
    """

    table: pd.DataFrame
    groups: list
    conf_type: str
    alpha: float
    group_column: str | None = None
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def _rows(self, g) -> pd.DataFrame:
        return self.table[self.table["group"] == g]

    def median(self) -> pd.DataFrame:
        """Median survival per group with its confidence interval.

        As ``print.survfit``: the first time the curve reaches 0.5 or below
        (the midpoint of a flat segment at exactly 0.5); the interval ends
        are the times the lower and upper bands reach 0.5 (NaN if never).
        """
        rows = []
        for g in self.groups:
            r = self._rows(g)
            t = r["time"].to_numpy()
            rows.append(
                {
                    "group": g,
                    "median": _first_below_half(r["survival"].to_numpy(), t),
                    "ci_lower": _first_below_half(r["ci_lower"].to_numpy(), t),
                    "ci_upper": _first_below_half(r["ci_upper"].to_numpy(), t),
                }
            )
        return pd.DataFrame(rows).set_index("group")

    def restricted_mean(self, tau: float | None = None) -> pd.DataFrame:
        """Restricted mean survival time per group, as ``print(fit, rmean=)``.

        ``tau=None`` integrates each curve to its own last time
        (``rmean="individual"``); a number integrates every curve to ``tau``.
        Returns ``rmean`` and ``se_rmean`` indexed by group.
        """
        rows = []
        for g in self.groups:
            r = self._rows(g)
            t = r["time"].to_numpy()
            end = t.max() if tau is None else float(tau)
            m, se = _restricted_mean(t, r["survival"].to_numpy(), r["n_risk"].to_numpy(), r["n_event"].to_numpy(), end)
            rows.append({"group": g, "tau": end, "rmean": m, "se_rmean": se})
        return pd.DataFrame(rows).set_index("group")

    def survival_at(self, times: Sequence[float], extend: bool = False) -> pd.DataFrame:
        """Survival and band at given times, as ``summary(fit, times=)``.

        Step-function lookup (the estimate at the last time <= t; 1 before
        the first time).  Times after a group's last observed time give NaN
        unless ``extend=True``, which carries the last value forward as
        ``summary(fit, times=, extend=TRUE)`` does (R drops such rows when
        ``extend=FALSE``; here they stay, as NaN, so every group has every time).
        """
        grid = np.atleast_1d(np.asarray(times, dtype=float))
        out = []
        for g in self.groups:
            r = self._rows(g)
            t = r["time"].to_numpy()
            idx = np.searchsorted(t, grid, side="right") - 1
            cols = {}
            for c in ("survival", "ci_lower", "ci_upper"):
                v = r[c].to_numpy()
                vals = np.where(idx >= 0, v[np.maximum(idx, 0)], 1.0)
                if not extend:
                    vals = np.where(grid > t.max(), np.nan, vals)
                cols[c] = vals
            out.append(pd.DataFrame({"group": [g] * grid.size, "time": grid, **cols}))
        return pd.concat(out, ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """Per-group counts, median (with CI) and restricted mean."""
        med = self.median()
        counts = self.table.groupby("group", sort=False).agg(n=("n_risk", "max"), n_events=("n_event", "sum"))
        rm = self.restricted_mean()
        out = pd.concat([counts.reindex(self.groups), med, rm[["rmean", "se_rmean"]]], axis=1)
        out.index.name = "group"
        return out.reset_index()

    def _title(self) -> str:
        return f"Kaplan-Meier estimate ({self.conf_type} CI, level {1 - self.alpha:g})"

    def _notes(self) -> list[str]:
        notes = ["Median and its CI as R print.survfit; std_err is Greenwood on the -log S scale."]
        if len(self.excluded):
            notes.append(f"{len(self.excluded)} patient(s) excluded for missing values.")
        return notes


@check_params(conf_type=Options(*CONF_TYPES), alpha=ALPHA, missing=MISSING)
def kaplan_meier(
    data: pd.DataFrame,
    duration: str,
    event: str,
    group: str | None = None,
    *,
    conf_type: str = "log",
    alpha: float = 0.05,
    missing: str = "drop",
) -> KaplanMeierResult:
    """Kaplan-Meier (product-limit) survival curves with Greenwood bands.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    duration, event : str
        Follow-up time (non-negative) and event indicator (1 event, 0 censored).
    group : str, optional
        Column defining separate curves; ordered by category order if
        categorical, else sorted.
    conf_type : {"log", "log-log", "plain"}
        Scale of the pointwise band, as ``survfit(conf.type=)``.
    alpha : float
        One minus the confidence level.
    missing : {"drop", "raise"}
        Handling of incomplete rows.

    Returns
    -------
    KaplanMeierResult

    Notes
    -----
    Kaplan & Meier (1958), *J Am Stat Assoc* 53:457; Greenwood (1926).
    Matches R ``survival::survfit`` (curve, ``std.err``, bands) and
    ``print.survfit`` (median and its CI) to 1e-10 on ``lung`` and ``ovarian``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 4, 5], "e": [1, 1, 1, 1]})
    >>> kaplan_meier(df, "t", "e").median()["median"].item()
    3.0
    """
    caller = "kaplan_meier"
    cols = [duration, event] + ([group] if group is not None else [])
    kept, excluded = complete_cases(data, cols, missing=missing, numeric=[duration, event], caller=caller)
    if len(kept) == 0:
        raise ImmuneCorrelatesError(f"{caller}: no complete rows in {cols}.")
    ids = row_ids(kept)
    time = pd.to_numeric(kept[duration]).to_numpy(dtype=float)
    check_durations(time, duration, caller, ids)
    ev = event_indicator(kept[event], event, caller, ids)
    if group is None:
        levels = ["all"]
        labels = np.zeros(len(kept), dtype=int)
    else:
        levels = group_levels(kept[group])
        labels = pd.Categorical(kept[group], categories=levels).codes
    parts = []
    for k, g in enumerate(levels):
        sel = labels == k
        cur = _curve(time[sel], ev[sel])
        lo, hi = _band(cur["survival"], cur["std_err"], conf_type, alpha)
        parts.append(pd.DataFrame({"group": [g] * cur["time"].size, **cur, "ci_lower": lo, "ci_upper": hi}))
    table = pd.concat(parts, ignore_index=True)
    return KaplanMeierResult(
        table=table,
        groups=levels,
        conf_type=conf_type,
        alpha=alpha,
        group_column=group,
        excluded=excluded,
    )
