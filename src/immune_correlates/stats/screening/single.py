"""Per-feature single fits, for what the batched engine does not compute (profile intervals)."""

from __future__ import annotations

import warnings

import numpy as np

from ..engine.parallel import run_chunks

__all__ = ["profile_rows"]


def _one(args):
    rows, feature, family, firth, outcome, duration, event, covariates, alpha = args
    from ..regression.cox import fit_cox
    from ..regression.logistic import fit_logistic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "logistic":
            res = fit_logistic(
                rows, outcome, [feature, *covariates], method="firth" if firth else "ml", ci="profile", alpha=alpha
            )
        else:
            res = fit_cox(
                rows,
                duration,
                event,
                [feature, *covariates],
                method="firth" if firth else "ml",
                ci="profile",
                alpha=alpha,
            )
    ci = res.conf_int()
    return float(ci.loc[feature, "lower"]), float(ci.loc[feature, "upper"]), float(res.pvalues[feature])


def profile_rows(rows, features, idx, family, firth, outcome, duration, event, covariates, alpha, n_jobs=1):
    """``(lower, upper, p_value)`` of each feature ``idx`` from :func:`fit_logistic` / :func:`fit_cox`
    with ``ci="profile"`` (likelihood-ratio p-values), fitted on that feature's complete cases."""
    tasks = []
    for j in np.asarray(idx):
        f = features[j]
        sub = rows.loc[rows[f].notna()]
        tasks.append((sub, f, family, bool(firth[j]), outcome, duration, event, list(covariates), alpha))
    return run_chunks(_one, tasks, n_jobs=n_jobs)
