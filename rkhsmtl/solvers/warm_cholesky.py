r"""Heterogeneous tasks, a sequence of task matrices: PCG on the last Cholesky factor.

The alternating engine of the learned structures solves the system of
:mod:`rkhsmtl.solvers.cholesky`,

.. math::

    M(A)\,\tilde c + \tilde E b = D y, \qquad \tilde E^\top \tilde c = 0,
    \qquad M(A) = D (K_N \circ E A E^\top) D + \alpha I, \quad \tilde E = D E,

for a task matrix that moves little from one step to the next.  A Cholesky
factorization made at an earlier matrix :math:`A_0` gives the constraint
preconditioner

.. math::

    P r = M_0^{-1} r - Z_E S_0^{-1} Z_E^\top r,
    \qquad Z_E = M_0^{-1} \tilde E, \quad S_0 = \tilde E^\top Z_E,

which maps onto the intercept constraint and *is* the exact bordered solve at
:math:`A_0`; conjugate gradients warm started from the previous coefficients
then need a few iterations per step, each one pass over K (the matvec, by
task blocks) and one pair of triangular solves, instead of an O(N^3/3)
factorization.  When the iteration counts say the factor has gone stale the
matrix is refactored at the current A, in the factor's own buffer, so memory
stays at the kernel plus one factor.  Stale means: the iterations beyond
:data:`IDEAL_ITER` per solve, summed since the last factorization, have cost
as much as a factorization (rent or buy), or one solve has not converged
within ``max_iter`` (it is then finished by the new factor).  The rule counts
iterations, not seconds, so a fit is deterministic.

Rows must be sorted by task (``offsets[t]:offsets[t+1]`` is task t).
"""
import numpy as np

from .._backend import is_cupy, is_numpy, linalg
from .._backend.linalg import one_blas_thread
from . import _hadamard, cholesky
from .shifted_lanczos import solve_shifted

#: Iterations a solve needs on a fresh factor while A moves as in the late
#: steps of an alternating fit (measured on School: 2 to 3 at tol=1e-10).
IDEAL_ITER = 2

#: Factor in float32 (numpy, float64 kernels): the factor only preconditions
#: (PCG runs in float64 on the float64 kernel, so the solution is as exact),
#: and half the bytes make the factorization and every preconditioner
#: application about twice as fast.  A matrix that float32 cannot factor
#: falls back to float64.
MIXED_PRECISION = True


def factorization_cost(n_rows, n_tasks):
    """Cost of one factorization, in PCG iterations.

    A factorization costs N^3/3 flops plus 2 N^2 T for the intercept columns,
    at BLAS-3 speed; a PCG iteration streams K and the factor once each
    (about 4 N^2 flops) at memory speed, plus O(N T) work, taken together as
    16 times slower per flop (profiled on School, N = 2,772, T = 139, on the
    2-core machine of docs/benchmarks.md, shared, single-threaded BLAS: a
    factorization with its intercept columns took 1.9 s, an iteration 0.1 s).
    """
    return (n_rows / 3.0 + 2.0 * n_tasks) / 64.0


def task_block_matmat(xp, K, offsets, u, E=None):
    """``K @ (u[:, None] * E)`` (N, T) in one pass over K.

    Column t is ``K[:, rows_t] @ u[rows_t]``: each task's rows of the
    symmetric K times that task's entries of u, so the product costs 2 N^2
    flops instead of the 2 N^2 T of a dense product with ``u * E``.
    """
    n_tasks = len(offsets) - 1
    if is_numpy(xp) or is_cupy(xp):
        Zt = xp.zeros((n_tasks, K.shape[0]), dtype=K.dtype)
        for t in range(n_tasks):
            lo, hi = int(offsets[t]), int(offsets[t + 1])
            if hi > lo:
                Zt[t] = u[lo:hi] @ K[lo:hi]
        return xp.matrix_transpose(Zt)
    return K @ (u[:, None] * E)


