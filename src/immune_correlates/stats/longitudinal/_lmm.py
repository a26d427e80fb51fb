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
    b0 = np.linalg.solve(struct.XtX, X.T @ Y)  # (p, m); any b0 would do (only a shift), this one is cheap
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


def _inv_logdet(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse and log-determinant of a stack of symmetric positive definite matrices.

    1 x 1 and 2 x 2 blocks (a random intercept, an intercept and a slope) in
    closed form: LAPACK's per-matrix overhead dominates a screen's thousands of
    tiny blocks.
    """
    s = M.shape[-1]
    if s == 1:
        return 1.0 / M, np.log(M[..., 0, 0])
    if s == 2:
        a, b, d = M[..., 0, 0], M[..., 0, 1], M[..., 1, 1]
        det = a * d - b * b
        inv = np.stack([np.stack([d, -b], axis=-1), np.stack([-b, a], axis=-1)], axis=-2) / det[..., None, None]
        return inv, np.log(det)
    chol = np.linalg.cholesky(M)
    return np.linalg.inv(M), 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=-1)


def _sym(a: np.ndarray) -> np.ndarray:
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def _bmm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for stacks of small matrices: a sum over the short inner axis, vectorised over the stack.

    numpy's matmul calls a kernel per 2 x 2 block, which dominates when a
    screen has ~10^4 of them; a few whole-array multiply-adds do not.
    """
    n = a.shape[-1]
    if n > 8 or max(a[..., 0, 0].size, b[..., 0, 0].size) < 256:  # a large block, or few: one matmul call
        return a @ b
    out = a[..., :, 0:1] * b[..., 0:1, :]
    for j in range(1, n):
        out = out + a[..., :, j : j + 1] * b[..., j : j + 1, :]
    return out


def _over_blocks(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sum_b sum_i x[m, b, k, i] y[m, b, l, i]`` -> ``(m, k, l)`` as one matrix product per outcome."""
    m, B, k, s = x.shape
    X = np.moveaxis(x, 2, 1).reshape(m, k, B * s)
    Y = np.moveaxis(y, 2, 1).reshape(m, y.shape[2], B * s)
    return X @ np.swapaxes(Y, 1, 2)


def evaluate(struct: Structure, out: Outcomes, theta: np.ndarray, *, reml: bool, order: int = 0) -> Pieces:
    """Deviance (``order`` 0), its gradient (1) and Hessian (2) at ``theta`` (``m x n_theta``)."""
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    m = theta.shape[0]
    n, p = struct.n, struct.p
    A, C = struct.A[None], struct.C[None]
    B, s = struct.A.shape[:2]
    c_flat = struct.C.reshape(B * s, p)
    lam = np.einsum("mk,kij->mij", theta, struct.E)[:, None]  # (m, 1, s, s)
    lam_t = np.swapaxes(lam, -1, -2)
    M = _bmm(_bmm(lam_t, A), lam) + np.eye(s)  # symmetric, >= I: always invertible
    ok = np.ones(m, dtype=bool)
    with np.errstate(all="ignore"):
        m_inv, logdet_m = _inv_logdet(M)
        logdet_v = logdet_m.sum(axis=1)
        K = _sym(_bmm(_bmm(lam, m_inv), lam_t))  # Lambda M^-1 Lambda' (m, B, s, s)
        KC = _bmm(K, C)
        XVX = _sym(struct.XtX - c_flat.T @ KC.reshape(m, B * s, p))
        Kd = _bmm(K, out.d[..., None])[..., 0]
        XVy = out.Xty - Kd.reshape(m, B * s) @ c_flat
        yVy = out.yty - np.einsum("mi,mi->m", out.d.reshape(m, -1), Kd.reshape(m, -1))
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
    m = K.shape[0]
    B, s, p = struct.C.shape
    E = struct.E[None]
    AK = _bmm(A, K)
    W = _sym(A - _bmm(AK, A))  # Z_b' V^-1 Z_b
    U = C - _bmm(AK, C)  # Z_b' V^-1 X
    ed = out.d - (beta_t @ struct.C.reshape(B * s, p).T).reshape(m, B, s)
    a = ed - _bmm(AK, ed[..., None])[..., 0]  # Z_b' P y
    UH = (U.reshape(m, B * s, p) @ H).reshape(m, B, s, p)
    S = _bmm(UH, np.swapaxes(U, -1, -2))  # U_b H U_b'
    w_sum = W.sum(axis=1)
    a_sum = np.swapaxes(a, 1, 2) @ a
    q_p = w_sum - S.sum(axis=1) if reml else w_sum
    G = _bmm(E, lam_t) + _bmm(lam, np.swapaxes(E, -1, -2))  # (m, k, s, s): dLambda Lambda' / dtheta_k
    r2_k = -np.einsum("mij,mkji->mk", a_sum, G)
    pc.grad = np.einsum("mij,mkji->mk", q_p, G) + pc.nu * r2_k / pc.r2[:, None]
    pc.r2_k = r2_k
    pc.U, pc.W = U, W
    if order < 2:
        return
    k = G.shape[1]
    Et = np.swapaxes(struct.E, -1, -2)
    Gkl = struct.E[:, None] @ Et[None] + struct.E[None] @ Et[:, None]  # (k, l, s, s)
    WG = _bmm(W[:, :, None], G[:, None])  # (m, B, k, s, s)
    flat = WG.reshape(m, B, k, s * s)
    flat_t = np.swapaxes(WG, -1, -2).reshape(m, B, k, s * s)
    t_ww = _over_blocks(flat, flat_t)  # sum_b tr(W_b G_k W_b G_l)
    GU = _bmm(G[:, None], U[:, :, None])  # (m, B, k, s, p)
    F = np.swapaxes(U.reshape(m, 1, B * s, p), 2, 3) @ np.moveaxis(GU, 2, 1).reshape(m, k, B * s, p)
    pc.F = F  # sum_b U_b' G_k U_b
    if reml:
        SG = _bmm(S[:, :, None], G[:, None])
        cross = _over_blocks(flat_t, SG.reshape(m, B, k, s * s))  # sum_b tr(S_b G_l W_b G_k)
        HF = H[:, None] @ F
        tr_pvpv = t_ww - cross - np.swapaxes(cross, 1, 2) + np.einsum("mkij,mlji->mkl", HF, HF)
    else:
        tr_pvpv = t_ww
    pc.A_kl = np.einsum("mij,klji->mkl", q_p, Gkl) - tr_pvpv
    ga = _bmm(G[:, None], a[:, :, None, :, None])[..., 0]  # G_k a_b: (m, B, k, s)
    t1 = _over_blocks(ga, _bmm(W[:, :, None], ga[..., None])[..., 0])
    h = np.moveaxis(ga, 2, 1).reshape(m, k, B * s) @ U.reshape(m, B * s, p)
    t2 = (h @ H) @ np.swapaxes(h, 1, 2)
    pc.r2_kl = 2.0 * (t1 - t2) - np.einsum("mij,klji->mkl", a_sum, Gkl)
    r2 = pc.r2[:, None, None]
    pc.hess = _sym(pc.A_kl + pc.nu * (pc.r2_kl / r2 - r2_k[:, :, None] * r2_k[:, None, :] / r2**2))
