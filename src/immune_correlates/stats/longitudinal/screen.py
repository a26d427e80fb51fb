"""Screen many features over time: one linear mixed model per feature, fitted together.

``screen(long, features, model="mixed", formula="~ day * responder + (1 |
patient_id)", term="day:responder")`` fits ``feature ~ day * responder + (1 |
patient_id)`` for every feature and reports the term's t-test.  Features
observed on the same rows share the fixed and random design, so ``Z'Z``,
``Z'X`` and ``X'X`` are formed once and only ``Z'y``, ``X'y`` and ``y'y``
change: the deviance, its exact gradient and Hessian, the Newton steps and
Satterthwaite's df are evaluated for all of them at once (:mod:`._lmm`).
Features with missing values are grouped by the rows they lack; each group
is fitted on its own rows.  Every row equals :func:`fit_mixed` of that feature.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..._missing import complete_cases, row_ids
from ..._params import ALPHA, MISSING, Options, validate
from ...errors import FormulaError, ImmuneCorrelatesError, MissingDataWarning, ParameterError, warn
from ...multiplicity import adjust_pvalues
from ._inference import satterthwaite_t
from ._lmm import build_structure, evaluate, outcomes
from ._optimize import minimise
from ._prepare import MixedModel, prepare
from ._terms import RandomTerm, split_random
from .mixed import SINGULAR_TOL

__all__ = ["screen_mixed"]

#: Column that stands for the screened feature while the designs are built.
_OUTCOME = "_ic_screened_feature"
#: Features fitted together (bounds the memory of the batched arrays).
CHUNK = 256


def _check(data, features, formula, term, unused: dict) -> list[str]:
    given = {k: v for k, v in unused.items() if v not in (None, (), [], 0, False, "wald")}
    if given:
        raise ParameterError(
            f"screen: {sorted(given)} do not apply to model='mixed': each feature is the outcome of the mixed "
            "model in formula= (write the covariates there); leave them out."
        )
    if not isinstance(data, pd.DataFrame):
        raise ImmuneCorrelatesError(f"screen: data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or not formula.strip().startswith("~"):
        raise FormulaError(
            f"screen: with model='mixed' give formula= without a left side (each feature is the outcome), "
            f"e.g. '~ day * responder + (1 | patient_id)'; got {formula!r}."
        )
    if term is None:
        raise ParameterError(
            "screen: with model='mixed' name the fixed-effect column to report, e.g. term='day:responder'."
        )
    features = [features] if isinstance(features, str) else list(features)
    if not features:
        raise ImmuneCorrelatesError("screen: give at least one feature column.")
    dupes = sorted(f for f, k in Counter(features).items() if k > 1)
    if dupes:
        raise ImmuneCorrelatesError(f"screen: feature(s) {dupes} are listed more than once; list each once.")
    columns = set(data.columns)
    absent = [f for f in features if f not in columns]
    if absent:
        raise ImmuneCorrelatesError(f"screen: feature column(s) {absent} not found in data.")
    return features


def _feature_values(rows: pd.DataFrame, features: list[str], missing: str) -> np.ndarray:
    """The features as one float array; a value that is not a number is an error naming column, patient and value."""
    block = rows[features]
    plain = all(
        (pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t)) and not isinstance(t, pd.CategoricalDtype)
        for t in set(block.dtypes)
    )
    Y = block.to_numpy(dtype=float, na_value=np.nan) if plain else None
    if Y is None or np.isinf(Y).any() or (missing == "raise" and np.isnan(Y).any()):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MissingDataWarning)
            complete_cases(rows, features, missing=missing, numeric=features, caller="screen")
        Y = block.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)  # numbers written as text
    return Y


def _subset(model: MixedModel, keep: np.ndarray):
    """Design blocks of the rows ``keep`` (levels left without rows contribute nothing)."""
    X = model.design.X[keep]
    terms = [RandomTerm(t.group, t.columns, t.Z[keep], t.codes[keep], t.levels) for t in model.terms]
    n_groups = {}
    for t in model.terms:
        n_groups.setdefault(t.group, len(np.unique(t.codes[keep])))
    return build_structure(X, terms), n_groups


def _why_not(X: np.ndarray, n_groups: dict) -> str:
    """Why no model can be fitted on these rows ("" when one can)."""
    if X.shape[0] <= X.shape[1] + 1 or np.linalg.matrix_rank(X) < X.shape[1]:
        return "the fixed effects cannot be estimated on the rows with this feature"
    if min(n_groups.values()) < 2:
        return "fewer than 2 groups have a value of this feature"
    return ""


def _fit_group(struct, Y: np.ndarray, col: int, reml: bool, df: str) -> dict:
    """Batched fits of the outcomes ``Y`` (``n x m``) on one design; the coefficient ``col``."""
    m = Y.shape[1]
    l = np.zeros(struct.p)
    l[col] = 1.0
    res = {k: np.full(m, np.nan) for k in ("estimate", "std_error", "df")}
    res["converged"] = np.zeros(m, dtype=bool)
    res["singular"] = np.zeros(m, dtype=bool)
    res["note"] = np.full(m, "", dtype=object)
    diag = struct.on_diagonal()
    for start in range(0, m, CHUNK):
        out = outcomes(struct, Y[:, start : start + CHUNK])
        scale = np.einsum("nm,nm->m", Y[:, start : start + CHUNK], Y[:, start : start + CHUNK])
        flat = out.yty <= 1e-20 * np.maximum(scale, 1e-300)
        idx = start + np.flatnonzero(~flat)
        res["note"][start + np.flatnonzero(flat)] = "the feature is fitted exactly by the fixed effects"
        if idx.size == 0:
            continue
        out = out.take(~flat)
        opt = minimise(struct, out, reml=reml)
        pc = evaluate(struct, out, opt.theta, reml=reml, order=2)
        est, se, dfs = satterthwaite_t(pc, l)
        res["estimate"][idx], res["std_error"][idx] = est, se
        res["df"][idx] = np.full_like(dfs, struct.n - struct.p) if df == "residual" else dfs
        res["converged"][idx] = opt.converged
        res["singular"][idx] = np.any(np.abs(opt.theta[:, diag]) < SINGULAR_TOL, axis=1)
    return res


def screen_mixed(
    data: pd.DataFrame,
    features: str | Sequence[str],
    *,
    formula: str,
    term: str | None,
    adjust: str = "fdr_bh",
    alpha: float = 0.05,
    missing: str = "drop",
    reml: bool = True,
    df: str = "satterthwaite",
    other: tuple = (),
) -> pd.DataFrame:
    """One mixed model per feature (the outcome), the ``term`` coefficient's t-test; see :func:`screen`.

    ``other`` are :func:`screen`'s ``outcome``, ``duration``, ``event``,
    ``covariates``, ``n_boot``, ``ci`` and ``entry``; any set is refused.
    """
    validate("screen", "alpha", alpha, ALPHA)
    validate("screen", "missing", missing, MISSING)
    validate("screen", "df", df, Options("satterthwaite", "residual"))
    names = ("outcome", "duration", "event", "covariates", "n_boot", "ci", "entry")
    features = _check(data, features, formula, term, dict(zip(names, other)))
    model, rows, Y = _design(data, features, formula, term, missing)
    fits = _fit_patterns(model, Y, model.design.names.index(term), reml, df)
    nan = np.isnan(Y)
    ids = row_ids(rows).to_numpy(dtype=object)
    base = list(model.excluded["patient_id"]) if len(model.excluded) else []
    excluded = [base + ids[nan[:, j]].tolist() for j in range(len(features))]
    partial = [f"{f} ({int(k)})" for f, k in zip(features, nan.sum(axis=0)) if k]
    if partial:
        warn(
            f"screen: {len(partial)} feature(s) have missing values and were each fitted on their complete rows: "
            f"{', '.join(partial[:20])}{' ...' if len(partial) > 20 else ''}. The left-out rows are listed per "
            "feature in the `excluded` column.",
            MissingDataWarning,
        )
    return _table(
        features, term, fits, excluded, alpha=alpha, adjust=adjust, method=f"lmm-{'reml' if reml else 'ml'}", df=df
    )


def _design(data: pd.DataFrame, features: list[str], formula: str, term: str, missing: str):
    """The shared model (fixed and random designs on the rows complete in the formula's columns) and the features."""
    _, rhs, _ = split_random("y " + formula.strip(), caller="screen")
    frame = data.set_axis(pd.RangeIndex(len(data)), axis=0)  # positions, whatever the index
    if "patient_id" not in frame.columns:
        frame["patient_id"] = row_ids(data).to_numpy()
    model = prepare(frame.assign(**{_OUTCOME: 0.0}), f"{_OUTCOME} {formula.strip()}", missing=missing, caller="screen")
    used = [f for f in features if f in model.rows.columns and f != "patient_id"]
    if used:
        raise FormulaError(f"screen: {used} are both screened features and columns of the formula; remove them.")
    names = list(model.design.names)
    if term not in names:
        raise FormulaError(
            f"screen: term={term!r} is not a fixed-effect column of {rhs!r}; its columns are {names}.",
            hint="Name one column (a factor level is written as formulaic names it, e.g. 'day:C(arm)[T.b]').",
        )
    rows = frame.loc[model.rows.index]
    return model, rows, _feature_values(rows, features, missing)


def _fit_patterns(model: MixedModel, Y: np.ndarray, col: int, reml: bool, df: str) -> dict:
    """Features grouped by the rows they lack; each group fitted at once on its rows."""
    m = Y.shape[1]
    nan = np.isnan(Y)
    res = {k: np.full(m, np.nan) for k in ("estimate", "std_error", "df")}
    res.update(converged=np.zeros(m, dtype=bool), singular=np.zeros(m, dtype=bool), note=np.full(m, "", dtype=object))
    res.update(n=np.zeros(m, dtype=np.int64), n_groups=np.zeros(m, dtype=np.int64))
    patterns: dict[bytes, list[int]] = {}
    for j in range(m):
        patterns.setdefault(np.packbits(nan[:, j]).tobytes(), []).append(j)
    first_group = model.terms[0].group
    for members in patterns.values():
        keep = ~nan[:, members[0]]
        struct, n_groups = (model.structure, model.n_groups) if keep.all() else _subset(model, keep)
        idx = np.array(members)
        why = _why_not(struct.X, n_groups)
        res["n"][idx], res["n_groups"][idx], res["note"][idx] = int(keep.sum()), n_groups[first_group], why
        if not why:
            fit = _fit_group(struct, Y[keep][:, idx], col, reml, df)
            for k, v in fit.items():
                res[k][idx] = v
    res["note"][res["singular"]] = "singular fit: a variance of the random effects is estimated as 0"
    res["note"][~res["converged"] & (res["note"] == "")] = "the optimiser did not converge"
    return res


def _table(features, term, fits: dict, excluded, *, alpha: float, adjust: str, method: str, df: str) -> pd.DataFrame:
    est, se, dfs = fits["estimate"], fits["std_error"], fits["df"]
    stat = est / se
    pval = 2 * stats.t.sf(np.abs(stat), dfs)
    half = stats.t.ppf(1 - alpha / 2, dfs) * se
    return pd.DataFrame(
        {
            "feature": features,
            "term": term,
            "estimate": est,
            "std_error": se,
            "df": dfs,
            "statistic": stat,
            "ci_lower": est - half,
            "ci_upper": est + half,
            "p_value": pval,
            "q_value": adjust_pvalues(pval, method=adjust),
            "method": method,
            "test": f"t ({df})",
            "n": fits["n"],
            "n_groups": fits["n_groups"],
            "n_excluded": np.array([len(e) for e in excluded], dtype=np.int64),
            "excluded": [", ".join(map(str, e)) for e in excluded],
            "converged": fits["converged"],
            "singular": fits["singular"],
            "note": fits["note"],
        }
    )
