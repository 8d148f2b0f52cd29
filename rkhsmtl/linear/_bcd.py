r"""Block coordinate descent over feature rows (squared loss, row-separable penalties).

Needs: the squared loss through its per-task Gram statistics
(:class:`~._gram.TaskGram`) and a penalty that is a sum over the rows of ``W``
(``row_separable``: ``"l21"``, ``"lasso"``).

Row ``j`` of ``W`` with the other rows fixed minimizes

.. math::

    \sum_t \tfrac12 L_{jt} w_t^2 - z_t w_t + \lambda_1 \omega(w),\qquad
    L_{jt} = (G_t)_{jj} + 2\lambda_2,\quad z_t = L_{jt} w^{old}_t - g_{jt},

(``g`` the gradient of the smooth part), a group-lasso step whose scaling
differs from task to task when the tasks have their own data.  It is solved
exactly: with ``omega`` the Euclidean norm the solution is
``w_t = z_t rho / (L_t rho + lambda1)`` where the group norm ``rho`` is the
root of the convex decreasing ``sum_t z_t^2 / (L_t rho + lambda1)^2 = 1``,
found by Newton's method from a lower bound (monotone, quadratic); with the
l1 norm it is a soft threshold per entry.  An update of row ``j`` moves the
gradient by ``G_t[:, j] * delta_t``, so an epoch costs O(d^2 T).  With shared
inputs and one weight for every task (scikit-learn's ``MultiTaskLasso``
setting) all ``L_{jt}`` are equal and the step is the closed-form group soft
threshold ``max(0, 1 - lambda1 / ||z||) z / L_j``; the gradient update is then
one BLAS rank-one update of the working set's block, products with the full
Gram matrix only touch the nonzero rows of ``W``, and the solver runs with one
BLAS thread (all its products are small).

Intercepts are profiled out beforehand (:meth:`TaskGram.centered`).  Outer
loop: the working set is the support plus the rows whose dual constraint is
violated most (score ``||U_j|| / lambda1`` with ``U`` the negative loss
gradient), twice the support's size and doubled from round to round up to
four times the support (beyond that only after a round that failed to halve
the global gap, so the set reaches all rows if it must and stays small when
the support is); the subproblem on it is solved to 0.3
times the current global gap, then the global duality gap (:mod:`._gap`) is
checked against ``tol * objective``.  Every ``anderson`` epochs the last
iterates are extrapolated (Anderson acceleration, as in celer and skglm), and
for ``l21`` a Newton step on the current support follows (the objective is
smooth on the nonzero rows; preconditioned CG with the per-task blocks).
Each is kept only where it lowers the objective, so the objective never
increases and the gap still decides when to stop.  On School (collinear
one-hot blocks with a constant column) the Newton step cuts the epochs to a
1e-6 gap from about 2,400 to under 200; it runs only while the support has
at most ``NEWTON_MAX_ROWS`` rows (beyond, its factorizations cost more epochs
than it saves).  With a curvature per task the row loop skips, before any
work, the zero rows whose dual constraint holds.  numpy, and scipy's BLAS
``dger`` and LAPACK ``potrf``/``potri``.
"""
import time
from dataclasses import dataclass

import numpy as np
from scipy.linalg.blas import dger as _ger
from scipy.linalg.lapack import dpotrf as _potrf, dpotri as _potri

from ._gap import duality_gap
from ._gram import one_blas_thread as _one_blas_thread


@dataclass
class BCDResult:
    W: np.ndarray
    objective_history: np.ndarray
    n_iter: int
    converged: bool
    gap: float


#: the Newton step on the support runs only up to this many nonzero rows: its
#: T factorizations cost ``T k^3 / 3`` and its CG products ``T k^2`` each; with
#: k = 286 rows, T = 20 (random heterogeneous tasks, d = 500, 100 rows each)
#: three steps cost 0.44 s, about 45 epochs, and saved 7 of 42 epochs (fit
#: 0.43 s without them, 0.90 s with them); on School (k <= 28) they cut the
#: epochs from about 2,400 to under 200
NEWTON_MAX_ROWS = 128


