"""The design of a simulated immune-correlates trial.

A :class:`TrialDesign` says how many patients, how they respond, how long they
stay progression-free and alive, and how their baseline T-cell and NK-cell
values relate to those outcomes.  :func:`immune_correlates.simulate` turns a
design and a seed into the four input tables of a cohort.

The generative model (all effects per standard deviation of a *driver*):

- Four drivers per patient, multivariate normal with unit variances:
  ``log2_cd3`` (standardised log2 CD3+ T cells/uL), ``log2_nk`` (standardised
  log2 NK cells/uL), ``t_function`` and ``nk_function`` (latent function of the
  lineage, read out with noise by the functional assays).
- Best response follows a proportional-odds (ordinal logistic) model on
  NR < PR < CR with linear predictor ``eta = sum(or_cr[k] * driver_k)`` (log
  odds ratios); the log odds ratio of CR (CR/CRi against the rest) per SD of a
  driver is exactly its coefficient.  Thresholds give the design's response
  probabilities at ``eta = 0``.
- Progression follows a Weibull proportional-hazards model with log hazard
  ratios ``hr_pfs`` per SD of each driver and ``hr_response`` for the
  response group (PR, CR against NR); deaths before progression follow a
  small constant hazard; survival after progression is exponential.
- Censoring is administrative: uniform accrual, then a fixed follow-up.
- A responder's first documented response comes a log-normal time after
  the start of treatment (median ``median_response_months``), before half the
  time to progression or death.
- Measured features (used by the power simulations of
  :mod:`immune_correlates.design`): each driver is read out with independent
  normal measurement error of SD ``measurement_sd[driver]`` and rescaled to
  unit variance, so its reliability is ``1 / (1 + sd^2)``; ``n_null_features``
  further features (``null_1``, ...) are unrelated to every outcome, with
  exchangeable correlation ``null_feature_correlation`` among themselves.
  With ``driver_distribution="binary"`` each driver is the sign of its normal
  draw (values -1 and +1, still unit variance): a two-group comparison.

The formulas live in :mod:`immune_correlates.design.model`, used alike by
:func:`immune_correlates.simulate` (one trial, input tables) and
:func:`immune_correlates.power` (many trials, arrays).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError

__all__ = ["TrialDesign", "DRIVERS", "OFA_LEN_DESIGN"]

DRIVERS = ("log2_cd3", "log2_nk", "t_function", "nk_function")


@dataclass(frozen=True)
class TrialDesign:
    """Parameters of a simulated trial (see the module docstring for the model).

    Parameters
    ----------
    n_patients : int
        Patients enrolled.
    p_cr, p_pr : float
        Probabilities of CR/CRi and of nPR/PR at the mean immune profile.
    p_cri_given_cr, p_npr_given_pr, p_mrd_negative_given_cr : float
        Sub-category probabilities.
    or_cr : dict
        Log odds ratio of a better response group per SD of each driver.
    hr_pfs : dict
        Log hazard ratio of progression per SD of each driver.
    hr_response : dict
        Log hazard ratio of progression for ``"PR"`` and ``"CR"`` against NR.
    median_pfs_months : float
        Median time to progression of a patient with all drivers at 0 and NR.
    weibull_shape : float
        Shape of the time-to-progression distribution.
    median_post_progression_months : float
        Median survival after progression.
    death_free_rate_per_month : float
        Hazard of death before progression.
    accrual_months, followup_months : float
        Uniform accrual period and follow-up after the last enrolment.
    driver_correlation : float
        Correlation of the T-cell with the NK-cell drivers.
    max_cycles : int
        Maximum number of 28-day cycles.
    measurement_sd : dict
        SD of the measurement error of each driver's observed feature
        (drivers not listed are measured without error).
    driver_distribution : {"normal", "binary"}
        Distribution of the drivers: multivariate normal, or its signs.
    n_null_features : int
        Extra features with no effect on any outcome (for screens).
    null_feature_correlation : float
        Exchangeable correlation among the null features, in [0, 1).
    median_response_months : float
        Median time from treatment start to the first documented response
        of a responder (log-normal; see :mod:`immune_correlates.design.model`).

    The last five parameters were added after the bundled cohort was drawn; a
    design that leaves them at their defaults serialises (``to_dict``) exactly
    as before they existed.
    """

    n_patients: int = 34
    p_cr: float = 8 / 34
    p_pr: float = 16 / 34
    p_cri_given_cr: float = 3 / 8
    p_npr_given_pr: float = 4 / 16
    p_mrd_negative_given_cr: float = 3 / 8
    or_cr: dict = field(
        default_factory=lambda: {"log2_cd3": 0.4, "log2_nk": 0.5, "t_function": 0.6, "nk_function": 0.7}
    )
    hr_pfs: dict = field(
        default_factory=lambda: {"log2_cd3": -0.15, "log2_nk": -0.2, "t_function": -0.25, "nk_function": -0.25}
    )
    hr_response: dict = field(default_factory=lambda: {"PR": np.log(0.6), "CR": np.log(0.35)})
    median_pfs_months: float = 10.0
    weibull_shape: float = 1.3
    median_post_progression_months: float = 40.0
    death_free_rate_per_month: float = 0.003
    accrual_months: float = 24.0
    followup_months: float = 72.0
    driver_correlation: float = 0.3
    max_cycles: int = 36
    measurement_sd: dict = field(default_factory=dict)
    driver_distribution: str = "normal"
    n_null_features: int = 0
    null_feature_correlation: float = 0.0
    median_response_months: float = 3.0

    def __post_init__(self) -> None:
        if int(self.n_patients) != self.n_patients or self.n_patients < 2:
            raise ConfigError(f"n_patients must be a whole number >= 2, got {self.n_patients!r}.")
        for name in ("p_cr", "p_pr", "p_cri_given_cr", "p_npr_given_pr", "p_mrd_negative_given_cr"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ConfigError(f"{name} must lie in [0, 1], got {v!r}.")
        if self.p_cr + self.p_pr >= 1:
            raise ConfigError(f"p_cr + p_pr must be < 1, got {self.p_cr + self.p_pr!r}.")
        for name in ("or_cr", "hr_pfs"):
            unknown = set(getattr(self, name)) - set(DRIVERS)
            if unknown:
                raise ConfigError(f"{name} has unknown drivers {sorted(unknown)}; use {list(DRIVERS)}.")
        for name in (
            "median_pfs_months",
            "weibull_shape",
            "median_post_progression_months",
            "accrual_months",
            "followup_months",
            "median_response_months",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)!r}.")
        if not -1 < self.driver_correlation < 1:
            raise ConfigError(f"driver_correlation must lie in (-1, 1), got {self.driver_correlation!r}.")
        unknown = set(self.measurement_sd) - set(DRIVERS)
        if unknown:
            raise ConfigError(f"measurement_sd has unknown drivers {sorted(unknown)}; use {list(DRIVERS)}.")
        bad = {k: v for k, v in self.measurement_sd.items() if not (np.isfinite(v) and v >= 0)}
        if bad:
            raise ConfigError(f"measurement_sd must be finite and >= 0, got {bad}.")
        if self.driver_distribution not in ("normal", "binary"):
            raise ConfigError(f"driver_distribution must be 'normal' or 'binary', got {self.driver_distribution!r}.")
        if int(self.n_null_features) != self.n_null_features or self.n_null_features < 0:
            raise ConfigError(f"n_null_features must be a whole number >= 0, got {self.n_null_features!r}.")
        if not 0 <= self.null_feature_correlation < 1:
            raise ConfigError(f"null_feature_correlation must lie in [0, 1), got {self.null_feature_correlation!r}.")

    def replace(self, **changes) -> TrialDesign:
        """A copy with some parameters changed."""
        return dataclasses.replace(self, **changes)

    def coefficients(self, which: str) -> np.ndarray:
        """The ``or_cr`` or ``hr_pfs`` coefficients as an array ordered like :data:`DRIVERS`."""
        mapping = getattr(self, which)
        return np.array([float(mapping.get(d, 0.0)) for d in DRIVERS])

    def reliability(self, driver: str) -> float:
        """Share of the observed feature's variance due to the driver: ``1 / (1 + sd^2)``."""
        if driver not in DRIVERS:
            raise ConfigError(f"unknown driver {driver!r}; use one of {list(DRIVERS)}.")
        return 1.0 / (1.0 + float(self.measurement_sd.get(driver, 0.0)) ** 2)

    def to_dict(self) -> dict:
        """Plain-data form (JSON-serialisable) of the design.

        The measurement parameters are left out while at their defaults, so
        designs that do not use them serialise as they always have.
        """
        out = dataclasses.asdict(self)
        out["hr_response"] = {k: float(v) for k, v in self.hr_response.items()}
        for name, default in _MEASUREMENT_DEFAULTS.items():
            if out[name] == default:
                del out[name]
        return out


_MEASUREMENT_DEFAULTS = {
    "measurement_sd": {},
    "driver_distribution": "normal",
    "n_null_features": 0,
    "null_feature_correlation": 0.0,
    "median_response_months": 3.0,
}

#: The design of the bundled cohort, calibrated to Vitale et al. (Clin Cancer Res 2016).
OFA_LEN_DESIGN = TrialDesign()
