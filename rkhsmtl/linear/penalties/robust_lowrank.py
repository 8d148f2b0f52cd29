"""Robust low-rank MTL (RMTL, Chen, Zhou, Ye 2011): W = P + Q with a nuclear
norm on P (shared low-rank structure) and an l2,1 norm over the columns of Q
(outlier tasks)."""
import numpy as np

from ._base import PairPenalty, group_soft_threshold, singular_value_threshold


class RobustLowRank(PairPenalty):
    r"""``lambda1 ||P||_* + lambda3 ||Q^T||_{2,1}`` with ``W = P + Q``.

    .. math::
        \Omega(P, Q) = \lambda_1 \lVert P \rVert_*
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
    >>> from rkhsmtl.linear.penalties import RobustLowRank
    >>> penalty = RobustLowRank(lambda1=1.0, lambda3=2.0)
    >>> V = penalty.init(np.diag([3.0, 1.0]))
    >>> V.shape, penalty.value(V)
    ((2, 2, 2), 4.0)
    """

    name = "robust_lowrank"

    def value(self, V):
        return (self.lambda1 * float(np.linalg.svd(V[0], compute_uv=False).sum())
                + self.lambda3 * float(np.linalg.norm(V[1], axis=0).sum()))

    def prox(self, V, step):
        return np.stack([singular_value_threshold(V[0], step * self.lambda1)[0],
                         group_soft_threshold(V[1], step * self.lambda3, axis=0)])

    def dual_gauge(self, U):
        # W = P + Q: the dual set is the intersection of the two dual balls.
        return max(float(np.linalg.norm(U, 2)) / self.lambda1,
                   float(np.linalg.norm(U, axis=0).max(initial=0.0)) / self.lambda3)

    def lambda_max(self, G):
        return float(np.linalg.norm(G, 2))
