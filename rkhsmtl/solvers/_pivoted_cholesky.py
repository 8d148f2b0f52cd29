r"""Greedy pivoted (partial) Cholesky of a PSD matrix given by its columns.

After k steps, :math:`L_k L_k^\top` is the Nyström approximation of M on the k
pivots, and the residual :math:`M - L_k L_k^\top` is PSD with diagonal
``residual``.  Each step takes the pivot of largest residual diagonal, so the
rank needed for a given residual trace adapts to the spectrum of M (Harbrecht,
Peters & Schneider 2012), and only k columns of M are read: O(N k^2) flops,
O(N k) memory.
"""


def pivoted_cholesky(xp, column, diagonal, max_rank, atol=0.0):
    """Low-rank factor L (N, k) with ``L @ L.T`` ~ M.

    Parameters
    ----------
    column : callable
        ``column(p)`` -> column p of M, shape (N,).
    diagonal : array of shape (N,)
        Diagonal of M (not modified).
    max_rank : int
        Largest k.
    atol : float, default=0.0
        Stop early once the largest residual diagonal entry is at most ``atol``.

    Returns
    -------
    L : array of shape (N, k)
    pivots : list of int
    residual : array of shape (N,)
        Diagonal of ``M - L @ L.T`` (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers._pivoted_cholesky import pivoted_cholesky
    >>> G = np.random.RandomState(0).randn(6, 2)
    >>> M = G @ G.T
    >>> L, pivots, residual = pivoted_cholesky(np, lambda p: M[:, p], np.diag(M), 6)
    >>> L.shape, bool(np.allclose(L @ L.T, M))
    ((6, 2), True)
    """
    N = diagonal.shape[0]
    max_rank = int(min(max_rank, N))
    residual = xp.asarray(diagonal, copy=True)
    L = xp.zeros((N, max_rank), dtype=residual.dtype)
    pivots = []
    floor = 1e-14 * float(xp.max(diagonal)) if N else 0.0
    for k in range(max_rank):
        p = int(xp.argmax(residual))
        pivot_value = float(residual[p])
        # A zero (or round-off negative) residual means M is exhausted: the
        # factor is exact from here on, and dividing by it would blow up.
        if pivot_value <= max(atol, floor, 0.0):
            return L[:, :k], pivots, xp.clip(residual, 0.0, None)
        col = column(p) - L[:, :k] @ L[p, :k]
        col = col / pivot_value**0.5
        L[:, k] = col
        residual = residual - col * col
        residual[p] = 0.0
        pivots.append(p)
    return L, pivots, xp.clip(residual, 0.0, None)
