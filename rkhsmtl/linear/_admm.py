r"""ADMM in the per-task Gram metric (squared loss, every convex penalty).

Needs: the squared loss through its per-task Gram statistics
(:class:`~._gram.TaskGram`, intercepts profiled out) and a penalty with a
proximal operator.  The problem ``f(W) + g(Z)`` subject to ``W = Z`` splits
into

* ``f``: the loss, the ridge and the smooth part of ``"graph"``.  Its
  proximal step ``argmin f(W) + rho ||W - R||^2 / 2`` is one linear solve
  per task, ``(G_t + (2 lambda2 + rho) I) w_t = c_t + rho r_t``, done with
  the eigendecomposition of every ``G_t`` computed once: any ``rho`` costs
  two (d, d) products per task, so ``rho`` can adapt for free.  With the
  graph term the tasks are coupled; the step is then preconditioned CG,
  warm-started, preconditioned by the per-task blocks (also by their
  eigendecompositions);
* ``g``: the non-smooth penalty through its prox (``"cluster"``: the prox of
  the cluster norm with ``M`` minimized out, see
  :meth:`~.penalties.Cluster.prox_coef`).  For the ``W = P + Q`` models the
  variable is the pair and ``f(P + Q)``'s step reduces to one solve in
  ``P + Q`` at ``rho / 2``.

This is the method of choice where coordinate descent does not apply
(``"trace"``, ``"cluster"``, the ``W = P + Q`` models, ``"graph"``): the
exact per-task solves remove the ill-conditioning that makes FISTA crawl on
School (collinear one-hot blocks), and ``rho`` follows residual balancing
(Boyd et al. 2011, section 3.4.1).  The stopping rule is the certified
duality gap (:mod:`._gap`) of the penalty's iterate ``Z``, evaluated every
``check_every`` iterations.  ``"graph"`` without l1 part is a quadratic:
one CG solve, no splitting.  numpy only.
"""
import time

import numpy as np

from ._bcd import BCDResult
from .penalties import PairPenalty


