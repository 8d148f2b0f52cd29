r"""The separable ridge in a finite feature space, solved on sufficient statistics.

With features :math:`\varphi` of dimension m and task functions
:math:`f_t = \varphi^\top w_t`, ``W = [w_1 ... w_T]`` (m x T), the objective
of :class:`~rkhsmtl.solvers.SeparableProblem` becomes

.. math::

    \sum_t \Big(w_t^\top G_t w_t - 2 w_t^\top b_t + q_t\Big)
      + \alpha\,\mathrm{tr}(A^{+} W^\top W),

with W restricted to the row space of A (statistics of
:mod:`~rkhsmtl.solvers.feature_statistics`; intercepts are eliminated by
centring each task's statistics, which is exact).  Writing
:math:`A = L L^\top` (L = T x r, from eigh(A), r = rank A) and
:math:`W = Z L^\top`, the norm is :math:`\|Z\|_F^2` and the normal equations
are the symmetric positive definite system

.. math::

    \sum_t G_t Z\, l_t l_t^\top + \alpha Z = \sum_t b_t l_t^\top
    \qquad (Z \in \mathbb R^{m\times r}).

* **shared** layout (one Gram G for every task): this is the Sylvester
  equation :math:`G V A + \alpha V = B` of :mod:`~rkhsmtl.solvers.sylvester`
  with G in place of K: eigh(G) once, eigh(A) per task matrix, then every
  alpha costs O(m^2 T).
* **tasks** layout, :math:`m r` small: the (m r) x (m r) matrix
  :math:`\sum_t (l_t l_t^\top)\otimes G_t + \alpha I` is formed and factored.
* **tasks** layout otherwise: PCG on Z, each iteration one product
  :math:`G_t u_t` per task (O(m^2 T)), preconditioned by the same system with
  every :math:`G_t` replaced by its share :math:`p_t \bar G` of the pooled
  Gram (:math:`p_t = c_t / \sum c`), which is again a Sylvester solve through
  eigh of :math:`\bar G` (once) and of the r x r matrix
  :math:`L^\top \mathrm{diag}(p) L`.  It is exact when every task sees the same
  input distribution.

Nothing here grows with the number of rows N.
"""
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import linalg, to_numpy
from . import sylvester
from ._pcg import pcg
from .feature_statistics import SHARED, FeatureStatistics

#: Largest m * rank(A) solved by forming and factoring the dense system.
DIRECT_MAX = 2000

#: A task matrix whose eigenvalues span less than 1 / INVERTIBLE_RCOND is
#: solved in W with the per-task (block-Jacobi) preconditioner.
INVERTIBLE_RCOND = 1e-8


@dataclass
class FeatureFactors:
    """Centred statistics plus the decompositions reused across solves."""

    stats: FeatureStatistics        # centred when fit_intercept
    raw: FeatureStatistics          # as gathered (for the intercepts)
    fit_intercept: bool
    q: Any                          # (T,) centred sums of squared targets
    gram_eigen: Any = None          # KernelEigen of G (shared) or pooled G (tasks)
    shares: Any = None              # (T,) p_t (tasks layout)
    task_diag: Any = None           # (T, m) diag(U^T G_t U), U = pooled eigenvectors
    task_eigen: Any = None          # {t: (V_t, lam_t)}, computed on first use


def center(stats):
    """Statistics of the task-wise centred features and targets.

    Centring eliminates the unpenalized intercepts exactly: for task t the
    weighted mean :math:`\\mu_t = s_t / c_t` is removed from the features and
    :math:`\\bar y_t / c_t` from the targets.  Tasks with zero total weight
    stay zero.
    """
    xp = stats.xp
    c = stats.count
    safe = xp.where(c > 0, c, xp.ones_like(c))
    mu = stats.phi_sum / safe[:, None]                       # (T, m)
    ybar = stats.y_sum / safe                                # (T,)
    phi_y = stats.phi_y - xp.matrix_transpose(stats.phi_sum) * ybar[None, :]
    if stats.layout == SHARED:
        s = stats.phi_sum[0]
        gram = stats.gram - (s[:, None] * s[None, :]) / safe[0]
        return FeatureStatistics(xp, SHARED, stats.n_features, stats.n_tasks, c,
                                 xp.zeros_like(stats.phi_sum), phi_y,
                                 xp.zeros_like(stats.y_sum), stats.y_sq, gram=gram)
    task_gram = {}
    for t, G in stats.task_gram.items():
        s = stats.phi_sum[t]
        task_gram[t] = G - (s[:, None] * s[None, :]) / safe[t]
    task_rows = {t: (R - mu[t][None, :], w) for t, (R, w) in stats.task_rows.items()}
    return FeatureStatistics(xp, stats.layout, stats.n_features, stats.n_tasks, c,
                             xp.zeros_like(stats.phi_sum), phi_y,
                             xp.zeros_like(stats.y_sum), stats.y_sq, None, task_gram,
                             task_rows)


