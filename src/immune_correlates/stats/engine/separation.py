"""Detect complete and quasi-complete separation before a logistic fit.

Maximum likelihood estimates of a logistic model are finite exactly when no
non-zero direction ``b`` satisfies ``x_i' b >= 0`` for every event and
``x_i' b <= 0`` for every non-event (Albert & Anderson 1984).  Those
directions form a convex cone, the *directions of recession* of the
log-likelihood; Konis (2007) finds them by linear programming.  We solve, with
``b`` boxed in ``[-1, 1]`` (after scaling each column to unit size):

1. ``max sum_i s_i x_i' b`` subject to ``s_i x_i' b >= 0`` (``s_i = +1`` for
   events, ``-1`` otherwise).  A positive optimum means separation.
2. For each coefficient ``k``: ``max b_k`` and ``min b_k`` over the same cone.
   ``b_k`` is infinite exactly when it is not identically zero on the cone;
   its sign is ``+inf`` / ``-inf`` when the cone allows one sign only.
3. ``max t`` subject to ``s_i x_i' b >= t`` for all ``i``: a positive optimum
   means *complete* separation (every row is strictly on its side).

This is the check of ``detectseparation::detect_separation`` (formerly
``brglm2``; the data-frame entry point, :func:`.logistic.detect_separation`,
lives next to the logistic model it serves), made exact about *which* coefficients diverge by solving one
programme per coefficient instead of reading the support of a single vertex.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from ..._params import Instance, Options, check_params
from ..._results import ResultDisplay

__all__ = ["SeparationResult", "separation_from_arrays"]

#: An LP optimum above this (on unit-scaled columns) counts as positive.
LP_TOL = 1e-7


@dataclass(frozen=True, eq=False, repr=False)
class SeparationResult(ResultDisplay):
    """What the linear-programming separation check found.

    Attributes
    ----------
    separated : bool
        Whether some maximum likelihood estimate is infinite.
    kind : {"none", "quasi-complete", "complete"}
        Complete: a hyperplane puts every event strictly on one side and every
        non-event strictly on the other.  Quasi-complete: only weakly.
    infinite_terms : tuple of str
        Terms (``Intercept`` included) whose ML estimates are infinite.
    directions : Series
        One value per term, as brglm2's ``betas``: ``inf`` / ``-inf`` for a
        coefficient that diverges upwards / downwards, ``nan`` for one that
        diverges with a sign the data leave open, ``0`` for a finite one.
    nobs : int
        Rows checked (rows with zero weight are ignored).
    """

    separated: bool
    kind: str
    infinite_terms: tuple[str, ...]
    directions: pd.Series
    nobs: int

    def summary(self) -> pd.DataFrame:
        """One row per term: whether its ML estimate is infinite and in which direction."""
        return pd.DataFrame(
            {
                "term": self.directions.index,
                "infinite": [t in self.infinite_terms for t in self.directions.index],
                "direction": self.directions.to_numpy(),
            }
        )

    def _title(self) -> str:
        return f"Separation check: {self.kind}"

    def _notes(self) -> list[str]:
        if not self.separated:
            return ["Maximum likelihood estimates exist (no separation)."]
        return [
            f"{self.kind.capitalize()} separation: infinite ML estimates for "
            + ", ".join(self.infinite_terms)
            + '. Use method="firth" for finite estimates.'
        ]


def _lp_max(c: np.ndarray, A_ub: np.ndarray, b_ub: np.ndarray, bounds) -> float:
    """``max c'x`` subject to ``A_ub x <= b_ub`` and bounds (HiGHS)."""
    res = linprog(-c, A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs")
    if res.status != 0:  # pragma: no cover - the programmes are feasible and bounded
        raise RuntimeError(f"separation check: linear programme failed ({res.message})")
    return float(-res.fun)


@check_params(
    weights=(Options(None), Instance(np.ndarray, list, tuple, name="an array of case weights")),
)
def separation_from_arrays(
    X: np.ndarray, y: np.ndarray, names: Sequence[str], *, weights: np.ndarray | None = None
) -> SeparationResult:
    """Separation check on a design matrix (intercept column included).

    Parameters
    ----------
    X : array, shape (n, p)
    y : array of 0/1, shape (n,)
    names : sequence of str
        Term names of the columns of ``X``.
    weights : array, optional
        Case weights; rows with weight 0 are ignored.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if weights is not None:
        keep = np.asarray(weights) > 0
        X, y = X[keep], y[keep]
    n, p = X.shape
    scale = np.max(np.abs(X), axis=0)
    scale[scale == 0] = 1.0
    A = np.where(y[:, None] > 0.5, 1.0, -1.0) * (X / scale)  # want A b >= 0
    box = [(-1.0, 1.0)] * p
    zeros = np.zeros(n)
    total = _lp_max(A.sum(axis=0), -A, zeros, box)
    directions = pd.Series(0.0, index=list(names))
    if total <= LP_TOL:
        return SeparationResult(False, "none", (), directions, n)
    for k in range(p):
        e = np.zeros(p)
        e[k] = 1.0
        up = _lp_max(e, -A, zeros, box)
        down = -_lp_max(-e, -A, zeros, box)
        if up > LP_TOL and down < -LP_TOL:
            directions.iloc[k] = np.nan
        elif up > LP_TOL:
            directions.iloc[k] = np.inf
        elif down < -LP_TOL:
            directions.iloc[k] = -np.inf
    # complete separation: max t with A b >= t, b in the box, t <= 1
    c = np.zeros(p + 1)
    c[-1] = 1.0
    A_ub = np.hstack([-A, np.ones((n, 1))])
    t = _lp_max(c, A_ub, zeros, box + [(None, 1.0)])
    kind = "complete" if t > LP_TOL else "quasi-complete"
    infinite = tuple(name for name, d in directions.items() if d != 0)
    return SeparationResult(True, kind, infinite, directions, n)
