r"""Heterogeneous tasks, matrix-free: projected PCG with a structured matvec.

Solves the same bordered system as :mod:`rkhsmtl.solvers.cholesky` without
forming :math:`K_N \circ E A E^\top`: each iteration costs one N x N by
N x T product (O(N^2 T)), or recomputes K block by block when N x N does not
fit (memory O(block N + N T)).  The preconditioner is block-Jacobi by task,
:math:`P_t = A_{tt} D_t K_{tt} D_t + \alpha I`, factored once per task: it
holds :math:`\sum_t n_t^2` numbers, checked against free memory first.

Rows must be sorted by task (``offsets[t]:offsets[t+1]`` is task t), which
the estimators do once at fit time.
"""
from .._backend import linalg
from .._memory import check_memory, dense_bytes
from . import _hadamard
from ._pcg import pcg


def block_jacobi(xp, kop, A, offsets, d, alpha):
    """Factor the per-task diagonal blocks once; return r -> P^{-1} r."""
    sizes = [int(offsets[t + 1]) - int(offsets[t]) for t in range(len(offsets) - 1)]
    largest = max(sizes, default=0)
    # The factors of all blocks are kept (sum of n_t^2), plus one block being
    # built: this is the solver's only allocation that grows quadratically.
    check_memory(
        8.0 * sum(n * n for n in sizes) + dense_bytes(largest), xp,
        what=f"The block-Jacobi preconditioner of solver='cg' ({len(sizes)} task "
             f"block(s), the largest {largest} x {largest} float64)",
        instead="Set approximation='nystroem' (with n_components=1000, say): "
                "low-rank input features, exact task structure, memory "
                "independent of N; or split the largest task's rows into "
                "several tasks coupled by the task matrix.",
    )
    factors = []
    for t in range(len(offsets) - 1):
        start, stop = int(offsets[t]), int(offsets[t + 1])
        B = kop.block(start, stop) * A[t, t]
        dt = d[start:stop]
        B = (dt[:, None] * B) * dt[None, :]
        B = linalg.add_to_diagonal(xp, B, alpha)
        factors.append((start, stop, linalg.cholesky(xp, B, overwrite=True)))

    def apply(r):
        return xp.concat([f.solve(r[a:b]) for a, b, f in factors])

    return apply


def solve(xp, kop, A, y, codes, offsets, weights_sqrt, alpha,
          fit_intercept=True, x0=None, tol=1e-10, max_iter=1000):
    """Dual coefficients c (N,), intercepts b (T,) and CG diagnostics."""
    n_tasks = A.shape[0]
    E = _hadamard.one_hot(xp, codes, n_tasks, like=y)
    A_rows = _hadamard.task_rows(xp, A, codes)
    d = weights_sqrt if weights_sqrt is not None else xp.ones_like(y)
    rhs = d * y

    def matvec(v):
        return d * _hadamard.hadamard_matvec_op(xp, kop, A_rows, E, d * v) + alpha * v

    precond = block_jacobi(xp, kop, A, offsets, d, alpha)
    dE = d[:, None] * E
    norms = xp.sum(dE * dE, axis=0)
    norms = xp.where(norms > 0, norms, xp.ones_like(norms))

    def project(v):
        return v - dE @ ((xp.matrix_transpose(dE) @ v) / norms)

    x, info = pcg(xp, matvec, rhs, precond=precond,
                  project=project if fit_intercept else None, x0=x0, tol=tol,
                  max_iter=max_iter, what="heterogeneous CG solver")
    b = None
    if fit_intercept:
        b = (xp.matrix_transpose(dE) @ (rhs - matvec(x))) / norms
    info["x"] = x
    return d * x, b, info

