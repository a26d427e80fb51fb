"""The profiled (RE)ML deviance of a linear mixed model, its gradient and Hessian in theta.

The model is lme4's (Bates, Maechler, Bolker & Walker 2015): ``y = X beta +
Z b + e`` with ``b = Lambda(theta) u``, ``u ~ N(0, sigma^2 I)``, ``e ~ N(0,
sigma^2 I)``; ``Lambda`` is block diagonal, one lower-triangular template per
random-effects term repeated for every level of its grouping factor, and
``theta`` holds the templates' lower triangles column by column.  With ``V =
I + Z Lambda Lambda' Z'`` (the marginal covariance over ``sigma^2``), ``beta``
and ``sigma`` profiled out, the deviances are::

    ML:   log|V| + n (1 + log(2 pi r2 / n))
    REML: log|V| + log|X'V^-1 X| + (n - p) (1 + log(2 pi r2 / (n - p)))

with ``r2 = min_beta (y - X beta)' V^-1 (y - X beta)`` (lme4's penalised
residual sum of squares) and ``log|V| = log|Lambda'Z'Z Lambda + I|``.

Everything is computed from ``q``-dimensional blocks: when every term shares
one grouping factor, ``Z'Z`` is block diagonal with one small block per group
(``B`` groups, block size ``s`` = random effects per group); otherwise there is
one block of size ``q``.  The blocks ``Z'Z``, ``Z'X`` and ``X'X`` are shared by
every outcome fitted on the same rows (a screen of many features), only
``Z'y``, ``X'y`` and ``y'y`` change, and every function here is batched over
outcomes (leading axis ``m``), each with its own ``theta``.

Derivatives are exact (analytic): with ``G_k = dLambda Lambda'/dtheta_k`` and
``P = V^-1 - V^-1 X (X'V^-1 X)^-1 X'V^-1``, ``d log|V| = tr(V^-1 Z G_k Z')``,
``d (log|V| + log|X'V^-1X|) = tr(P Z G_k Z')``, ``d r2 = -y'P Z G_k Z' P y``,
and the second derivatives follow (Searle, Casella & McCulloch 1992, ch. 6);
each trace is reduced to the blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["Structure", "Outcomes", "build_structure", "outcomes", "evaluate", "Pieces"]

LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, eq=False)
class Structure:
    """The random-effects structure and the blocks shared by every outcome on the same rows.

    Attributes
    ----------
    A, C : arrays ``(B, s, s)`` and ``(B, s, p)``
        Blocks of ``Z'Z`` and ``Z'X``.
    XtX : array ``(p, p)``
    E : array ``(n_theta, s, s)``
        ``Lambda = sum_k theta_k E_k`` within a block.
    cov_patterns : array ``(n_cov, s, s)``
        Symmetric 0/1 patterns of each variance and covariance parameter
        (pbkrtest's ``G_r`` before ``Z . Z'``), term by term, lower triangle
        column by column.
    Zt : sparse ``(B * s, n)``
        ``Z'`` in block order (``Z'y`` = ``Zt @ y``).
    theta_index : tuple of (term, row, col)
        Where each ``theta_k`` sits in its term's template.
    """

    X: np.ndarray
    A: np.ndarray
    C: np.ndarray
    XtX: np.ndarray
    E: np.ndarray
    cov_patterns: np.ndarray
    Zt: sparse.csr_matrix
    theta_index: tuple[tuple[int, int, int], ...]
    term_nc: tuple[int, ...]

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def n_theta(self) -> int:
        return self.E.shape[0]

    def theta_start(self) -> np.ndarray:
        """lme4's starting point: 1 on the templates' diagonals, 0 below."""
        return np.array([1.0 if r == c else 0.0 for _, r, c in self.theta_index])

    def on_diagonal(self) -> np.ndarray:
        return np.array([r == c for _, r, c in self.theta_index])


def build_structure(X: np.ndarray, terms) -> Structure:
    """Blocks of ``Z'Z`` and ``Z'X`` for the random terms (see :mod:`._terms`)."""
    n = X.shape[0]
    theta_index = []
    for i, t in enumerate(terms):
        theta_index.extend((i, r, c) for c in range(t.nc) for r in range(c, t.nc))
    one_factor = all(t.group == terms[0].group for t in terms)
    if one_factor:  # one block per group: the terms' covariates side by side
        B = terms[0].nl
        s = sum(t.nc for t in terms)
        Zs = np.hstack([t.Z for t in terms])
        g = terms[0].codes
        A = np.zeros((B, s, s))
        np.add.at(A, g, Zs[:, :, None] * Zs[:, None, :])
        C = np.zeros((B, s, X.shape[1]))
        np.add.at(C, g, Zs[:, :, None] * X[:, None, :])
        rows = (g[:, None] * s + np.arange(s)[None, :]).ravel()
        cols = np.repeat(np.arange(n), s)
        Zt = sparse.csr_matrix((Zs.ravel(), (rows, cols)), shape=(B * s, n))
        copies = [[o] for o in np.cumsum([0, *(t.nc for t in terms)])[:-1]]  # each template once per block
    else:  # one dense block
        s = sum(t.nc * t.nl for t in terms)
        Z = np.zeros((n, s))
        copies, off = [], 0
        for t in terms:
            idx = off + t.codes[:, None] * t.nc + np.arange(t.nc)[None, :]
            np.put_along_axis(Z, idx, t.Z, axis=1)
            copies.append([off + level * t.nc for level in range(t.nl)])
            off += t.nc * t.nl
        A = (Z.T @ Z)[None]
        C = (Z.T @ X)[None]
        Zt = sparse.csr_matrix(Z.T)
    E = np.zeros((len(theta_index), s, s))
    for k, (i, r, c) in enumerate(theta_index):
        for o in copies[i]:
            E[k, o + r, o + c] = 1.0
    cov = []
    for i, t in enumerate(terms):
        for c in range(t.nc):
            for r in range(c, t.nc):
                pattern = np.zeros((s, s))
                for o in copies[i]:
                    pattern[o + r, o + c] = pattern[o + c, o + r] = 1.0
                cov.append(pattern)
    return Structure(
        X=X,
        A=A,
        C=C,
        XtX=X.T @ X,
        E=E,
        cov_patterns=np.array(cov),
        Zt=Zt,
        theta_index=tuple(theta_index),
        term_nc=tuple(t.nc for t in terms),
    )


@dataclass(frozen=True, eq=False)
class Outcomes:
    """What each outcome adds to the shared blocks (its OLS fit taken out first, see :func:`outcomes`)."""

    d: np.ndarray  # (m, B, s)  Z' y~
    Xty: np.ndarray  # (m, p)
    yty: np.ndarray  # (m,)
    b0: np.ndarray  # (m, p)  OLS coefficients taken out: y~ = y - X b0

    def take(self, idx) -> Outcomes:
        return Outcomes(self.d[idx], self.Xty[idx], self.yty[idx], self.b0[idx])


def outcomes(struct: Structure, Y: np.ndarray) -> Outcomes:
    """Per-outcome blocks of ``Y`` (``n x m``), on the residuals of its least-squares fit.

    The mixed model of ``y - X b0`` has the same ``theta`` and ``sigma`` and its
    ``beta`` is shifted by ``b0`` (the fit is equivariant in ``X``): working on
    residuals avoids cancellation in ``y'V^-1y - beta'X'V^-1y`` when the mean
    is large against the spread.
    """
    X = struct.X
    b0 = np.linalg.lstsq(X, Y, rcond=None)[0]  # (p, m)
    R = Y - X @ b0
    B, s = struct.A.shape[:2]
    d = np.asarray(struct.Zt @ R).T.reshape(R.shape[1], B, s)
    return Outcomes(d=d, Xty=(X.T @ R).T, yty=np.einsum("nm,nm->m", R, R), b0=b0.T)


@dataclass(eq=False)
class Pieces:
    """The deviance at ``theta`` and what its derivatives and the inference need (batched over outcomes)."""

    theta: np.ndarray
    f: np.ndarray
    r2: np.ndarray
    nu: float
    H: np.ndarray  # (X'V^-1X)^-1
    beta: np.ndarray  # including b0
    logdet_v: np.ndarray
    logdet_x: np.ndarray
    ok: np.ndarray  # the deviance could be evaluated
    K: np.ndarray | None = None
    grad: np.ndarray | None = None
    r2_k: np.ndarray | None = None
    hess: np.ndarray | None = None
    A_kl: np.ndarray | None = None  # Hessian of log|V| (+ log|X'V^-1X|)
    r2_kl: np.ndarray | None = None
    F: np.ndarray | None = None  # (m, k, p, p): sum_b U_b' G_k U_b = -d(X'V^-1X)/dtheta_k
    U: np.ndarray | None = None
    W: np.ndarray | None = None


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def evaluate(struct: Structure, out: Outcomes, theta: np.ndarray, *, reml: bool, order: int = 0) -> Pieces:
    """Deviance (``order`` 0), its gradient (1) and Hessian (2) at ``theta`` (``m x n_theta``)."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    m = theta.shape[0]
    n, p = struct.n, struct.p
    A, C = struct.A[None], struct.C[None]
    s = A.shape[-1]
    lam = np.einsum("mk,kij->mij", theta, struct.E)[:, None]  # (m, 1, s, s)
    lam_t = np.swapaxes(lam, -1, -2)
    M = lam_t @ A @ lam + np.eye(s)
    ok = np.ones(m, dtype=bool)
    with np.errstate(all="ignore"):
        try:
            chol = np.linalg.cholesky(M)
        except np.linalg.LinAlgError:
            ok = np.array([np.all(np.linalg.eigvalsh(Mi) > 0) for Mi in M.reshape(m, -1, s, s)[:, 0]])
            M = np.where(ok[:, None, None, None], M, np.eye(s))
            chol = np.linalg.cholesky(M)
        logdet_v = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=(1, 2))
        K = _sym(lam @ np.linalg.inv(M) @ lam_t)  # Lambda M^-1 Lambda' (m, B, s, s)
        KC = K @ C
        XVX = _sym(struct.XtX - np.einsum("bsp,mbsq->mpq", struct.C, KC))
        Kd = np.einsum("mbij,mbj->mbi", K, out.d)
        XVy = out.Xty - np.einsum("bsp,mbs->mp", struct.C, Kd)
        yVy = out.yty - np.einsum("mbs,mbs->m", out.d, Kd)
        sign, logdet_x = np.linalg.slogdet(XVX)
        ok &= sign > 0
        H = _sym(np.linalg.inv(np.where(ok[:, None, None], XVX, np.eye(p))))
        beta_t = np.einsum("mpq,mq->mp", H, XVy)
        r2 = yVy - np.einsum("mp,mp->m", XVy, beta_t)
        ok &= np.isfinite(r2) & (r2 > 0)
        nu = float(n - p if reml else n)
        f = logdet_v + (logdet_x if reml else 0.0) + nu * (1.0 + np.log(2 * np.pi * r2 / nu))
    f = np.where(ok, f, np.inf)
    pieces = Pieces(theta, f, r2, nu, H, beta_t + out.b0, logdet_v, logdet_x, ok, K=K)
    if order >= 1:
        _derivatives(struct, out, pieces, lam, lam_t, beta_t, reml=reml, order=order)
    return pieces


