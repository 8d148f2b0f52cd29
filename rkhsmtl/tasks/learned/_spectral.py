r"""Task-matrix steps for spectral penalties (Ciliberto et al. 2015).

Every step here minimizes, over the task matrix A, the part of the joint
objective that depends on it,

.. math::

    \alpha\,\mathrm{tr}(A^{+} M) + F(A), \qquad M = B^\top K B + \varepsilon I,

where :math:`B^\top K B` is the Gram matrix of the task functions.  For a
spectral (unitarily invariant) F the minimizer shares M's eigenvectors, and
each eigenvalue :math:`\sigma` of M maps to the eigenvalue :math:`a` of A
that minimizes the scalar problem :math:`\alpha\sigma/a + \phi(a)`:

* trace, :math:`\phi(a) = \beta a`: :math:`a = \sqrt{\alpha\sigma/\beta}`;
* Frobenius, :math:`\phi(a) = \beta a^2`: :math:`a = (\alpha\sigma/2\beta)^{1/3}`;
* trace + Frobenius, :math:`\phi(a) = \beta((1-\rho)a + \rho a^2)`: the positive
  root of a cubic, found by a monotone Newton iteration;
* low rank, trace penalty with :math:`\mathrm{rank}(A) \le r`: the trace map on
  the r leading eigenvalues, zero on the rest.

All of them work on small T x T numpy arrays; the caller moves M to the host.
"""
import numpy as np


def sym_eig(M):
    """Eigenvalues (clipped at 0) and eigenvectors of the symmetric part of M.

    Parameters
    ----------
    M : ndarray of shape (T, T)

    Returns
    -------
    values : ndarray of shape (T,)
    vectors : ndarray of shape (T, T)
    """
    w, V = np.linalg.eigh(0.5 * (M + M.T))
    return np.clip(w, 0.0, None), V


def from_eig(values, V):
    """The symmetric matrix ``V diag(values) V^T``."""
    A = (V * values) @ V.T
    return 0.5 * (A + A.T)


def trace_map(sigma, alpha, beta):
    """Eigenvalue map of the trace penalty: ``sqrt(alpha sigma / beta)``.

    Parameters
    ----------
    sigma : ndarray
        Eigenvalues of M (>= 0).
    alpha : float
        Weight of ``tr(A^-1 M)``.
    beta : float
        Penalty strength.

    Returns
    -------
    a : ndarray
        Eigenvalues of the minimizing A.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import trace_map
    >>> trace_map(np.array([4.0, 1.0, 0.0]), alpha=1.0, beta=1.0).tolist()
    [2.0, 1.0, 0.0]
    """
    return np.sqrt(alpha * sigma / beta)


def frobenius_map(sigma, alpha, beta):
    """Eigenvalue map of the Frobenius penalty: ``(alpha sigma / 2 beta)^(1/3)``.

    Parameters
    ----------
    sigma : ndarray
        Eigenvalues of M (>= 0).
    alpha : float
        Weight of ``tr(A^-1 M)``.
    beta : float
        Penalty strength.

    Returns
    -------
    a : ndarray
        Eigenvalues of the minimizing A.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import frobenius_map
    >>> frobenius_map(np.array([16.0, 2.0, 0.0]), alpha=1.0, beta=1.0).round(3).tolist()
    [2.0, 1.0, 0.0]
    """
    return np.cbrt(alpha * sigma / (2.0 * beta))


