"""Array namespace and device selection.

This package is the only place in rkhsmtl that knows about specific array
libraries.  Everything above it receives an array namespace ``xp`` (picked once
per public call by :func:`get_namespace`) and calls the primitives of
:mod:`rkhsmtl._backend.linalg` for the few operations the array API standard
does not cover (symmetric eigendecomposition with a chosen driver, Cholesky
solves, in-place diagonal updates).
"""
from ._namespace import (
    get_namespace,
    is_numpy,
    is_cupy,
    to_numpy,
    asarray_on,
    device_of,
    same_device,
)
from . import linalg

__all__ = [
    "get_namespace",
    "is_numpy",
    "is_cupy",
    "to_numpy",
    "asarray_on",
    "device_of",
    "same_device",
    "linalg",
]
