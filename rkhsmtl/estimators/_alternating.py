r"""The alternating engine behind every learned-structure estimator.

It minimizes the jointly convex objective (Ciliberto et al. 2015)

.. math::

    J(B, \theta) = \sum_i w_i\,(y_i - f_{t_i}(x_i) - b_{t_i})^2
      + \alpha\,\mathrm{tr}\big(A(\theta)^{+}(B^\top K B + \varepsilon I)\big)
      + F(\theta),
    \qquad f = K B,

by exact block minimization: the coefficient step is a fixed-A separable
ridge solved by :meth:`SeparableProblem.solve` (the eigendecomposition of K
is computed once and reused in every iteration; the CG solvers are warm
started; heterogeneous dense fits go through :meth:`SeparableProblem.sequence`,
PCG preconditioned by the last Cholesky factor, refactored only when stale),
the structure step is the closed form or small solver of a
:mod:`rkhsmtl.tasks.learned` step object applied to the T x T Gram matrix
:math:`B^\top K B`.  Each block step can only lower J, so the history is
non-increasing.

With a small barrier the plain iteration crawls: it is iteratively
reweighted least squares for a (squared) trace norm, and on School it stops
at the default tol some 1e-4 to 1e-3 above the optimum.  Steps whose object
has a ``project`` method are therefore Anderson-extrapolated
(:class:`Anderson`): the proposal's coefficient step is solved exactly and
kept only if it lowers J, so the history stays non-increasing and the fixed
point is the plain iteration's; a rejected proposal costs one extra
coefficient solve and restarts the extrapolation.  Only a plain step's
decrease below ``tol`` ends the run.

Where the coefficient step is iterative (heterogeneous dense fits, the
approximate path), the steps are solved inexactly while the objective still
falls fast (:data:`INEXACT`): to a relative residual of a tenth of the
last relative decrease, from the previous coefficients, re-solved tightly
where that would raise J, and tightly on the step that ends the run.  On
School (2,772 rows) this took trace and MTRL fits from 201 and 149 PCG
iterations to 145 and 83, at the same objective to 1e-5.
"""
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._backend import asarray_on, to_numpy
from ._newton import logistic_loss, newton_logistic

#: PCG tolerance of the final coefficient solve of a warm sequence.
FINAL_TOL = 1e-13


@dataclass
class AlternatingResult:
    state: Any
    task_matrix: Any          # numpy (T, T)
    solution: Any             # last Solution of the coefficient step
    objective_history: list = field(default_factory=list)
    n_iter: int = 0
    converged: bool = False
    n_factorizations: int = 0  # N x N factorizations made by this run


def training_scores(problem, solution):
    """Scores f + b at the training rows (shaped as the targets) and M = B^T K B."""
    fast = getattr(problem, "scores_and_gram", None)
    fast = fast(solution) if fast is not None else None
    if fast is not None:
        return fast
    _, F, KB = problem.training_scores(solution)
    M = to_numpy(problem.xp.matrix_transpose(solution.dual_coef) @ KB)
    return F, 0.5 * (M + M.T)


def training_fit(problem, solution, weights, loss="squared"):
    """Weighted training loss (squared or logistic) and M = B^T K B (numpy)."""
    xp = problem.xp
    if hasattr(problem, "loss_and_gram"):
        # Feature-space problem: the loss comes from the one-pass statistics.
        return problem.loss_and_gram(solution)
    F, M = training_scores(problem, solution)
    if loss == "logistic":
        return logistic_loss(xp, F, problem.targets, weights), M
    R = xp.where(weights > 0, problem.targets - F, xp.zeros_like(F))
    return float(xp.sum(weights * R * R)), M


def _extrapolate(xp, xs):
    """Warm start for the next coefficient solve from the last three ones.

    The alternating iterates converge linearly, their steps shrinking by a
    near-constant factor rho along a near-constant direction, so
    x + rho (x - x_previous) is much closer to the next solution than x
    (fewer PCG iterations; the solution itself does not depend on the start).
    """
    if len(xs) < 3:
        return xs[-1] if xs else None
    step = xs[-1] - xs[-2]
    before = float(xp.sum((xs[-2] - xs[-3]) ** 2)) ** 0.5
    rho = float(xp.sum(step ** 2)) ** 0.5 / before if before > 0 else 0.0
    return xs[-1] + min(rho, 0.9) * step


