"""Power simulation: 10,000 simulated 34-patient trials, a Firth logistic and a Cox analysis each.

Run by hand: ``python benchmarks/power_benchmark.py [n_sim] [n_loop]``.

Batched: :func:`immune_correlates.design.simulate_trials` draws the trials,
then the planned analyses run on all of them at once through the batched
engine (:mod:`immune_correlates.design._fits`): Firth logistic regression of
CR on ``nk_function`` with the penalized likelihood-ratio test, and ML Cox
regression of PFS on ``nk_function`` with the Wald test.

Loop: the single-fit functions :func:`~immune_correlates.stats.regression.logistic.fit_logistic`
(``method="firth", ci="profile"``, which gives the same LR p-value; it also
computes profile intervals, so a ``ci="wald"`` loop is timed too) and
:func:`~immune_correlates.stats.regression.cox.fit_cox` (``method="ml"``) on
``n_loop`` trials (default 200) whose DataFrames are built before timing;
the loop time for all trials is extrapolated linearly (x n_sim / n_loop).
The end-to-end :func:`immune_correlates.design.power` calls (which also fit
ML and Firth for bias/coverage and simulate the null design) are timed too.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from _common import machine_note

from immune_correlates.data.design import OFA_LEN_DESIGN
from immune_correlates.design import power, simulate_trials
from immune_correlates.design._fits import cox_trials, logistic_trials
from immune_correlates.stats.regression.cox import fit_cox
from immune_correlates.stats.regression.logistic import fit_logistic

warnings.simplefilter("ignore")


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main(n_sim: int = 10_000, n_loop: int = 200) -> None:
    print(f"# {n_sim} simulated trials of {OFA_LEN_DESIGN.n_patients} patients; {machine_note()}")
    t_sim, batch = _timed(lambda: simulate_trials(OFA_LEN_DESIGN, n_sim=n_sim, seed=1))
    x, y = batch.feature("nk_function"), batch.cr
    X = np.stack([np.ones_like(x), x], axis=2)
    t_log, flog = _timed(lambda: logistic_trials(X, y, firth=True, test="lr"))
    t_logw, _flogw = _timed(lambda: logistic_trials(X, y, firth=True, test="wald"))
    t_cox, fcox = _timed(lambda: cox_trials(x[..., None], batch.time, batch.event, firth=False, test="wald"))
    print(f"simulate trials               : {t_sim:8.3f} s")
    print(f"batched Firth logistic (LR)   : {t_log:8.3f} s")
    print(f"batched Firth logistic (Wald) : {t_logw:8.3f} s")
    print(f"batched Cox ML (Wald)         : {t_cox:8.3f} s")
    batched = t_sim + t_log + t_cox
    print(f"batched total (sim + Firth LR + Cox) : {batched:8.3f} s")

    frames = [batch.trial(b) for b in range(n_loop)]
    scale = n_sim / n_loop
    t1, ref_lr = _timed(lambda: [fit_logistic(f, "cr", ["nk_function"], method="firth", ci="profile") for f in frames])
    t2, _ref_w = _timed(lambda: [fit_logistic(f, "cr", ["nk_function"], method="firth", ci="wald") for f in frames])
    t3, ref_c = _timed(lambda: [fit_cox(f, "pfs_months", "pfs_event", ["nk_function"]) for f in frames])
    d_lr = max(abs(r.pvalues["nk_function"] - flog.pvalue[b]) for b, r in enumerate(ref_lr))
    d_b = max(abs(r.params["nk_function"] - flog.estimate[b]) for b, r in enumerate(ref_lr))
    d_c = max(abs(r.params["nk_function"] - fcox.estimate[b]) for b, r in enumerate(ref_c))
    print(f"loop of {n_loop} single fits, extrapolated x{scale:g} to {n_sim} trials:")
    print(
        f"  fit_logistic firth profile  : {t1:7.3f} s -> {t1 * scale:8.1f} s  ratio {t1 * scale / t_log:6.1f}x"
        f"  (max |dp| {d_lr:.1e}, |dbeta| {d_b:.1e})"
    )
    print(f"  fit_logistic firth wald     : {t2:7.3f} s -> {t2 * scale:8.1f} s  ratio {t2 * scale / t_logw:6.1f}x")
    print(
        f"  fit_cox ml                  : {t3:7.3f} s -> {t3 * scale:8.1f} s  ratio {t3 * scale / t_cox:6.1f}x"
        f"  (max |dbeta| {d_c:.1e})"
    )
    loop = (t1 + t3) * scale
    print(f"  loop total (Firth LR + Cox) : {loop:8.1f} s  vs batched {batched:.2f} s: ratio {loop / batched:.1f}x")

    t_pf, rf = _timed(lambda: power(OFA_LEN_DESIGN, "firth", n_sim=n_sim, seed=1))
    t_pc, rc = _timed(lambda: power(OFA_LEN_DESIGN, "cox", n_sim=n_sim, seed=1))
    print(
        f"power(design, 'firth', n_sim={n_sim}) end to end: {t_pf:6.2f} s  "
        f"(power {rf.power:.3f}, type I {rf.type1_error:.3f})"
    )
    print(
        f"power(design, 'cox',   n_sim={n_sim}) end to end: {t_pc:6.2f} s  "
        f"(power {rc.power:.3f}, type I {rc.type1_error:.3f})"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
