"""Cost of the distribution-matching fit against T separate weighted KernelRidge fits.

For pooled covariate-shift data (N rows, T tasks) the weights W (N, T) are
estimated once; then the T weighted kernel ridges are fitted

* by rkhsmtl in one call sharing the kernel matrix, with solver="cholesky"
  (one factorization per task) and solver="cg" (one block-PCG solve for all
  tasks, preconditioned by one shared pivoted-Cholesky Nystroem factor with a
  Woodbury inverse per task), and
* by T calls ``KernelRidge(alpha, kernel="rbf").fit(X, y, sample_weight=W[:, t])``.

The ratio column is ours / theirs (below 1: we are faster).  The weight
estimation (membership model, 5-fold cross-fitting) is timed separately; it
is the same for every solver.  Each time is the best of ``--repeat`` runs.

Usage: python benchmarks/bench_weighting.py [--quick] [--repeat 2]
"""
import argparse
import platform
import time

import numpy as np
import scipy
from sklearn.kernel_ridge import KernelRidge

from rkhsmtl.weighting import DistributionMatchingRegressor, DistributionMatchingWeights

ALPHA, GAMMA = 1.0, 0.5


def make_data(N, T, seed=0):
    rng = np.random.RandomState(seed)
    task = np.arange(N) % T
    X = rng.randn(N, 2) + 1.5 * rng.randn(T, 2)[task]
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(N)
    return X, y, task


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(N, T, repeat):
    X, y, task = make_data(N, T)
    t_weights = best_time(lambda: DistributionMatchingWeights(random_state=0).fit(X, task=task),
                          repeat)
    W = DistributionMatchingWeights(random_state=0).fit(X, task=task).weights_
    tasks = np.arange(T)
    ours = {}
    for solver in ("cholesky", "cg"):
        est = DistributionMatchingRegressor(ALPHA, gamma=GAMMA, solver=solver)
        ours[solver] = best_time(lambda: est._weighted_ridges(np, X, y, W, tasks), repeat)
        ours[solver + "_iter"] = est._weighted_ridges(np, X, y, W, tasks).info.get("n_iter", 1)

    def theirs():
        for t in range(T):
            KernelRidge(alpha=ALPHA, kernel="rbf", gamma=GAMMA).fit(X, y, sample_weight=W[:, t])

    t_theirs = best_time(theirs, repeat)
    print(f"| {N} | {T} | {t_weights:.3f} | {ours['cholesky']:.3f} | {ours['cg']:.3f} "
          f"({ours['cg_iter']} it) | {t_theirs:.3f} | {ours['cholesky'] / t_theirs:.2f} | "
          f"{ours['cg'] / t_theirs:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        by_T, N0 = [2, 8], 200
        by_N, T0 = [200, 400], 4
    else:
        by_T, N0 = [2, 8, 32, 128], 800
        by_N, T0 = [400, 800, 1600, 3200], 8
    print(f"numpy {np.__version__}, scipy {scipy.__version__}, {platform.processor() or platform.machine()}; "
          f"alpha={ALPHA}, rbf gamma={GAMMA}, best of {args.repeat}")
    header = ("| N | T | weights (s) | ours cholesky (s) | ours cg (s) | T x KernelRidge (s) "
              "| ratio cholesky | ratio cg |\n|---|---|---|---|---|---|---|---|")
    print("\nGrowth with T:\n" + header)
    for T in by_T:
        measure(N0, T, args.repeat)
    print("\nGrowth with N:\n" + header)
    for N in by_N:
        measure(N, T0, args.repeat)


if __name__ == "__main__":
    main()
