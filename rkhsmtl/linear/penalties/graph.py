"""Graph smoothness across tasks (MALSAR SRMTL, RMTL ``Graph``).

The smooth term ``lambda1 * ||W G||_F^2`` goes to the gradient step; the
optional ``lambda3 * ||W||_1`` is the only part handled by the prox.
"""
import numpy as np

from ...tasks.learned._waterfill import project_capped
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

    # -- the l1 part (MALSAR SRMTL): an upper bound of the conjugate ---------
    def _components(self, lambda2):
        """Task labels of the null space's components, or None.

        The conjugate bound needs a null space spanned by indicator vectors
        of disjoint task groups (a graph's Laplacian: its connected
        components); ``False`` when it is of another kind."""
        N = self.dual_null_space(lambda2)
        if N is None:
            return None
        if getattr(self, "_components_for", None) == lambda2:
            return self._labels
        P = N @ N.T
        T = len(P)
        labels = -np.ones(T, dtype=int)
        ok = True
        for t in range(T):
            if labels[t] >= 0:
                continue
            members = np.abs(P[t]) > 1e-8 * max(float(P[t, t]), 1e-300)
            labels[members] = labels.max() + 1
        for c in range(labels.max() + 1):
            members = labels == c
            block = np.zeros((T, T))
            block[np.ix_(members, members)] = 1.0 / members.sum()
            P = P - block
        ok = bool(np.all(labels >= 0)) and float(np.abs(P).max(initial=0.0)) <= 1e-8
        self._labels = labels if ok else False
        self._components_for = lambda2
        return self._labels

    def has_conjugate_bound(self, lambda2=0.0):
        """Whether :meth:`conjugate_bound` applies (an l1 part; a null space
        of task-group indicators, or none)."""
        return self.lambda3 > 0 and self._components(lambda2) is not False

    def box_scale(self, V, lambda2=0.0):
        """The largest ``s`` for which :meth:`conjugate_bound` of ``s V`` is
        finite: every feature row's sum over a task group must fit the l1
        box (``inf`` without a null space)."""
        labels = self._components(lambda2)
        if labels is None or labels is False:
            return np.inf
        worst = 0.0
        for c in range(labels.max() + 1):
            members = labels == c
            worst = max(worst, float(np.abs(V[:, members].sum(axis=1)).max(initial=0.0))
                        / (members.sum() * self.lambda3))
        return 1.0 / worst if worst > 0 else np.inf

    def conjugate_bound(self, V, W, lambda2=0.0):
        r"""Upper bound of :math:`h^*(V)`, ``h = tr(W K W^T) + lambda3 ||W||_1``.

        :math:`h^*(V) = \min_{\|U\|_\infty \le \lambda_3} q^*(V - U)` with
        :math:`q^*(R) = \tfrac14 \mathrm{tr}(R K^+ R^T)` for ``R`` orthogonal to
        the null space of ``K = lambda1 G G^T + lambda2 I`` (infinite
        otherwise), so every feasible ``U`` bounds it from above.  ``U`` is
        the l1 part's share of ``V`` at ``W`` (``V - 2 W K``, which at the
        optimum is the l1 subgradient) clipped to the box and shifted by one
        constant per feature row and task group (a monotone 1-D solve) so
        that ``V - U`` has zero sums over every group.  ``inf`` when some
        group's sum exceeds the box (then a smaller multiple of ``V`` is
        feasible: see :func:`rkhsmtl.linear._gap.duality_gap`).
        """
        lam = self.lambda3
        vals, vecs, pos = self._spectrum(lambda2)
        K = (vecs * vals) @ vecs.T
        Z = V - 2.0 * (W @ K)
        U = np.clip(Z, -lam, lam)
        labels = self._components(lambda2)
        if labels is not None:
            for c in range(labels.max() + 1):
                members = labels == c
                target = V[:, members].sum(axis=1)                  # (d,)
                if np.any(np.abs(target) > members.sum() * lam * (1 + 1e-12)):
                    return np.inf
                # clip(Z + shift, -lam, lam) with the group sum of V: the
                # Euclidean projection of Z onto the box with that sum.
                U[:, members] = project_capped(Z[:, members], -lam, lam, target)
        R = V - U
        N = self.dual_null_space(lambda2)
        if N is not None:
            R = R - (R @ N) @ N.T   # rounding left by the 1-D solves
        RE = R @ vecs[:, pos]
        return 0.25 * float(np.sum(RE * RE / vals[pos]))

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
