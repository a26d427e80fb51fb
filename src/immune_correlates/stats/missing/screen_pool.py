"""A screen of many features on multiply imputed data: each completed data set screened, then Rubin's rules.

``screen`` (one family up) starts with::

    if isinstance(data, ImputedData):
        return screen_imputed(screen, locals())

Every feature's coefficient is pooled over the ``m`` screens as ``mice::pool`` would pool
that feature's model (complete-data df: ``n - p`` logistic, ``max(events - p, 1)`` Cox),
then the pooled p-values are adjusted for multiplicity.  Intervals and p-values are both
from the pooled estimate / ``sqrt(T)`` on Barnard-Rubin df (profile intervals and bootstrap
intervals have no pooled form under Rubin's rules).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import ParameterError
from ...multiplicity import adjust_pvalues
from ..engine.rubin import rubin_rules
from ..regression.design_matrix import expand_covariates, screen_terms
from ..regression.imputed import PROFILE_NOTE, fit_each

__all__ = ["screen_imputed"]

_POOLED = ["estimate", "std_error", "ci_lower", "ci_upper", "p_value"]


def _n_coefficients(args: dict, frame: pd.DataFrame) -> int:
    """Coefficients of each screened model: the feature, the covariates' model columns (and the intercept)."""
    if args.get("formula") is not None:
        _, outcome, _, _, covs = screen_terms(frame, args["formula"], given=(None, None, None, ()))
    else:
        outcome = args.get("outcome")
        _, covs = expand_covariates(frame, args.get("covariates") or ())
    return 1 + len(covs) + (1 if outcome is not None else 0)


def screen_imputed(screen: Callable, args: dict) -> pd.DataFrame:
    """``screen`` on every completed data set of ``args["data"]``, pooled per feature (see the module docstring)."""
    if int(args.get("n_boot") or 0) > 0:
        raise ParameterError(
            "screen: n_boot > 0 is not available on imputed data: bootstrap intervals have no pooled form "
            "under Rubin's rules. Use n_boot=0 (pooled intervals on Barnard-Rubin df)."
        )
    imputed = args["data"]
    tables, notes = fit_each(screen, args, override={"ci": "wald", "adjust": "none", "progress": False})
    m = len(tables)
    first = tables[0]
    p = _n_coefficients(args, imputed.completed(0))
    ratio = "odds_ratio" if "odds_ratio" in first.columns else "hazard_ratio"
    q = np.column_stack([t["estimate"].to_numpy(float) for t in tables]).T  # (m, features)
    u = np.column_stack([t["std_error"].to_numpy(float) for t in tables]).T ** 2
    events = first["n_events"].to_numpy(float)
    n = first["n"].to_numpy(float)
    dfcom = np.maximum(events - p, 1.0) if ratio == "hazard_ratio" else np.maximum(n - p, 1.0)
    cols = {k: np.full(len(first), np.nan) for k in ("df", "riv", "lambda", "fmi", "ubar", "b", "t")}
    est = np.full(len(first), np.nan)
    for j in range(len(first)):
        if np.all(np.isfinite(q[:, j])) and np.all(np.isfinite(u[:, j])):
            r = rubin_rules(q[:, [j]], u[:, [j]], dfcom[j])
            est[j] = r.estimate[0]
            for key, val in zip(cols, (r.df, r.riv, r.lambda_, r.fmi, r.ubar, r.b, r.t)):
                cols[key][j] = val[0]
    se = np.sqrt(cols["t"])
    alpha = args.get("alpha", 0.05)
    with np.errstate(invalid="ignore"):
        crit = stats.t.ppf(1 - alpha / 2, np.maximum(cols["df"], 0.001))
        pval = 2 * stats.t.sf(np.abs(est / se), np.maximum(cols["df"], 0.001))
    out = first.copy()
    out["estimate"], out["std_error"] = est, se
    out["ci_lower"], out["ci_upper"] = est - crit * se, est + crit * se
    with np.errstate(over="ignore", invalid="ignore"):
        out[ratio] = np.exp(est)
        out[f"{ratio}_ci_lower"] = np.exp(out["ci_lower"])
        out[f"{ratio}_ci_upper"] = np.exp(out["ci_upper"])
    out["p_value"] = pval
    out["q_value"] = adjust_pvalues(pval, method=args.get("adjust", "fdr_bh"))
    out["method"] = [
        "/".join(sorted({t["method"].iloc[j] for t in tables})) for j in range(len(first))
    ]  # Firth in some imputations under model="auto"
    out["test"] = "rubin"
    if "ci_method" in out:
        out["ci_method"] = "rubin"
    out["converged"] = np.logical_and.reduce([t["converged"].to_numpy(bool) for t in tables])
    for key, val in cols.items():
        out[key] = val
    out["m"] = m
    extra = [PROFILE_NOTE] if args.get("ci") == "profile" else []
    note = []
    for j in range(len(first)):
        parts = sorted({t["note"].iloc[j] for t in tables if t["note"].iloc[j]})
        if not np.isfinite(est[j]) and not parts:
            parts = ["not estimable in every completed data set"]
        note.append("; ".join(parts))
    out["note"] = note
    out.attrs["notes"] = tuple(extra + notes + [f"pooled over {m} imputations by Rubin's rules"])
    return out
