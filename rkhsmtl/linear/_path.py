"""Fitting core and regularization paths for the linear multi-task models.

A single fit is a path of length one: :func:`fit_penalized` picks the solver
(:func:`choose_solver`: coordinate descent, ADMM, proximal Newton, or the
FISTA engine, for which it assembles the smooth part (loss + ridge + the
penalty's smooth part) and the prox); :func:`path_on_datafit` runs it over a
decreasing ``lambda1``
sequence, each fit warm-started from the previous solution (RMTL's
``Lam1_seq``).  numpy only.
"""
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ._admm import admm
from ._bcd import bcd
from ._fista import fista
from ._gap import duality_gap, gap_available, shifted_gap
from ._prox_newton import LogisticRows, logistic_gap, prox_newton

SOLVERS = ("auto", "fista", "bcd", "admm", "newton")
#: ``solver="auto"`` prefers ADMM to coordinate descent up to this many features
ADMM_MAX_FEATURES = 64
#: ADMM iterations per proximal-Newton model (its multiplier is warm-started
#: from model to model, so short inner runs make steady progress; School's
#: logistic "dirty": 12 s with 500, 22 s with 2,000)
NEWTON_INNER_ADMM = 500


@dataclass
class PenalizedFit:
    coef: np.ndarray          # (n_features, n_tasks)
    intercept: np.ndarray     # (n_tasks,)
    variable: np.ndarray      # the penalty's variable (W, [P, Q] or [W; M])
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    lipschitz: float
    dual_gap: float = np.nan   # certified P(W, b) - P*, NaN without certificate
    solver: str = "fista"


def resolve_stopping(stopping, penalty, loss, lambda2, solver="fista"):
    """``"auto"``: the duality gap for block coordinate descent and ADMM
    (their iterates make the gap vanish fast); for FISTA MALSAR's relative change of the
    objective, because FISTA's gap, though certified, shrinks only like the
    square root of its suboptimality (``stopping="dual_gap"`` asks for it)."""
    if stopping == "auto":
        return "dual_gap" if solver in ("bcd", "admm", "newton") and \
            gap_available(penalty, loss, lambda2) else "relative_objective"
    if stopping == "dual_gap" and not gap_available(penalty, loss, lambda2):
        raise ValueError(
            f"stopping='dual_gap' needs a duality gap that vanishes at the optimum; "
            f"it exists (squared and logistic loss) for penalty in ('l21', 'lasso', "
            f"'trace'), "
            f"'graph' without l1 part (lambda3=0), and with lambda2=0 'cluster' and "
            f"the W = P + Q penalties; got loss={loss!r}, "
            f"penalty={penalty.name!r}, lambda2={lambda2}. Use "
            "stopping='relative_objective' (or 'auto').")
    return stopping


def choose_solver(solver, datafit, penalty, stopping):
    """The one place where ``solver="auto"`` is decided.

    Block coordinate descent and ADMM need the squared loss (through its
    Gram statistics, at most ``datafit.GRAM_MAX_BYTES``) and the gap as
    stopping rule; coordinate descent also a row-separable penalty.
    ``"auto"`` takes coordinate descent where it applies and there are more
    than ``ADMM_MAX_FEATURES`` features, else ADMM, else FISTA, which handles
    everything.  The rule depends on shapes only.  With many features
    coordinate descent is the fastest to a certified gap in both layouts,
    also when the support outgrows every task's row count (heterogeneous
    ``l21``, T=20 tasks of 100 Gaussian rows, d=500, a 286-row support:
    ``benchmarks/bench_linear_solvers.py --hetero-only`` times all three).
    """
    d, T = datafit.n_features, datafit.n_tasks
    needs = []
    if datafit.loss == "logistic" and solver in ("auto", "newton"):
        if stopping != "dual_gap":
            if solver == "newton":
                raise ValueError(
                    "solver='newton' needs stopping='dual_gap' or 'auto' (got "
                    f"{stopping!r}) and a penalty with a duality gap. Use "
                    "solver='fista' or 'auto'.")
            return "fista"
        return "newton"
    if solver == "newton":
        raise ValueError(f"solver='newton' needs loss='logistic' (got "
                         f"{datafit.loss!r}). Use solver='auto'.")
    if datafit.loss != "squared":
        needs.append(f"loss='squared' (got {datafit.loss!r})")
    if stopping != "dual_gap":
        needs.append(f"stopping='dual_gap' or 'auto' (got {stopping!r})")
    if 8 * d * d * T > datafit.GRAM_MAX_BYTES and datafit._stats is None \
            and datafit._gram is None:
        needs.append(f"per-task Gram statistics within {datafit.GRAM_MAX_BYTES} bytes "
                     f"(d={d}, T={T} need {8 * d * d * T})")
    bcd_needs = list(needs)
    if not penalty.row_separable:
        bcd_needs.insert(1, "a row-separable penalty, 'l21' or 'lasso' (got "
                         f"{penalty.name!r})")
    if solver == "bcd" and bcd_needs:
        raise ValueError("solver='bcd' needs " + "; ".join(bcd_needs) +
                         ". Use solver='fista' or 'auto'.")
    if solver == "admm" and needs:
        raise ValueError("solver='admm' needs " + "; ".join(needs) +
                         ". Use solver='fista' or 'auto'.")
    if solver == "auto":
        if needs:
            return "fista"
        # Few features: ADMM's vectorized iterations beat the row loop of
        # coordinate descent (School, d = 28: l21 3x, lasso 3x faster to a
        # certified 1e-6); many: working sets only touch the active rows.
        return "bcd" if not bcd_needs and d > ADMM_MAX_FEATURES else "admm"
    return solver


