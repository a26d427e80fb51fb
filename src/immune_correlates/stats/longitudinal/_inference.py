"""Small-sample tests of fixed effects: Satterthwaite (lmerTest) and Kenward-Roger (pbkrtest).

**Satterthwaite** (Satterthwaite 1946; Kuznetsova, Brockhoff & Christensen
2017).  The variance parameters are ``varpar = (theta, sigma)``; their
covariance is twice the (Moore-Penrose, eigenvalues > 1e-8) inverse of the
Hessian of the (RE)ML deviance in ``varpar`` (``beta`` profiled, ``sigma``
not).  For a contrast ``l``, ``df = 2 (l'C l)^2 / (g' A g)`` with ``C =
sigma^2 (X'V^-1X)^-1`` and ``g_k = l' dC/dvarpar_k l``.  A multi-row contrast
``L`` is rotated to the eigenvectors of ``L C L'``; each row gets its ``nu_m``
and the F statistic's denominator df is ``2 E / (E - q)`` with ``E = sum nu_m /
(nu_m - 2)`` (2 if some ``nu_m <= 2``), as ``lmerTest::contestMD``.  lmerTest
differentiates numerically (numDeriv); here the Hessian and Jacobian are exact
(:mod:`._lmm`).

**Kenward-Roger** (Kenward & Roger 1997; Halekoh & Hojsgaard 2014).  The
covariance parameters are the variances and covariances themselves (pbkrtest's
``Sigma = sum_r psi_r G_r``, residual last); ``vcovAdj`` is ``Phi + 2 Phi U
Phi`` and the denominator df and F scaling are pbkrtest's ``Lb_ddf`` /
``KRmodcomp``.  Every trace is reduced to the ``q``-dimensional blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._lmm import Pieces, Structure

__all__ = ["Satterthwaite", "KenwardRoger", "satterthwaite", "satterthwaite_t", "kenward_roger", "Contest"]


@dataclass(frozen=True)
class Contest:
    """One test of ``L beta = 0``: the F (or t^2) statistic, numerator and denominator df, p-value."""

    statistic: float
    num_df: int
    den_df: float
    p_value: float


def _f_ddf(nu: np.ndarray) -> float:
    """lmerTest's ``get_Fstat_ddf``: the F denominator df from the rows' t df."""
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < 1e-8):
        return float(np.mean(nu))
    if np.any(nu <= 2):
        return 2.0
    e = float(np.sum(nu / (nu - 2)))
    return 2 * e / (e - len(nu))


@dataclass(frozen=True, eq=False)
class Satterthwaite:
    """What Satterthwaite's df need: ``vcov(beta)``, ``vcov(varpar)`` and ``dC/dvarpar``."""

    beta: np.ndarray
    vcov: np.ndarray
    vcov_varpar: np.ndarray
    jac: np.ndarray  # (k + 1, p, p)
    hessian_eigenvalues: np.ndarray

    def t_df(self, l: np.ndarray) -> float:
        var = float(l @ self.vcov @ l)
        g = np.einsum("i,kij,j->k", l, self.jac, l)
        denom = float(g @ self.vcov_varpar @ g)
        return 2 * var**2 / denom if denom > 0 else np.inf

    def contest(self, L: np.ndarray) -> Contest:
        L = np.atleast_2d(L)
        if L.shape[0] == 1:
            return self._one(L[0])
        vals, vecs = np.linalg.eigh(L @ self.vcov @ L.T)
        vals, vecs = vals[::-1], vecs[:, ::-1]  # decreasing, as R's eigen()
        pos = vals > max(np.sqrt(np.finfo(float).eps) * vals[0], 0.0)
        q = int(pos.sum())
        ptl = (vecs.T @ L)[:q]
        if q == 1:
            return self._one(ptl[0])
        f = float(np.sum((ptl @ self.beta) ** 2 / vals[:q]) / q)
        g = np.einsum("mi,kij,mj->mk", ptl, self.jac, ptl)
        nu = 2 * vals[:q] ** 2 / np.einsum("mk,kl,ml->m", g, self.vcov_varpar, g)
        ddf = _f_ddf(nu)
        return Contest(f, q, ddf, float(stats.f.sf(f, q, ddf)))

    def _one(self, l: np.ndarray) -> Contest:
        t = float(l @ self.beta) / np.sqrt(float(l @ self.vcov @ l))
        df = self.t_df(l)
        return Contest(t * t, 1, df, float(2 * stats.t.sf(abs(t), df)))


