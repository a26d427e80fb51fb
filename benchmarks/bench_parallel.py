"""Parallel bootstrap screen: n_jobs=1 vs n_jobs=2 (loky) vs a 2-worker dask LocalCluster, same run.

Run by hand: ``python benchmarks/bench_parallel.py [n_features] [n_boot] [workers]``
(defaults 1000 300 2).  The work is ``ic.screen(..., model="cox", n_boot=...)``
of ``n_features`` random features on the bundled cohort's PFS (n = 34), i.e.
``n_features x (n_boot + 1)`` Cox fits.  Every worker runs one BLAS thread
(loky and dask both set it); the parent is limited to one as well.  Each
configuration is timed three times (best kept) after a warm-up that starts the workers, and
the bootstrap columns of every run are checked bit for bit against the
serial run.  Also printed: the same serial run with ``MALLOC_TRIM_THRESHOLD_``
set as dask sets it in its workers (in a fresh interpreter), to show that
blocked work is immune to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
from _common import best_of, machine_note

import immune_correlates as ic

warnings.simplefilter("ignore")
M = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
R = int(sys.argv[2]) if len(sys.argv) > 2 else 300
WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 2
COLS = ["boot_se", "boot_ci_lower", "boot_ci_upper", "n_boot_failed"]


def data():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    X = np.random.default_rng(0).lognormal(3, 0.7, size=(len(frame), M))
    feats = [f"x{j}" for j in range(M)]
    df = pd.DataFrame(X, columns=feats, index=frame.index).assign(t=frame["pfs_months"], e=frame["pfs_event"])
    return df, feats


def run(df, feats, n_jobs):
    return ic.screen(df, feats, duration="t", event="e", model="cox", n_boot=R, seed=7, n_jobs=n_jobs)


def timed(fn, repeat=3):
    """Best wall time of ``repeat`` calls (after the warm-up), and the last result."""
    return best_of(fn, repeat)


def serial_with_dask_malloc_setting() -> float:
    """The serial run in a fresh interpreter with MALLOC_TRIM_THRESHOLD_=65536 (dask's worker setting)."""
    code = (
        f"import sys; sys.argv = ['x', '{M:d}', '{R:d}']; import bench_parallel as b, time; df, f = b.data(); "
        "b.run(df, f[:50], 1); t0 = time.perf_counter(); b.run(df, f, 1); print(time.perf_counter() - t0)"
    )
    env = dict(os.environ, MALLOC_TRIM_THRESHOLD_="65536", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=os.path.dirname(os.path.abspath(__file__)),
    )
    return float(out.stdout.split()[-1])


def main():
    df, feats = data()
    print(
        f"# ic.screen Cox, {M} features x {R} bootstraps (n={len(df)}); {machine_note()}; "
        f"{WORKERS} workers; uptime: {os.popen('uptime').read().strip()}"
    )
    run(df, feats[:50], 1)
    t1, ref = timed(lambda: run(df, feats, 1))
    print(f"n_jobs=1                     : {t1:7.2f} s")
    run(df, feats[:50], WORKERS)  # start the loky workers
    t2, par = timed(lambda: run(df, feats, WORKERS))
    same = all(np.array_equal(ref[c].to_numpy(), par[c].to_numpy(), equal_nan=True) for c in COLS)
    print(
        f"n_jobs={WORKERS} (loky)              : {t2:7.2f} s  speedup {t1 / t2:5.2f}x (target >= 1.6x)  "
        f"identical: {same}"
    )
    try:
        import distributed
        import joblib
    except ImportError:
        print("dask.distributed not installed (pip install -e '.[distributed]')")
        return
    with (
        distributed.LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        run(df, feats[:50], WORKERS)
        t3, dk = timed(lambda: run(df, feats, WORKERS))
    same = all(np.array_equal(ref[c].to_numpy(), dk[c].to_numpy(), equal_nan=True) for c in COLS)
    print(
        f"dask LocalCluster {WORKERS} workers : {t3:7.2f} s  speedup {t1 / t3:5.2f}x (target >= 1.5x)  "
        f"identical: {same}"
    )
    tm = serial_with_dask_malloc_setting()
    print(f"n_jobs=1, MALLOC_TRIM_THRESHOLD_=65536 (fresh process): {tm:7.2f} s  = {tm / t1:.2f}x the serial run")


if __name__ == "__main__":
    main()