def _fit_bcd(datafit, penalty, lambda2, fit_intercept, V0, max_iter, tol, verbose=0):
    stats = datafit.quadratic_stats()
    problem = datafit.profiled_stats(fit_intercept)
    res = bcd(problem, penalty, lambda2, V0, max_iter=max_iter, tol=tol, verbose=verbose)
    T = datafit.n_tasks
    b = stats.intercepts(res.W) if fit_intercept else np.zeros(T)
    return PenalizedFit(res.W.copy(), b, res.W, res.objective_history, res.n_iter,
                        res.converged, None, res.gap, "bcd")


def _fit_admm(datafit, penalty, lambda2, fit_intercept, V0, max_iter, tol, verbose=0):
    stats = datafit.quadratic_stats()
    problem = datafit.profiled_stats(fit_intercept)
    T = datafit.n_tasks
    zeros = np.zeros(T)
    certificate = _gap_certificate(problem, penalty, lambda2, zeros)

    # The iterations are many small (d, d) products and factorizations: BLAS
    # threads only add synchronization (20x slower eigh/cholesky on a busy
    # 2-core machine), so they run on one thread when d is small.
    limit = threadpool_limits(1, "blas") if datafit.n_features <= ADMM_MAX_FEATURES \
        else nullcontext()
    with limit:
        res = admm(problem, penalty, lambda2, V0, certificate, max_iter=max_iter,
                   tol=tol, verbose=verbose)
    W = penalty.coef(res.W)
    b = stats.intercepts(W) if fit_intercept else zeros
    return PenalizedFit(W.copy(), b, res.W, res.objective_history, res.n_iter,
                        res.converged, None, res.gap, "admm")


def _gap_certificate(problem, penalty, lambda2, zeros):
    """``V -> duality gap`` of an ADMM iterate, for the solver's stopping rule
    (``zeros``: the (T,) intercepts, eliminated from the profiled problem)."""

    def evaluate(V, W):
        value, gW, gb = problem.value_and_grad(W, zeros)
        return duality_gap(penalty, lambda2, V, W, value, gW, gb, None, zeros,
                           fit_intercept=False)

    def certificate(V):
        return shifted_gap(penalty, lambda2, problem, evaluate, V, penalty.coef(V))
    return certificate


def _inner_solver(datafit, penalty, lambda2):
    """Solver of the weighted least-squares models of proximal Newton."""
    # The models must be solved far more accurately than the squared-loss
    # fits (see prox_newton), where coordinate descent's linear rate beats
    # ADMM's slow tail; an inexact inner solve is harmless (the outer step
    # is kept only where it lowers the objective, and the next inner solve
    # is tighter), so both are capped.

    def inner(problem, V, tol):
        if penalty.row_separable:
            return bcd(problem, penalty, lambda2, V, max_iter=1000, tol=tol).W
        return admm(problem, penalty, lambda2, V,
                    _gap_certificate(problem, penalty, lambda2, zeros),
                    max_iter=NEWTON_INNER_ADMM, tol=tol, state=state).W

    zeros = np.zeros(datafit.n_tasks)
    # The multiplier carries over from one Newton model to the next (the
    # penalty's subgradient at the solution changes little between them).
    state = {}
    return inner


