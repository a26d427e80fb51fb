"""The generative model of a :class:`~immune_correlates.data.design.TrialDesign`, in one place.

Every formula of the model lives here, and both samplers call it:

- :func:`immune_correlates.simulate` (one trial, written as the four input
  tables; also the generator of the bundled cohort), and
- :func:`immune_correlates.design.simulate_trials` (many trials as arrays, behind
  :func:`immune_correlates.power`).

So a design means the same thing to both: ``driver_distribution="binary"``
gives drivers of -1/+1 in a simulated cohort exactly as in the power
simulation, ``measurement_sd`` blurs what the cohort's assays read out, and
``n_null_features`` adds features unrelated to any outcome.  The samplers
differ only in the order in which they draw their random numbers (the
one-trial sampler keeps the order that produced the bundled cohort; the batch
sampler draws whole blocks of trials at once); each function below says which
standard variates it transforms.

The model (see :mod:`immune_correlates.data.design` for the parameters):
drivers multivariate normal (or their signs); response by proportional odds
(McCullagh 1980, J R Stat Soc B 42:109); progression by Weibull proportional
hazards simulated by inversion (Bender, Augustin & Blettner 2005, Stat Med
24:1713); death without progression at a constant hazard; exponential
survival after progression; uniform accrual and fixed follow-up; measured
features ``(driver + sd e) / sqrt(1 + sd^2)``; time to first documented
response of a responder log-normal with median ``median_response_months``
(log-SD :data:`RESPONSE_LOG_SD`), before half the time to the first event and
before the end of follow-up.  On treatment (:func:`monitoring_effects`,
:func:`on_treatment_counts`): CLL and other B cells fall with the anti-CD20
antibody, NK and CD8 T cells expand and T/NK function improves, each more in
better response groups, approaching its full size with a time constant of weeks.
"""

from __future__ import annotations

import numpy as np

from ..data.design import DRIVERS, TrialDesign

__all__ = [
    "CLEARANCE",
    "EXPANSION",
    "FUNCTION_GAIN",
    "FUNCTION_VISITS",
    "GROUPS",
    "VISITS",
    "monitoring_effects",
    "on_treatment_counts",
    "time_course",
    "RESPONSE_LOG_SD",
    "censoring_times",
    "death_free_times",
    "draw_drivers",
    "driver_covariance",
    "feature_names",
    "measured_features",
    "pfs_cause",
    "post_progression_times",
    "progression_linear_predictor",
    "progression_times",
    "response_groups",
    "response_thresholds",
    "response_times",
]

#: Response-group codes: ``0`` NR, ``1`` PR (nPR/PR), ``2`` CR (CR/CRi).
GROUPS = ("NR", "PR", "CR")
#: SD of the log time to first documented response.
RESPONSE_LOG_SD = 0.4


def driver_covariance(design: TrialDesign) -> np.ndarray:
    """Covariance (= correlation) matrix of the four drivers, ordered like ``DRIVERS``.

    Within a lineage count and function correlate 0.5; across lineages,
    ``design.driver_correlation``.
    """
    r = design.driver_correlation
    return np.array([[1.0, r, 0.5, r], [r, 1.0, r, 0.5], [0.5, r, 1.0, r], [r, 0.5, r, 1.0]])


