"""Cell counts of a cytometry panel with biological (overdispersed) sample-to-sample variation.

The model: sample ``i`` has an abundance ``a_ij = s_j exp(sd z_ij + effect_j g_i)`` of each
population ``j`` (``s_j`` the typical share, ``z_ij`` standard normal: log-normal biological
variation), a number of cells ``N_i`` (log-normal around ``cells``), and counts drawn
``Multinomial(N_i, a_i / sum(a_i))``.  So counts vary between samples far more than binomial
sampling alone would make them (overdispersion), as they do in real panels (Weber et al.
2019, Commun Biol 2:183).

An ``effect`` multiplies one population's abundance in group 1; through the closure of
proportions every other population's proportion then falls a little.  A ``transfer`` moves a
fraction of one population's cells to another in group 1, leaving the total (and so every
other population's proportion) exactly as in group 0: the exact nulls used to measure false
discovery rates when some populations do change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from .._params import MAPPING, SEED, SEQUENCE, Interval, check_params
from .._seeds import rng as make_rng

__all__ = ["population_shares", "population_count_arrays", "simulate_population_counts"]

#: Log-SD of the number of cells acquired per sample.
CELLS_LOG_SD = 0.25


def population_shares(n_populations: int, smallest: float = 0.002, largest: float = 0.25) -> np.ndarray:
    """Typical shares of ``n_populations`` populations: geometric from ``smallest`` to ``largest``, summing to 1.

    >>> population_shares(3).round(3).tolist()
    [0.007, 0.082, 0.911]
    """
    s = np.exp(np.linspace(np.log(smallest), np.log(largest), n_populations))
    return s / s.sum()


def population_count_arrays(
    rng: np.random.Generator,
    n_experiments: int,
    group: np.ndarray,
    shares: np.ndarray,
    *,
    biological_sd: float = 0.4,
    cells: float = 50_000,
    log_effects: np.ndarray | None = None,
    transfers: Sequence[tuple[int, int, float]] = (),
    patient_sd: float = 0.0,
    patients: np.ndarray | None = None,
) -> np.ndarray:
    """``(n_experiments, n_samples, n_populations)`` integer counts (see the module docstring).

    ``group`` is the 0/1 group of each sample; ``log_effects`` the natural-log change of each
    population's abundance in group 1; ``transfers`` ``(from, to, fraction)`` moves of cells
    in group 1.  With ``patients`` (codes), each patient adds a shared ``patient_sd`` normal
    term per population (samples of one patient resemble each other).
    """
    group = np.asarray(group, dtype=float)
    n, K = group.size, shares.size
    la = np.log(shares) + biological_sd * rng.standard_normal((n_experiments, n, K))
    if patients is not None and patient_sd > 0:
        codes = pd.factorize(np.asarray(patients))[0]
        la += patient_sd * rng.standard_normal((n_experiments, codes.max() + 1, K))[:, codes, :]
    if log_effects is not None:
        la += np.outer(group, log_effects)[None]
    a = np.exp(la)
    for src, dst, frac in transfers:
        moved = frac * a[:, :, src] * group[None]
        a[:, :, src] -= moved
        a[:, :, dst] += moved
    p = a / a.sum(axis=2, keepdims=True)
    totals = np.maximum(np.round(cells * np.exp(CELLS_LOG_SD * rng.standard_normal((n_experiments, n)))), 1)
    return rng.multinomial(totals.astype(np.int64), p)


@check_params(
    n_populations=Interval(2, None, integer=True),
    biological_sd=Interval(0, None),
    cells=Interval(1, None),
    fold_changes=MAPPING,
    names=SEQUENCE,
    seed=SEED,
)
def simulate_population_counts(
    groups: Mapping[str, int] | Sequence[int] = (10, 10),
    *,
    n_populations: int = 30,
    biological_sd: float = 0.4,
    cells: float = 50_000,
    fold_changes: Mapping[int | str, float] | None = None,
    names: Sequence[str] | None = None,
    seed=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A panel's cell counts and sample table for two groups, with known differences.

    Parameters
    ----------
    groups : mapping or pair of ints
        Samples per group: ``{"NR": 26, "CR": 8}`` or ``(n0, n1)`` (levels ``0`` and ``1``).
        The second group is the one whose populations change.
    n_populations : int
        Populations in the panel; typical shares geometric from 0.2% to 25%.
    biological_sd : float
        SD of the log abundance between samples (0.4 is typical of blood immune subsets).
    cells : float
        Typical number of cells per sample (varies log-normally, SD 0.25 on the log scale).
    fold_changes : mapping, optional
        Population (index or name) -> fold change of its abundance in the second group.
    names : sequence of str, optional
        Population names (default ``pop01``, ``pop02``, ...).
    seed : int, SeedSequence, Generator or None

    Returns
    -------
    counts : DataFrame
        Samples x populations, indexed by ``sample_id``.
    samples : DataFrame
        Indexed by ``sample_id``, with ``group``.

    Examples
    --------
    >>> counts, samples = simulate_population_counts({"NR": 6, "CR": 4}, n_populations=5, seed=1)
    >>> counts.shape, samples["group"].value_counts().to_dict()
    ((10, 5), {'NR': 6, 'CR': 4})
    """
    labels: list[str | int]
    if isinstance(groups, Mapping):
        labels, sizes = list(groups), [int(v) for v in groups.values()]
    else:
        labels, sizes = [0, 1], [int(v) for v in groups]
    g = np.repeat(np.arange(len(sizes)), sizes) == 1
    names = list(names) if names is not None else [f"pop{j + 1:02d}" for j in range(n_populations)]
    effects = np.zeros(n_populations)
    for key, fold in (fold_changes or {}).items():
        effects[names.index(key) if isinstance(key, str) else int(key)] = np.log(fold)
    counts = population_count_arrays(
        make_rng(seed),
        1,
        g,
        population_shares(n_populations),
        biological_sd=biological_sd,
        cells=cells,
        log_effects=effects,
    )[0]
    ids = pd.Index([f"S{i + 1:03d}" for i in range(g.size)], name="sample_id")
    samples = pd.DataFrame({"group": np.repeat(labels, sizes)}, index=ids)
    return pd.DataFrame(counts, index=ids, columns=names), samples
