"""Which terms of a penalized signature are stable: complementary-pairs stability selection.

:func:`stability_selection` subsamples half the patients in complementary pairs (Shah &
Samworth 2013), runs the lasso path on each half, counts how often each term is among the
first ``q`` to enter, and reports the terms selected in at least ``threshold`` of the halves
with the bounds on the expected number of falsely selected terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._params import COLUMNS, MISSING, OPTIONAL_COLUMN, SEED, Interval, Options, check_params
from ..._results import ResultDisplay
from ..._seeds import rng as make_rng
from ..._seeds import spawn
from ...errors import InputError
from ._cv import stratified_folds
from ._procedure import cross_validated
from .penalized import penalized_data

__all__ = ["stability_selection", "StabilityResult", "unimodal_constant"]


def unimodal_constant(threshold: float, n_pairs: int, theta: float) -> float:
    """Shah & Samworth (2013)'s constant of the bound ``E V <= q^2 / (p C)`` under unimodality (NaN outside its range).

    >>> round(unimodal_constant(0.9, 50, 0.1), 4)  # (1 + 1/B) / (4 (1 - threshold + 1/(2B)))
    2.3182
    """
    B = n_pairs
    if threshold <= 0.75:
        if threshold < 0.5 + min(theta**2, 1 / (2 * B) + 0.75 * theta**2):
            return float("nan")
        return 2 * (2 * threshold - 1 - 1 / (2 * B))
    return (1 + 1 / B) / (4 * (1 - threshold + 1 / (2 * B)))


@dataclass(frozen=True, eq=False, repr=False, kw_only=True)
class StabilityResult(ResultDisplay):
    """Complementary-pairs stability selection (see :func:`stability_selection`).

    Attributes
    ----------
    table : DataFrame
        ``term``, ``selection_probability`` (fraction of the ``2 n_pairs`` half-samples in which
        the term was among the first ``q`` to enter the lasso path), ``selected``.
    threshold, q, n_pairs, p
    mean_selected : float
        Average number of terms chosen per half-sample (at most ``q``).
    bound : float
        ``q^2 / ((2 threshold - 1) p)``: Meinshausen & Buhlmann (2010)'s bound on the expected
        number of falsely selected terms, which holds for complementary pairs (Shah & Samworth
        2013, Theorem 1 and its corollary) under the same exchangeability assumption.
    bound_unimodal : float
        The tighter bound of Shah & Samworth (2013) under unimodal selection probabilities.
    """

    table: pd.DataFrame
    threshold: float
    q: int
    n_pairs: int
    p: int
    mean_selected: float
    bound: float
    bound_unimodal: float
    family: str

    @property
    def selected(self) -> list[str]:
        """Terms selected in at least ``threshold`` of the half-samples."""
        return self.table.loc[self.table["selected"], "term"].tolist()

    def summary(self) -> pd.DataFrame:
        """The per-term table, most stable first."""
        return self.table.sort_values("selection_probability", ascending=False, kind="mergesort").reset_index(drop=True)

    def _title(self) -> str:
        return f"Stability selection ({2 * self.n_pairs} half-samples in complementary pairs, q = {self.q})"

    def _notes(self) -> list[str]:
        return [
            f"Selected at threshold {self.threshold:g}: {', '.join(self.selected) or 'none'}.",
            f"Expected number of false selections ≤ {self.bound:.2f} (Meinshausen & Bühlmann's exchangeability), "
            f"≤ {self.bound_unimodal:.2f} if the selection probabilities are also unimodal (Shah & Samworth).",
        ]


@check_params(
    duration=OPTIONAL_COLUMN,
    event=OPTIONAL_COLUMN,
    l1_ratio=Interval(0, 1, closed="right"),
    n_pairs=Interval(2, None, integer=True),
    q=(Options(None), Interval(1, None, integer=True)),
    threshold=Interval(0.5, 1, closed="right"),
    pfer=Interval(0, None, closed="neither"),
    seed=SEED,
    unpenalized=COLUMNS,
    missing=MISSING,
)
def stability_selection(
    data: pd.DataFrame,
    outcome: str | None = None,
    covariates: str | Sequence[str] = (),
    *,
    duration: str | None = None,
    event: str | None = None,
    l1_ratio: float = 1.0,
    n_pairs: int = 50,
    q: int | None = None,
    threshold: float = 0.75,
    pfer: float = 1.0,
    seed=None,
    unpenalized: Sequence[str] = (),
    missing: str = "drop",
) -> StabilityResult:
    """Which terms of a penalized signature are stable: complementary-pairs stability selection.

    Parameters
    ----------
    data, outcome, covariates, duration, event, l1_ratio, unpenalized, missing
        As :func:`fit_penalized` (``l1_ratio > 0``: the selection comes from the L1 part).
    n_pairs : int
        Complementary pairs of half-samples (``2 n_pairs`` lasso paths), stratified on the
        outcome or event.
    q : int, optional
        Terms chosen per half-sample: the first ``q`` to enter its lasso path.  Default: the
        largest ``q`` whose bound ``q^2 / ((2 threshold - 1) p)`` is at most ``pfer``.
    threshold : float
        Selection probability at or above which a term is selected (in (0.5, 1]).
    pfer : float
        The tolerated expected number of false selections, used to choose ``q``.
    seed : int, SeedSequence, Generator or None
        Pair ``b`` draws from child ``b``.

    Returns
    -------
    StabilityResult

    References
    ----------
    Meinshausen N, Buhlmann P (2010) JRSS B 72:417-473;
    Shah RD, Samworth RJ (2013) JRSS B 75:55-80 (complementary pairs, error bounds).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> X = pd.DataFrame(rng.standard_normal((80, 10)), columns=[f"f{i}" for i in range(10)])
    >>> X["cr"] = (2 * X["f0"] - 2 * X["f1"] + rng.standard_normal(80) > 0).astype(int)
    >>> res = stability_selection(X, "cr", [f"f{i}" for i in range(10)], n_pairs=25, seed=1)
    >>> res.selected, res.q
    (['f0', 'f1'], 2)
    """
    caller = "stability_selection"
    prep = penalized_data(data, outcome, covariates, duration, event, unpenalized, missing, caller)
    pdata, n = prep.data, prep.data.X.shape[0]
    pen = prep.vp > 0
    p = int(pen.sum())
    if q is None:
        q = int(np.floor(np.sqrt(pfer * (2 * threshold - 1) * p)))
        if q < 1:
            raise InputError(f"{caller}: with {p} penalized terms no q >= 1 keeps the bound below pfer={pfer}.")
    if q >= p:
        raise InputError(f"{caller}: q={q} must be smaller than the number of penalized terms ({p}).")
    strata = pdata.strata
    half = n // 2
    V = np.zeros((2 * n_pairs, n))
    for b, ss in enumerate(spawn(seed, n_pairs, caller=caller)):
        ids = stratified_folds(make_rng(ss), strata, np.arange(n), 2, n)
        first = np.flatnonzero(ids == 0)[:half]
        second = np.flatnonzero(ids == 1)[:half]
        V[2 * b, first] = 1.0
        V[2 * b + 1, second] = 1.0
    proc = cross_validated(pdata, V, None, alpha=l1_ratio, vp=prep.vp, n_lambda=100, lambda_min_ratio=None)
    chosen = np.zeros((2 * n_pairs, len(prep.terms)), dtype=bool)
    sizes = np.empty(2 * n_pairs)
    for r in range(2 * n_pairs):
        L = int(proc.full.n_lambda[r])
        nz = proc.full.beta[r, :L] != 0
        count = nz[:, pen].sum(axis=1)
        k = int(np.flatnonzero(count <= q)[-1])
        chosen[r] = nz[k] & pen
        sizes[r] = count[k]
    prob = chosen.mean(axis=0)
    table = pd.DataFrame({"term": prep.terms, "selection_probability": prob, "selected": (prob >= threshold) & pen})[
        pen
    ].reset_index(drop=True)
    return StabilityResult(
        table=table,
        threshold=float(threshold),
        q=int(q),
        n_pairs=int(n_pairs),
        p=p,
        mean_selected=float(sizes.mean()),
        bound=q**2 / ((2 * threshold - 1) * p),
        bound_unimodal=q**2 / (p * unimodal_constant(threshold, n_pairs, q / p)),
        family=pdata.family,
    )
