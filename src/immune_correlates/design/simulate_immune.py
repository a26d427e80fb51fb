"""Simulated flow-cytometry and functional-assay tables.

Baseline values are drawn to look like peripheral blood of patients with
relapsed/refractory CLL: a lymphocyte count of tens of 10^9/L dominated by
CLL cells, with T cells around 1,800/uL and NK cells around 350/uL (medians;
CLL patients typically have normal-to-raised absolute T and NK counts and an
often inverted CD4:CD8 ratio, see Riches & Gribben, Hematol Oncol Clin North Am
2013; Palmer et al., Br J Haematol 2008).  Gate event counts are binomial draws
from the parent gate, so small gates carry real counting noise.  The drivers of
:mod:`~immune_correlates.data.design` enter as: log CD3 and log NK counts, and
the latent T-cell and NK-cell function read out by each assay with noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

__all__ = [
    "simulate_immunophenotype",
    "simulate_function_assays",
    "gate_events",
    "gate_rows",
    "ET_RATIOS",
    "COUNT_MEDIANS",
    "GATE_COLUMNS",
]

#: Median and log-scale SD of the absolute counts (cells/uL) at driver value 0.
COUNT_MEDIANS = {"cd3": (1800.0, 0.55), "nk": (350.0, 0.6)}
ET_RATIOS = (40, 20, 10, 5)
BEADS_PER_TUBE = 50500.0
SAMPLE_VOLUME_UL = 50.0


def _fraction(rng, n, mean, sd, shift=0.0):
    return expit(logit(mean) + rng.normal(0, sd, n) + shift)


#: Columns of the immunophenotype table, in order (``alc`` and the sample timing only on treatment).
GATE_COLUMNS = [
    "patient_id",
    "timepoint",
    "gating_path",
    "freq_of_parent",
    "event_count",
    "bead_events",
    "beads_per_tube",
    "sample_volume_ul",
]


def gate_events(p: dict, lymph_events: np.ndarray, rng: np.random.Generator) -> dict:
    """Binomial event counts down the gating tree: each gate from its parent's events and its fraction ``p``."""
    counts = {"Lymphocytes": lymph_events}
    for path in sorted(p, key=lambda s: s.count("/")):  # parents before children
        parent = path.rsplit("/", 1)[0]
        counts[path] = rng.binomial(counts[parent], np.clip(p[path], 0, 1))
    return counts


def gate_rows(
    ids, timepoints, paths, counts: dict, leuk_events, bead, bead_events, extra: dict | None = None
) -> list[dict]:
    """One row per sample and gate: frequency of parent (from the events), events and bead data."""
    rows = []
    for i, pid in enumerate(ids):
        for path in paths:
            parent_count = leuk_events[i] if path == "Lymphocytes" else counts[path.rsplit("/", 1)[0]][i]
            freq = 100.0 * counts[path][i] / parent_count if parent_count else 0.0
            row = {
                "patient_id": pid,
                "timepoint": timepoints[i],
                "gating_path": path,
                "freq_of_parent": round(float(freq), 3),
                "event_count": int(counts[path][i]),
            }
            if bead[i]:
                row.update(
                    bead_events=int(bead_events[i]), beads_per_tube=BEADS_PER_TUBE, sample_volume_ul=SAMPLE_VOLUME_UL
                )
            if extra:
                row.update({k: v[i] for k, v in extra.items()})
            rows.append(row)
    return rows


def simulate_immunophenotype(
    truth: pd.DataFrame, alc: np.ndarray, rng: np.random.Generator, *, return_fractions: bool = False
):
    """Long immunophenotype table at baseline, and the true absolute counts.

    Returns
    -------
    table : DataFrame
        ``patient_id, timepoint, gating_path, freq_of_parent, event_count`` and,
        for about half the patients (single-platform bead counting), ``bead_events,
        beads_per_tube, sample_volume_ul``.
    counts : DataFrame
        True concentrations (cells/uL) per patient, indexed like ``truth``.
    fractions : DataFrame
        With ``return_fractions=True``: the true fraction of each gate among its
        parent (columns: gating paths), the sample composition that on-treatment
        samples start from.
    """
    n = len(truth)
    lymph_ul = alc * 1000.0
    cd3 = np.exp(np.log(COUNT_MEDIANS["cd3"][0]) + COUNT_MEDIANS["cd3"][1] * truth["log2_cd3"].to_numpy())
    nk = np.exp(np.log(COUNT_MEDIANS["nk"][0]) + COUNT_MEDIANS["nk"][1] * truth["log2_nk"].to_numpy())
    cd3 = np.minimum(cd3, 0.45 * lymph_ul)
    nk = np.minimum(nk, 0.5 * (lymph_ul - cd3))
    p = {
        "Lymphocytes/CD3+": cd3 / lymph_ul,
        "Lymphocytes/CD3-": 1 - cd3 / lymph_ul,
    }
    p["Lymphocytes/CD3-/CD56+"] = nk / (lymph_ul - cd3)
    p["Lymphocytes/CD3-/CD19+CD5+"] = (1 - p["Lymphocytes/CD3-/CD56+"]) * _fraction(rng, n, 0.97, 0.5)
    cd4 = _fraction(rng, n, 0.55, 0.5)
    p["Lymphocytes/CD3+/CD4+"] = cd4
    p["Lymphocytes/CD3+/CD8+"] = np.minimum(_fraction(rng, n, 0.38, 0.5), 0.97 - cd4)
    p["Lymphocytes/CD3+/CD4+/CD25+CD127lo"] = _fraction(rng, n, 0.08, 0.4)
    p["Lymphocytes/CD3+/CD8+/PD-1+"] = _fraction(rng, n, 0.35, 0.4, -0.4 * truth["t_function"].to_numpy())
    p["Lymphocytes/CD3-/CD56+/CD56bright"] = _fraction(rng, n, 0.06, 0.5)
    p["Lymphocytes/CD3-/CD56+/CD56dim CD16+"] = np.minimum(
        _fraction(rng, n, 0.85, 0.4, 0.3 * truth["nk_function"].to_numpy()),
        0.99 - p["Lymphocytes/CD3-/CD56+/CD56bright"],
    )
    lymph_events = rng.integers(30000, 80001, n)
    leuk_events = np.round(lymph_events / rng.uniform(0.85, 0.97, n)).astype(int)
    counts = gate_events(p, lymph_events, rng)
    bead = rng.random(n) < 0.5
    bead_events = np.round(lymph_events * BEADS_PER_TUBE / (SAMPLE_VOLUME_UL * lymph_ul)).astype(int)
    rows = gate_rows(truth.index, ["baseline"] * n, ["Lymphocytes"] + sorted(p), counts, leuk_events, bead, bead_events)
    table = pd.DataFrame(rows, columns=GATE_COLUMNS)
    table["bead_events"] = table["bead_events"].astype("Int64")
    true_counts = pd.DataFrame(
        {
            "true_cd3_per_ul": cd3,
            "true_nk_per_ul": nk,
            "true_cd4_per_ul": cd3 * p["Lymphocytes/CD3+/CD4+"],
            "true_cd8_per_ul": cd3 * p["Lymphocytes/CD3+/CD8+"],
        },
        index=truth.index,
    )
    if return_fractions:
        return table, true_counts, pd.DataFrame(p, index=truth.index).assign(bead=bead)
    return table, true_counts


