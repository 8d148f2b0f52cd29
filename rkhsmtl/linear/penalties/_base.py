"""Common shape of a penalty: a variable, its coefficients, value and prox.

A penalty owns the *variable* the solver moves.  For plain penalties the
variable is the coefficient matrix ``W`` (n_features, n_tasks).  For the
``W = P + Q`` models it is the stacked pair of shape (2, n_features, n_tasks),
and for the clustered model it is ``[W; M]`` of shape
(n_features + n_tasks, n_tasks).  The solver never looks inside: it only asks
for the coefficients (to evaluate the loss), the adjoint of that map (to pull
the loss gradient back), an optional smooth part, the non-smooth value and its
proximal operator.
"""
import numpy as np


class Penalty:
    """Base class: the variable is ``W`` itself and there is no smooth part.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import Penalty
    >>> penalty = Penalty()
    >>> V = penalty.init(np.ones((2, 3)))
    >>> penalty.variable_shape(2, 3), penalty.coef(V).shape, penalty.smooth(V)
    ((2, 3), (2, 3), (0.0, None))
    """

    #: name of the penalty in the estimators' ``penalty=`` option
    name = "base"

    def variable_shape(self, n_features, n_tasks):
        return (n_features, n_tasks)

    def init(self, W):
        """Variable that has coefficients ``W`` (used for cold and warm starts)."""
        return np.array(W, dtype=np.float64, copy=True)

    def coef(self, V):
        """Coefficients ``W`` (n_features, n_tasks) of the variable ``V``."""
        return V

    def coef_adjoint(self, G):
        """Pull a gradient w.r.t. ``W`` back to the variable (adjoint of ``coef``)."""
        return G

    def smooth(self, V):
        """Value and gradient of the differentiable part (none by default)."""
        return 0.0, None

    def value(self, V):
        """Value of the non-smooth part."""
        raise NotImplementedError

    def prox(self, V, step):
        """Proximal operator of ``step * value`` at ``V``."""
        raise NotImplementedError

    def lambda_max(self, G):
        """Smallest ``lambda1`` for which ``W = 0`` is optimal, given the loss
        gradient ``G`` at ``W = 0``; None when no such threshold exists."""
        return None

    def components(self, V):
        """Named parts of the variable reported as ``coef_components_``."""
        return None

    # -- duality (used by the gap certificate, :mod:`.._gap`) ----------------
    #: True when the penalty is a sum over the rows of ``W`` (coordinate descent)
    row_separable = False

    def dual_gauge(self, U):
        """Gauge of the dual set at ``U`` (d, T): the smallest ``g >= 0`` with
        ``U / g`` in the set of ``V`` satisfying ``<V, W> <= Omega(W)`` for all
        ``W``; ``U`` is dual feasible iff ``g <= 1``.  None when the penalty has
        no such certificate (a smooth part, a non-convex coupling)."""
        return None

    def dual_distance_sq(self, U):
        """Squared Frobenius distance from ``U`` to the dual set; with it the
        conjugate of ``lambda2 ||W||^2 + Omega`` is ``dist^2 / (4 lambda2)``.
        None when not available in closed form."""
        return None

    def dual_quadratic(self, U, lambda2=0.0):
        """For a penalty that is a quadratic-type function (``"graph"``
        without l1 part, ``"cluster"``): ``q`` with ``h^*(s U) = s^2 q`` for
        ``h = lambda2 ||W||^2 + smooth + value``, valid for ``U`` orthogonal
        to :meth:`dual_null_space`.  None otherwise."""
        return None

    def has_dual_quadratic(self, lambda2=0.0):
        """Whether :meth:`dual_quadratic` gives the conjugate at this ``lambda2``."""
        return False

    def dual_null_space(self, lambda2=0.0):
        """Orthonormal (n_tasks, p) basis of the task directions along which
        ``h`` is flat (``h^*`` is finite only for ``U`` orthogonal to them);
        None when there is none."""
        return None


class PairPenalty(Penalty):
    """Base for the ``W = P + Q`` models: the variable is ``stack([P, Q])``.

    Parameters
    ----------
    lambda1 : float, default=0.0
        Weight of the penalty on P.
    lambda3 : float, default=0.0
        Weight of the penalty on Q.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear.penalties import PairPenalty
    >>> penalty = PairPenalty()
    >>> V = penalty.init(np.ones((2, 3)))
    >>> V.shape, penalty.coef(V).tolist()
    ((2, 2, 3), [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    """

    def __init__(self, lambda1=0.0, lambda3=0.0):
        self.lambda1 = lambda1
        self.lambda3 = lambda3

    def variable_shape(self, n_features, n_tasks):
        return (2, n_features, n_tasks)

    def init(self, W):
        W = np.asarray(W, dtype=np.float64)
        if W.ndim == 3:  # already a pair (warm start from coef_components_)
            return W.copy()
        # The whole warm start goes to P: any split is feasible and the
        # first prox moves the part that belongs to Q.
        return np.stack([W, np.zeros_like(W)])

    def coef(self, V):
        return V[0] + V[1]

    def coef_adjoint(self, G):
        return np.stack([G, G])

    def components(self, V):
        return {"P": V[0].copy(), "Q": V[1].copy()}


def soft_threshold(V, threshold):
    """Entrywise ``sign(v) max(|v| - threshold, 0)``."""
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)


def group_soft_threshold(V, threshold, axis):
    """Shrink each group (a slice along ``axis``) towards zero by ``threshold``
    in Euclidean norm: the prox of ``threshold * sum of group norms``."""
    norms = np.linalg.norm(V, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
    return V * scale


def singular_value_threshold(V, threshold):
    """Prox of ``threshold * ||V||_*``; also returns the kept rank."""
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    s = np.maximum(s - threshold, 0.0)
    keep = s > 0
    return (U[:, keep] * s[keep]) @ Vt[keep], int(keep.sum())
