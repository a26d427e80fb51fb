"""Minimising the profiled (RE)ML deviance in theta: Newton's method on the exact Hessian, batched.

lme4 minimises the deviance with a derivative-free optimiser (bobyqa or
Nelder-Mead through nloptr) under ``theta_diag >= 0`` and stops when the
deviance no longer changes at its tolerance, which can leave ``theta`` ~1e-5
short of the optimum.  Here every outcome of a batch takes Newton steps on the
exact gradient and Hessian (:mod:`._lmm`) until the step is at rounding level,
so the fit is the optimum to the last digits:

- no bounds are needed: the deviance depends on ``theta`` only through
  ``Lambda Lambda'``, which is unchanged when a column of a template changes
  sign, so the unconstrained minimum is lme4's constrained one; templates
  are turned to non-negative diagonals at the end (lme4's convention);
- the Hessian's eigenvalues are taken in absolute value (floored), so a
  step always goes downhill and leaves saddle points (Dauphin et al. 2014);
- each step is halved until the deviance decreases (Armijo's rule).

A variance estimated at zero (a singular fit) is reached as ``theta_k -> 0``,
where the deviance is even in ``theta_k``; Newton converges there too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._lmm import Outcomes, Structure, evaluate

__all__ = ["Optimum", "minimise", "moment_start", "normalise_signs", "BOUNDARY"]

#: A template diagonal below this (a random-effect SD below 1e-10 residual SDs) is the boundary: set to 0,
#: as lme4's bounded optimiser reports it (the deviance changes by ~1e-20).
BOUNDARY = 1e-10


@dataclass(eq=False)
class Optimum:
    theta: np.ndarray  # (m, k)
    converged: np.ndarray  # (m,)
    n_iter: np.ndarray  # (m,)


def _newton_step(grad: np.ndarray, hess: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``-|H|^-1 g`` with the eigenvalues of ``H`` in absolute value (floored), and whether ``H`` is positive."""
    vals, vecs = np.linalg.eigh(hess)
    mag = np.abs(vals)
    floor = np.maximum(mag.max(axis=-1, keepdims=True) * 1e-12, 1e-12)
    positive = np.all(vals > floor, axis=-1)
    coef = np.einsum("mji,mj->mi", vecs, grad) / np.maximum(mag, floor)
    return -np.einsum("mij,mj->mi", vecs, coef), positive


def minimise(
    struct: Structure,
    out: Outcomes,
    *,
    reml: bool,
    theta0: np.ndarray | None = None,
    max_iter: int = 200,
    final_step: float = 1e-8,
) -> Optimum:
    """Newton iterations for every outcome of ``out`` at once (converged ones stop moving).

    A Newton step (positive Hessian) shorter than ``final_step`` (relative to
    ``1 + max|theta|``) is the last one: Newton's quadratic convergence leaves
    an error of the order of its square, below rounding.
    """
    m = out.yty.shape[0]
    theta = moment_start(struct, out) if theta0 is None else np.array(theta0, dtype=float)
    converged = np.zeros(m, dtype=bool)
    n_iter = np.zeros(m, dtype=np.int64)
    active = np.arange(m)
    pc = evaluate(struct, out, theta, reml=reml, order=2)
    f, grad, hess = pc.f, pc.grad, pc.hess
    for _ in range(max_iter):
        finite = np.isfinite(f) & np.isfinite(grad).all(axis=1) & np.isfinite(hess).all(axis=(1, 2))
        if not finite.all():  # the deviance cannot be evaluated there: stop, not converged
            active, f, grad, hess = active[finite], f[finite], grad[finite], hess[finite]
            if active.size == 0:
                break
        step, positive = _newton_step(grad, hess)
        scale = 1.0 + np.max(np.abs(theta[active]), axis=1)
        last = positive & (np.max(np.abs(step), axis=1) <= final_step * scale)
        theta[active[last]] += step[last]
        converged[active[last]] = True
        n_iter[active] += 1
        keep = ~last
        active, f, step, grad = active[keep], f[keep], step[keep], grad[keep]
        if active.size == 0:
            break
        slope = np.einsum("mi,mi->m", grad, step)  # < 0: a descent direction
        cand = theta[active] + step
        pc = evaluate(struct, out.take(active), cand, reml=reml, order=2)
        good = pc.f <= f + 1e-4 * slope + 1e-13 * np.abs(f)
        if not good.all():  # halve the step of the others until the deviance decreases
            bad = np.flatnonzero(~good)
            t = np.ones(bad.size)
            found = np.zeros(bad.size, dtype=bool)
            for _halving in range(60):
                t[~found] *= 0.5
                todo = np.flatnonzero(~found)
                trial = theta[active[bad[todo]]] + t[todo, None] * step[bad[todo]]
                ft = evaluate(struct, out.take(active[bad[todo]]), trial, reml=reml).f
                ok = ft <= f[bad[todo]] + 1e-4 * t[todo] * slope[bad[todo]] + 1e-13 * np.abs(f[bad[todo]])
                cand[bad[todo[ok]]] = trial[ok]
                found[todo[ok]] = True
                if found.all():
                    break
            stuck = bad[~found]  # no decrease along a descent direction: at the optimum to rounding
            converged[active[stuck]] = np.abs(slope[stuck]) < 1e-12 * (1.0 + np.abs(f[stuck]))
            moved = np.setdiff1d(np.arange(active.size), stuck)
            theta[active[moved]] = cand[moved]
            active = active[moved]
            if active.size == 0:
                break
            pc = evaluate(struct, out.take(active), theta[active], reml=reml, order=2)
        else:
            theta[active] = cand
        f, grad, hess = pc.f, pc.grad, pc.hess
    theta = normalise_signs(struct, theta)
    diag = struct.on_diagonal()
    theta[:, diag] = np.where(np.abs(theta[:, diag]) < BOUNDARY, 0.0, theta[:, diag])
    return Optimum(theta, converged, n_iter)


