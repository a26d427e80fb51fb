"""On-treatment samples of a simulated trial: the immune-monitoring visits.

From each patient's baseline blood (the composition :func:`simulate_immunophenotype`
drew), the model's treatment effects (:func:`~immune_correlates.design.model.monitoring_effects`,
:func:`~immune_correlates.design.model.on_treatment_counts`) give the true counts at each
visit; the visits follow the schedule of :data:`~immune_correlates.design.model.VISITS`
while the patient is on treatment and progression-free, plus an end-of-treatment sample,
with a few missed at random.  The tables are written in the input formats: the
immunophenotype table with each sample's ``day``, ``sample_date`` and ``alc`` (the sample's
own lymphocyte count, which dual-platform counts after the first dose need), and the
functional assays at :data:`~immune_correlates.design.model.FUNCTION_VISITS`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from . import model
from .simulate_immune import (
    BEADS_PER_TUBE,
    GATE_COLUMNS,
    SAMPLE_VOLUME_UL,
    gate_events,
    gate_rows,
    simulate_function_assays,
)

__all__ = ["simulate_on_treatment", "ON_TREATMENT_GATE_COLUMNS"]

CYCLE_DAYS = 28
#: Columns of the on-treatment immunophenotype table.
ON_TREATMENT_GATE_COLUMNS = GATE_COLUMNS[:2] + ["day", "sample_date"] + GATE_COLUMNS[2:] + ["alc"]
_CD3, _NONT = "Lymphocytes/CD3+", "Lymphocytes/CD3-"
_NK, _CLL = "Lymphocytes/CD3-/CD56+", "Lymphocytes/CD3-/CD19+CD5+"
_CD4, _CD8 = "Lymphocytes/CD3+/CD4+", "Lymphocytes/CD3+/CD8+"
#: Small gates kept near the patient's baseline share (logit-scale noise), shifted by function gain.
_KEPT = {
    "Lymphocytes/CD3+/CD4+/CD25+CD127lo": 0.0,
    "Lymphocytes/CD3+/CD8+/PD-1+": -0.4,
    "Lymphocytes/CD3-/CD56+/CD56bright": 0.0,
    "Lymphocytes/CD3-/CD56+/CD56dim CD16+": 0.3,
}


def _baseline(composition: pd.DataFrame, alc: np.ndarray) -> dict[str, np.ndarray]:
    lymph = alc * 1000.0
    cd3 = composition[_CD3].to_numpy() * lymph
    non_t = lymph - cd3
    out = {
        "cd4": cd3 * composition[_CD4].to_numpy(),
        "cd8": cd3 * composition[_CD8].to_numpy(),
        "nk": non_t * composition[_NK].to_numpy(),
        "cll": non_t * composition[_CLL].to_numpy(),
    }
    out["dn"] = cd3 - out["cd4"] - out["cd8"]
    out["other"] = non_t - out["nk"] - out["cll"]
    return out


def _schedule(days: pd.DataFrame, cycles: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Visits actually attended: on treatment, before progression or death, not missed; then end of treatment."""
    n, names = len(days), list(model.VISITS)
    nominal = np.array([model.VISITS[v] for v in names], dtype=float)
    jitter = rng.integers(-model.VISIT_JITTER, model.VISIT_JITTER + 1, (n, len(names)))
    missed = rng.random((n, len(names) + 1)) < model.P_MISSED
    eot_delay = rng.integers(0, 8, n)
    pfs, death, last = (days[c].to_numpy() for c in ("pfs_day", "death_day", "last_day"))
    rows = []
    for i in range(n):
        end = cycles[i] * CYCLE_DAYS
        taken = []
        for j, name in enumerate(names):
            day = max(nominal[j] + jitter[i, j], 1.0)
            if day < min(pfs[i], end) and not missed[i, j]:
                taken.append((i, name, day))
        eot = min(end + eot_delay[i], pfs[i])
        alive = np.isnan(death[i]) or eot < death[i]
        after_last = not taken or eot > taken[-1][2] + 7
        if alive and after_last and eot <= last[i] and not missed[i, -1]:
            taken.append((i, "EOT", float(eot)))
        rows.extend(taken)
    return pd.DataFrame(rows, columns=["who", "timepoint", "day"])


def _gate_fractions(counts: dict, composition: pd.DataFrame, who, gain, rng) -> dict:
    p = {
        _CD3: counts["cd3"] / counts["lymphocytes"],
        _NONT: 1 - counts["cd3"] / counts["lymphocytes"],
        _NK: counts["nk"] / (counts["lymphocytes"] - counts["cd3"]),
        _CLL: counts["cll"] / (counts["lymphocytes"] - counts["cd3"]),
        _CD4: counts["cd4"] / counts["cd3"],
        _CD8: counts["cd8"] / counts["cd3"],
    }
    e = rng.standard_normal((len(who), len(_KEPT)))
    for j, (path, shift) in enumerate(_KEPT.items()):
        base = np.clip(composition[path].to_numpy()[who], 1e-4, 1 - 1e-4)
        p[path] = expit(logit(base) + 0.2 * e[:, j] + shift * gain)
    bright, dim = "Lymphocytes/CD3-/CD56+/CD56bright", "Lymphocytes/CD3-/CD56+/CD56dim CD16+"
    p[dim] = np.minimum(p[dim], 0.99 - p[bright])
    return p


