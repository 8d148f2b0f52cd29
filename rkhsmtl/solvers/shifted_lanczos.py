r"""Many shifted systems from one Krylov space: :math:`(P + sI)\,u_s = b` for every s.

Cross-validation over a grid of alphas solves, for one fold and one task
matrix, :math:`(H + \alpha I) x = r` for every alpha (H the projected
kernel system of :mod:`rkhsmtl.solvers.warm_cholesky`).  With one exact
factorization at :math:`\sigma`, :math:`P = (H + \sigma I)^{-1}` turns each
of them into a shifted system of the *same* operator,

.. math::

    (H + \alpha I) x = r \iff (P + s I)\, x = s\, P r,
    \qquad s = 1 / (\alpha - \sigma),

and Krylov spaces do not depend on the shift: one Lanczos process on P,
started from :math:`b = P r`, gives every alpha's CG iterate
:math:`u_s = V_k (T_k + sI)^{-1} \lVert b\rVert e_1` from one tridiagonal
matrix, at the cost of one application of P (two triangular solves) per
iteration and no product with the kernel at all.  Each shifted matrix is
definite (positive for :math:`\alpha > \sigma`, negative for
:math:`\alpha < \sigma`, since :math:`|s| > 1/\sigma \ge \lambda_{\max}(P)`),
so every iterate is that of CG on its own system and converges at its own
rate (condition number :math:`\max(\alpha/\sigma, \sigma/\alpha)`).

The Lanczos vectors are reorthogonalized in full (their number stays in
the hundreds), so no spurious copies of converged eigenvalues slow it down.
numpy only.
"""
import numpy as np
import scipy.linalg


def solve_shifted(apply, b, shifts, *, tol=1e-13, max_iter=500, check_every=5):
    """``u_s = (P + s I)^{-1} b`` for every shift, from one Lanczos process of P.

    Parameters
    ----------
    apply : callable
        ``v -> P v`` for a symmetric P (1-D arrays).
    b : ndarray of shape (n,)
    shifts : sequence of float
        Every ``P + s I`` must be definite (of either sign).
    tol : float
        Stop once every shifted residual ``||b - (P + s I) u_s||`` is at most
        ``tol * ||b||`` (estimated by the Lanczos recurrence).
    max_iter : int
    check_every : int
        Iterations between two estimates of the residuals.

    Returns
    -------
    solutions : list of ndarray
        One ``u_s`` per shift, in the order of ``shifts``.
    info : dict
        ``n_iter`` and ``residuals`` (the estimates, relative to ``||b||``).
    """
    shifts = np.asarray(shifts, dtype=float)
    n = b.shape[0]
    b_norm = float(np.sqrt(b @ b))
    if b_norm == 0.0:
        return [np.zeros_like(b) for _ in shifts], {"n_iter": 0,
                                                     "residuals": np.zeros(len(shifts))}
    max_iter = max(1, min(int(max_iter), n))
    V = np.empty((max_iter + 1, n))
    V[0] = b / b_norm
    diag, off = [], []
    k = 0
    residuals = np.full(len(shifts), np.inf)
    coefficients = None
    while k < max_iter:
        w = apply(V[k])
        a = float(w @ V[k])
        w = w - a * V[k]
        if k > 0:
            w -= off[-1] * V[k - 1]
        # Full reorthogonalization, twice ("twice is enough").
        for _ in range(2):
            w -= V[:k + 1].T @ (V[:k + 1] @ w)
        beta = float(np.sqrt(w @ w))
        if not (np.isfinite(a) and np.isfinite(beta)):
            # A non-finite operator output: no solution to offer (NaN, which
            # the caller's residual check refuses) rather than a silent one.
            nan = np.full_like(b, np.nan)
            return [nan.copy() for _ in shifts], {"n_iter": k + 1,
                                                  "residuals": np.full(len(shifts), np.nan)}
        diag.append(a)
        k += 1
        # An exhausted Krylov space (b in an invariant subspace): exact.
        scale = max(abs(a), off[-1] if off else 0.0, 1e-300)
        invariant = beta <= 1e-12 * scale
        if invariant or k % check_every == 0 or k == max_iter:
            coefficients, residuals = _shifted_coefficients(diag, off, beta, b_norm,
                                                            shifts, invariant)
            if invariant or np.all(residuals <= tol):
                break
        off.append(beta)
        V[k] = w / beta
    if coefficients is None or coefficients.shape[0] != k:
        coefficients, residuals = _shifted_coefficients(diag, off[:k - 1], 0.0, b_norm,
                                                        shifts, True)
    solutions = [V[:k].T @ coefficients[:, i] for i in range(len(shifts))]
    return solutions, {"n_iter": k, "residuals": residuals}


def _shifted_coefficients(diag, off, beta, b_norm, shifts, exact):
    """``y_s = (T + s I)^{-1} ||b|| e_1`` for every shift and their residual
    estimates ``beta |e_k^T y_s| / ||b||`` (0 for an invariant subspace)."""
    theta, S = scipy.linalg.eigh_tridiagonal(np.asarray(diag), np.asarray(off[:len(diag) - 1]))
    # y_s = ||b|| S diag(1 / (theta + s)) S^T e_1
    weights = S[0][:, None] / (theta[:, None] + shifts[None, :])      # (k, n_shifts)
    Y = b_norm * (S @ weights)
    residuals = (np.zeros(len(shifts)) if exact
                 else beta * np.abs(Y[-1]) / b_norm)
    return Y, residuals