def _fit_newton(datafit, penalty, lambda2, fit_intercept, V0, b0, max_iter, tol,
                verbose=0):
    limit = threadpool_limits(1, "blas") if datafit.n_features <= ADMM_MAX_FEATURES \
        else nullcontext()
    with limit:
        res = prox_newton(datafit, penalty, lambda2, V0, b0,
                          _inner_solver(datafit, penalty, lambda2),
                          fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                          verbose=verbose)
    return PenalizedFit(penalty.coef(res.V).copy(), res.b, res.V, res.objective_history,
                        res.n_iter, res.converged, None, res.gap, "newton")


def final_gap(datafit, penalty, V, b, lambda2, fit_intercept):
    """Duality gap at ``(V, b)`` (NaN without a certificate)."""
    if not gap_available(penalty, datafit.loss, lambda2) and \
            penalty.dual_gauge(np.zeros((1, 1))) is None:
        return np.nan
    if datafit.loss == "logistic":
        # The dual needs optimal intercepts: the gap at (W, b*) plus the
        # primal excess of b over b* bounds P(W, b) - P*.
        F = logistic_gap(datafit, penalty, lambda2, V, b, False)[0]
        b_ref = b
        if fit_intercept:
            b_ref = LogisticRows(datafit).refine_intercepts(penalty.coef(V), b)
        F_ref, gap = logistic_gap(datafit, penalty, lambda2, V, b_ref, fit_intercept)
        return max(F - F_ref, 0.0) + gap

    def evaluate(V, W):
        value, gW, gb = datafit.value_and_grad(W, b)
        return duality_gap(penalty, lambda2, V, W, value, gW, gb, datafit.task_xsum,
                           datafit.task_weight, fit_intercept=fit_intercept)

    stats = None
    if penalty.dual_null_space(lambda2) is not None:
        stats = datafit.profiled_stats(fit_intercept)
    return shifted_gap(penalty, lambda2, stats, evaluate, V, penalty.coef(V))[1]


def fit_penalized(datafit, penalty, *, lambda2=0.0, fit_intercept=True,
                  variable0=None, intercept0=None, max_iter=1000, tol=1e-6,
                  stopping="relative_objective", lipschitz=None, callback=None,
                  solver="fista", verbose=0):
    r"""Minimize ``L(W, b) + lambda2 ||W||_F^2 + penalty`` (FISTA or BCD).

    Parameters
    ----------
    datafit : MultiTaskDatafit
    penalty : Penalty
    lambda2 : float
        Ridge weight on the coefficients ``W``.
    fit_intercept : bool
        Per-task intercepts ``b`` (unpenalized); fixed at 0 when False.
    variable0, intercept0 : ndarray, default=None
        Warm start (coefficients or the penalty's variable, and intercepts).
    max_iter, tol, stopping, lipschitz, callback
        Passed to :func:`rkhsmtl.linear._fista.fista`; ``stopping`` may be
        ``"auto"`` (:func:`resolve_stopping`).  Block coordinate descent
        counts epochs in ``max_iter`` and ADMM its iterations; both stop on
        the gap.
    solver : {"fista", "bcd", "admm", "newton", "auto"}, default="fista"
        :func:`choose_solver`.
    verbose : int, default=0
        Progress lines of the solver (see :func:`~._fista.fista` and
        :func:`~._bcd.bcd`).

    Returns
    -------
    PenalizedFit
    """
    d, T = datafit.n_features, datafit.n_tasks
    V0 = penalty.init(np.zeros((d, T)) if variable0 is None else variable0)
    if stopping == "auto" and solver in ("auto", "bcd", "admm", "newton"):
        fast = choose_solver("auto", datafit, penalty, "dual_gap")
        stopping = resolve_stopping(stopping, penalty, datafit.loss, lambda2,
                                    solver if solver != "auto" else fast)
    stopping = resolve_stopping(stopping, penalty, datafit.loss, lambda2)
    solver = choose_solver(solver, datafit, penalty, stopping)
    if solver == "bcd" and callback is None:
        return _fit_bcd(datafit, penalty, lambda2, fit_intercept, V0, max_iter, tol,
                        verbose)
    if solver == "admm" and callback is None:
        return _fit_admm(datafit, penalty, lambda2, fit_intercept, V0, max_iter, tol,
                         verbose)
    if solver == "newton" and callback is None:
        b0 = datafit.intercept_only() if intercept0 is None or not fit_intercept \
            else np.asarray(intercept0, dtype=np.float64)
        return _fit_newton(datafit, penalty, lambda2, fit_intercept, V0, b0, max_iter,
                           tol, verbose)
    shape = V0.shape
    size = V0.size
    if not fit_intercept:
        b0 = np.zeros(T)
    elif intercept0 is None:
        b0 = datafit.intercept_only()
    else:
        b0 = np.asarray(intercept0, dtype=np.float64)
    zeros_b = np.zeros(T)

    def unpack(x):
        return x[:size].reshape(shape), (x[size:] if fit_intercept else zeros_b)

    def smooth(x, need_grad):
        V, b = unpack(x)
        W = penalty.coef(V)
        p_val, p_grad = penalty.smooth(V)
        if not np.isfinite(p_val):
            return np.inf, None
        if not need_grad:
            return datafit.value(W, b) + p_val + lambda2 * float(np.sum(W * W)), None
        val, gW, gb = datafit.value_and_grad(W, b)
        val += p_val + lambda2 * float(np.sum(W * W))
        if lambda2:
            gW = gW + 2.0 * lambda2 * W
        gV = penalty.coef_adjoint(gW)
        if p_grad is not None:
            gV = gV + p_grad
        g = gV.ravel()
        return val, (np.concatenate([g, gb]) if fit_intercept else g)

    def prox(x, step):
        V, b = unpack(x)
        pV = penalty.prox(V, step).ravel()
        return np.concatenate([pV, b]) if fit_intercept else pV

    def g_value(x):
        return penalty.value(unpack(x)[0])

    def gap(x):
        V, b = unpack(x)
        return final_gap(datafit, penalty, V, b, lambda2, fit_intercept)

    x0 = np.concatenate([V0.ravel(), b0]) if fit_intercept else V0.ravel().copy()
    res = fista(smooth, prox, g_value, x0, max_iter=max_iter, tol=tol,
                stopping=stopping, lipschitz=lipschitz, callback=callback, gap=gap,
                verbose=verbose)
    V, b = unpack(res.x)
    b = np.array(b, dtype=np.float64)
    return PenalizedFit(penalty.coef(V).copy(), b, V.copy(), res.objective_history,
                        res.n_iter, res.converged, res.lipschitz,
                        final_gap(datafit, penalty, V, b, lambda2, fit_intercept))


