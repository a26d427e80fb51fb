"""geepack's AR(1) working correlation for statsmodels' GEE (imported when a GEE is fitted).

See :mod:`.gee` for the estimators and the references.
"""

from __future__ import annotations

import numpy as np
from statsmodels.genmod import cov_struct as sm_cov

__all__ = ["GeepackAR1", "pearson_residuals"]


class GeepackAR1(sm_cov.CovStruct):
    """AR(1) working correlation ``alpha^|t_j - t_k|`` with geepack's estimator of ``alpha``.

    ``alpha`` solves ``sum_pairs (r_j r_k / scale - alpha^d) d alpha^(d-1) = 0`` over every
    within-group pair (``d = |t_j - t_k|``), the identity-link estimating equation of
    geepack's ``geese`` (Yan & Fine 2004), by Gauss-Newton steps as geese takes them;
    ``scale`` is the mean squared Pearson residual.  The times are the model's ``time``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dep_params = 0.0

    def initialize(self, model) -> None:
        super().initialize(model)
        self._lags = [np.abs(t[:, 0][:, None] - t[:, 0][None, :]) for t in model.time_li]
        self._pairs = [np.triu_indices(len(t), 1) for t in model.time_li]
        self._pair_lags = np.concatenate([lag[p] for lag, p in zip(self._lags, self._pairs)] or [np.zeros(0)])

    def update(self, params) -> None:
        resid = pearson_residuals(self.model)
        scale = float(np.mean(np.concatenate(resid) ** 2))
        prods = np.concatenate([(r[p[0]] * r[p[1]]) for r, p in zip(resid, self._pairs)] or [np.zeros(0)]) / scale
        d = self._pair_lags
        if d.size == 0:
            self.dep_params = 0.0
            return
        a = float(self.dep_params)
        for _ in range(200):
            deriv = d * a ** (d - 1)
            step = np.sum((prods - a**d) * deriv) / np.sum(deriv**2)
            new = a + step
            while abs(new) >= 1.0:  # stay inside the parameter space
                step /= 2.0
                new = a + step
            a = new
            if abs(step) < 1e-14:
                break
        self.dep_params = a

    def covariance_matrix(self, expval, index):
        return self.dep_params ** self._lags[index], True

    def summary(self) -> str:
        return f"AR(1) working correlation, geepack's estimator: alpha = {self.dep_params:.4f}"


def pearson_residuals(model) -> list[np.ndarray]:
    """Pearson residuals ``(y - mu) / sqrt(V(mu))`` of each group of a statsmodels GEE (scale not applied)."""
    var = model.family.variance
    return [(y - mu) / np.sqrt(var(mu)) for y, (mu, _) in zip(model.endog_li, model.cached_means)]