def trace_frobenius_map(sigma, alpha, beta, rho):
    """Eigenvalue map of the trace + Frobenius penalty.

    The positive root of ``2 beta rho a^3 + beta (1 - rho) a^2 = alpha sigma``.

    Parameters
    ----------
    sigma : ndarray
        Eigenvalues of M (>= 0).
    alpha : float
        Weight of ``tr(A^-1 M)``.
    beta : float
        Penalty strength.
    rho : float
        Share of the Frobenius term, in [0, 1].

    Returns
    -------
    a : ndarray
        Eigenvalues of the minimizing A.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import trace_frobenius_map
    >>> a = trace_frobenius_map(np.array([2.0]), 1.0, 1.0, 0.5)
    >>> float(np.round(a**3 + 0.5 * a**2, 12)[0])
    2.0
    """
    if rho <= 0.0:
        return trace_map(sigma, alpha, beta)
    if rho >= 1.0:
        return frobenius_map(sigma, alpha, beta)
    c3, c2 = 2.0 * beta * rho, beta * (1.0 - rho)
    s = alpha * sigma
    # Each term alone over-estimates the root, so Newton on this convex,
    # increasing cubic started at the smaller bound decreases monotonically.
    a = np.minimum(np.cbrt(s / c3), np.sqrt(s / c2))
    for _ in range(100):
        g = c3 * a**3 + c2 * a**2 - s
        dg = 3.0 * c3 * a**2 + 2.0 * c2 * a
        step = np.where(dg > 0, g / np.where(dg > 0, dg, 1.0), 0.0)
        a = np.maximum(a - step, 0.0)
        if np.all(np.abs(step) <= 1e-15 * np.maximum(a, 1e-300)):
            break
    return a


class SpectralStep:
    """A-step and penalty value of one spectral penalty.

    Parameters
    ----------
    penalty : {"trace", "frobenius", "trace_frobenius", "low_rank"}
    alpha : float
        Weight of :math:`\\mathrm{tr}(A^{+} M)` in the objective.
    beta : float
        Penalty strength (``structure_alpha``).
    frobenius_ratio : float
        Share of the Frobenius term in ``"trace_frobenius"``.
    rank : int or None
        Rank bound of ``"low_rank"``.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import SpectralStep
    >>> step = SpectralStep("trace", alpha=1.0, beta=1.0)
    >>> A = step.update(np.diag([4.0, 1.0]))
    >>> A.round(3).tolist()
    [[2.0, 0.0], [0.0, 1.0]]
    >>> step.penalty(A)
    3.0
    """

    def __init__(self, penalty, alpha, beta, frobenius_ratio=0.5, rank=None):
        self.penalty_name, self.alpha, self.beta = penalty, alpha, beta
        self.frobenius_ratio, self.rank = frobenius_ratio, rank

    def init_state(self, n_tasks):
        return np.eye(n_tasks)

    def task_matrix(self, A):
        return A

    def update(self, M, A_prev=None):
        sigma, V = sym_eig(M)
        a = self._map(sigma)
        if self.penalty_name == "low_rank":
            keep = np.argsort(sigma)[::-1][: self.rank]
            mask = np.zeros_like(a)
            mask[keep] = 1.0
            a = a * mask
        return from_eig(a, V)

    def project(self, A, reference):
        """An extrapolated (Anderson) state mapped back into the domain.

        The barrier ``eps I`` makes J infinite on a singular A, so the
        eigenvalues are floored at half the smallest one of ``reference``
        (the plain step's output, whose eigenvalues are at least the map of
        eps); low rank keeps its r leading eigenvalues and zeros the rest,
        as its own step does.
        """
        sigma, V = sym_eig(A)
        if self.penalty_name == "low_rank":
            sigma[np.argsort(sigma)[::-1][self.rank:]] = 0.0
            return from_eig(sigma, V)
        floor = 0.5 * max(float(np.linalg.eigvalsh(reference)[0]), 0.0)
        return from_eig(np.maximum(sigma, floor), V)

    def _map(self, sigma):
        name = self.penalty_name
        if name in ("trace", "low_rank"):
            return trace_map(sigma, self.alpha, self.beta)
        if name == "frobenius":
            return frobenius_map(sigma, self.alpha, self.beta)
        return trace_frobenius_map(sigma, self.alpha, self.beta, self.frobenius_ratio)

    def penalty(self, A):
        name, beta = self.penalty_name, self.beta
        if name in ("trace", "low_rank"):
            return beta * float(np.trace(A))
        if name == "frobenius":
            return beta * float(np.sum(A * A))
        rho = self.frobenius_ratio
        return beta * ((1.0 - rho) * float(np.trace(A)) + rho * float(np.sum(A * A)))