def _derivatives(struct, out, pc: Pieces, lam, lam_t, beta_t, *, reml: bool, order: int) -> None:
    """Gradient (and, with ``order`` 2, Hessian) of the profiled deviance; the pieces Satterthwaite needs."""
    A, C, K, H = struct.A[None], struct.C[None], pc.K, pc.H
    E = struct.E[None]
    AK = A @ K
    W = _sym(A - AK @ A)  # Z_b' V^-1 Z_b
    U = C - AK @ C  # Z_b' V^-1 X
    ed = out.d - np.einsum("bsp,mp->mbs", struct.C, beta_t)
    a = ed - np.einsum("mbij,mbj->mbi", AK, ed)  # Z_b' P y
    S = U @ H[:, None] @ np.swapaxes(U, -1, -2)
    w_sum = W.sum(axis=1)
    a_sum = np.einsum("mbi,mbj->mij", a, a)
    q_p = w_sum - S.sum(axis=1) if reml else w_sum
    G = E @ lam_t + lam @ np.swapaxes(E, -1, -2)  # (m, k, s, s): dLambda Lambda' / dtheta_k
    r2_k = -np.einsum("mij,mkji->mk", a_sum, G)
    pc.grad = np.einsum("mij,mkji->mk", q_p, G) + pc.nu * r2_k / pc.r2[:, None]
    pc.r2_k = r2_k
    pc.U, pc.W = U, W
    if order < 2:
        return
    Et = np.swapaxes(struct.E, -1, -2)
    Gkl = struct.E[:, None] @ Et[None] + struct.E[None] @ Et[:, None]  # (k, l, s, s)
    WG = W[:, :, None] @ G[:, None]  # (m, B, k, s, s)
    t_ww = np.einsum("mbkij,mblji->mkl", WG, WG)
    F = np.einsum("mbip,mbkiq->mkpq", U, np.einsum("mkij,mbjq->mbkiq", G, U))
    pc.F = F
    if reml:
        cross = np.einsum("mblij,mbkji->mkl", S[:, :, None] @ G[:, None], WG)
        HF = H[:, None] @ F
        tr_pvpv = t_ww - cross - np.swapaxes(cross, 1, 2) + np.einsum("mkij,mlji->mkl", HF, HF)
    else:
        tr_pvpv = t_ww
    pc.A_kl = np.einsum("mij,klji->mkl", q_p, Gkl) - tr_pvpv
    ga = np.einsum("mkij,mbj->mbki", G, a)  # G_k a_b
    t1 = np.einsum("mbki,mbli->mkl", ga, np.einsum("mbij,mblj->mbli", W, ga))
    h = np.einsum("mbsp,mbks->mkp", U, ga)
    t2 = (h @ H) @ np.swapaxes(h, 1, 2)
    pc.r2_kl = 2.0 * (t1 - t2) - np.einsum("mij,klji->mkl", a_sum, Gkl)
    r2 = pc.r2[:, None, None]
    pc.hess = _sym(pc.A_kl + pc.nu * (pc.r2_kl / r2 - r2_k[:, :, None] * r2_k[:, None, :] / r2**2))