def decompose(stats, fit_intercept=True):
    """Centre (if asked) and eigendecompose the Gram once.

    Returns
    -------
    FeatureFactors
        Reused by :func:`solve` for every task matrix and alpha.
    """
    xp = stats.xp
    work = center(stats) if fit_intercept else stats
    c = stats.count
    safe = xp.where(c > 0, c, xp.ones_like(c))
    q = stats.y_sq - (stats.y_sum * stats.y_sum) / safe if fit_intercept else stats.y_sq
    if stats.layout == SHARED:
        kfac = sylvester.decompose_kernel(xp, work.gram)
        return FeatureFactors(work, stats, fit_intercept, q, kfac, None)
    total = float(xp.sum(c))
    shares = c / (total if total > 0 else 1.0)
    kfac = sylvester.decompose_kernel(xp, work.pooled_gram())
    return FeatureFactors(work, stats, fit_intercept, q, kfac, shares,
                          _task_diagonals(work, kfac.U))


def _task_diagonals(stats, U):
    """D[t, i] = u_i^T G_t u_i: each task's curvature along the pooled eigenvectors.

    Computed once per fit (T products of m x m matrices), it makes the PCG
    preconditioner see how much data each task has in each direction, not
    only in total.
    """
    xp = stats.xp
    rows = []
    for t in range(stats.n_tasks):
        if t in stats.task_gram:
            rows.append(xp.sum((stats.task_gram[t] @ U) * U, axis=0))
        elif t in stats.task_rows:
            R, w = stats.task_rows[t]
            RU = R @ U
            rows.append(xp.sum((RU * RU) * w[:, None], axis=0))
        else:
            rows.append(xp.zeros((U.shape[1],), dtype=U.dtype))
    return xp.stack(rows, axis=0)


def _task_factor(xp, A):
    """L (T, r) with A = L L^T, r = numerical rank of A."""
    delta, V = linalg.eigh(xp, A)
    delta_h = to_numpy(delta)
    keep = np.flatnonzero(delta_h > 1e-12 * max(float(delta_h.max()), 1e-300))
    idx = xp.asarray(keep) if not isinstance(delta, np.ndarray) else keep
    Vr = xp.take(V, idx, axis=1)
    dr = xp.take(delta, idx, axis=0)
    return Vr * xp.sqrt(dr)[None, :], dr


def solve(fac, A, alpha, *, x0=None, tol=1e-10, max_iter=1000):
    """Feature weights W (m, T) and intercepts b (T,) for one task matrix and alpha.

    Parameters
    ----------
    fac : FeatureFactors
        From :func:`decompose`.
    A : array (T, T)
        Symmetric PSD task matrix.
    alpha : float
        Ridge on the function norm, >= 0.
    x0 : array (m, T), optional
        Warm start: a previous W (tasks layout, PCG only).
    tol, max_iter : float, int
        PCG stopping rule (relative residual).

    Returns
    -------
    W : array (m, T)
    b : array (T,) or None
    info : dict
        ``method`` ("sylvester", "direct" or "pcg"), ``n_iter``, ``x`` (= W,
        the warm start of the next solve).
    """
    xp = fac.stats.xp
    stats = fac.stats
    if stats.layout == SHARED:
        tfac = sylvester.decompose_task_matrix(xp, A)
        V, _ = sylvester.solve(fac.gram_eigen, tfac, stats.phi_y, alpha,
                               fit_intercept=False)
        W = V @ A
        info = {"method": "sylvester", "n_iter": 1}
    else:
        L, dr = _task_factor(xp, A)
        m, r = stats.n_features, L.shape[1]
        rhs = stats.phi_y @ L                                  # (m, r)
        if m * r <= DIRECT_MAX:
            Z = _direct(stats, L, rhs, alpha)
            W = Z @ xp.matrix_transpose(L)
            info = {"method": "direct", "n_iter": 1}
        elif r == stats.n_tasks and alpha > 0 and \
                float(xp.min(dr)) > INVERTIBLE_RCOND * float(xp.max(dr)):
            W, info = _pcg_weights(fac, A, alpha, x0, tol, max_iter)
            info["method"] = "pcg-tasks"
        else:
            Z, info = _pcg(fac, L, rhs, alpha, x0, dr, tol, max_iter)
            W = Z @ xp.matrix_transpose(L)
            info["method"] = "pcg"
    info["x"] = W
    return W, intercepts(fac, W), info


