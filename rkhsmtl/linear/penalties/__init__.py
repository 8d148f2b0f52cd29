"""Penalties of the linear multi-task models, one module per proximal operator.

Each penalty exposes ``value(V)`` and ``prox(V, step)`` on its variable ``V``
(``W``, the stacked pair ``[P, Q]`` for the ``W = P + Q`` models, or ``[W; M]``
for the clustered model), plus ``smooth(V)`` for a differentiable part.
"""
from ._base import Penalty, PairPenalty
from .cluster import Cluster
from .dirty import Dirty
from .graph import Graph, chain_graph
from .l21 import L21
from .lasso import Lasso
from .robust_feature import RobustFeature
from .robust_lowrank import RobustLowRank
from .sparse_trace import SparseTrace
from .trace import Trace

PENALTIES = ("l21", "lasso", "trace", "graph", "cluster", "dirty",
             "robust_feature", "robust_lowrank", "sparse_trace")
#: penalties whose variable is the pair (P, Q) and that take a second weight
PAIR_PENALTIES = ("dirty", "robust_feature", "robust_lowrank", "sparse_trace")


def make_penalty(name, lambda1, lambda3=None, *, graph=None, n_clusters=2,
                 n_features=None, n_tasks=None):
    """Build the penalty object ``name``; inputs are assumed validated.

    ``lambda3=None`` means 0 for ``"graph"`` (no l1 part) and ``lambda1`` for
    the two-weight penalties.

    Parameters
    ----------
    name : str
        One of the penalty names of :class:`rkhsmtl.linear.LinearMultiTaskRegressor`.
    lambda1 : float
    lambda3 : float, default=None
    graph : ndarray of shape (n_tasks, n_edges), default=None
        Network matrix of ``"graph"``.
    n_clusters : int, default=2
        Clusters of ``"cluster"``.
    n_features, n_tasks : int, default=None
        Problem size (``"cluster"``).

    Returns
    -------
    penalty : Penalty

    Examples
    --------
    >>> from rkhsmtl.linear.penalties import make_penalty
    >>> type(make_penalty("l21", 0.1)).__name__
    'L21'
    >>> penalty = make_penalty("dirty", 0.1)
    >>> type(penalty).__name__, penalty.lambda1, penalty.lambda3
    ('Dirty', 0.1, 0.1)
    """
    if name == "l21":
        return L21(lambda1)
    if name == "lasso":
        return Lasso(lambda1)
    if name == "trace":
        return Trace(lambda1)
    if name == "graph":
        return Graph(lambda1, graph, 0.0 if lambda3 is None else lambda3)
    lambda3 = lambda1 if lambda3 is None else lambda3
    if name == "cluster":
        return Cluster(lambda1, lambda3, n_clusters, n_features, n_tasks)
    cls = {"dirty": Dirty, "robust_feature": RobustFeature,
           "robust_lowrank": RobustLowRank, "sparse_trace": SparseTrace}[name]
    return cls(lambda1, lambda3)


__all__ = ["Penalty", "PairPenalty", "L21", "Lasso", "Trace", "Graph", "Cluster",
           "Dirty", "RobustFeature", "RobustLowRank", "SparseTrace", "chain_graph",
           "make_penalty", "PENALTIES", "PAIR_PENALTIES"]
