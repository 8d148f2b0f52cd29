r"""Sparse task-matrix step: ℓ1 on the off-diagonal entries of A.

Minimizes, over symmetric positive definite A,

.. math::

    \phi(A) = \alpha\,\mathrm{tr}(A^{-1} M) + \beta\,\mathrm{tr}(A)
             + \beta\lambda_s \sum_{s \ne t} |A_{st}|,

with :math:`M \succ 0` (the ε-barrier makes it so).  The trace term keeps the
diagonal bounded (without it A would grow without limit); the ℓ1 term
zeroes weak task relations.  No closed form exists: this is accelerated
proximal gradient (FISTA with a monotone restart) whose proximal map is the
soft-threshold of the off-diagonal entries.  The barrier keeps the minimizer
in the interior of the PSD cone, so the cone constraint never binds at the
solution; the line search rejects any step that leaves it (Cholesky
fails), which is the projection onto the domain that the step needs.
"""
import numpy as np

from ._spectral import trace_map, from_eig, sym_eig


def _soft_off_diagonal(A, thresh):
    out = np.sign(A) * np.maximum(np.abs(A) - thresh, 0.0)
    np.fill_diagonal(out, np.diag(A))
    return out


class SparseStep:
    """A-step of the sparse penalty (state: A).

    Parameters
    ----------
    alpha : float
        Weight of ``tr(A^-1 M)``.
    beta : float
        Weight of ``tr(A)``.
    sparsity : float, default=1.0
        Weight of the off-diagonal l1 norm relative to beta.
    max_iter : int, default=500
        Proximal-gradient iterations.
    tol : float, default=1e-10
        Relative change of A at which they stop.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import SparseStep
    >>> step = SparseStep(alpha=1.0, beta=1.0)
    >>> A = step.update(np.diag([4.0, 1.0]))
    >>> A.round(3).tolist()
    [[2.0, 0.0], [0.0, 1.0]]
    """

    def __init__(self, alpha, beta, sparsity=1.0, max_iter=500, tol=1e-10):
        self.alpha, self.beta, self.sparsity = alpha, beta, sparsity
        self.max_iter, self.tol = max_iter, tol

    def init_state(self, n_tasks):
        return np.eye(n_tasks)

    def task_matrix(self, A):
        return A

    def penalty(self, A):
        off = np.abs(A).sum() - np.abs(np.diag(A)).sum()
        return self.beta * (float(np.trace(A)) + self.sparsity * float(off))

    def project(self, A, reference):
        """An extrapolated (Anderson) A mapped back into the domain A > 0:
        eigenvalues floored at half the smallest of ``reference`` (the plain
        step's A)."""
        w, V = sym_eig(A)
        floor = 0.5 * max(float(np.linalg.eigvalsh(reference)[0]), 0.0)
        if not floor > 0:
            return None
        return from_eig(np.maximum(w, floor), V)

    def _smooth(self, A, M):
        """Value and gradient of alpha tr(A^-1 M) + beta tr(A); inf off the domain."""
        try:
            L = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return np.inf, None
        Linv = np.linalg.inv(L)
        Ainv = Linv.T @ Linv
        value = self.alpha * float(np.sum(Ainv * M)) + self.beta * float(np.trace(A))
        grad = -self.alpha * (Ainv @ M @ Ainv) + self.beta * np.eye(A.shape[0])
        return value, 0.5 * (grad + grad.T)

    def _objective(self, A, M):
        value, _ = self._smooth(A, M)
        off = np.abs(A).sum() - np.abs(np.diag(A)).sum()
        return value + self.beta * self.sparsity * off

    def update(self, M, A_prev=None):
        M = 0.5 * (M + M.T)
        if A_prev is None or not np.isfinite(self._smooth(A_prev, M)[0]):
            # The trace step's closed form is the sparsity=0 solution.
            s, V = sym_eig(M)
            A_prev = from_eig(trace_map(s, self.alpha, self.beta), V)
        A = Z = A_prev
        obj = self._objective(A, M)
        step, t = 1.0 / max(np.abs(M).max(), 1e-12), 1.0
        thresh = self.beta * self.sparsity
        for _ in range(self.max_iter):
            fz, gz = self._smooth(Z, M)
            if gz is None:           # momentum left the domain: restart at A
                Z, t = A, 1.0
                fz, gz = self._smooth(Z, M)
            while True:
                A_new = _soft_off_diagonal(Z - step * gz, step * thresh)
                f_new, _ = self._smooth(A_new, M)
                D = A_new - Z
                if np.isfinite(f_new) and \
                        f_new <= fz + np.sum(gz * D) + np.sum(D * D) / (2 * step):
                    break
                step *= 0.5
                if step < 1e-30:
                    return A
            obj_new = self._objective(A_new, M)
            if obj_new > obj:        # monotone restart
                Z, t = A, 1.0
                continue
            t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
            Z = A_new + ((t - 1.0) / t_new) * (A_new - A)
            change = np.linalg.norm(A_new - A) / max(np.linalg.norm(A_new), 1e-300)
            A, obj, t = A_new, obj_new, t_new
            step *= 2.0
            if change <= self.tol:
                break
        return 0.5 * (A + A.T)
