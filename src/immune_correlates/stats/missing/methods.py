"""One draw of the missing values of one variable: the elementary imputation methods of mice.

Each function takes the design matrix of the predictors (intercept included) for the rows
with the variable observed and for the rows to impute, the observed values, and a numpy
``Generator``; it returns the imputed values.  The draws are *proper* (Rubin 1987): the
parameters of the imputation model are drawn from their posterior (or its normal
approximation) before the values are drawn, so that between-imputation variance reflects
the uncertainty about the model.

- :func:`pmm`: predictive mean matching as ``mice.impute.pmm`` (type-1 matching, Bayesian
  draw of the linear-regression parameters, ``donors`` nearest observed cases);
- :func:`norm_draw`: that Bayesian draw (``mice:::.norm.draw``): ``sigma*^2 = RSS / chi2_df``,
  ``beta* = beta_hat + sigma* L z`` with ``L L' = (X'X)^-1``, ``df = max(n_obs - p, 1)``;
- :func:`logreg`: logistic regression as ``mice.impute.logreg``: fit with the augmented data
  of White, Daniel & Royston (2010), draw ``beta* ~ N(beta_hat, I^-1)``, draw each value
  from ``Bernoulli(expit(x' beta*))``;
- :func:`polyreg`: multinomial logistic regression with the same augmentation and a draw of
  the coefficients from their normal approximation (mice's ``polyreg`` draws from the fitted
  probabilities without a parameter draw; we draw the parameters, as a proper imputation needs).

References
----------
Little RJA (1988). Missing-data adjustments in large surveys. *J Bus Econ Stat* 6:287-296.
van Buuren S (2018). *Flexible Imputation of Missing Data*, 2nd ed., sec. 3.4 (PMM) and 3.6.
White IR, Daniel R, Royston P (2010). Avoiding bias due to perfect prediction in multiple
imputation of incomplete categorical variables. *Comput Stat Data Anal* 54:2267-2275.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, softmax

from ..engine.linalg import solver_inverse

__all__ = ["norm_draw", "match_donors", "pmm", "augment", "logreg", "polyreg", "RIDGE"]

#: Ridge added to the diagonal of X'X (relative to it) when X'X cannot be inverted, as mice's ``ridge``.
RIDGE = 1e-5


def _least_squares(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and a factor ``M`` with ``M M' = (X'X)^-1``.

    Through the Cholesky factor of ``X'X``; when it is singular or nearly so (condition number
    above about 1e14), a ridge of ``RIDGE`` times its diagonal is added first, as mice's estimice.
    """
    xtx = X.T @ X
    try:
        L = np.linalg.cholesky(xtx)
        d = np.diag(L)
        if not np.all(np.isfinite(d)) or d.min() <= 1e-7 * d.max():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(xtx + np.diag(RIDGE * np.diag(xtx) + (np.diag(xtx) == 0)))
    M = np.linalg.inv(L).T  # L'^-1: M M' = (L L')^-1 (p is small: a plain inverse is fastest)
    return M @ (M.T @ (X.T @ y)), M


def _cholesky(v: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of a covariance; a symmetric square root where rounding makes it indefinite."""
    v = (v + v.T) / 2
    try:
        return np.linalg.cholesky(v)
    except np.linalg.LinAlgError:
        vals, vecs = np.linalg.eigh(v)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))


def norm_draw(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """Least-squares fit and one Bayesian draw of its parameters: ``(beta_hat, beta_star, sigma_star)``.

    ``sigma*^2 = RSS / chi2_df`` (``df = max(n - p, 1)``) and ``beta* = beta_hat + sigma* M z``,
    ``M M' = (X'X)^-1`` (a triangular factor), ``z`` standard normal: the posterior
    of the normal linear model under the non-informative prior (Rubin 1987, p. 167).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.column_stack([np.ones(6), np.arange(6.0)]); y = 2 + 0.5 * np.arange(6.0)
    >>> coef, beta, sigma = norm_draw(X, y, np.random.default_rng(0))
    >>> np.round(coef, 6).tolist(), bool(np.allclose(beta, coef, atol=1e-6))
    ([2.0, 0.5], True)
    """
    n, p = X.shape
    coef, M = _least_squares(X, y)
    resid = y - X @ coef
    df = max(n - p, 1)
    sigma = float(np.sqrt(np.sum(resid**2) / rng.chisquare(df)))
    beta = coef + sigma * (M @ rng.standard_normal(p))
    return coef, beta, sigma


def match_donors(yhat_obs: np.ndarray, yhat_mis: np.ndarray, donors: int, rng: np.random.Generator) -> np.ndarray:
    """For each ``yhat_mis``, one of the ``donors`` observed cases nearest in ``yhat_obs``, chosen at random.

    Ties in distance are broken at random (the observed cases are shuffled before a stable
    sort), as mice's ``matchindex``.  Returns indices into ``yhat_obs``.
    """
    n_obs = len(yhat_obs)
    k = max(1, min(int(donors), n_obs))
    perm = rng.permutation(n_obs)
    dist = np.abs(yhat_mis[:, None] - yhat_obs[perm][None, :])
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    pick = rng.integers(0, k, size=len(yhat_mis))
    return perm[nearest[np.arange(len(yhat_mis)), pick]]


def pmm(
    X_obs: np.ndarray, y_obs: np.ndarray, X_mis: np.ndarray, rng: np.random.Generator, donors: int = 5
) -> np.ndarray:
    """Predictive mean matching (type-1 matching, as ``mice.impute.pmm``): observed values of donors.

    The observed cases are predicted with the least-squares coefficients, the cases to impute
    with a Bayesian draw of them (:func:`norm_draw`); each missing value takes the observed
    value of one of its ``donors`` nearest observed cases (in predicted value), chosen at random.
    """
    coef, beta, _ = norm_draw(X_obs, y_obs, rng)
    idx = match_donors(X_obs @ coef, X_mis @ beta, donors, rng)
    return y_obs[idx]


def augment(X: np.ndarray, n_categories: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pseudo-observations that keep a categorical imputation model finite (White, Daniel & Royston 2010).

    For each predictor ``j`` (columns of ``X`` after the intercept) and each category ``c``,
    two rows: every predictor at its mean, predictor ``j`` at its mean plus or minus half its
    SD (kept within its range), outcome ``c``.  Their total weight is ``p + 1`` (``p``
    predictors), shared equally.  Returns ``(X_aug, category_codes, weights)``.
    """
    Z = X[:, 1:]
    p = Z.shape[1]
    if p == 0:
        return np.zeros((0, X.shape[1])), np.zeros(0, dtype=int), np.zeros(0)
    mean, sd = Z.mean(axis=0), Z.std(axis=0, ddof=1) if len(Z) > 1 else np.zeros(p)
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    rows, codes = [], []
    for j in range(p):
        for c in range(n_categories):
            for sign in (0.5, -0.5):
                row = mean.copy()
                row[j] = min(max(mean[j] + sign * sd[j], lo[j]), hi[j])
                rows.append(row)
                codes.append(c)
    nr = len(rows)
    X_aug = np.column_stack([np.ones(nr), np.array(rows)])
    return X_aug, np.array(codes), np.full(nr, (p + 1) / nr)


