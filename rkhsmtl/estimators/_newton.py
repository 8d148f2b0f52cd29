r"""Damped Newton (IRLS) for the logistic loss with a fixed task matrix.

Minimizes :math:`\sum_i w_i \log(1 + e^{-y_i F_i}) + \alpha\,\|f\|^2_A` over
the coefficients, each Newton step one weighted separable ridge solved by
:meth:`SeparableProblem.solve` (so the eigendecomposition of K, or the
Cholesky/CG machinery, is shared with the squared loss).  The quadratic model
of the loss is :math:`\tfrac12 c_i (z_i - F_i)^2` with curvature
:math:`c = p(1-p)` and working response z, hence the ridge ``2 alpha`` of the
step.  Steps are halved until the objective decreases, so it is monotone
from any starting point: the plain classifier starts from zero, the
alternating engine from the previous iteration's functions.
"""
from .._backend import get_namespace
from ..solvers import Solution


def sigmoid(xp, z):
    return 1.0 / (1.0 + xp.exp(-z))


def log1pexp(xp, z):
    """log(1 + exp(z)) without overflow."""
    return xp.where(z > 0, z + xp.log1p(xp.exp(-xp.abs(z))), xp.log1p(xp.exp(z)))


def proba_from_scores(scores):
    """Logistic probabilities: (n, 2) for 1-D scores, P(classes_[1]) per task for 2-D."""
    xp = get_namespace(scores)
    p1 = sigmoid(xp, scores)
    if p1.ndim == 1:
        return xp.stack([1.0 - p1, p1], axis=1)
    return p1


def logistic_loss(xp, F, y, weights):
    """Weighted logistic loss; entries with zero weight (missing) are skipped."""
    margin = xp.where(weights > 0, y * F, xp.zeros_like(F))
    return float(xp.sum(weights * log1pexp(xp, -margin)))


def blend(xp, old, new, eta):
    """The solution eta * new + (1 - eta) * old (linear in coefficients)."""
    def mix(a, b):
        return eta * b + (1.0 - eta) * a

    return Solution(mix(old.dual_coef, new.dual_coef), mix(old.intercept, new.intercept),
                    mix(old.coef, new.coef), dict(new.info))


def newton_logistic(problem, A, alpha, weights, scores, *, fit_intercept, start=None,
                    max_iter=50, tol=1e-8, history=None):
    r"""Logistic fit with task matrix A by damped Newton steps.

    Parameters
    ----------
    problem : SeparableProblem
        Targets are the labels in {-1, +1} (NaN allowed where weights are 0).
    A : array (T, T)
    alpha : float
    weights : array
        Loss weights from ``problem.loss_weights``.
    scores : callable
        ``scores(solution) -> (F, norm2)``: training scores f + b (shaped as
        the targets) and the penalty :math:`\|f\|^2_A` of a solution.
    start : Solution, optional
        Starting point (e.g. the previous outer iteration's solution); None
        starts from the intercept-only fit of zero targets.
    max_iter, tol : int, float
        Stop after ``max_iter`` steps or when the objective decreases by at
        most ``tol`` relative.
    history : list, optional
        Objective values are appended to it.

    Returns
    -------
    solution : Solution
    objective : float
    n_iter : int
    """
    xp = problem.xp
    y = problem.targets
    y0 = xp.where(weights > 0, y, xp.zeros_like(y))
    solution = start
    if solution is None:
        solution = problem.solve(A, alpha, weights=weights, targets=0.0 * y0,
                                 fit_intercept=fit_intercept)
    F, norm2 = scores(solution)
    obj = logistic_loss(xp, F, y0, weights) + alpha * norm2
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        p = sigmoid(xp, F)
        curv = xp.clip(p * (1.0 - p), 1e-10, None)
        # Working response of the Newton step: F - gradient / curvature.
        z = F + y0 * sigmoid(xp, -y0 * F) / curv
        step = problem.solve(A, 2.0 * alpha, weights=weights * curv, targets=z,
                             fit_intercept=fit_intercept, x0=solution.info.get("x"))
        F_new, norm2_new = scores(step)
        obj_new = logistic_loss(xp, F_new, y0, weights) + alpha * norm2_new
        shrink = 1.0
        # The objective is convex in (B, b): halving the step along the
        # segment eventually decreases it.
        while obj_new > obj and shrink > 1e-6:
            shrink *= 0.5
            step = blend(xp, solution, step, shrink)
            F_new, norm2_new = scores(step)
            obj_new = logistic_loss(xp, F_new, y0, weights) + alpha * norm2_new
        decrease = obj - obj_new
        if obj_new <= obj:
            solution, F, obj = step, F_new, obj_new
        if history is not None:
            history.append(obj)
        if decrease <= tol * max(abs(obj), 1.0):
            break
    return solution, obj, n_iter
