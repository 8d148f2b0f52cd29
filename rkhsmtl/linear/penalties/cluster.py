"""Clustered MTL, convex relaxation (MALSAR CMTL; ALGORITHMS.md section 4b).

The variable is ``[W; M]`` (n_features + n_tasks, n_tasks).  The coupling term
``c tr(W (eta I + M)^{-1} W^T)`` is smooth and jointly convex in (W, M) (a
matrix-fractional function); the prox is the projection of ``M`` onto
``{0 <= M <= I, tr M = k}``.
"""
import numpy as np

from ._base import Penalty


def project_eigenvalues(values, k, tol=1e-12, max_iter=200):
    """Euclidean projection of ``values`` onto ``{0 <= m_i <= 1, sum m_i = k}``.

    The projection is ``clip(values - theta, 0, 1)`` for the scalar ``theta``
    that makes the sum equal ``k``; the sum is monotone in ``theta`` so a
    bisection finds it (MALSAR's ``bsa_ihb`` solves the same 1-D problem).
    """
    lo, hi = values.min() - 1.0, values.max()
    for _ in range(max_iter):
        theta = 0.5 * (lo + hi)
        total = np.clip(values - theta, 0.0, 1.0).sum()
        if abs(total - k) <= tol:
            break
        if total > k:
            lo = theta
        else:
            hi = theta
    return np.clip(values - theta, 0.0, 1.0)


def cluster_weights(s, k, offset):
    r"""Eigenvalues ``m`` of the best ``M`` for squared singular values ``s``.

    Minimizes ``sum_i s_i / (offset + m_i)`` over ``0 <= m_i <= 1`` with
    ``sum_i m_i = min(k, len(s))`` (the directions with ``s_i = 0`` take the
    rest of ``tr M = k`` at no cost).  The minimizer is
    ``m_i = clip(u sqrt(s_i) - offset, 0, 1)`` with ``u`` the root of a
    piecewise-linear increasing function; it is found exactly on its
    breakpoints.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties.cluster import cluster_weights
    >>> cluster_weights(np.array([4.0, 1.0, 0.0]), 1, 0.5).round(6).tolist()
    [0.833333, 0.166667, 0.0]
    """
    s = np.maximum(np.asarray(s, dtype=np.float64), 0.0)
    root = np.sqrt(s)
    pos = root > 0
    out = np.zeros_like(s)
    r = int(pos.sum())
    if r == 0:
        return out
    target = min(float(k), float(r))
    if target >= r:
        out[pos] = 1.0
        return out
    rp = root[pos]
    breaks = np.sort(np.concatenate([offset / rp, (offset + 1.0) / rp]))
    totals = np.clip(np.outer(breaks, rp) - offset, 0.0, 1.0).sum(axis=1)
    i = int(np.searchsorted(totals, target))  # totals is non-decreasing
    if i == 0:
        u = breaks[0]
    else:
        lo, hi = breaks[i - 1], breaks[i]
        flo, fhi = totals[i - 1], totals[i]
        u = hi if fhi == flo else lo + (target - flo) * (hi - lo) / (fhi - flo)
    out[pos] = np.clip(u * rp - offset, 0.0, 1.0)
    return out


def project_cluster_set(M, k):
    """Projection of a (symmetrized) ``M`` onto ``{0 <= M <= I, tr M = k}``."""
    S = 0.5 * (M + M.T)
    w, U = np.linalg.eigh(S)
    return (U * project_eigenvalues(w, k)) @ U.T


