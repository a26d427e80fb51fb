"""500 univariable Cox fits (Efron ties) on n=34: batched engine and ``ic.screen`` vs peers, in the same run.

Run by hand: ``python benchmarks/bench_screen_cox.py``.  Data: the bundled
cohort's progression-free survival (34 patients) and 500 random features.
``ic.screen`` is timed end to end (DataFrame in, validation, fits, table out)
and its ratios to the statsmodels loop and to the engine alone are printed: with
``ci="wald"`` (the same work as the engine and the peers: estimates and Wald
SEs) and with its default ``ci="profile"`` (profile intervals and
likelihood-ratio p-values for every feature, through the batched profile
solver: work the peers do not do at all).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from _common import best_of, interleaved, machine_note, r_coxph

import immune_correlates as ic
from immune_correlates.stats.engine.cox import fit_cox_batch

warnings.simplefilter("ignore")
M = 500


def main():
    frame = ic.analysis_frame(ic.datasets.load_ofa_len())
    t, e = frame["pfs_months"].to_numpy(float), frame["pfs_event"].to_numpy(float)
    n = t.size
    X = np.random.default_rng(0).lognormal(3, 0.7, size=(n, M))
    ours_t, fit = best_of(lambda: fit_cox_batch(X.T[:, :, None], t, e), 5)
    ours = fit.beta[:, 0]
    feats = [f"x{j}" for j in range(M)]
    data = pd.DataFrame(X, columns=feats, index=frame.index).assign(pfs_months=t, pfs_event=e)
    scr = lambda: ic.screen(data, feats, duration="pfs_months", event="pfs_event", model="cox", ci="wald")
    prof = lambda: ic.screen(data, feats, duration="pfs_months", event="pfs_event", model="cox")
    eng = lambda: fit_cox_batch(X.T[:, :, None], t, e)
    scr_t, ours_t, pair = interleaved(scr, eng, 30)
    tab = scr()
    print(f"# {M} univariable Cox fits, n={n}, {int(e.sum())} events; {machine_note()}")
    print(f"immune_correlates batched : {ours_t * 1e3:9.2f} ms")
    print(
        f"ic.screen end to end      : {scr_t * 1e3:9.2f} ms  = {scr_t / ours_t:.2f}x the engine alone (best of 30 "
        f"each); median of 30 back-to-back pairs {pair:.2f}x  max |dbeta| vs engine "
        f"{np.max(np.abs(tab['estimate'].to_numpy() - ours)):.2e}"
    )
    prof_t, _ = best_of(prof, 5)
    print(
        f"ic.screen, profile (default): {prof_t * 1e3:7.2f} ms  = {prof_t / scr_t:.1f}x the Wald screen "
        "(profile intervals and LR p-values of all features, best of 5)"
    )
    from statsmodels.duration.hazard_regression import PHReg

    t0 = time.perf_counter()
    sm = np.array([PHReg(t, X[:, [j]], status=e, ties="efron").fit().params[0] for j in range(M)])
    sm_t = time.perf_counter() - t0
    print(
        f"statsmodels PHReg loop    : {sm_t * 1e3:9.2f} ms  ratio {sm_t / ours_t:7.1f}x  "
        f"max |dbeta| {np.max(np.abs(sm - ours)):.2e}"
    )
    print(
        f"  ic.screen vs statsmodels: ratio {sm_t / scr_t:7.1f}x (target >= 300x); "
        f"ic.screen / engine {pair:.2f} (median pair; target <= 1.5); profile screen vs statsmodels' "
        f"Wald loop {sm_t / prof_t:.1f}x"
    )
    try:
        from lifelines import CoxPHFitter
        from sksurv.linear_model import CoxPHSurvivalAnalysis
        from sksurv.util import Surv
    except ImportError:
        print("lifelines / scikit-survival loops: not installed (pip install -e '.[bench]')")
        return _r_loop(t, e, X, ours, ours_t)

    k = 50
    t0 = time.perf_counter()
    ll = []
    for j in range(k):
        df = pd.DataFrame({"t": t, "e": e, "x": X[:, j]})
        ll.append(CoxPHFitter().fit(df, "t", "e", fit_options={"precision": 1e-10}).params_["x"])
    ll_t = (time.perf_counter() - t0) * M / k
    print(
        f"lifelines (tight tol)     : {ll_t * 1e3:9.2f} ms  ratio {ll_t / ours_t:7.1f}x  "
        f"max |dbeta| {np.max(np.abs(np.array(ll) - ours[:k])):.2e}  (extrapolated from {k} fits)"
    )
    y = Surv.from_arrays(e.astype(bool), t)
    t0 = time.perf_counter()
    sk = np.array([CoxPHSurvivalAnalysis(ties="efron", tol=1e-10).fit(X[:, [j]], y).coef_[0] for j in range(k)])
    sk_t = (time.perf_counter() - t0) * M / k
    print(
        f"scikit-survival           : {sk_t * 1e3:9.2f} ms  ratio {sk_t / ours_t:7.1f}x  "
        f"max |dbeta| {np.max(np.abs(sk - ours[:k])):.2e}  (extrapolated from {k} fits)"
    )
    _r_loop(t, e, X, ours, ours_t)


def _r_loop(t, e, X, ours, ours_t):
    r = r_coxph(t, e, X, "each")
    if r is not None:
        print(
            f"R coxph.fit loop (in R)   : {r[0] * 1e3:9.2f} ms  ratio {r[0] / ours_t:7.1f}x  "
            f"max |dbeta| {np.max(np.abs(r[1] - ours)):.2e}"
        )


if __name__ == "__main__":
    main()
