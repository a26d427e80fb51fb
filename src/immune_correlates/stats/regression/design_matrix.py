"""Design matrices of formula models, with R's coding and no silent data loss.

:func:`model_data` takes a formula (parsed and vetted by :mod:`.formula`) or
outcome and covariate column names, keeps the complete rows of the columns the
model uses (listing every patient left out, with the reason), and builds the
model matrix with formulaic: treatment contrasts with the first level the
reference (a pandas categorical keeps its order, other columns sort in
code-point order, R's C locale), booleans as 0/1 columns named as the column,
unused levels dropped.  The :class:`Design` keeps the term structure that
``anova()`` (R's ``drop1``) and summaries need, and turns new data into the
same columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._checks import require_columns, require_frame
from ..._missing import complete_cases, row_ids
from ...errors import FormulaError, InputError, ModelError
from ._design import Design
from .formula import ModelSpec, evaluation_context, parse_formula

__all__ = ["Design", "ModelData", "model_data", "screen_terms", "expand_covariates"]


def _coerce(
    rows: pd.DataFrame, variables: Sequence[str], factor_only: Sequence[str], caller: str, back: dict | None = None
) -> pd.DataFrame:
    """Booleans as 0/1, numbers written as text as numbers, unused categories dropped."""
    back = back or {}
    out = rows.copy()
    for col in variables:
        if col not in out.columns:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s) or str(s.dtype) == "boolean":
            out[col] = s.astype(float)
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.cat.remove_unused_categories()
        elif not pd.api.types.is_numeric_dtype(s) and col not in factor_only:
            values = s.dropna()
            parsed = pd.to_numeric(values, errors="coerce")
            if len(values) and parsed.notna().all():
                out[col] = pd.to_numeric(s, errors="coerce")
            elif parsed.notna().sum() > parsed.isna().sum():
                bad = parsed.index[parsed.isna()]
                name = back.get(col, col)
                ids = row_ids(rows)
                raise InputError(
                    f"{caller}: the column is mostly numbers but has values that are not",
                    column=name,
                    rows=[{"patient_id": ids[i], "value": s[i]} for i in bad],
                    hint="Recode them as numbers (or empty for missing); to treat the column as categories "
                    f"write C({name}) in a formula.",
                )
            else:
                levels = sorted(values.astype(str).unique())
                out[col] = pd.Categorical(s.where(s.isna(), s.astype(str)), categories=levels)
    return out


def _build(rows: pd.DataFrame, spec: ModelSpec, aliases, caller: str) -> Design:
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    frame = _coerce(rows, spec.variables, spec.factor_only, caller, dict(aliases))
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # non-finite results are reported below, by patient
            mm = model_matrix(spec.rhs, frame, context=evaluation_context(), na_action="ignore")
    except (FormulaicError, ValueError, TypeError, KeyError) as e:
        text, what = str(e), repr(spec.formula) if spec.formula else "the covariates"
        for alias, col in aliases:
            text = text.replace(alias, col)
        raise FormulaError(f"{caller}: cannot build the design matrix of {what}: {text}") from e
    mspec = mm.model_spec
    back = dict(aliases)

    def rename(text: str) -> str:
        for alias, col in back.items():
            if text == alias or text.startswith(alias + "["):
                return col + text[len(alias) :]
        return text

    names = tuple(rename(c) for c in mm.columns)
    X = np.asarray(mm, dtype=float)
    _check_finite(X, names, rows, caller)
    references = {}
    for factor, state in mspec.factor_contrasts.items():
        base = getattr(state.contrasts, "base", None)
        ref = state.levels[0] if base is None or type(base).__name__ == "Sentinel" else base
        for name, raw in zip(names, mm.columns):
            if any(part.startswith(f"{factor.expr}[T.") for part in raw.split(":")):
                references[name] = str(ref)
    terms, cols, factors = [], [], []
    for term, sl in mspec.term_slices.items():
        if str(term) == "1":
            continue
        if sl.stop == sl.start:
            raise ModelError(
                f"{caller}: the term {rename(str(term))!r} has no column: its factor takes a single level among "
                f"the {len(rows)} rows used, so it has no effect to estimate (R: 'contrasts can be applied "
                "only to factors with 2 or more levels'). Drop it or check the rows left out."
            )
        terms.append(rename(str(term)))
        cols.append(tuple(range(sl.start, sl.stop)))
        factors.append(frozenset(rename(f.expr) for f in term.factors))
    numeric = tuple(c for c in spec.variables if c in frame.columns and pd.api.types.is_numeric_dtype(frame[c]))
    return Design(X, names, tuple(terms), tuple(cols), tuple(factors), references, mspec, tuple(aliases), numeric)


@dataclass(frozen=True, eq=False)
class ModelData:
    """Complete rows of a model's columns, their design matrix and the rows left out."""

    rows: pd.DataFrame
    excluded: pd.DataFrame
    design: Design
    response: tuple[str, ...]
    strata: tuple[str, ...]
    cluster: str | None


