"""Core engine speed, as ratios measured in one run.

* shared inputs n=4000, T=50: fit time / one numpy.linalg.eigh of K;
  a 30-value alpha path / one fit;
* heterogeneous N=15000 (School size): fit / one Cholesky of the N x N matrix;
* peak traced memory / size of one kernel matrix.

Usage: python benchmarks/bench_core.py [--quick]
"""
import argparse
import platform
import time
import tracemalloc

import numpy as np
import scipy.linalg

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.kernels import compute_kernel
from rkhsmtl.solvers import SeparableProblem, sylvester
from rkhsmtl._validation import validate_fit_data


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def peak_ratio(fn, n):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / (8.0 * n * n)


def shared(n, T, rng):
    X = rng.randn(n, 10)
    Y = np.sin(X[:, :1]) + 0.1 * rng.randn(n, T)
    K = compute_kernel(X)
    t_eigh, _ = timed(lambda: np.linalg.eigh(K))
    model = MultiTaskKernelRidge(alpha=0.1)
    t_fit, _ = timed(lambda: model.fit(X, Y))
    alphas = np.logspace(-4, 2, 30)

    def path():
        data = validate_fit_data(model, X, Y)
        prob = SeparableProblem(data, model._kernel_fn())
        A = model._task_matrix(T, data.xp, X)
        kfac = prob.kernel_eigen(None)
        tfac = sylvester.decompose_task_matrix(data.xp, A)
        return sylvester.solve_path(kfac, tfac, Y, alphas)

    t_path, _ = timed(path)
    mem = peak_ratio(lambda: MultiTaskKernelRidge(alpha=0.1).fit(X, Y), n)
    print(f"shared n={n} T={T}: eigh(K) {t_eigh:.2f}s, fit {t_fit:.2f}s "
          f"-> fit/eigh = {t_fit / t_eigh:.2f} (goal <= 1.3)")
    print(f"  30-alpha path {t_path:.2f}s -> path/fit = {t_path / t_fit:.2f} (goal <= 1.5)")
    print(f"  peak traced memory / (n x n float64) = {mem:.2f}")


def hetero(N, T, rng):
    X = rng.randn(N, 27)
    task = rng.randint(0, T, N)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(N)
    K = compute_kernel(X)
    K += 0.1 * np.eye(N)
    t_chol, _ = timed(lambda: scipy.linalg.cho_factor(K, overwrite_a=True,
                                                      check_finite=False))
    del K
    model = MultiTaskKernelRidge(alpha=0.1, solver="cholesky")
    t_fit, _ = timed(lambda: model.fit(X, y, task=task))
    mem = peak_ratio(lambda: MultiTaskKernelRidge(alpha=0.1, solver="cholesky").fit(
        X, y, task=task), N)
    print(f"heterogeneous N={N} T={T}: cholesky {t_chol:.2f}s, fit {t_fit:.2f}s "
          f"-> fit/cholesky = {t_fit / t_chol:.2f} (goal <= 1.5)")
    print(f"  peak traced memory / (N x N float64) = {mem:.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}")
    if args.quick:
        shared(400, 10, rng)
        hetero(1500, 20, rng)
    else:
        shared(4000, 50, rng)
        hetero(15000, 139, rng)


if __name__ == "__main__":
    main()
