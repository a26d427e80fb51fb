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

Counting-process rows ``(entry, stop]`` carry ``lo``, the first tied-time
group after their entry: a row is at risk at the groups ``lo <= g <= its
own`` (a row entering exactly at an event time is not at risk there, as
``coxph``).  The dense operators mask those entries; the segment operators
subtract the sums over rows not yet entered (a reverse cumulative sum of
per-group totals by ``lo``) and take a row's sum over its event times as a
difference of two forward cumulative sums.
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

    def __init__(self, d, grp, dg, sg, lo=None):
        here = grp[:, None] == dg[None, :]
        entered = True if lo is None else lo[:, None] <= dg[None, :]  # (n, G): entered before t_g
        self.E = (here & (d[:, None] > 0)).astype(float)  # dies at t_g
        # at risk, survives t_g
        self.Q = (((grp[:, None] > dg[None, :]) | (here & (d[:, None] == 0))) & entered).astype(float)
        self.S = (sg[:, None] == np.arange(dg.size)[None, :]).astype(float)
        self.C = ((dg[:, None] <= grp[None, :]) & np.transpose(entered)).astype(float)  # (G, n): at risk at t_g
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

    def __init__(self, d, grp, g_start, dg, s_first, n_groups, lo=None):
        self.d, self.grp, self.dg, self.sf, self.G = d, grp, dg, s_first, n_groups
        self.lo = lo
        if lo is not None:  # rows grouped by their first group at risk: per-group totals by one reduceat
            self.lo_order = np.argsort(lo, kind="stable")
            lo_sorted = lo[self.lo_order]
            self.lo_start = np.flatnonzero(np.r_[True, lo_sorted[1:] != lo_sorted[:-1]])
            self.lo_groups = lo_sorted[self.lo_start]
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
        if self.lo is not None:  # rows not yet entered at t_g: lo > g
            first = np.zeros(shape)
            first[:, self.lo_groups] = np.add.reduceat(a[:, self.lo_order], self.lo_start, axis=1)
            tot = tot - first  # a row leaves the later-groups sum from its first group at risk on
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
        cum = np.cumsum(self._spread(c), axis=1)
        out = cum[:, self.grp] - own
        if self.lo is not None:
            before = cum[:, np.maximum(self.lo - 1, 0)]
            before[:, self.lo == 0] = 0.0
            out -= before
        return out


def make_ops(d, grp, g_start, dg, sg, s_first, n_groups, lo=None):
    """Dense operators for small cohorts, segment sums otherwise (``lo``: counting-process rows)."""
    if d.size * dg.size <= DENSE_LIMIT and sg.size * dg.size <= DENSE_LIMIT:
        return DenseOps(d, grp, dg, sg, lo)
    return SegmentOps(d, grp, g_start, dg, s_first, n_groups, lo)