class Cluster(Penalty):
    r"""Convex clustered MTL with ``k`` clusters.

    .. math::
        \Omega(W, M) = c\, \mathrm{tr}\big(W (\eta I + M)^{-1} W^\top\big),
        \quad c = \rho_1 \eta (1 + \eta),\ \eta = \rho_2 / \rho_1,
        \quad 0 \preceq M \preceq I,\ \mathrm{tr} M = k

    with ``rho1 = lambda1`` and ``rho2 = lambda3``.  ``M`` relaxes ``F F^T``
    for a cluster-assignment matrix ``F``.

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).
    lambda3 : float
        Weight of the second penalty term (see the formula).
    n_clusters : int
        k, the number of task clusters.
    n_features : int
        Number of input features d.
    n_tasks : int
        Number of tasks T.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Cluster
    >>> penalty = Cluster(lambda1=1.0, lambda3=1.0, n_clusters=1, n_features=2,
    ...                   n_tasks=3)
    >>> V = penalty.init(np.ones((2, 3)))
    >>> V.shape, penalty.coef(V).shape
    ((5, 3), (2, 3))
    """

    name = "cluster"

    def __init__(self, lambda1, lambda3, n_clusters, n_features, n_tasks):
        self.lambda1 = lambda1
        self.lambda3 = lambda3
        self.n_clusters = n_clusters
        self.n_features = n_features
        self.n_tasks = n_tasks
        self.eta = lambda3 / lambda1
        self.c = lambda1 * self.eta * (1.0 + self.eta)

    def variable_shape(self, n_features, n_tasks):
        return (n_features + n_tasks, n_tasks)

    def init(self, W):
        W = np.asarray(W, dtype=np.float64)
        if W.shape[0] == self.n_features + self.n_tasks:
            return W.copy()
        # MALSAR's start: M0 = (k / T) I, the centre of the feasible set.
        M0 = np.eye(self.n_tasks) * (self.n_clusters / self.n_tasks)
        return np.vstack([W, M0])

    def coef(self, V):
        return V[: self.n_features]

    def coef_adjoint(self, G):
        return np.vstack([G, np.zeros((self.n_tasks, self.n_tasks))])

    def smooth(self, V):
        W, M = V[: self.n_features], V[self.n_features:]
        A = self.eta * np.eye(self.n_tasks) + 0.5 * (M + M.T)
        # Momentum can carry M slightly outside the feasible set; outside the
        # domain (eta I + M not positive definite) the term is +inf and the
        # solver falls back to a plain projected-gradient step.
        try:
            np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return np.inf, None
        Ainv = np.linalg.inv(A)
        Ainv = 0.5 * (Ainv + Ainv.T)
        WA = W @ Ainv
        value = self.c * float(np.sum(WA * W))
        grad_M = -self.c * (WA.T @ WA)
        return value, np.vstack([2.0 * self.c * WA, grad_M])

    def value(self, V):
        return 0.0

    def prox(self, V, step):
        out = V.copy()
        out[self.n_features:] = project_cluster_set(V[self.n_features:], self.n_clusters)
        return out

    def components(self, V):
        return {"W": V[: self.n_features].copy(), "M": V[self.n_features:].copy()}

    # -- the penalty as a function of W alone (M minimized out) --------------
    def coef_value(self, W):
        """``min_M c tr(W (eta I + M)^{-1} W^T)``: the cluster norm squared."""
        sigma = np.linalg.svd(W, compute_uv=False)
        m = cluster_weights(sigma ** 2, self.n_clusters, self.eta)
        return self.c * float(np.sum(sigma ** 2 / (self.eta + m)))

    def best_cluster_matrix(self, W):
        """The ``M`` attaining :meth:`coef_value` (its eigenvectors are the
        right singular vectors of ``W``; the rest of ``tr M = k`` is spread
        evenly over the null space of ``W``)."""
        _, sigma, Rt = np.linalg.svd(W, full_matrices=False)
        keep = sigma > 0
        R, sigma = Rt[keep].T, sigma[keep]
        m = cluster_weights(sigma ** 2, self.n_clusters, self.eta)
        T = self.n_tasks
        M = (R * m) @ R.T
        rest = T - R.shape[1]
        if rest > 0:
            M += (self.n_clusters - m.sum()) / rest * (np.eye(T) - R @ R.T)
        return 0.5 * (M + M.T)

    def complete(self, W):
        """Variable ``[W; M]`` with the best ``M`` for ``W``."""
        return np.vstack([W, self.best_cluster_matrix(W)])

    def prox_coef(self, V, step):
        r"""Prox of ``step * coef_value`` at ``V`` (d, T).

        For fixed ``A = eta I + M`` the minimizer is
        ``W = V A (A + kappa I)^{-1}`` (``kappa = 2 c step``) with value
        ``c tr(V^T V (A + kappa I)^{-1})``; minimizing that over ``M`` aligns
        ``M`` with the right singular vectors of ``V``
        (:func:`cluster_weights` with offset ``eta + kappa``).
        """
        kappa = 2.0 * self.c * step
        P, sigma, Rt = np.linalg.svd(V, full_matrices=False)
        m = cluster_weights(sigma ** 2, self.n_clusters, self.eta + kappa)
        a = self.eta + m
        return (P * (sigma * a / (a + kappa))) @ Rt

    def has_dual_quadratic(self, lambda2=0.0):
        return True

    def dual_quadratic(self, U, lambda2=0.0):
        r"""Conjugate of ``lambda2 ||W||^2 + Omega(W)`` at ``U`` (quadratic in U).

        .. math::

            h^*(U) = \max_M \tfrac14 \mathrm{tr}\big(U (c A^{-1} + \lambda_2 I)^{-1}
            U^\top\big),\qquad A = \eta I + M.

        The matrix function is concave and increasing in ``A``, so (von
        Neumann's trace inequality) the best ``M`` shares the eigenvectors of
        ``U^T U`` (eigenvalues ``s``) and its eigenvalues ``m`` maximize
        :math:`\sum_i s_i a_i / (c + \lambda_2 a_i)`, ``a = eta + m``: that is
        minimizing :math:`\sum_i s_i / (\eta + c / \lambda_2 + m_i)`
        (:func:`cluster_weights`).  At ``lambda2 = 0`` it is the top-k sum
        ``(eta ||U||^2 + s_1 + ... + s_k) / (4 c)``.
        """
        sigma = np.linalg.svd(U, compute_uv=False) if U.size else np.zeros(0)
        s = np.sort(sigma ** 2)[::-1]
        if lambda2 == 0:
            top = float(np.sum(s[: self.n_clusters]))
            return (self.eta * float(np.sum(U * U)) + top) / (4.0 * self.c)
        m = cluster_weights(s, self.n_clusters, self.eta + self.c / lambda2)
        a = self.eta + m
        return 0.25 * float(np.sum(s * a / (self.c + lambda2 * a)))