# (assay, cell type, stimulated fraction at function 0, unstimulated fraction)
_PERCENT_ASSAYS = (
    ("cd107a", "CD8 T", 0.12, 0.015, "t_function"),
    ("ifng", "CD8 T", 0.15, 0.008, "t_function"),
    ("tnf", "CD8 T", 0.22, 0.012, "t_function"),
    ("proliferation", "T", 0.45, 0.03, "t_function"),
    ("cd107a", "NK", 0.25, 0.02, "nk_function"),
    ("ifng", "NK", 0.12, 0.006, "nk_function"),
)


def simulate_function_assays(
    truth: pd.DataFrame, rng: np.random.Generator, missing: int = 2, *, timepoints=None
) -> pd.DataFrame:
    """Long functional-assay table at baseline (or, with ``timepoints``, one sample per row of ``truth``).

    Percent-positive readouts: ``logit(stimulated) = logit(base) + 0.5 * function
    + N(0, 0.35)``; unstimulated controls ``logit(base_unstim) + N(0, 0.3)``.
    Killing: percent specific lysis ``70 * (1 - exp(-k * E:T)) + N(0, 2)`` with
    ``log k = log 0.02 + 0.5 * nk_function + N(0, 0.2)`` (natural cytotoxicity)
    and ``1.8 k`` for ADCC with anti-CD20.  Division index of stimulated T cells
    ``0.6 exp(0.4 * t_function + N(0, 0.2))``; immune-synapse index
    ``exp(0.3 * t_function + N(0, 0.2))`` for about 70% of patients.  ``missing`` patients have no
    functional data (too few cells), as happens in practice.
    """
    n = len(truth)
    no_data = set(rng.choice(n, size=min(missing, n), replace=False).tolist()) if missing else set()
    rows = []
    for i, pid in enumerate(truth.index):
        if i in no_data:
            continue
        for assay, cell, base, unstim, driver in _PERCENT_ASSAYS:
            f = truth[driver].iloc[i]
            stim = 100 * expit(logit(base) + 0.5 * f + rng.normal(0, 0.35))
            bg = 100 * expit(logit(unstim) + rng.normal(0, 0.3))
            rows.append((i, pid, assay, cell, "unstimulated", round(bg, 2), "%"))
            rows.append((i, pid, assay, cell, "stimulated", round(stim, 2), "%"))
        k = np.exp(np.log(0.02) + 0.5 * truth["nk_function"].iloc[i] + rng.normal(0, 0.2))
        for assay, mult in (("cytotoxicity", 1.0), ("adcc", 1.8)):
            for r in ET_RATIOS:
                lysis = min(70 * (1 - np.exp(-mult * k * r)) + rng.normal(0, 2), 100.0)
                rows.append((i, pid, assay, "NK", f"E:T {r}:1", round(lysis, 1), "% lysis"))
        division = 0.6 * np.exp(0.4 * truth["t_function"].iloc[i] + rng.normal(0, 0.2))
        rows.append((i, pid, "proliferation", "T", "stimulated", round(float(division), 3), "index"))
        if rng.random() < 0.7:
            index = np.exp(0.3 * truth["t_function"].iloc[i] + rng.normal(0, 0.2))
            rows.append((i, pid, "synapse", "T", "stimulated", round(float(index), 3), "index"))
    table = pd.DataFrame(rows, columns=["_sample", "patient_id", "assay", "cell_type", "condition", "value", "unit"])
    sample = table.pop("_sample").to_numpy(dtype=int)
    table.insert(1, "timepoint", "baseline" if timepoints is None else np.asarray(timepoints, dtype=object)[sample])
    return table