def model_data(
    data: pd.DataFrame,
    *,
    formula: str | None,
    response: Sequence[str | None],
    covariates: Sequence[str],
    kind: str,
    missing: str,
    caller: str,
    strata: Sequence[str] = (),
    cluster: str | None = None,
    extra: Sequence[str] = (),
    numeric: Sequence[str] = (),
    numeric_response: bool = False,
) -> ModelData:
    """Rows used, exclusions and design matrix, from a formula or from column names.

    ``response`` are the outcome columns (ignored with a formula, which gives
    its own); ``extra`` further columns that must be complete (weights);
    ``numeric`` columns that must be numbers (weights); ``numeric_response``
    adds the response columns to them (survival times and events).
    """
    require_frame(data, caller)
    if formula is not None:
        if any(r is not None for r in response) or len(covariates):
            raise FormulaError(f"{caller}: give either formula= or the outcome and covariate columns, not both.")
        spec = parse_formula(formula, list(data.columns), kind=kind, caller=caller)
        aliases: list[tuple[str, str]] = []
        frame = data
    else:
        missing_args = [r for r in response if r is None]
        if missing_args:
            raise InputError(f"{caller}: name the outcome column(s) or give formula=.")
        covs = list(covariates)
        dupes = sorted({c for c in covs if covs.count(c) > 1})
        if dupes:
            raise InputError(f"{caller}: covariates {dupes} are listed more than once; list each once.")
        names = [str(r) for r in response]  # every one given (checked above)
        require_columns(data, [*names, *covs], caller)
        aliases = [(f"_ic_covariate_{i}", c) for i, c in enumerate(covs)]
        rhs = " + ".join(["1", *[a for a, _ in aliases]])
        spec = ModelSpec("", tuple(names), rhs, tuple(a for a, _ in aliases), ())
        frame = data
    strata = [*spec.strata, *strata]
    if spec.cluster is not None and cluster is not None:
        raise FormulaError(f"{caller}: give the cluster in the formula or as cluster=, not both.")
    cluster = spec.cluster or cluster
    back = dict(aliases)
    used = [*spec.response, *spec.variables, *strata, *([cluster] if cluster else []), *extra]
    needed = list(dict.fromkeys(back.get(c, c) for c in used))  # the user's column names
    require_columns(frame, needed, caller)
    # only the model's columns (and the patient ids) travel on: renaming a wide frame is slow
    frame = frame[needed + (["patient_id"] if "patient_id" in frame.columns and "patient_id" not in needed else [])]
    numeric_cols = [*(spec.response if numeric_response else ()), *numeric]
    rows, excluded = complete_cases(
        frame, needed, missing=missing, numeric=[back.get(c, c) for c in numeric_cols], caller=caller
    )  # messages and exclusions name the user's columns, never an internal alias
    design = _numeric_design(rows, aliases, caller) if formula is None else None
    if design is None:  # formulas, text, categorical and nullable columns: formulaic
        if aliases:
            rows = rows.rename(columns={c: a for a, c in aliases})
        design = _build(rows, spec, aliases, caller)
        rows = rows.rename(columns=back) if aliases else rows
    return ModelData(rows, excluded, design, spec.response, tuple(strata), cluster)


#: formulaic's ModelSpec of ``1 + _ic_covariate_0 + ...`` on numeric columns, by number of covariates: it
#: depends on the columns' kind only (numerical), never on their values.
_NUMERIC_SPECS: dict[int, object] = {}


def _numeric_spec(aliases) -> object:
    """The ModelSpec formulaic gives ``1 + <aliases>`` on numeric columns (built once per length, on two rows)."""
    k = len(aliases)
    if k not in _NUMERIC_SPECS:
        from formulaic import model_matrix

        rhs = " + ".join(["1", *[a for a, _ in aliases]])
        probe = pd.DataFrame({a: [0.0, 1.0] for a, _ in aliases}, index=[0, 1])
        _NUMERIC_SPECS[k] = model_matrix(rhs, probe, context=evaluation_context(), na_action="ignore").model_spec
    return _NUMERIC_SPECS[k]


def _plain_number(series: pd.Series) -> bool:
    """A numpy integer, unsigned, float or boolean column: one model column, its values as they are."""
    return isinstance(series.dtype, np.dtype) and series.dtype.kind in "biuf"


