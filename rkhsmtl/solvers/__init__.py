"""Solvers for the separable-kernel ridge system, one module each.

* :mod:`~rkhsmtl.solvers.sylvester`: shared inputs, complete targets (eigh of
  K and A, any number of alphas / task matrices afterwards).
* :mod:`~rkhsmtl.solvers.masked_cg`: shared inputs with missing or weighted
  entries (PCG preconditioned by the complete-grid eigen solve).
* :mod:`~rkhsmtl.solvers.cholesky`: heterogeneous tasks, dense factorization.
* :mod:`~rkhsmtl.solvers.dense_eigen`: heterogeneous tasks, one eigh for many
  alphas (cross-validation paths, singular fallbacks).
* :mod:`~rkhsmtl.solvers.hadamard_cg`: heterogeneous tasks, matrix-free PCG.
* :mod:`~rkhsmtl.solvers.warm_cholesky`: heterogeneous tasks, a sequence of
  task matrices (the learned structures' steps): PCG on the last Cholesky
  factor, refactored when stale.
* :mod:`~rkhsmtl.solvers.feature_statistics`, :mod:`~rkhsmtl.solvers.feature_ridge`:
  the approximate path (one pass of sufficient statistics, then m x m solves).

:func:`choose_solver` holds the ``"auto"`` rule.
"""
from ._auto import SOLVERS, choose_solver
from ._problem import SeparableProblem, Solution

__all__ = ["SOLVERS", "choose_solver", "SeparableProblem", "Solution"]
