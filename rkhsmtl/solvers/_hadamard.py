r"""The heterogeneous-task kernel operator :math:`K_N \circ (E A E^\top)`.

Entry (i, j) is :math:`k(x_i, x_j)\,A[t_i, t_j]`.  Dense solvers build it in
place from K (row blocks, so no second N x N matrix is allocated); the
matrix-free solver applies it through the identity

.. math:: (K_N \circ E A E^\top)\,v = \mathrm{rowsum}\big((K_N\,\mathrm{diag}(v) E)
          \circ (E A)\big),

one N x N by N x T product.
"""
from .._backend import is_cupy, is_numpy

_BLOCK_BYTES = 64 * 1024**2


def one_hot(xp, codes, n_tasks, like):
    """E (N, T) with E[i, t_i] = 1."""
    codes_xp = xp.asarray(codes) if not is_numpy(xp) else codes
    return xp.astype(codes_xp[:, None] == xp.arange(n_tasks)[None, :], like.dtype)


def task_rows(xp, A, codes):
    """A[t_i, :] for every row i: an (N, T) matrix."""
    idx = codes if is_numpy(xp) else xp.asarray(codes)
    return xp.take(A, idx, axis=0)


def hadamard_in_place(xp, K, A, codes, offsets=None):
    """Return K * A[codes][:, codes], overwriting K where the backend allows.

    With ``offsets`` (rows sorted by task, task t in ``offsets[t]:offsets[t+1]``)
    each task's row block is scaled by one broadcast row vector: a single
    pass over K with no gathers, the cheap path of every heterogeneous fit.
    """
    N = K.shape[0]
    if offsets is not None and (is_numpy(xp) or is_cupy(xp)):
        idx = codes if is_numpy(xp) else xp.asarray(codes)
        for t in range(len(offsets) - 1):
            lo, hi = int(offsets[t]), int(offsets[t + 1])
            if hi > lo:
                K[lo:hi] *= xp.take(A[t], idx)[None, :]
        return K
    if is_numpy(xp) or is_cupy(xp):
        idx = codes if is_numpy(xp) else xp.asarray(codes)
        rows = max(1, int(_BLOCK_BYTES // max(1, 8 * N)))
        for start in range(0, N, rows):
            stop = min(start + rows, N)
            K[start:stop] *= A[idx[start:stop]][:, idx]
        return K
    AR = task_rows(xp, A, codes)
    return K * xp.take(AR, xp.asarray(codes), axis=1)


def hadamard_matvec(xp, K, A_rows, E, v):
    """(K o E A E^T) v without forming the Hadamard product (K an array)."""
    return xp.sum((K @ (v[:, None] * E)) * A_rows, axis=1)


def hadamard_matvec_op(xp, kop, A_rows, E, v):
    """Same as :func:`hadamard_matvec` with K given as a KernelOperator."""
    return hadamard_matvec(xp, _Matmat(kop), A_rows, E, v)


class _Matmat:
    """Adapter so ``K @ V`` calls ``kop.matmat(V)``."""

    def __init__(self, kop):
        self.kop = kop

    def __matmul__(self, V):
        return self.kop.matmat(V)


def per_task_sums(xp, E, v):
    """Sum of v over the rows of each task: E^T v."""
    return xp.matrix_transpose(E) @ v


__all__ = ["one_hot", "task_rows", "hadamard_in_place", "hadamard_matvec",
           "hadamard_matvec_op",
           "per_task_sums"]
