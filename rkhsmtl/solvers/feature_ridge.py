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
  :math:`(\sum_t Q_{tj}^2 G_t + \alpha/\delta_j I)^{-1}` with each
  Gram sum replaced by its diagonal in the pooled Gram's eigenbasis, which
  holds the large penalties of A's weak directions exactly.  Neither
  preconditioner wins everywhere (tasks with different input distributions
  favour the first, strongly correlated tasks the second), so a sequence of
  solves keeps the one whose last solve cost less (:func:`choose_route`).

Nothing here grows with the number of rows N.
"""
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._backend import is_numpy, linalg, to_numpy
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
    pooled_diagonals: Any = None    # (U, D): pooled eigenvectors, diag(U^T G_t U)
    rotated: Any = None             # the statistics in the basis U
    route_costs: dict = field(default_factory=dict)  # {route: (last cost, solve number)}
    route_last: Any = None          # the route of the last PCG solve
    route_solves: int = 0           # PCG solves so far
    route_default: Any = None       # the route the last A's conditioning suggested


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
        else:
            invertible = r == stats.n_tasks and alpha > 0
            well_conditioned = invertible and float(xp.max(dr)) <= \
                TASK_BLOCKS_MAX_COND * float(xp.min(dr)) * (1 + 1e-9)
            W, info = _pcg_routes(fac, delta, Q, alpha, x0, tol, max_iter,
                                  invertible, well_conditioned)
    info["x"] = W
    return W, intercepts(fac, W), info


#: Cost of one PCG iteration of each route, in products ``G_t w_t`` over all
#: tasks: the per-task blocks add T triangular solves with m x m factors
#: (about three such products), the direction diagonals O(m T^2) flops.
ROUTE_COST = {"pcg-tasks": 4.0, "pcg-directions": 1.0}

#: A route is left for the other once its last solve cost more than this
#: many products ...
SWITCH_COST = 30.0

#: ... unless the other's record is more expensive and at most this many
#: solves old (an older record is retried: A may have moved since).
RETRY_AFTER = 5


def choose_route(fac, invertible, well_conditioned):
    """The PCG route of the next tasks-layout solve, and its trial budget.

    The first solve follows the task matrix: per-task blocks for a
    well-conditioned A, blocks over A's eigen-directions otherwise (the only
    route for a singular A), and so does the first solve after A crossed
    that threshold.  Each solve's cost (iterations times
    :data:`ROUTE_COST`) is recorded in ``fac.route_costs``; the last route is
    kept while it costs at most :data:`SWITCH_COST`, and otherwise the other
    is tried unless its record is both recent and more expensive.  Between
    the steps of an alternating fit A moves little, so the last cost predicts
    the next; the choice depends on iteration counts only, so a fit stays
    deterministic.

    Returns
    -------
    route : {"pcg-tasks", "pcg-directions"}
    budget : float or None
        For a switch, the cost of the last route's solve: a trial that
        exceeds it hands its iterate back to that route (so a switch never
        costs more than twice the solve it tries to beat).
    """
    if not invertible:
        return "pcg-directions", None
    costs = fac.route_costs
    default = "pcg-tasks" if well_conditioned else "pcg-directions"
    # A task matrix that crossed the conditioning threshold since the last
    # solve (the first coupled A of a learned structure) is a new regime:
    # the records of the old one say little about it.
    crossed = fac.route_default is not None and default != fac.route_default
    fac.route_default = default
    if fac.route_last is None or fac.route_last not in costs or crossed:
        return default, None
    last = fac.route_last
    cost, _ = costs[last]
    if cost <= SWITCH_COST:
        return last, None
    other = _other(last)
    record = costs.get(other)
    if record is None or fac.route_solves - record[1] > RETRY_AFTER or record[0] < cost:
        return other, cost
    return last, None


def _other(route):
    return "pcg-directions" if route == "pcg-tasks" else "pcg-tasks"


def record_route(fac, route, n_iter):
    """Note one solve's route and cost for :func:`choose_route`."""
    fac.route_solves += 1
    fac.route_costs[route] = (n_iter * ROUTE_COST[route], fac.route_solves)
    fac.route_last = route


