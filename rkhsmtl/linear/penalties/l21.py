"""Joint feature selection: the l2,1 norm over the rows of ``W``."""
import numpy as np

from ._base import Penalty, group_soft_threshold


class L21(Penalty):
    r"""``lambda1 * sum_j ||W[j, :]||_2`` (MALSAR ``Least_L21``, RMTL ``L21``).

    .. math:: \Omega(W) = \lambda_1 \sum_{j=1}^{d} \lVert W_{j,:} \rVert_2

    A feature is either used by all tasks or by none.

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import L21
    >>> W = np.array([[3.0, 4.0], [0.3, 0.4]])
    >>> L21(lambda1=1.0).value(W)
    5.5
    >>> L21(lambda1=1.0).prox(W, step=1.0).round(3).tolist()
    [[2.4, 3.2], [0.0, 0.0]]
    """

    name = "l21"

    def __init__(self, lambda1):
        self.lambda1 = lambda1

    def value(self, W):
        return self.lambda1 * float(np.linalg.norm(W, axis=1).sum())

    def prox(self, W, step):
        return group_soft_threshold(W, step * self.lambda1, axis=1)

    def lambda_max(self, G):
        # Optimality of W = 0: every row of the gradient inside the unit ball.
        return float(np.linalg.norm(G, axis=1).max())

    row_separable = True

    def dual_gauge(self, U):
        return float(np.linalg.norm(U, axis=1).max(initial=0.0)) / self.lambda1

    def dual_distance_sq(self, U):
        excess = np.maximum(np.linalg.norm(U, axis=1) - self.lambda1, 0.0)
        return float(excess @ excess)
