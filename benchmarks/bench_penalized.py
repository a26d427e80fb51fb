"""Penalized signatures: timing of fit_penalized and validate_signature, and glmnet timed inside R on the same data.

Data: the glmnet reference set ``logit34`` / ``cox34`` (34 patients, 30 features;
``tests/reference/fixtures/glmnet_data.csv``).  Timed through the public calls: one fit at a
given lambda, the automatic path with 10-fold cross-validation (fixed folds, the same in R),
and ``validate_signature`` (5 outer folds, 200 bootstrap repetitions of the whole procedure,
5-fold inner cross-validation).  R's ``glmnet`` / ``cv.glmnet`` (4.1-6) run with their default
``thresh = 1e-7`` (faster, less converged) and with the ``thresh`` at which they match ours
(1e-16 logistic, 1e-12 Cox), timed with ``system.time`` inside R (best of 3).  Also printed:
the largest coefficient difference from R at the given lambda.

    python bench_penalized.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from _common import best_of, machine_note
from sklearn.model_selection import PredefinedSplit

import immune_correlates as ic

DATA = Path(__file__).resolve().parents[1] / "tests" / "reference" / "fixtures" / "glmnet_data.csv"
COLS = [f"x{i:02d}" for i in range(1, 31)]

R_SCRIPT = r"""
suppressMessages({library(glmnet); library(survival)})
args <- commandArgs(TRUE)
d <- read.csv(args[1]); fam <- args[3]; lam <- as.numeric(args[4])
x <- as.matrix(d[, grep("^x", names(d))])
y <- if (fam == "binomial") d$y else Surv(d$time, d$status)
fold <- rep(1:10, length.out = nrow(x))
res <- c()
for (th in c(1e-7, as.numeric(args[5]))) {
  t1 <- min(sapply(1:3, function(i) system.time(f <<- glmnet(x, y, family = fam, lambda = lam, thresh = th))[["elapsed"]]))
  t2 <- min(sapply(1:3, function(i) system.time(cv.glmnet(x, y, family = fam, foldid = fold, thresh = th))[["elapsed"]]))
  res <- c(res, t1, t2)
}
writeLines(c(sprintf("%.17g", res), sprintf("%.17g", as.numeric(f$beta))), args[2])
"""


def r_times(df: pd.DataFrame, family: str, lam: float, thresh: float):
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path, out, script = (os.path.join(tmp, n) for n in ("d.csv", "out.txt", "g.R"))
        Path(script).write_text(R_SCRIPT)
        df.to_csv(path, index=False)
        subprocess.run(["Rscript", script, path, out, family, repr(lam), repr(thresh)], check=True)
        vals = np.loadtxt(out)
    return vals[:4], vals[4:]


def main() -> None:
    data = pd.read_csv(DATA)
    print(f"machine: {machine_note()}")
    rows = []
    for name, family, lam, thresh in (("logit34", "binomial", 0.03, 1e-16), ("cox34", "cox", 0.05, 1e-12)):
        df = data[data["dataset"] == name].reset_index(drop=True)
        if family == "binomial":
            kw = {"outcome": "y"}
        else:
            kw = {"duration": "time", "event": "status"}
        folds = PredefinedSplit(np.arange(len(df)) % 10)
        t_fit, fit = best_of(partial(ic.fit_penalized, df, covariates=COLS, lam=lam, **kw), 3)
        t_cv, _ = best_of(partial(ic.fit_penalized, df, covariates=COLS, cv=folds, **kw), 3)
        t_val, val = best_of(
            partial(ic.validate_signature, df, covariates=COLS, cv=5, outer=5, n_boot=200, seed=1, **kw), 1
        )
        r = r_times(df[["y", "time", "status", *COLS]], family, lam, thresh)
        row = {"data": name, "fit at lambda (s)": t_fit, "path + 10-fold CV (s)": t_cv, "validate_signature (s)": t_val}
        if r is not None:
            (r_fit7, r_cv7, r_fit, r_cv), beta = r
            diff = np.max(np.abs(fit.params[COLS].to_numpy() - beta)) / np.max(np.abs(beta))
            row |= {
                "R glmnet at lambda, thresh 1e-7 / matched (s)": f"{r_fit7:.3f} / {r_fit:.3f}",
                "R cv.glmnet, thresh 1e-7 / matched (s)": f"{r_cv7:.3f} / {r_cv:.3f}",
                "max |diff| / max |beta| vs R (matched thresh)": f"{diff:.1e}",
            }
        rows.append(row)
        print(f"{name}: validation {val.summary()[['estimate', 'value']].to_dict('records')}")
    print(pd.DataFrame(rows).to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
