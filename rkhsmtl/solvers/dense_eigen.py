r"""Heterogeneous tasks, dense: eigendecompose once, solve for many alphas.

With :math:`\tilde G = D (K_N \circ E A E^\top) D = Q \Lambda Q^\top` the
system of :mod:`rkhsmtl.solvers.cholesky` is solved for any alpha by a
rotation and a division; the intercepts solve the T x T system
:math:`(U_E^\top (\Lambda+\alpha)^{-1} U_E)\,b = U_E^\top (\Lambda+\alpha)^{-1}\hat y`
with :math:`U_E = Q^\top D E`.  One O(N^3) eigendecomposition (a few times a
Cholesky) pays for itself when several alphas share the same matrix:
cross-validation paths, and a stable fallback for singular systems.
"""
from dataclasses import dataclass
from typing import Any

from .._backend import linalg
from . import _hadamard
from .cholesky import pin_absent_tasks


@dataclass
class HeteroEigen:
    xp: Any
    Q: Any
    lam: Any
    d: Any       # square-root weights (N,)
    U_E: Any     # Q^T D E, (N, T)


def decompose(xp, K, A, codes, E, weights_sqrt=None, overwrite=False, offsets=None):
    """Eigendecompose the scaled Hadamard matrix once."""
    M = K if overwrite else xp.asarray(K, copy=True)
    M = _hadamard.hadamard_in_place(xp, M, A, codes, offsets)
    d = weights_sqrt if weights_sqrt is not None else xp.ones((M.shape[0],),
                                                                dtype=M.dtype)
    if weights_sqrt is not None:
        M = linalg.scale_symmetric(xp, M, d)
    lam, Q = linalg.eigh(xp, M, overwrite=True)
    U_E = xp.matrix_transpose(Q) @ (d[:, None] * E)
    return HeteroEigen(xp, Q, xp.clip(lam, 0.0, None), d, U_E)


def solve(fac, y, alpha, fit_intercept=True, y_rot=None):
    """Dual coefficients c (N,) and intercepts b (T,) for one alpha."""
    xp = fac.xp
    if y_rot is None:
        y_rot = xp.matrix_transpose(fac.Q) @ (fac.d * y)
    g = linalg.safe_reciprocal(xp, fac.lam + alpha, "heterogeneous system")
    c_rot = y_rot * g
    b = None
    if fit_intercept:
        S = pin_absent_tasks(
            xp, xp.matrix_transpose(fac.U_E) @ (g[:, None] * fac.U_E), fac.U_E)
        b = xp.linalg.solve(S, xp.matrix_transpose(fac.U_E) @ c_rot)
        c_rot = c_rot - g * (fac.U_E @ b)
    return fac.d * (fac.Q @ c_rot), b


def solve_path(fac, y, alphas, fit_intercept=True):
    """Solutions for many alphas from one decomposition."""
    xp = fac.xp
    y_rot = xp.matrix_transpose(fac.Q) @ (fac.d * y)
    return [solve(fac, y, a, fit_intercept, y_rot=y_rot) for a in alphas]
