"""The approximate (low-rank feature) path at scale, every number measured in one run.

Parts (``--parts``):

* ``scale``: heterogeneous synthetic data, N rows, T tasks, d features;
  ``MultiTaskKernelRidge(approximation="nystroem", n_components=m)``: the
  whole fit (feature map, the one pass, the solve), the pass alone, and the
  process's peak resident memory (the data included).  The exact N x N
  matrix is reported as the memory it would need.
* ``steps``: after the pass, up to ``--steps`` alternating steps of MTRL
  (``TaskRelationLearning``) on the same statistics, against the pass time
  (``--all-steps``: exactly that many, past the fixed point).
* ``dask``: the same fit from Dask arrays, on the threaded scheduler and on a
  2-worker ``LocalCluster`` (processes), against the in-process fit.
* ``accuracy``: at a size where the exact fit runs here, the relative
  difference of the approximate predictions from the exact ones as m grows,
  with both fit times.

Usage::

    python benchmarks/bench_approximation.py                     # N = 1e6, T = 100, m = 1000
    python benchmarks/bench_approximation.py --rows 200000 --quick-accuracy
    python benchmarks/bench_approximation.py --device cuda --rows 10000000 --parts scale
"""
import argparse
import os
import platform
import resource
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning
from rkhsmtl._validation import validate_fit_data
from rkhsmtl.estimators._alternating import alternate
from rkhsmtl.estimators._approximate import make_feature_problem
from rkhsmtl.tasks.learned import RelationStep


def machine():
    cpu = platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, numpy {np.__version__}"


def peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def synthetic(N, T, d, seed=0):
    """Tasks share a smooth function plus a task-cluster offset function."""
    rng = np.random.RandomState(seed)
    X = rng.randn(N, d)
    task = rng.randint(0, T, N)
    cluster = (np.arange(T) % 4)[task]
    y = np.sin(X[:, 0]) + 0.5 * np.cos(X[:, 1] + cluster) + 0.1 * rng.randn(N)
    return X, y, task


