"""AUC and Harrell's C for many score vectors and case-weight vectors at once.

Pairwise comparisons over a leading batch axis, in blocks of models so that
the ``(block, n_i, n_j)`` comparison arrays stay small.  With weights, a pair
weighs ``w_i w_j`` (a bootstrap count of 2 makes a row count twice), as
:func:`~immune_correlates.stats.logistic.weighted_auc` and
:func:`~immune_correlates.stats.concordance.concordance_index` weigh them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auc_batch", "cindex_batch"]

_PAIR_BUDGET = 4_000_000


def _blocks(B: int, per_model: int):
    size = max(1, _PAIR_BUDGET // max(per_model, 1))
    return [slice(lo, min(lo + size, B)) for lo in range(0, B, size)]


def auc_batch(score: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """(B,) C statistics ``P(score_event > score_non-event)`` (ties 1/2) of ``score`` (``(B, n)``)."""
    score = np.atleast_2d(np.asarray(score, dtype=float))
    B, n = score.shape
    w = np.ones((B, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float), (B, n))
    pos, neg = np.flatnonzero(y > 0.5), np.flatnonzero(y <= 0.5)
    out = np.empty(B)
    for s in _blocks(B, pos.size * neg.size):
        sp, sn = score[s][:, pos, None], score[s][:, None, neg]
        wp, wn = w[s][:, pos], w[s][:, neg]
        cmp = (sp > sn) + 0.5 * (sp == sn)
        num = np.einsum("bi,bij,bj->b", wp, cmp, wn)
        den = wp.sum(axis=1) * wn.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s] = np.where(den > 0, num / den, np.nan)
    return out


def cindex_batch(score: np.ndarray, time: np.ndarray, event: np.ndarray, w: np.ndarray | None = None,
                 reverse: bool = True) -> np.ndarray:
    """(B,) Harrell's C of ``score`` (``(B, n)``), as ``concordance_index(..., weights=w, reverse=reverse)``.

    A pair is comparable when the shorter follow-up ends in an event (a
    censoring at the same time counts as longer); ``reverse=True``: a larger
    score predicts the earlier event (a Cox risk score).
    """
    score = np.atleast_2d(np.asarray(score, dtype=float))
    B, n = score.shape
    w = np.ones((B, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float), (B, n))
    time = np.asarray(time, dtype=float)
    event = np.asarray(event).astype(bool)
    ev = np.flatnonzero(event)
    ti = time[ev][:, None]
    longer = (time[None, :] > ti) | ((time[None, :] == ti) & ~event[None, :])  # (E, n)
    out = np.empty(B)
    for s in _blocks(B, ev.size * n):
        si, sj = score[s][:, ev, None], score[s][:, None, :]
        wi, wj = w[s][:, ev], w[s]
        hi = (si > sj) if reverse else (si < sj)
        lo = (si < sj) if reverse else (si > sj)
        pw = wi[:, :, None] * wj[:, None, :] * longer
        conc = np.sum(pw * hi, axis=(1, 2))
        disc = np.sum(pw * lo, axis=(1, 2))
        tied = np.sum(pw * (si == sj), axis=(1, 2))
        tot = conc + disc + tied
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s] = np.where(tot > 0, (conc + 0.5 * tied) / tot, np.nan)
    return out