def simulate_on_treatment(
    truth: pd.DataFrame,
    days: pd.DataFrame,
    cycles: np.ndarray,
    clinical: pd.DataFrame,
    composition: pd.DataFrame,
    rng: np.random.Generator,
    *,
    assayed=None,
) -> dict[str, pd.DataFrame]:
    """The on-treatment immunophenotype and functional-assay tables, and their truth.

    Parameters
    ----------
    truth : DataFrame
        Patient-level truth (drivers, ``response_group``) indexed by ``patient_id``.
    days : DataFrame
        :func:`~immune_correlates.design.simulate_cohort.event_days` of the patients.
    cycles : ndarray
        Cycles received.
    clinical : DataFrame
        The clinical table (``treatment_start``, ``alc``).
    composition : DataFrame
        True baseline gate fractions and bead use per patient (from
        :func:`~immune_correlates.design.simulate_immune.simulate_immunophenotype`).
    rng : Generator
        A stream of its own, so the baseline tables do not depend on these draws.
    assayed : collection of str, optional
        Patients whose cells go to the functional assays (those with baseline functional
        data: a patient with too few cells at baseline has too few on treatment as well).

    Returns
    -------
    dict
        ``immunophenotype``, ``function_assays`` (input formats with ``day`` and
        ``sample_date``) and ``truth`` (one row per sample: true counts and effects).
    """
    group = np.array([model.GROUPS.index(g) for g in truth["response_group"]])
    effects = model.monitoring_effects(group, rng)
    visits = _schedule(days, cycles, rng)
    who, day = visits["who"].to_numpy(), visits["day"].to_numpy()
    alc0 = clinical["alc"].to_numpy(dtype=float)
    counts = model.on_treatment_counts(_baseline(composition, alc0), effects, who, day, rng)
    gain = effects["function"][who] * model.time_course(day, model.EXPANSION_DAYS)
    p = _gate_fractions(counts, composition, who, gain, rng)
    m = len(visits)
    lymph_events = rng.integers(30000, 80001, m)
    leuk_events = np.round(lymph_events / rng.uniform(0.85, 0.97, m)).astype(int)
    events = gate_events(p, lymph_events, rng)
    alc = np.round(counts["lymphocytes"] / 1000.0 * np.exp(0.04 * rng.standard_normal(m)), 2)
    start = pd.to_datetime(clinical["treatment_start"]).to_numpy()[who]
    dates = [pd.Timestamp(s + np.timedelta64(int(d), "D")).date().isoformat() for s, d in zip(start, day)]
    ids = truth.index.to_numpy()[who]
    bead = composition["bead"].to_numpy(dtype=bool)[who]
    bead_events = np.round(lymph_events * BEADS_PER_TUBE / (SAMPLE_VOLUME_UL * counts["lymphocytes"])).astype(int)
    extra = {"day": day.astype(int), "sample_date": dates, "alc": alc}
    rows = gate_rows(
        ids, visits["timepoint"].to_numpy(), ["Lymphocytes"] + sorted(p), events, leuk_events, bead, bead_events, extra
    )
    immuno = pd.DataFrame(rows, columns=ON_TREATMENT_GATE_COLUMNS)
    immuno["bead_events"] = immuno["bead_events"].astype("Int64")
    assays = _function_assays(truth, visits, gain, ids, extra, rng, assayed)
    sample_truth = pd.DataFrame(
        {
            "patient_id": ids,
            "timepoint": visits["timepoint"].to_numpy(),
            "day": day.astype(int),
            **{f"true_{k}_per_ul": counts[k] for k in ("cd3", "cd4", "cd8", "nk", "cll")},
            "true_alc": counts["lymphocytes"] / 1000.0,
            "t_function": truth["t_function"].to_numpy()[who] + gain,
            "nk_function": truth["nk_function"].to_numpy()[who] + gain,
            **{f"{k}_effect": effects[k][who] for k in ("nk", "cd8", "cd4", "function")},
        }
    )
    return {"immunophenotype": immuno, "function_assays": assays, "truth": sample_truth}


def _function_assays(truth, visits, gain, ids, extra, rng, assayed) -> pd.DataFrame:
    sel = visits["timepoint"].isin(model.FUNCTION_VISITS).to_numpy().copy()
    if assayed is not None:
        sel &= np.isin(ids, list(assayed))
    readout = pd.DataFrame(
        {
            "t_function": truth["t_function"].to_numpy()[visits["who"].to_numpy()[sel]] + gain[sel],
            "nk_function": truth["nk_function"].to_numpy()[visits["who"].to_numpy()[sel]] + gain[sel],
        },
        index=pd.Index(ids[sel], name="patient_id"),
    )
    tps = visits["timepoint"].to_numpy()[sel]
    table = simulate_function_assays(readout, rng, missing=2, timepoints=tps)
    key = pd.MultiIndex.from_arrays([ids[sel], tps])
    when = pd.DataFrame({"day": extra["day"][sel], "sample_date": np.asarray(extra["sample_date"])[sel]}, index=key)
    at = pd.MultiIndex.from_frame(table[["patient_id", "timepoint"]])
    table.insert(2, "day", when["day"].reindex(at).to_numpy())
    table.insert(3, "sample_date", when["sample_date"].reindex(at).to_numpy())
    return table