def _report(message, start_time):
    print(f"{message}, elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)


def group_step(z, L, lam, tol=1e-15, max_newton=100, guess=None):
    """Exact minimizer of ``sum_t L_t w_t^2 / 2 - z_t w_t + lam ||w||_2``.

    Entries with ``L_t = 0`` must have ``z_t = 0`` (a coefficient that no
    loss term sees stays at 0).  The group norm ``rho`` solves
    ``||q(rho)|| = 1`` with ``q_t = z_t / (L_t rho + lam)``; Newton's method
    runs on ``1 / ||q|| - 1``, which is linear in ``rho`` when the ``L_t``
    are equal (one step) and nearly so otherwise, safeguarded by the bracket
    ``(||z|| - lam) / max L <= rho <= (||z|| - lam) / min L``; ``guess``
    (the row's current norm) starts it close to the root.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear._bcd import group_step
    >>> group_step(np.array([3.0, 4.0]), np.array([1.0, 1.0]), 1.0).round(12).tolist()
    [2.4, 3.2]
    """
    positive = L[L > 0]
    return _group_step(z, L, lam, L.max(), positive.min() if positive.size else 0.0,
                       tol, max_newton, guess)


def _group_step(z, L, lam, L_max, L_min, tol=1e-15, max_newton=100, guess=None):
    """:func:`group_step` with ``max L`` and the smallest positive ``L``
    given (constant per row: coordinate descent computes them once)."""
    sqrt_tol = tol ** 0.5
    nz = float(np.sqrt(z @ z))
    if nz <= lam:
        return np.zeros_like(z)
    lo = (nz - lam) / L_max
    hi = (nz - lam) / L_min
    rho = guess if guess is not None and lo < guess < hi else lo
    for _ in range(max_newton):
        den = L * rho + lam
        q = z / den
        qq = q @ q
        n = qq ** 0.5
        if abs(n - 1.0) <= tol:
            break
        if n > 1.0:
            lo = rho
        else:
            hi = rho
        S = (q * q) @ (L / den)
        new = rho + (n - 1.0) * n * n / S if S > 0 else 0.5 * (lo + hi)
        if not lo <= new <= hi:
            new = 0.5 * (lo + hi)
        # Newton converges quadratically on this nearly linear function: a
        # correction below sqrt(tol) leaves an error of order tol, so the
        # corrected root is final without another evaluation.
        if abs(new - rho) <= sqrt_tol * rho:
            rho = new
            break
        rho = new
    return z * (rho / (L * rho + lam))


def _lasso_step(z, L, lam):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sign(z) * np.maximum(np.abs(z) - lam, 0.0) / L
    return np.where(L > 0, out, 0.0)


def _row_scores(penalty, U):
    """Dual-constraint violation of each row (1 = on the boundary)."""
    if penalty.name == "lasso":
        return np.abs(U).max(axis=1) / penalty.lambda1
    return np.linalg.norm(U, axis=1) / penalty.lambda1


class _Subproblem:
    """The problem restricted to some rows of ``W`` (the others are 0)."""

    def __init__(self, stats, rows, penalty, lambda2):
        self.rows = rows
        # All rows: the statistics' own Gram (a (d, d) copy costs more than
        # the whole solve on a large shared problem).
        everything = len(rows) == stats.n_features
        if stats.shared:
            self.gram = stats.gram if everything else stats.gram[np.ix_(rows, rows)]
            self.scale = stats.scale
            diag = np.outer(self.gram.diagonal(), self.scale)
        else:
            self.gram = stats.gram if everything else stats.gram[np.ix_(rows, rows)]
            self.scale = None
            k = len(rows)
            diag = self.gram[np.arange(k), np.arange(k), :]
        # Shared inputs with one weight for every task (complete targets, no
        # sample weights, MultiTaskLasso's setting): every task sees the same
        # curvature, so a row update is a closed-form group soft threshold
        # (see _epoch_uniform).
        self.uniform = stats.shared and bool(np.all(self.scale == self.scale[0]))
        self._scaled_gram = None
        self._rows = None
        self._zeros = None
        self.C = stats.xty[rows]
        self.yy = stats.yy
        self.penalty, self.lambda2 = penalty, lambda2
        self.lip = diag + 2.0 * lambda2
        # A coefficient whose (centred) column is zero in its task affects
        # nothing but the penalty: it stays 0.
        self.dead = diag <= 0 if lambda2 > 0 else diag <= 1e-13 * max(
            float(diag.max(initial=0.0)), np.finfo(float).tiny)

    def matvec(self, W):
        # Only the nonzero rows of W contribute: with a sparse iterate (the
        # usual case of l21 / lasso) this is |support| / d of the dense cost.
        S = np.flatnonzero(np.any(W != 0, axis=1))
        if 2 * len(S) < W.shape[0]:
            if self.scale is not None:
                return (self.gram[:, S] @ W[S]) * self.scale
            return np.einsum("jit,jt->it", self.gram[S], W[S], optimize=False)
        if self.scale is not None:
            return (self.gram @ W) * self.scale
        return np.einsum("jit,jt->it", self.gram, W, optimize=False)

    def column(self, j):
        if self.scale is not None:
            return np.outer(self.gram[:, j], self.scale)
        return self.gram[j]

    def objective_and_gap(self, W, GW):
        # (Called once per epoch: on a small working set its fixed costs
        # are a good part of the solve, hence the dot products and the
        # constants computed once.)
        if self._zeros is None:
            self._zeros = np.zeros(W.shape[1])
            self._half_yy = 0.5 * float(self.yy.sum())
        loss = 0.5 * float(np.vdot(W, GW)) - float(np.vdot(W, self.C)) + self._half_yy
        zeros = self._zeros
        return duality_gap(self.penalty, self.lambda2, W, W, loss, GW - self.C, zeros,
                           None, zeros, fit_intercept=False)

    def epoch(self, W, grad):
        """One pass over the rows, updating ``W`` and the gradient in place;
        returns whether anything moved."""
        if self.uniform:
            return self._epoch_uniform(W, grad)
        return self._epoch_general(W, grad)

    def _epoch_general(self, W, grad):
        """:meth:`epoch` with a curvature per task (heterogeneous tasks,
        weights or missing targets): the exact group step (:func:`group_step`)
        per row.  The loop body is what costs here (Python, on (T,) vectors),
        so what does not change a row is skipped before any work: a zero row
        whose dual constraint holds (``||g_j|| <= lambda1``, the step's own
        test) stays zero, the step's bracket ``max L`` / ``min L`` is computed
        once per row, and the dead-coefficient mask is applied only to the
        rows that have one.  Same arithmetic as :meth:`_epoch_rowwise`."""
        lam, two_l2 = self.penalty.lambda1, 2.0 * self.lambda2
        l21 = self.penalty.name == "l21"
        if self._rows is None:
            positive = np.where(self.lip > 0, self.lip, np.inf).min(axis=1)
            self._rows = (list(self.lip), self.lip.max(axis=1).tolist(),
                          np.where(np.isfinite(positive), positive, 0.0).tolist(),
                          self.dead.any(axis=1).tolist())
        lips, L_max, L_min, has_dead = self._rows
        dead = self.dead
        nonzero = np.any(W != 0, axis=1).tolist()
        buf = np.empty_like(grad)
        moved = False
        for j in range(W.shape[0]):
            if not nonzero[j]:
                g = grad[j]
                if has_dead[j]:
                    g = np.where(dead[j], 0.0, g)
                if l21:
                    if float(np.sqrt(g @ g)) <= lam:
                        continue
                elif float(np.abs(g).max()) <= lam:
                    continue
            L = lips[j]
            w = W[j]
            z = L * w - grad[j]
            if has_dead[j]:
                z[dead[j]] = 0.0
            if l21:
                new = _group_step(z, L, lam, L_max[j], L_min[j],
                                  guess=(w @ w) ** 0.5 if nonzero[j] else None)
            else:
                new = _lasso_step(z, L, lam)
            delta = new - w
            if not delta.any():
                continue
            moved = True
            nonzero[j] = bool(new.any())
            W[j] = new
            np.multiply(self.column(j), delta, out=buf)
            grad += buf
            if two_l2:
                grad[j] += two_l2 * delta
        return moved

    def _epoch_rowwise(self, W, grad):
        """Reference epoch: the exact step on every row, no shortcut (the
        tests check :meth:`_epoch_general` against it)."""
        lam, two_l2 = self.penalty.lambda1, 2.0 * self.lambda2
        l21 = self.penalty.name == "l21"
        moved = False
        for j in range(W.shape[0]):
            L = self.lip[j]
            w = W[j]
            z = L * w - grad[j]
            z[self.dead[j]] = 0.0
            if l21:
                new = group_step(z, L, lam, guess=(w @ w) ** 0.5)
            else:
                new = _lasso_step(z, L, lam)
            delta = new - W[j]
            if not delta.any():
                continue
            moved = True
            W[j] = new
            grad += self.column(j) * delta
            if two_l2:
                grad[j] += two_l2 * delta
        return moved

    def _epoch_uniform(self, W, grad):
        """:meth:`epoch` when every task has the curvature ``L_j`` of row
        ``j``: the row minimizer is ``max(0, 1 - lambda1 / ||z||) z / L_j``
        (l21) or the soft threshold of ``z`` over ``L_j`` (lasso), and the
        gradient moves by the scaled Gram column times the change, so the
        loop body is a few small vector operations."""
        if self._scaled_gram is None:
            # Row j of the transpose is column j, contiguous for BLAS.
            self._scaled_gram = np.ascontiguousarray(self.gram.T * self.scale[0])
        G = self._scaled_gram
        lam, two_l2 = self.penalty.lambda1, 2.0 * self.lambda2
        l21 = self.penalty.name == "l21"
        lip = self.lip[:, 0].tolist()
        live = (~self.dead[:, 0]).tolist()
        nonzero = np.any(W != 0, axis=1).tolist()
        # The gradient update is a rank-one update; BLAS ger does it in place
        # (column-major), 2-3x faster than numpy's outer product and add.
        # (bcd runs with one BLAS thread: threaded ger on these small blocks
        # synchronizes its threads at every row.)
        gF = np.asfortranarray(grad)
        moved = self._rows_uniform(W, gF, G, lip, live, nonzero, lam, two_l2, l21)
        if gF is not grad:
            grad[...] = gF
        return moved

    @staticmethod
    def _rows_uniform(W, gF, G, lip, live, nonzero, lam, two_l2, l21):
        moved = False
        for j in range(W.shape[0]):
            if not live[j]:
                continue
            L = lip[j]
            w = W[j]
            z = L * w - gF[j]
            if l21:
                nz = float(z @ z) ** 0.5
                if nz <= lam:
                    if not nonzero[j]:
                        continue
                    new = np.zeros_like(z)
                else:
                    new = z * ((1.0 - lam / nz) / L)
            else:
                new = np.sign(z) * np.maximum(np.abs(z) - lam, 0.0) / L
            delta = new - w
            if not delta.any():
                continue
            moved = True
            nonzero[j] = nz > lam if l21 else bool(new.any())
            W[j] = new
            # In place: gF is column-major float64, which f2py passes through
            # (were it ever copied, the copy is written back).
            out = _ger(1.0, G[j], delta, a=gF, overwrite_a=1)
            if out is not gF:
                gF[...] = out
            if two_l2:
                gF[j] += two_l2 * delta
        return moved


def _anderson(iterates):
    """Extrapolation from the last iterates (Anderson, regularized LS)."""
    X = np.stack([w.ravel() for w in iterates])
    U = np.diff(X, axis=0)
    M = U @ U.T
    M = M + 1e-10 * max(np.trace(M), np.finfo(float).tiny) * np.eye(len(M))
    try:
        c = np.linalg.solve(M, np.ones(len(M)))
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(c)) or c.sum() == 0:
        return None
    c /= c.sum()
    return (c @ X[1:]).reshape(iterates[0].shape)