#: Anderson acceleration of the structure steps (switched off for a reference
#: run that takes plain block steps only).
ACCELERATE = True

#: Inexact coefficient steps (switched off for a reference run that solves
#: every step to the solver's own tolerance).  Where the coefficient step is
#: an iterative solve (the warm Cholesky sequence of heterogeneous dense
#: fits, the feature-space PCG of the approximate path), a step of the
#: alternation need not be solved to 1e-10 while the objective still falls by
#: 1e-3 per step: it is solved to a relative residual of ``INEXACT_FACTOR``
#: times the last relative decrease (at most ``INEXACT_MAX``).  Each step still
#: starts from the previous coefficients, a step that would raise J is
#: re-solved tightly, and the run converges only on a tightly solved step, so
#: the fixed point and the non-increasing history are those of exact steps.
INEXACT = True
INEXACT_FACTOR = 0.1
INEXACT_MAX = 1e-3


class Anderson:
    """Anderson extrapolation of the fixed-point iteration ``x <- G(x)``.

    The structure step maps the current structure variable x (through the
    coefficient step and B^T K B) to G(x); the alternating iterates converge
    to the fixed point linearly, often with a rate near 1 (60 steps and more
    on School).  Type-II Anderson (Walker and Ni 2011) combines the last
    ``memory`` pairs: with residuals f = G(x) - x, the coefficients gamma
    minimize ||f_k - dF gamma|| and the proposal is
    ``G(x_k) - dG gamma``, mapped back onto the step's feasible set by
    ``project`` (None when it cannot be).  The caller keeps a proposal only
    if it lowers the objective, so the fixed point and the monotone history
    stay those of the plain iteration.

    Parameters
    ----------
    project : callable
        ``project(x, reference) -> x or None``, the step's map back into its
        domain (``reference`` is the plain step's output G(x_k)).
    memory : int, default=5
    """

    def __init__(self, project, memory=5):
        self.project, self.memory = project, memory
        self._last = None
        self._dG, self._dF = [], []

    def propose(self, x, g, allow=True):
        """Record the pair (x, G(x) = g); return an extrapolated state or None."""
        x, g = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        f = g - x
        if self._last is not None:
            g_last, f_last = self._last
            self._dG.append((g - g_last).ravel())
            self._dF.append((f - f_last).ravel())
            del self._dG[:-self.memory], self._dF[:-self.memory]
        self._last = (g, f)
        if not allow or not self._dF:
            return None
        dF = np.stack(self._dF, axis=1)
        dG = np.stack(self._dG, axis=1)
        # Normal equations with a tiny ridge: the columns become nearly
        # collinear as the iteration converges.
        H = dF.T @ dF
        H[np.diag_indices_from(H)] += 1e-8 * max(np.trace(H), 1e-300)
        try:
            gamma = np.linalg.solve(H, dF.T @ f.ravel())
        except np.linalg.LinAlgError:
            return None
        proposal = g - (dG @ gamma).reshape(g.shape)
        if not np.all(np.isfinite(proposal)):
            return None
        return self.project(proposal, g)

    def reject(self):
        """Forget the history after a proposal failed the safeguard."""
        self._dG, self._dF = [], []


def regularizer(A, M, alpha):
    """alpha tr(A^+ M) on the range of A (A may be singular: low rank)."""
    w, V = np.linalg.eigh(A)
    keep = w > 1e-12 * max(w.max(), 1e-300)
    Vk = V[:, keep]
    return alpha * float(np.sum((Vk.T @ M @ Vk).diagonal() / w[keep]))


