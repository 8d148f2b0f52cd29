r"""Duality gap of the squared-loss linear multi-task models.

Primal (``a_i`` the observation weights, ``r = y - X_t w_t - b_t``):

.. math::

    P(W, b) = \tfrac12 \sum_i a_i r_i^2 + h(W),\qquad
    h(W) = \lambda_2 \lVert W \rVert_F^2 + \Omega(W).

Fenchel dual over ``theta`` (one value per observation, summing to zero
within each task when the intercepts are fitted):

.. math::

    D(\theta) = \sum_i \big(\theta_i y_i - \theta_i^2 / (2 a_i)\big)
                - h^*(U(\theta)),\qquad U_{:,t} = \sum_{i \in t} \theta_i x_i.

The candidate is the rescaled centred residual ``theta = s a (r - m_t)``
(``m_t`` the weighted mean residual of task ``t``, 0 without intercepts).
Writing ``U0 = X^T A (r - m)`` and ``Q = sum_i a_i (r_i - m_t)^2``, the gap
needs no row-wise quantity (so the Gram route costs O(d^2 T) too) and has no
cancellation between large numbers:

.. math::

    P - D = \tfrac12 \sum_t n_t m_t^2 + \tfrac12 (1 - s)^2 Q
            + h(W) - s \langle U_0, W \rangle + h^*(s U_0).

* ``h`` quadratic-type (``"graph"`` without l1 part, ``"cluster"``):
  ``h^*(s U) = s^2 h^*(U)`` in closed form and ``s`` minimizes the gap.
  ``"graph"`` is flat along the null space ``N`` of its Laplacian, where
  ``h^*`` is infinite unless ``U N = 0``: the dual point is then taken at
  ``W' = W + M N^T`` with ``M`` solving ``sum_t G_t M n_t n_t^T = U_0 N``
  (:func:`null_shift`), which makes ``U_0(W') N = 0``; the gap at ``W`` is
  ``P(W) - P(W') + gap(W')``.
* ``lambda2 = 0``: ``h^*`` is the indicator of the dual set of ``Omega``;
  ``s`` is the best value inside it, ``s <= 1 / gauge(U0)``.
* ``lambda2 > 0``: ``h^*(U) = dist(U, dual set)^2 / (4 lambda2)`` where the
  penalty gives that distance in closed form (``s = 1``, exact at the
  optimum); otherwise the rescaled point (``h^* = 0`` on the dual set) still
  gives a valid, looser bound.

For the ``W = P + Q`` models ``Omega`` is the infimal convolution of the two
norms, whose dual set is the intersection of the two dual balls, and the
primal uses the penalty of the current split (an upper bound of
``Omega(W)``), so the gap bounds the suboptimality of the split too.
The gap is an upper bound of ``P(W, b) - P*`` for every ``(W, b)``.  numpy only.
"""
import numpy as np


def gap_available(penalty, loss, lambda2=0.0):
    """Whether :func:`duality_gap` certifies this model with a gap that
    vanishes at the optimum (so that it can serve as the stopping rule)."""
    if loss not in ("squared", "logistic"):
        return False
    if has_conjugate_bound(penalty, lambda2):
        # graph + l1 (MALSAR SRMTL): the bound of Graph.conjugate_bound, for
        # either loss (the l1 box absorbs the dual point's null-space part).
        return True
    if loss == "logistic" and penalty.dual_null_space(lambda2) is not None:
        # The null-space shift of the dual point (null_shift) needs the
        # squared loss; a logistic dual point cannot be moved that way.
        return False
    if penalty.has_dual_quadratic(lambda2):
        return True
    probe = np.zeros((1, 1))
    if lambda2 > 0:
        return penalty.dual_distance_sq(probe) is not None
    return penalty.dual_gauge(probe) is not None


def has_conjugate_bound(penalty, lambda2=0.0):
    """Whether the penalty certifies through ``conjugate_bound`` (graph + l1)."""
    check = getattr(penalty, "has_conjugate_bound", None)
    return check is not None and check(lambda2)


