"""Simulated trials: the four input tables of a cohort from a design and a seed.

``simulate(design, seed=seed)`` draws patients from the model of
:class:`~immune_correlates.data.design.TrialDesign` and writes them in the
documented input formats (ISO dates, long assay tables), so a simulated trial
goes through exactly the same reading, validation and feature derivation as a
real one.  The same seed gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import _seeds
from .._params import COUNT, FLAG, SEED, Instance, Options, check_params
from ..data.cohort import read_cohort
from ..data.design import DRIVERS, OFA_LEN_DESIGN, TrialDesign
from ..data.endpoints import DAYS_PER_MONTH
from ..errors import ConfigError
from . import model
from .simulate_immune import simulate_function_assays, simulate_immunophenotype
from .simulate_monitoring import simulate_on_treatment

__all__ = ["simulate", "SimulatedTrial", "draw_patients"]

CYCLE_DAYS = 28
_START = pd.Timestamp("2010-03-01")


@dataclass(frozen=True, eq=False)
class SimulatedTrial:
    """A simulated trial: input tables, the patient-level truth and the design.

    Attributes
    ----------
    tables : dict of DataFrame
        ``clinical``, ``immunophenotype``, ``function_assays``, ``adverse_events``
        in the input formats of ``docs/data-format.md`` (dates as ISO text).
    truth : DataFrame
        Per patient: the four drivers, the linear predictors and the latent
        times in months.
    design : TrialDesign
    seed : int or None
    features : DataFrame
        The measured features as the power simulations see them (one row per
        patient): each driver with the design's measurement error (the
        immunophenotype and assay tables read these out), then the null
        features ``null_1 ..`` (which no table carries; join them to
        :func:`~immune_correlates.analysis_frame` to screen them).
    on_treatment : dict of DataFrame
        ``immunophenotype`` and ``function_assays`` of the on-treatment visits (with
        ``day``, ``sample_date`` and the sample's ``alc``), written as
        ``<table>_on_treatment.csv``; empty when simulated without them.
    truth_on_treatment : DataFrame or None
        One row per on-treatment sample: true counts, function and the patient's effects.
    """

    tables: dict
    truth: pd.DataFrame
    design: TrialDesign
    seed: int | None
    notes: tuple[str, ...] = field(default=())
    features: pd.DataFrame | None = None
    on_treatment: dict = field(default_factory=dict)
    truth_on_treatment: pd.DataFrame | None = None

    @property
    def cohort(self):
        """The tables read and validated by :func:`immune_correlates.read_cohort` (on-treatment samples included)."""
        tables = dict(self.tables)
        for name, later in self.on_treatment.items():
            tables[name] = [tables[name], later]
        c = read_cohort(**tables)
        c.metadata.update({"design": self.design.to_dict(), "seed": self.seed, "synthetic": True})
        return c

    def write(self, directory: str | Path) -> list[Path]:
        """Write the four tables as CSV plus ``truth.csv`` and ``design.json``.

        Files are written to temporary names and renamed into place, so an
        interrupted call leaves no half-written table.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        payloads = {
            f"{name}.csv": table.to_csv(index=False, lineterminator="\n") for name, table in self.tables.items()
        }
        payloads["truth.csv"] = self.truth.to_csv(index=True, lineterminator="\n", float_format="%.6f")
        for name, table in self.on_treatment.items():
            payloads[f"{name}_on_treatment.csv"] = table.to_csv(index=False, lineterminator="\n")
        if self.truth_on_treatment is not None:
            payloads["truth_on_treatment.csv"] = self.truth_on_treatment.to_csv(
                index=False, lineterminator="\n", float_format="%.6f"
            )
        meta = {"seed": self.seed, "design": self.design.to_dict(), "drivers": list(DRIVERS), "notes": list(self.notes)}
        payloads["design.json"] = json.dumps(meta, indent=2, sort_keys=True) + "\n"
        for name, text in payloads.items():
            target = directory / name
            tmp = directory / f".{name}.tmp"
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
            written.append(target)
        return written


def _rank_assign(score: np.ndarray, counts: list[int], labels: list[str]) -> np.ndarray:
    """Assign ``labels`` (best first) to the highest scores in the given counts."""
    order = np.argsort(-score, kind="stable")
    out = np.empty(len(score), dtype=object)
    start = 0
    for label, k in zip(labels, counts):
        out[order[start : start + k]] = label
        start += k
    return out


def draw_patients(design: TrialDesign, rng: np.random.Generator, exact: bool = False) -> pd.DataFrame:
    """Patient-level truth: drivers, response, latent event times (months).

    With ``exact=True`` the response categories are assigned by rank of the
    latent response score in the counts ``round(n * p)``, so a small cohort has
    exactly the design's proportions.
    """
    n = int(design.n_patients)
    z = model.draw_drivers(design, rng, (n,))
    eta = z @ design.coefficients("or_cr")
    latent = eta + rng.logistic(size=n)
    if exact:
        n_cr = int(round(n * design.p_cr))
        n_pr = int(round(n * design.p_pr))
        group = _rank_assign(latent, [n_cr, n_pr, n - n_cr - n_pr], ["CR", "PR", "NR"])
    else:
        group = np.array(model.GROUPS, dtype=object)[model.response_groups(design, latent)]
    best = np.empty(n, dtype=object)
    sub = {"CR": (["CRi", "CR"], design.p_cri_given_cr), "PR": (["nPR", "PR"], design.p_npr_given_pr)}
    for g, (labels, p_first) in sub.items():
        idx = np.flatnonzero(group == g)
        if exact:
            k = int(round(len(idx) * p_first))
            first = rng.permutation(idx)[:k]
        else:
            first = idx[rng.random(len(idx)) < p_first]
        best[idx] = labels[1]
        best[first] = labels[0]
    nr = np.flatnonzero(group == "NR")
    best[nr] = rng.choice(["SD", "PD", "NE"], size=len(nr), p=[0.6, 0.3, 0.1])
    mrd = np.full(n, np.nan)
    cr_idx = np.flatnonzero(group == "CR")
    if exact:
        k = int(round(len(cr_idx) * design.p_mrd_negative_given_cr))
        neg = rng.permutation(cr_idx)[:k]
    else:
        neg = cr_idx[rng.random(len(cr_idx)) < design.p_mrd_negative_given_cr]
    mrd[np.flatnonzero(group != "NR")] = 0.0
    mrd[neg] = 1.0

    codes = np.array([model.GROUPS.index(g) for g in group])
    lp = model.progression_linear_predictor(design, z, codes)
    t_prog = model.progression_times(design, lp, rng.exponential(size=n))
    t_death_free = (
        model.death_free_times(design, rng.exponential(size=n))
        if design.death_free_rate_per_month > 0
        else np.full(n, np.inf)
    )
    post = model.post_progression_times(design, rng.exponential(size=n))
    enrol = rng.uniform(0, design.accrual_months, size=n)
    censor = model.censoring_times(design, enrol)
    truth = pd.DataFrame(z, columns=list(DRIVERS))
    truth["eta_response"] = eta
    truth["latent_response"] = latent
    truth["lp_pfs"] = lp
    truth["response_group"] = group
    truth["best_response"] = best
    truth["mrd_negative"] = mrd
    truth["enrol_months"] = enrol
    truth["t_progression"] = t_prog
    truth["t_death_free"] = t_death_free
    truth["t_post_progression"] = post
    truth["t_censor"] = censor
    truth.index = pd.Index([f"OL{i + 1:03d}" for i in range(n)], name="patient_id")
    return truth


def event_days(truth: pd.DataFrame) -> pd.DataFrame:
    """Whole-day progression, death and follow-up times from the latent times."""

    def days(months):
        return np.maximum(np.round(np.asarray(months, dtype=float) * DAYS_PER_MONTH), 1.0)

    prog, dfree = truth["t_progression"].to_numpy(), truth["t_death_free"].to_numpy()
    death = np.where(prog < dfree, prog + truth["t_post_progression"].to_numpy(), dfree)
    cens = days(truth["t_censor"])
    prog_d, death_d = days(np.minimum(prog, 1e6)), days(np.minimum(death, 1e6))
    out = pd.DataFrame(index=truth.index)
    out["progression_day"] = np.where((prog < dfree) & (prog_d <= cens), prog_d, np.nan)
    out["death_day"] = np.where(death_d <= cens, death_d, np.nan)
    out["last_day"] = np.where(np.isnan(out["death_day"]), cens, out["death_day"])
    out["pfs_day"] = np.fmin(out["progression_day"], out["death_day"]).fillna(out["last_day"])
    return out


def _cycles(days: pd.DataFrame, design: TrialDesign, rng: np.random.Generator) -> np.ndarray:
    on_treatment = np.minimum(days["pfs_day"].to_numpy(), design.max_cycles * CYCLE_DAYS)
    cycles = np.clip(np.ceil(on_treatment / CYCLE_DAYS), 1, design.max_cycles)
    stop_early = rng.random(len(cycles)) < 0.12  # discontinuation for toxicity or choice
    early = np.ceil(rng.uniform(0, 1, len(cycles)) * cycles)
    return np.where(stop_early, np.maximum(early, 1), cycles).astype(int)


def adjust_total(cycles: np.ndarray, room: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray:
    """Add or remove single cycles at random until they sum to ``target`` (1 <= cycles <= room)."""
    cycles = cycles.copy()
    while cycles.sum() != target:
        if cycles.sum() < target:
            eligible = np.flatnonzero(cycles < room)
            step = 1
        else:
            eligible = np.flatnonzero(cycles > 1)
            step = -1
        if not len(eligible):
            raise ConfigError(f"cannot make the cycles sum to {target}: every patient is at a bound.")
        cycles[rng.choice(eligible)] += step
    return cycles


def response_days(truth: pd.DataFrame, days: pd.DataFrame) -> np.ndarray:
    """Whole days from treatment start to first documented response (NaN for non-responders).

    At least day 1 and never after the end of progression-free survival.
    """
    t = truth["t_response"].to_numpy(dtype=float)
    d = np.clip(np.round(t * DAYS_PER_MONTH), 1.0, days["pfs_day"].to_numpy())
    return np.where(np.isnan(t), np.nan, d)


def _clinical_table(
    truth: pd.DataFrame, days: pd.DataFrame, cycles: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    n = len(truth)
    start = _START + pd.to_timedelta(np.round(truth["enrol_months"].to_numpy() * DAYS_PER_MONTH), unit="D")

    def date(offset):
        values = [
            (s + pd.Timedelta(days=float(d))).date().isoformat() if np.isfinite(d) else ""
            for s, d in zip(start, offset)
        ]
        return values

    alc = np.round(np.exp(rng.normal(np.log(40.0), 0.8, n)), 1)
    clinical = pd.DataFrame(
        {
            "patient_id": truth.index,
            "age": np.clip(np.round(rng.normal(63, 9, n)), 38, 86).astype(int),
            "sex": rng.choice(["M", "F"], size=n, p=[0.7, 0.3]),
            "del17p": (rng.random(n) < 0.2).astype(int),
            "ighv_unmutated": (rng.random(n) < 0.7).astype(int),
            "prior_therapies": np.minimum(1 + rng.poisson(1.3, n), 8),
            "treatment_start": [s.date().isoformat() for s in start],
            "best_response": truth["best_response"].to_numpy(),
            "response_date": date(response_days(truth, days)),
            "mrd_negative": ["" if np.isnan(m) else str(int(m)) for m in truth["mrd_negative"]],
            "progression_date": date(days["progression_day"].to_numpy()),
            "death_date": date(days["death_day"].to_numpy()),
            "last_followup": date(days["last_day"].to_numpy()),
            "alc": alc,
            "cycles_received": cycles,
        }
    )
    return clinical


def _adverse_events(
    cycles: np.ndarray,
    ids: pd.Index,
    rng: np.random.Generator,
    neutropenia_cycles: int | None,
    pneumonia: int | None,
    febrile: int | None,
) -> pd.DataFrame:
    pc = [(pid, c) for pid, k in zip(ids, cycles) for c in range(1, k + 1)]
    weights = np.array([1 / np.sqrt(c) for _, c in pc])
    n_neut = neutropenia_cycles if neutropenia_cycles is not None else int(rng.binomial(len(pc), 0.18))
    chosen = rng.choice(len(pc), size=n_neut, replace=False, p=weights / weights.sum())
    rows = [
        (pc[i][0], pc[i][1], "Neutrophil count decreased", int(rng.choice([3, 4], p=[0.7, 0.3])))
        for i in sorted(chosen)
    ]
    rest = np.setdiff1d(np.arange(len(pc)), chosen)
    mild = rest[rng.random(len(rest)) < 0.12]
    rows += [(pc[i][0], pc[i][1], "Neutrophil count decreased", int(rng.choice([1, 2]))) for i in mild]
    n = len(ids)
    k_pn = pneumonia if pneumonia is not None else int(rng.binomial(n, 8 / 34))
    for i in rng.choice(n, size=k_pn, replace=False):
        rows.append((ids[i], int(rng.integers(1, cycles[i] + 1)), "Pneumonia", int(rng.choice([2, 3], p=[0.4, 0.6]))))
    severe_by_patient = {pid: c for pid, c, term, g in rows if term == "Neutrophil count decreased" and g >= 3}
    k_fn = febrile if febrile is not None else int(rng.binomial(n, 3 / 34))
    candidates = [i for i, pid in enumerate(ids) if pid in severe_by_patient] or list(range(n))
    for i in rng.choice(candidates, size=min(k_fn, len(candidates)), replace=False):
        rows.append((ids[i], severe_by_patient.get(ids[i], 1), "Febrile neutropenia", 3))
    for i in range(n):
        if rng.random() < 0.5:
            rows.append((ids[i], 1, "Infusion related reaction", int(rng.choice([1, 2]))))
        if rng.random() < 0.35:
            rows.append(
                (ids[i], int(rng.integers(1, cycles[i] + 1)), "Platelet count decreased", int(rng.choice([1, 2, 3])))
            )
        if rng.random() < 0.4:
            rows.append((ids[i], int(rng.integers(1, cycles[i] + 1)), "Fatigue", int(rng.choice([1, 2]))))
    ae = pd.DataFrame(rows, columns=["patient_id", "cycle", "term", "grade"])
    return ae.sort_values(["patient_id", "cycle", "term"], kind="stable").reset_index(drop=True)


@check_params(
    seed=SEED,
    exact=FLAG,
    total_cycles=(Options(None), COUNT),
    neutropenia_cycles=(Options(None), COUNT),
    pneumonia_patients=(Options(None), COUNT),
    febrile_neutropenia_patients=(Options(None), COUNT),
    design=(Options(None), Instance(TrialDesign, name="a TrialDesign")),
    on_treatment=FLAG,
)
def simulate(
    design: TrialDesign | None = None,
    *,
    seed: int | None = None,
    exact: bool = False,
    total_cycles: int | None = None,
    neutropenia_cycles: int | None = None,
    pneumonia_patients: int | None = None,
    febrile_neutropenia_patients: int | None = None,
    on_treatment: bool = True,
    _calibrate=None,
) -> SimulatedTrial:
    """Simulate a trial's four input tables.

    Parameters
    ----------
    design : TrialDesign, optional
        Defaults to the design of the bundled ofatumumab + lenalidomide cohort.
    seed : int, optional
        Seed of a :class:`numpy.random.Generator` (PCG64); the same seed gives
        identical tables.
    exact : bool
        Assign response categories in exact proportions (``round(n * p)``) and
        use the exact adverse-event counts below, instead of random draws.
    total_cycles, neutropenia_cycles, pneumonia_patients, febrile_neutropenia_patients : int, optional
        Exact totals (``total_cycles`` only with ``exact=True``); otherwise drawn
        at the published rates (18% of cycles, 8/34 and 3/34 of patients).
    on_treatment : bool
        Also simulate the on-treatment immune-monitoring visits (C1D15, C3D1, C6D1,
        C12D1 and end of treatment; :mod:`immune_correlates.design.simulate_monitoring`).
        They come from a random stream of their own: the baseline tables are the same
        with or without them.

    Returns
    -------
    SimulatedTrial
        ``.tables`` (the four input tables), ``.truth``, ``.features``,
        ``.cohort`` and ``.write(dir)``.

    Notes
    -----
    The model is :mod:`immune_correlates.design.model`, the same as the power
    simulations' (:func:`immune_correlates.design.simulate_trials`):
    ``driver_distribution``, ``measurement_sd`` and ``n_null_features`` act
    here as there.  Responders get a ``response_date`` (first documented
    response).

    Examples
    --------
    >>> import immune_correlates as ic
    >>> trial = ic.simulate(seed=1)
    >>> trial.cohort.n_patients
    34
    """
    design = OFA_LEN_DESIGN if design is None else design
    rng = _seeds.rng(seed, caller="simulate")
    # measurement error, null features and response times come from child streams,
    # so the main stream (and every table drawn from it) does not depend on them
    # (and so do the on-treatment visits)
    feature_rng, response_rng, monitor_rng = rng.spawn(3)
    truth = draw_patients(design, rng, exact=exact)
    if _calibrate is not None:
        truth = _calibrate(truth)
    first = np.minimum(truth["t_progression"].to_numpy(), truth["t_death_free"].to_numpy())
    codes = np.array([model.GROUPS.index(g) for g in truth["response_group"]])
    truth["t_response"] = model.response_times(design, codes, first, truth["t_censor"].to_numpy(), response_rng)
    days = event_days(truth)
    cycles = _cycles(days, design, rng)
    if exact and total_cycles is not None:
        room = np.clip(np.ceil(days["pfs_day"].to_numpy() / CYCLE_DAYS), 1, design.max_cycles).astype(int)
        cycles = adjust_total(np.minimum(cycles, room), room, total_cycles, rng)
    clinical = _clinical_table(truth, days, cycles, rng)
    ae = _adverse_events(cycles, truth.index, rng, neutropenia_cycles, pneumonia_patients, febrile_neutropenia_patients)
    measured = model.measured_features(design, truth[list(DRIVERS)].to_numpy(), feature_rng)
    features = pd.DataFrame(measured, index=truth.index, columns=list(model.feature_names(design)))
    readout = truth.copy()
    readout[list(DRIVERS)] = measured[:, : len(DRIVERS)]
    immuno, counts, composition = simulate_immunophenotype(
        readout, clinical["alc"].to_numpy(), rng, return_fractions=True
    )
    assays = simulate_function_assays(readout, rng)
    tables = {"clinical": clinical, "immunophenotype": immuno, "function_assays": assays, "adverse_events": ae}
    truth = truth.join(counts)
    later, later_truth = {}, None
    if on_treatment:
        out = simulate_on_treatment(
            truth, days, cycles, clinical, composition, monitor_rng, assayed=set(assays["patient_id"])
        )
        later = {"immunophenotype": out["immunophenotype"], "function_assays": out["function_assays"]}
        later_truth = out["truth"]
    return SimulatedTrial(
        tables=tables,
        truth=truth,
        design=design,
        seed=seed,
        features=features,
        on_treatment=later,
        truth_on_treatment=later_truth,
    )
