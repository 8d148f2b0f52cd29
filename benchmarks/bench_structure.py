"""Learned task structure: cost of the alternating loop against its floor.

Prints, measured in one run on this machine:

* shared inputs n, T: the time of 100 alternating iterations of
  TaskStructureLearning (trace penalty) over the time of one
  ``numpy.linalg.eigh`` of the n x n kernel matrix (goal: <= 3);
* the per-iteration time of the same loop when every coefficient step is
  re-solved from scratch (a fresh MultiTaskKernelRidge fit, i.e. a new eigh
  of K every iteration, as reference implementations do), over ours.

Usage: python benchmarks/bench_structure.py [--n 2000] [--tasks 50] [--quick]
"""
import argparse
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics.pairwise import rbf_kernel

from rkhsmtl import MultiTaskKernelRidge, TaskStructureLearning
from rkhsmtl.datasets import make_multitask_regression
from rkhsmtl.tasks.learned import SpectralStep


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--scratch-iters", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.n, args.tasks, args.iters, args.scratch_iters = 400, 10, 20, 3
    warnings.simplefilter("ignore", ConvergenceWarning)
    n, T = args.n, args.tasks
    X, Y, _ = make_multitask_regression(n_samples=n, n_tasks=T, n_features=5,
                                        structure="clustered", n_clusters=4,
                                        shared_inputs=True, random_state=0)
    gamma = 0.2
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"numpy {np.__version__}; n={n}, T={T}")

    K = rbf_kernel(X, gamma=gamma)
    start = time.perf_counter()
    np.linalg.eigh(K)
    t_eigh = time.perf_counter() - start
    print(f"one numpy.linalg.eigh of K: {t_eigh:.2f} s")

    est = TaskStructureLearning(alpha=0.1, penalty="trace", gamma=gamma,
                                max_iter=args.iters, tol=0.0)
    start = time.perf_counter()
    est.fit(X, Y)
    t_fit = time.perf_counter() - start
    print(f"TaskStructureLearning, {est.n_iter_} iterations: {t_fit:.2f} s "
          f"-> ratio to eigh {t_fit / t_eigh:.2f} (goal <= 3)")
    per_iter_ours = max(t_fit - t_eigh, 1e-9) / max(est.n_iter_, 1)

    # Reference: the same alternating loop with a from-scratch fixed-A fit
    # (new kernel matrix and eigh) in every coefficient step.
    step = SpectralStep("trace", 0.1, 1.0)
    A = np.eye(T)
    start = time.perf_counter()
    for _ in range(args.scratch_iters):
        ridge = MultiTaskKernelRidge(alpha=0.1, task_matrix=A, gamma=gamma).fit(X, Y)
        B = ridge.dual_coef_
        A = step.update(B.T @ (K @ B) + 1e-8 * np.eye(T))
    per_iter_scratch = (time.perf_counter() - start) / args.scratch_iters
    print(f"per iteration: ours {per_iter_ours:.3f} s (after the one eigh), "
          f"re-solve from scratch {per_iter_scratch:.2f} s "
          f"-> scratch/ours {per_iter_scratch / per_iter_ours:.1f}x")


if __name__ == "__main__":
    main()
