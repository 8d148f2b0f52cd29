"""Exact heterogeneous learned structures and cross-validation grids on School.

Prints, measured in one run on this machine:

* for TaskRelationLearning(lambda_1=0.01, lambda_2=0.1, gamma=0.02) (MTRL) and
  TaskStructureLearning(penalty="trace", gamma=0.02) on a 2,772-row School
  subsample and on all ~11,500 training rows of the first School split: the
  whole fit over (kernel computation + one Cholesky of the N x N matrix)
  (goal <= 5), the structure steps and N x N factorizations taken and the
  final objective; unless ``--skip-reference``, the same fit with plain
  block steps (no Anderson extrapolation, ``_alternating.ACCELERATE =
  False``) on the factor-reusing engine and on the path the issue was filed
  against, which refactors at every step
  (``SeparableProblem.reuse_factorization = False``), with the relative
  difference of the learned task matrices (goal <= 1e-6) and of the
  objectives, and the accelerated fit's time when stopped at the step where
  its objective first reaches the plain fit's; with ``--optimum``, the accelerated fit run to tol=1e-12 and
  each fit's distance from it (the plain steps stop far from the optimum at
  the default tol=1e-6, so the goal's "A equal to today's" is read against
  the optimum);
* MultiTaskKernelRidgeCV(task_matrix="mean") with 3 omegas and 10 alphas on a
  4,400-row School subsample over one MultiTaskKernelRidge fit on the same
  rows (goal <= 10).

Rows: split 0 of the School protocol (75/25 within every school), inputs
standardized on its training rows, subsamples taking the same share of every
school (as benchmarks/results_school.py does).

Usage: python benchmarks/bench_exact_hetero.py [--sizes 2772,full]
       [--estimators MTRL,trace] [--skip-reference] [--optimum] [--skip-cv]
       [--skip-learned] [--cv-rows 4400] [--cv-compare-eigh] [--cv-compare-per-alpha]
"""
import argparse
import platform
import time
import warnings

import numpy as np
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from rkhsmtl import (MultiTaskKernelRidge, MultiTaskKernelRidgeCV, TaskRelationLearning,
                     TaskStructureLearning)
from rkhsmtl.datasets import load_school
from rkhsmtl.kernels import rbf_kernel
from rkhsmtl.model_selection import school_protocol
from rkhsmtl.estimators import _alternating, _ridge_cv
from rkhsmtl.solvers import SeparableProblem

from results_school import _subsample

GAMMA = 0.02


def _floor(X, task, alpha, repeat=3):
    """Seconds of the kernel computation and of one Cholesky of K o A + alpha I,
    each the best of ``repeat`` (single timings of the kernel varied by a
    factor of 2-3 between rows of one run, which made the ratio noisy)."""
    t_kernel = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        K = rbf_kernel(X, X, gamma=GAMMA)
        t_kernel = min(t_kernel, time.perf_counter() - start)
    order = np.argsort(task, kind="stable")
    K = np.ascontiguousarray(K[order][:, order])
    # The fit factors K o A[t_i, t_j] + alpha I; A = I keeps the same cost.
    K *= task[order][:, None] == task[order][None, :]
    K[np.diag_indices_from(K)] += alpha
    t_chol = np.inf
    for _ in range(repeat):
        M = K.copy()
        start = time.perf_counter()
        scipy.linalg.cho_factor(M.T, lower=True, overwrite_a=True, check_finite=False)
        t_chol = min(t_chol, time.perf_counter() - start)
    return t_kernel, t_chol


def _fit(make, X, y, task, reuse, accelerate=True, inexact=True, **params):
    SeparableProblem.reuse_factorization = reuse
    _alternating.ACCELERATE = accelerate
    _alternating.INEXACT = inexact
    try:
        start = time.perf_counter()
        model = make().set_params(**params).fit(X, y, task=task)
        return model, time.perf_counter() - start
    finally:
        SeparableProblem.reuse_factorization = True
        _alternating.ACCELERATE = True
        _alternating.INEXACT = True


