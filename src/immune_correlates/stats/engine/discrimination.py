"""AUC and Harrell's C for many score vectors and case-weight vectors at once.

:func:`auc_batch` sorts each row once (``O(n log n)``); Harrell's C compares
pairs over a leading batch axis, in blocks of models so that the
``(block, n_i, n_j)`` comparison arrays stay small.  With weights, a pair
weighs ``w_i w_j`` (a bootstrap count of 2 makes a row count twice), as
:func:`~immune_correlates.stats.regression.concordance.concordance_index` weighs them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["auc_batch", "cindex_batch"]

_PAIR_BUDGET = 4_000_000


def _blocks(B: int, per_model: int):
    size = max(1, _PAIR_BUDGET // max(per_model, 1))
    return [slice(lo, min(lo + size, B)) for lo in range(0, B, size)]


def auc_batch(score: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """(B,) areas under the ROC curve: ``P(score_event > score_non-event)``, ties counting 1/2.

    The one AUC of the package (``roc_curve``, ``fit_logistic``'s C statistic,
    bootstrap and optimism corrections, the power simulations all call it).
    Each row is sorted once, so the cost is ``O(B n log n)``: the weight of
    non-events scoring below each event (plus half of those tied with it) is
    a cumulative sum over the sorted scores (the Mann-Whitney statistic,
    Hanley & McNeil 1982; Bamber 1975).

    Parameters
    ----------
    score : (n,) or (B, n) array
        Scores; a larger score predicts an event.
    y : (n,) or (B, n) array
        Outcomes (events are ``y > 0.5``), shared by every row or one per row.
    w : (n,) or (B, n) array, optional
        Case weights: a pair weighs ``w_i w_j`` (a bootstrap count of 2 makes
        a row count twice).

    Returns
    -------
    (B,) array
        NaN for a row without events or without non-events (of positive weight).

    Examples
    --------
    >>> auc_batch(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1]))
    array([0.75])
    """
    score = np.atleast_2d(np.asarray(score, dtype=float))
    B, n = score.shape
    event = np.broadcast_to(np.asarray(y, dtype=float) > 0.5, (B, n))
    w = np.ones((B, n)) if w is None else np.broadcast_to(np.asarray(w, dtype=float), (B, n))
    order = np.argsort(score, axis=1, kind="stable")
    s = np.take_along_axis(score, order, axis=1)
    ev = np.take_along_axis(event, order, axis=1)
    ws = np.take_along_axis(w, order, axis=1)
    wp, wn = np.where(ev, ws, 0.0), np.where(ev, 0.0, ws)
    pos = np.arange(n)
    new_run = np.ones((B, n), bool)
    new_run[:, 1:] = s[:, 1:] != s[:, :-1]
    first = np.maximum.accumulate(np.where(new_run, pos, 0), axis=1)  # first index of each tie run
    last_of_run = np.ones((B, n), bool)
    last_of_run[:, :-1] = new_run[:, 1:]
    last = np.minimum.accumulate(np.where(last_of_run, pos, n - 1)[:, ::-1], axis=1)[:, ::-1]
    cum = np.zeros((B, n + 1))
    np.cumsum(wn, axis=1, out=cum[:, 1:])
    below = np.take_along_axis(cum, first, axis=1)
    tied = np.take_along_axis(cum, last + 1, axis=1) - below
    num = np.sum(wp * (below + 0.5 * tied), axis=1)
    den = wp.sum(axis=1) * wn.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def cindex_batch(
    score: np.ndarray, time: np.ndarray, event: np.ndarray, w: np.ndarray | None = None, reverse: bool = True
) -> np.ndarray:
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
