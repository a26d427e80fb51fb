"""Risk-set sums of the batched Cox likelihood as linear operators on the row axis.

Every sum the partial likelihood needs is linear in per-row (or per-step)
values and the same for every model of a batch:

* ``risk(a)``: per event group ``g``, the sums of ``a`` over the rows dying
  at ``t_g`` and over the rest of its risk set;
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

    def risk(self, a):
        """Sums over the rows dying at each event time and over the rest of its risk set."""
        return _right(a, self.E), _right(a, self.Q)

    def steps(self, a):
        return _right(a, self.S)

    def rows(self, c, e):
        return _right(c, self.C) - _right(e, self.Et)


class SegmentOps:
    """The operators as reduceat / cumulative sums over contiguous blocks.

    Rows are sorted by time with the deaths first within a time (see
    :func:`._cox_eval.sort_times`), so each tied-time group is at most two
    blocks, its deaths then its censorings: one ``reduceat`` gives both sums.
    """

    def __init__(self, d, grp, g_start, dg, s_first, n_groups):
        self.d, self.grp, self.dg, self.sf, self.G = d, grp, dg, s_first, n_groups
        new = np.r_[True, (grp[1:] != grp[:-1]) | (d[1:] != d[:-1])]
        self.b_start = np.flatnonzero(new)
        dead = d[self.b_start] > 0
        self.b_dead, self.b_cens = np.flatnonzero(dead), np.flatnonzero(~dead)
        self.g_dead, self.g_cens = grp[self.b_start[dead]], grp[self.b_start[~dead]]
        if np.unique(self.g_dead).size != self.g_dead.size:
            raise ValueError("SegmentOps: rows must be sorted by time with the deaths first within a time")

    def risk(self, a):
        """As :meth:`DenseOps.risk`, from one pass over the rows."""
        blocks = np.add.reduceat(a, self.b_start, axis=1)
        shape = (a.shape[0], self.G) + a.shape[2:]
        dead, cens = np.zeros(shape), np.zeros(shape)
        dead[:, self.g_dead] = blocks[:, self.b_dead]
        cens[:, self.g_cens] = blocks[:, self.b_cens]
        tot = dead + cens
        excl = np.zeros_like(tot)
        excl[:, :-1] = np.cumsum(tot[:, :0:-1], axis=1)[:, ::-1]
        return dead[:, self.dg], (cens + excl)[:, self.dg]

    def steps(self, a):
        return np.add.reduceat(a, self.sf, axis=1)

    def _spread(self, v):
        out = np.zeros((v.shape[0], self.G) + v.shape[2:])
        out[:, self.dg] = v
        return out

    def rows(self, c, e):
        own = self._spread(e)[:, self.grp]
        own *= self.d if own.ndim == 2 else self.d[:, None]
        return np.cumsum(self._spread(c), axis=1)[:, self.grp] - own


def make_ops(d, grp, g_start, dg, sg, s_first, n_groups):
    """Dense operators for small cohorts, segment sums otherwise."""
    if d.size * dg.size <= DENSE_LIMIT and sg.size * dg.size <= DENSE_LIMIT:
        return DenseOps(d, grp, dg, sg)
    return SegmentOps(d, grp, g_start, dg, s_first, n_groups)