def _numeric_design(rows: pd.DataFrame, aliases, caller: str) -> Design | None:
    """The design of ``covariates=`` that are all plain numbers (booleans as 0/1), without formulaic.

    The same Design, bit for bit, as :func:`_build` makes of them (pinned by a test): an
    intercept column of ones, then each column as floats, named as the column; one
    term per column; formulaic's ModelSpec for the same right-hand side; the matrix
    laid out as formulaic's (column-major).  ``None`` when any column needs formulaic.
    """
    columns = [rows[c] for _, c in aliases]
    if not all(_plain_number(s) for s in columns):
        return None
    Xt = np.empty((len(columns) + 1, len(rows)))
    Xt[0] = 1.0
    for j, series in enumerate(columns, start=1):
        Xt[j] = series.to_numpy(dtype=float)
    X = Xt.T
    names = ("Intercept", *[c for _, c in aliases])
    _check_finite(X, names, rows, caller)
    return Design(
        X,
        names,
        tuple(names[1:]),
        tuple((j,) for j in range(1, len(names))),
        tuple(frozenset({c}) for c in names[1:]),
        {},
        _numeric_spec(aliases),
        tuple(aliases),
        tuple(a for a, _ in aliases),
    )


def _check_finite(X: np.ndarray, names, rows: pd.DataFrame, caller: str) -> None:
    """Every model column finite in every row used (np.log of 0, an infinite value), else an error naming them."""
    for j, name in enumerate(names):
        bad = ~np.isfinite(X[:, j])
        if bad.any():
            ids = row_ids(rows)
            raise InputError(
                f"{caller}: the model column {name!r} is not finite for these patients",
                column=name,
                rows=[{"patient_id": ids.iloc[i], "value": X[i, j]} for i in np.flatnonzero(bad)],
                hint="A transform such as np.log of 0 or of a negative value gives this; "
                "transform a shifted value or leave those patients out first.",
            )


def screen_terms(data: pd.DataFrame, formula: str, *, given: Sequence, caller: str = "screen"):
    """Translate ``screen(formula=)`` into ``(data, outcome, duration, event, covariates)``.

    The left side (``cr`` or ``Surv(duration, event)``) gives the outcome
    columns, the right side the adjustment covariates: their model-matrix
    columns (``C(sex)[T.M]``, ``np.log2(age)``) are added to a copy of
    ``data`` (missing where a patient lacks a value the formula uses, so the
    screen leaves that patient out and lists it) and named as covariates.
    """
    if any(g not in (None, (), []) for g in given):
        raise FormulaError(f"{caller}: give formula= or outcome/duration/event/covariates, not both.")
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{caller}: data must be a pandas DataFrame, got {type(data).__name__}.")
    left = formula.split("~", 1)[0] if isinstance(formula, str) else ""
    kind = "cox" if left.strip().startswith("Surv(") else "logistic"
    spec = parse_formula(formula, list(data.columns), kind=kind, caller=caller)
    if spec.strata or spec.cluster:
        raise FormulaError(f"{caller}: strata() and cluster() terms are not available in screen formulas.")
    if len(spec.response) == 3:
        raise FormulaError(f"{caller}: Surv(entry, duration, event) is not yet supported by screen.")
    out, covariates = _add_model_columns(data, spec, (), caller)
    response = list(spec.response)
    if kind == "cox":
        return out, None, response[0], response[1], covariates
    return out, response[0], None, None, covariates


def _add_model_columns(data: pd.DataFrame, spec: ModelSpec, aliases, caller: str):
    """``data`` plus the model-matrix columns of ``spec`` (NaN for rows missing a value they use)."""
    back = dict(aliases)
    originals = [back.get(v, v) for v in spec.variables]
    complete = data[originals].notna().all(axis=1) if originals else pd.Series(True, index=data.index)
    out = data.copy()
    names: list[str] = []
    if complete.any():
        rows = data.loc[complete, originals + (["patient_id"] if "patient_id" in data.columns else [])]
        design = _build(rows.rename(columns={c: a for a, c in aliases}), spec, aliases, caller)
        for j, name in enumerate(design.names):
            if name == "Intercept":
                continue
            if name not in data.columns:
                column = np.full(len(data), np.nan)
                column[complete.to_numpy()] = design.X[:, j]
                out[name] = column
            names.append(name)
    return out, names


def expand_covariates(data: pd.DataFrame, covariates: Sequence[str], *, caller: str = "screen"):
    """Dummy-code the text and categorical columns among ``covariates`` (as the models do).

    Returns ``(data, covariates)`` unchanged when every covariate is numeric or
    boolean; otherwise a copy of ``data`` with the dummy columns added
    (``sex[T.M]``) and the covariate list with each factor replaced by them.
    """
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if not isinstance(data, pd.DataFrame) or not all(c in data.columns for c in covs):
        return data, covs
    if all(pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]) for c in covs):
        return data, covs
    aliases = [(f"_ic_covariate_{i}", c) for i, c in enumerate(covs)]
    spec = ModelSpec("", (), " + ".join(["1", *[a for a, _ in aliases]]), tuple(a for a, _ in aliases), ())
    return _add_model_columns(data, spec, aliases, caller)
