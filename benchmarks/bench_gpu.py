"""CuPy (GPU) against numpy (CPU), every number measured in one run.

Parts (``--parts``, all by default), each timed on numpy and, when CuPy sees a
CUDA device, on CuPy:

* ``floor``: one eigh of the n x n kernel matrix and one Cholesky of an
  N x N kernel matrix (the library's own ``rkhsmtl._backend.linalg`` calls);
* ``shared``: ``MultiTaskKernelRidge(task_matrix="mean")`` on shared inputs,
  n rows x T tasks (kernel matrix, eigh of K and A, solve);
* ``path``: a 30-alpha path on the same problem, from one decomposition;
* ``hetero``: the heterogeneous fit (N rows, T tasks, ``solver="cholesky"``);
* ``structure``: ``TaskStructureLearning(penalty="trace")``, 30 alternating
  iterations on shared inputs (one eigh of K reused by every iteration);
* ``neural``: ``HardSharingNetRegressor``, seconds per epoch (float32);
* ``dm``: distribution matching's T weighted ridges on one kernel matrix
  (``solvers.weighted_cg``; the membership model is CPU-only and not timed);
* ``check``: CuPy predictions against numpy's at a small size (float64,
  maximum relative difference).

numpy runs only sizes up to ``--cpu-max-n`` (default 10,000), so that one
invocation fits the device tool's 10-minute limit (lower it, or split the run
with ``--parts``, if it does not); the speed-up column compares the sizes
both ran.  Ratios to the floor compare a fit with the eigh
(shared) or Cholesky (heterogeneous) of the same backend and size.  CuPy
times are taken after one warm-up call per part (CUDA context, cuBLAS and
cuSOLVER handles, kernel compilation) and are synchronized.

Usage::

    python benchmarks/bench_gpu.py                 # n = 5k, 10k, 20k; N = 20k
    python benchmarks/bench_gpu.py --quick         # seconds, any machine
    python benchmarks/bench_gpu.py --out results.md
"""
import argparse
import os
import platform
import time
import warnings

import numpy as np
import scipy
from sklearn.exceptions import ConvergenceWarning

from rkhsmtl import MultiTaskKernelRidge, TaskStructureLearning
from rkhsmtl._backend import get_namespace, linalg
from rkhsmtl._validation import validate_fit_data
from rkhsmtl.kernels import compute_kernel
from rkhsmtl.neural import HardSharingNetRegressor
from rkhsmtl.solvers import SeparableProblem, sylvester, weighted_cg

PARTS = ("floor", "shared", "path", "hetero", "structure", "neural", "dm", "check")


# ----------------------------------------------------------------- backends
def cuda_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - ImportError, or no driver/device
        return False


class Backend:
    """Moves host arrays to one backend and times synchronized calls there."""

    def __init__(self, name):
        self.name = name
        if name == "cupy":
            import cupy

            self._cupy = cupy
            self.sync = cupy.cuda.Device().synchronize
        else:
            self.sync = lambda: None

    def put(self, a):
        return self._cupy.asarray(a) if self.name == "cupy" else np.asarray(a)

    def release(self):
        if self.name == "cupy":
            self._cupy.get_default_memory_pool().free_all_blocks()

    def time(self, fn, warmup=False):
        """Seconds of one call of ``fn`` (after one untimed call if ``warmup``)."""
        if warmup and self.name == "cupy":
            fn()
        self.sync()
        start = time.perf_counter()
        out = fn()
        self.sync()
        return time.perf_counter() - start, out


def machine_description(backends):
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"CPU: {cpu}, {os.cpu_count()} logical cores; numpy {np.__version__}, "
             f"scipy {scipy.__version__}"]
    if "cupy" in backends:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        lines.append(f"GPU: {name}, {props['totalGlobalMem'] / 1024**3:.0f} GiB; "
                     f"CuPy {cupy.__version__}, CUDA runtime "
                     f"{cupy.cuda.runtime.runtimeGetVersion()}")
    else:
        lines.append("GPU: none usable here (CuPy missing or no CUDA device); numpy only")
    return lines


# --------------------------------------------------------------------- data
def shared_data(n, T, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 10)
    Y = np.sin(X[:, :1]) + 0.3 * rng.randn(n, 1) * rng.randn(1, T) + 0.1 * rng.randn(n, T)
    return X, Y


def hetero_data(N, T, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, 27)
    task = rng.randint(0, T, N)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(N)
    return X, y, task


# -------------------------------------------------------------------- parts
def part_eigh_floor(be, n):
    X, _ = shared_data(n, 1)
    K = compute_kernel(be.put(X), kernel="rbf", gamma=0.1)
    xp = get_namespace(K)
    t, _ = be.time(lambda: linalg.eigh(xp, K), warmup=True)
    return [("floor: eigh of K", f"n={n}", t)]


