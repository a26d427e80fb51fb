"""Helpers shared by the benchmarks: timing, peak memory, R's coxph.fit through Rscript."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

#: One BLAS thread for everyone (ours and the Python peers), as R's coxph.fit (no threads):
#: on a 2-core machine shared with other jobs, OpenBLAS threads mostly wait for each other.
#: Set IC_BENCH_THREADS to change it.
BLAS_THREADS = int(os.environ.get("IC_BENCH_THREADS", "1"))
_LIMIT = threadpool_limits(limits=BLAS_THREADS)


def best_of(fn, repeat=3):
    """Smallest wall time of ``repeat`` calls, and the last result."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def interleaved(fn_a, fn_b, repeat=30):
    """Time ``fn_a`` and ``fn_b`` back to back ``repeat`` times.

    Returns the best time of each and the median of the per-pair ratios
    ``a / b``: on a shared machine whose speed drifts, a pair run within a
    few milliseconds sees the same conditions, so the median ratio is the
    steadier comparison of the two.
    """
    ta, tb = [], []
    for _ in range(repeat):
        for fn, out in ((fn_a, ta), (fn_b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t0)
    ta, tb = np.array(ta), np.array(tb)
    return float(ta.min()), float(tb.min()), float(np.median(ta / tb))


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far (GB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


R_COX = r"""
suppressMessages(library(survival))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
p <- as.integer(args[3]); mode <- args[4]
y <- Surv(d$time, d$status)
ctrl <- coxph.control(eps = 1e-10, iter.max = 100)
fit1 <- function(x) coxph.fit(x, y, strata = NULL, offset = NULL, init = NULL, control = ctrl,
                              weights = NULL, method = "efron", rownames = NULL, resid = FALSE)$coefficients
xs <- as.matrix(d[, -(1:2), drop = FALSE])
if (mode == "each") {
  el <- system.time(co <- sapply(seq_len(ncol(xs)), function(j) fit1(xs[, j, drop = FALSE])))[["elapsed"]]
} else {
  el <- min(sapply(1:3, function(i) system.time(co <<- fit1(xs))[["elapsed"]]))
}
writeLines(c(sprintf("%.17g", el), sprintf("%.17g", co)), args[2])
"""


def r_coxph(time_, status, X, mode):
    """Time R's ``survival::coxph.fit`` (Efron ties, eps 1e-10) inside R.

    ``mode="each"``: one univariable fit per column of ``X`` (a loop in R);
    ``"joint"``: one multivariable fit (best of 3).  Returns ``(seconds, coefs)``
    or ``None`` when Rscript is not installed.
    """
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "d.csv")
        out = os.path.join(tmp, "out.txt")
        script = os.path.join(tmp, "cox.R")
        with open(script, "w") as fh:
            fh.write(R_COX)
        header = ",".join(["time", "status"] + [f"x{j}" for j in range(X.shape[1])])
        np.savetxt(data, np.column_stack([time_, status, X]), delimiter=",", header=header, comments="", fmt="%.17g")
        subprocess.run(["Rscript", script, data, out, str(X.shape[1]), mode], check=True)
        vals = np.loadtxt(out)
    return float(vals[0]), vals[1:]


def machine_note() -> str:
    """Load average at the time of the run (the machine is shared)."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, {BLAS_THREADS} BLAS thread(s)"
