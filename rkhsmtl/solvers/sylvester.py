r"""Shared inputs, complete targets: the Sylvester equation through two eigh.

Convention (fixed once, tested against a dense ``np.kron`` build): the
dual coefficients ``C`` (n, T) are stored column-major by task, so the
stacked system is

.. math::

    (A \otimes \tilde K + \alpha I_{nT})\,\mathrm{vec}(\tilde C)
      + \tilde E b = \mathrm{vec}(D Y),
    \qquad \tilde E^\top \mathrm{vec}(\tilde C) = 0,

with :math:`\tilde K = D K D`, :math:`D = \mathrm{diag}(\sqrt{w})` the row
weights, :math:`C = D \tilde C` and fitted values :math:`F = K C A + 1 b^\top`.
The second equation makes the task intercepts :math:`b` unpenalized.

With :math:`\tilde K = U \Sigma U^\top` and :math:`A = V \Delta V^\top` the
solve is a rotation, an entrywise division by
:math:`G_{ij} = \sigma_i \delta_j + \alpha`, and a rotation back.  The
intercepts have a closed form in the rotated basis (one weighted average per
eigen-direction of A), so they cost O(nT) more.

``decompose_kernel`` costs O(n^3) once; ``solve`` costs O(n^2 T + n T^2) for
each new ``alpha``, task matrix or right-hand side.
"""
from dataclasses import dataclass
from typing import Any, Optional

from .._backend import linalg
from .._memory import check_memory, dense_bytes


@dataclass
class KernelEigen:
    """Eigendecomposition of the (row-weighted) kernel matrix."""

    xp: Any
    U: Any          # (n, n) eigenvectors
    s: Any          # (n,) eigenvalues, clipped at 0
    d: Optional[Any]  # (n,) square-root row weights, None for unit weights

    @property
    def n(self):
        return self.U.shape[0]


@dataclass
class TaskEigen:
    """Eigendecomposition of the task matrix A."""

    V: Any
    delta: Any


def decompose_kernel(xp, K, sample_weight=None, overwrite=False):
    """Eigendecompose ``D K D`` once (D = sqrt of the row weights)."""
    n = K.shape[0]
    check_memory(
        dense_bytes(n, copies=3), xp,
        what=f"The eigendecomposition of the {n} x {n} kernel matrix",
        instead="Set approximation='nystroem' on the estimator (low-rank input "
                "features, exact task structure), or subsample the rows.",
    )
    d = None
    if sample_weight is not None:
        d = xp.sqrt(sample_weight)
        K = linalg.scale_symmetric(xp, K if overwrite else xp.asarray(K, copy=True), d)
        overwrite = True
    s, U = linalg.eigh(xp, K, overwrite=overwrite)
    return KernelEigen(xp, U, xp.clip(s, 0.0, None), d)


def decompose_task_matrix(xp, A):
    """Eigendecompose the T x T task matrix (cheap: O(T^3))."""
    delta, V = linalg.eigh(xp, A)
    return TaskEigen(V, xp.clip(delta, 0.0, None))


def rotate_targets(kfac, tfac, Y):
    """Targets in the joint eigenbasis, ``U^T D Y V``; reusable across alphas."""
    xp = kfac.xp
    Yw = Y if kfac.d is None else Y * kfac.d[:, None]
    return (xp.matrix_transpose(kfac.U) @ Yw) @ tfac.V


def _weight_direction(kfac):
    """u = U^T D 1: the intercept direction in the rotated basis."""
    xp = kfac.xp
    ones = xp.ones((kfac.n,), dtype=kfac.U.dtype) if kfac.d is None else kfac.d
    return xp.matrix_transpose(kfac.U) @ ones