def _newton_step(sub, W, F, max_cg=60):
    """Newton step on the support of an ``l21`` iterate, or None.

    On the nonzero rows the objective is smooth; its Hessian is the per-task
    Gram blocks plus, per row, ``lambda1 / ||w_j|| (I - u_j u_j^T)`` across
    tasks.  Preconditioned CG with the per-task blocks (the part of the
    penalty's curvature inside each task included) solves the Newton system;
    the neglected coupling has one direction per row, so CG needs few steps.
    The step (halved up to 10 times) is kept only when it lowers the
    objective: coordinate descent and the gap remain in charge.

    The CG vectors are kept task-major, (T, k), so that the Hessian and the
    preconditioner are batched BLAS products with the (T, k, k) blocks, and
    the blocks are inverted through their Cholesky factors (one BLAS thread:
    see :func:`bcd`).
    """
    S = np.flatnonzero(np.any(W != 0, axis=1))
    if not 0 < len(S) <= NEWTON_MAX_ROWS:
        return None
    lam, two_l2 = sub.penalty.lambda1, 2.0 * sub.lambda2
    WS = W[S]
    rho = np.sqrt(np.einsum("jt,jt->j", WS, WS))
    k = len(S)
    if sub.scale is not None:
        GS = sub.gram[np.ix_(S, S)][None] * sub.scale[:, None, None]
    else:
        GS = np.ascontiguousarray(np.moveaxis(sub.gram[np.ix_(S, S)], 2, 0))
    # Task-major (T, k) copies of the support's rows.
    Wt = np.ascontiguousarray(WS.T)
    Ut = Wt / rho
    GW = sub.matvec(W)
    grad = ((GW - sub.C)[S]).T + two_l2 * Wt + lam * Ut
    curv = lam / rho

    def blocks(A, Vt):
        return np.matmul(A, Vt[:, :, None])[:, :, 0]

    def hess(Dt):
        return (blocks(GS, Dt) + two_l2 * Dt
                + curv * (Dt - Ut * np.einsum("tj,tj->j", Ut, Dt)))

    P = GS.copy()
    diag = np.arange(k)
    P[:, diag, diag] += two_l2 + curv * (1.0 - Ut * Ut)
    scale = float(np.abs(P).max())
    P[:, diag, diag] += 1e-12 * scale
    Pinv = _spd_inverses(P)
    if Pinv is None:
        return None

    D = np.zeros_like(Wt)
    R = -grad
    Z = blocks(Pinv, R)
    Pd = Z.copy()
    rz = float(np.sum(R * Z))
    r0 = np.sqrt(float(np.sum(R * R)))
    for _ in range(max_cg):
        HP = hess(Pd)
        pHp = float(np.sum(Pd * HP))
        # Flat direction (collinear columns with a radial row move, more
        # features than rows): no curvature to trust; stop CG there.
        if pHp <= 1e-10 * scale * float(np.sum(Pd * Pd)):
            break
        alpha = rz / pHp
        D += alpha * Pd
        R -= alpha * HP
        if np.sqrt(float(np.sum(R * R))) <= 1e-10 * r0:
            break
        Z = blocks(Pinv, R)
        rz_new = float(np.sum(R * Z))
        Pd = Z + (rz_new / rz) * Pd
        rz = rz_new
    D = D.T
    # Trust region: the step may at most double the support's norm.  Far
    # away the Gram form of the loss (0.5 w'Gw - c'w + const) loses its
    # digits to cancellation and could "accept" a meaningless point.
    norm_D = np.sqrt(float(np.sum(D * D)))
    radius = np.sqrt(float(np.sum(WS * WS)))
    step = 1.0 if norm_D <= radius else radius / norm_D
    for _ in range(10):
        W_new = W.copy()
        W_new[S] = WS + step * D
        GW_new = sub.matvec(W_new)
        F_new, gap_new = sub.objective_and_gap(W_new, GW_new)
        if F_new < F:
            return W_new, GW_new, F_new, gap_new
        step *= 0.5
    return None


