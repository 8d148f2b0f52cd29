"""School with the MALSAR protocol: every linear MTL penalty, plus ridge references.

Protocol: for each training ratio (10 %, 20 %, 30 % of the students of every
school; ``rkhsmtl.model_selection.malsar_protocol``) and each repetition, the
rest of every school is the test set.  Features standardized on the training
rows (targets left raw).  ``lambda1`` is chosen by task-stratified 3-fold CV
on the training part (``LinearMultiTaskRegressorCV`` with
``StratifiedKFold(3, shuffle=True)`` on the school labels, a warm-started path
over an 8-value geometric grid from ``lambda1_max`` down to
``1e-3 * lambda1_max``), then refitted on the whole training part.  The ridge
references pick ``alpha`` from ``ALPHAS`` on the same folds (pooled held-out
MSE), each path from one SVD per task.

Reported: nMSE = MSE_t / Var(y_t) on every school's test rows, averaged over
the 139 schools, and the pooled nMSE = total MSE / Var(all test y) (= 1 -
explained variance).

Usage: python benchmarks/results_linear_school.py [--reps 10] [--json out.json]
"""
import argparse
import json
import time
import warnings

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from rkhsmtl.datasets import load_school
from rkhsmtl.linear import LinearMultiTaskRegressorCV
from rkhsmtl.metrics import normalized_mean_squared_error
from rkhsmtl.model_selection import malsar_protocol

PENALTIES = ("l21", "lasso", "trace", "graph", "cluster", "dirty", "robust_feature",
             "robust_lowrank", "sparse_trace")
RATIOS = (0.1, 0.2, 0.3)
CV_SETTINGS = {"n_lambdas": 8, "eps": 1e-3, "tol": 1e-4, "max_iter": 300}
ALPHAS = np.logspace(-2, 5, 15)


def cv_folds():
    return StratifiedKFold(3, shuffle=True, random_state=0)


# ---------------------------------------------------------------- ridge
def ridge_path(X, y, alphas):
    """Coefficients (len(alphas), d) and intercepts of ridge with intercept."""
    xm, ym = X.mean(axis=0), y.mean()
    U, s, Vt = np.linalg.svd(X - xm, full_matrices=False)
    Uty = U.T @ (y - ym)
    coefs = np.stack([Vt.T @ (s / (s * s + a) * Uty) for a in alphas])
    return coefs, ym - coefs @ xm


def ridge_predict(X, task, tr_rows, te_rows, y, alphas, independent):
    """Predictions (len(alphas), len(te_rows)) on te_rows from tr_rows."""
    out = np.empty((len(alphas), len(te_rows)))
    if not independent:
        coefs, icpt = ridge_path(X[tr_rows], y[tr_rows], alphas)
        return coefs @ X[te_rows].T + icpt[:, None]
    for t in np.unique(task[te_rows]):
        a = tr_rows[task[tr_rows] == t]
        b = np.flatnonzero(task[te_rows] == t)
        coefs, icpt = ridge_path(X[a], y[a], alphas)
        out[:, b] = coefs @ X[te_rows[b]].T + icpt[:, None]
    return out


def ridge_cv_predict(X, y, task, Xte, task_te, independent):
    errors = np.zeros(len(ALPHAS))
    rows = np.arange(len(y))
    for a, b in cv_folds().split(X, task):
        pred = ridge_predict(X, task, rows[a], rows[b], y, ALPHAS, independent)
        errors += ((pred - y[b]) ** 2).mean(axis=1)
    alpha = ALPHAS[int(np.argmin(errors))]
    Xall = np.vstack([X, Xte])
    tall = np.concatenate([task, task_te])
    yall = np.concatenate([y, np.zeros(len(Xte))])
    pred = ridge_predict(Xall, tall, rows, len(y) + np.arange(len(Xte)), yall, [alpha],
                         independent)
    return pred[0], alpha


# ---------------------------------------------------------------- main
def scores(y_true, y_pred, task):
    per_task = normalized_mean_squared_error(y_true, y_pred, task=task, average="uniform")
    pooled = normalized_mean_squared_error(y_true, y_pred, task=task, average="pooled")
    return float(per_task), float(pooled)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--json", default="results_linear_school.json")
    args = parser.parse_args()
    X, y, task = load_school(return_X_y=True)
    T = task.max() + 1
    # School has no known task network: the complete graph with the scaling
    # G = I - 11^T / T gives ||W G||_F^2 = sum_t ||w_t - mean(w)||^2 (mean regularization).
    graph = np.eye(T) - np.ones((T, T)) / T
    splits = {r: list(malsar_protocol(r, n_splits=args.reps, random_state=0).split(
        X, y, groups=task)) for r in RATIOS}
    methods = ("ridge (independent)", "ridge (pooled)") + PENALTIES
    results = {m: {str(r): {"nmse": [], "pooled_nmse": [], "lambda": [], "seconds": []}
                   for r in RATIOS} for m in methods}
    start = time.perf_counter()
    for rep in range(args.reps):
        for r in RATIOS:
            tr, te = splits[r][rep]
            scaler = StandardScaler().fit(X[tr])
            Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
            for m in methods:
                t0 = time.perf_counter()
                if m.startswith("ridge"):
                    pred, lam = ridge_cv_predict(Xtr, y[tr], task[tr], Xte, task[te],
                                                 independent="independent" in m)
                else:
                    extra = {"graph": graph} if m == "graph" else {}
                    model = LinearMultiTaskRegressorCV(penalty=m, cv=cv_folds(),
                                                       **CV_SETTINGS, **extra)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        model.fit(Xtr, y[tr], task=task[tr])
                    pred, lam = model.predict(Xte, task=task[te]), model.lambda1_
                sec = time.perf_counter() - t0
                nmse, pooled = scores(y[te], pred, task[te])
                cell = results[m][str(r)]
                for key, value in zip(("nmse", "pooled_nmse", "lambda", "seconds"),
                                      (nmse, pooled, float(lam), sec)):
                    cell[key].append(value)
                print(f"rep {rep} ratio {r:.1f} {m:<20} nMSE={nmse:.4f} pooled={pooled:.4f} "
                      f"lambda={lam:.3g} ({sec:.1f}s)", flush=True)
            with open(args.json, "w") as f:  # after every (rep, ratio): partial runs count
                json.dump({"reps_done": rep + 1, "ratio_done": r, "results": results,
                           "seconds": time.perf_counter() - start}, f, indent=1)
    print(f"\ntotal {time.perf_counter() - start:.0f}s")
    for key, title in (("nmse", "nMSE averaged over schools"), ("pooled_nmse", "pooled nMSE")):
        print(f"\n{title} (mean ± std over {args.reps} repetitions)")
        print("| method | 10 % | 20 % | 30 % |\n|---|---|---|---|")
        for m in methods:
            cells = [f"{np.mean(results[m][str(r)][key]):.4f} ± "
                     f"{np.std(results[m][str(r)][key]):.4f}" for r in RATIOS]
            print(f"| {m} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
