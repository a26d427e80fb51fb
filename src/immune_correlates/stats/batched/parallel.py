"""Seeds, resample weights and chunked (joblib) execution that do not change the numbers.

Every replicate ``r`` of a random procedure draws from its own generator,
spawned as child ``r`` of ``numpy.random.SeedSequence(seed)``.  Chunks are
just lists of replicate numbers, so neither the chunk size, nor ``n_jobs``,
nor the joblib backend (threads, processes, dask) changes any result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
from joblib import Parallel, delayed

#: Models per batched call that a chunk of resamples aims at.  Chunks (the unit of parallel
#: work) hold ``max(1, MODELS_PER_CHUNK // models per resample)`` resamples: they never depend
#: on ``n_jobs``, so neither do the bits of any result.  Small chunks keep the Efron step
#: layout (the largest tie count of any model in the batch) tight.
MODELS_PER_CHUNK = 512

__all__ = ["MODELS_PER_CHUNK", "replicates_per_chunk", "replicate_seeds", "bootstrap_counts", "permutations", "run_chunks", "chunk_ranges"]


def replicate_seeds(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (an int, a SeedSequence or None)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return ss.spawn(n)


def bootstrap_counts(seeds: Sequence[np.random.SeedSequence], n: int, strata: np.ndarray | None = None) -> np.ndarray:
    """(R, n) bootstrap case weights: how often each row is drawn (``n`` draws with replacement).

    With ``strata`` (integer codes), each stratum is resampled to its own size.
    """
    out = np.zeros((len(seeds), n))
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for r, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        for g in groups:
            out[r] += np.bincount(g[rng.integers(0, g.size, g.size)], minlength=n)
    return out


def permutations(seeds: Sequence[np.random.SeedSequence], n: int) -> np.ndarray:
    """(R, n) random permutations of ``0..n-1``, one per seed."""
    return np.stack([np.random.default_rng(ss).permutation(n) for ss in seeds]) if len(seeds) else np.zeros((0, n), int)


def replicates_per_chunk(models_per_replicate: int, elements_per_replicate: int, budget: int) -> int:
    """Resamples per chunk: ``MODELS_PER_CHUNK`` models, within the memory ``budget``."""
    return max(1, min(budget // max(elements_per_replicate, 1), MODELS_PER_CHUNK // max(models_per_replicate, 1)))


def chunk_ranges(total: int, size: int) -> list[range]:
    """Consecutive ranges of at most ``size`` covering ``0..total-1``."""
    size = max(1, int(size))
    return [range(lo, min(lo + size, total)) for lo in range(0, total, size)]


def run_chunks(fn: Callable, chunks: Iterable, *, n_jobs: int = 1, progress: bool = False, desc: str = "") -> list:
    """``[fn(c) for c in chunks]`` through joblib (any backend), with an optional tqdm bar."""
    chunks = list(chunks)
    if n_jobs == 1 and not progress:
        return [fn(c) for c in chunks]
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(chunks), desc=desc)
        if n_jobs == 1:
            out = []
            for c in chunks:
                out.append(fn(c))
                bar.update()
            bar.close()
            return out
        out = []
        for res in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(fn)(c) for c in chunks):
            out.append(res)
            bar.update()
        bar.close()
        return out
    return Parallel(n_jobs=n_jobs)(delayed(fn)(c) for c in chunks)
