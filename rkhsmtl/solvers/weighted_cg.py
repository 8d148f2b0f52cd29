r"""Many weighted kernel ridges on one kernel matrix: one block PCG.

Task t's ridge weights the N pooled rows by :math:`w_{it}`; in scaled form
(:math:`D_t = \mathrm{diag}(\sqrt{w_t})`, :math:`c_t = D_t \tilde c_t`)

.. math::

    (D_t K D_t + \alpha I)\,\tilde c_t + D_t \mathbf 1\, b_t = D_t y_t,
    \qquad \mathbf 1^\top D_t \tilde c_t = 0,

for t = 1..T, solved together by projected CG on N x T arrays: every step is
one GEMM with K, O(N^2 T).

Why not the masked-CG preconditioner (the eigendecomposition of K with one
mean weight)?  Distribution-matching weights spread over two or three orders
of magnitude, and that preconditioner then needs hundreds of iterations.
Instead each task gets :math:`P_t = D_t \hat K D_t + \alpha I`, with
:math:`\hat K` one Nyström approximation of K shared by all tasks: a pivoted
Cholesky factor :math:`L L^\top \approx D_{max} K D_{max}`
(:math:`D_{max}` the row-wise largest weight, so the pivots land where some
task weighs heavily).  Nyström commutes with diagonal scaling, so
:math:`D_t \hat K D_t = R_t L L^\top R_t` with :math:`R_t = D_t D_{max}^{-1}`
(entries in [0, 1]); the residual :math:`D_t (K - \hat K) D_t` is PSD and at
most the pivoted Cholesky's residual, so the preconditioned spectrum lies in
:math:`[1, 1 + \lambda_{max}(D_t (K - \hat K) D_t) / \alpha]`.  P_t is applied
by Woodbury through one m x m inverse per task: O(N m^2 + T N m^2) to set up,
O(N m T) per step, no eigendecomposition of K at all.
"""
from .._memory import check_memory, dense_bytes
from ._pcg import column_constraint, pcg
from ._pivoted_cholesky import pivoted_cholesky

DEFAULT_RANK = 300


def preconditioner(xp, K, sw, alpha, rank=DEFAULT_RANK):
    """Per-task Woodbury preconditioner ``R -> P_t^{-1} R[:, t]`` (columns).

    Parameters
    ----------
    K : array (N, N)
    sw : array (N, T)
        Square roots of the entry weights.
    alpha : float
        Ridge of P_t (> 0).
    rank : int
        Largest rank of the shared Nyström factor.

    Returns
    -------
    apply : callable
        (N, T) -> (N, T).
    rank : int
        The rank used (smaller when the factor became exact early).
    """
    N, T = sw.shape
    d_max = xp.max(sw, axis=1)
    positive = d_max > 0
    ratio = sw / xp.where(positive, d_max, xp.ones_like(d_max))[:, None]
    ratio = xp.where(positive[:, None], ratio, xp.zeros_like(ratio))
    diag = d_max * d_max * xp.linalg.diagonal(K)
    # Pivots whose residual is far below alpha change P_t by less than alpha.
    L, _, _ = pivoted_cholesky(xp, lambda p: d_max * K[:, p] * d_max[p], diag, rank,
                               atol=1e-3 * alpha)
    m = L.shape[1]
    eye = xp.eye(m, dtype=K.dtype)
    Lt = xp.matrix_transpose(L)
    gram = xp.stack([Lt @ (L * (ratio[:, t] ** 2)[:, None]) for t in range(T)])
    inverses = xp.linalg.inv(gram + alpha * eye)          # (T, m, m)

    def apply(R):
        V = xp.matrix_transpose(Lt @ (ratio * R))           # (T, m)
        U = xp.matmul(inverses, V[:, :, None])[:, :, 0]      # (T, m)
        return (R - ratio * (L @ xp.matrix_transpose(U))) / alpha

    return apply, m


def solve(xp, K, Y, weights, alpha, fit_intercept=True, *, rank=DEFAULT_RANK, x0=None,
          tol=1e-10, max_iter=1000):
    """Dual coefficients C (N, T) and intercepts b (T,) of T weighted ridges.

    Parameters
    ----------
    K : array (N, N)
        Kernel matrix of the pooled rows (not modified).
    Y : array (N,) or (N, T)
        Targets, shared by all tasks (1-D) or per task.
    weights : array (N, T)
        Entry weights >= 0; column t is task t's loss weights.
    alpha : float
    rank : int, default=300
        Largest rank of the shared Nyström preconditioner factor.
    x0 : array (N, T), optional
        Warm start for the scaled coefficients.

    Returns
    -------
    C : array (N, T)
    b : array (T,) or None
    info : dict
        CG ``n_iter``, ``residual``, ``converged``, the preconditioner
        ``rank`` and ``x`` (scaled coefficients, for warm starts).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers import weighted_cg
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(40, 2), rng.randn(40)
    >>> K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1))
    >>> W = rng.uniform(0.1, 5.0, size=(40, 3))
    >>> C, b, info = weighted_cg.solve(np, K, y, W, alpha=0.5)
    >>> C.shape, b.shape, info["converged"]
    ((40, 3), (3,), True)
    """
    N, T = weights.shape
    m = min(int(rank), N)
    check_memory(dense_bytes(N, m) + dense_bytes(T * m, m, copies=2)
                 + dense_bytes(N, T, copies=10), xp,
                 what=f"The weighted CG solver ({N} rows, {T} tasks, rank {m})",
                 instead="Use solver='cholesky' (one task at a time) or fewer rows.")
    sw = xp.sqrt(weights)
    Y = Y[:, None] if Y.ndim == 1 else Y
    Y0 = xp.where(weights > 0, Y, xp.zeros_like(Y))   # NaN allowed off the support
    rhs = sw * Y0

    def matvec(Z):
        return sw * (K @ (sw * Z)) + alpha * Z

    # alpha = 0 leaves the system singular off the weighted support; the
    # preconditioner still needs a positive ridge.
    scale = float(xp.max(sw)) ** 2 * float(xp.max(xp.linalg.diagonal(K)))
    ridge = alpha if alpha > 0 else 1e-8 * max(scale, 1e-300)
    precond, used_rank = preconditioner(xp, K, sw, ridge, rank=m)
    project, intercepts = column_constraint(xp, sw)
    x, info = pcg(xp, matvec, rhs, precond=precond,
                  project=project if fit_intercept else None, x0=x0, tol=tol,
                  max_iter=max_iter, what="weighted CG solver")
    b = intercepts(rhs - matvec(x)) if fit_intercept else None
    info["x"] = x
    info["rank"] = used_rank
    return sw * x, b, info
