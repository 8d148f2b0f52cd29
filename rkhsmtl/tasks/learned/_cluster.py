r"""Cluster-type task-matrix steps: Jacob et al.'s cluster norm and convex CMTL.

**Cluster norm** (Jacob, Bach & Vert 2008), written on the task matrix:

.. math::

    A^{-1} = \tfrac{1}{a_0} U + \Pi \Sigma^{-1} \Pi,
    \qquad U = \tfrac{1}{T}\mathbf 1\mathbf 1^\top,\ \Pi = I - U,

with :math:`\Sigma` acting on the T-1 directions orthogonal to the mean, its
eigenvalues in :math:`[\,c\,a_0, a_0]` and their sum fixed to
:math:`(r - 1)a_0 + (T - r)c\,a_0` for r clusters: r - 1 between-cluster
directions may be as free as the mean direction, the others are pinned near
the within-cluster level c (``cluster_ratio``).  For fixed task functions the
step minimizes :math:`\mathrm{tr}(\Sigma^{-1}\,Q^\top M Q)` (Q an orthonormal
basis of :math:`\Pi`): water-filling on the eigenvalues.

**Convex clustered MTL** (Zhou, Chen & Ye 2011; MALSAR's CMTL) in kernel form:

.. math::

    A = (\eta I + M_c)/c, \qquad c = \rho_1\eta(1+\eta),\ \eta = \rho_2/\rho_1,
    \qquad 0 \preceq M_c \preceq I,\ \mathrm{tr}\,M_c = k,

so :math:`\mathrm{tr}(A^{-1} M) = c\,\mathrm{tr}((\eta I + M_c)^{-1} M)` and the
step is water-filling on :math:`\eta + m_i \in [\eta, \eta + 1]` with sum
:math:`k + T\eta`.

Both return cluster labels from the learned matrix: k-means on the tasks'
coordinates along the leading r - 1 non-mean directions.
"""
import numpy as np

from ._spectral import from_eig, sym_eig
from ._waterfill import project_capped, waterfill


def mean_free_basis(n_tasks):
    """Orthonormal basis (T, T-1) of the vectors orthogonal to 1.

    Parameters
    ----------
    n_tasks : int

    Returns
    -------
    Q : ndarray of shape (n_tasks, n_tasks - 1)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import mean_free_basis
    >>> Q = mean_free_basis(3)
    >>> Q.shape
    (3, 2)
    >>> bool(np.allclose(Q.sum(axis=0), 0.0)), bool(np.allclose(Q.T @ Q, np.eye(2)))
    (True, True)
    """
    P = np.eye(n_tasks) - np.full((n_tasks, n_tasks), 1.0 / n_tasks)
    w, V = np.linalg.eigh(P)
    return V[:, w > 0.5]


def cluster_labels(A, n_clusters, random_state=None):
    """Cluster tasks from the leading mean-free directions of A.

    Parameters
    ----------
    A : ndarray of shape (T, T)
        A learned task matrix.
    n_clusters : int
    random_state : int, RandomState instance or None, default=None
        Seed of the k-means.

    Returns
    -------
    labels : ndarray of shape (T,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import cluster_labels
    >>> A = np.kron(np.eye(2), np.ones((2, 2))) + 0.1 * np.eye(4)
    >>> labels = cluster_labels(A, n_clusters=2, random_state=0)
    >>> bool(labels[0] == labels[1] != labels[2] == labels[3])
    True
    """
    from sklearn.cluster import KMeans

    T = A.shape[0]
    if n_clusters <= 1:
        return np.zeros(T, dtype=int)
    Q = mean_free_basis(T)
    w, R = np.linalg.eigh(Q.T @ A @ Q)
    top = np.argsort(w)[::-1][: n_clusters - 1]
    emb = (Q @ R[:, top]) * np.sqrt(np.clip(w[top], 0.0, None))
    km = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state)
    return km.fit_predict(emb)