def varpar_hessian(pc: Pieces) -> np.ndarray:
    """Hessian of the (RE)ML deviance in ``(theta, sigma)`` at the optimum (lmerTest's ``devfun_vp``), per outcome."""
    r2, nu = pc.r2, pc.nu
    sigma = np.sqrt(r2 / nu)[:, None]
    m, k = pc.r2_k.shape
    h = np.empty((m, k + 1, k + 1))
    h[:, :k, :k] = pc.A_kl + pc.r2_kl / sigma[:, :, None] ** 2
    h[:, :k, k] = h[:, k, :k] = -2 * pc.r2_k / sigma**3
    h[:, k, k] = 6 * r2 / sigma[:, 0] ** 4 - 2 * nu / sigma[:, 0] ** 2
    return 0.5 * (h + np.swapaxes(h, 1, 2))


def _varpar_parts(pc: Pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per outcome: ``vcov(beta)``, ``vcov(varpar)`` (twice lmerTest's pseudo-inverse), ``dC/dvarpar``, eigenvalues."""
    sigma = np.sqrt(pc.r2 / pc.nu)[:, None, None]
    H = pc.H
    h = varpar_hessian(pc)
    vals, vecs = np.linalg.eigh(h)
    inv = np.where(vals > 1e-8, 1.0 / np.where(vals > 1e-8, vals, 1.0), 0.0)
    vcov_varpar = 2 * (vecs * inv[:, None, :]) @ np.swapaxes(vecs, 1, 2)
    jac = np.concatenate([sigma[:, None] ** 2 * (H[:, None] @ pc.F @ H[:, None]), (2 * sigma * H)[:, None]], axis=1)
    return sigma**2 * H, vcov_varpar, jac, vals


def satterthwaite(pc: Pieces, j: int = 0) -> Satterthwaite:
    """Satterthwaite's ingredients for outcome ``j`` of the pieces (evaluated with ``order=2``)."""
    vcov, vcov_varpar, jac, vals = _varpar_parts(pc)
    return Satterthwaite(pc.beta[j], vcov[j], vcov_varpar[j], jac[j], vals[j])


def satterthwaite_t(pc: Pieces, l: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, standard error and Satterthwaite df of ``l' beta`` for every outcome of the pieces."""
    vcov, vcov_varpar, jac, _ = _varpar_parts(pc)
    var = np.einsum("i,mij,j->m", l, vcov, l)
    g = np.einsum("i,mkij,j->mk", l, jac, l)
    denom = np.einsum("mk,mkl,ml->m", g, vcov_varpar, g)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(denom > 0, 2 * var**2 / denom, np.inf)
    return pc.beta @ l, np.sqrt(var), df


@dataclass(frozen=True, eq=False)
class KenwardRoger:
    """pbkrtest's ``vcovAdj`` (``phi_adj``) with its ``P`` and ``W``, and the unadjusted ``phi``."""

    beta: np.ndarray
    phi: np.ndarray
    phi_adj: np.ndarray
    P: np.ndarray  # (r, p, p)
    W: np.ndarray  # (r, r)

    def _a12(self, L: np.ndarray) -> tuple[float, float]:
        theta = L.T @ np.linalg.solve(L @ self.phi @ L.T, L)
        u = theta @ self.phi @ self.P @ self.phi  # (r, p, p)
        tr = np.trace(u, axis1=1, axis2=2)
        a1 = float(tr @ self.W @ tr)
        a2 = float(np.einsum("ij,iab,jba->", self.W, u, u))
        return a1, a2

    def _df_scale(self, L: np.ndarray, q: int) -> tuple[float, float]:
        a1, a2 = self._a12(L)
        b = (a1 + 6 * a2) / (2 * q)
        g = ((q + 1) * a1 - (q + 4) * a2) / ((q + 2) * a2)
        c1 = g / (3 * q + 2 * (1 - g))
        c2 = (q - g) / (3 * q + 2 * (1 - g))
        c3 = (q + 2 - g) / (3 * q + 2 * (1 - g))
        v0 = 1 + c1 * b
        v0 = 0.0 if abs(v0) < 1e-10 else v0
        v1, v2 = 1 - c2 * b, 1 - c3 * b
        ratio = 1.0 if abs(1 - a2 / q) < 1e-14 and abs(v1) < 1e-14 else (1 - a2 / q) / v1
        rho = ratio**2 * v0 / v2 / q
        df2 = 4 + (q + 2) / (q * rho - 1)
        scale = 1.0 if abs(df2 - 2) < 0.01 else df2 * (1 - a2 / q) / (df2 - 2)
        return df2, scale

    def t_df(self, l: np.ndarray) -> float:
        return self._df_scale(np.atleast_2d(l), 1)[0]

    def contest(self, L: np.ndarray) -> Contest:
        L = np.atleast_2d(L)
        q = int(np.linalg.matrix_rank(L))
        est = L @ self.beta
        if L.shape[0] == 1:  # lmerTest's t-test: adjusted variance, no F scaling
            t = float(est[0]) / np.sqrt(float(L[0] @ self.phi_adj @ L[0]))
            df = self.t_df(L[0])
            return Contest(t * t, 1, df, float(2 * stats.t.sf(abs(t), df)))
        df2, scale = self._df_scale(L, q)
        f = scale * float(est @ np.linalg.solve(L @ self.phi_adj @ L.T, est)) / q
        return Contest(f, q, df2, float(stats.f.sf(f, q, df2)))


def kenward_roger(struct: Structure, pc: Pieces, j: int = 0) -> KenwardRoger:
    """pbkrtest's ``vcovAdj`` for outcome ``j`` of a REML fit, in ``q``-dimensional blocks.

    With ``Sigma = sigma^2 V``, ``Sigma^-1 = V^-1 / sigma^2`` and ``G_r = Z E_r Z'``
    (``G = I`` for the residual), pbkrtest's ``P_r = -X'Sigma^-1 G_r Sigma^-1 X``,
    ``Q_rs = X'Sigma^-1 G_r Sigma^-1 G_s Sigma^-1 X`` and
    ``tr(G_r Sigma^-1 G_s Sigma^-1)`` need ``Z'V^-1Z``, ``Z'V^-1X``, ``Z'V^-2Z``,
    ``Z'V^-2X``, ``X'V^-2X``, ``X'V^-3X`` and ``tr V^-2``, all from the blocks.
    """
    A, C, K = struct.A, struct.C, pc.K[j]
    U, W = pc.U[j], pc.W[j]
    AK = A @ K
    T = U - AK @ U  # Z'V^-2 X
    Z2 = W - AK @ W  # Z'V^-2 Z
    KC = K @ C
    xv2x = struct.XtX - 2 * np.einsum("bsp,bsq->pq", C, KC) + np.einsum("bsp,bsq->pq", KC, A @ KC)
    xv3x = xv2x - np.einsum("bsp,bst,btq->pq", U, K, U)  # (V^-1 X)' V^-1 (V^-1 X)
    KA = K @ A
    tr_v2 = struct.n - 2 * np.trace(KA, axis1=1, axis2=2).sum() + np.einsum("bij,bji->", KA, KA)
    E = struct.cov_patterns  # (r, s, s)
    s2 = float(pc.r2[j]) / pc.nu
    s4, s6 = s2 * s2, s2**3
    r = E.shape[0] + 1
    EU = np.einsum("rij,bjp->brip", E, U)  # E_r U_b
    P = np.empty((r, struct.p, struct.p))
    P[:-1] = -np.einsum("bip,briq->rpq", U, EU) / s4
    P[-1] = -xv2x / s4
    WEU = np.einsum("bij,brjp->brip", W, EU)
    Q = np.empty((r, r, struct.p, struct.p))
    Q[:-1, :-1] = np.einsum("brip,bsiq->rspq", EU, WEU) / s6
    Q[:-1, -1] = np.einsum("brip,biq->rpq", EU, T) / s6
    Q[-1, :-1] = np.swapaxes(Q[:-1, -1], 1, 2)
    Q[-1, -1] = xv3x / s6
    EW = np.einsum("rij,bjk->brik", E, W)
    kt = np.empty((r, r))
    kt[:-1, :-1] = np.einsum("brij,bsji->rs", EW, EW) / s4
    kt[:-1, -1] = kt[-1, :-1] = np.einsum("rij,bji->r", E, Z2) / s4
    kt[-1, -1] = tr_v2 / s4
    phi = s2 * pc.H[j]
    pp = P @ phi  # P_r Phi
    ie2 = kt - 2 * np.einsum("pq,rsqp->rs", phi, Q) + np.einsum("rij,sji->rs", pp, pp)
    ie2 = 0.5 * (ie2 + ie2.T)
    cond = np.min(np.abs(np.linalg.eigvalsh(ie2)))
    w = 2 * (np.linalg.inv(ie2) if cond > 1e-10 else np.linalg.pinv(ie2))
    w = 0.5 * (w + w.T)
    u = np.einsum("rs,rspq->pq", w, Q) - np.einsum("rs,rpa,sab->pb", w, pp, P)
    phi_adj = phi + 2 * phi @ u @ phi
    return KenwardRoger(pc.beta[j], phi, 0.5 * (phi_adj + phi_adj.T), P, w)