def task_sums(xp, codes, n_tasks, v, E=None):
    """Per-task sums of v (N,): ``E^T v`` in O(N) (bincount on numpy)."""
    if is_numpy(xp):
        return np.bincount(codes, weights=v, minlength=n_tasks)
    return xp.matrix_transpose(E) @ v


class WarmCholeskySequence:
    """Solve the heterogeneous system for a sequence of task matrices.

    Parameters
    ----------
    xp : namespace
    K : array of shape (N, N)
        The input kernel, rows sorted by task (read, never written).
    codes : ndarray of shape (N,)
        Task code of every row (sorted).
    offsets : ndarray of shape (T + 1,)
    weights_sqrt : array of shape (N,)
        Square roots of the loss weights (D).
    alpha : float
    fit_intercept : bool
    tol : float, default=1e-10
        Relative residual of the projected system at which PCG stops.
    factor_cost : float, default=None
        Cost of a factorization in PCG iterations (None:
        :func:`factorization_cost`).  Once the iterations beyond
        :data:`IDEAL_ITER` per solve add up to it, the factor is stale and
        the next solve refactors.
    max_iter : int, default=None
        A PCG solve that has not converged by then refactors at once and
        solves directly.  None: ``factor_cost`` + ``IDEAL_ITER``, at least 10.

    Attributes
    ----------
    n_factorizations : int
        N x N Cholesky factorizations made so far.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers.warm_cholesky import WarmCholeskySequence
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(6, 2)
    >>> K = np.exp(-((X[:, None] - X[None]) ** 2).sum(-1))
    >>> codes = np.array([0, 0, 0, 1, 1, 1]); offsets = np.array([0, 3, 6])
    >>> seq = WarmCholeskySequence(np, K, codes, offsets, np.ones(6), 0.1, True)
    >>> c, b, info = seq.solve(np.array([[1.0, 0.2], [0.2, 1.0]]), rng.randn(6))
    >>> c2, b2, info2 = seq.solve(np.array([[1.0, 0.21], [0.21, 1.0]]), rng.randn(6),
    ...                           x0=info["x"])
    >>> seq.n_factorizations, info2["refactored"]
    (1, False)
    """

    def __init__(self, xp, K, codes, offsets, weights_sqrt, alpha, fit_intercept,
                 *, tol=1e-10, factor_cost=None, max_iter=None):
        self.xp, self.K, self.codes, self.offsets = xp, K, codes, offsets
        self.d, self.alpha, self.fit_intercept = weights_sqrt, float(alpha), fit_intercept
        self.tol = tol
        self.factor_cost = (factorization_cost(K.shape[0], len(offsets) - 1)
                            if factor_cost is None else float(factor_cost))
        self.max_iter = (max(10, int(np.ceil(self.factor_cost)) + IDEAL_ITER)
                         if max_iter is None else int(max_iter))
        self._excess = 0.0
        self.E = _hadamard.one_hot(xp, codes, len(offsets) - 1, like=weights_sqrt)
        self.dE = weights_sqrt[:, None] * self.E
        norms = xp.sum(self.dE * self.dE, axis=0)
        self.norms = xp.where(norms > 0, norms, xp.ones_like(norms))
        self.n_factorizations = 0
        self.stale = True
        self._chol = None
        self._trsv = None
        self._low = None          # float32 buffer; False once float32 failed
        self._kmax = None         # largest |K| entry (float32 range check)
        self.exact_factor = True  # whether the factor solves the system exactly
        # The last solution x and its K((d x) * E): the next solve of an
        # alternating fit starts from that x, and Z does not depend on A or
        # alpha, so its first residual needs no pass over K.
        self._last = None

    # ------------------------------------------------------------ factor
    def _factor(self, A):
        """Factor M(A) in the previous factor's buffer; keep Z_E and S."""
        if self._factor_low(A):
            return
        xp = self.xp
        buf = None
        if self._chol is not None and self._chol.factor.dtype != self.K.dtype:
            self._chol = None  # a float32 factor's buffer cannot hold this one
        if self._chol is not None and is_numpy(xp):
            buf = self._chol.factor
            # cho_factor hands back the Fortran-ordered transpose view; the
            # matrix is symmetric, so its C-ordered transpose is the same.
            buf = buf.T if buf.flags.f_contiguous and not buf.flags.c_contiguous else buf
            np.copyto(buf, self.K)
        elif self._chol is not None and is_cupy(xp):
            buf = self._chol.factor
            buf[...] = self.K
        self._chol = None  # release before a new allocation
        if buf is None:
            buf = xp.asarray(self.K, copy=True)
        self._chol = cholesky.factor(xp, buf, A, self.codes, self.d, self.alpha,
                                     overwrite=True, offsets=self.offsets)
        self._factored(exact=True)
        if self.fit_intercept:
            self._intercept_columns(self._chol.solve(self.dE))

    def _factored(self, exact):
        """Book-keeping of a new factorization."""
        self.n_factorizations += 1
        self.stale = False
        self._excess = 0.0
        self.exact_factor = exact

    def _intercept_columns(self, Z_E):
        """W = Z_E S^{-1} with S = (D E)^T Z_E, once per factorization: the
        intercept part of every preconditioner application is then one
        (N, T) product."""
        xp = self.xp
        S = cholesky.pin_absent_tasks(xp, xp.matrix_transpose(self.dE) @ Z_E, self.dE)
        self._W = xp.matrix_transpose(xp.linalg.solve(S, xp.matrix_transpose(Z_E)))

    def _factor_low(self, A):
        """Float32 factorization (see :data:`MIXED_PRECISION`); False if not used."""
        xp = self.xp
        if not (MIXED_PRECISION and is_numpy(xp) and self.K.dtype == np.float64):
            return False
        if self._low is False:
            return False
        N = self.K.shape[0]
        if self._kmax is None:
            # max and -min: two passes over K without the N x N temporary of
            # abs(K) (on School's 11,505 rows that temporary took 2.5 s).
            self._kmax = (max(float(np.max(self.K)), -float(np.min(self.K)))
                          if self.K.size else 0.0)
        size = (self._kmax * float(np.max(np.abs(A))) * float(np.max(self.d)) ** 2
                + self.alpha)
        if not 1e-30 < size < 1e30:
            # Entries near float32's range (3.4e38 down to 1e-38): float64.
            self._low = False
            return False
        if self._low is None:
            self._chol = None  # the float64 factor's buffer, if any
            self._low = np.empty((N, N), dtype=np.float32)
        buf = self._low
        np.copyto(buf, self.K, casting="same_kind")
        try:
            chol = cholesky.factor(xp, buf, np.asarray(A, dtype=np.float32), self.codes,
                                   self.d.astype(np.float32), np.float32(self.alpha),
                                   overwrite=True, offsets=self.offsets)
        except np.linalg.LinAlgError:
            # Too ill-conditioned for float32: float64 from now on.
            self._low = False
            return False
        if not np.all(np.isfinite(np.diagonal(chol.factor))):
            self._low = False
            return False
        self._chol = chol
        self._factored(exact=False)
        if self.fit_intercept:
            scale = max(float(np.max(np.abs(self.dE))), 1e-300)
            self._intercept_columns(
                self._chol.solve((self.dE / scale).astype(np.float32)) * scale)
        return True

    def _triangular_solves(self, r):
        """M_0^{-1} r for one vector: two BLAS-2 ``trsv`` (numpy).

        LAPACK's ``potrs`` goes through ``trsm`` with one column, which
        streams the factor at about half the speed of ``trsv``; each PCG
        iteration pays this once.
        """
        L = self._chol.factor
        if is_numpy(self.xp) and L.flags.f_contiguous:
            trsv = self._trsv
            if trsv is None or trsv.dtype != L.dtype:
                import scipy.linalg.blas

                trsv = self._trsv = scipy.linalg.blas.get_blas_funcs("trsv", (L,))
            if L.dtype == r.dtype:
                return trsv(L, trsv(L, r, lower=1), lower=1, trans=1)
            # Float32 factor: the solve is linear, so scale r to unit size
            # first (a tiny or huge residual would under- or overflow).
            scale = float(np.max(np.abs(r)))
            if not scale > 0:
                return np.zeros_like(r)
            z = trsv(L, trsv(L, (r / scale).astype(L.dtype), lower=1), lower=1, trans=1)
            return z.astype(r.dtype) * scale
        return self._chol.solve(r)

    def _precondition(self, r):
        """The exact bordered solve at the factored matrix (see module doc)."""
        xp = self.xp
        z = self._triangular_solves(r)
        if not self.fit_intercept:
            return z
        return z - self._W @ self._dE_t(z)

    def _apply(self, A_cols, x, Z=None):
        """M(A) x and the kernel block product Z = K ((d x) * E).

        ``A_cols`` is ``A[:, codes]`` (T, N); Z is used transposed, (T, N),
        so that both stay contiguous.  A ``Z`` already known for this ``x``
        is used as is (no pass over K).
        """
        xp = self.xp
        if Z is None:
            Z = task_block_matmat(xp, self.K, self.offsets, self.d * x, self.E)
        Zt = xp.matrix_transpose(Z)
        return self.d * xp.sum(Zt * A_cols, axis=0) + self.alpha * x, Z

    def _dE_t(self, v):
        """(D E)^T v, per-task sums of d * v."""
        return task_sums(self.xp, self.codes, len(self.offsets) - 1, self.d * v, self.E)

    def _project(self, v):
        xp = self.xp
        if not self.fit_intercept:
            return v
        s = self._dE_t(v) / self.norms
        return v - self.d * _hadamard.task_rows(xp, s, self.codes)

    # ------------------------------------------------------------- solve
    def solve(self, A, y, x0=None, tol=None):
        """Coefficients c (N,), intercepts b (T,) or None, and diagnostics.

        ``tol`` overrides the PCG tolerance for this solve (a final solve
        polished to the accuracy of a direct one).

        ``info`` holds ``n_iter`` (PCG iterations, 0 for a direct solve),
        ``refactored``, ``x`` (the scaled coefficients, to warm start the
        next solve) and ``KcE`` (``K @ (c * E)``, which gives the training
        scores and ``B^T K B`` without another pass over K).
        """
        xp = self.xp
        A_cols = xp.matrix_transpose(_hadamard.task_rows(xp, A, self.codes))
        if is_numpy(xp):
            A_cols = np.ascontiguousarray(A_cols)
        rhs = self.d * y
        info = {"n_iter": 0, "refactored": False}
        if self._chol is None and is_numpy(xp):
            # Nothing factored yet and a diagonal A (the usual starting point
            # of a learned structure): the system splits into one small block
            # per task, solved directly, and the N x N factorization waits for
            # the next (coupled) task matrix.
            out = self._block_solve(A, A_cols, rhs)
            if out is not None:
                x, Z, r = out
                b = self._dE_t(r) / self.norms if self.fit_intercept else None
                info.update(x=x, KcE=Z, block=True)
                self._remember(x, Z)
                return self.d * x, b, info
        x = None
        if not self.stale and x0 is not None:
            x, Z, r, n_iter, converged = self._pcg(
                A_cols, rhs, x0, self.tol if tol is None else tol)
            info["n_iter"] = n_iter
            if not converged:
                x = None
            else:
                self._excess += max(0, n_iter - IDEAL_ITER)
                self.stale = self._excess >= self.factor_cost
        if x is None:
            self._factor(A)
            info["refactored"] = True
            x = self._precondition(rhs)
            if not self.exact_factor:
                # A float32 factor is a preconditioner, not a solver: a few
                # float64 PCG iterations from its solution (projected onto
                # the intercept constraint, which float32 only nearly keeps)
                # finish the solve.
                x, Z, r, n_iter, converged = self._pcg(
                    A_cols, rhs, x, self.tol if tol is None else tol)
                info["n_iter"] = n_iter
                if not converged:
                    # Too ill-conditioned for a float32 preconditioner:
                    # factor in float64 from now on and solve directly.
                    self._low = False
                    self._factor(A)
                    x = self._precondition(rhs)
            if self.exact_factor:
                Mx, Z = self._apply(A_cols, x)
                r = rhs - Mx
        b = None
        if self.fit_intercept:
            # At the solution the residual is D E b exactly.
            b = self._dE_t(r) / self.norms
        info["x"], info["KcE"] = x, Z
        self._remember(x, Z)
        return self.d * x, b, info

    def _remember(self, x, Z):
        # A copy of x: the match in _start is by value, so an x changed in
        # place by a caller can never pick up a stale Z.
        self._last = (self.xp.asarray(x, copy=True), Z)

    def _start(self, A_cols, x0):
        """The projected start, M(A) x and Z for PCG.  Starting from the last
        solution (the usual case within an alternating fit) reuses its Z:
        that x already satisfies the intercept constraint, to rounding."""
        xp = self.xp
        last = self._last
        if last is not None and x0.shape == last[0].shape and bool(xp.all(x0 == last[0])):
            x = last[0]
            Mx, Z = self._apply(A_cols, x, last[1])
            return x, Mx, Z
        x = self._project(x0)
        Mx, Z = self._apply(A_cols, x)
        return x, Mx, Z

    def solve_alpha_ranges(self, A, y, alphas, ranges):
        """Solutions for one A and many alphas, one float64 factorization per range.

        For each range (an index array into ``alphas``) the matrix is factored
        at sigma, the range's geometric middle; every alpha's system is then a
        shifted system of P = (H + sigma I)^-1, all solved by one Lanczos
        process (:func:`~rkhsmtl.solvers.shifted_lanczos.solve_shifted`).  Each
        solution is checked against its own system (one pass over K) and
        finished by PCG on the same factor where the check asks for it, so it
        is a direct solve's to 1e-12.

        Returns
        -------
        list of (c, b) or None
            Coefficients (N,) and intercepts (T,) or None, in the order of
            ``alphas``; None when a factorization fails or a finish does not
            converge (the caller takes another route).
        """
        xp = self.xp
        self._low = False  # P must be (H + sigma I)^-1 exactly: a float64 factor
        A_cols = np.ascontiguousarray(
            xp.matrix_transpose(_hadamard.task_rows(xp, A, self.codes)))
        rhs = self.d * y
        rhs_norm = float(np.linalg.norm(self._project(rhs)))

        def apply(v):
            return self._project(self._precondition(v))

        out = [None] * len(alphas)
        for group in ranges:
            chunk = alphas[group]
            sigma = float(np.sqrt(chunk.min() * chunk.max()))
            self.alpha = sigma
            try:
                self._factor(A)
            except np.linalg.LinAlgError:
                return None
            b = apply(rhs)
            moved = chunk != sigma
            shifts = 1.0 / (chunk[moved] - sigma)
            solved, _ = solve_shifted(apply, b, shifts, tol=1e-13,
                                      max_iter=min(len(rhs), 1000))
            xs = iter(s * u for s, u in zip(shifts, solved))
            for i, shifted in zip(group, moved):
                x = next(xs) if shifted else b
                self.alpha = float(alphas[i])
                Mx, Z = self._apply(A_cols, x)
                r = rhs - Mx
                # (written so that a non-finite residual also goes to PCG)
                if not float(np.linalg.norm(self._project(r))) <= 1e-12 * rhs_norm:
                    # PCG starts from this x: its product with K is known.
                    self._remember(x, Z)
                    x, _, r, _, converged = self._pcg(A_cols, rhs, x, 1e-12)
                    if not converged:
                        return None
                b_task = self._dE_t(r) / self.norms if self.fit_intercept else None
                out[i] = (self.d * x, b_task)
        return out

    def _block_solve(self, A, A_cols, rhs):
        """Exact solve for a diagonal A, task by task; None if A is not
        diagonal or a block is not numerically positive definite.

        Block t is ``a_tt D_t K_tt D_t + alpha I`` (bordered by the task's
        intercept column): a Cholesky factorization of n_t x n_t.  One pass
        over K then gives the residual (checked) and ``K((d x) * E)``.
        """
        A = np.asarray(A)
        if A.ndim != 2 or np.any(A - np.diag(np.diagonal(A))):
            return None
        x = np.zeros_like(rhs)
        # One BLAS thread for the T small factorizations in a row: scipy's
        # pool, woken for each while numpy's still spins, stalled them.
        with one_blas_thread():
            for t in range(len(self.offsets) - 1):
                lo, hi = int(self.offsets[t]), int(self.offsets[t + 1])
                if hi == lo:
                    continue
                d = self.d[lo:hi]
                M = (A[t, t] * d[:, None]) * self.K[lo:hi, lo:hi] * d[None, :]
                M[np.diag_indices_from(M)] += self.alpha
                try:
                    chol = linalg.cholesky(np, M, overwrite=True)
                except np.linalg.LinAlgError:
                    return None
                z = chol.solve(np.column_stack([rhs[lo:hi], d]))
                x_t = z[:, 0]
                if self.fit_intercept:
                    denominator = float(d @ z[:, 1])
                    if denominator > 0:
                        x_t = x_t - (float(d @ z[:, 0]) / denominator) * z[:, 1]
                x[lo:hi] = x_t
        Mx, Z = self._apply(A_cols, x)
        r = rhs - Mx
        rp, rhs_p = self._project(r), self._project(rhs)
        scale = float(np.sqrt(rhs_p @ rhs_p))
        if not np.all(np.isfinite(x)) or float(np.sqrt(rp @ rp)) > 1e-10 * max(scale,
                                                                               1e-300):
            return None
        return x, Z, r

    def _hopeless(self, rel0, rel, n_iter, tol):
        """Whether the mean rate so far would need more than ``max_iter``.

        A factor made for a matrix far from the current one (the first
        steps of a fit move A a lot) shows it in a few iterations; stopping
        then spares the rest of ``max_iter`` before the refactorization.
        """
        rate = (rel / rel0) ** (1.0 / n_iter)
        if rate >= 1.0:
            return True
        return n_iter + np.log(tol / rel) / np.log(rate) > self.max_iter

    def _pcg(self, A_cols, rhs, x0, tol):
        """Constraint-preconditioned CG; also carries Z = K((d x) * E)."""
        xp = self.xp

        def dot(a, b):
            return float(xp.sum(a * b))

        rhs_p = self._project(rhs)
        b_norm = dot(rhs_p, rhs_p) ** 0.5
        x, Mx, Z = self._start(A_cols, x0)
        r = rhs - Mx
        if b_norm == 0.0:
            return x, Z, r, 0, True
        # CG runs on the projected residual (the intercept part of r, D E b,
        # is large and would swamp the preconditioned products in rounding);
        # the full residual is carried along for the intercepts.
        rp = self._project(r)
        rel = dot(rp, rp) ** 0.5 / b_norm
        n_iter, rel0 = 0, rel
        if rel <= tol:
            return x, Z, r, 0, True
        z = self._project(self._precondition(rp))
        p, rz = z, dot(rp, z)
        if not rz > 0:
            # Rounding-level residual that the preconditioner maps to zero:
            # let the caller solve directly.
            return x, Z, r, n_iter, False
        while n_iter < self.max_iter:
            q, Zp = self._apply(A_cols, p)
            pq = dot(p, q)
            if not pq > 0:
                break  # breakdown (e.g. a vanishing direction): not converged
            step = rz / pq
            x = x + step * p
            Z = Z + step * Zp
            r = r - step * q
            n_iter += 1
            rp = self._project(r)
            rel = dot(rp, rp) ** 0.5 / b_norm
            if rel <= tol:
                return x, Z, r, n_iter, True
            if n_iter >= 3 and self._hopeless(rel0, rel, n_iter, tol):
                break
            z = self._project(self._precondition(rp))
            rz_new = dot(rp, z)
            if not rz_new > 0:
                break
            p = z + (rz_new / rz) * p
            rz = rz_new
        return x, Z, r, n_iter, False
