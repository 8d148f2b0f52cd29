"""Robust multi-task feature learning (rMTFL, Gong, Ye, Zhang 2012):
W = P + Q, l2,1 over rows of P (shared features) + l2,1 over columns of Q
(outlier tasks)."""
import numpy as np

from ._base import PairPenalty, group_soft_threshold


class RobustFeature(PairPenalty):
    r"""``lambda1 ||P||_{2,1} + lambda3 ||Q^T||_{2,1}`` with ``W = P + Q``.

    .. math::
        \Omega(P, Q) = \lambda_1 \sum_j \lVert P_{j,:} \rVert_2
                     + \lambda_3 \sum_t \lVert Q_{:,t} \rVert_2

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).
    lambda3 : float
        Weight of the second penalty term (see the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import RobustFeature
    >>> penalty = RobustFeature(lambda1=1.0, lambda3=2.0)
    >>> V = penalty.init(np.array([[3.0, 4.0], [0.0, 0.0]]))
    >>> V.shape, penalty.value(V)
    ((2, 2, 2), 5.0)
    """

    name = "robust_feature"

    def value(self, V):
        return (self.lambda1 * float(np.linalg.norm(V[0], axis=1).sum())
                + self.lambda3 * float(np.linalg.norm(V[1], axis=0).sum()))

    def prox(self, V, step):
        return np.stack([group_soft_threshold(V[0], step * self.lambda1, axis=1),
                         group_soft_threshold(V[1], step * self.lambda3, axis=0)])

    def dual_gauge(self, U):
        # W = P + Q: the dual set is the intersection of the two dual balls.
        return max(float(np.linalg.norm(U, axis=1).max(initial=0.0)) / self.lambda1,
                   float(np.linalg.norm(U, axis=0).max(initial=0.0)) / self.lambda3)

    def lambda_max(self, G):
        return float(np.linalg.norm(G, axis=1).max())
