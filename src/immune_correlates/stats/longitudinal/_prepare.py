"""From a data frame and an lme4 formula to the rows used, the fixed design and the random structure."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import FormulaError, InputError, ModelError
from ..engine.linalg import aliased_terms
from ..regression.design_matrix import Design, model_data
from ..regression.formula import parse_formula
from ._lmm import Structure, build_structure
from ._terms import RandomTerm, expand_bars, grouping_columns, random_terms, split_random

__all__ = ["MixedModel", "prepare"]


@dataclass(frozen=True, eq=False)
class MixedModel:
    """What a mixed-model fit needs from the data: rows used, exclusions, designs and blocks."""

    formula: str
    outcome: str
    rows: pd.DataFrame
    excluded: pd.DataFrame
    design: Design
    terms: tuple[RandomTerm, ...]
    structure: Structure

    @property
    def n_groups(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for t in self.terms:
            out.setdefault(t.group, t.nl)
        return out


class _Columns:
    """The columns of a random term's left side taken from the fixed design when they are the same."""

    def __init__(self, X: np.ndarray, names: tuple[str, ...]) -> None:
        self.X, self.names = X, names


def _lhs_variables(left: str, lhs: str, columns: list[str], caller: str) -> tuple[str, ...]:
    """The data columns a random term's left side uses (vetted as a formula: data, not code)."""
    if lhs in ("1", "0 + 1") or lhs in columns:
        return () if lhs in ("1", "0 + 1") else (lhs,)
    return parse_formula(f"{left} ~ {lhs}", columns, kind="linear", caller=caller).variables


@functools.lru_cache(maxsize=256)
def _lhs_terms(lhs: str) -> tuple[str, ...] | None:
    from formulaic import Formula
    from formulaic.errors import FormulaicError

    try:
        return tuple(str(t) for t in Formula(lhs))
    except (FormulaicError, SyntaxError, ValueError):
        return None


def _reused(lhs: str, design: Design) -> _Columns | None:
    """``(1 + day | g)``, ``(0 + day | g)``: numeric fixed-effect columns reused without a second formula pass."""
    terms = _lhs_terms(lhs)
    if terms is None:
        return None
    categorical = {str(f.expr) for f in design.spec.factor_contrasts}
    position = dict(zip(design.terms, design.term_columns))
    cols: list[int] = []
    names: list[str] = []
    X = []
    for t in terms:
        if t == "1":
            X.append(np.ones(design.X.shape[0]))
            names.append("Intercept")
            continue
        i = design.terms.index(t) if t in position else -1
        if i < 0 or design.term_factors[i] & categorical:
            return None
        cols.extend(position[t])
    for j in cols:
        X.append(design.X[:, j])
        names.append(design.names[j])
    return _Columns(np.column_stack(X), tuple(names))


def prepare(data: pd.DataFrame, formula: str, *, missing: str, caller: str) -> MixedModel:
    """Parse ``formula``, keep the complete rows (listing the others) and build the designs."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{caller}: data must be a pandas DataFrame, got {type(data).__name__}.")
    left, fixed_rhs, raw = split_random(formula, caller=caller)
    if not raw:
        raise FormulaError(
            f"{caller}: the formula {formula!r} has no random-effects term.",
            hint="Add one, e.g. '+ (1 | patient_id)' for a random intercept per patient.",
        )
    columns = [str(c) for c in data.columns]
    bars = expand_bars(raw, columns, caller=caller)
    lhs_vars = [v for lhs in dict.fromkeys(b.lhs for b in bars) for v in _lhs_variables(left, lhs, columns, caller)]
    extra = list(dict.fromkeys([*grouping_columns(bars), *lhs_vars]))
    md = model_data(
        data,
        formula=f"{left} ~ {fixed_rhs}",
        response=(None,),
        covariates=(),
        kind="linear",
        missing=missing,
        caller=caller,
        extra=extra,
        numeric_response=True,
    )
    design, rows = md.design, md.rows
    _check_rank(design, caller)
    matrices = {}
    for lhs in dict.fromkeys(b.lhs for b in bars):
        matrices[lhs] = (
            _reused(lhs, design)
            or model_data(
                rows,
                formula=f"{left} ~ {lhs}",
                response=(None,),
                covariates=(),
                kind="linear",
                missing="raise",
                caller=caller,
            ).design
        )
    terms = random_terms(rows, bars, [matrices[b.lhs] for b in bars], caller=caller)
    return MixedModel(
        formula, md.response[0], rows, md.excluded, design, tuple(terms), build_structure(design.X, terms)
    )


def _check_rank(design: Design, caller: str) -> None:
    X = design.X
    if X.shape[1] == 0:
        raise FormulaError(f"{caller}: the model has no fixed effect; keep the intercept (drop '0 +' or '- 1').")
    if np.linalg.matrix_rank(X) < X.shape[1]:
        aliased = aliased_terms(X.T @ X, design.names)
        raise ModelError(
            f"{caller}: the fixed effects {aliased} cannot be told apart among the {X.shape[0]} rows used (a "
            "constant or collinear column, or a factor level with no rows); lme4 would drop columns silently. "
            "Remove or combine these terms and fit again."
        )