ESTIMATORS = {
    "MTRL": lambda: TaskRelationLearning(lambda_1=0.01, lambda_2=0.1, gamma=GAMMA),
    "trace": lambda: TaskStructureLearning(penalty="trace", gamma=GAMMA),
}


def _rel(A, B):
    A, B = np.asarray(A), np.asarray(B)
    return np.linalg.norm(A - B) / np.linalg.norm(B)


def _same_accuracy(make, X, y, task, model, J_target, floor):
    """Time of the accelerated fit stopped at the plain fit's objective."""
    history = np.asarray(model.objective_history_)
    below = np.flatnonzero(history <= J_target)
    if not below.size:
        print("    accelerated fit never reached the plain fit's objective", flush=True)
        return
    steps = int(below[0])
    short, t_short = _fit(make, X, y, task, reuse=True, max_iter=steps)
    print(f"    accelerated fit stopped at the plain fit's objective: {steps} steps, "
          f"{t_short:.2f} s, ratio {t_short / floor:.2f} (objective "
          f"{short.objective_history_[-1]:.10e})", flush=True)


def learned(X, y, task, label, skip_reference, names, optimum):
    for name in names:
        make = ESTIMATORS[name]
        alpha = make()._function_alpha()
        t_kernel, t_chol = _floor(X, task, alpha)
        floor = t_kernel + t_chol
        model, t_fit = _fit(make, X, y, task, reuse=True)
        J = model.objective_history_[-1]
        print(f"{label} {name}: N={len(y)}, kernel {t_kernel:.2f} s + Cholesky "
              f"{t_chol:.2f} s = {floor:.2f} s; fit {t_fit:.2f} s "
              f"({model.n_iter_} steps, {model.n_factorizations_} factorizations, "
              f"objective {J:.10e}) -> ratio {t_fit / floor:.2f} (goal <= 5)",
              flush=True)
        fits = {"accelerated": model}
        # The same engine with every coefficient step solved to 1e-10 (the
        # code before the inexact steps).
        exact, t_exact = _fit(make, X, y, task, reuse=True, inexact=False)
        fits["exact steps"] = exact
        print(f"  exact coefficient steps: {t_exact:.2f} s ({exact.n_iter_} steps, "
              f"{exact.n_factorizations_} factorizations, ratio {t_exact / floor:.2f}); "
              f"inexact steps {t_exact / t_fit:.2f}x faster, objective lower by "
              f"{(exact.objective_history_[-1] - J) / abs(J):.1e} (relative), A differs "
              f"by {_rel(model.task_matrix_, exact.task_matrix_):.1e}", flush=True)
        if not skip_reference:
            # The plain block steps on the factor-reusing engine (session 5)
            # and on the path the issue was filed against (refactor each step).
            for key, reuse in (("plain steps, reused factor", True),
                               ("plain steps, refactor every step", False)):
                ref, t_ref = _fit(make, X, y, task, reuse=reuse, accelerate=False)
                fits[key] = ref
                J_ref = ref.objective_history_[-1]
                print(f"  {key}: {t_ref:.2f} s ({ref.n_iter_} steps, "
                      f"{ref.n_factorizations_} factorizations, ratio "
                      f"{t_ref / floor:.2f}); accelerated fit {t_ref / t_fit:.2f}x "
                      f"faster, its objective lower by {(J_ref - J) / abs(J):.1e} "
                      f"(relative), relative difference of A "
                      f"{_rel(model.task_matrix_, ref.task_matrix_):.1e}", flush=True)
                if reuse:
                    _same_accuracy(make, X, y, task, model, J_ref, floor)
        if optimum:
            # Where the optimum is: the accelerated engine run to a plain
            # step's relative decrease of 1e-12 (at most 1,000 steps).
            best, t_best = _fit(make, X, y, task, reuse=True, tol=1e-12, max_iter=1000)
            J_best = best.objective_history_[-1]
            print(f"  optimum run (tol=1e-12): {t_best:.2f} s, {best.n_iter_} steps, "
                  f"objective {J_best:.10e}", flush=True)
            for key, fit in fits.items():
                print(f"    {key}: objective above it by "
                      f"{(fit.objective_history_[-1] - J_best) / abs(J_best):.1e}, "
                      f"A off by {_rel(fit.task_matrix_, best.task_matrix_):.1e} "
                      "(relative)", flush=True)


