"""Seeded results are the same bits whatever ``n_jobs`` or backend, over several data sizes.

A block of bootstrap refits once differed in the last bit (5.6e-17 in ``boot_se``) between
``n_jobs=1`` and ``n_jobs=2``: the calling process ran its blocks with a multi-threaded BLAS
(OpenBLAS sums some matrix products in another order with several threads), while loky and dask
workers run with one thread.  Every block now runs with one BLAS thread wherever it runs, and
blocks are combined in block order.  The sizes below include the one that showed the difference
(80 patients, 60 features); the dask cluster is started as ``test_dask_backend.py`` starts it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from immune_correlates.stats.engine.parallel import chunk_ranges, run_blocks
from immune_correlates.stats.screening.screen import screen

from .conftest import random_cohort

BOOT = ["boot_se", "boot_ci_lower", "boot_ci_upper", "n_boot_failed"]

#: (patients, features, resamples, model)
SIZES = [(30, 5, 40, "firth_cox"), (80, 60, 20, "cox"), (200, 4, 30, "cox"), (60, 12, 30, "firth")]


def _screen(df, m, n_boot, model, n_jobs):
    feats = [f"f{j}" for j in range(m)]
    ends = {"outcome": "y"} if model == "firth" else {"duration": "time", "event": "status"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tab = screen(df, feats, model=model, n_boot=n_boot, seed=5, n_jobs=n_jobs, ci="wald", **ends)
    return tab[BOOT].to_numpy()


@pytest.fixture(scope="module")
def runs():
    """Each size run with one worker and with two loky workers (computed once for the module)."""
    out = {}
    for n, m, n_boot, model in SIZES:
        df = random_cohort(n + m, n=n, m=m)
        out[(n, m, n_boot, model)] = (df, _screen(df, m, n_boot, model, 1), _screen(df, m, n_boot, model, 2))
    return out


@pytest.mark.parametrize("size", SIZES, ids=[f"{n}x{m}x{b}-{k}" for n, m, b, k in SIZES])
@pytest.mark.slow  # more than two seconds: full suite only
def test_one_and_two_loky_workers_give_the_same_bits(runs, size):
    _, serial, loky = runs[size]
    np.testing.assert_array_equal(serial, loky)
    assert np.isfinite(serial[:, 0]).all()


@pytest.mark.slow  # more than two seconds: full suite only
def test_a_dask_cluster_gives_the_same_bits_for_every_size(runs):
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        for size, (df, serial, _) in runs.items():
            _, m, n_boot, model = size
            with joblib.parallel_config(backend="dask"):
                remote = _screen(df, m, n_boot, model, 2)
            np.testing.assert_array_equal(serial, remote, err_msg=str(size))
    finally:
        client.close()
        cluster.close()


def _blas_threads(job, block):
    from threadpoolctl import threadpool_info

    return [max((p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"), default=1)]


def test_every_block_runs_with_one_blas_thread_in_the_calling_process_too():
    assert run_blocks(_blas_threads, None, chunk_ranges(3, 1)) == [[1], [1], [1]]
