r"""Shared inputs with missing or weighted entries: exact PCG.

Only the observed entries Omega of Y enter the loss, with entry weights
:math:`w_{it}` (0 off Omega).  In scaled form
:math:`\tilde c = W^{-1/2} c` the system on Omega is

.. math::

    (W^{1/2} P_\Omega (A \otimes K) P_\Omega^\top W^{1/2} + \alpha I)\,\tilde c
      + \tilde E b = W^{1/2} y_\Omega, \qquad \tilde E^\top \tilde c = 0,

solved by projected CG on n x T arrays that are zero off Omega.  The
operator costs two GEMMs, O(n^2 T + n T^2); the preconditioner is the exact
complete-grid inverse :math:`(\bar w\,A \otimes K + \alpha I)^{-1}` applied
through the cached eigendecompositions of K and A (the same factors the
complete-data solver uses), so K is decomposed once for every alpha, every
iteration of an outer loop and every Newton step.
"""
from ._pcg import column_constraint, pcg


def solve(kfac, tfac, K, A, Y, weights, alpha, fit_intercept=True, x0=None,
          tol=1e-10, max_iter=1000):
    """Dual coefficients C (n, T) and intercepts b on observed entries.

    Parameters
    ----------
    kfac : sylvester.KernelEigen
        Eigendecomposition of the unweighted K (for the preconditioner).
    tfac : sylvester.TaskEigen
    K : array (n, n)
    A : array (T, T)
    Y : array (n, T)
        Targets; entries with zero weight are ignored (NaN allowed there).
    weights : array (n, T)
        Entry weights, 0 on missing entries.
    x0 : array (n, T), optional
        Warm start for the scaled coefficients (e.g. the previous fit's
        ``info["x"]``).

    Returns
    -------
    C : array (n, T)
    b : array (T,) or None
    info : dict
        CG diagnostics and ``x`` (scaled coefficients, for warm starts).
    """
    xp = kfac.xp
    sw = xp.sqrt(weights)
    observed = weights > 0
    Y0 = xp.where(observed, Y, xp.zeros_like(Y))
    rhs = sw * Y0
    n_obs = float(xp.sum(xp.astype(observed, Y.dtype)))
    w_bar = float(xp.sum(weights)) / max(n_obs, 1.0)

    def matvec(Z):
        return sw * (K @ ((sw * Z) @ A)) + alpha * Z

    # Complete-grid inverse as preconditioner, masked back onto Omega.
    G = w_bar * kfac.s[:, None] * tfac.delta[None, :] + alpha
    Ginv = 1.0 / G
    Ut, Vt = xp.matrix_transpose(kfac.U), xp.matrix_transpose(tfac.V)

    def precond(R):
        R = xp.where(observed, R, xp.zeros_like(R))
        Z = kfac.U @ (((Ut @ R) @ tfac.V) * Ginv) @ Vt
        return xp.where(observed, Z, xp.zeros_like(Z))

    project, intercepts = column_constraint(xp, sw)
    x, info = pcg(xp, matvec, rhs, precond=precond,
                  project=project if fit_intercept else None, x0=x0,
                  tol=tol, max_iter=max_iter, what="masked CG solver")
    b = intercepts(rhs - matvec(x)) if fit_intercept else None
    info["x"] = x
    return sw * x, b, info