def intercepts(fac, W):
    """Exact unpenalized intercepts :math:`b_t = (\\bar y_t - s_t^\\top w_t) / c_t`."""
    if not fac.fit_intercept:
        return None
    xp = fac.raw.xp
    raw = fac.raw
    c = raw.count
    safe = xp.where(c > 0, c, xp.ones_like(c))
    fitted_mean = xp.sum(xp.matrix_transpose(raw.phi_sum) * W, axis=0)   # s_t^T w_t
    return xp.where(c > 0, (raw.y_sum - fitted_mean) / safe, xp.zeros_like(c))


def _direct(stats, L, rhs, alpha):
    """Form and factor sum_t (l_t l_t^T) kron G_t + alpha I (vec column-major)."""
    xp = stats.xp
    m, T, r = stats.n_features, stats.n_tasks, L.shape[1]
    G = xp.stack([xp.reshape(stats.task_gram_dense(t), (m * m,)) for t in range(T)],
                 axis=0)                                        # (T, m*m)
    LL = xp.reshape(L[:, :, None] * L[:, None, :], (T, r * r))  # (T, r*r)
    H = xp.reshape(xp.matrix_transpose(LL) @ G, (r, r, m, m))   # [j, k, i, l]
    H = xp.reshape(xp.permute_dims(H, (0, 2, 1, 3)), (r * m, r * m))
    H = linalg.add_to_diagonal(xp, H, alpha)
    b = xp.reshape(xp.matrix_transpose(rhs), (r * m,))          # vec(Z): j * m + i
    try:
        z = linalg.cholesky(xp, H, overwrite=True).solve(b[:, None])[:, 0]
    except np.linalg.LinAlgError:
        # alpha = 0 with a singular Gram: the minimum-norm solution.
        s, U = linalg.eigh(xp, H)
        inv = linalg.safe_reciprocal(xp, xp.clip(s, 0.0, None), "feature-space system")
        z = U @ (inv * (xp.matrix_transpose(U) @ b))
    return xp.matrix_transpose(xp.reshape(z, (r, m)))


def _pcg(fac, L, rhs, alpha, x0, dr, tol, max_iter):
    stats = fac.stats
    xp = stats.xp
    Lt = xp.matrix_transpose(L)

    def matvec(Z):
        return stats.task_matmul(Z @ Lt) @ L + alpha * Z

    precond = _preconditioner(fac, L, alpha)

    z0 = None
    if x0 is not None and x0.shape == (stats.n_features, stats.n_tasks):
        z0 = (x0 @ L) / dr[None, :]            # W = Z L^T and L^T L = diag(dr)
    Z, info = pcg(xp, matvec, rhs, precond=precond, x0=z0, tol=tol, max_iter=max_iter,
                  what="feature-space PCG solver")
    return Z, info


def task_eigen(stats):
    """Per-task eigenpairs (V_t, lam_t) of G_t, computed once per fit.

    A task kept as rows (fewer rows than features) is decomposed through
    the thin SVD of its weighted rows, O(n_t^2 m); a Gram task through eigh,
    O(m^3).  They make the block-Jacobi preconditioner exact per task for
    any task matrix, at no per-solve cost.
    """
    xp = stats.xp
    out = {}
    for t in range(stats.n_tasks):
        if t in stats.task_gram:
            lam, V = linalg.eigh(xp, stats.task_gram[t])
            out[t] = (V, xp.clip(lam, 0.0, None))
        elif t in stats.task_rows:
            R, w = stats.task_rows[t]
            Rs = R * xp.sqrt(w)[:, None]
            # Eigenpairs of Rs^T Rs from the small n_t x n_t Gram Rs Rs^T.
            lam, Q = linalg.eigh(xp, Rs @ xp.matrix_transpose(Rs))
            keep = lam > 1e-12 * max(float(xp.max(lam)), 1e-300)
            idx = np.flatnonzero(np.asarray(to_numpy(keep)))
            idx = idx if isinstance(lam, np.ndarray) else xp.asarray(idx)
            lam = xp.take(lam, idx, axis=0)
            V = (xp.matrix_transpose(Rs) @ xp.take(Q, idx, axis=1)) / xp.sqrt(lam)[None, :]
            out[t] = (V, lam)
    return out


