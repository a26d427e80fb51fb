"""The GEE engine: the model a result keeps, fitted with statsmodels' GEE (loaded on first fit).

See :mod:`.gee` for the estimators and the references.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from statsmodels.genmod.generalized_estimating_equations import GEE

__all__ = ["GEEModel"]


@dataclass(frozen=True, eq=False)
class GEEModel:
    """What a GEE fit used: design matrix, outcome, group codes, times and options (it pickles)."""

    X: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    time: np.ndarray
    names: tuple[str, ...]
    family: str
    cov_struct: str
    max_iter: int
    tol: float

    def statsmodels(self) -> GEE:
        """The statsmodels GEE of this model, with geepack's dependence estimators."""
        from statsmodels.genmod import cov_struct as sm_cov
        from statsmodels.genmod import families as sm_families
        from statsmodels.genmod.generalized_estimating_equations import GEE

        from ._geepack import GeepackAR1

        family = {
            "binomial": sm_families.Binomial,
            "poisson": sm_families.Poisson,
            "gaussian": sm_families.Gaussian,
        }[self.family]()
        struct = {
            "independence": sm_cov.Independence,
            "exchangeable": sm_cov.Exchangeable,
            "ar1": GeepackAR1,
        }[self.cov_struct]()
        return GEE(self.y, self.X, groups=self.groups, time=self.time, family=family, cov_struct=struct)