def solve_rotated(kfac, tfac, Y_rot, alpha, fit_intercept=True):
    """Solve for one alpha from rotated targets.

    Returns
    -------
    C_rot : array (n, T)
        Scaled coefficients in the rotated basis.
    b : array (T,) or None
        Task intercepts.
    """
    xp = kfac.xp
    G = kfac.s[:, None] * tfac.delta[None, :] + alpha
    Ginv = linalg.safe_reciprocal(xp, G, "shared-input system")
    C_rot = Y_rot * Ginv
    b = None
    if fit_intercept:
        u = _weight_direction(kfac)
        h = xp.sum((u * u)[:, None] * Ginv, axis=0)
        beta = (u @ C_rot) / h
        C_rot = C_rot - (u[:, None] * beta[None, :]) * Ginv
        b = tfac.V @ beta
    return C_rot, b


def unrotate(kfac, tfac, C_rot):
    """Dual coefficients C (n, T) in the original units from rotated ones."""
    xp = kfac.xp
    C = kfac.U @ (C_rot @ xp.matrix_transpose(tfac.V))
    return C if kfac.d is None else C * kfac.d[:, None]


def solve(kfac, tfac, Y, alpha, fit_intercept=True):
    """Dual coefficients C (n, T) and intercepts b of ``K C A + alpha C = Y``.

    Parameters
    ----------
    kfac : KernelEigen
    tfac : TaskEigen
    Y : array of shape (n, T)
        Complete targets.
    alpha : float
        Regularization, >= 0.
    fit_intercept : bool
        Unpenalized per-task intercepts.
    """
    C_rot, b = solve_rotated(kfac, tfac, rotate_targets(kfac, tfac, Y), alpha,
                             fit_intercept)
    return unrotate(kfac, tfac, C_rot), b


def solve_path(kfac, tfac, Y, alphas, fit_intercept=True):
    """Coefficients for many alphas; the eigendecompositions and the target
    rotation are computed once."""
    Y_rot = rotate_targets(kfac, tfac, Y)
    out = []
    for alpha in alphas:
        C_rot, b = solve_rotated(kfac, tfac, Y_rot, alpha, fit_intercept)
        out.append((unrotate(kfac, tfac, C_rot), b))
    return out


def loo_residuals(kfac, tfac, Y, alpha, fit_intercept=True, Y_rot=None):
    r"""Exact leave-one-entry-out residuals, in the rotated basis.

    With :math:`R` the map from (scaled) targets to scaled coefficients, the
    hat matrix is :math:`I - \alpha R`, so the LOO residual of entry e is
    :math:`\tilde c_e / R_{ee}` (divided by the row weight's square root to
    return to the original units; 0 for a zero-weight row, which is not
    scored).  ``diag(R)`` costs O(n^2 T + n T^2):
    :math:`(U\circ U)\,G^{-1}(V\circ V)^\top` minus the intercept term
    :math:`(Q\circ Q)\,\mathrm{diag}(1/h)(V\circ V)^\top` with
    :math:`Q = U (u/G)`.
    """
    xp = kfac.xp
    if Y_rot is None:
        Y_rot = rotate_targets(kfac, tfac, Y)
    C_rot, _ = solve_rotated(kfac, tfac, Y_rot, alpha, fit_intercept)
    C_scaled = kfac.U @ (C_rot @ xp.matrix_transpose(tfac.V))
    G = kfac.s[:, None] * tfac.delta[None, :] + alpha
    Ginv = linalg.safe_reciprocal(xp, G, "shared-input system")
    UU = kfac.U * kfac.U
    VV = tfac.V * tfac.V
    diag_R = (UU @ Ginv) @ xp.matrix_transpose(VV)
    if fit_intercept:
        u = _weight_direction(kfac)
        h = xp.sum((u * u)[:, None] * Ginv, axis=0)
        Q = kfac.U @ (u[:, None] * Ginv)
        diag_R = diag_R - ((Q * Q) / h[None, :]) @ xp.matrix_transpose(VV)
    resid = C_scaled / diag_R
    if kfac.d is None:
        return resid
    # A zero-weight row is not there: it is not scored, and its residual
    # would divide by zero; report 0 for it.
    present = kfac.d > 0
    d = xp.where(present, kfac.d, xp.ones_like(kfac.d))
    return xp.where(present[:, None], resid / d[:, None], xp.zeros_like(resid))
