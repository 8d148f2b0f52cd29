"""Dirty model (Jalali et al. 2010; MALSAR ``Least_Dirty``): W = P + Q with a
group l1,inf norm on P (shared support) and an entrywise l1 norm on Q."""
import numpy as np

from ._base import PairPenalty, soft_threshold


def project_l1_ball(V, radius):
    """Row-wise Euclidean projection onto the l1 ball of ``radius`` (Duchi et
    al. 2008: sort, find the threshold, soft-threshold)."""
    V = np.atleast_2d(V)
    A = np.abs(V)
    inside = A.sum(axis=1) <= radius
    out = V.copy()
    if np.all(inside) or radius <= 0:
        return out if radius > 0 else np.zeros_like(V)
    U = -np.sort(-A, axis=1)
    css = np.cumsum(U, axis=1) - radius
    idx = np.arange(1, V.shape[1] + 1)
    cond = U - css / idx > 0
    rho = V.shape[1] - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(V.shape[0]), rho] / (rho + 1)
    proj = np.sign(V) * np.maximum(A - theta[:, None], 0.0)
    out[~inside] = proj[~inside]
    return out


def prox_l1inf_rows(V, threshold):
    """Prox of ``threshold * sum_j max_t |V[j, t]|``, row by row.

    By Moreau's identity it is ``v - proj_{||.||_1 <= threshold}(v)``, since
    the l1 ball is the unit ball of the dual (l-inf) norm scaled by threshold.
    """
    return V - project_l1_ball(V, threshold)


class Dirty(PairPenalty):
    r"""``lambda1 ||P||_{1,inf} + lambda3 ||Q||_{1,1}`` with ``W = P + Q``.

    .. math::
        \Omega(P, Q) = \lambda_1 \sum_j \max_t |P_{jt}| + \lambda_3 \sum_{j,t} |Q_{jt}|

    Parameters
    ----------
    lambda1 : float
        Weight of the first penalty term (rho_1 in the formula).
    lambda3 : float
        Weight of the second penalty term (see the formula).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Dirty
    >>> penalty = Dirty(lambda1=1.0, lambda3=1.0)
    >>> V = penalty.init(np.array([[2.0, 0.0], [0.0, 0.0]]))
    >>> V.shape, penalty.value(V)
    ((2, 2, 2), 2.0)
    """

    name = "dirty"

    def value(self, V):
        return (self.lambda1 * float(np.abs(V[0]).max(axis=1).sum())
                + self.lambda3 * float(np.abs(V[1]).sum()))

    def prox(self, V, step):
        return np.stack([prox_l1inf_rows(V[0], step * self.lambda1),
                         soft_threshold(V[1], step * self.lambda3)])

    def lambda_max(self, G):
        # Dual of l1,inf over rows is l_inf,1: the largest row l1 norm.
        return float(np.abs(G).sum(axis=1).max())

    def dual_gauge(self, U):
        # W = P + Q: the dual set is the intersection of the two dual balls.
        return max(float(np.abs(U).sum(axis=1).max(initial=0.0)) / self.lambda1,
                   float(np.abs(U).max(initial=0.0)) / self.lambda3)
