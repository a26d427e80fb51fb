"""500 univariable Firth logistic fits on n=34 (8 responders): batched engine vs firthmodels.

Run by hand: ``python benchmarks/bench_firth_logistic.py``.  Outcome: the
bundled cohort's complete remission; 500 random features.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from _common import best_of, machine_note

import immune_correlates as ic
from immune_correlates.stats.engine.logistic import newton

warnings.simplefilter("ignore")
M = 500


def main():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    y = frame["cr"].to_numpy(float)
    n = y.size
    X = np.random.default_rng(0).normal(size=(n, M))
    D = np.stack([np.ones((M, n)), X.T], axis=-1)
    ours_t, fit = best_of(lambda: newton(D, y, firth=True), 5)
    print(f"# {M} Firth logistic fits, n={n}, {int(y.sum())} events; {machine_note()}")
    print(f"immune_correlates batched : {ours_t * 1e3:9.2f} ms")
    from firthmodels import FirthLogisticRegression

    FirthLogisticRegression().fit(X[:, [0]], y)  # compile (numba) before timing
    t0 = time.perf_counter()
    fm = np.array(
        [FirthLogisticRegression(gtol=1e-10, xtol=1e-10, max_iter=100).fit(X[:, [j]], y).coef_[0] for j in range(M)]
    )
    fm_t = time.perf_counter() - t0
    print(
        f"firthmodels loop (tol 1e-10): {fm_t * 1e3:7.2f} ms  ratio {fm_t / ours_t:7.1f}x  "
        f"max |dbeta| {np.max(np.abs(fm - fit.beta[:, 1])):.2e}"
    )
    t0 = time.perf_counter()
    fd = np.array([FirthLogisticRegression().fit(X[:, [j]], y).coef_[0] for j in range(M)])
    fd_t = time.perf_counter() - t0
    print(
        f"firthmodels loop (default tol 1e-4): {fd_t * 1e3:7.2f} ms  ratio {fd_t / ours_t:7.1f}x  "
        f"max |dbeta| {np.max(np.abs(fd - fit.beta[:, 1])):.2e}"
    )
    import statsmodels.api as sm

    t0 = time.perf_counter()
    ml = np.array([sm.Logit(y, D[j]).fit(disp=0, method="newton", tol=1e-10).params[1] for j in range(M)])
    sm_t = time.perf_counter() - t0
    ours_ml_t, mlfit = best_of(lambda: newton(D, y, firth=False), 5)
    print(
        f"(ML) batched {ours_ml_t * 1e3:.2f} ms vs statsmodels Logit loop {sm_t * 1e3:.2f} ms: "
        f"ratio {sm_t / ours_ml_t:.1f}x  max |dbeta| {np.max(np.abs(ml - mlfit.beta[:, 1])):.2e}"
    )


if __name__ == "__main__":
    main()
