"""Pick the array namespace once per public call.

We rely on ``array_api_compat`` for the namespace of an array (numpy, CuPy,
``array_api_strict``, ...), so rkhsmtl never maintains its own compatibility
shim.  Plain Python sequences, pandas objects and numpy arrays all map to the
numpy namespace.
"""
import numpy as np
import array_api_compat
from array_api_compat import (
    is_cupy_namespace,
    is_numpy_namespace,
)

_CUPY_HINT = (
    "CuPy is needed for device='cuda'. Install the GPU extra: "
    "pip install 'rkhsmtl[gpu]'."
)


def _import_cupy():
    try:
        import cupy  # noqa: F401  (lazy: optional dependency)
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(_CUPY_HINT) from exc
    return array_api_compat.array_namespace(cupy.empty(0))


def _is_array_api_obj(x):
    return array_api_compat.is_array_api_obj(x) and not isinstance(x, np.ndarray)


def get_namespace(*arrays, device=None):
    """Return the array namespace shared by ``arrays``.

    Parameters
    ----------
    *arrays : array-like or None
        Inputs of one public call.  ``None`` entries and non-array inputs
        (lists, pandas objects) are ignored and count as numpy.
    device : {None, "cpu", "cuda"}, default=None
        Forces a backend: ``"cpu"`` is numpy, ``"cuda"`` is CuPy.  ``None``
        follows the inputs.

    Returns
    -------
    xp : module
        An array-API compatible namespace (``array_api_compat`` wrapper).

    Raises
    ------
    TypeError
        If the inputs come from different array libraries.
    """
    if device is not None:
        if device == "cpu":
            return array_api_compat.array_namespace(np.empty(0))
        if device in ("cuda", "gpu"):
            return _import_cupy()
        raise ValueError(
            "The 'device' parameter must be one of None, 'cpu', 'cuda'; "
            f"got {device!r} instead."
        )
    foreign = [a for a in arrays if a is not None and _is_array_api_obj(a)]
    if not foreign:
        return array_api_compat.array_namespace(np.empty(0))
    try:
        return array_api_compat.array_namespace(*foreign)
    except TypeError as exc:
        kinds = sorted({type(a).__module__.split(".")[0] for a in foreign})
        raise TypeError(
            f"Inputs mix array libraries ({', '.join(kinds)}). Convert them all "
            "to one library (e.g. all numpy or all cupy) before calling."
        ) from exc


def is_numpy(xp):
    """True when ``xp`` is numpy (so scipy routines apply)."""
    return is_numpy_namespace(xp)


def is_cupy(xp):
    """True when ``xp`` is CuPy."""
    return is_cupy_namespace(xp)


def device_of(x):
    """Device of an array (``"cpu"`` for non-array inputs)."""
    if x is None or not array_api_compat.is_array_api_obj(x):
        return "cpu"
    return array_api_compat.device(x)


def same_device(a, b):
    """Whether two arrays live on the same device."""
    return str(device_of(a)) == str(device_of(b))


def to_numpy(x):
    """Copy an array of any supported namespace to a numpy array."""
    if x is None:
        return None
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "get") and type(x).__module__.startswith("cupy"):
        return x.get()
    if array_api_compat.is_array_api_obj(x):
        try:
            return np.from_dlpack(x)
        except (TypeError, RuntimeError, BufferError, AttributeError):
            pass
    return np.asarray(x)


def asarray_on(x, xp, like=None, dtype=None):
    """Move ``x`` to namespace ``xp`` (and the device of ``like``)."""
    if x is None:
        return None
    if not _is_array_api_obj(x) and not isinstance(x, np.ndarray):
        x = np.asarray(x)
    if is_numpy(xp):
        return np.asarray(to_numpy(x), dtype=dtype)
    if is_cupy(xp):
        import cupy

        return cupy.asarray(x, dtype=dtype)
    if isinstance(x, np.ndarray):
        kwargs = {} if like is None else {"device": array_api_compat.device(like)}
        return xp.asarray(x, dtype=dtype, copy=True, **kwargs)
    return xp.asarray(x, dtype=dtype)