def lambda_max(datafit, penalty, *, fit_intercept=True):
    """Smallest ``lambda1`` with ``W = 0`` optimal, from the gradient at W = 0.

    The intercepts are at their optimum for ``W = 0``.  Penalties without such
    a threshold (``"graph"``, ``"cluster"``) use the lasso threshold
    ``max |grad|`` as the scale of the grid instead.
    """
    d, T = datafit.n_features, datafit.n_tasks
    b = datafit.intercept_only() if fit_intercept else np.zeros(T)
    _, G, _ = datafit.value_and_grad(np.zeros((d, T)), b)
    value = penalty.lambda_max(G)
    if value is None:
        value = float(np.abs(G).max())
    if not np.isfinite(value):
        # A derived quantity: say which input scale to change.
        raise ValueError(
            f"The largest useful lambda1 (the gradient at W = 0) is {value}: the "
            "inputs or targets are too large for float64. Standardize X (e.g. "
            "sklearn.preprocessing.StandardScaler) and rescale y.")
    return max(value, np.finfo(np.float64).tiny)


def lambda_grid(lam_max, n_lambdas=20, eps=1e-3):
    """Geometric grid from ``lam_max`` down to ``eps * lam_max``."""
    return np.geomspace(lam_max, eps * lam_max, n_lambdas)


def path_on_datafit(datafit, make_penalty, lambdas, *, lambda2=0.0,
                    fit_intercept=True, max_iter=1000, tol=1e-6,
                    stopping="relative_objective", solver="fista"):
    """Warm-started fits over ``lambdas`` (in the given order).

    ``make_penalty(lambda1)`` builds the penalty for one value.
    """
    fits = []
    V, b, L = None, None, None
    for lam in lambdas:
        fit = fit_penalized(datafit, make_penalty(lam), lambda2=lambda2,
                            fit_intercept=fit_intercept, variable0=V, intercept0=b,
                            max_iter=max_iter, tol=tol, stopping=stopping, lipschitz=L,
                            solver=solver)
        V, b, L = fit.variable, fit.intercept, fit.lipschitz
        fits.append(fit)
    return fits
