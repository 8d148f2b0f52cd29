"""One accelerated proximal-gradient engine (FISTA) for every linear model.

Beck & Teboulle (2009) with a backtracking line search on the Lipschitz
constant and a *monotone restart*: when an accelerated step would increase
the objective, the momentum is dropped and the step is redone from the last
iterate, where a plain proximal-gradient step with sufficient decrease can
only lower it.  The recorded objective is therefore non-increasing.

Stopping follows MALSAR's ``opts.tFlag``:

* ``"absolute_objective"``: ``|F_k - F_{k-1}| <= tol``;
* ``"relative_objective"``: ``|F_k - F_{k-1}| <= tol * |F_{k-1}|``;
* ``"max_iter"``: run exactly ``max_iter`` iterations (unless the iterate stops
  moving altogether);
* ``"dual_gap"``: ``gap(x_k) <= tol * |F_k|``, checked every ``gap_every``
  iterations with the caller's certificate ``gap`` (see :mod:`._gap`).

The engine is generic: it works on one flat float64 numpy vector and knows
nothing about tasks or penalties.
"""
import time
from dataclasses import dataclass

import numpy as np

STOPPING_RULES = ("relative_objective", "absolute_objective", "max_iter", "dual_gap")

_SCALE_FIX = ("the inputs are too large in scale; standardize X (e.g. "
              "sklearn.preprocessing.StandardScaler) or divide it by a constant")


@dataclass
class FistaResult:
    x: np.ndarray
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    lipschitz: float