def cross_validation(X, y, task, compare_eigh, compare_per_alpha):
    alphas = np.logspace(-3, 2, 10)
    omegas = [0.25, 0.5, 0.9]
    # What the per-fold choice rests on: one eigendecomposition of a fold's
    # matrix (4/5 of the rows) against one Cholesky of it.
    n_fold = int(0.8 * len(y))
    M = rbf_kernel(X[:n_fold], X[:n_fold], gamma=GAMMA)
    M[np.diag_indices_from(M)] += 0.1
    start = time.perf_counter()
    scipy.linalg.cho_factor(M.copy(order="F"), lower=True, overwrite_a=True,
                            check_finite=False)
    t_chol = time.perf_counter() - start
    start = time.perf_counter()
    scipy.linalg.eigh(M, driver="evd", overwrite_a=True, check_finite=False)
    t_eigh = time.perf_counter() - start
    del M
    print(f"fold matrix n={n_fold}: eigh {t_eigh:.2f} s, Cholesky {t_chol:.2f} s -> "
          f"eigh = {t_eigh / t_chol:.1f} Cholesky factorizations", flush=True)
    start = time.perf_counter()
    MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", omega=0.5,
                         gamma=GAMMA).fit(X, y, task=task)
    t_one = time.perf_counter() - start
    start = time.perf_counter()
    cv = MultiTaskKernelRidgeCV(alphas=alphas, omegas=omegas, task_matrix="mean",
                                gamma=GAMMA).fit(X, y, task=task)
    t_cv = time.perf_counter() - start
    print(f"MultiTaskKernelRidgeCV, N={len(y)}, {len(omegas)} omegas x {len(alphas)} "
          f"alphas, 5 folds: {t_cv:.2f} s; one fit {t_one:.2f} s -> ratio "
          f"{t_cv / t_one:.1f} (goal <= 10); selected alpha={cv.alpha_:.3g}, "
          f"omega={cv.omega_}", flush=True)
    # Every (fold, omega) has its own matrix; the shifted solves need it
    # factored in float64 at least once.
    n_matrices = 5 * len(omegas)
    print(f"  floor of the factor-based grid: {n_matrices} fold matrices x one Cholesky "
          f"({t_chol:.2f} s) = {n_matrices * t_chol:.2f} s = "
          f"{n_matrices * t_chol / t_one:.1f} fits", flush=True)
    # The route before the shifted-Lanczos one: the warm alpha sequence
    # (float32 factor, PCG per alpha, refactored when stale).
    ref, t_ref = _grid_with("SHIFTED_ALPHAS_MIN", 0, X, y, task, alphas, omegas)
    diff = np.max(np.abs(np.asarray(cv.cv_results_["mean_test_score"])
                         - np.asarray(ref.cv_results_["mean_test_score"]))
                  / np.abs(np.asarray(ref.cv_results_["mean_test_score"])))
    print(f"  same grid, warm alpha sequence (PCG per alpha): {t_ref:.2f} s (ratio "
          f"{t_ref / t_one:.1f}); shifted Lanczos {t_ref / t_cv:.2f}x faster; largest "
          f"relative score difference {diff:.1e}", flush=True)
    if compare_per_alpha:
        # The route before the warm alpha sequence: one float64 Cholesky
        # factorization per alpha (the sequence needs numpy, so a namespace
        # check that says "not numpy" switches it off).
        ref, t_ref = _grid_with("is_numpy", lambda xp: False, X, y, task, alphas, omegas)
        ref_scores = np.asarray(ref.cv_results_["mean_test_score"])
        diff = np.max(np.abs(np.asarray(cv.cv_results_["mean_test_score"]) - ref_scores)
                      / np.abs(ref_scores))
        print(f"  same grid, one float64 Cholesky per alpha: {t_ref:.2f} s (ratio "
              f"{t_ref / t_one:.1f}); shifted Lanczos {t_ref / t_cv:.2f}x faster; largest "
              f"relative score difference {diff:.1e}", flush=True)
    if compare_eigh:
        ref, t_ref = _grid_with("EIGH_IN_CHOLESKYS", 0, X, y, task, alphas, omegas)
        diff = np.max(np.abs(ref.cv_results_["mean_test_score"]
                             - cv.cv_results_["mean_test_score"]))
        print(f"  same grid, one eigh per (fold, omega): {t_ref:.2f} s (ratio "
              f"{t_ref / t_one:.1f}); largest score difference {diff:.1e}",
              flush=True)


