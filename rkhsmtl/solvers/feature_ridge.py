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
* **tasks** layout otherwise: PCG on W, each iteration one product
  :math:`G_t w_t` per task (O(m^2 T)), preconditioned block by block: per
  task, :math:`(G_t + \alpha (A^{-1})_{tt} I)^{-1}` by Cholesky, for a
  well-conditioned A (exact for independent tasks; the factors are kept
  across solves while the shifts barely move); or, for strongly coupled tasks
  (the learned structures), per eigen-direction j of A,
  :math:`(\sum_t Q_{tj}^2 G_t + \alpha/\delta_j I)^{-1}`, which holds the
  large penalties of A's weak directions exactly.

Nothing here grows with the number of rows N.
"""
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import linalg, to_numpy
from .._memory import check_memory
from . import sylvester
from ._pcg import pcg
from .feature_statistics import SHARED, FeatureStatistics

#: Largest m * rank(A) solved by forming and factoring the dense system.
DIRECT_MAX = 2000

#: A task matrix with condition number up to this is solved with the
#: per-task (block-Jacobi) preconditioner; beyond it (strongly coupled tasks,
#: learned structures) with blocks over A's eigen-directions.
TASK_BLOCKS_MAX_COND = 10.0


@dataclass
class FeatureFactors:
    """Centred statistics plus the decompositions reused across solves."""

    stats: FeatureStatistics        # centred when fit_intercept
    raw: FeatureStatistics          # as gathered (for the intercepts)
    fit_intercept: bool
    q: Any                          # (T,) centred sums of squared targets
    gram_eigen: Any = None          # KernelEigen of G (shared layout)
    task_blocks: Any = None         # {t: _TaskBlock}, block-Jacobi factors
    gram_stack: Any = None          # (T, m*m) every task's dense Gram, on first use
    direction_blocks: Any = None    # (preconditioner, iterations of its last solve)
    pooled_diagonals: Any = None    # (U, D): pooled eigenvectors, diag(U^T G_t U)
    rotated: Any = None             # the statistics in the basis U


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
        s = stats.phi_sum[0, :]
        gram = stats.gram - (s[:, None] * s[None, :]) / safe[0]
        return FeatureStatistics(xp, SHARED, stats.n_features, stats.n_tasks, c,
                                 xp.zeros_like(stats.phi_sum), phi_y,
                                 xp.zeros_like(stats.y_sum), stats.y_sq, gram=gram)
    task_gram = {}
    for t, G in stats.task_gram.items():
        s = stats.phi_sum[t, :]
        task_gram[t] = G - (s[:, None] * s[None, :]) / safe[t]
    task_rows = {t: (R - mu[t, :][None, :], w) for t, (R, w) in stats.task_rows.items()}
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
    return FeatureFactors(work, stats, fit_intercept, q)


def _task_factor(xp, delta, V):
    """L (T, r) with A = L L^T, r = numerical rank of A, from eigh(A)."""
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
        delta, Q = linalg.eigh(xp, A)              # once per task matrix
        L, dr = _task_factor(xp, delta, Q)
        m, r = stats.n_features, L.shape[1]
        if m * r <= DIRECT_MAX:
            Z = _direct(stats, L, stats.phi_y @ L, alpha)
            W = Z @ xp.matrix_transpose(L)
            info = {"method": "direct", "n_iter": 1}
        elif r == stats.n_tasks and alpha > 0 and \
                float(xp.max(dr)) <= TASK_BLOCKS_MAX_COND * float(xp.min(dr)) * (1 + 1e-9):
            W, info = _pcg_weights(fac, delta, Q, alpha, x0, tol, max_iter)
            info["method"] = "pcg-tasks"
        else:
            W, info = _pcg_task_directions(fac, delta, Q, alpha, x0, tol, max_iter)
            info["method"] = "pcg-directions"
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


#: A cached per-task factor is reused while its shift is within this factor
#: of the one a new solve asks for (it stays a good, SPD preconditioner).
REFACTOR_RATIO = 1.5


class _TaskBlock:
    """(G_t + c I)^{-1} for one task, by Cholesky (Woodbury for few rows)."""

    def __init__(self, stats, t, c):
        xp = stats.xp
        self.c = c
        self.rows = None
        if t in stats.task_gram:
            G = linalg.add_to_diagonal(xp, xp.asarray(stats.task_gram[t], copy=True), c)
            self.chol = linalg.cholesky(xp, G, overwrite=True)
        elif t in stats.task_rows:
            # (cI + R^T W R)^{-1} = (I - R^T (c W^{-1} + R R^T)^{-1} R) / c, with
            # Rs = sqrt(W) R: (I - Rs^T (cI + Rs Rs^T)^{-1} Rs) / c: n_t x n_t.
            R, w = stats.task_rows[t]
            Rs = R * xp.sqrt(w)[:, None]
            small = linalg.add_to_diagonal(xp, Rs @ xp.matrix_transpose(Rs), c)
            self.rows = Rs
            self.chol = linalg.cholesky(xp, small, overwrite=True)
        else:
            self.chol = None

    def apply(self, xp, r):
        if self.chol is None:
            return r / self.c
        if self.rows is None:
            return self.chol.solve(r[:, None])[:, 0]
        Rs = self.rows
        inner = self.chol.solve((Rs @ r)[:, None])[:, 0]
        return (r - xp.matrix_transpose(Rs) @ inner) / self.c


def _pcg_weights(fac, delta, Q, alpha, x0, tol, max_iter):
    r"""PCG in W for an invertible A = Q diag(delta) Q^T: blockdiag(G_t) + alpha (A^{-1} kron I).

    Preconditioner: the block diagonal, :math:`(G_t + \alpha (A^{-1})_{tt} I)^{-1}`
    per task by Cholesky (the n_t x n_t Woodbury form for a task with fewer
    rows than features), kept across solves while the shift stays within
    ``REFACTOR_RATIO``.  Exact for independent tasks;
    the coupling through A's off-diagonal is what the iterations resolve.
    """
    stats = fac.stats
    xp = stats.xp
    A_inv = (Q / delta[None, :]) @ xp.matrix_transpose(Q)
    diag = to_numpy(xp.linalg.diagonal(A_inv))
    if fac.task_blocks is None:
        fac.task_blocks = {}
    blocks = []
    for t in range(stats.n_tasks):
        c = alpha * float(diag[t])
        block = fac.task_blocks.get(t)
        # Refactor only when the shift moved: between alternating steps the
        # task matrix changes little and the old factor still preconditions.
        if block is None or not (block.c / REFACTOR_RATIO <= c <= block.c * REFACTOR_RATIO):
            block = fac.task_blocks[t] = _TaskBlock(stats, t, c)
        blocks.append(block)

    def matvec(W):
        return stats.task_matmul(W) + alpha * (W @ A_inv)

    def precond(R):
        return xp.stack([block.apply(xp, R[:, t]) for t, block in enumerate(blocks)],
                        axis=1)

    start = x0 if x0 is not None and x0.shape == stats.phi_y.shape else None
    return pcg(xp, matvec, stats.phi_y, precond=precond, x0=start, tol=tol,
               max_iter=max_iter, what="feature-space PCG solver")


#: A direction-block preconditioner is rebuilt for the next task matrix once
#: the solve that used it took more than this many iterations.
STALE_ITERATIONS = 25


def _pcg_task_directions(fac, delta, Q, alpha, x0, tol, max_iter):
    r"""PCG on W with blocks over the eigen-directions of A = Q diag(delta) Q^T.

    In the coordinates :math:`Y = W Q` the system is
    :math:`\tilde B + \alpha\,\Delta^{-1}` with
    :math:`\tilde B_{jk} = \sum_t Q_{tj} Q_{tk} G_t`; its diagonal blocks
    :math:`\sum_t Q_{tj}^2 G_t + (\alpha / \delta_j) I` are the
    preconditioner.  Where the per-task blocks of :func:`_pcg_weights` lose
    their grip (a learned A with strongly correlated tasks, whose weak
    directions carry huge penalties), these hold the penalty exactly.
    Directions whose penalty dwarfs every Gram get the diagonal only; W stays
    in the range of a singular A (projected PCG).

    Between the steps of an alternating fit A moves little, so the blocks of
    an earlier A are reused (any SPD operator preconditions) until a solve
    needs more than ``STALE_ITERATIONS`` iterations; then the next solve
    rebuilds them.
    """
    stats = fac.stats
    xp = stats.xp
    delta_h = to_numpy(delta)
    live = delta_h > 1e-12 * max(float(delta_h.max()), 1e-300)
    idx = np.flatnonzero(live)
    Ql = xp.take(Q, xp.asarray(idx) if not isinstance(Q, np.ndarray) else idx, axis=1)
    Qlt = xp.matrix_transpose(Ql)
    A_pinv = (Ql / xp.asarray(delta_h[idx], dtype=Q.dtype)[None, :]) @ Qlt
    singular = not bool(live.all())

    def project(W):
        return (W @ Ql) @ Qlt if singular else W

    cached = fac.direction_blocks
    # The diagonal variant costs O(T^2 m) to rebuild (its eigenbasis and
    # per-task diagonals are kept per fit): rebuilt for every A, it follows
    # the extrapolated jumps of an accelerated fit, where a stale one needed
    # hundreds of iterations.  The dense blocks (T factorizations of m x m)
    # are reused until stale.
    if cached is None or cached[1] > STALE_ITERATIONS or _uses_diagonals(fac):
        cached = (_direction_blocks(fac, Q, delta_h, live, alpha), 0)
    precond = cached[0]
    # The diagonal variant works in the pooled eigenbasis U: the statistics
    # are rotated once (W~ = U^T W) so no iteration multiplies by U.
    rotation = fac.pooled_diagonals[0] if _uses_diagonals(fac) else None
    work = _rotated(fac) if rotation is not None else stats

    def matvec(W):
        return work.task_matmul(W) + alpha * (W @ A_pinv)

    start = x0 if x0 is not None and x0.shape == stats.phi_y.shape else None
    if start is not None and rotation is not None:
        start = xp.matrix_transpose(rotation) @ start
    W, info = pcg(xp, matvec, project(work.phi_y), precond=precond,
                  project=project if singular else None, x0=start, tol=tol,
                  max_iter=max_iter, what="feature-space PCG solver")
    fac.direction_blocks = (precond, info["n_iter"])
    if rotation is not None:
        W = rotation @ W
    return W, info


def _uses_diagonals(fac):
    stats = fac.stats
    T, m = stats.n_tasks, stats.n_features
    return bool(stats.task_rows) or 16.0 * T * m * m > DENSE_BLOCKS_MAX_BYTES


def _rotated(fac):
    """The statistics in the pooled eigenbasis U (rows R U, Grams U^T G U)."""
    if fac.rotated is None:
        stats = fac.stats
        xp = stats.xp
        U = fac.pooled_diagonals[0]
        Ut = xp.matrix_transpose(U)
        fac.rotated = FeatureStatistics(
            xp, stats.layout, stats.n_features, stats.n_tasks, stats.count,
            stats.phi_sum @ U, Ut @ stats.phi_y, stats.y_sum, stats.y_sq, None,
            {t: Ut @ G @ U for t, G in stats.task_gram.items()},
            {t: (R @ U, w) for t, (R, w) in stats.task_rows.items()})
    return fac.rotated


#: Dense per-direction blocks (two T x m x m arrays) only below this size, and
#: only when every task is held as a Gram; otherwise the diagonal variant.
DENSE_BLOCKS_MAX_BYTES = 4 * 1024**3


def _direction_diagonals(fac, Q, delta_h, live, alpha):
    r"""Cheap variant of the direction blocks: each :math:`\sum_t Q_{tj}^2 G_t`
    replaced by its diagonal in the eigenbasis U of the pooled Gram.

    Memory O(T m) (no T x m x m stack), set-up one eigh of the pooled Gram and
    :math:`D_{t,:} = \mathrm{diag}(U^\top G_t U)` once per fit; the solve runs on
    statistics rotated into U, so each application costs two m x T x T
    products.  For tasks with few rows each (held as rows)
    the sum over tasks is much closer to diagonal in U than any single G_t.
    """
    stats = fac.stats
    xp = stats.xp
    T, m = stats.n_tasks, stats.n_features
    if fac.pooled_diagonals is None:
        pooled = stats.pooled_gram()
        _, U = linalg.eigh(xp, 0.5 * (pooled + xp.matrix_transpose(pooled)))
        # The solve runs on the rotated statistics anyway: read the diagonals
        # off them rather than rotating every task a second time.
        fac.pooled_diagonals = (U, None)
        rotated = _rotated(fac)
        rows = []
        for t in range(T):
            if t in rotated.task_gram:
                rows.append(xp.linalg.diagonal(rotated.task_gram[t]))
            elif t in rotated.task_rows:
                RU, w = rotated.task_rows[t]
                rows.append(xp.sum((RU * RU) * w[:, None], axis=0))
            else:
                rows.append(xp.zeros((m,), dtype=U.dtype))
        fac.pooled_diagonals = (U, xp.stack(rows, axis=0))
    U, D = fac.pooled_diagonals
    D_all = xp.matrix_transpose(Q * Q) @ D                                  # (T_dir, m)
    floor = 1e-12 * max(float(xp.max(D)), 1e-300)
    shifts = np.where(live, alpha / np.where(live, delta_h, 1.0), 0.0)
    shifts = xp.asarray(np.maximum(shifts, floor), dtype=D.dtype)
    inv = 1.0 / (D_all + shifts[:, None])                                   # (T_dir, m)
    inv = inv * xp.asarray(live.astype(float), dtype=D.dtype)[:, None]
    Qt = xp.matrix_transpose(Q)

    def precond(R):
        # R is already in the U basis (the solve runs on rotated statistics).
        return ((R @ Q) * xp.matrix_transpose(inv)) @ Qt
    return precond


def _direction_blocks(fac, Q, delta_h, live, alpha):
    """The block preconditioner of :func:`_pcg_task_directions`, as W -> W."""
    stats = fac.stats
    xp = stats.xp
    T, m = stats.n_tasks, stats.n_features
    if _uses_diagonals(fac):
        return _direction_diagonals(fac, Q, delta_h, live, alpha)
    if fac.gram_stack is None:
        check_memory(2.0 * 8 * T * m * m, xp,
                     what=f"The per-direction blocks ({T} tasks, m={m})",
                     instead="Lower 'n_components'.")
        fac.gram_stack = xp.reshape(
            xp.stack([stats.task_gram_dense(t) for t in range(T)], axis=0), (T, m * m))
    grams = xp.reshape(fac.gram_stack, (T, m, m))
    diags = xp.stack([xp.linalg.diagonal(grams[t, :, :]) for t in range(T)], axis=0)  # (T, m)
    diag_max = float(xp.max(diags))
    Q2t = xp.matrix_transpose(Q * Q)
    # One product forms every block's Gram part: sum_t Q_tj^2 G_t for all j.
    H_all = xp.reshape(Q2t @ fac.gram_stack, (T, m, m))
    D_all = Q2t @ diags
    floor = 1e-12 * max(diag_max, 1e-300)
    blocks = []
    for j in range(T):
        if not live[j]:
            blocks.append(None)
            continue
        shift = max(float(alpha / delta_h[j]), floor)
        if shift > 1e6 * max(diag_max, 1e-300):
            blocks.append(("diag", 1.0 / (D_all[j, :] + shift)))
            continue
        H = linalg.add_to_diagonal(xp, H_all[j, :, :], shift)
        blocks.append(("chol", linalg.cholesky(xp, H, overwrite=True)))
    Qt = xp.matrix_transpose(Q)

    def precond(R):
        Y = R @ Q
        cols = []
        for j, block in enumerate(blocks):
            r = Y[:, j]
            if block is None:
                cols.append(xp.zeros_like(r))
            elif block[0] == "diag":
                cols.append(block[1] * r)
            else:
                cols.append(block[1].solve(r[:, None])[:, 0])
        return xp.stack(cols, axis=1) @ Qt
    return precond


def squared_loss(fac, W):
    """Weighted squared training loss at the optimal intercepts, from statistics."""
    xp = fac.stats.xp
    stats = fac.stats
    GW = stats.task_matmul(W)
    return float(xp.sum(fac.q) - 2.0 * xp.sum(W * stats.phi_y) + xp.sum(W * GW))