def alternate(problem, step, *, alpha, weights, fit_intercept, epsilon, max_iter, tol,
              state=None, x0=None, like=None, block_update=None, loss="squared",
              verbose=0):
    """Run the alternating minimization.

    Parameters
    ----------
    problem : SeparableProblem
    step : task-matrix step object (see :mod:`rkhsmtl.tasks.learned`)
    alpha : float
        Weight of the function norm; the coefficient step's ridge.
    weights : array
        Loss weights from ``problem.loss_weights``.
    epsilon : float
        Barrier: ``eps I`` is added to ``B^T K B`` in the structure step.
    max_iter, tol : int, float
        At most ``max_iter`` structure steps; stop when the relative decrease
        of J falls below ``tol``.
    state : optional
        Warm start of the structure variable.
    x0 : optional
        Warm start of the CG solvers.
    block_update : callable, optional
        ``block_update(solution, A, state) -> state`` replaces the structure
        step (Dinuzzo's L block of output-kernel learning).
    loss : {"squared", "logistic"}, default="squared"
        Loss of the coefficient step.  Squared: one exact separable solve.
        Logistic (labels in {-1, +1}): damped Newton to convergence, started
        from the previous iteration's functions, so the step still cannot
        increase J.
    verbose : int, default=0
        When > 0, print one line for the first coefficient step (iteration
        0) and one per structure step (iteration, objective, relative
        decrease, elapsed seconds), then a final line.
    """
    xp = problem.xp
    T = problem.n_tasks
    start_time = time.perf_counter()
    state = step.init_state(T) if state is None else state
    eps_I = epsilon * np.eye(T)
    factorizations_before = getattr(problem, "n_factorizations", 0)
    # Squared loss: one alpha and one set of weights for every step, so the
    # heterogeneous dense solver can precondition each step by the factor of
    # an earlier one (None where there is nothing to reuse).
    sequence = (problem.sequence(alpha, weights=weights, fit_intercept=fit_intercept)
                if loss == "squared" and hasattr(problem, "sequence") else None)
    # Iterative coefficient steps that take a tolerance (see INEXACT).
    inexact = INEXACT and loss == "squared" and (
        sequence is not None or getattr(problem, "accepts_tol", False))
    tight_tol = getattr(problem, "tol", 1e-10)
    recent_x = []  # the sequence's last coefficient solutions, newest last
    anderson = (Anderson(step.project) if ACCELERATE and block_update is None
                and hasattr(step, "project") else None)

    def coefficient_step(A_np, previous, tol=None):
        A = asarray_on(A_np, xp, like=like)
        if loss == "logistic":
            def scores(sol):
                F, M = training_scores(problem, sol)
                return F, regularizer(A_np, M, 1.0)

            # The inner loop runs to a tight tolerance so that the block step
            # is (numerically) exact, as the squared loss's direct solve is.
            # Starting from the previous functions makes the step monotone;
            # they need not lie in the range of a singular (low-rank) A, where
            # the norm would be infinite, so such an A starts afresh.
            w = np.linalg.eigvalsh(A_np)
            start = previous if w[0] > 1e-12 * max(w[-1], 1e-300) else None
            return newton_logistic(problem, A, alpha, weights, scores,
                                   fit_intercept=fit_intercept, start=start,
                                   max_iter=100, tol=1e-13)[0]
        start = x0 if previous is None else previous.info.get("x")
        if sequence is not None:
            # Extrapolated steps jump: start PCG from the last solution then.
            guess = (None if previous is None else previous.info.get("x")
                     if anderson is not None else _extrapolate(xp, recent_x))
            sol = sequence.solve(A, x0=guess, tol=tol)
            if sol.info.get("x") is None:
                # The sequence fell back to the one-shot (eigen) solver,
                # which has no PCG iterate to extrapolate from.
                recent_x.clear()
            else:
                recent_x.append(sol.info["x"])
                del recent_x[:-3]
            return sol
        if tol is not None:
            return problem.solve(A, alpha, weights=weights, fit_intercept=fit_intercept,
                                 x0=start, tol=tol)
        return problem.solve(A, alpha, weights=weights, fit_intercept=fit_intercept,
                             x0=start)

    def objective(sol, A_np, state):
        value, M = training_fit(problem, sol, weights, loss)
        value += regularizer(A_np, M + eps_I, alpha) + step.penalty(state)
        return value, M

    A_np = step.task_matrix(state)
    sol = coefficient_step(A_np, None)
    J, M = objective(sol, A_np, state)
    history = [J]
    if verbose > 0:
        print(f"Iteration 0: objective = {J:.10e}, "
              f"elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)
    converged = False
    n_iter, decrease = 0, np.inf
    force_plain = False
    step_tol = None  # None: the solver's own (tight) tolerance
    for n_iter in range(1, max_iter + 1):
        if block_update is not None:
            plain = block_update(sol, A_np, state)
        else:
            plain = step.update(M + eps_I, state)
        accepted = False
        candidate = None
        if anderson is not None:
            candidate = anderson.propose(state, plain, allow=not force_plain)
        if candidate is not None:
            # Safeguard: the extrapolated state is kept only where its exact
            # coefficient step lowers J below the current value, so the
            # history stays non-increasing; otherwise the plain step is taken.
            A_try = step.task_matrix(candidate)
            sol_try = coefficient_step(A_try, sol, step_tol)
            J_try, M_try = objective(sol_try, A_try, candidate)
            if J_try < J:
                state, A_np, sol, J_new, M = candidate, A_try, sol_try, J_try, M_try
                accepted = True
            else:
                anderson.reject()
        if not accepted:
            state = plain
            A_np = step.task_matrix(state)
            sol = coefficient_step(A_np, sol, step_tol)
            J_new, M = objective(sol, A_np, state)
            if step_tol is not None and J_new > J:
                # The inexact solve fell short of the block step's decrease:
                # finish it tightly from where it stopped.
                sol = coefficient_step(A_np, sol)
                J_new, M = objective(sol, A_np, state)
                step_tol = None
        history.append(J_new)
        decrease = J - J_new
        J = J_new
        relative = abs(decrease) / max(abs(J), 1e-300)
        if verbose > 0:
            kind = " (extrapolated)" if accepted else ""
            print(f"Iteration {n_iter}: objective = {J:.10e}, relative decrease = "
                  f"{relative:.3e}{kind}, elapsed = "
                  f"{time.perf_counter() - start_time:.2f} s", flush=True)
        solved_tightly = step_tol is None
        if abs(decrease) <= tol * max(abs(J), 1e-300):
            # An extrapolated step that barely lowers J says nothing about
            # convergence (it may have landed beside the path): only a plain
            # block step's decrease stops the run, as without acceleration;
            # and only a tightly solved one (an inexact solve moves less).
            if not accepted and solved_tightly:
                converged = True
                break
            force_plain = True
            step_tol = None
        else:
            force_plain = False
            if inexact and n_iter >= 1:
                loose = min(INEXACT_FACTOR * relative, INEXACT_MAX)
                step_tol = loose if loose > tight_tol else None
    if sequence is not None and n_iter > 0:
        # The returned coefficients are those of a direct solve at the final
        # A (to rounding): the steps stopped PCG at tol=1e-10 (or looser, see
        # INEXACT), enough for the objective and A, but the fitted model is
        # what users compare.
        sol = sequence.solve(asarray_on(A_np, xp, like=like), x0=sol.info.get("x"),
                             tol=FINAL_TOL)
    elif step_tol is not None:
        # Stopped at max_iter after an inexact step: the returned model is
        # the tight solution at the final task matrix.
        sol = coefficient_step(A_np, sol)
    if verbose > 0:
        status = (f"converged after {n_iter} iteration(s)" if converged else
                  f"stopped at max_iter={max_iter} without converging (tol={tol})")
        print(f"Alternating minimization {status}: objective = {J:.10e}, "
              f"elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)
    if not converged and max_iter > 0:
        warnings.warn(
            f"The alternating minimization did not converge in max_iter={max_iter} "
            f"iterations (last relative decrease {abs(decrease) / max(abs(J), 1e-300):.2e}"
            f" > tol={tol}). Increase 'max_iter', loosen 'tol', or continue from this "
            "fit with warm_start=True.", ConvergenceWarning, stacklevel=3)
    return AlternatingResult(state, A_np, sol, history, n_iter, converged,
                             getattr(problem, "n_factorizations", 0)
                             - factorizations_before)
