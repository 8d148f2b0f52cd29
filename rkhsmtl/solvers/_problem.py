r"""A separable-kernel ridge problem, prepared once and solved many times.

The estimators build one :class:`SeparableProblem` per ``fit`` and call
:meth:`SeparableProblem.solve` for every (task matrix, alpha, weights,
targets) they need: a single fit, an alpha path, Newton steps of the logistic
loss, or the coefficient step of an alternating structure-learning loop.
What does not change between calls is cached: the kernel matrix, the
eigendecomposition of K (shared inputs), the task-sorted row order
(heterogeneous tasks).

The objective, for rows i with loss weights :math:`w_i` (per entry for shared
inputs), is

.. math::

    \sum_i w_i\,(y_i - f_{t_i}(x_i) - b_{t_i})^2 + \alpha\,\|f\|^2_{\mathcal H_{kA}},
    \qquad f_t(x) = \sum_j k(x, x_j)\,B_{jt},

and the solution is returned as the prediction coefficients B (one column per
task) and intercepts b.
"""
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._backend import is_numpy, to_numpy
from . import cholesky, dense_eigen, hadamard_cg, masked_cg, sylvester
from ._auto import choose_solver, kernel_fits
from ._hadamard import one_hot, task_rows
from ._kernel_operator import KernelOperator
from .warm_cholesky import WarmCholeskySequence, task_block_matmat


@dataclass
class Solution:
    """Prediction coefficients of one solve.

    Parameters
    ----------
    dual_coef : array of shape (n_rows, n_tasks)
        B: ``f_t(x) = k(x, X) @ B[:, t]``.
    intercept : array of shape (n_tasks,)
    coef : array, default=None
        Raw dual coefficients (C for shared inputs, c for heterogeneous rows).
    info : dict
        Solver diagnostics (``solver``, CG ``n_iter``, warm-start ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers import Solution
    >>> sol = Solution(dual_coef=np.zeros((4, 2)), intercept=np.zeros(2))
    >>> sol.dual_coef.shape, sol.info
    ((4, 2), {})
    """

    dual_coef: Any                 # B, (n_rows, T): f_t(x) = k(x, X) @ B[:, t]
    intercept: Any                 # (T,)
    coef: Any = None               # raw dual coefficients (C or c)
    info: dict = field(default_factory=dict)