def part_cholesky_floor(be, N):
    X, _, _ = hetero_data(N, 1)
    K = compute_kernel(be.put(X), kernel="rbf", gamma=0.1)
    xp = get_namespace(K)
    K = linalg.add_to_diagonal(xp, K, 0.1)
    if be.name == "cupy":
        linalg.cholesky(xp, K[:512, :512])          # warm-up on a small block
    # The fit factors in place too; this is the same call.
    t, _ = be.time(lambda: linalg.cholesky(xp, K, overwrite=True))
    return [("floor: Cholesky of K", f"N={N}", t)]


def part_shared(be, n, T):
    X, Y = shared_data(n, T)
    Xb, Yb = be.put(X), be.put(Y)
    model = MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", kernel="rbf", gamma=0.1)
    t, _ = be.time(lambda: model.fit(Xb, Yb), warmup=True)
    return [("shared fit (mean)", f"n={n}, T={T}", t)]


def part_path(be, n, T):
    X, Y = shared_data(n, T)
    Xb, Yb = be.put(X), be.put(Y)
    model = MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", kernel="rbf", gamma=0.1)
    alphas = np.logspace(-4, 2, 30)

    def path():
        data = validate_fit_data(model, Xb, Yb)
        problem = SeparableProblem(data, model._kernel_fn())
        kfac = problem.kernel_eigen(None)
        tfac = sylvester.decompose_task_matrix(data.xp, model._task_matrix(T, data.xp, Xb))
        return sylvester.solve_path(kfac, tfac, data.targets, alphas)

    t, _ = be.time(path, warmup=True)
    return [("30-alpha path", f"n={n}, T={T}", t)]


def part_hetero(be, N, T):
    X, y, task = hetero_data(N, T)
    Xb, yb = be.put(X), be.put(y)
    model = MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", kernel="rbf", gamma=0.1,
                                 solver="cholesky")
    if be.name == "cupy":
        small = slice(0, 2000)
        model.fit(Xb[small], yb[small], task=task[small])
    t, _ = be.time(lambda: model.fit(Xb, yb, task=task))
    return [("heterogeneous fit (cholesky)", f"N={N}, T={T}", t)]