def _report(message, start_time):
    print(f"{message}, elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)


def estimate_lipschitz(smooth_grad, x0, n_power=8, random_state=0):
    """Rough Lipschitz constant of the gradient near ``x0``.

    A few power iterations on the finite-difference Hessian-vector product
    ``(grad(x0 + h v) - grad(x0)) / h``; exact for a quadratic.  It estimates
    the top eigenvalue from below, and the line search corrects the rest.
    """
    rng = np.random.default_rng(random_state)
    g0 = smooth_grad(x0)
    if g0 is None:
        return 1.0
    v = rng.standard_normal(x0.shape)
    v /= np.linalg.norm(v)
    scale = max(1.0, float(np.linalg.norm(x0)))
    h = 1e-4 * scale
    L = 0.0
    for _ in range(n_power):
        g = smooth_grad(x0 + h * v)
        if g is None:
            break
        Hv = (g - g0) / h
        L = float(np.linalg.norm(Hv))
        if not np.isfinite(L) or L == 0.0:
            break
        v = Hv / L
    return L if np.isfinite(L) and L > 0 else 1.0


def fista(smooth, prox, nonsmooth_value, x0, *, max_iter=1000, tol=1e-6,
          stopping="relative_objective", lipschitz=None, callback=None, gap=None,
          gap_every=10, verbose=0):
    """Minimize ``f(x) + g(x)`` with ``f`` smooth and ``g`` prox-friendly.

    Parameters
    ----------
    smooth : callable
        ``smooth(x, need_grad)`` returns ``(f(x), grad f(x) or None)``; may
        return ``(inf, None)`` outside the domain of ``f``.
    prox : callable
        ``prox(v, step)`` returns ``argmin_x g(x) + ||x - v||^2 / (2 step)``.
    nonsmooth_value : callable
        ``g(x)``.
    x0 : ndarray of shape (n,)
        Starting point (a warm start); must be in the domain of ``f``.
    max_iter : int
    tol : float
    stopping : {"relative_objective", "absolute_objective", "max_iter", "dual_gap"}
    lipschitz : float, default=None
        Initial Lipschitz guess; estimated by power iteration when None.
    callback : callable, default=None
        ``callback(k, F_k)`` after each iteration; returning True stops.
    gap : callable, default=None
        ``gap(x)`` returns a duality gap at ``x``; needed by ``"dual_gap"``.
    gap_every : int, default=10
        Iterations between two gap evaluations.
    verbose : int, default=0
        When > 0, print the objective, its relative change and the elapsed
        seconds at the start and every ``max(1, max_iter // 20)`` iterations,
        then a final line.

    Returns
    -------
    FistaResult
        ``x``, the objective history (entry 0 is the start), the number of
        iterations, whether the stopping rule was met, the final constant.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear import fista
    >>> smooth = lambda x, need_grad: (0.5 * float(x @ x) - float(x.sum()), x - 1.0)
    >>> prox = lambda v, step: np.maximum(v, 2.0)
    >>> res = fista(smooth, prox, lambda x: 0.0, np.array([3.0, 0.0]),
    ...             lipschitz=1.0)
    >>> res.x.round(3).tolist(), res.converged
    ([2.0, 2.0], True)
    """
    start_time = time.perf_counter()
    x = np.array(x0, dtype=np.float64, copy=True)
    fx, gx = smooth(x, True)
    if not np.isfinite(fx):
        raise ValueError("The objective is not finite at the starting point "
                         f"(got {fx}): {_SCALE_FIX}.")
    if gx is not None and not np.all(np.isfinite(gx)):
        raise ValueError(f"The gradient of the loss at the start is not finite: {_SCALE_FIX}.")
    if stopping == "dual_gap" and gap is None:
        raise ValueError("stopping='dual_gap' needs a gap function; pass gap=.")
    F = fx + nonsmooth_value(x)
    L = lipschitz if lipschitz else estimate_lipschitz(lambda z: smooth(z, True)[1], x)
    if not np.isfinite(L):
        raise ValueError(f"The Lipschitz constant of the loss gradient is not finite "
                         f"(got {L}): {_SCALE_FIX}.")
    history = [F]
    every = max(1, max_iter // 20)
    if verbose > 0:
        _report(f"Iteration 0: objective = {F:.10e}", start_time)
    y, fy, gy = x, fx, gx
    t = 1.0
    converged = False
    k = 0
    eps = np.finfo(np.float64).eps
    while k < max_iter:
        # Backtracking: grow L until the quadratic model majorizes f at x_new.
        while True:
            x_new = prox(y - gy / L, 1.0 / L)
            d = x_new - y
            f_new, _ = smooth(x_new, False)
            bound = fy + float(gy @ d) + 0.5 * L * float(d @ d)
            if f_new <= bound + 10 * eps * max(1.0, abs(fy)):
                break
            L *= 2.0
            if not np.isfinite(L) or L > 1e300:
                raise ValueError("Line search failed: the Lipschitz constant of the "
                                 f"loss gradient overflows float64; {_SCALE_FIX}.")
        F_new = f_new + nonsmooth_value(x_new)
        if F_new > F and y is not x:
            # Monotone restart: drop the momentum and redo the step from x.
            t, y, fy, gy = 1.0, x, fx, smooth(x, True)[1]
            gx = gy
            continue
        k += 1
        step_size = float(np.linalg.norm(x_new - x))
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_new
        F_old = F
        if F_new <= F:
            x_prev, x, F, fx = x, x_new, F_new, f_new
        else:
            # Only reachable when y is x and rounding made F_new > F by a hair.
            x_prev = x
        history.append(F)
        if verbose > 0 and k % every == 0:
            _report(f"Iteration {k}: objective = {F:.10e}, relative change = "
                    f"{abs(F_old - F) / max(abs(F_old), 1e-300):.3e}", start_time)
        if callback is not None and callback(k, F):
            converged = True
            break
        change = abs(F_old - F)
        if stopping == "relative_objective" and change <= tol * abs(F_old):
            converged = True
            break
        if stopping == "absolute_objective" and change <= tol:
            converged = True
            break
        if stopping == "dual_gap" and (k % gap_every == 0 or k == max_iter):
            last_gap = gap(x)
            if last_gap <= tol * abs(F):
                converged = True
                break
        if step_size <= eps * max(1.0, float(np.linalg.norm(x))):
            # The iterate no longer moves: a fixed point of the prox-gradient map.
            converged = True
            break
        t = t_new
        y = x + beta * (x - x_prev) if beta > 0 else x
        fy, gy = smooth(y, True)
        if not np.isfinite(fy):
            t, y, fy, gy = 1.0, x, fx, smooth(x, True)[1]
    if stopping == "max_iter" and k >= max_iter:
        converged = True
    if verbose > 0:
        status = (f"converged after {k} iteration(s)" if converged else
                  f"stopped at max_iter={max_iter} without meeting the stopping rule")
        _report(f"FISTA {status}: objective = {F:.10e}", start_time)
    return FistaResult(x, np.asarray(history), k, converged, L)