def _pcg_routes(fac, delta, Q, alpha, x0, tol, max_iter, invertible, well_conditioned):
    """One tasks-layout PCG solve on the route :func:`choose_route` picks."""
    def run(route, start, limit):
        solver = _pcg_weights if route == "pcg-tasks" else _pcg_task_directions
        return solver(fac, delta, Q, alpha, start, tol, limit)

    route, budget = choose_route(fac, invertible, well_conditioned)
    if budget is None:
        W, info = run(route, x0, max_iter)
        record_route(fac, route, info["n_iter"])
        info["method"] = route
        return W, info
    trial_iter = max(1, min(max_iter, int(budget / ROUTE_COST[route])))
    with warnings.catch_warnings():
        # A trial that runs out of its budget is not a failed solve.
        warnings.simplefilter("ignore", ConvergenceWarning)
        W, info = run(route, x0, trial_iter)
    record_route(fac, route, info["n_iter"])
    if info["converged"]:
        info["method"] = route
        return W, info
    spent = info["n_iter"]
    back = _other(route)
    W, info = run(back, W, max(max_iter - spent, 1))
    record_route(fac, back, info["n_iter"])
    info["n_iter"] += spent
    info["method"] = back
    return W, info


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


def _per_task_threads(xp):
    """One BLAS thread for the per-task loops (T small factorizations or
    triangular solves in a row, numpy): scipy's thread pool, woken for each
    while numpy's still spins from the last product, stalled them (School,
    139 tasks: an 80 x 80 Cholesky took 2.6 ms on average)."""
    return linalg.one_blas_thread() if is_numpy(xp) else nullcontext()


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
    with _per_task_threads(xp):
        for t in range(stats.n_tasks):
            c = alpha * float(diag[t])
            block = fac.task_blocks.get(t)
            # Refactor only when the shift moved: between alternating steps
            # the task matrix changes little and the old factor still
            # preconditions.
            if block is None or not (block.c / REFACTOR_RATIO <= c
                                     <= block.c * REFACTOR_RATIO):
                block = fac.task_blocks[t] = _TaskBlock(stats, t, c)
            blocks.append(block)

    def matvec(W):
        return stats.task_matmul(W) + alpha * (W @ A_inv)

    def precond(R):
        with _per_task_threads(xp):
            return xp.stack([block.apply(xp, R[:, t]) for t, block in enumerate(blocks)],
                            axis=1)

    start = x0 if x0 is not None and x0.shape == stats.phi_y.shape else None
    W, info = pcg(xp, matvec, stats.phi_y, precond=precond, x0=start, tol=tol,
                  max_iter=max_iter, what="feature-space PCG solver",
                  keep_residual=True)
    info["quadratic"] = _quadratic(xp, W, stats.phi_y, info.pop("r"), alpha, A_inv)
    return W, info


