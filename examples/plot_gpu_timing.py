"""
Timing a fit on the CPU and, when available, on a GPU
=====================================================

:class:`~rkhsmtl.MultiTaskKernelRidge` runs on NumPy/SciPy by default and on
CuPy when it receives CuPy arrays (``pip install "rkhsmtl[gpu]"``).  This
script times two fits of moderate size:

* shared inputs (every task observed at the same ``n`` inputs), solved by the
  eigendecompositions of ``K`` and ``A`` (``solver="eigen"``);
* heterogeneous tasks (each task has its own rows), solved by one dense
  Cholesky factorization of the ``N x N`` system (``solver="cholesky"``).

The CuPy timings are taken only when CuPy is installed and sees a CUDA
device; otherwise the script says that the GPU part was skipped.  Every
number printed or plotted here was measured when the documentation was built,
on the machine that built it; the machine is named in the output.
"""

import os
import platform
import time

import matplotlib.pyplot as plt
import numpy as np

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.datasets import make_multitask_regression

n_shared, n_tasks, n_per_task = 600, 10, 60


def best_time(fit, repeats=3, sync=lambda: None):
    """Fastest of ``repeats`` calls of ``fit()``, in seconds."""
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fit()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)


X_sh, Y_sh, _ = make_multitask_regression(
    n_samples=n_shared, n_tasks=n_tasks, n_features=5, shared_inputs=True,
    random_state=0)
X_het, y_het, t_het, _ = make_multitask_regression(
    n_samples=n_per_task, n_tasks=n_tasks, n_features=5, random_state=0)

cases = {
    f"shared inputs, n={n_shared}, T={n_tasks} (eigen)":
        (dict(solver="eigen"), (X_sh, Y_sh), {}),
    f"heterogeneous, N={len(y_het)}, T={n_tasks} (cholesky)":
        (dict(solver="cholesky"), (X_het, y_het), {"task": t_het}),
}



def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores; numpy {np.__version__}")
cpu = {}
for name, (params, args, kwargs) in cases.items():
    model = MultiTaskKernelRidge(alpha=0.1, **params)
    cpu[name] = best_time(lambda: model.fit(*args, **kwargs))
    print(f"numpy  {name}: {cpu[name]:.3f} s")

# %%
# CuPy, only if a CUDA device is usable
# -------------------------------------


def cuda_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDA runtime errors without a driver
        return False


gpu = {}
if cuda_available():
    import cupy

    gpu_name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"]
    if isinstance(gpu_name, bytes):
        gpu_name = gpu_name.decode()
    print(f"GPU: {gpu_name}, CuPy {cupy.__version__}")
    sync = cupy.cuda.Device().synchronize
    for name, (params, args, kwargs) in cases.items():
        model = MultiTaskKernelRidge(alpha=0.1, **params)
        args_gpu = tuple(cupy.asarray(a) for a in args)
        # Task labels stay on the host; the arrays decide the backend.
        model.fit(*args_gpu, **kwargs)  # warm-up: context, kernels, plans
        gpu[name] = best_time(lambda: model.fit(*args_gpu, **kwargs), sync=sync)
        print(f"cupy   {name}: {gpu[name]:.3f} s")
else:
    print("GPU timing skipped: CuPy with a CUDA device is not available here.")

# %%
# Measured times
# --------------

labels = list(cpu)
fig, ax = plt.subplots(figsize=(7, 3))
y = np.arange(len(labels))
height = 0.38 if gpu else 0.6
ax.barh(y, [cpu[k] for k in labels], height=height, label="numpy (CPU)")
if gpu:
    ax.barh(y + height, [gpu[k] for k in labels], height=height, label="CuPy (GPU)")
ax.set_yticks(y + (height / 2 if gpu else 0), labels)
ax.invert_yaxis()
ax.set_xlabel("fit time, best of 3 (s)")
ax.legend()
fig.tight_layout()
plt.show()