class ClusterNormStep:
    """A-step of the cluster norm; the state is the task matrix A.

    Parameters
    ----------
    n_clusters : int
        r, the number of task clusters.
    cluster_ratio : float, default=0.1
        Within-cluster eigenvalue bound over the between-cluster one.
    scale : float, default=1.0
        Eigenvalue of the mean direction and upper bound of the others.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import ClusterNormStep
    >>> step = ClusterNormStep(n_clusters=2)
    >>> A = step.update(np.diag([3.0, 2.0, 1.0]))
    >>> A.shape, round(float(np.trace(A)), 3)
    ((3, 3), 2.1)
    """

    def __init__(self, n_clusters, cluster_ratio=0.1, scale=1.0):
        self.n_clusters, self.cluster_ratio, self.scale = n_clusters, cluster_ratio, scale

    def _bounds(self, n_tasks):
        hi = self.scale
        lo = self.cluster_ratio * hi
        r = self.n_clusters
        return lo, hi, (r - 1) * hi + (n_tasks - r) * lo

    def init_state(self, n_tasks):
        lo, hi, total = self._bounds(n_tasks)
        Q = mean_free_basis(n_tasks)
        return self.scale * np.full((n_tasks, n_tasks), 1.0 / n_tasks) + \
            (total / (n_tasks - 1)) * (Q @ Q.T)

    def task_matrix(self, A):
        return A

    def update(self, M, A_prev=None):
        T = M.shape[0]
        lo, hi, total = self._bounds(T)
        Q = mean_free_basis(T)
        s, R = sym_eig(Q.T @ M @ Q)
        sigma = waterfill(s, lo, hi, total)
        QR = Q @ R
        A = self.scale * np.full((T, T), 1.0 / T) + (QR * sigma) @ QR.T
        return 0.5 * (A + A.T)

    def project(self, A, reference=None):
        """An extrapolated (Anderson) A mapped back onto the feasible set:
        the mean direction reset to ``scale``, the others' eigenvalues
        projected onto the bounds with their fixed sum."""
        T = A.shape[0]
        lo, hi, total = self._bounds(T)
        Q = mean_free_basis(T)
        S = Q.T @ A @ Q
        s, R = np.linalg.eigh(0.5 * (S + S.T))
        QR = Q @ R
        out = self.scale * np.full((T, T), 1.0 / T) + \
            (QR * project_capped(s, lo, hi, total)) @ QR.T
        return 0.5 * (out + out.T)

    def penalty(self, A):
        return 0.0


class ConvexClusterStep:
    """Zhou et al.'s CMTL step; the state is the relaxed assignment M_c.

    Parameters
    ----------
    rho_1 : float
        Cluster-structure weight.
    rho_2 : float
        Ridge weight.
    n_clusters : int
        k, the trace of M_c.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import ConvexClusterStep
    >>> step = ConvexClusterStep(rho_1=1.0, rho_2=1.0, n_clusters=1)
    >>> Mc = step.update(np.diag([4.0, 1.0]))
    >>> Mc.round(3).tolist()
    [[1.0, 0.0], [0.0, 0.0]]
    >>> step.task_matrix(Mc).round(3).tolist()
    [[1.0, 0.0], [0.0, 0.5]]
    """

    def __init__(self, rho_1, rho_2, n_clusters):
        self.eta = rho_2 / rho_1
        self.c = rho_1 * self.eta * (1.0 + self.eta)
        self.n_clusters = n_clusters

    def init_state(self, n_tasks):
        return np.eye(n_tasks) * (self.n_clusters / n_tasks)

    def task_matrix(self, Mc):
        T = Mc.shape[0]
        return (self.eta * np.eye(T) + 0.5 * (Mc + Mc.T)) / self.c

    def update(self, M, Mc_prev=None):
        T = M.shape[0]
        s, V = sym_eig(M)
        sigma = waterfill(s, self.eta, self.eta + 1.0, self.n_clusters + T * self.eta)
        return from_eig(sigma - self.eta, V)

    def project(self, Mc, reference=None):
        """An extrapolated (Anderson) M_c mapped back onto
        ``0 <= M_c <= I, tr M_c = k``."""
        s, V = np.linalg.eigh(0.5 * (Mc + Mc.T))
        return from_eig(project_capped(s, 0.0, 1.0, float(self.n_clusters)), V)

    def penalty(self, Mc):
        return 0.0
