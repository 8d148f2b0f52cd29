"""Low rank: the nuclear (trace) norm of ``W``, prox = singular value thresholding."""
import numpy as np

from ._base import Penalty, singular_value_threshold


class Trace(Penalty):
    r"""``lambda1 * ||W||_*`` (MALSAR ``Least_Trace``, RMTL ``Trace``).

    .. math:: \Omega(W) = \lambda_1 \sum_k \sigma_k(W)

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Trace
    >>> W = np.diag([3.0, 0.5])
    >>> Trace(lambda1=1.0).value(W)
    3.5
    >>> Trace(lambda1=1.0).prox(W, step=1.0).round(3).tolist()
    [[2.0, 0.0], [0.0, 0.0]]
    """

    name = "trace"

    def __init__(self, lambda1):
        self.lambda1 = lambda1

    def value(self, W):
        return self.lambda1 * float(np.linalg.svd(W, compute_uv=False).sum())

    def prox(self, W, step):
        return singular_value_threshold(W, step * self.lambda1)[0]

    def lambda_max(self, G):
        # The dual norm of the nuclear norm is the spectral norm.
        return float(np.linalg.norm(G, 2))

    def dual_gauge(self, U):
        return float(np.linalg.norm(U, 2)) / self.lambda1 if U.size else 0.0

    def dual_distance_sq(self, U):
        excess = np.maximum(np.linalg.svd(U, compute_uv=False) - self.lambda1, 0.0)
        return float(excess @ excess)
