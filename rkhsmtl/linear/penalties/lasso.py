"""Independent sparsity: the entrywise l1 norm of ``W``."""
import numpy as np

from ._base import Penalty, soft_threshold


class Lasso(Penalty):
    r"""``lambda1 * ||W||_1`` (MALSAR ``Least_Lasso``, RMTL ``Lasso``).

    .. math:: \Omega(W) = \lambda_1 \sum_{j,t} |W_{jt}|

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Lasso
    >>> W = np.array([[3.0, -1.5], [0.0, 2.0]])
    >>> Lasso(lambda1=1.0).value(W)
    6.5
    >>> Lasso(lambda1=1.0).prox(W, step=1.0).tolist()
    [[2.0, -0.5], [0.0, 1.0]]
    """

    name = "lasso"

    def __init__(self, lambda1):
        self.lambda1 = lambda1

    def value(self, W):
        return self.lambda1 * float(np.abs(W).sum())

    def prox(self, W, step):
        return soft_threshold(W, step * self.lambda1)

    def lambda_max(self, G):
        return float(np.abs(G).max())

    row_separable = True

    def dual_gauge(self, U):
        return float(np.abs(U).max(initial=0.0)) / self.lambda1

    def dual_distance_sq(self, U):
        excess = np.maximum(np.abs(U) - self.lambda1, 0.0)
        return float(np.sum(excess * excess))
