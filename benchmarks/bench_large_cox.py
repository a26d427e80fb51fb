"""One Cox model (Efron ties) on a large cohort: n = 1,000,000 patients, 10 covariates, tied times.

Run by hand: ``python benchmarks/bench_large_cox.py [n]`` (default n = 1,000,000; the
issue-19 targets: >= 3x lifelines and >= 15x statsmodels PHReg in the same run, peak memory
<= 2 GB, coefficients equal to statsmodels to 1e-8).  Each side is timed by wall clock
(best of 2 for ours, 1 for the peers) and by CPU time of this process (one BLAS thread
everywhere, so CPU time is the work done and moves less with the load of a shared machine).
Peak memory is the process's peak resident set after our fit (data included), before any
peer runs.  With n <= 200,000, R's ``coxph.fit`` is timed inside R as well.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd
from _common import machine_note, peak_rss_gb, r_coxph

from immune_correlates.stats.regression.cox import fit_cox

warnings.simplefilter("ignore")
P = 10


def timed(fn, repeat=1):
    """(best wall seconds, CPU seconds of that call, result)."""
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        if w < best:
            best, cpu = w, c
    return best, cpu, out


def main(n: int):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, P))
    beta = np.linspace(-0.5, 0.5, P)
    t = np.ceil(rng.exponential(np.exp(-X @ beta)) * 365) / 30  # whole days, in months: heavy ties
    e = (rng.random(n) < 0.7).astype(float)
    cols = [f"x{j}" for j in range(P)]
    df = pd.DataFrame(X, columns=cols).assign(t=t, e=e)
    print(f"# Cox, n={n:,}, p={P}, {np.unique(t).size} distinct times, {int(e.sum())} events; {machine_note()}")
    base = peak_rss_gb()
    w, c, fit = timed(lambda: fit_cox(df, "t", "e", cols), 2)
    ours = fit.params.to_numpy()
    print(
        f"immune_correlates fit_cox : wall {w:7.3f} s  cpu {c:7.3f} s  ({fit.n_iter} iterations)  "
        f"peak RSS {peak_rss_gb():.2f} GB (data alone {base:.2f} GB)"
    )
    from lifelines import CoxPHFitter

    lw, lc, ll = timed(lambda: CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-10}))
    print(
        f"lifelines (tol 1e-10)     : wall {lw:7.3f} s  cpu {lc:7.3f} s  ratio wall {lw / w:5.1f}x  "
        f"cpu {lc / c:5.1f}x  max |dbeta| {np.max(np.abs(ll.params_.to_numpy() - ours)):.2e}"
    )
    from statsmodels.duration.hazard_regression import PHReg

    sw, sc, sm = timed(lambda: PHReg(t, X, status=e, ties="efron").fit())
    print(
        f"statsmodels PHReg (efron) : wall {sw:7.3f} s  cpu {sc:7.3f} s  ratio wall {sw / w:5.1f}x  "
        f"cpu {sc / c:5.1f}x  max |dbeta| {np.max(np.abs(sm.params - ours)):.2e}  "
        f"max rel {np.max(np.abs(sm.params - ours) / np.abs(sm.params)):.2e}"
    )
    if n <= 200_000:
        r = r_coxph(t, e, X, "joint")
        if r is not None:
            print(
                f"R coxph.fit (in R)        : wall {r[0]:7.3f} s  ratio {r[0] / w:6.2f}x  "
                f"max |dbeta| {np.max(np.abs(r[1] - ours)):.2e}"
            )


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000)