def logreg(X_obs: np.ndarray, y_obs: np.ndarray, X_mis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Logistic-regression imputation of a 0/1 variable (codes), as ``mice.impute.logreg``.

    ``X_obs`` and ``X_mis`` hold the same columns; augmentation rows are built from all of
    them (as mice, from the observed and the missing rows' predictors).  The model is the
    two-category case of :func:`polyreg`'s multinomial fit (checked against the package's
    logistic Newton solver in the tests).
    """
    X_aug, c_aug, w_aug = augment(np.vstack([X_obs, X_mis]), 2)
    X = np.vstack([X_obs, X_aug])
    codes = np.concatenate([y_obs.astype(int), c_aug])
    w = np.concatenate([np.ones(len(y_obs)), w_aug])
    B, cov = _multinomial_fit(X, codes, w, 2)
    beta = B[:, 0] + _cholesky(cov) @ rng.standard_normal(X.shape[1])
    prob = expit(X_mis @ beta)
    return (rng.random(len(prob)) <= prob).astype(float)


def _multinomial_fit(X: np.ndarray, codes: np.ndarray, w: np.ndarray, k: int, max_iter: int = 100):
    """Weighted multinomial logistic ML (category 0 the reference): ``(B, cov)``, ``B`` of shape (p, k - 1).

    With ``k = 2`` this is binary logistic regression.  Newton-Raphson with step halving on
    the log-likelihood, stopping when the linear predictors move by less than 1e-10; ``cov``
    is the inverse Fisher information of ``vec(B)`` (coefficients of category 1 first).
    """
    n, p = X.shape
    Y = np.zeros((n, k))
    Y[np.arange(n), codes] = 1.0
    Y = Y[:, 1:]
    B = np.zeros((p, k - 1))

    def state(B):
        eta = X @ B
        top = np.maximum(eta.max(axis=1), 0.0)
        ex = np.exp(eta - top[:, None])
        denom = np.exp(-top) + ex.sum(axis=1)
        P = ex / denom[:, None]
        ll = float(w @ (np.sum(Y * eta, axis=1) - top - np.log(denom)))
        grad = X.T @ (w[:, None] * (Y - P))
        info = np.empty((k - 1, p, k - 1, p))
        for a in range(k - 1):
            for b in range(a, k - 1):
                block = (X * (w * P[:, a] * ((a == b) - P[:, b]))[:, None]).T @ X
                info[a, :, b, :] = block
                info[b, :, a, :] = block.T
        return ll, grad, info.reshape((k - 1) * p, (k - 1) * p)

    ll, grad, info = state(B)
    for _ in range(max_iter):
        step = (solver_inverse(info) @ grad.T.reshape(-1)).reshape(k - 1, p).T
        factor = 1.0
        for _h in range(40):
            ll_new, grad_new, info_new = state(B + factor * step)
            if ll_new >= ll - 1e-12 * (abs(ll) + 1):
                break
            factor /= 2
        done = np.max(np.abs(X @ (factor * step))) < 1e-10
        B, ll, grad, info = B + factor * step, ll_new, grad_new, info_new
        if done:
            break
    return B, solver_inverse(info)


def polyreg(
    X_obs: np.ndarray, codes_obs: np.ndarray, X_mis: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Multinomial-logistic imputation of a variable with ``k`` categories (codes ``0..k-1``)."""
    X_aug, c_aug, w_aug = augment(np.vstack([X_obs, X_mis]), k)
    X = np.vstack([X_obs, X_aug])
    codes = np.concatenate([codes_obs.astype(int), c_aug])
    w = np.concatenate([np.ones(len(codes_obs)), w_aug])
    B, cov = _multinomial_fit(X, codes, w, k)
    p = X.shape[1]
    draw = (_cholesky(cov) @ rng.standard_normal(p * (k - 1))).reshape(k - 1, p).T
    prob = softmax(np.column_stack([np.zeros(len(X_mis)), X_mis @ (B + draw)]), axis=1)
    u = rng.random(len(X_mis))
    return np.minimum((np.cumsum(prob, axis=1) < u[:, None]).sum(axis=1), k - 1).astype(float)