def _spd_inverses(P):
    """Inverses of the symmetric positive definite blocks ``P[t]`` (Cholesky,
    LAPACK ``potrf``/``potri``: half the flops of ``np.linalg.inv``), or None
    when one is not numerically positive definite."""
    out = np.empty_like(P)
    lower = np.tril(np.ones(P.shape[1:], dtype=bool), -1)
    for t in range(P.shape[0]):
        c, info = _potrf(P[t], lower=1)
        if info != 0:
            return None
        inv, info = _potri(c, lower=1)
        if info != 0:
            return None
        # potri fills the lower triangle only.
        out[t] = np.where(lower, inv, inv.T)
    return out


def _solve_subproblem(sub, W, target_gap, max_epochs, anderson, history, min_epochs=0,
                      newton=True):
    """Epochs on ``sub`` until its gap is at most ``target_gap`` or an epoch
    leaves ``W`` unchanged (a fixed point: optimal up to rounding).  With
    ``min_epochs >= 1`` the starting gap is not evaluated (on small problems
    a gap costs as much as an epoch on the working set)."""
    GW = sub.matvec(W)
    grad = GW - sub.C + 2.0 * sub.lambda2 * W
    iterates = [W.copy()]
    gap = np.inf if min_epochs >= 1 else sub.objective_and_gap(W, GW)[1]
    epochs = 0
    fixed = False
    while epochs < max_epochs and (gap > target_gap or epochs < min_epochs):
        fixed = not sub.epoch(W, grad)
        epochs += 1
        if fixed:
            break
        if anderson and epochs % anderson == 0:
            iterates.append(W.copy())
            W_e = _anderson(iterates[-(anderson + 1):])
            iterates = [W.copy()]
            # Same trust region as the Newton step (see there).
            if W_e is not None and np.sum((W_e - W) ** 2) <= np.sum(W * W):
                GW_e = sub.matvec(W_e)
                F_e, gap_e = sub.objective_and_gap(W_e, GW_e)
                GW = sub.matvec(W)
                F, gap = sub.objective_and_gap(W, GW)
                if F_e < F:
                    W[...] = W_e
                    GW, F, gap = GW_e, F_e, gap_e
                # (For the lasso a Newton step on the support did not pay:
                # on collinear columns the l1 split is decided at a vertex.)
                if newton and sub.penalty.name == "l21":
                    out = _newton_step(sub, W, F)
                    if out is not None:
                        W[...] = out[0]
                        GW, F, gap = out[1:]
                # Rebuilt from scratch: no drift from the incremental updates.
                grad = GW - sub.C + 2.0 * sub.lambda2 * W
                history.append(F)
                continue
        elif anderson:
            iterates.append(W.copy())
        GW = grad + sub.C - 2.0 * sub.lambda2 * W
        F, gap = sub.objective_and_gap(W, GW)
        history.append(F)
    return epochs, fixed


