import os
from pathlib import Path

import numpy as np
import pytest

# Real datasets live beside the repository (../shared/data); the package only
# reads them through RKHSMTL_DATA, which the test suite sets here.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if "RKHSMTL_DATA" not in os.environ and _SHARED.is_dir():
    os.environ["RKHSMTL_DATA"] = str(_SHARED)


def _namespaces():
    out = [pytest.param("numpy", id="numpy")]
    try:
        import array_api_strict  # noqa: F401

        out.append(pytest.param("array_api_strict", id="array_api_strict"))
    except ImportError:  # pragma: no cover
        pass
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
        out.append(pytest.param("cupy", id="cupy", marks=pytest.mark.gpu))
    except Exception:  # noqa: BLE001 - any failure means no usable GPU
        pass
    return out


@pytest.fixture(params=_namespaces())
def xp_name(request):
    """Name of an available array namespace: numpy, array_api_strict, cupy."""
    return request.param


def to_xp(name, a):
    if name == "numpy":
        return np.asarray(a)
    if name == "array_api_strict":
        import array_api_strict

        return array_api_strict.asarray(np.asarray(a))
    import cupy

    return cupy.asarray(a)


def data_file(name):
    root = os.environ.get("RKHSMTL_DATA")
    path = Path(root) / name if root else None
    if path is None or not path.exists():
        pytest.skip(f"{name} not available (set RKHSMTL_DATA)")
    return path
