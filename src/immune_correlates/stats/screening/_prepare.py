"""Validation and the batched design of a screen: one block of features, checked once.

:func:`prepare_screen` turns the data, the feature panel and the outcome into
the engine's :class:`~..engine.models.BatchDesign` (complete cases per feature,
missing values as weight-0 rows), and :func:`invalid_models` says, for the
whole panel at once, which features cannot be modelled and why.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..._checks import binary_outcome, entry_times, require_frame, survival_arrays
from ..._missing import complete_cases, row_ids
from ...errors import InputError, MissingDataWarning, ParameterError, warn
from ..engine.models import BatchDesign, make_design

__all__ = ["MODELS", "prepare_screen", "invalid_models"]

#: screen model -> (family, firth); "auto" picks per feature.
MODELS = {
    "logistic": ("logistic", False),
    "firth": ("logistic", True),
    "cox": ("cox", False),
    "firth_cox": ("cox", True),
    "auto": (None, None),
}


def _family(model, outcome, duration, event):
    surv = duration is not None or event is not None
    if surv and (duration is None or event is None):
        raise ParameterError("screen: a survival screen needs both duration= and event= columns.")
    family = MODELS[model][0]
    if family is None:
        if surv == (outcome is not None):
            raise ParameterError(
                "screen: with model='auto' give either outcome= (binary) or duration= and event= (survival)."
            )
        return "cox" if surv else "logistic"
    if family == "logistic" and outcome is None:
        raise ParameterError(f"screen: model={model!r} is a logistic model; give outcome= (a 0/1 column).")
    if family == "cox" and not surv:
        raise ParameterError(f"screen: model={model!r} is a Cox model; give duration= and event= columns.")
    return family


def _feature_block(data: pd.DataFrame, features: list[str]) -> np.ndarray | None:
    """Every feature column as one ``(rows, features)`` float array, converted once.

    ``None`` when a column is missing or duplicated, holds a value that is not
    a number, or an infinite value: the caller then runs the column-by-column
    check, which names the column, patients and values.
    """
    cols = data.columns
    if not cols.is_unique and set(cols[cols.duplicated()]) & set(features):
        return None
    where = dict(zip(cols.tolist(), range(len(cols))))  # faster than pandas' indexer for text labels
    pos = np.array([where.get(f, -1) for f in features], dtype=np.int64)
    if np.any(pos < 0):
        return None
    block = data.take(pos, axis=1)
    kinds = {
        t: (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t))
        and not isinstance(t, pd.CategoricalDtype)
        for t in set(block.dtypes)
    }
    if all(kinds.values()):
        F = block.to_numpy(dtype=float, na_value=np.nan)
    else:  # text or categorical columns: numbers written as text are fine, anything else is an error
        F = np.empty(block.shape)
        for j, (_f, t) in enumerate(zip(features, block.dtypes)):
            col = block.iloc[:, j]
            if kinds[t]:
                F[:, j] = col.to_numpy(dtype=float, na_value=np.nan)
                continue
            conv = pd.to_numeric(col, errors="coerce")
            if (conv.isna() & col.notna()).any():
                return None
            F[:, j] = conv.to_numpy(dtype=float, na_value=np.nan)
    return None if np.isinf(F).any() else F


def prepare_screen(data, features, *, outcome, duration, event, model, covariates, missing, entry=None):
    """Validate, select complete cases per feature and build the batched :class:`BatchDesign`.

    The feature panel is checked as one block (one conversion to a float
    array, 2-D missing and infinite-value masks); only when something is
    wrong are the columns examined one by one, so that the error names the
    column, the patients and the values.

    Returns ``(design, features, ids, excluded_per_feature, base_rows, family)``.
    """
    require_frame(data, "screen")
    family = _family(model, outcome, duration, event)
    features = [features] if isinstance(features, str) else list(features)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    if not features:
        raise InputError("screen: give at least one feature column.")
    if len(set(features)) < len(features):
        dupes = sorted({f for f in features if features.count(f) > 1})
        raise InputError(f"screen: feature(s) {dupes} are listed more than once; list each once.")
    ends = [outcome] if family == "logistic" else [duration, event, *([entry] if entry else [])]
    clash = sorted(set(features) & set(covariates + ends))
    if clash:
        raise InputError(
            f"screen: {clash} are both screened features and outcome/covariate columns; remove them from features."
        )
    base_cols = ends + covariates
    numeric = base_cols if family == "cox" else covariates
    with warnings.catch_warnings(record=True) as held:  # outcome and covariates: numeric, finite (warned below)
        warnings.simplefilter("always", MissingDataWarning)
        rows, base_excl = complete_cases(data, base_cols, missing="drop", numeric=numeric, caller="screen")
    F_all = _feature_block(data, features)
    if F_all is None:  # column by column, for the message naming column, patients and values
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            complete_cases(data, base_cols + features, missing="drop", numeric=numeric + features, caller="screen")
        raise InputError("screen: the feature columns could not be read as numbers.")  # not reached
    keep = np.ones(len(data), dtype=bool) if base_excl.empty else ~data[base_cols].isna().to_numpy().any(axis=1)
    if missing == "raise" and (not keep.all() or np.isnan(F_all).any()):
        complete_cases(data, base_cols + features, missing="raise", caller="screen")
    for w in held:
        warn(str(w.message), w.category)
    ids = row_ids(rows).reset_index(drop=True)
    F = F_all[keep]
    C = rows[covariates].to_numpy(dtype=float) if covariates else None
    if family == "logistic":
        y = binary_outcome(rows[outcome].reset_index(drop=True), ids, outcome, "screen")
        design = make_design("logistic", F, C, y=y)
    else:
        time, status = survival_arrays(rows, ids, duration, event, "screen")
        t_entry = None if entry is None else entry_times(rows[entry], entry, time, duration, "screen", ids)
        design = make_design("cox", F, C, time=time, event=status, entry=t_entry)
    base_ids = list(base_excl["patient_id"]) if len(base_excl) else []
    nan = np.isnan(F)
    n_nan = nan.sum(axis=0)
    id_arr = ids.to_numpy(dtype=object)
    excluded = [base_ids + id_arr[nan[:, j]].tolist() if n_nan[j] else list(base_ids) for j in range(len(features))]
    partial = [f"{features[j]} ({int(n_nan[j])})" for j in np.flatnonzero(n_nan)]
    if partial:
        warn(
            f"screen: {len(partial)} feature(s) have missing values and were each fitted on their complete "
            f"cases: {', '.join(partial[:20])}{' ...' if len(partial) > 20 else ''}. The left-out patients "
            "are listed per feature in the `excluded` column.",
            MissingDataWarning,
        )
    return design, features, ids, excluded, rows, family


def invalid_models(design: BatchDesign) -> np.ndarray:
    """Per feature (object array): why no model can be fitted ("" when it can); all checks on the panel at once."""
    W = design.avail
    X = design.X
    used = W > 0
    n_used = used.sum(axis=1)
    if design.y is not None:  # logistic
        ev = (W * design.y).sum(axis=1)
        nonev = (W * (1 - design.y)).sum(axis=1)
    else:
        ev = (W * design.event).sum(axis=1)
        nonev = np.ones_like(ev)
    feat = X[:, :, design.coef]
    lo = np.min(np.where(used, feat, np.inf), axis=1)
    hi = np.max(np.where(used, feat, -np.inf), axis=1)
    out = np.full(X.shape[0], "", dtype=object)
    out[~(lo < hi)] = "the feature takes a single value among the rows used"
    out[nonev == 0] = "every row used is an event"
    out[ev == 0] = "no events among the rows used"
    out[n_used == 0] = "no patient has a value of this feature (with complete outcome and covariates)"
    p = design.p
    cand = np.flatnonzero(out == "")
    if cand.size and p > (2 if design.family == "logistic" else 1):  # with covariates: rank of the design
        u = used[cand][..., None]
        Xu = np.where(u, X[cand], 0.0)
        if design.family == "cox":
            Xu = np.where(u, Xu - Xu.sum(axis=1, keepdims=True) / n_used[cand][:, None, None], 0.0)
        else:
            norm = np.linalg.norm(Xu, axis=1, keepdims=True)
            Xu = Xu / np.where(norm > 0, norm, 1.0)
        S = np.linalg.svd(Xu, compute_uv=False)  # rows outside the model are 0: same singular values
        tol = S.max(axis=-1) * np.maximum(n_used[cand], p) * np.finfo(float).eps  # as numpy's matrix_rank
        deficient = (tol[:, None] < S).sum(axis=-1) < p
        out[cand[deficient]] = "collinear with the covariates"
    return out
