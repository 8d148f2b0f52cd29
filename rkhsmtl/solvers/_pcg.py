"""Projected preconditioned conjugate gradients on arrays of any shape.

Used by the matrix-free solvers.  The projector enforces the intercept
constraint (coefficients of every task sum to zero), so the bordered system
[[M, E], [E^T, 0]] is solved exactly without forming it: CG runs on P M P in
the range of the orthogonal projector P, with preconditioner P B P.
"""
import warnings

from sklearn.exceptions import ConvergenceWarning


def column_constraint(xp, sw):
    """Intercept constraint of column-per-task problems (N x T arrays).

    With ``sw`` the square roots of the entry weights, each column of the
    scaled coefficients must be orthogonal to its column of ``sw``.

    Returns
    -------
    project : callable
        The orthogonal projector onto that subspace.
    intercepts : callable
        ``residual -> b``: the intercepts from ``rhs - M x`` at the solution.
    """
    norms = xp.sum(sw * sw, axis=0)
    norms = xp.where(norms > 0, norms, xp.ones_like(norms))

    def project(Z):
        return Z - sw * (xp.sum(sw * Z, axis=0) / norms)[None, :]

    def intercepts(residual):
        return xp.sum(sw * residual, axis=0) / norms

    return project, intercepts


def _dot(xp, a, b):
    return float(xp.sum(a * b))


def pcg(xp, matvec, rhs, *, precond=None, project=None, x0=None, tol=1e-10,
        max_iter=1000, what="solver", keep_residual=False):
    """Solve ``M x = rhs`` (x and rhs in range(P)) by projected PCG.

    Parameters
    ----------
    matvec : callable
        x -> M x, M symmetric positive definite on range(P).
    rhs : array
        Right-hand side, any shape.
    precond : callable, optional
        r -> B r with B symmetric positive definite.
    project : callable, optional
        Orthogonal projector P onto the constraint subspace.
    x0 : array, optional
        Warm start (projected before use).
    tol : float
        Stop when ||P(rhs - M x)|| <= tol * ||P rhs||.
    keep_residual : bool, default=False
        Also return the last residual (``info["r"]``).

    Returns
    -------
    x : array
    info : dict
        ``n_iter``, ``residual`` (relative), ``converged``; with
        ``keep_residual``, ``r``: the projected residual ``P(rhs - M x)`` as
        the iteration updated it.
    """
    P = project if project is not None else (lambda v: v)
    B = precond if precond is not None else (lambda v: v)
    b = P(rhs)
    b_norm = _dot(xp, b, b) ** 0.5
    if b_norm == 0.0:
        info = {"n_iter": 0, "residual": 0.0, "converged": True}
        if keep_residual:
            info["r"] = b
        return xp.zeros_like(rhs), info
    if x0 is None:
        x = xp.zeros_like(rhs)
        r = b
    else:
        x = P(x0)
        r = P(rhs - matvec(x))
    z = P(B(r))
    p = z
    rz = _dot(xp, r, z)
    rel = _dot(xp, r, r) ** 0.5 / b_norm
    n_iter = 0
    while rel > tol and n_iter < max_iter:
        q = P(matvec(p))
        step = rz / _dot(xp, p, q)
        x = x + step * p
        r = r - step * q
        rel = _dot(xp, r, r) ** 0.5 / b_norm
        n_iter += 1
        if rel <= tol:
            break
        z = P(B(r))
        rz_new = _dot(xp, r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    converged = rel <= tol
    if not converged:
        warnings.warn(
            f"The {what} did not converge in max_iter={max_iter} iterations "
            f"(relative residual {rel:.2e} > tol={tol:g}). Increase 'max_iter', "
            "loosen 'tol', or increase 'alpha' to improve conditioning.",
            ConvergenceWarning,
            stacklevel=3,
        )
    info = {"n_iter": n_iter, "residual": rel, "converged": converged}
    if keep_residual:
        info["r"] = r
    return x, info