def bcd(stats, penalty, lambda2, W0, *, max_iter=1000, tol=1e-6, working_set=True,
        anderson=5, ws_start=10, verbose=0):
    """Minimize ``L(W) + lambda2 ||W||^2 + penalty(W)`` to a relative gap ``tol``.

    Parameters
    ----------
    stats : TaskGram
        Gram statistics; centred ones when the intercepts are profiled out.
        Entries ``xsum`` must be 0 (no intercept left in the problem).
    penalty : L21 or Lasso
    lambda2 : float
    W0 : ndarray of shape (d, T)
    max_iter : int
        Maximum number of epochs (passes over the working set).
    tol : float
        Stop when the duality gap is at most ``tol * objective``.
    working_set : bool
    anderson : int
        Extrapolate every ``anderson`` epochs (0 disables it).
    ws_start : int
        First working-set size.
    verbose : int, default=0
        When > 0, print the objective, the duality gap, the working-set size
        and the elapsed seconds at every global gap check (once per
        working-set round), then a final line.

    Returns
    -------
    BCDResult
    """
    # One BLAS thread: every product here is small (working-set blocks,
    # support-sparse Gram products, rank-one updates); threads cost more than
    # they give, and on a busy machine 10-20x more.
    with _one_blas_thread():
        return _bcd(stats, penalty, lambda2, W0, max_iter, tol, working_set, anderson,
                    ws_start, verbose)