def sync(xp_module):
    if xp_module is not None:
        xp_module.cuda.Device().synchronize()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--all-steps", action="store_true",
                        help="run exactly --steps alternating steps (no stop at the "
                             "fixed point, where a step no longer lowers J at all)")
    parser.add_argument("--parts", default="scale,steps,accuracy")
    parser.add_argument("--accuracy-rows", type=int, default=8000)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--blocks", type=int, default=4, help="Dask row blocks")
    args = parser.parse_args()
    parts = args.parts.split(",")
    cupy = None
    if args.device == "cuda":
        import cupy
    print(f"machine: {machine()}")
    if cupy is not None:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        print(f"GPU: {name}, CuPy {cupy.__version__}")
    N, T, d, m = args.rows, args.tasks, args.features, args.components
    gamma = 1.0 / d

    if "scale" in parts or "steps" in parts:
        X, y, task = synthetic(N, T, d)
        Xb, yb = (cupy.asarray(X), cupy.asarray(y)) if cupy is not None else (X, y)
        print(f"\nheterogeneous synthetic: N={N:,}, T={T}, d={d}, m={m}; the exact N x N "
              f"kernel would need {8 * N * N / 1024**4:,.1f} TiB")
        model = MultiTaskKernelRidge(alpha=1e-3, gamma=gamma, task_matrix="mean",
                                     approximation="nystroem", n_components=m,
                                     random_state=0)
        if cupy is not None:      # warm-up: CUDA context, cuBLAS/cuSOLVER handles
            model.fit(Xb[:20000], yb[:20000], task=task[:20000])
            cupy.get_default_memory_pool().free_all_blocks()
            cupy.cuda.Device().synchronize()
        start = time.perf_counter()
        model.fit(Xb, yb, task=task)
        sync(cupy)
        fit_s = time.perf_counter() - start
        pred = model.predict(Xb[:20000], task=task[:20000])
        resid = np.asarray(pred.get() if hasattr(pred, "get") else pred) - y[:20000]
        print(f"  whole fit: {fit_s:.1f} s, {model.n_iter_} PCG iterations   (training MSE on 20k rows {np.mean(resid**2):.4f}, "
              f"noise variance 0.01)")
        data = validate_fit_data(model, Xb, yb, task)
        start = time.perf_counter()
        problem, _ = make_feature_problem(model, data)
        sync(cupy)
        pass_s = time.perf_counter() - start
        print(f"  feature map + one pass alone: {pass_s:.1f} s; statistics "
              f"{problem.stats.nbytes() / 1024**3:.2f} GiB")
        if cupy is not None:
            print(f"  peak GPU memory (CuPy pool): "
                  f"{cupy.get_default_memory_pool().total_bytes() / 1024**3:.2f} GiB now")
        print(f"  peak resident memory of the process so far: {peak_rss_gib():.2f} GiB")
        if "steps" in parts:
            step = RelationStep(0.1, 0.1)
            weights = problem.loss_weights("samples")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                # tol=0 stops at the fixed point (a step that lowers J by
                # exactly 0); a negative tol never stops before --steps.
                result = alternate(problem, step, alpha=0.1, weights=weights,
                                   fit_intercept=True, epsilon=1e-8,
                                   max_iter=args.steps,
                                   tol=-1.0 if args.all_steps else 0.0)
                sync(cupy)
                steps_s = time.perf_counter() - start
            print(f"  {result.n_iter} MTRL alternating steps after the pass: {steps_s:.1f} s "
                  f"({steps_s / max(result.n_iter, 1):.3f} s per step; "
                  f"steps / pass = {steps_s / pass_s:.2f})")
        del X, y, task, Xb, yb, data, problem

    if "dask" in parts:
        import dask
        import dask.array as da
        from dask.distributed import Client, LocalCluster

        X, y, task = synthetic(N, T, d)
        make = lambda: MultiTaskKernelRidge(alpha=1e-3, gamma=gamma,  # noqa: E731
                                            approximation="nystroem", n_components=m,
                                            random_state=0)
        start = time.perf_counter()
        ref = make().fit(X, y, task=task)
        in_process = time.perf_counter() - start
        chunk = max(1, N // args.blocks)
        Xd, yd, td = (da.from_array(a, chunks=(chunk,) + a.shape[1:]) for a in (X, y, task))
        start = time.perf_counter()
        threaded = make().fit(Xd, yd, task=td)
        threaded_s = time.perf_counter() - start
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client, \
                dask.config.set(scheduler=client):
            Xp, yp, tp = client.persist([Xd, yd, td])     # data on the workers first
            start = time.perf_counter()
            clustered = make().fit(Xp, yp, task=tp)
            cluster_s = time.perf_counter() - start
        diff = np.max(np.abs(clustered.predict(X[:2000], task=task[:2000])
                             - threaded.predict(X[:2000], task=task[:2000])))
        print(f"\nDask, N={N:,}, T={T}, m={m}, {N // chunk} blocks: in-process fit "
              f"{in_process:.1f} s; threaded scheduler {threaded_s:.1f} s "
              f"({threaded_s / in_process:.2f}x); 2-worker LocalCluster {cluster_s:.1f} s "
              f"({cluster_s / in_process:.2f}x); cluster vs threaded predictions differ by "
              f"{diff:.1e}")
        del ref

    if "accuracy" in parts:
        n = args.accuracy_rows
        X, y, task = synthetic(n, min(T, 40), d, seed=1)
        Xt, yt, tt = synthetic(4000, min(T, 40), d, seed=2)
        exact = MultiTaskKernelRidge(alpha=1e-3, gamma=gamma, task_matrix="mean")
        start = time.perf_counter()
        P_exact = exact.fit(X, y, task=task).predict(Xt, task=tt)
        exact_s = time.perf_counter() - start
        print(f"\naccuracy against the exact fit: N={n:,}, T={min(T, 40)}, d={d}; exact fit "
              f"{exact_s:.1f} s, test MSE {np.mean((P_exact - yt) ** 2):.4f}")
        print("  m      fit (s)   test MSE   max |approx - exact| / max |exact|")
        for mm in (100, 300, 1000, 3000):
            if mm > n:
                continue
            approx = MultiTaskKernelRidge(alpha=1e-3, gamma=gamma, task_matrix="mean",
                                          approximation="nystroem", n_components=mm,
                                          random_state=0)
            start = time.perf_counter()
            P = approx.fit(X, y, task=task).predict(Xt, task=tt)
            t = time.perf_counter() - start
            rel = np.max(np.abs(P - P_exact)) / np.max(np.abs(P_exact))
            print(f"  {mm:<6} {t:<9.2f} {np.mean((P - yt) ** 2):<10.4f} {rel:.2e}")


if __name__ == "__main__":
    main()
