"""The rows a Cox model is fitted to: :func:`~.cox.fit_cox`'s input, prepared and checked.

Complete rows and the design from the one design-matrix layer (:func:`.design_matrix.model_data`),
the survival, weight and entry columns checked by :mod:`immune_correlates._checks`, and the design
refused with a reason before any fit (no events, fewer patients than coefficients, a constant or
collinear covariate).  The fit, its inference and the result are assembled in :mod:`.cox`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..._checks import case_weights, entry_times, survival_arrays
from ..._missing import row_ids
from ...errors import FormulaError, ModelError
from .design_matrix import Design, model_data


class _CoxInput(NamedTuple):
    rows: pd.DataFrame
    excluded: pd.DataFrame
    design: Design
    time: np.ndarray
    status: np.ndarray
    w: np.ndarray | None
    entry: np.ndarray | None
    strata: list[str]
    cluster: str | None


def _codes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    if not columns:
        return np.zeros(len(frame), dtype=np.int64)
    return frame.groupby(list(columns), sort=True, dropna=False).ngroup().to_numpy(np.int64)


def _check_design(
    x: np.ndarray, covariates: list[str], status: np.ndarray, w: np.ndarray | None, describe=repr
) -> None:
    """Events, more patients than coefficients, no constant and no collinear covariate."""
    dead = status * (1.0 if w is None else w)
    if not np.any(dead > 0):
        raise ModelError(
            "fit_cox: there are no events among the rows used, so no Cox model can be fitted. "
            "Check the event coding (1 = event) or use a longer follow-up."
        )
    used = int(np.sum((np.ones(len(status)) if w is None else w) > 0))
    if used <= len(covariates):
        raise ModelError(
            f"fit_cox: {used} row(s) for {len(covariates)} coefficient(s) ({', '.join(covariates)}); a Cox "
            "model needs more patients than coefficients. Fit fewer covariates or include more patients."
        )
    const = [describe(c) for c, col in zip(covariates, x.T) if np.ptp(col) == 0]
    if const:
        raise ModelError(
            f"fit_cox: covariate(s) {', '.join(const)} take a single value among the rows used; "
            "a constant has no hazard ratio. Drop them from `covariates`."
        )
    xc = x - x.mean(axis=0)
    gram = xc.T @ xc
    scale = 1.0 / np.sqrt(np.diag(gram))
    if np.linalg.eigvalsh(gram * np.outer(scale, scale))[0] <= 1e-10:
        raise ModelError(
            f"fit_cox: covariates {covariates} are collinear (one is a linear combination of "
            "others); drop or merge the redundant ones."
        )


def _prepare(data, duration, event, covariates, formula, strata, cluster, weights, entry, missing) -> _CoxInput:
    """Complete rows and the design (one layer for columns and formulas), checked survival columns."""
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if formula is None and not covariates:
        raise ModelError("fit_cox: give at least one covariate.")
    md = model_data(
        data,
        formula=formula,
        response=[duration, event],
        covariates=covariates,
        kind="cox",
        missing=missing,
        caller="fit_cox",
        strata=[strata] if isinstance(strata, str) else list(strata or []),
        cluster=cluster,
        extra=[c for c in (weights, entry) if c],
        numeric=[c for c in (weights, entry) if c],
        numeric_response=True,
    )
    if len(md.response) == 3:
        if entry is not None:
            raise FormulaError("fit_cox: give entry= or Surv(entry, duration, event), not both.")
        entry, duration, event = md.response
    else:
        duration, event = md.response
    design = md.design.without_intercept()
    if not design.names:
        raise ModelError("fit_cox: the formula has no covariates; give at least one.")
    rows = md.rows
    ids = row_ids(rows).reset_index(drop=True)
    time, status = survival_arrays(rows, ids, duration, event, "fit_cox")
    w = None if weights is None else case_weights(rows[weights], weights, "fit_cox", ids)
    t_entry = None if entry is None else entry_times(rows[entry], entry, time, duration, "fit_cox", ids)
    _check_design(design.X, list(design.names), status, w, design.describe)
    return _CoxInput(rows, md.excluded, design, time, status, w, t_entry, list(md.strata), md.cluster)
