"""Task matrices A of the separable kernel k(x, x') A[s, t].

Fixed structures live here; learned-structure updates (trace, Frobenius,
cluster, ...) plug into the same place as functions M -> A.
"""
from ._descriptors import (
    check_task_features,
    descriptor_kernel,
    descriptor_task_matrix,
    unseen_intercepts,
    unseen_task_rows,
)
from ._fixed import (
    TASK_MATRICES,
    check_task_matrix,
    graph_task_matrix,
    independent_task_matrix,
    mean_regularized_task_matrix,
    pooled_task_matrix,
    resolve_task_matrix,
)

__all__ = [
    "TASK_MATRICES",
    "check_task_features",
    "check_task_matrix",
    "descriptor_kernel",
    "descriptor_task_matrix",
    "graph_task_matrix",
    "independent_task_matrix",
    "mean_regularized_task_matrix",
    "pooled_task_matrix",
    "resolve_task_matrix",
    "unseen_intercepts",
    "unseen_task_rows",
]
