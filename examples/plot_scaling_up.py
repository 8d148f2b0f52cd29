"""
Past the N x N wall: Nystroem features, the exact task matrix, and Dask
=======================================================================

An exact fit on heterogeneous tasks factors the ``N x N`` kernel system, so
it stops where ``N^2`` doubles no longer fit.  ``approximation="nystroem"``
keeps the task structure exact and replaces only the input kernel by ``m``
features: one pass over the rows gathers ``m x m`` statistics per task, and
the solve no longer depends on ``N``.

This script

1. compares the approximate fit with the exact one as ``m`` grows, on a size
   where both run (test error and fit time);
2. fits 300,000 rows, where the exact kernel matrix would need 670 GiB;
3. fits the same rows from Dask arrays (the statistics computed block by
   block; here on the threaded scheduler, the same code runs on a
   ``dask.distributed`` cluster) and predicts lazily.

Every number printed or plotted was measured when the documentation was
built, on the machine that built it.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from rkhsmtl import MultiTaskKernelRidge

rng = np.random.RandomState(0)
n_tasks, d = 20, 5


def make_rows(n, seed):
    """Tasks share a smooth function; four groups of tasks add their own."""
    r = np.random.RandomState(seed)
    X = r.randn(n, d)
    task = r.randint(0, n_tasks, n)
    y = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1] + task % 4) + 0.1 * r.randn(n)
    return X, y, task


X, y, task = make_rows(4000, 1)
X_test, y_test, task_test = make_rows(2000, 2)
params = dict(alpha=1e-2, gamma=0.2, task_matrix="mean", omega=0.5)

# %%
# Approximate against exact as m grows
# ------------------------------------
start = time.perf_counter()
exact = MultiTaskKernelRidge(**params).fit(X, y, task=task)
exact_time = time.perf_counter() - start
exact_mse = np.mean((exact.predict(X_test, task=task_test) - y_test) ** 2)

ms, mses, times = [25, 50, 100, 200, 400], [], []
for m in ms:
    start = time.perf_counter()
    model = MultiTaskKernelRidge(**params, approximation="nystroem", n_components=m,
                                 random_state=0).fit(X, y, task=task)
    times.append(time.perf_counter() - start)
    mses.append(np.mean((model.predict(X_test, task=task_test) - y_test) ** 2))
    print(f"m = {m:4d}: test MSE {mses[-1]:.4f}, fit {times[-1]:.2f} s")
print(f"exact (N = {len(y)}): test MSE {exact_mse:.4f}, fit {exact_time:.2f} s")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(ms, mses, "o-", label="Nystroem, m landmarks")
ax.axhline(exact_mse, color="k", ls="--", label="exact")
ax.axhline(0.01, color="gray", ls=":", label="noise variance")
ax.set_xscale("log")
ax.set_xlabel("m (number of landmarks)")
ax.set_ylabel("test MSE")
ax.legend()
fig.tight_layout()

# %%
# 300,000 rows in memory
# ----------------------
X_big, y_big, task_big = make_rows(300_000, 3)
start = time.perf_counter()
big = MultiTaskKernelRidge(**params, approximation="nystroem", n_components=200,
                           random_state=0).fit(X_big, y_big, task=task_big)
print(f"N = {len(y_big):,}: fit {time.perf_counter() - start:.1f} s "
      f"(the exact N x N matrix would need {8 * len(y_big) ** 2 / 1024 ** 3:,.0f} GiB); "
      f"test MSE {np.mean((big.predict(X_test, task=task_test) - y_test) ** 2):.4f}")

# %%
# The same rows from Dask arrays
# ------------------------------
# With Dask the rows stay where they are: each block's statistics are computed
# where the block lives and merged; ``predict`` on a Dask array is lazy.
try:
    import dask.array as da
except ImportError:  # the optional "dask" extra
    da = None
    print('Dask is not installed (pip install "rkhsmtl[dask]"): part skipped.')
if da is not None:
    chunks = 50_000
    Xd = da.from_array(X_big, chunks=(chunks, d))
    yd = da.from_array(y_big, chunks=chunks)
    td = da.from_array(task_big, chunks=chunks)
    start = time.perf_counter()
    on_dask = MultiTaskKernelRidge(**params, approximation="nystroem", n_components=200,
                                   random_state=0).fit(Xd, yd, task=td)
    print(f"Dask ({Xd.numblocks[0]} blocks, threaded scheduler): fit "
          f"{time.perf_counter() - start:.1f} s")
    lazy = on_dask.predict(da.from_array(X_test, chunks=(500, d)), task=task_test)
    print(f"lazy prediction: {type(lazy).__name__} with {lazy.numblocks[0]} blocks; "
          f"test MSE {np.mean((lazy.compute() - y_test) ** 2):.4f}")
