"""500 features x 1000 bootstrap resamples (500,500 univariable Cox fits, n=34) vs statsmodels.

Run by hand: ``python benchmarks/bench_bootstrap_cox.py``.  The statsmodels
time is extrapolated linearly from a loop over the first 200 (feature,
resample) fits on the same resamples (each fit costs the same: same n, one
covariate); the coefficient difference is measured on those 200 fits.
Peak memory is the process's maximum resident set size (``getrusage``).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _common import machine_note, peak_rss_gb

import immune_correlates as ic
from immune_correlates.stats.engine.models import make_design
from immune_correlates.stats.engine.parallel import bootstrap_counts, replicate_seeds
from immune_correlates.stats.screening.resampling import bootstrap_coefficients

warnings.simplefilter("ignore")
M, R, SUBSET = 500, 1000, 200


def main():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    t, e = frame["pfs_months"].to_numpy(float), frame["pfs_event"].to_numpy(float)
    n = t.size
    X = np.random.default_rng(0).lognormal(3, 0.7, size=(n, M))
    design = make_design("cox", X, time=t, event=e)
    t0 = time.perf_counter()
    boot = bootstrap_coefficients(design, np.arange(M), False, R, seed=2024)
    ours_t = time.perf_counter() - t0
    fits = M * (R + 1)
    print(f"# {M} features x {R} bootstrap resamples = {fits:,} Cox fits (n={n}); {machine_note()}")
    print(
        f"immune_correlates batched : {ours_t:8.2f} s   peak RSS {peak_rss_gb():.2f} GB   "
        f"failed resamples {int(boot['n_failed'].sum())}"
    )
    from statsmodels.duration.hazard_regression import PHReg

    counts = bootstrap_counts(replicate_seeds(2024, R), n)
    pairs = [(r, j) for r in range(R) for j in range(M)][:SUBSET]
    t0 = time.perf_counter()
    sm = []
    for r, j in pairs:
        rows = np.repeat(np.arange(n), counts[r].astype(int))
        sm.append(PHReg(t[rows], X[rows][:, [j]], status=e[rows], ties="efron").fit().params[0])
    sm_t = (time.perf_counter() - t0) * fits / SUBSET
    diff = np.max(np.abs(np.array(sm) - np.array([boot["replicates"][r, j] for r, j in pairs])))
    print(
        f"statsmodels PHReg loop    : {sm_t:8.0f} s   ratio {sm_t / ours_t:7.1f}x   max |dbeta| {diff:.2e}  "
        f"(extrapolated from {SUBSET} fits x {fits / SUBSET:.0f})"
    )


if __name__ == "__main__":
    main()