def _pcg_task_directions(fac, delta, Q, alpha, x0, tol, max_iter):
    r"""PCG on W with blocks over the eigen-directions of A = Q diag(delta) Q^T.

    In the coordinates :math:`Y = W Q` the system is
    :math:`\tilde B + \alpha\,\Delta^{-1}` with
    :math:`\tilde B_{jk} = \sum_t Q_{tj} Q_{tk} G_t`; its diagonal blocks
    :math:`\sum_t Q_{tj}^2 G_t + (\alpha / \delta_j) I`, each Gram sum
    replaced by its diagonal in the pooled eigenbasis U
    (:func:`_direction_diagonals`), are the preconditioner.  Where the
    per-task blocks of :func:`_pcg_weights` lose their grip (a learned A with
    strongly correlated tasks, whose weak directions carry huge penalties),
    these hold the penalty exactly.  W stays in the range of a singular A
    (projected PCG).

    The preconditioner is rebuilt for every A (O(m T^2) flops), so it follows
    the extrapolated jumps of an accelerated fit.  Dense blocks (T
    factorizations of m x m, reused between steps until stale) were measured
    slower: their triangular solves cost three Gram products per iteration
    and, reused, they needed more iterations (1,000 features, 100 tasks of
    3,000 rows, MTRL: 2.2 s per alternating step against 0.5 s).
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

    precond = _direction_diagonals(fac, Q, delta_h, live, alpha)
    # The solve works in the pooled eigenbasis U: the statistics are rotated
    # once per fit (W~ = U^T W) so no iteration multiplies by U.
    rotation = fac.pooled_diagonals[0]
    work = _rotated(fac)

    def matvec(W):
        return work.task_matmul(W) + alpha * (W @ A_pinv)

    start = x0 if x0 is not None and x0.shape == stats.phi_y.shape else None
    if start is not None:
        start = xp.matrix_transpose(rotation) @ start
    rhs = project(work.phi_y)
    W, info = pcg(xp, matvec, rhs, precond=precond,
                  project=project if singular else None, x0=start, tol=tol,
                  max_iter=max_iter, what="feature-space PCG solver",
                  keep_residual=True)
    info["quadratic"] = _quadratic(xp, W, rhs, info.pop("r"), alpha, A_pinv)
    return rotation @ W, info


def _quadratic(xp, W, rhs, r, alpha, A_inv):
    r"""``sum_t w_t^T G_t w_t`` from the solve's own residual, no product with
    the Grams: ``r = P(rhs - G W - alpha W A^+)`` and ``W = P W`` give
    :math:`\langle W, GW\rangle = \langle W, rhs - r\rangle
    - \alpha\,\mathrm{tr}(W A^{+} W^\top)` (any orthogonal basis of the
    features: the inner products do not see it)."""
    return float(xp.sum(W * (rhs - r)) - alpha * xp.sum(W * (W @ A_inv)))


def _rotated(fac):
    """The statistics in the pooled eigenbasis U (rows R U, Grams U^T G U)."""
    if fac.rotated is None:
        stats = fac.stats
        xp = stats.xp
        m = stats.n_features
        # A second copy of the statistics: T Grams of m x m (or the rows).
        check_memory(8.0 * (len(stats.task_gram) * m * m + sum(
            R.shape[0] * m for R, _ in stats.task_rows.values())), xp,
            what=f"The statistics rotated for the direction preconditioner "
                 f"(m={m} features, {stats.n_tasks} tasks)",
            instead="Lower 'n_components'.")
        U = fac.pooled_diagonals[0]
        Ut = xp.matrix_transpose(U)
        fac.rotated = FeatureStatistics(
            xp, stats.layout, stats.n_features, stats.n_tasks, stats.count,
            stats.phi_sum @ U, Ut @ stats.phi_y, stats.y_sum, stats.y_sq, None,
            {t: Ut @ G @ U for t, G in stats.task_gram.items()},
            {t: (R @ U, w) for t, (R, w) in stats.task_rows.items()})
    return fac.rotated


def _direction_diagonals(fac, Q, delta_h, live, alpha):
    r"""The direction blocks' preconditioner: each :math:`\sum_t Q_{tj}^2 G_t`
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


def squared_loss(fac, W, quadratic=None):
    r"""Weighted squared training loss at the optimal intercepts, from statistics.

    ``quadratic``: :math:`\sum_t w_t^\top G_t w_t` where the solve knows it
    (a PCG solve, from its residual); otherwise one product with the Grams.
    """
    xp = fac.stats.xp
    stats = fac.stats
    if quadratic is None:
        quadratic = float(xp.sum(W * stats.task_matmul(W)))
    return float(xp.sum(fac.q) - 2.0 * xp.sum(W * stats.phi_y)) + quadratic
