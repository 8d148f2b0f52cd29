"""School: fixed and learned task structures side by side.

Protocol: 10 random 75/25 splits within every school; explained variance =
1 - MSE / Var(y) over the pooled test rows (the MTL literature's convention);
inputs standardized on the training rows; RBF kernel, gamma=0.02;
``task_weighting="uniform"``.  Hyperparameters are chosen once, by 3-fold
task-stratified CV on a 4000-row subsample of the first split's training
rows, then fixed for all splits.

Learned structures (MTRL, trace-penalized structure learning) alternate an
N x N Cholesky per iteration, too slow for 10 splits of 11,500 training rows
on a 2-core machine; here the task matrix is learned on a 4000-row random
subsample of each split's training rows and the model is then refitted on
all training rows with that matrix fixed (MultiTaskKernelRidge with
``task_matrix=learned.task_matrix_``): the transfer use of a learned matrix.

With ``--full`` the learned structures alternate on all training rows
instead (minutes per split; run it with ``--methods`` and ``--params``).

Usage: python benchmarks/results_school.py [--splits 10] [--methods a,b] [--full]
"""
import argparse
import json
import itertools
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning, TaskStructureLearning
from rkhsmtl.datasets import load_school
from rkhsmtl.metrics import explained_variance
from rkhsmtl.model_selection import TaskStratifiedKFold, school_protocol

GAMMA = 0.02
SUBSAMPLE = 4000
COMMON = dict(kernel="rbf", gamma=GAMMA, task_weighting="uniform")

FIXED = {
    "independent": (MultiTaskKernelRidge(task_matrix="independent", **COMMON),
                    {"alpha": np.logspace(-3, 2, 6)}),
    "pooled": (MultiTaskKernelRidge(task_matrix="pooled", **COMMON),
               {"alpha": np.logspace(-3, 2, 6)}),
    "mean-regularized": (MultiTaskKernelRidge(task_matrix="mean", **COMMON),
                         {"alpha": np.logspace(-3, 2, 6), "omega": [0.5, 0.75, 0.9]}),
}
LEARNED = {
    "MTRL (learned on 4000 rows)": (
        TaskRelationLearning(max_iter=30, tol=1e-4, **COMMON),
        {"lambda_1": [1e-2, 1e-1, 1.0], "lambda_2": [1e-2, 1e-1, 1.0]}),
    "trace structure (learned on 4000 rows)": (
        TaskStructureLearning(penalty="trace", max_iter=30, tol=1e-4, **COMMON),
        # Runs on {0.01, 0.1, 1}^2 and {0.1, 1, 10}^2 selected the upper
        # corner both times; this grid reaches two decades further.
        {"alpha": [1.0, 10.0, 100.0], "structure_alpha": [1.0, 10.0, 100.0, 1000.0]}),
}


def _cv_error(base, params, X, y, task):
    errs = []
    for a, b in TaskStratifiedKFold(3, shuffle=True, random_state=0).split(
            X, y, groups=task):
        est = clone(base).set_params(**params).fit(X[a], y[a], task=task[a])
        errs.append(np.mean((est.predict(X[b], task=task[b]) - y[b]) ** 2))
    return float(np.mean(errs))


def _select(base, grid, X, y, task):
    keys = list(grid)
    candidates = [dict(zip(keys, v)) for v in itertools.product(*(grid[k] for k in keys))]
    errors = [_cv_error(base, p, X, y, task) for p in candidates]
    return candidates[int(np.argmin(errors))]


def _subsample(task, size, seed):
    """About ``size`` rows, the same share of every task (at least 2 per task)."""
    rng = np.random.RandomState(seed)
    share = size / len(task)
    rows = []
    for t in np.unique(task):
        idx = np.flatnonzero(task == t)
        rows.append(rng.choice(idx, max(2, int(round(share * len(idx)))), replace=False))
    return np.sort(np.concatenate(rows))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--methods", default=None,
                        help="comma-separated subset of the method names")
    parser.add_argument("--full", action="store_true",
                        help="learned structures alternate on all training rows "
                             "(no 4000-row subsample; minutes per split)")
    parser.add_argument("--params", default=None,
                        help='JSON {"method": {...}} of hyperparameters already '
                             "selected (skips their selection)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    methods = {**FIXED, **LEARNED}
    if args.methods:
        methods = {k: v for k, v in methods.items() if k in args.methods.split(",")}
    X, y, task = load_school(return_X_y=True)
    splits = list(school_protocol(n_splits=args.splits, random_state=0).split(
        X, y, groups=task))
    tr, _ = splits[0]
    scaler = StandardScaler().fit(X[tr])
    sub = tr[_subsample(task[tr], SUBSAMPLE, 0)]
    chosen = json.loads(args.params) if args.params else {}
    for name, (base, grid) in methods.items():
        if name not in chosen:
            chosen[name] = _select(base, grid, scaler.transform(X[sub]), y[sub], task[sub])
        print(f"{name}: {chosen[name]}", flush=True)
    chosen = {k: {p: (float(v) if isinstance(v, (float, np.floating)) else v)
                  for p, v in d.items()} for k, d in chosen.items()}
    scores = {name: [] for name in methods}
    for k, (tr, te) in enumerate(splits):
        scaler = StandardScaler().fit(X[tr])
        Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
        sub = _subsample(task[tr], SUBSAMPLE, k)
        for name, (base, _) in methods.items():
            start = time.perf_counter()
            model = clone(base).set_params(**chosen[name])
            if name in LEARNED and args.full:
                model.fit(Xtr, y[tr], task=task[tr])
            elif name in LEARNED:
                learned = model.fit(Xtr[sub], y[tr][sub], task=task[tr][sub])
                # The subsample keeps every school, so A covers all tasks.
                assert list(learned.tasks_) == list(np.unique(task[tr]))
                model = MultiTaskKernelRidge(alpha=learned._function_alpha(),
                                             task_matrix=learned.task_matrix_, **COMMON)
            if not (name in LEARNED and args.full):
                model.fit(Xtr, y[tr], task=task[tr])
            ev = explained_variance(y[te], model.predict(Xte, task=task[te]),
                                    task=task[te], average="pooled")
            scores[name].append(ev)
            full = name in LEARNED and args.full
            label = name.replace("learned on 4000 rows", "alternating on all rows") \
                if full else name
            extra = f", {model.n_iter_} iterations" if full else ""
            print(f"split {k}: {label:<40} EV={ev:.4f} ({time.perf_counter() - start:.1f}s"
                  f"{extra})", flush=True)
    print("\n| method | explained variance (mean ± std) | splits |\n|---|---|---|")
    for name, s in scores.items():
        if name in LEARNED and args.full:
            name = name.replace("learned on 4000 rows", "alternating on all rows")
        print(f"| {name} | {100 * np.mean(s):.1f}% ± {100 * np.std(s):.1f}% | {len(s)} |")


if __name__ == "__main__":
    main()