def duality_gap(penalty, lambda2, V, W, loss_value, gW, gb, xsum, wsum, *,
                fit_intercept=True, rows=None):
    """Primal objective and duality gap at ``(V, b)``.

    Parameters
    ----------
    penalty : Penalty
    lambda2 : float
    V : ndarray
        The penalty's variable; ``W = penalty.coef(V)``.
    W : ndarray of shape (d, T)
    loss_value : float
        Squared loss at ``(W, b)``.
    gW : ndarray of shape (d, T)
        Its gradient w.r.t. ``W`` (``-X^T A r``).
    gb : ndarray of shape (T,)
        Its gradient w.r.t. ``b`` (``-sum a r`` per task).
    xsum : ndarray of shape (d, T)
        ``X_t^T a_t`` per task.
    wsum : ndarray of shape (T,)
        ``sum a_t`` per task.
    fit_intercept : bool, default=True
    rows : array of int, default=None
        Restrict the dual constraint to these feature rows (a working set:
        the other rows of ``W`` are 0 and excluded from the subproblem).

    Returns
    -------
    primal : float
    gap : float
        NaN when the penalty has no certificate.
    """
    ridge = lambda2 * float(np.vdot(W, W)) if lambda2 else 0.0
    h = ridge + penalty.value(V) + penalty.smooth(V)[0]
    primal = loss_value + h
    if fit_intercept:
        m = -gb / wsum
        U0 = -gW - xsum * m
        centre = 0.5 * float(wsum @ (m * m))
    else:
        U0 = -gW
        centre = 0.0
    Q = max(2.0 * loss_value - 2.0 * centre, 0.0)
    Ug = U0 if rows is None else U0[rows]
    inner = float(np.vdot(U0, W))
    if penalty.has_dual_quadratic(lambda2):
        q = penalty.dual_quadratic(Ug, lambda2)
        # Best s of (1 - s)^2 Q / 2 - s <U0, W> + s^2 q.
        s = (Q + inner) / (Q + 2.0 * q) if Q + 2.0 * q > 0 else 1.0
        s = max(s, 0.0)
        gap = centre + 0.5 * (1.0 - s) ** 2 * Q + h - s * inner + s * s * q
        return primal, max(gap, 0.0)
    if has_conjugate_bound(penalty, lambda2):
        return primal, _conjugate_bound_gap(penalty, lambda2, U0, W, Q, inner, centre, h)
    if lambda2 > 0:
        dist = penalty.dual_distance_sq(Ug)
        if dist is not None:
            return primal, max(centre + h - inner + dist / (4.0 * lambda2), 0.0)
    gauge = penalty.dual_gauge(Ug)
    if gauge is None:
        return primal, np.nan
    s_max = 1.0 / gauge if gauge > 0 else np.inf
    # Best s along the ray: minimizes (1 - s)^2 Q / 2 - s <U0, W>.
    s = 1.0 + inner / Q if Q > 0 else 1.0
    s = min(max(s, 0.0), s_max)
    gap = centre + 0.5 * (1.0 - s) ** 2 * Q + h - s * inner
    return primal, max(gap, 0.0)


def _conjugate_bound_gap(penalty, lambda2, U0, W, Q, inner, centre, h):
    """The gap with an upper bound ``B(s)`` of ``h^*(s U0)`` (graph + l1).

    Every ``s >= 0`` gives a valid bound; the ones tried: 1 (exact at the
    optimum), the best ``s`` of the quadratic model ``B(s) ~ s^2 B(1)``, and
    the largest ``s`` at which the l1 box can hold the group sums.
    """
    def gap(s, bound=None):
        if bound is None:
            bound = penalty.conjugate_bound(s * U0, W, lambda2)
        return centre + 0.5 * (1.0 - s) ** 2 * Q + h - s * inner + bound

    q = penalty.conjugate_bound(U0, W, lambda2)
    values = [gap(1.0, q)]
    candidates = []
    if np.isfinite(q) and Q + 2.0 * q > 0:
        candidates.append(max((Q + inner) / (Q + 2.0 * q), 0.0))
    s_box = penalty.box_scale(U0, lambda2)
    if s_box < 1.0:
        candidates.append(s_box * (1 - 1e-12))
    values += [gap(s) for s in candidates]
    finite = [v for v in values if np.isfinite(v)]
    # No finite bound (an infeasible box everywhere, or non-finite inputs):
    # no certificate, never a silent number.
    return max(min(finite), 0.0) if finite else np.nan


def null_shift(stats, W, N):
    """``M N^T`` making ``U_0(W + M N^T) N = 0`` (see the module docstring).

    ``stats`` are the profiled statistics (:meth:`TaskGram.centered` with
    intercepts), for which ``U_0(W) = C - G W`` per task whatever ``b``;
    the system is consistent (both sides lie in the row space of the data),
    so its least-squares solution is exact.
    """
    d, p = W.shape[0], N.shape[1]
    rhs = (stats.xty - stats.matvec(W)) @ N
    op = np.einsum("ijt,ta,tb->iajb", stats.full_gram(), N, N).reshape(d * p, d * p)
    M = np.linalg.lstsq(op, rhs.ravel(), rcond=None)[0].reshape(d, p)
    return M @ N.T


def shifted_gap(penalty, lambda2, stats, evaluate, V, W):
    """``evaluate(V, W) -> (primal, gap)``, moving the dual point off the
    null space of the penalty where it has one (``"graph"``)."""
    primal, gap = evaluate(V, W)
    N = penalty.dual_null_space(lambda2)
    if N is None or not np.isfinite(gap):
        return primal, gap
    if has_conjugate_bound(penalty, lambda2):
        # graph + l1: the bound keeps the dual point off the null space by
        # itself; shifting W there would move the l1 part off its optimum.
        return primal, gap
    W2 = W + null_shift(stats, W, N)
    primal2, gap2 = evaluate(W2, W2)
    return primal, max(primal - primal2 + gap2, 0.0)
