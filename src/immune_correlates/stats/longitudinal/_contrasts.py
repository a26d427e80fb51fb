"""Type III hypotheses of a fixed-effects design, in lmerTest's basis.

A type III test of a term is the Wald test of the term's columns under
sum-to-zero coding of every factor, numeric covariates not centred (SAS's
type III; a main effect under an interaction with a numeric covariate is
tested where that covariate is 0).  The F statistic depends only on that
hypothesis, but Satterthwaite's denominator df of a multi-row test depends on
the rows chosen, so the rows are built as ``lmerTest`` (3.1) builds them
(``get_contrasts_type3``): from the over-parametrised design (every level of
each factor in every term), the treatment-coded columns of the model, each
term's columns made orthogonal to the terms containing it (same numeric
covariates, a superset of the factors), one row per column of the term.  A
model with one term takes lmerTest's type I rows instead (the Doolittle
decomposition of ``X'X``), as lmerTest's ``anova`` does.
"""

from __future__ import annotations

import numpy as np

from ...errors import ModelError
from ..regression.design_matrix import Design

__all__ = ["type3_contrasts"]


def _doolittle_rows(X: np.ndarray) -> np.ndarray:
    """``t(L)`` of lmerTest's ``doolittle(crossprod(X))``: unit upper triangular, entries below 1e-6 zeroed."""
    R = np.linalg.cholesky(X.T @ X).T
    d = np.diag(R)
    out = R / np.where(np.abs(d * d) < 1e-6, np.inf, d)[:, None]
    np.fill_diagonal(out, 1.0)
    out[np.abs(out) < 1e-6] = 0.0
    return out


def _resid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    return y - x @ coef


def type3_contrasts(design: Design, rows, *, caller: str) -> dict[str, np.ndarray]:
    """``{term: L}`` with one row per column of the term (``L beta = 0`` is its type III hypothesis).

    Raises
    ------
    ModelError
        When a factor is coded with other than treatment contrasts (lmerTest's
        rows are built from treatment coding).
    """
    X = design.X
    p = X.shape[1]
    terms = list(design.terms)
    if not terms:
        return {}
    if len(terms) == 1 or p <= 1:
        U = _doolittle_rows(X)
        return {t: U[list(cols)] for t, cols in zip(terms, design.term_columns)}
    categorical = {str(f.expr) for f in design.spec.factor_contrasts}
    if not any(f & categorical for f in design.term_factors):  # numeric terms: the over-parametrised design is X
        return {t: np.eye(p)[list(cols)] for t, cols in zip(terms, design.term_columns)}
    rd, rd_cols = design.overparametrized(rows)
    scale = max(float(np.max(np.abs(X))), 1.0)
    where = {}
    candidates = ([0] if design.names and design.names[0] == "Intercept" else []) + [
        j for cols in rd_cols for j in cols
    ]
    for j in range(p):
        match = [c for c in candidates if np.allclose(rd[:, c], X[:, j], rtol=0, atol=1e-12 * scale)]
        if not match:
            raise ModelError(
                f"{caller}: type III tests are built from treatment-coded factors (as lmerTest builds them), "
                f"but the column {design.names[j]!r} is not a treatment-coded column. Write factors as C(x) or "
                "C(x, Treatment('level')) to get anova()."
            )
        where[j] = match[0]
    L0 = np.linalg.lstsq(X, rd, rcond=None)[0].T  # (rd columns, X columns): rd = X L0'
    L0[np.abs(L0) < 1e-12 * max(1.0, float(np.max(np.abs(L0))))] = 0.0
    factors = list(design.term_factors)
    numerics = [frozenset(f - categorical) for f in factors]
    order = sorted(range(len(terms)), key=lambda i: -len(factors[i]))  # stable: ties keep model order
    for i in order:
        containing = [j for j in range(len(terms)) if factors[i] < factors[j] and numerics[i] == numerics[j] and j != i]
        if containing:
            cols = list(design.term_columns[i])
            other = [c for j in containing for c in design.term_columns[j]]
            L0[:, cols] = _resid(L0[:, cols], L0[:, other])
            L0[np.abs(L0) < 1e-12] = 0.0
    selected = L0[[where[j] for j in range(p)]]  # rows named as X's columns
    out = {}
    for t, cols in zip(terms, design.term_columns):
        L = selected[:, list(cols)].T
        out[t] = L[np.abs(L).sum(axis=1) > 1e-8]
    return out