def moment_start(struct: Structure, out: Outcomes) -> np.ndarray:
    """A starting ``theta`` from per-group least squares (method of moments), else lme4's start.

    With one grouping factor, each group's coefficients ``c_b = (Z_b'Z_b)^-1
    Z_b'e`` of the least-squares residuals ``e`` have ``E[c_b c_b'] = G +
    sigma^2 (Z_b'Z_b)^-1``; ``G / sigma^2`` (its eigenvalues floored, so that
    no variance starts on the boundary, where the deviance is flat) gives the
    templates.  Newton then needs a few steps fewer than from lme4's start.
    """
    m = out.yty.shape[0]
    default = np.tile(struct.theta_start(), (m, 1))
    B, s = struct.A.shape[:2]
    if B < 3:  # several grouping factors share one block: lme4's start
        return default
    vals, vecs = np.linalg.eigh(struct.A)
    ok = vals[:, 0] > 1e-10 * np.maximum(vals[:, -1], 1e-300)
    if ok.sum() < 3:
        return default
    a_inv = (vecs[ok] / vals[ok][:, None, :]) @ np.swapaxes(vecs[ok], 1, 2)  # (B_ok, s, s)
    d = out.d[:, ok]
    c = np.einsum("bij,mbj->mbi", a_inv, d)
    with np.errstate(all="ignore"):
        sigma2 = (out.yty - np.einsum("mbi,mbi->m", d, c)) / max(struct.n - s * int(ok.sum()), 1)
        G = np.einsum("mbi,mbj->mij", c, c) / ok.sum() / sigma2[:, None, None] - a_inv.mean(axis=0)
    if not np.all(np.isfinite(G)):
        return default
    theta = default.copy()
    for term in sorted({t for t, _, _ in struct.theta_index}):
        ks = [k for k, (t, _, _) in enumerate(struct.theta_index) if t == term]
        rows = sorted({int(np.argwhere(struct.E[k])[0][0]) for k in ks})
        w, v = np.linalg.eigh(G[:, rows][:, :, rows])
        w = np.maximum(w, np.maximum(1e-2 * w[:, -1:], 1e-4))
        T = np.linalg.cholesky((v * w[:, None, :]) @ np.swapaxes(v, 1, 2))
        for k in ks:
            r, c_ = np.argwhere(struct.E[k])[0]
            theta[:, k] = T[:, rows.index(int(r)), rows.index(int(c_))]
    return theta


def normalise_signs(struct: Structure, theta: np.ndarray) -> np.ndarray:
    """Flip template columns with a negative diagonal (the same ``Lambda Lambda'``; lme4's sign convention)."""
    theta = np.array(theta, dtype=float)
    index = struct.theta_index
    for k, (term, r, c) in enumerate(index):
        if r != c:
            continue
        flip = theta[:, k] < 0
        if flip.any():
            column = [j for j, (t2, _, c2) in enumerate(index) if t2 == term and c2 == c]
            theta[np.ix_(flip, column)] *= -1.0
    return theta