def _bcd(stats, penalty, lambda2, W0, max_iter, tol, working_set, anderson, ws_start,
         verbose):
    start_time = time.perf_counter()
    d, T = stats.n_features, stats.n_tasks
    W = np.array(W0, dtype=np.float64, copy=True)
    all_rows = np.arange(d)
    full = _Subproblem(stats, all_rows, penalty, lambda2)
    W[full.dead] = 0.0
    history = []
    epochs = 0
    grow = min(ws_start, d)
    last_gap = None
    converged = False
    while True:
        GW = full.matvec(W)
        F, gap = full.objective_and_gap(W, GW)
        history.append(F)
        if verbose > 0:
            _report(f"Epoch {epochs}: objective = {F:.10e}, duality gap = {gap:.3e}",
                    start_time)
        # At least one epoch, so that n_iter_ >= 1 even from an optimal start.
        if gap <= tol * abs(F) and epochs > 0:
            converged = True
            break
        if epochs >= max_iter:
            break
        if working_set and d > ws_start:
            scores = _row_scores(penalty, stats.xty - GW)
            support = np.flatnonzero(np.any(W != 0, axis=1))
            scores[support] = np.inf
            # Twice the support, growing by doubling as long as the growth
            # stays within 4 times the support; past that only after a round
            # that did not halve the global gap (rows are missing).  Plain
            # doubling took a 25-row support through sets of 160, 320 and all
            # 500 rows (MultiTaskLasso's setting, n=1000, d=500, T=20), one
            # epoch each; with the cap it stops at 100.
            stalled = last_gap is not None and gap > 0.5 * last_gap
            last_gap = gap
            cap = d if stalled else max(4 * len(support), ws_start)
            ws_size = min(d, max(2 * len(support), min(grow, cap)))
            grow = 2 * ws_size
            rows = np.sort(np.argsort(-scores, kind="stable")[:ws_size])
        else:
            rows = all_rows
        sub = full if len(rows) == d else _Subproblem(stats, rows, penalty, lambda2)
        target = max(0.3 * gap, tol * abs(F)) if len(rows) < d else tol * abs(F)
        Wsub = W[rows]
        # At least one epoch: the global gap, just checked, is above the
        # target on all rows; on a working set an epoch costs about what its
        # starting gap would (at worst one epoch more than needed).
        n, fixed = _solve_subproblem(sub, Wsub, target, max_iter - epochs, anderson,
                                     history, min_epochs=1)
        W[rows] = Wsub
        epochs += n
        if len(rows) == d and (fixed or n == 0):
            # Exact block minimization no longer moves: optimal up to rounding
            # (the gap cannot go below its rounding floor, e.g. tol=1e-15).
            GW = full.matvec(W)
            F, gap = full.objective_and_gap(W, GW)
            converged = n > 0 or gap <= tol * abs(F)
            converged = converged or fixed
            break
    # Exact block minimization and the accepted extrapolations never raise
    # the objective; the recomputations of the same value (incremental
    # gradient, then from scratch) differ in the last bits, which the
    # record must not show as an increase.
    history = np.minimum.accumulate(np.asarray(history))
    if verbose > 0:
        status = (f"converged after {epochs} epoch(s)" if converged else
                  f"stopped at max_iter={max_iter} epochs without converging")
        _report(f"Coordinate descent {status}: objective = {history[-1]:.10e}, "
                f"duality gap = {gap:.3e}", start_time)
    return BCDResult(W, history, epochs, converged, gap)
