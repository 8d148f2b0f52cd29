"""Input kernels k(x, x') on any array namespace.

Defaults follow scikit-learn's pairwise kernels so results agree with
``sklearn.kernel_ridge.KernelRidge``: ``gamma=None`` means ``1 / n_features``,
``degree=3``, ``coef0=1``.
"""
from ._pairwise import (
    KERNELS,
    compute_kernel,
    linear_kernel,
    polynomial_kernel,
    rbf_kernel,
    laplacian_kernel,
)

__all__ = [
    "KERNELS",
    "compute_kernel",
    "linear_kernel",
    "polynomial_kernel",
    "rbf_kernel",
    "laplacian_kernel",
]
