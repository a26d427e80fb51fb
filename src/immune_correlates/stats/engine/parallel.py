"""Seeds, resample weights and blocked parallel execution that do not change the numbers.

Every replicate ``r`` of a random procedure draws from its own generator,
spawned as child ``r`` of ``numpy.random.SeedSequence(seed)``.

Work is cut twice:

* **blocks** are the unit of computation: a range of replicates (or of
  (replicate, feature) models), sized from the problem alone (rows,
  coefficients, features) so that the temporaries of one batched fit stay
  small.  The numbers of a block never depend on anything else, so results
  are bit-for-bit the same whatever ``n_jobs``, task grouping or backend.
* every block runs with **one BLAS thread**, in the calling process as in a
  worker: a multi-threaded BLAS (OpenBLAS in the main process; loky and dask
  workers start with one thread) splits a matrix product differently and
  changes its last bit, which is how ``n_jobs=1`` and ``n_jobs=2`` once
  differed by 1e-17 in bootstrap standard errors.
* **tasks** are the unit of parallel work: consecutive blocks grouped into
  :data:`TASKS_PER_WORKER` tasks per worker (a few, so a slow worker is
  balanced, not one per replicate).  A task receives the shared, read-only
  ``job`` (the design arrays) as an argument, never inside a closure, so
  joblib's process backend memory-maps large arrays and its dask backend
  scatters the job to the cluster once; it returns only its blocks' small
  results.

Overhead model (per call of :func:`run_blocks` with ``T = min(blocks,
TASKS_PER_WORKER x workers)`` tasks): ``time = serial / workers + T x
task_overhead / workers + ship(job) + startup``.  ``task_overhead`` (pickling
the arguments and a result, scheduling) is ~1-5 ms with loky and dask, the
job is shipped once per worker (loky: at most ``T`` small pickles; dask: one
scatter), and worker start-up (loky pool reuse, a running dask cluster) is
paid once per session.  With 16 workers and a serial time of seconds, the
fixed terms are below 1%; the rest is load balance, bounded by one block
per worker at the end of the run.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import sys
from collections.abc import Callable, Sequence

import numpy as np

from ..._seeds import rng, spawn

#: Models per batched call that a block of resamples aims at.  Blocks hold ``max(1,
#: MODELS_PER_CHUNK // models per resample)`` resamples (fewer within the element budget).
#: Small blocks keep the Efron step layout (the largest tie count of any model in the batch)
#: tight and every temporary of a block small.
MODELS_PER_CHUNK = 512

#: Rows x coefficients x models of one block: a few hundred small models, so a block's
#: temporaries stay in the CPU caches and the Python overhead per block stays small.
BLOCK_ELEMENTS = 16_384

#: glibc ``mallopt`` parameters and the values used while blocks run.  A batched fit makes
#: thousands of temporaries of a few MB; below glibc's mmap threshold they are reused from the
#: heap, above it every one is a fresh, zero-filled mapping (page faults on every element).
#: glibc's dynamic threshold learns this only slowly (a first call ran ~1.5x slower than the
#: next), and ``MALLOC_TRIM_THRESHOLD_`` (set by dask for its workers) switches it off.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_HEAP_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest dynamic value (64-bit)
_GLIBC_MMAP_DEFAULT = 128 * 1024

#: Tasks per worker: enough to balance uneven workers, few enough that per-task costs vanish.
TASKS_PER_WORKER = 4

__all__ = [
    "MODELS_PER_CHUNK",
    "BLOCK_ELEMENTS",
    "TASKS_PER_WORKER",
    "replicates_per_chunk",
    "replicate_seeds",
    "bootstrap_counts",
    "permutations",
    "run_chunks",
    "chunk_ranges",
    "run_blocks",
    "model_blocks",
    "group_blocks",
    "heap_temporaries",
    "one_blas_thread",
]


def replicate_seeds(seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``seed`` (None, an int, a SeedSequence or a Generator; see ``_seeds``)."""
    return spawn(seed, n)