def part_structure(be, n, T, iterations=30):
    X, Y = shared_data(n, T)
    Xb, Yb = be.put(X), be.put(Y)
    model = TaskStructureLearning(alpha=0.1, penalty="trace", structure_alpha=0.1,
                                  kernel="rbf", gamma=0.1, max_iter=iterations, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t, fitted = be.time(lambda: model.fit(Xb, Yb), warmup=True)
    return [("trace structure (alternating)", f"n={n}, T={T}, {fitted.n_iter_} it.", t)]


def part_neural(be, N, T, epochs=3, width=256, batch=256):
    X, y, task = hetero_data(N, T)
    device = "cuda" if be.name == "cupy" else "cpu"
    model = HardSharingNetRegressor(hidden_layer_sizes=(width, width), batch_size=batch,
                                    max_epochs=epochs, early_stopping=False,
                                    device=device, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t, _ = be.time(lambda: model.fit(X, y, task=task), warmup=True)
    return [("neural net, seconds per epoch (float32)",
             f"N={N}, T={T}, width {width}, batch {batch}", t / epochs)]


def part_dm(be, N, T):
    rng = np.random.RandomState(0)
    X, y, _ = hetero_data(N, T)
    W = np.exp(1.5 * rng.randn(N, T))
    K = compute_kernel(be.put(X), kernel="rbf", gamma=0.1)
    xp = get_namespace(K)
    yb, Wb = be.put(y), be.put(W)
    t, (_, _, info) = be.time(lambda: weighted_cg.solve(xp, K, yb, Wb, 1.0, tol=1e-8),
                              warmup=True)
    return [(f"weighted ridges, block PCG ({info['n_iter']} it.)", f"N={N}, T={T}", t)]


def part_check(backends):
    """Largest relative difference of CuPy's predictions from numpy's."""
    if "cupy" not in backends:
        return []
    import cupy

    rows = []
    X, Y = shared_data(1500, 20)
    Xh, yh, th = hetero_data(1500, 20)
    cases = {
        "shared (eigen)": (MultiTaskKernelRidge(alpha=0.1, task_matrix="mean"), (X, Y), {}),
        "shared, missing entries (masked CG)": (
            MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", tol=1e-13),
            (X, np.where(np.random.RandomState(1).rand(*Y.shape) < 0.2, np.nan, Y)), {}),
        "heterogeneous (cholesky)": (
            MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", solver="cholesky"),
            (Xh, yh), {"task": th}),
        "trace structure (10 iterations)": (
            TaskStructureLearning(alpha=0.1, penalty="trace", max_iter=10, tol=0.0),
            (X, Y), {}),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (model, args, kw) in cases.items():
            ref = model.fit(*args, **kw).predict(args[0])
            out = model.fit(*(cupy.asarray(a) for a in args), **kw).predict(
                cupy.asarray(args[0]))
            diff = float(np.max(np.abs(cupy.asnumpy(out) - ref)) / np.max(np.abs(ref)))
            rows.append((f"check: {name}", "CuPy vs numpy, max rel. diff.", diff))
    return rows


# --------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--sizes", default="5000,10000,20000",
                        help="shared-input n values (comma-separated)")
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--hetero", type=int, default=20000, help="heterogeneous N")
    parser.add_argument("--cpu-max-n", type=int, default=10000,
                        help="largest n (and N) numpy runs")
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--backends", default="numpy,cupy",
                        help="which of numpy, cupy to run (CuPy only where a CUDA "
                             "device is seen); several invocations can split one "
                             "table across device-tool commands")
    parser.add_argument("--out", default=None, help="also write the table here")
    parser.add_argument("--neural-rows", type=int, default=None,
                        help="rows of the neural part (default: --hetero)")
    parser.add_argument("--neural-width", type=int, default=256)
    parser.add_argument("--neural-batch", type=int, default=256)
    parser.add_argument("--neural-epochs", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        sizes, T, N, cpu_max = [600, 1200], 10, 1500, 10**9
    else:
        sizes = [int(s) for s in args.sizes.split(",")]
        T, N, cpu_max = args.tasks, args.hetero, args.cpu_max_n
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown --parts {unknown}; choose from {', '.join(PARTS)}")
    wanted = [b for b in args.backends.split(",") if b]
    if set(wanted) - {"numpy", "cupy"}:
        parser.error(f"unknown --backends {wanted}; choose from numpy, cupy")
    backends = [b for b in wanted if b == "numpy" or cuda_available()]
    header = machine_description(backends)
    for line in header:
        print(line, flush=True)

    times = {}   # (part label, size) -> {backend: seconds}

    def record(rows, backend):
        if backend == "cupy":
            # The part's arrays died when it returned: give their memory back.
            Backend("cupy").release()
        for label, size, seconds in rows:
            times.setdefault((label, size), {})[backend] = seconds
            print(f"  {backend:<5} {label:<45} {size:<18} {seconds:.4g}", flush=True)

    for backend in backends:
        be = Backend(backend)
        cap = cpu_max if backend == "numpy" else float("inf")
        for n in sizes:
            if n > cap:
                continue
            if "floor" in parts:
                record(part_eigh_floor(be, n), backend)
            if "shared" in parts:
                record(part_shared(be, n, T), backend)
            if "path" in parts:
                record(part_path(be, n, T), backend)
        if "structure" in parts:
            record(part_structure(be, min(sizes), min(T, 50)), backend)
        N_here = int(min(N, cap))
        if "floor" in parts:
            record(part_cholesky_floor(be, N_here), backend)
        if "hetero" in parts:
            record(part_hetero(be, N_here, T), backend)
        if "dm" in parts:
            record(part_dm(be, N_here, T), backend)
        if "neural" in parts:
            rows = N_here if args.neural_rows is None else args.neural_rows
            record(part_neural(be, rows, T, epochs=args.neural_epochs,
                               width=args.neural_width, batch=args.neural_batch),
                   backend)
    if "check" in parts and "cupy" in backends:
        record(part_check(backends), "cupy")

    floors = {size: row for (label, size), row in times.items() if label.startswith("floor")}
    lines = header + ["", "| part | size | numpy (s) | CuPy (s) | numpy / CuPy "
                      "| fit / floor, numpy | fit / floor, CuPy |",
                      "|---|---|---|---|---|---|---|"]

    def fmt(v):
        return "—" if v is None else f"{v:.3g}"

    for (label, size), row in times.items():
        if label.startswith("check"):
            lines.append(f"| {label} | {size} | | {row['cupy']:.1e} | | | |")
            continue
        cpu, gpu = row.get("numpy"), row.get("cupy")
        # Fits over the decomposition they are built on: eigh of the same n
        # (shared, path, structure) or Cholesky of the same N (heterogeneous).
        has_floor = label.startswith(("shared", "30-alpha", "trace", "heterogeneous"))
        floor = floors.get(size.split(",")[0], {}) if has_floor else {}
        ratio = [fmt(v / floor[b]) if v and floor.get(b) else "—"
                 for b, v in (("numpy", cpu), ("cupy", gpu))]
        lines.append(f"| {label} | {size} | {fmt(cpu)} | {fmt(gpu)} | "
                     f"{fmt(cpu / gpu) if cpu and gpu else '—'} | {ratio[0]} | {ratio[1]} |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table + "\n")


if __name__ == "__main__":
    main()