def _grid_with(name, value, X, y, task, alphas, omegas):
    """The same CV grid, timed, with ``_ridge_cv.<name>`` set to ``value``."""
    saved = getattr(_ridge_cv, name)
    setattr(_ridge_cv, name, value)
    try:
        start = time.perf_counter()
        model = MultiTaskKernelRidgeCV(alphas=alphas, omegas=omegas, task_matrix="mean",
                                       gamma=GAMMA).fit(X, y, task=task)
        return model, time.perf_counter() - start
    finally:
        setattr(_ridge_cv, name, saved)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2772,full",
                        help="comma-separated row counts of the learned-structure "
                             "fits ('full': all training rows of split 0)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="do not time the refactor-every-step reference path")
    parser.add_argument("--estimators", default="MTRL,trace",
                        help="comma-separated subset of MTRL,trace")
    parser.add_argument("--skip-cv", action="store_true")
    parser.add_argument("--skip-learned", action="store_true",
                        help="only the cross-validation grid")
    parser.add_argument("--cv-compare-per-alpha", action="store_true",
                        help="also time the grid with one float64 Cholesky per alpha "
                             "(the route before the warm alpha sequence)")
    parser.add_argument("--optimum", action="store_true",
                        help="also run the accelerated fit to tol=1e-12 and say how far "
                             "each default-tolerance fit is from it")
    parser.add_argument("--cv-rows", type=int, default=4400)
    parser.add_argument("--cv-compare-eigh", action="store_true",
                        help="also time the grid with one eigendecomposition per "
                             "(fold, omega) for every alpha")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y, task = load_school(return_X_y=True)
    tr, _ = next(school_protocol(n_splits=1, random_state=0).split(X, y, groups=task))
    Xtr = StandardScaler().fit(X[tr]).transform(X[tr])
    ytr, ttr = y[tr], task[tr]
    print(f"machine: {platform.processor() or platform.machine()}, numpy "
          f"{np.__version__}, scipy {scipy.__version__}; School split 0: "
          f"{len(tr)} training rows, {len(np.unique(ttr))} tasks", flush=True)
    for size in ([] if args.skip_learned else args.sizes.split(",")):
        rows = (np.arange(len(tr)) if size == "full"
                else _subsample(ttr, int(size), seed=0))
        learned(Xtr[rows], ytr[rows], ttr[rows], f"[{size}]", args.skip_reference,
                args.estimators.split(","), args.optimum)
    if not args.skip_cv:
        rows = _subsample(ttr, args.cv_rows, seed=0)
        cross_validation(Xtr[rows], ytr[rows], ttr[rows], args.cv_compare_eigh,
                         args.cv_compare_per_alpha)


if __name__ == "__main__":
    main()