class SeparableProblem:
    """Training data plus caches for repeated separable-kernel solves.

    Parameters
    ----------
    data : rkhsmtl._validation.MultiTaskData
        Validated data (targets may be replaced per solve).
    kernel_fn : callable
        ``kernel_fn(X1, X2)`` -> Gram matrix (namespace of the inputs).
    precomputed : bool
        Whether ``data.X`` is already the training kernel matrix.
    solver : {"auto", "eigen", "cholesky", "cg"}
    tol, max_iter : float, int
        Stopping rule of the CG solvers.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelRidge
    >>> from rkhsmtl._validation import validate_fit_data
    >>> from rkhsmtl.kernels import rbf_kernel
    >>> from rkhsmtl.solvers import SeparableProblem
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> Y = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 2.0]])
    >>> data = validate_fit_data(MultiTaskKernelRidge(), X, Y)
    >>> problem = SeparableProblem(data, rbf_kernel)
    >>> solution = problem.solve(np.eye(2), 0.1)
    >>> problem.solver, solution.dual_coef.shape, solution.intercept.shape
    ('eigen', (3, 2), (2,))
    """

    #: Private switch: a sequence of solves (the alternating engine) reuses the
    #: last Cholesky factor as a PCG preconditioner.  False restores the
    #: reference path that refactors at every step (the tests compare both).
    reuse_factorization = True

    def __init__(self, data, kernel_fn, *, precomputed=False, solver="auto",
                 tol=1e-10, max_iter=1000):
        xp = data.xp
        self.xp, self.layout, self.n_tasks = xp, data.layout, data.n_tasks
        self.tol, self.max_iter = tol, max_iter
        self.kernel_fn, self.precomputed = kernel_fn, precomputed
        self.sample_weight = data.sample_weight
        if data.layout == "heterogeneous":
            order = np.argsort(data.task_codes, kind="stable")
            self.order = order
            self.codes = data.task_codes[order]
            self.offsets = np.searchsorted(self.codes, np.arange(self.n_tasks + 1))
            idx = order if is_numpy(xp) else xp.asarray(order)
            X = xp.take(data.X, idx, axis=0)
            if precomputed:
                X = xp.take(X, idx, axis=1)
            self.X = X
            self.targets = xp.take(data.targets, idx, axis=0)
            if self.sample_weight is not None:
                self.sample_weight = xp.take(self.sample_weight, idx, axis=0)
            self.complete = True
        else:
            self.order, self.codes, self.offsets = None, None, None
            self.X, self.targets = data.X, data.targets
            self.complete = data.mask is None
        self.n_rows = self.X.shape[0]
        self.solver = choose_solver(solver, self.layout, self.complete,
                                    self.n_rows, xp)
        self._K = None
        self._kfac = {}
        #: N x N factorizations (eigendecompositions of K, Cholesky or eigen
        #: decompositions of the heterogeneous system) made so far.
        self.n_factorizations = 0

    # ------------------------------------------------------------------ kernel
    def kernel(self):
        """The training kernel matrix, computed once and cached."""
        if self._K is None:
            self._K = self.X if self.precomputed else self.kernel_fn(self.X, self.X)
        return self._K

    def release_kernel(self):
        """Drop the cached kernel (after the last solve that needs it)."""
        self._K = None

    def kernel_eigen(self, row_weights=None):
        """Cached eigendecomposition of D K D (shared inputs).

        The unweighted decomposition and the latest weighted one are kept.  A
        weighted one is reused only for equal weights, compared by value: the
        weights are often temporaries (Newton's curvature weights), and a
        temporary's ``id`` is recycled by later ones.
        """
        xp = self.xp
        if row_weights is None:
            if None not in self._kfac:
                self._kfac[None] = sylvester.decompose_kernel(xp, self.kernel())
                self.n_factorizations += 1
            return self._kfac[None]
        cached = self._kfac.get("weighted")
        if cached is not None and bool(xp.all(cached[0] == row_weights)):
            return cached[1]
        kfac = sylvester.decompose_kernel(xp, self.kernel(), sample_weight=row_weights)
        self.n_factorizations += 1
        self._kfac["weighted"] = (xp.asarray(row_weights, copy=True), kfac)
        return kfac

    # ----------------------------------------------------------------- weights
    def loss_weights(self, task_weighting="samples"):
        """Per-row (heterogeneous) or per-entry (shared) loss weights.

        ``"uniform"`` rescales each task's weights to the same total, so large
        tasks do not drown small ones; the overall total is unchanged.
        """
        xp = self.xp
        if self.layout == "heterogeneous":
            w = (self.sample_weight if self.sample_weight is not None
                 else xp.ones((self.n_rows,), dtype=self.X.dtype))
            if task_weighting == "uniform":
                E = one_hot(xp, self.codes, self.n_tasks, like=w)
                per_task = xp.matrix_transpose(E) @ w
                w = w * ((xp.sum(per_task) / self.n_tasks) / per_task)[
                    xp.asarray(self.codes) if not is_numpy(xp) else self.codes]
            return w
        Y = self.targets
        observed = xp.astype(~xp.isnan(Y), Y.dtype)
        w = observed if self.sample_weight is None else \
            observed * self.sample_weight[:, None]
        if task_weighting == "uniform" and not self.complete:
            per_task = xp.sum(w, axis=0)
            w = w * ((xp.sum(per_task) / self.n_tasks) / per_task)[None, :]
        return w

    def row_weights_only(self, weights):
        """Row weights if ``weights`` (n, T) is constant across tasks, else None.

        Returns ``(is_row_only, row_weights_or_None)``.
        """
        xp = self.xp
        if self.layout != "shared" or not self.complete:
            return False, None
        if bool(xp.all(weights == weights[:, :1])):
            row = weights[:, 0]
            if bool(xp.all(row == 1.0)):
                return True, None
            if self.sample_weight is not None and bool(xp.all(row == self.sample_weight)):
                return True, self.sample_weight
            return True, row
        return False, None

    # ------------------------------------------------------------------- solve
    def solve(self, A, alpha, *, weights=None, targets=None, fit_intercept=True,
              x0=None, solver=None, consume_kernel=False):
        """Solve the weighted separable ridge for one task matrix and alpha.

        Parameters
        ----------
        A : array (T, T)
            Task matrix, in the problem's namespace.
        alpha : float
        weights : array, optional
            Loss weights from :meth:`loss_weights` (default: samples).
        targets : array, optional
            Replacement targets (e.g. Newton working responses); default the
            data's targets.
        x0 : array, optional
            Warm start for the CG solvers (``solution.info["x"]``).
        consume_kernel : bool
            The dense heterogeneous solver may overwrite the cached kernel
            (saves one N x N matrix on a final fit).
        """
        solver = self.solver if solver is None else solver
        targets = self.targets if targets is None else targets
        weights = self.loss_weights() if weights is None else weights
        if self.layout == "shared":
            return self._solve_shared(A, alpha, weights, targets, fit_intercept,
                                      x0, solver)
        return self._solve_hetero(A, alpha, weights, targets, fit_intercept, x0,
                                  solver, consume_kernel)

    def _solve_shared(self, A, alpha, weights, Y, fit_intercept, x0, solver):
        xp = self.xp
        tfac = sylvester.decompose_task_matrix(xp, A)
        row_only, row_w = self.row_weights_only(weights)
        if solver == "eigen" and row_only:
            kfac = self.kernel_eigen(row_w)
            C, b = sylvester.solve(kfac, tfac, Y, alpha, fit_intercept)
            info = {"solver": "eigen"}
        else:
            kfac = self.kernel_eigen(None)
            C, b, info = masked_cg.solve(
                kfac, tfac, self.kernel(), A, Y, weights, alpha, fit_intercept,
                x0=x0, tol=self.tol, max_iter=self.max_iter)
            info["solver"] = "cg"
        b = b if b is not None else xp.zeros((self.n_tasks,), dtype=C.dtype)
        return Solution(C @ A, b, C, info)

    def _solve_hetero(self, A, alpha, w, y, fit_intercept, x0, solver, consume):
        xp = self.xp
        d = xp.sqrt(w)
        info = {"solver": solver}
        if solver == "cg":
            kop = self._kernel_operator()
            c, b, cg_info = hadamard_cg.solve(
                xp, kop, A, y, self.codes, self.offsets, d, alpha, fit_intercept,
                x0=x0, tol=self.tol, max_iter=self.max_iter)
            info.update(cg_info)
        else:
            E = one_hot(xp, self.codes, self.n_tasks, like=y)
            c, b = None, None
            if solver == "cholesky":
                try:
                    chol = cholesky.factor(xp, self.kernel(), A, self.codes, d,
                                           alpha, overwrite=consume,
                                           offsets=self.offsets)
                    self.n_factorizations += 1
                    c, b = cholesky.solve(chol, xp, y, E, d, fit_intercept)
                except np.linalg.LinAlgError:
                    warnings.warn(
                        "Cholesky failed: the kernel times the task matrix is not "
                        "numerically positive definite (a non-PSD kernel, or "
                        "alpha=0). Falling back to the eigen solver, which clips "
                        "negative eigenvalues; increase 'alpha' to avoid this.",
                        RuntimeWarning, stacklevel=3)
                    if consume:
                        self.release_kernel()
                    solver = info["solver"] = "eigen"
            if c is None:
                fac = dense_eigen.decompose(xp, self.kernel(), A, self.codes, E, d,
                                            overwrite=consume, offsets=self.offsets)
                self.n_factorizations += 1
                c, b = dense_eigen.solve(fac, y, alpha, fit_intercept)
            if consume:
                self.release_kernel()
        b = b if b is not None else xp.zeros((self.n_tasks,), dtype=c.dtype)
        B = c[:, None] * task_rows(xp, A, self.codes)
        info["task_matrix"] = A
        return Solution(B, b, c, info)

    def sequence(self, alpha, *, weights=None, fit_intercept=True):
        """A solver for many task matrices at one alpha and one set of weights.

        Returns None where there is nothing to reuse (shared inputs, the
        matrix-free solver, or ``reuse_factorization`` switched off); the
        caller then calls :meth:`solve` every time.  Otherwise an object whose
        ``solve(A, x0=None, tol=None)`` returns a :class:`Solution` equal to
        :meth:`solve`'s to the CG tolerance, preconditioning by the last
        Cholesky factor and refactoring only when it has gone stale (see
        :mod:`rkhsmtl.solvers.warm_cholesky`).
        """
        if (not self.reuse_factorization or self.layout != "heterogeneous"
                or self.solver != "cholesky"):
            return None
        weights = self.loss_weights() if weights is None else weights
        return _FactorSequence(self, alpha, weights, fit_intercept)

    def kernel_matmat(self, V):
        """K @ V with the stored kernel, or in row blocks when N x N does not fit."""
        return self._kernel_operator().matmat(V)

    def training_scores(self, solution):
        """Function values of a solution at the training rows.

        Returns
        -------
        f : array
            ``K @ B`` (shared, (n, T)) or each row's own task's value
            (heterogeneous, (N,)), without intercepts.
        F : array
            ``f`` plus the task intercepts, shaped as the targets.
        KB : array (n_rows, T)
            ``K @ B``.
        """
        xp = self.xp
        A = solution.info.get("task_matrix") if self.layout != "shared" else None
        if A is not None and (solution.info.get("KcE") is not None
                              or self._K is not None or self.precomputed):
            # K B = K (c * E) A: one pass over K by task blocks (2 N^2 flops)
            # instead of the 2 N^2 T of K @ B; the warm solver hands it over.
            Z = solution.info.get("KcE")
            if Z is None:
                Z = task_block_matmat(xp, self.kernel(), self.offsets, solution.coef,
                                      one_hot(xp, self.codes, self.n_tasks,
                                              like=solution.coef))
            KB = Z @ A
        else:
            KB = self.kernel_matmat(solution.dual_coef)
        if self.layout == "shared":
            return KB, KB + solution.intercept[None, :], KB
        E = one_hot(xp, self.codes, self.n_tasks, like=KB)
        f = xp.sum(KB * E, axis=1)
        return f, f + E @ solution.intercept, KB

    def scores_and_gram(self, solution):
        """Training scores F (N,) and ``M = B^T K B`` (numpy), or None.

        For a heterogeneous solution that carries ``K @ (c * E)`` (the warm
        sequence's), both come in O(N T + T^3) without touching K:
        ``K B = Z A`` and ``B^T K B = A^T (E^T diag(c) Z) A``.
        """
        A, Z = solution.info.get("task_matrix"), solution.info.get("KcE")
        if self.layout == "shared" or A is None or Z is None:
            return None
        xp, c = self.xp, solution.coef
        Zt = xp.matrix_transpose(Z)
        A_cols = xp.matrix_transpose(task_rows(xp, A, self.codes))
        f = xp.sum(Zt * A_cols, axis=0)
        F = f + task_rows(xp, solution.intercept, self.codes)
        if is_numpy(xp):
            S = np.stack([c[lo:hi] @ Z[lo:hi] for lo, hi in
                          zip(self.offsets[:-1], self.offsets[1:])])
        else:
            E = one_hot(xp, self.codes, self.n_tasks, like=c)
            S = xp.matrix_transpose(E) @ (c[:, None] * Z)
        M = to_numpy(xp.matrix_transpose(A) @ S @ A)
        return F, 0.5 * (M + M.T)

    def _kernel_operator(self):
        xp = self.xp
        if self._K is not None or self.precomputed or kernel_fits(self.n_rows, xp):
            return KernelOperator(xp, K=self.kernel())
        return KernelOperator(xp, X=self.X, kernel_fn=self.kernel_fn)

    # ----------------------------------------------------------------- predict
    def training_rows(self):
        """Training inputs in the order of the dual coefficients' rows."""
        return self.X