def _pcg_weights(fac, A, alpha, x0, tol, max_iter):
    """PCG in W for an invertible A: blockdiag(G_t) + alpha (A^{-1} kron I).

    Preconditioner: the block diagonal, :math:`(G_t + \alpha (A^{-1})_{tt} I)^{-1}`
    per task through the task's eigenpairs.  Exact for independent tasks;
    the coupling through A's off-diagonal is what the iterations resolve.
    """
    stats = fac.stats
    xp = stats.xp
    if fac.task_eigen is None:
        fac.task_eigen = task_eigen(stats)
    delta, Q = linalg.eigh(xp, A)
    A_inv = (Q / delta[None, :]) @ xp.matrix_transpose(Q)
    diag = to_numpy(xp.linalg.diagonal(A_inv))
    blocks = []
    for t in range(stats.n_tasks):
        c = alpha * float(diag[t])
        if t in fac.task_eigen:
            V, lam = fac.task_eigen[t]
            blocks.append((V, 1.0 / (lam + c) - 1.0 / c, 1.0 / c))
        else:
            blocks.append((None, None, 1.0 / c))

    def matvec(W):
        return stats.task_matmul(W) + alpha * (W @ A_inv)

    def precond(R):
        cols = []
        for t, (V, shift, inv_c) in enumerate(blocks):
            r = R[:, t]
            z = inv_c * r
            if V is not None:
                z = z + V @ (shift * (xp.matrix_transpose(V) @ r))
            cols.append(z)
        return xp.stack(cols, axis=1)

    start = x0 if x0 is not None and x0.shape == stats.phi_y.shape else None
    return pcg(xp, matvec, stats.phi_y, precond=precond, x0=start, tol=tol,
               max_iter=max_iter, what="feature-space PCG solver")


#: Largest m * r^2 (entries) for the per-direction preconditioner.
BLOCK_PRECONDITIONER_MAX = 2 * 10**7


def _preconditioner(fac, L, alpha):
    """Approximate inverse of Z -> sum_t G_t Z l_t l_t^T + alpha Z.

    Each G_t is replaced by its diagonal in the eigenbasis U of the pooled
    Gram, :math:`G_t \approx U\,\mathrm{diag}(D_{t,:})\,U^\top`; the system
    then splits into one r x r system per eigen-direction i,
    :math:`(L^\top \mathrm{diag}(D_{:,i}) L + \alpha I) z_i = \hat r_i`, whose
    inverses are formed once per task matrix.  It is exact when the tasks'
    Grams share eigenvectors (e.g. one input distribution seen by all tasks,
    in any amounts).  Beyond ``BLOCK_PRECONDITIONER_MAX`` entries it falls back
    to scalar shares (:math:`G_t \approx p_t \bar G`), a Sylvester solve.
    """
    xp = fac.stats.xp
    kfac = fac.gram_eigen
    U, Ut = kfac.U, xp.matrix_transpose(kfac.U)
    m, r = U.shape[1], L.shape[1]
    Lt = xp.matrix_transpose(L)
    floor = max(alpha, 1e-12 * max(float(xp.max(kfac.s)), 1e-300))
    if m * r * r <= BLOCK_PRECONDITIONER_MAX:
        D = fac.task_diag                                           # (T, m)
        LD = L[None, :, :] * xp.matrix_transpose(D)[:, :, None]      # (m, T, r)
        H = Lt[None, :, :] @ LD                                     # (m, r, r)
        H = H + floor * xp.eye(r, dtype=H.dtype)[None, :, :]
        Hinv = xp.linalg.inv(H)

        def precond(R):
            Rh = (Ut @ R)[:, :, None]                               # (m, r, 1)
            return U @ (Hinv @ Rh)[:, :, 0]
        return precond
    S = Lt @ (L * fac.shares[:, None])
    S = 0.5 * (S + xp.matrix_transpose(S))
    delta, Q = linalg.eigh(xp, S)
    delta = xp.clip(delta, 0.0, None)
    Ginv = 1.0 / (kfac.s[:, None] * delta[None, :] + floor)

    def precond(R):
        return U @ (((Ut @ R) @ Q) * Ginv) @ xp.matrix_transpose(Q)
    return precond


def squared_loss(fac, W):
    """Weighted squared training loss at the optimal intercepts, from statistics."""
    xp = fac.stats.xp
    stats = fac.stats
    GW = stats.task_matmul(W)
    return float(xp.sum(fac.q) - 2.0 * xp.sum(W * stats.phi_y) + xp.sum(W * GW))
