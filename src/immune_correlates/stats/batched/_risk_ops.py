"""Risk-set sums of the batched Cox likelihood as linear operators on the row axis.

Every sum the partial likelihood needs is linear in per-row (or per-step)
values and the same for every model of a batch:

* ``dying(a)``, ``later(a)``: per event group ``g``, the sum of ``a`` over the
  rows dying at ``t_g`` and over the rest of its risk set;
* ``steps(a)``: per event group, the sum over its Efron steps;
* ``rows(c, e)``: per row, ``sum_{g <= its group} c_g`` minus ``e_g`` of its own
  group if it dies there (the sums over the event times it was at risk for).

:class:`DenseOps` applies them as 0/1 matrices (one BLAS product for the
whole batch: fastest for many models of a few dozen rows); :class:`SegmentOps`
uses cumulative sums over contiguous groups (``O(n)`` memory, for large
cohorts).  Both give the same sums up to rounding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DenseOps", "SegmentOps", "make_ops"]

#: Largest rows x event-groups for the dense operators.
DENSE_LIMIT = 2_000_000


def _right(a: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Contract axis 1 of ``a`` (``(B, n)`` or ``(B, n, p)``) with ``M`` (``(n, G)``)."""
    if a.ndim == 2:
        return a @ M
    B, n, p = a.shape
    flat = np.ascontiguousarray(np.swapaxes(a, 1, 2)).reshape(B * p, n)
    return np.swapaxes((flat @ M).reshape(B, p, M.shape[1]), 1, 2)


class DenseOps:
    """The operators as 0/1 matrices (``n x G`` and ``S x G``)."""

    def __init__(self, d, grp, dg, sg):
        here = grp[:, None] == dg[None, :]
        self.E = (here & (d[:, None] > 0)).astype(float)  # dies at t_g
        self.Q = ((grp[:, None] > dg[None, :]) | (here & (d[:, None] == 0))).astype(float)  # at risk, survives t_g
        self.S = (sg[:, None] == np.arange(dg.size)[None, :]).astype(float)
        self.C = (dg[:, None] <= grp[None, :]).astype(float)  # (G, n): row at risk at t_g
        self.Et = np.ascontiguousarray(self.E.T)

    def dying(self, a):
        return _right(a, self.E)

    def later(self, a):
        return _right(a, self.Q)

    def steps(self, a):
        return _right(a, self.S)

    def rows(self, c, e):
        return _right(c, self.C) - _right(e, self.Et)


class SegmentOps:
    """The operators as reduceat / cumulative sums over contiguous groups."""

    def __init__(self, d, grp, g_start, dg, s_first, n_groups):
        self.d, self.grp, self.gs, self.dg, self.sf, self.G = d, grp, g_start, dg, s_first, n_groups

    def _dmul(self, a, v):
        return a * (v if a.ndim == 2 else v[:, None])

    def dying(self, a):
        return np.add.reduceat(self._dmul(a, self.d), self.gs, axis=1)[:, self.dg]

    def later(self, a):
        tot = np.add.reduceat(a, self.gs, axis=1)
        excl = np.zeros_like(tot)
        excl[:, :-1] = np.cumsum(tot[:, :0:-1], axis=1)[:, ::-1]
        return (np.add.reduceat(self._dmul(a, 1.0 - self.d), self.gs, axis=1) + excl)[:, self.dg]

    def steps(self, a):
        return np.add.reduceat(a, self.sf, axis=1)

    def _spread(self, v):
        out = np.zeros((v.shape[0], self.G) + v.shape[2:])
        out[:, self.dg] = v
        return out

    def rows(self, c, e):
        return np.cumsum(self._spread(c), axis=1)[:, self.grp] - self._dmul(self._spread(e)[:, self.grp], self.d)


def make_ops(d, grp, g_start, dg, sg, s_first, n_groups):
    """Dense operators for small cohorts, segment sums otherwise."""
    if d.size * dg.size <= DENSE_LIMIT and sg.size * dg.size <= DENSE_LIMIT:
        return DenseOps(d, grp, dg, sg)
    return SegmentOps(d, grp, g_start, dg, s_first, n_groups)
