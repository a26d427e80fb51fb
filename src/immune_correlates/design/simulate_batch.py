"""Many simulated trials at once: patient-level arrays, no input tables.

:func:`simulate_trials` draws ``n_sim`` trials of a
:class:`~immune_correlates.data.design.TrialDesign` as arrays with a leading
trial axis: the drivers, the measured features (drivers read out with
measurement error, plus null features), the response group and progression-
free survival in months.  It follows the generative model of
:func:`immune_correlates.design.simulate_cohort.draw_patients` (proportional-odds
response, Weibull proportional-hazards progression, competing death without
progression, uniform accrual and fixed follow-up; every formula is in
:mod:`immune_correlates.design.model`, shared with :func:`immune_correlates.simulate`) but keeps times continuous
(no rounding to whole days, so no tied times) and skips the input tables,
which makes 10,000 trials a matter of milliseconds.

Random numbers: trials are drawn in blocks of :data:`BLOCK` from generators
spawned off ``numpy.random.SeedSequence(seed)``, block ``j`` from child
``j``, and every design draws the same variates in the same order.  So the
same seed gives the same trials, the trials of the full blocks do not depend
on ``n_sim``, and two designs that differ only in their parameters (effect
sizes, censoring, noise) see the same random numbers (common random numbers
make power curves smooth).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import _seeds
from .._params import SEED, Instance, Interval, Options, check_params
from ..data.design import OFA_LEN_DESIGN, TrialDesign
from ..errors import ConfigError
from . import model

__all__ = ["TrialBatch", "simulate_trials", "BLOCK", "GROUPS"]

#: Trials drawn per generator.
BLOCK = 256
#: Response-group codes of :attr:`TrialBatch.group`.
GROUPS = model.GROUPS


@dataclass(frozen=True, eq=False)
class TrialBatch:
    """Patient-level data of ``n_sim`` simulated trials of ``n`` patients.

    Attributes
    ----------
    drivers : (n_sim, n, 4) array
        True standardized drivers, ordered like :data:`~immune_correlates.data.design.DRIVERS`.
    features : (n_sim, n, 4 + k) array
        Measured features (unit variance): the drivers with measurement error,
        then the ``k`` null features.
    feature_names : tuple of str
        ``DRIVERS`` then ``null_1 .. null_k``.
    group : (n_sim, n) int array
        Response group, ``0`` NR, ``1`` PR, ``2`` CR (CR or CRi).
    time, event : (n_sim, n) arrays
        Progression-free survival (months, continuous) and its event
        indicator (progression or death, 1; censored, 0).
    design : TrialDesign
    seed : int or None
    cause : (n_sim, n) int array
        What ended progression-free survival: ``0`` censored, ``1``
        progression, ``2`` death without progression.
    response_time : (n_sim, n) array
        Months to first documented response (NaN for non-responders).
    """

    drivers: np.ndarray
    features: np.ndarray
    feature_names: tuple
    group: np.ndarray
    time: np.ndarray
    event: np.ndarray
    design: TrialDesign
    seed: int | None
    cause: np.ndarray | None = None
    response_time: np.ndarray | None = None

    @property
    def n_sim(self) -> int:
        return self.group.shape[0]

    @property
    def n(self) -> int:
        return self.group.shape[1]

    @property
    def cr(self) -> np.ndarray:
        """(n_sim, n) 1. for CR/CRi, 0. otherwise."""
        return (self.group == 2).astype(float)

    def feature(self, name: str) -> np.ndarray:
        """(n_sim, n) values of one measured feature."""
        if name not in self.feature_names:
            raise ConfigError(f"unknown feature {name!r}; the simulated features are {list(self.feature_names)}.")
        return self.features[:, :, self.feature_names.index(name)]

    def trial(self, b: int) -> pd.DataFrame:
        """Trial ``b`` as an analysis frame (``cr``, ``response_group``, ``pfs_months``, ``pfs_event``, features).

        With the batch's causes and response times, also ``pfs_cause`` and
        ``response_months`` (as :func:`immune_correlates.analysis_frame`).
        """
        ids = pd.Index([f"SIM{i + 1:04d}" for i in range(self.n)], name="patient_id")
        frame = pd.DataFrame(self.features[b], columns=list(self.feature_names), index=ids)
        groups = pd.Categorical.from_codes(self.group[b], categories=list(GROUPS), ordered=True)
        if self.response_time is not None:
            frame.insert(0, "response_months", self.response_time[b])
        if self.cause is not None:
            frame.insert(0, "pfs_cause", self.cause[b].astype(int))
        frame.insert(0, "pfs_event", self.event[b].astype(int))
        frame.insert(0, "pfs_months", self.time[b])
        frame.insert(0, "response_group", groups)
        frame.insert(0, "cr", (self.group[b] == 2).astype(int))
        return frame


def _draw_block(design: TrialDesign, n: int, rng: np.random.Generator, c: int) -> dict:
    z = model.draw_drivers(design, rng, (c, n))
    latent = z @ design.coefficients("or_cr") + rng.logistic(size=(c, n))
    group = model.response_groups(design, latent)
    lp = model.progression_linear_predictor(design, z, group)
    t_prog = model.progression_times(design, lp, rng.exponential(size=(c, n)))
    t_death = model.death_free_times(design, rng.exponential(size=(c, n)))
    enrol = rng.uniform(0, design.accrual_months, size=(c, n))
    censor = model.censoring_times(design, enrol)
    first = np.minimum(t_prog, t_death)
    event = (first <= censor).astype(float)
    time = np.minimum(first, censor)
    x = model.measured_features(design, z, rng)
    cause = model.pfs_cause(t_prog, t_death, censor)
    response = model.response_times(design, group, first, censor, rng)
    return {
        "drivers": z,
        "features": x,
        "group": group,
        "time": time,
        "event": event,
        "cause": cause,
        "response_time": response,
    }


@check_params(
    n_sim=Interval(1, None, integer=True),
    seed=SEED,
    n_patients=(Options(None), Interval(2, None, integer=True)),
    design=(Options(None), Instance(TrialDesign, name="a TrialDesign")),
)
def simulate_trials(
    design: TrialDesign | None = None, *, n_sim: int = 1000, seed: int | None = None, n_patients: int | None = None
) -> TrialBatch:
    """Draw ``n_sim`` trials of a design as patient-level arrays.

    Parameters
    ----------
    design : TrialDesign, optional
        Default: the design of the bundled cohort
        (:data:`~immune_correlates.data.design.OFA_LEN_DESIGN`).
    n_sim : int
        Number of trials.
    seed : int, optional
        Seed of :class:`numpy.random.SeedSequence`; the same seed gives the
        same trials.
    n_patients : int, optional
        Patients per trial (default ``design.n_patients``).

    Returns
    -------
    TrialBatch

    Notes
    -----
    The generative model is documented in :mod:`immune_correlates.data.design`
    (proportional odds: McCullagh 1980, J R Stat Soc B 42:109; Weibull
    proportional hazards simulated by inversion: Bender, Augustin & Blettner
    2005, Stat Med 24:1713).  Measured feature ``j`` is
    ``(driver_j + sd_j e) / sqrt(1 + sd_j^2)`` with ``e ~ N(0, 1)``.

    Examples
    --------
    >>> from immune_correlates.design import simulate_trials
    >>> batch = simulate_trials(n_sim=500, seed=1)
    >>> batch.features.shape
    (500, 34, 4)
    >>> round(float(batch.cr.mean()), 2)  # doctest: +SKIP
    0.24
    """
    design = OFA_LEN_DESIGN if design is None else design
    n = int(design.n_patients if n_patients is None else n_patients)
    n_sim = int(n_sim)
    blocks = -(-n_sim // BLOCK)
    children = _seeds.spawn(seed, blocks, caller="simulate_trials")
    sizes = [min(BLOCK, n_sim - j * BLOCK) for j in range(blocks)]
    parts = [_draw_block(design, n, _seeds.rng(ss), c) for ss, c in zip(children, sizes)]
    arrays = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return TrialBatch(feature_names=model.feature_names(design), design=design, seed=seed, **arrays)
