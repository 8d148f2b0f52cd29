r"""Task-relation learning (MTRL, Zhang & Yeung 2010): the Ω step.

With task covariance :math:`\Omega \succeq 0`, :math:`\mathrm{tr}\,\Omega = 1`,
the penalty :math:`\lambda_1 \mathrm{tr}(M) + \lambda_2 \mathrm{tr}(\Omega^{-1} M)`
is a separable kernel with

.. math::

    A^{-1} = \lambda_1 I + \lambda_2 \Omega^{-1}
    \quad\Longleftrightarrow\quad A = \Omega(\lambda_1\Omega + \lambda_2 I)^{-1}.

For fixed task functions the Ω step is :math:`\Omega = M^{1/2} / \mathrm{tr}\,M^{1/2}`:
the trace step of :mod:`._spectral` renormalized to unit trace.  Off-diagonal
entries of Ω may be negative (negatively related tasks).
"""
import numpy as np

from ._spectral import from_eig, sym_eig


class RelationStep:
    """Ω step of MTRL (state: Ω).

    Parameters
    ----------
    lambda_1 : float
        Plain ridge weight.
    lambda_2 : float
        Weight of ``tr(Omega^-1 M)``.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks.learned import RelationStep
    >>> step = RelationStep(lambda_1=1.0, lambda_2=1.0)
    >>> Omega = step.update(np.diag([4.0, 1.0]))
    >>> Omega.round(3).tolist()
    [[0.667, 0.0], [0.0, 0.333]]
    >>> step.task_matrix(Omega).round(3).tolist()
    [[0.4, 0.0], [0.0, 0.25]]
    """

    def __init__(self, lambda_1, lambda_2):
        self.lambda_1, self.lambda_2 = lambda_1, lambda_2

    def init_state(self, n_tasks):
        return np.eye(n_tasks) / n_tasks

    def task_matrix(self, Omega):
        w, V = sym_eig(Omega)
        return from_eig(w / (self.lambda_1 * w + self.lambda_2), V)

    def update(self, M, Omega_prev=None):
        s, V = sym_eig(M)
        root = np.sqrt(s)
        return from_eig(root / root.sum(), V)

    def project(self, Omega, reference):
        """An extrapolated (Anderson) Ω mapped back into the domain.

        Eigenvalues floored at half the smallest one of ``reference`` (the
        plain step's Ω: a singular Ω would make the barrier infinite), then
        the trace renormalized to 1; None if it vanishes.
        """
        w, V = sym_eig(Omega)
        w = np.maximum(w, 0.5 * max(float(np.linalg.eigvalsh(reference)[0]), 0.0))
        total = w.sum()
        if not total > 0:
            return None
        return from_eig(w / total, V)

    def penalty(self, Omega):
        return 0.0
