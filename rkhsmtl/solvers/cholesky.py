r"""Heterogeneous tasks, dense: one Cholesky factorization.

Solves, with :math:`D = \mathrm{diag}(\sqrt{w})` (per-row loss weights),

.. math::

    (D (K_N \circ E A E^\top) D + \alpha I)\,\tilde c + D E b = D y,
    \qquad E^\top D \tilde c = 0,

for :math:`c = D\tilde c`; the second equation makes the task intercepts b
unpenalized.  b comes from the T x T Schur complement
:math:`S = \tilde E^\top M^{-1} \tilde E`, which needs T + 1 triangular solve
pairs after the factorization: O(N^3/3 + N^2 T) in all, O(N^2) memory (the
kernel matrix is overwritten by its factor).
"""
from .._backend import linalg
from . import _hadamard


def pin_absent_tasks(xp, S, E_s):
    """Intercept system S with b_t = 0 for a task without weighted rows.

    Such a task (a zero-weight task, or one that a cross-validation fold's
    training rows miss) has a zero column in ``E_s`` and so a zero row and
    column in S: its intercept is undetermined.  A one on its diagonal (its
    right-hand side is zero too) pins it at 0 without touching the others.
    """
    absent = xp.sum(E_s * E_s, axis=0) == 0
    if not bool(xp.any(absent)):
        return S
    return S + xp.eye(S.shape[0], dtype=S.dtype) * xp.astype(absent, S.dtype)[None, :]


def factor(xp, K, A, codes, weights_sqrt, alpha, overwrite=False, offsets=None):
    """Build the scaled system in place and factor it (``offsets``: task-sorted rows)."""
    M = K if overwrite else xp.asarray(K, copy=True)
    M = _hadamard.hadamard_in_place(xp, M, A, codes, offsets)
    if weights_sqrt is not None:
        M = linalg.scale_symmetric(xp, M, weights_sqrt)
    M = linalg.add_to_diagonal(xp, M, alpha)
    # Raises numpy.linalg.LinAlgError when the kernel is not PSD; the caller
    # then falls back to the eigen solver, which clips negative eigenvalues.
    return linalg.cholesky(xp, M, overwrite=True)


def solve(chol, xp, y, E, weights_sqrt, fit_intercept=True):
    """Dual coefficients c (N,) and intercepts b (T,) from the factor."""
    d = weights_sqrt if weights_sqrt is not None else xp.ones_like(y)
    rhs = d * y
    if not fit_intercept:
        return d * chol.solve(rhs), None
    E_s = d[:, None] * E
    Z = chol.solve(xp.concat([rhs[:, None], E_s], axis=1))
    z_y, Z_E = Z[:, 0], Z[:, 1:]
    S = pin_absent_tasks(xp, xp.matrix_transpose(E_s) @ Z_E, E_s)
    b = xp.linalg.solve(S, xp.matrix_transpose(E_s) @ z_y)
    return d * (z_y - Z_E @ b), b