class _FactorSequence:
    """:meth:`SeparableProblem.sequence`'s solver (see there)."""

    def __init__(self, problem, alpha, weights, fit_intercept):
        self.problem, self.alpha = problem, alpha
        self.weights, self.fit_intercept = weights, fit_intercept
        self._seq = None

    def solve(self, A, x0=None, tol=None):
        problem, xp = self.problem, self.problem.xp
        if not problem.reuse_factorization:
            return problem.solve(A, self.alpha, weights=self.weights,
                                 fit_intercept=self.fit_intercept)
        if self._seq is None:
            self._seq = WarmCholeskySequence(
                xp, problem.kernel(), problem.codes, problem.offsets,
                xp.sqrt(self.weights), self.alpha, self.fit_intercept,
                tol=problem.tol)
        before = self._seq.n_factorizations
        try:
            c, b, info = self._seq.solve(A, problem.targets, x0=x0, tol=tol)
        except np.linalg.LinAlgError:
            # Not numerically positive definite: the one-shot path warns and
            # falls back to the eigen solver; use it from now on.
            self._seq = None
            problem.reuse_factorization = False
            return problem.solve(A, self.alpha, weights=self.weights,
                                 fit_intercept=self.fit_intercept)
        finally:
            if self._seq is not None:
                problem.n_factorizations += self._seq.n_factorizations - before
        b = b if b is not None else xp.zeros((problem.n_tasks,), dtype=c.dtype)
        info.update(solver="cholesky", task_matrix=A)
        B = c[:, None] * task_rows(xp, A, problem.codes)
        return Solution(B, b, c, info)


def predict_all(xp, kernel_fn, X_new, X_fit, dual_coef, intercept, precomputed=False,
                block_bytes=256 * 1024**2):
    """Predictions (m, T) for every task: k(X_new, X_fit) @ B + b, in row blocks."""
    m, n = X_new.shape[0], dual_coef.shape[0]
    rows = max(1, int(block_bytes // (8 * max(n, 1))))
    out = []
    for start in range(0, m, rows):
        stop = min(start + rows, m)
        Xb = X_new[start:stop, :]
        Kb = Xb if precomputed else kernel_fn(Xb, X_fit)
        out.append(Kb @ dual_coef + intercept[None, :])
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)