def bootstrap_counts(seeds: Sequence[np.random.SeedSequence], n: int, strata: np.ndarray | None = None) -> np.ndarray:
    """(R, n) bootstrap case weights: how often each row is drawn (``n`` draws with replacement).

    With ``strata`` (integer codes), each stratum is resampled to its own size.
    """
    out = np.zeros((len(seeds), n))
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for r, ss in enumerate(seeds):
        gen = rng(ss)
        for g in groups:
            out[r] += np.bincount(g[gen.integers(0, g.size, g.size)], minlength=n)
    return out


def permutations(seeds: Sequence[np.random.SeedSequence], n: int) -> np.ndarray:
    """(R, n) random permutations of ``0..n-1``, one per seed."""
    return np.stack([rng(ss).permutation(n) for ss in seeds]) if len(seeds) else np.zeros((0, n), int)


def replicates_per_chunk(models_per_replicate: int, elements_per_replicate: int, budget: int) -> int:
    """Resamples per block: ``MODELS_PER_CHUNK`` models, within the element ``budget``."""
    return max(1, min(budget // max(elements_per_replicate, 1), MODELS_PER_CHUNK // max(models_per_replicate, 1)))


def chunk_ranges(total: int, size: int) -> list[range]:
    """Consecutive ranges of at most ``size`` covering ``0..total-1``."""
    size = max(1, int(size))
    return [range(lo, min(lo + size, total)) for lo in range(0, total, size)]


def model_blocks(
    n_replicates: int, n_models: int, elements_per_model: int, budget: int = BLOCK_ELEMENTS
) -> list[range]:
    """Blocks over the flat (replicate, model) index ``r * n_models + j``.

    A block holds ``budget // elements_per_model`` models (at least one,
    at most :data:`MODELS_PER_CHUNK`), cut anywhere, so a panel of thousands
    of features is split inside a replicate rather than fitted all at once.
    Depends on the problem size only.
    """
    size = max(1, min(MODELS_PER_CHUNK, budget // max(int(elements_per_model), 1)))
    return chunk_ranges(n_replicates * n_models, size)


def group_blocks(n_blocks: int, n_tasks: int) -> list[range]:
    """Split ``range(n_blocks)`` into ``n_tasks`` consecutive groups of near-equal size."""
    n_tasks = max(1, min(int(n_tasks), n_blocks))
    edges = np.linspace(0, n_blocks, n_tasks + 1).round().astype(int)
    return [range(a, b) for a, b in itertools.pairwise(edges) if b > a]


@functools.cache
def _trim_threshold_at_start() -> int | None:
    """``MALLOC_TRIM_THRESHOLD_`` of this process's *initial* environment (what glibc read), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/proc/self/environ", "rb") as fh:
            env = fh.read().split(b"\0")
    except OSError:
        return None
    for item in env:
        if item.startswith(b"MALLOC_TRIM_THRESHOLD_="):
            try:
                return int(item.split(b"=", 1)[1])
            except ValueError:
                return None
    return None


@functools.cache
def _libc():
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt, libc.malloc_trim  # noqa: B018  (glibc only)
    except (OSError, AttributeError):
        return None
    return libc


_heap_depth = 0
_GLIBC_TRIM_DEFAULT = 128 * 1024


@contextlib.contextmanager
def heap_temporaries():
    """Let large temporaries come from the heap while batched fits run (glibc only), scoped to the block.

    Inside, glibc's mmap threshold is raised to its dynamic maximum (32 MB) and
    the trim threshold to twice that, so the thousands of temporaries of a few
    MB that a batched fit makes are reused from the heap instead of being
    fresh, zero-filled mappings.  Leaving the outermost block sets both back:
    the mmap threshold to glibc's default (128 kB), the trim threshold to the
    ``MALLOC_TRIM_THRESHOLD_`` the process was started with (as dask starts its
    workers; freed memory is then handed back with ``malloc_trim``) or to
    glibc's default (128 kB).  One lasting difference: once a threshold has
    been set, glibc no longer adjusts its mmap threshold dynamically, so it
    stays at the default between calls.  Nested uses act once, at the
    outermost level.
    """
    global _heap_depth
    libc = _libc()
    if libc is None or _heap_depth:
        yield
        return
    trim = _trim_threshold_at_start()
    libc.mallopt(_M_MMAP_THRESHOLD, _HEAP_MMAP_THRESHOLD)
    libc.mallopt(_M_TRIM_THRESHOLD, 2 * _HEAP_MMAP_THRESHOLD)
    _heap_depth += 1
    try:
        yield
    finally:
        _heap_depth -= 1
        libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_MMAP_DEFAULT)
        libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_DEFAULT if trim is None else trim)
        if trim is not None:
            libc.malloc_trim(0)


@contextlib.contextmanager
def one_blas_thread():
    """Run the enclosed blocks with a single BLAS / OpenMP thread (restored on leaving).

    A block's numbers must not depend on where it runs: a BLAS with several
    threads sums some products in another order than a single-threaded one
    (a worker's), so blocks always run single-threaded.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _task(fn: Callable, job, blocks: list) -> list:
    with heap_temporaries(), one_blas_thread():
        return [fn(job, b) for b in blocks]


def _workers(n_jobs: int) -> int:
    try:
        from joblib import effective_n_jobs  # joblib loads only when work is spread

        return max(1, int(effective_n_jobs(n_jobs)))
    except Exception:  # a backend that cannot tell (no cluster yet): one task per block group of 1
        return max(1, int(n_jobs))


def run_blocks(
    fn: Callable,
    job,
    blocks: Sequence,
    *,
    n_jobs: int = 1,
    progress: bool = False,
    desc: str = "",
    tasks_per_worker: int = TASKS_PER_WORKER,
) -> list:
    """``[fn(job, b) for b in blocks]``, blocks grouped into a few joblib tasks per worker.

    Parameters
    ----------
    fn : callable
        A module-level function ``fn(job, block)`` (pickled by reference).
    job : object
        Shared, read-only input (design arrays, seeds): an argument of every
        task, so the dask backend scatters it once and the process backend
        memory-maps its large arrays.
    blocks : sequence
        The units of computation, fixed by the problem: the results, in block
        order, do not depend on ``n_jobs``, ``tasks_per_worker`` or backend.
    n_jobs : int
        joblib workers (``-1``: all); the active ``joblib.parallel_config``
        backend (loky, threading, dask) runs the tasks.
    progress : bool
        A tqdm bar (``tqdm.auto``: text in a terminal, a widget in Jupyter),
        advanced as blocks (serial) or tasks (parallel) finish.
    tasks_per_worker : int
        Tasks per worker.

    Examples
    --------
    >>> def square(job, block):
    ...     return [job * i * i for i in block]
    >>> run_blocks(square, 2, chunk_ranges(5, 2))
    [[0, 2], [8, 18], [32]]
    """
    blocks = list(blocks)
    workers = 1 if n_jobs == 1 else _workers(n_jobs)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(blocks), desc=desc)
    try:
        if workers == 1:
            out = []
            with heap_temporaries(), one_blas_thread():
                for b in blocks:
                    out.append(fn(job, b))
                    if bar is not None:
                        bar.update()
            return out
        from joblib import Parallel, delayed

        groups = group_blocks(len(blocks), tasks_per_worker * workers)
        tasks = (delayed(_task)(fn, job, [blocks[i] for i in g]) for g in groups)
        out = []
        with one_blas_thread():  # threads of this process (threading backend) share its BLAS setting
            for g, res in zip(groups, Parallel(n_jobs=n_jobs, return_as="generator")(tasks)):
                out.extend(res)  # in block order, whatever order the tasks finish in
                if bar is not None:
                    bar.update(len(g))
        return out
    finally:
        if bar is not None:
            bar.close()


def _call(fn, c):
    return fn(c)


def run_chunks(fn: Callable, chunks, *, n_jobs: int = 1, progress: bool = False, desc: str = "") -> list:
    """``[fn(c) for c in chunks]``: each chunk its own task (for few, coarse tasks such as profile fits)."""
    return run_blocks(_call, fn, chunks, n_jobs=n_jobs, progress=progress, desc=desc, tasks_per_worker=10**9)
