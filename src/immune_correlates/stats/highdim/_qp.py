"""The penalised quadratic model of a proximal Newton step, solved exactly for many problems at once.

``argmin_z 0.5 z'Az - b'z + sum_j l1_j |z_j|`` (``A`` positive definite: the Hessian of the
loss plus the ridge part of the penalty) by feature-sign search (Lee, Battle, Raina & Ng 2007,
*Efficient sparse coding algorithms*, NIPS 19): Newton on the active set with its signs fixed,
a line search that stops where a coefficient crosses zero, and the worst violator of the
optimality conditions added until none is left.  It ends in a finite number of steps at the
exact minimiser (up to rounding), which is what makes the outer iterations converge to
glmnet's solution to the last digits.
"""

from __future__ import annotations

import numpy as np

__all__ = ["feature_sign", "mv"]


def mv(A, z):
    """Batched matrix-vector product ``A[b] @ z[b]``."""
    return np.matmul(A, z[:, :, None])[:, :, 0]


def feature_sign(A, b, l1, free, fixed, z, tol):
    """``argmin 0.5 z'Az - b'z + sum l1 |z|`` per problem, from ``z`` (``free``: unpenalised; ``fixed``: held at 0).

    Feature-sign search: minimise on the active set with the signs fixed (one linear solve),
    move along the segment to the best point (a coefficient that crosses zero leaves the set),
    and once the minimiser on the set is reached add the worst violator of the optimality
    conditions among the zero coefficients, until there is none.
    """
    B, q = z.shape
    z = z.copy()
    sign = np.sign(z)
    active = free | (z != 0)
    done = np.zeros(B, bool)
    diag = np.arange(q)
    limit = tol * (1.0 + np.max(np.abs(b), axis=1))
    for _ in range(20 * q + 20):
        step = np.flatnonzero(~done)
        if step.size == 0:
            break
        S = step.size
        As, bs, l1s, M, z0 = A[step], b[step], l1[step], active[step], z[step]
        Am = As * (M[:, :, None] & M[:, None, :])
        Am[:, diag, diag] = np.where(M, As[:, diag, diag], 1.0)
        rhs = np.where(M, bs - l1s * np.where(free[step], 0.0, sign[step]), 0.0)
        x = np.linalg.solve(Am, rhs[:, :, None])[:, :, 0]
        delta = x - z0
        cross = M & (z0 != 0) & (np.sign(x) != np.sign(z0)) & ~free[step]
        with np.errstate(divide="ignore", invalid="ignore"):
            tc = np.where(cross, z0 / (z0 - x), 2.0)
        cand = np.concatenate([np.where((tc > 0) & (tc < 1), tc, 1.0), np.ones((S, 1))], axis=1)
        # along the segment the smooth part is s1 t + s2 t^2 / 2 (from z0); the l1 part is piecewise linear
        s1 = np.sum((mv(As, z0) - bs) * delta, axis=1)
        s2 = np.sum(delta * mv(As, delta), axis=1)
        pts = z0[:, None, :] + cand[:, :, None] * delta[:, None, :]  # (S, q + 1, q)
        vals = s1[:, None] * cand + 0.5 * s2[:, None] * cand**2 + np.sum(l1s[:, None, :] * np.abs(pts), axis=2)
        k = np.argmin(vals, axis=1)
        t = cand[np.arange(S), k]
        znew = pts[np.arange(S), k]
        znew[cross & (np.abs(tc - t[:, None]) <= 1e-12 * t[:, None])] = 0.0
        znew[~M] = 0.0
        z[step] = znew
        active[step] = free[step] | (znew != 0)
        sign[step] = np.sign(znew)
        reached = step[t >= 1.0]  # at the minimiser on the set: optimal, or add the worst violator
        if reached.size:
            grad = mv(A[reached], z[reached]) - b[reached]
            viol = np.where(active[reached] | fixed[reached], -np.inf, np.abs(grad) - l1[reached])
            j = np.argmax(viol, axis=1)
            worst = viol[np.arange(reached.size), j]
            fin = worst <= limit[reached]
            done[reached[fin]] = True
            add, ja = reached[~fin], j[~fin]
            active[add, ja] = True
            sign[add, ja] = -np.sign(grad[~fin, ja])
    return z
