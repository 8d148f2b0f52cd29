"""Graph smoothness across tasks (MALSAR SRMTL, RMTL ``Graph``).

The smooth term ``lambda1 * ||W G||_F^2`` goes to the gradient step; the
optional ``lambda3 * ||W||_1`` is the only part handled by the prox.
"""
import numpy as np

from ._base import Penalty, soft_threshold


class Graph(Penalty):
    r"""``lambda1 ||W G||_F^2 + lambda3 ||W||_1``.

    .. math::
        \Omega(W) = \lambda_1 \lVert W G \rVert_F^2 + \lambda_3 \lVert W \rVert_1

    ``G`` (n_tasks, n_edges) is the network matrix: one column per edge
    ``(s, t)`` holding ``+1`` at ``s`` and ``-1`` at ``t`` (optionally scaled by
    the edge weight), so that ``||W G||_F^2 = sum_edges ||w_s - w_t||^2``.
    Any (n_tasks, m) matrix is accepted; ``G G^T`` is then the Laplacian.

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).
    G : ndarray of shape (n_tasks, n_edges)
        Task network matrix of the graph penalty ``||W G||_F^2``.
    lambda3 : float
        Weight of the second penalty term (see the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Graph, chain_graph
    >>> penalty = Graph(lambda1=1.0, G=chain_graph(2), lambda3=0.5)
    >>> W = np.array([[1.0, 3.0]])
    >>> penalty.smooth(W)[0], penalty.value(W)
    (4.0, 2.0)
    """

    name = "graph"

    def __init__(self, lambda1, G, lambda3=0.0):
        self.lambda1 = lambda1
        self.lambda3 = lambda3
        self.G = np.asarray(G, dtype=np.float64)
        # W G G^T costs d T^2 instead of d T m when there are many edges.
        self._laplacian = self.G @ self.G.T

    def coupling(self):
        """The (T, T) matrix ``K = lambda1 G G^T`` of the smooth term
        ``tr(W K W^T)``."""
        return self.lambda1 * self._laplacian

    def smooth(self, W):
        WL = W @ self._laplacian
        return self.lambda1 * float(np.sum(W * WL)), 2.0 * self.lambda1 * WL

    def value(self, W):
        return self.lambda3 * float(np.abs(W).sum())

    def prox(self, W, step):
        if self.lambda3 == 0:
            return W
        return soft_threshold(W, step * self.lambda3)

    def _spectrum(self, lambda2):
        if getattr(self, "_eig_for", None) != lambda2:
            vals, vecs = np.linalg.eigh(self.lambda1 * self._laplacian
                                        + lambda2 * np.eye(len(self._laplacian)))
            floor = 1e-10 * max(float(vals.max(initial=0.0)), np.finfo(float).tiny)
            self._eig = vals, vecs, vals > floor
            self._eig_for = lambda2
        return self._eig

    def has_dual_quadratic(self, lambda2=0.0):
        return self.lambda3 == 0

    def dual_quadratic(self, U, lambda2=0.0):
        # h = U -> W K W^T with K = lambda1 L + lambda2 I: h^*(U) = tr(U K^+ U^T) / 4.
        if self.lambda3 > 0:
            return None
        vals, vecs, pos = self._spectrum(lambda2)
        UE = U @ vecs[:, pos]
        return 0.25 * float(np.sum(UE * UE / vals[pos]))

    def dual_null_space(self, lambda2=0.0):
        vals, vecs, pos = self._spectrum(lambda2)
        return None if pos.all() else vecs[:, ~pos]

    def lambda_max(self, G):
        # The graph term vanishes at W = 0 and never forces it; only an l1
        # part would, and that weight is lambda3, not lambda1.
        return None


def chain_graph(n_tasks):
    """Network matrix of the chain ``0 - 1 - ... - (T-1)``, shape (T, T-1).

    Parameters
    ----------
    n_tasks : int

    Returns
    -------
    G : ndarray of shape (n_tasks, n_tasks - 1)
        Column e is ``e_e - e_{e+1}``.

    Examples
    --------
    >>> from rkhsmtl.linear import chain_graph
    >>> chain_graph(3).tolist()
    [[1.0, 0.0], [-1.0, 1.0], [0.0, -1.0]]
    """
    G = np.zeros((n_tasks, max(n_tasks - 1, 0)))
    for e in range(n_tasks - 1):
        G[e, e], G[e + 1, e] = 1.0, -1.0
    return G
