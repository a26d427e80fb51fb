"""Differential abundance: error rates and power of ours and of the usual approaches, same simulated data.

Scenarios (seeded; ``immune_correlates.design.population_counts``): 30 populations with shares
from 0.2% to 25%, log-normal biological variation SD 0.4, ~50,000 cells per sample (log-SD 0.25):

- ``null_10v10``, ``null_8v26``: no population differs (per-test false-positive rate at p < 0.05;
  the false discovery rate at BH q < 0.05 is then the chance of any discovery);
- ``double_10v10``, ``double_8v26``: five populations doubled in the second group (power on them;
  the others' proportions fall a little through closure, so no error rate is computed there);
- ``transfer_10v10``, ``transfer_8v26``: cells moved between three pairs of populations in the
  second group, every other population exactly null (false discovery rate and power).

Methods computed here: ours (moderated t; and permutation p-values on the null scenarios), a
binomial GLM ignoring overdispersion (Wald), a quasi-binomial GLM (Pearson dispersion, t on
n - 2 df), Wilcoxon rank-sum on proportions, Welch-free two-sample t on log proportions.
Methods run once in R on the same data (``tests/reference/da_benchmark.R``, fixture
``tests/reference/fixtures/da_benchmark_r.csv``): diffcyt's edgeR default (``estimateDisp(trend =
"none")`` + ``glmFit`` + ``glmLRT``), edgeR's quasi-likelihood pipeline (``glmQLFit(robust =
TRUE)`` + ``glmQLFTest``), diffcyt's binomial GLMM (``glmer(cbind(y, N - y) ~ group + (1 |
sample))``, Wald z; fewer experiments: 100 per null scenario, 50 otherwise) and limma.

Usage::

    python bench_differential_abundance.py --write /tmp/da_sims   # the data, for the R script
    Rscript ../tests/reference/da_benchmark.R /tmp/da_sims         # from benchmarks/, once
    python bench_differential_abundance.py                         # the table
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

import immune_correlates as ic
from immune_correlates.design.population_counts import population_count_arrays, population_shares

K = 30
FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "fixtures" / "da_benchmark_r.csv"
DOUBLED = [3, 9, 15, 21, 27]
TRANSFERS = [(29, 4, 0.05), (28, 10, 0.04), (27, 16, 0.03)]


def scenarios():
    """name -> (counts (R, n, K), group (n,), changed (K,) bool or None when closure moves every population)."""
    out = {}
    for i, (n0, n1) in enumerate([(10, 10), (26, 8)]):
        tag = "10v10" if n0 == 10 else "8v26"
        g = np.r_[np.zeros(n0), np.ones(n1)]
        eff = np.zeros(K)
        eff[DOUBLED] = np.log(2.0)
        changed = np.zeros(K, bool)
        changed[[j for t in TRANSFERS for j in t[:2]]] = True
        doubled = np.zeros(K, bool)
        doubled[DOUBLED] = True
        rng = np.random.default_rng(20240611 + i)
        shares = population_shares(K)
        out[f"null_{tag}"] = (population_count_arrays(rng, 400, g, shares), g, np.zeros(K, bool))
        out[f"double_{tag}"] = (population_count_arrays(rng, 200, g, shares, log_effects=eff), g, doubled)
        out[f"transfer_{tag}"] = (population_count_arrays(rng, 200, g, shares, transfers=TRANSFERS), g, changed)
    return out


def write(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (C, g, changed) in scenarios().items():
        R, n, _ = C.shape
        long = pd.DataFrame(
            {
                "experiment": np.repeat(np.arange(R), n * K),
                "sample": np.tile(np.repeat(np.arange(n), K), R),
                "population": np.tile(np.arange(K), R * n),
                "count": C.reshape(-1),
            }
        )
        long.to_csv(directory / f"{name}_counts.csv", index=False)
        pd.DataFrame({"group": g.astype(int)}).to_csv(directory / f"{name}_group.csv", index=False)
        pd.DataFrame({"changed": changed.astype(int)}).to_csv(directory / f"{name}_changed.csv", index=False)
    print(f"wrote {len(scenarios())} scenarios to {directory}")


# --- the approaches computed in Python ------------------------------------------------------


def ours(c, g, **kw):
    ids = pd.Index([f"s{i}" for i in range(len(g))], name="sample_id")
    res = ic.differential_abundance(pd.DataFrame(c, index=ids), pd.DataFrame({"g": g}, index=ids), group="g", **kw)
    return res["p_value"].to_numpy()


def binomial_glm(c, g):
    """Wald test of a binomial GLM ``cbind(y, N - y) ~ group`` (closed form for one binary covariate)."""
    lib = c.sum(axis=1, keepdims=True)
    y1, y0 = c[g == 1].sum(0), c[g == 0].sum(0)
    n1, n0 = lib[g == 1].sum(), lib[g == 0].sum()
    b = np.log(y1 / (n1 - y1)) - np.log(y0 / (n0 - y0))
    se = np.sqrt(1 / y1 + 1 / (n1 - y1) + 1 / y0 + 1 / (n0 - y0))
    return 2 * stats.norm.sf(np.abs(b / se))


def quasi_binomial(c, g):
    """Quasi-binomial GLM: the binomial fit with its Wald SE scaled by the Pearson dispersion, t on n - 2 df."""
    lib = c.sum(axis=1, keepdims=True).astype(float)
    p1 = c[g == 1].sum(0) / lib[g == 1].sum()
    p0 = c[g == 0].sum(0) / lib[g == 0].sum()
    mu = np.where(g[:, None] == 1, p1, p0) * lib
    pearson = ((c - mu) ** 2 / (mu * (1 - mu / lib))).sum(0) / (len(g) - 2)
    b = np.log(p1 / (1 - p1)) - np.log(p0 / (1 - p0))
    y1, y0 = c[g == 1].sum(0), c[g == 0].sum(0)
    n1, n0 = lib[g == 1].sum(), lib[g == 0].sum()
    se = np.sqrt((1 / y1 + 1 / (n1 - y1) + 1 / y0 + 1 / (n0 - y0)) * pearson)
    return 2 * stats.t.sf(np.abs(b / se), len(g) - 2)


def wilcoxon(c, g):
    props = c / c.sum(axis=1, keepdims=True)
    return stats.mannwhitneyu(props[g == 1], props[g == 0], axis=0).pvalue


def t_log(c, g):
    lp = np.log2((c + 0.5) / (c.sum(axis=1, keepdims=True) + 1))
    return stats.ttest_ind(lp[g == 1], lp[g == 0], axis=0).pvalue


METHODS = {
    "immune_correlates (moderated t)": ours,
    "binomial GLM (ignores overdispersion)": binomial_glm,
    "quasi-binomial GLM": quasi_binomial,
    "Wilcoxon on proportions": wilcoxon,
    "t-test on log proportions": t_log,
}


def summarise(p: np.ndarray, changed: np.ndarray) -> dict:
    q = ic.adjust_pvalues(p)
    d = q < 0.05
    null = ~changed
    return {
        "n_null": int(null.sum()),
        "rejected_null": int((p[null] < 0.05).sum()),
        "discoveries": int(d.sum()),
        "false_discoveries": int((d & null).sum()),
        "n_changed": int(changed.sum()),
        "rejected_changed": int((p[changed] < 0.05).sum()),
    }


def rates(rows: pd.DataFrame, scenario: str) -> dict:
    fdp = rows["false_discoveries"] / rows["discoveries"].clip(lower=1)
    out = {"experiments": len(rows)}
    if not scenario.startswith("double"):
        out["per-test FPR"] = rows["rejected_null"].sum() / rows["n_null"].sum()
        out["FDR"] = fdp.mean()
        out["FDR SE"] = fdp.std(ddof=1) / np.sqrt(len(rows))
    if not scenario.startswith("null"):
        out["power (p < 0.05)"] = rows["rejected_changed"].sum() / rows["n_changed"].sum()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="write the simulated data for the R script and stop")
    parser.add_argument("--n-perm", type=int, default=999, help="permutations of ours on the null scenarios")
    args = parser.parse_args()
    if args.write:
        write(args.write)
        return
    rows = []
    timing = {}
    for name, (C, g, changed) in scenarios().items():
        for method, fn in METHODS.items():
            t0 = time.perf_counter()
            for r, c in enumerate(C):
                with np.errstate(divide="ignore", invalid="ignore"):
                    rows.append({"scenario": name, "experiment": r, "method": method, **summarise(fn(c, g), changed)})
            timing[(name, method)] = (time.perf_counter() - t0) / len(C)
        if name.startswith("null"):
            m = f"immune_correlates (permutation, {args.n_perm})"
            for r, c in enumerate(C[:100]):
                p = ours(c, g, n_perm=args.n_perm, seed=r)
                rows.append({"scenario": name, "experiment": r, "method": m, **summarise(p, changed)})
    table = pd.DataFrame(rows)
    if FIXTURE.exists():
        table = pd.concat([table, pd.read_csv(FIXTURE)], ignore_index=True)
    else:
        print(f"(no R fixture at {FIXTURE}: run the R script first for edgeR and the GLMM)", file=sys.stderr)
    out = []
    for (scenario, method), grp in table.groupby(["scenario", "method"], sort=False):
        out.append({"scenario": scenario, "method": method, **rates(grp, scenario)})
    result = pd.DataFrame(out)
    with pd.option_context("display.width", 200, "display.max_rows", 200, "display.float_format", "{:.4f}".format):
        for scenario, grp in result.groupby("scenario", sort=False):
            print(f"\n## {scenario}")
            print(grp.drop(columns="scenario").dropna(axis=1, how="all").to_markdown(index=False, floatfmt=".4f"))
    per_call = timing[("null_8v26", "immune_correlates (moderated t)")]
    print(f"\nours: {1000 * per_call:.1f} ms per experiment (34 samples x 30 populations, public call, shared machine)")


if __name__ == "__main__":
    main()
