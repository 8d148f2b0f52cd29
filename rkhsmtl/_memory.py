"""Estimate memory before allocating large matrices, and fail early.

A kernel method's big allocations are predictable (an n x n or N x N float64
matrix and its factor), so we check them against the memory that is actually
free before computing anything, and tell the user what to do instead.
"""
import os

from ._backend import is_cupy

GIB = 1024.0**3


def available_memory(xp):
    """Bytes that can be allocated now on the device of namespace ``xp``."""
    override = os.environ.get("RKHSMTL_MAX_MEMORY_GB")
    if override:
        return float(override) * GIB
    if is_cupy(xp):  # pragma: no cover - needs a GPU
        import cupy

        free, _ = cupy.cuda.runtime.memGetInfo()
        return float(free + cupy.get_default_memory_pool().free_bytes())
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return float("inf")


def dense_bytes(n_rows, n_cols=None, copies=1.0, itemsize=8):
    """Bytes taken by ``copies`` dense float arrays of the given shape."""
    n_cols = n_rows if n_cols is None else n_cols
    return copies * float(n_rows) * float(n_cols) * itemsize


def check_memory(needed, xp, *, what, instead):
    """Raise a MemoryError naming the size and the alternative if needed > free."""
    free = available_memory(xp)
    if needed > free:
        raise MemoryError(
            f"{what} needs about {needed / GIB:.1f} GiB but only "
            f"{free / GIB:.1f} GiB is available. {instead}"
        )
    return free
