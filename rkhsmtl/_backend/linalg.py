"""Linear-algebra primitives that the array API standard leaves out.

Each function takes the namespace ``xp`` first and dispatches to scipy.linalg
for numpy (LAPACK drivers, in-place factorizations), to CuPy / cupyx on the
GPU, and to ``xp.linalg`` for any other standard namespace (used on CPU in the
tests through ``array_api_strict``).
"""
import warnings

import numpy as np
import scipy.linalg

from ._namespace import is_cupy, is_numpy


#: Symmetric matrices up to this order are decomposed on one BLAS thread.
SMALL_EIGH = 256

_controller = None


def one_blas_thread():
    """A context in which BLAS runs on one thread (threadpoolctl; the
    controller, which scans the loaded libraries, is built once)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def eigh(xp, M, overwrite=False):
    """Eigendecomposition of a symmetric matrix, ascending eigenvalues.

    numpy uses LAPACK's divide-and-conquer driver (``syevd``), which is the
    fastest full-spectrum driver and the same one ``numpy.linalg.eigh`` uses.
    A small matrix (a task matrix, between the iterations of a solver) is
    decomposed on one BLAS thread: its threaded merges gain nothing there,
    and waking scipy's thread pool while numpy's still spins from the last
    product stalled single calls for up to 90 ms on the 2-core machine
    (against 1 ms on one thread).
    """
    if is_numpy(xp):
        if M.shape[0] <= SMALL_EIGH:
            with one_blas_thread():
                return scipy.linalg.eigh(
                    M, overwrite_a=overwrite, check_finite=False, driver="evd")
        return scipy.linalg.eigh(
            M, overwrite_a=overwrite, check_finite=False, driver="evd"
        )
    return xp.linalg.eigh(M)


class Cholesky:
    """Lower Cholesky factor of an SPD matrix with a ``solve`` method."""

    def __init__(self, xp, factor):
        self.xp = xp
        self.factor = factor

    def solve(self, B):
        xp = self.xp
        if is_numpy(xp):
            return scipy.linalg.cho_solve((self.factor, True), B, check_finite=False)
        if is_cupy(xp):
            from cupyx.scipy.linalg import solve_triangular

            Z = solve_triangular(self.factor, B, lower=True)
            return solve_triangular(self.factor, Z, lower=True, trans="T")
        Z = xp.linalg.solve(self.factor, B)
        return xp.linalg.solve(xp.matrix_transpose(self.factor), Z)


def cholesky(xp, M, overwrite=False):
    """Factor an SPD matrix; raises ``numpy.linalg.LinAlgError`` if it is not."""
    if is_numpy(xp):
        if overwrite and M.flags.c_contiguous and not M.flags.f_contiguous:
            # LAPACK wants Fortran order and f2py would copy a C-ordered
            # array (one more N x N matrix).  M is symmetric, so its
            # transpose is the same matrix, already in Fortran order.
            M = M.T
        c, _ = scipy.linalg.cho_factor(
            M, lower=True, overwrite_a=overwrite, check_finite=False
        )
        return Cholesky(xp, c)
    L = xp.linalg.cholesky(M)
    if is_cupy(xp) and not bool(xp.all(xp.isfinite(xp.linalg.diagonal(L)))):
        # CuPy signals a failed factorization with NaNs rather than an error.
        raise np.linalg.LinAlgError("Matrix is not positive definite.")
    return Cholesky(xp, L)


def add_to_diagonal(xp, M, value):
    """Return ``M + value * I``, in place when the backend allows it."""
    n = M.shape[0]
    if is_numpy(xp) or is_cupy(xp):
        M.ravel()[:: n + 1] += value
        return M
    return M + value * xp.eye(n, dtype=M.dtype)


def scale_symmetric(xp, M, d):
    """Return ``diag(d) M diag(d)``, in place when the backend allows it."""
    if is_numpy(xp) or is_cupy(xp):
        M *= d[:, None]
        M *= d[None, :]
        return M
    return (d[:, None] * M) * d[None, :]


def safe_reciprocal(xp, G, what="system"):
    """Entrywise 1/G with a loud pseudo-inverse fallback for (near) zeros.

    A zero in G happens only with ``alpha == 0`` and a singular kernel or task
    matrix; we then return the minimum-norm solution, as KernelRidge does.
    """
    scale = float(xp.max(xp.abs(G))) if G.size else 0.0
    tiny = scale * 1e-13 if scale > 0 else 1e-300
    small = G <= tiny
    if bool(xp.any(small)):
        warnings.warn(
            f"The {what} is singular (alpha=0 with a singular kernel or task "
            "matrix); using the minimum-norm (pseudo-inverse) solution. Set "
            "alpha > 0 to regularize.",
            RuntimeWarning,
            stacklevel=3,
        )
        ones = xp.ones_like(G)
        return xp.where(small, xp.zeros_like(G), ones / xp.where(small, ones, G))
    return 1.0 / G


def sym_sqrt_psd(xp, M, floor=0.0):
    """Symmetric PSD square root through the eigendecomposition."""
    w, V = eigh(xp, M)
    w = xp.clip(w, floor, None)
    return (V * xp.sqrt(w)[None, :]) @ xp.matrix_transpose(V)
