"""Sparse + low rank (MALSAR ``Least_SparseTrace`` style): W = P + Q with an
entrywise l1 norm on P and a nuclear norm on Q."""
import numpy as np

from ._base import PairPenalty, singular_value_threshold, soft_threshold


class SparseTrace(PairPenalty):
    r"""``lambda1 ||P||_1 + lambda3 ||Q||_*`` with ``W = P + Q``.

    .. math::
        \Omega(P, Q) = \lambda_1 \sum_{j,t} |P_{jt}| + \lambda_3 \lVert Q \rVert_*

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).
    lambda3 : float
        Weight of the second penalty term (see the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import SparseTrace
    >>> penalty = SparseTrace(lambda1=1.0, lambda3=2.0)
    >>> V = penalty.init(np.diag([3.0, 1.0]))
    >>> V.shape, penalty.value(V)
    ((2, 2, 2), 4.0)
    """

    name = "sparse_trace"

    def value(self, V):
        return (self.lambda1 * float(np.abs(V[0]).sum())
                + self.lambda3 * float(np.linalg.svd(V[1], compute_uv=False).sum()))

    def prox(self, V, step):
        return np.stack([soft_threshold(V[0], step * self.lambda1),
                         singular_value_threshold(V[1], step * self.lambda3)[0]])

    def dual_gauge(self, U):
        # W = P + Q: the dual set is the intersection of the two dual balls.
        return max(float(np.abs(U).max(initial=0.0)) / self.lambda1,
                   float(np.linalg.norm(U, 2)) / self.lambda3)

    def lambda_max(self, G):
        return float(np.abs(G).max())