def _report(message, start_time):
    print(f"{message}, elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)


class QuadraticStep:
    """Proximal step of ``f(W) = L(W) + lambda2 ||W||^2 [+ graph term]``.

    Parameters
    ----------
    stats : TaskGram
        Profiled statistics (no intercept left: ``xsum`` is 0).
    lambda2 : float
    laplacian : ndarray of shape (T, T), default=None
        ``lambda1 G G^T`` of ``"graph"`` (the term ``tr(W K W^T)``).
    """

    def __init__(self, stats, lambda2, laplacian=None):
        self.stats, self.lambda2 = stats, lambda2
        if stats.shared:
            ev, Q = np.linalg.eigh(stats.gram)
            self.ev = np.outer(np.maximum(ev, 0.0), stats.scale).T  # (T, d)
            self.Q = Q
        else:
            ev, Q = np.linalg.eigh(np.moveaxis(stats.gram, 2, 0))
            self.ev, self.Q = np.maximum(ev, 0.0), Q
        self.K = laplacian
        self.C = stats.xty
        self.n_cg = 0

    def _apply_inverse(self, R, shift):
        """``(G_t + shift_t I)^{-1} r_t`` for every task; ``shift`` (T,) or scalar."""
        den = self.ev + np.reshape(shift, (-1, 1))
        if self.Q.ndim == 2:
            return self.Q @ ((self.Q.T @ R) / den.T)
        Rt = np.einsum("tji,jt->ti", self.Q, R, optimize=False) / den
        return np.einsum("tij,tj->it", self.Q, Rt, optimize=False)

    def hessian(self, D, rho):
        out = self.stats.matvec(D) + (2.0 * self.lambda2 + rho) * D
        if self.K is not None:
            out += 2.0 * (D @ self.K)
        return out

    def solve(self, R, rho, W0=None, rtol=1e-10, max_cg=500):
        """``argmin f(W) + rho ||W - R||^2 / 2`` (``R=None``: ``rho`` = 0).

        Direct with the eigendecompositions, or CG with the graph term
        (``self.n_cg`` counts its iterations)."""
        rhs = self.C if R is None else self.C + rho * R
        base = 2.0 * self.lambda2 + rho
        if self.K is None:
            return self._apply_inverse(rhs, base)
        diag = base + 2.0 * np.diag(self.K)
        floor = 1e-12 * max(float(self.ev.max(initial=0.0)), 1.0)
        diag = np.maximum(diag, floor)
        W = np.zeros_like(rhs) if W0 is None else W0.copy()
        res = rhs - self.hessian(W, rho)
        Z = self._apply_inverse(res, diag)
        P = Z.copy()
        rz = float(np.sum(res * Z))
        stop = rtol * np.sqrt(float(np.sum(rhs * rhs)))
        for _ in range(max_cg):
            if np.sqrt(float(np.sum(res * res))) <= stop:
                break
            self.n_cg += 1
            HP = self.hessian(P, rho)
            pHp = float(np.sum(P * HP))
            if pHp <= 0:
                break
            alpha = rz / pHp
            W += alpha * P
            res -= alpha * HP
            Z = self._apply_inverse(res, diag)
            rz_new = float(np.sum(res * Z))
            P = Z + (rz_new / rz) * P
            rz = rz_new
        return W


def admm(stats, penalty, lambda2, V0, certificate, *, max_iter=20_000, tol=1e-6,
         check_every=10, rho=None, state=None, verbose=0):
    """Minimize ``L(W) + lambda2 ||W||^2 + penalty`` to a relative gap ``tol``.

    Parameters
    ----------
    stats : TaskGram
        Profiled statistics (intercepts minimized out, ``xsum`` = 0).
    penalty : Penalty
    lambda2 : float
    V0 : ndarray
        Start, in the penalty's variable (``[W; M]`` for ``"cluster"``).
    certificate : callable
        ``certificate(V) -> (objective, gap)`` at a variable ``V``.
    max_iter : int
        Maximum number of ADMM iterations.
    tol : float
        Stop when the gap is at most ``tol * objective``.
    check_every : int
        Iterations between two gap evaluations (and ``rho`` updates).
    rho : float, default=None
        Initial penalty parameter; ``lambda1`` when None.
    state : dict, default=None
        Warm start of the multiplier: ``state["U"]`` and ``state["rho"]``
        from a previous call on a nearby problem (proximal Newton's
        successive models) are used and replaced by this call's.
    verbose : int
        When > 0, print the objective, the gap and ``rho`` at every check.

    Returns
    -------
    BCDResult
        The penalty's variable as ``W``.
    """
    start_time = time.perf_counter()
    name = penalty.name
    graph = name == "graph"
    step = QuadraticStep(stats, lambda2, penalty.coupling() if graph else None)
    pair = isinstance(penalty, PairPenalty)

    def variable(Z):
        return penalty.complete(Z) if name == "cluster" else Z

    Z = penalty.coef(V0).copy() if name == "cluster" else np.array(V0, dtype=float)
    history = []
    if graph and penalty.lambda3 == 0:
        # A quadratic: preconditioned CG is the whole fit, its tolerance
        # tightened (warm-started) until the gap certifies the result.
        F, gap = certificate(variable(Z))
        history.append(F)
        W = Z
        for rtol in (1e-6, 1e-8, 1e-10, 1e-12, 1e-14):
            W = step.solve(None, 0.0, W0=W, rtol=rtol, max_cg=max_iter)
            F, gap = certificate(W)
            history.append(F)
            if verbose > 0:
                _report(f"CG to residual {rtol:.0e} ({step.n_cg} iterations): "
                        f"objective = {F:.10e}, duality gap = {gap:.3e}", start_time)
            if gap <= tol * abs(F) or step.n_cg >= max_iter:
                break
        history = np.minimum.accumulate(np.array(history))
        return BCDResult(W, history, max(step.n_cg, 1), bool(gap <= tol * abs(F)), gap)

    U = np.zeros_like(Z)
    rho = float(rho) if rho else float(getattr(penalty, "lambda1", 1.0))
    if state is not None and np.shape(state.get("U")) == Z.shape:
        U, rho = state["U"].copy(), state["rho"]
    W = Z.copy()
    F, gap = certificate(variable(Z))
    history.append(F)
    best = (F, gap, Z.copy())
    converged = False
    k = 0
    while k < max_iter:
        R = Z - U
        if pair:
            a, b = R[0], R[1]
            s = step.solve(a + b, 0.5 * rho, W0=W[0] + W[1])
            W = np.stack([0.5 * (s + a - b), 0.5 * (s - a + b)])
        else:
            W = step.solve(R, rho, W0=W)
        Z_old = Z
        if name == "cluster":
            Z = penalty.prox_coef(W + U, 1.0 / rho)
        else:
            Z = penalty.prox(W + U, 1.0 / rho)
        U += W - Z
        k += 1
        if k % check_every and k < max_iter:
            continue
        F, gap = certificate(variable(Z))
        # The loss block's iterate gives a better dual point: the ADMM
        # multiplier rho U is exactly in the subdifferential of the penalty
        # at Z, and the negative loss gradient at W differs from it by
        # rho (Z_k - Z_{k+1}) only.  Its dual value P(W) - gap(W) is a
        # lower bound of the optimum like any other.
        F_W, gap_W = certificate(variable(W))
        gap = max(min(gap, F - (F_W - gap_W)), 0.0)
        if F <= best[0]:
            best = (F, gap, Z.copy())
        history.append(best[0])
        if verbose > 0:
            _report(f"Iteration {k}: objective = {F:.10e}, duality gap = {gap:.3e}, "
                    f"rho = {rho:.3g}", start_time)
        if gap <= tol * abs(F):
            converged = True
            best = (F, gap, Z.copy())
            break
        # Residual balancing: the primal and dual residuals within 10x.
        r_norm = np.sqrt(float(np.sum((W - Z) ** 2)))
        s_norm = rho * np.sqrt(float(np.sum((Z - Z_old) ** 2)))
        if r_norm > 10.0 * s_norm:
            rho *= 2.0
            U *= 0.5
        elif s_norm > 10.0 * r_norm:
            rho *= 0.5
            U *= 2.0
    F, gap, Z = best
    if state is not None:
        state["U"], state["rho"] = U, rho
    if verbose > 0:
        status = (f"converged after {k} iteration(s)" if converged else
                  f"stopped at max_iter={max_iter} iterations without converging")
        _report(f"ADMM {status}: objective = {F:.10e}, duality gap = {gap:.3e}",
                start_time)
    return BCDResult(variable(Z), np.asarray(history), k, converged, gap)
