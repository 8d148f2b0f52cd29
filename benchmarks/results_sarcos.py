"""SARCOS: fixed and learned task structures side by side.

Protocol (issue 3): the 7 joint torques of SARCOS's official test file are
the tasks; inputs standardized (on the training rows); n in {50, 100, 200}
training points per task drawn at random (different rows for every task),
the rest of each task's rows as its test set; nMSE = MSE / Var(y_t) per task,
averaged over tasks; 10 repetitions.  Targets are standardized per task on
the training rows (predictions mapped back before scoring).  Hyperparameters:
for every method and every n, a small grid is searched once on the first
repetition's training rows by 3-fold task-stratified CV, then fixed.

Usage: python benchmarks/results_sarcos.py [--reps 10] [--sizes 50,100,200]
"""
import argparse
import itertools
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    MultiTaskKernelRidge,
    OutputKernelLearning,
    TaskRelationLearning,
    TaskStructureLearning,
)
from rkhsmtl.datasets import load_sarcos
from rkhsmtl.metrics import normalized_mean_squared_error
from rkhsmtl.model_selection import TaskStratifiedKFold, sarcos_protocol

GAMMA = 1.0 / 21
ALPHAS = [1e-3, 1e-2, 1e-1]

METHODS = {
    "independent": (MultiTaskKernelRidge(task_matrix="independent", gamma=GAMMA),
                    {"alpha": ALPHAS}),
    "pooled": (MultiTaskKernelRidge(task_matrix="pooled", gamma=GAMMA), {"alpha": ALPHAS}),
    "mean-regularized": (MultiTaskKernelRidge(task_matrix="mean", gamma=GAMMA),
                         {"alpha": ALPHAS, "omega": [0.25, 0.5, 0.9]}),
    "structure (trace)": (TaskStructureLearning(penalty="trace", gamma=GAMMA, max_iter=50,
                                                tol=1e-5),
                          {"alpha": ALPHAS, "structure_alpha": [1e-2, 1e-1, 1.0]}),
    "output kernel (OKL)": (OutputKernelLearning(gamma=GAMMA, max_iter=50, tol=1e-5),
                            {"alpha": ALPHAS}),
    "MTRL": (TaskRelationLearning(gamma=GAMMA, max_iter=50, tol=1e-5),
             {"lambda_1": [1e-3, 1e-2], "lambda_2": [1e-3, 1e-2, 1e-1]}),
    "CMTL (k=2)": (ClusteredMultiTaskLearning(n_clusters=2, gamma=GAMMA, max_iter=50,
                                              tol=1e-5),
                   {"rho_1": [1e-2, 1e-1, 1.0], "rho_2": [1e-3, 1e-2]}),
}


def _standardize(X, y, task, tr, te):
    mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-12
    ys = y.astype(float).copy()
    stats = {}
    for t in np.unique(task):
        rows = tr[task[tr] == t]
        stats[t] = (y[rows].mean(), y[rows].std() + 1e-12)
    m = np.array([stats[t][0] for t in task])
    s = np.array([stats[t][1] for t in task])
    ys = (y - m) / s
    return (X - mu) / sd, ys, m, s


def _nmse(est, Xs, ys, task, m, s, y, te):
    pred = est.predict(Xs[te], task=task[te]) * s[te] + m[te]
    return normalized_mean_squared_error(y[te], pred, task=task[te], average="uniform")


def _select(base, grid, Xs, ys, task, tr):
    best, best_params = np.inf, None
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        params = dict(zip(keys, values))
        errs = []
        for a, b in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(
                Xs[tr], ys[tr], groups=task[tr]):
            est = clone(base).set_params(**params).fit(Xs[tr][a], ys[tr][a],
                                                       task=task[tr][a])
            p = est.predict(Xs[tr][b], task=task[tr][b])
            errs.append(np.mean((p - ys[tr][b]) ** 2))
        if np.mean(errs) < best:
            best, best_params = np.mean(errs), params
    return best_params


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--sizes", default="50,100,200")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y, task = load_sarcos(return_X_y=True)
    sizes = [int(v) for v in args.sizes.split(",")]
    table = {}
    for n in sizes:
        splits = list(sarcos_protocol(n, n_splits=args.reps, random_state=0).split(
            X, y, groups=task))
        tr, te = splits[0]
        Xs, ys, m, s = _standardize(X, y, task, tr, te)
        chosen = {name: _select(base, grid, Xs, ys, task, tr)
                  for name, (base, grid) in METHODS.items()}
        for name, params in chosen.items():
            print(f"n={n} {name}: {params}", flush=True)
        for k, (tr, te) in enumerate(splits):
            Xs, ys, m, s = _standardize(X, y, task, tr, te)
            for name, (base, _) in METHODS.items():
                start = time.perf_counter()
                est = clone(base).set_params(**chosen[name]).fit(Xs[tr], ys[tr],
                                                                 task=task[tr])
                score = _nmse(est, Xs, ys, task, m, s, y, te)
                table.setdefault((name, n), []).append(score)
                print(f"n={n} rep {k}: {name:<22} nMSE={score:.4f} "
                      f"({time.perf_counter() - start:.2f}s)", flush=True)
    print("\n| method | " + " | ".join(f"n={n}" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in METHODS:
        cells = [f"{np.mean(table[name, n]):.4f} ± {np.std(table[name, n]):.4f}"
                 for n in sizes]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