def draw_drivers(design: TrialDesign, rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Drivers of ``shape`` patients (``shape + (4,)``): ``standard_normal @ L'`` (Cholesky), or their signs.

    Bit for bit the draws of ``rng.multivariate_normal(0, cov, method="cholesky")``.
    """
    z = rng.standard_normal(tuple(shape) + (4,)) @ np.linalg.cholesky(driver_covariance(design)).T
    if design.driver_distribution == "binary":
        z = np.where(z > 0, 1.0, -1.0)
    return z


def response_thresholds(design: TrialDesign) -> tuple[float, float]:
    """Cut-points ``(c_CR, c_PR)`` of the latent response score at the mean immune profile."""
    c_cr = np.log((1 - design.p_cr) / design.p_cr) if design.p_cr > 0 else np.inf
    c_pr = np.log((1 - design.p_cr - design.p_pr) / (design.p_cr + design.p_pr))
    return c_cr, c_pr


def response_groups(design: TrialDesign, latent: np.ndarray) -> np.ndarray:
    """Group codes (``0`` NR, ``1`` PR, ``2`` CR) of latent scores ``eta + logistic``."""
    c_cr, c_pr = response_thresholds(design)
    return np.where(latent > c_cr, 2, np.where(latent > c_pr, 1, 0)).astype(np.int8)


def progression_linear_predictor(design: TrialDesign, z: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Log hazard ratio of progression: drivers times ``hr_pfs`` plus the response group's ``hr_response``."""
    resp = np.array([0.0, design.hr_response.get("PR", 0.0), design.hr_response.get("CR", 0.0)])
    return z @ design.coefficients("hr_pfs") + resp[np.asarray(group, dtype=np.int64)]


def progression_times(design: TrialDesign, lp: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Weibull times to progression (months) from standard exponential variates ``e``."""
    k = design.weibull_shape
    scale = design.median_pfs_months / np.log(2) ** (1 / k)
    return scale * (e * np.exp(-lp)) ** (1 / k)


def death_free_times(design: TrialDesign, e: np.ndarray) -> np.ndarray:
    """Times to death without progression (months) from standard exponential variates (inf at rate 0)."""
    rate = design.death_free_rate_per_month
    return (1 / rate) * e if rate > 0 else np.full(np.shape(e), np.inf)


def post_progression_times(design: TrialDesign, e: np.ndarray) -> np.ndarray:
    """Survival after progression (months) from standard exponential variates."""
    return (design.median_post_progression_months / np.log(2)) * e


def censoring_times(design: TrialDesign, enrol: np.ndarray) -> np.ndarray:
    """Administrative censoring (months from enrolment) of patients enrolled at ``enrol`` months."""
    return design.accrual_months + design.followup_months - enrol


def feature_names(design: TrialDesign) -> tuple[str, ...]:
    """Names of the measured features: the drivers, then ``null_1 .. null_k``."""
    return DRIVERS + tuple(f"null_{j + 1}" for j in range(int(design.n_null_features)))


def measured_features(design: TrialDesign, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Measured features (unit variance): drivers with measurement error, then the null features.

    Draws ``standard_normal(z.shape)`` (measurement error), then, with null
    features, ``standard_normal(shape + (1,))`` (their common factor) and
    ``standard_normal(shape + (k,))``.  Without measurement error the
    drivers are returned exactly.
    """
    noise = rng.standard_normal(z.shape)
    sd = np.array([float(design.measurement_sd.get(d, 0.0)) for d in DRIVERS])
    x = (z + sd * noise) / np.sqrt(1.0 + sd**2)
    k0 = int(design.n_null_features)
    if k0:
        r = design.null_feature_correlation
        common = rng.standard_normal(z.shape[:-1] + (1,))
        own = rng.standard_normal(z.shape[:-1] + (k0,))
        x = np.concatenate([x, np.sqrt(r) * common + np.sqrt(1 - r) * own], axis=-1)
    return x


def response_times(
    design: TrialDesign, group: np.ndarray, first_event: np.ndarray, censor: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Months to first documented response of responders (NaN for non-responders).

    Draws ``standard_normal(group.shape)``; the log-normal time is capped at
    half the time to the first event (a response precedes progression) and at
    the end of follow-up.
    """
    draw = design.median_response_months * np.exp(RESPONSE_LOG_SD * rng.standard_normal(np.shape(group)))
    t = np.minimum(np.minimum(draw, 0.5 * first_event), censor)
    return np.where(np.asarray(group) > 0, t, np.nan)


def pfs_cause(t_progression: np.ndarray, t_death_free: np.ndarray, censor: np.ndarray) -> np.ndarray:
    """``0`` censored, ``1`` progression, ``2`` death without progression (continuous times)."""
    first = np.minimum(t_progression, t_death_free)
    cause = np.where(t_progression < t_death_free, 1, 2)
    return np.where(first <= censor, cause, 0).astype(np.int8)


# ---- immune monitoring on treatment -----------------------------------------------------------
# Ofatumumab (anti-CD20) clears CLL and normal B cells within weeks, so the lymphocyte count
# falls many-fold; lenalidomide expands NK and CD8 T cells and improves their function, more
# in patients who respond (the trial's translational finding).  Samples are drawn at the
# scheduled visits while the patient is on treatment and progression-free, and at the end of
# treatment; a few visits are missed at random.

#: Scheduled on-treatment visits: timepoint -> nominal study day (day 0 = first dose, 28-day cycles).
VISITS = {"C1D15": 14, "C3D1": 56, "C6D1": 140, "C12D1": 308}
#: Visits whose blood also goes to the functional assays.
FUNCTION_VISITS = ("C3D1", "C6D1", "C12D1")
#: Days either side of the nominal day a visit may fall on; probability a visit is missed.
VISIT_JITTER, P_MISSED = 3, 0.1
#: Log-scale change of each lineage by response group (NR, PR, CR) once it has fully developed.
EXPANSION = {"nk": (0.1, 0.5, 0.9), "cd8": (0.05, 0.35, 0.6), "cd4": (-0.15, -0.05, 0.05)}
#: Between-patient SD of the log-scale change within a group; its time constant (days).
EXPANSION_SD, EXPANSION_DAYS = 0.25, 45.0
#: Log-scale fall of CLL and other non-T non-NK lymphocytes by response group (NR, PR, CR); time constant.
CLEARANCE, CLEARANCE_DAYS = (1.2, 3.0, 4.5), 21.0
#: Gain of latent T- and NK-cell function (SD units) by response group (NR, PR, CR).
FUNCTION_GAIN = (0.1, 0.4, 0.7)
#: Visit-to-visit SD of log counts (T and NK cells; CLL cells twice it).
SAMPLE_LOG_SD = 0.15


def time_course(day, days_constant: float):
    """Fraction of a treatment effect reached by ``day``: ``1 - exp(-day / tau)`` (0 at or before day 0)."""
    return 1.0 - np.exp(-np.maximum(np.asarray(day, dtype=float), 0.0) / days_constant)


def monitoring_effects(group: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each patient's log-scale change of NK, CD8 and CD4 counts and function gain, by response group code.

    Draws ``standard_normal((n, 4))``: the patient's deviations from the group's
    :data:`EXPANSION` (SD :data:`EXPANSION_SD`) and :data:`FUNCTION_GAIN` (SD 0.2).
    """
    g = np.asarray(group, dtype=np.int64)
    e = rng.standard_normal((g.size, 4))
    out = {k: np.asarray(v)[g] + EXPANSION_SD * e[:, j] for j, (k, v) in enumerate(EXPANSION.items())}
    out["function"] = np.asarray(FUNCTION_GAIN)[g] + 0.2 * e[:, 3]
    out["clearance"] = np.asarray(CLEARANCE)[g]
    return out


def on_treatment_counts(
    baseline: dict[str, np.ndarray], effects: dict[str, np.ndarray], who: np.ndarray, day: np.ndarray, rng
) -> dict[str, np.ndarray]:
    """True counts (cells/uL) of each sample from the patient's baseline counts and treatment effects.

    ``baseline`` holds per-patient ``cd4``, ``cd8``, ``dn`` (other T cells), ``nk``, ``cll``
    and ``other`` (non-T non-NK non-CLL lymphocytes); ``who`` is the patient of each sample.
    Draws ``standard_normal((m, 6))``: visit-to-visit variation of each population.
    """
    e = rng.standard_normal((who.size, 6))
    grow = time_course(day, EXPANSION_DAYS)
    clear = time_course(day, CLEARANCE_DAYS) * effects["clearance"][who]
    out = {
        "cd4": baseline["cd4"][who] * np.exp(effects["cd4"][who] * grow + SAMPLE_LOG_SD * e[:, 0]),
        "cd8": baseline["cd8"][who] * np.exp(effects["cd8"][who] * grow + SAMPLE_LOG_SD * e[:, 1]),
        "dn": baseline["dn"][who] * np.exp(SAMPLE_LOG_SD * e[:, 2]),
        "nk": baseline["nk"][who] * np.exp(effects["nk"][who] * grow + SAMPLE_LOG_SD * e[:, 3]),
        "cll": baseline["cll"][who] * np.exp(-clear + 2 * SAMPLE_LOG_SD * e[:, 4]),
        "other": baseline["other"][who] * np.exp(-clear + 2 * SAMPLE_LOG_SD * e[:, 5]),
    }
    out["cd3"] = out["cd4"] + out["cd8"] + out["dn"]
    out["lymphocytes"] = out["cd3"] + out["nk"] + out["cll"] + out["other"]
    return out
