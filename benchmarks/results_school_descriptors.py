"""School with school descriptors: predicting schools never seen in training.

Descriptors of a school (27 columns): its gender policy and denomination
indicators (school-level columns of X, 6) and the means over its students of
the 21 student-level columns (year, %FSM, %VR1 band, gender, VR band, ethnic
group), standardized with the training schools' mean and std.  The means use
the training rows of a school only; a held-out school's come from its
students' inputs (never their exam scores), as a new school's intake is known
before its results.

Two settings, 10 splits each, inputs standardized on the training rows, RBF
input kernel gamma = 0.02, ``task_weighting="uniform"`` (as results_school.py):

* new schools (leave-schools-out): 20 % of the schools (28 of 139) held out
  entirely per split (GroupShuffleSplit, random_state = split index), scored
  on their students;
* seen schools: ``school_protocol`` (75/25 within every school), the
  setting of docs/results.md's School table.

Methods:

* descriptor MTL: ``MultiTaskKernelRidge(task_matrix="descriptors")``, task
  kernel RBF on the descriptors; a new school is predicted through its
  descriptor, f_*(x) = sum_i k(x, x_i) omega k_T(z_*, z_{t_i}) c_i, its
  intercept by a kernel ridge on the fitted intercepts;
* pooled + descriptors: one kernel ridge (one intercept) on the inputs with
  the school's descriptors appended (the usual baseline);
* pooled mean function: ``task_matrix="pooled"`` (one function, per-school
  intercepts; the best model of the seen-school table), a new school
  predicted by the mean function (``unknown_task="mean"``: the function plus
  the mean intercept).

Hyperparameters: chosen once by 3-fold leave-schools-out CV (GroupKFold over
schools) on a 4000-row subsample of the first new-school split's training
rows, then fixed for every split of both settings; the pooled model keeps
alpha = 10 from results_school.py.

Usage: python benchmarks/results_school_descriptors.py [--splits 10]
       [--params JSON] [--setting new|seen|both] [--skip N]
"""
import argparse
import itertools
import json
import time

import numpy as np
from sklearn.model_selection import GroupKFold, GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.datasets import load_school
from rkhsmtl.metrics import explained_variance
from rkhsmtl.model_selection import school_protocol

GAMMA = 0.02
SUBSAMPLE = 4000
HELD_OUT = 0.2
COMMON = dict(kernel="rbf", gamma=GAMMA, task_weighting="uniform", solver="cholesky")
STUDENT = slice(0, 21)      # year, %FSM, %VR1, gender, VR band, ethnic group
SCHOOL = slice(21, 27)      # school gender (3), denomination (3)
POOLED_ALPHA = 10.0
# A first run on alpha {1, 10} x omega {0.5, 0.9} x task_gamma {0.01, 0.04}
# x task_intercept_alpha {0.1, 1} chose the lower corner of every axis; this
# grid extends each axis below it.  task_intercept_alpha does not change the
# fit (it only sets new schools' intercepts), so its values cost no refit.
DESCRIPTOR_GRID = {"alpha": [0.3, 1.0, 3.0], "omega": [0.25, 0.5],
                   "task_gamma": [0.003, 0.01]}
INTERCEPT_ALPHAS = [0.01, 0.03, 0.1, 1.0]
APPENDED_GRID = {"alpha": [1.0, 10.0, 100.0]}


def school_descriptors(X, task):
    """(labels, Z): one row per school present in ``task`` (sorted labels)."""
    labels, codes = np.unique(task, return_inverse=True)
    sums = np.zeros((labels.size, X.shape[1]))
    np.add.at(sums, codes, X)
    means = sums / np.bincount(codes)[:, None]
    return labels, np.c_[means[:, SCHOOL], means[:, STUDENT]]


def prepare(X, y, task, train, test, held_out):
    """Standardized inputs and descriptors of one split."""
    scaler = StandardScaler().fit(X[train])
    X_tr, X_te = scaler.transform(X[train]), scaler.transform(X[test])
    lab_tr, Z_tr = school_descriptors(X[train], task[train])
    # Seen schools: descriptors from the training rows; new schools: from the
    # test rows' inputs (no targets).
    lab_te, Z_te = (school_descriptors(X[test], task[test]) if held_out
                    else (lab_tr, Z_tr))
    zscale = StandardScaler().fit(Z_tr)
    Z_tr, Z_te = zscale.transform(Z_tr), zscale.transform(Z_te)
    return dict(X_tr=X_tr, X_te=X_te, y_tr=y[train], y_te=y[test], t_tr=task[train],
                t_te=task[test], lab_tr=lab_tr, Z_tr=Z_tr, lab_te=lab_te, Z_te=Z_te)


def _rows_descriptors(labels, Z, task):
    return Z[np.searchsorted(labels, task)]


def fit_predict(method, params, d, intercept_alphas=None):
    """Predictions on the test rows of split ``d`` (a list of predictions, one
    per value of ``intercept_alphas``, when given)."""
    if method == "descriptor MTL":
        model = MultiTaskKernelRidge(task_matrix="descriptors", task_kernel="rbf",
                                     **COMMON, **params)
        model.fit(d["X_tr"], d["y_tr"], task=d["t_tr"], task_features=d["Z_tr"])
        new = np.setdiff1d(d["lab_te"], d["lab_tr"])
        Z_new = d["Z_te"][np.searchsorted(d["lab_te"], new)] if new.size else None
        if intercept_alphas is not None:
            return [model.set_params(task_intercept_alpha=a).predict(
                d["X_te"], task=d["t_te"], task_features=Z_new) for a in intercept_alphas]
        return model.predict(d["X_te"], task=d["t_te"], task_features=Z_new)
    if method == "pooled + descriptors":
        A_tr = np.c_[d["X_tr"], _rows_descriptors(d["lab_tr"], d["Z_tr"], d["t_tr"])]
        A_te = np.c_[d["X_te"], _rows_descriptors(d["lab_te"], d["Z_te"], d["t_te"])]
        one = np.zeros(len(A_tr), dtype=int)
        model = MultiTaskKernelRidge(task_matrix="pooled", **COMMON, **params)
        model.fit(A_tr, d["y_tr"], task=one)
        return model.predict(A_te, task=np.zeros(len(A_te), dtype=int))
    if method == "pooled mean function":
        model = MultiTaskKernelRidge(task_matrix="pooled", alpha=POOLED_ALPHA, **COMMON)
        model.fit(d["X_tr"], d["y_tr"], task=d["t_tr"])
        return model.predict(d["X_te"], task=d["t_te"], unknown_task="mean")
    raise ValueError(method)


def select(X, y, task, train):
    """3-fold leave-schools-out CV on a 4000-row subsample of ``train``."""
    rng = np.random.RandomState(0)
    sub = np.sort(rng.choice(train, size=min(SUBSAMPLE, train.size), replace=False))
    folds = list(GroupKFold(3).split(X[sub], y[sub], groups=task[sub]))
    chosen = {}
    for method, grid in (("descriptor MTL", DESCRIPTOR_GRID),
                         ("pooled + descriptors", APPENDED_GRID)):
        best, best_score = None, -np.inf
        extra = INTERCEPT_ALPHAS if method == "descriptor MTL" else [None]
        for values in itertools.product(*grid.values()):
            params = dict(zip(grid, values))
            scores = []
            for tr, te in folds:
                d = prepare(X, y, task, sub[tr], sub[te], held_out=True)
                preds = (fit_predict(method, params, d, extra) if extra[0] is not None
                         else [fit_predict(method, params, d)])
                scores.append([explained_variance(d["y_te"], p, d["t_te"],
                                                  average="pooled") for p in preds])
            mean = np.mean(scores, axis=0)
            j = int(np.argmax(mean))
            if mean[j] > best_score:
                best, best_score = dict(params), float(mean[j])
                if extra[0] is not None:
                    best["task_intercept_alpha"] = extra[j]
        chosen[method] = best
        print(f"selected {method}: {best} (CV explained variance {best_score:.3f})",
              flush=True)
    return chosen


def run(setting, splits, X, y, task, params, skip=0):
    methods = ("descriptor MTL", "pooled + descriptors", "pooled mean function")
    scores = {m: [] for m in methods}
    times = {m: [] for m in methods}
    for k, (train, test) in enumerate(splits):
        if k < skip:
            continue
        d = prepare(X, y, task, train, test, held_out=setting == "new")
        for m in methods:
            start = time.perf_counter()
            pred = fit_predict(m, params.get(m, {}), d)
            times[m].append(time.perf_counter() - start)
            scores[m].append(explained_variance(d["y_te"], pred, d["t_te"],
                                                average="pooled"))
            print(f"  {setting} split {k + 1}/{len(splits)} {m:<22} "
                  f"EV={scores[m][-1]:.4f} ({times[m][-1]:.1f} s)", flush=True)
    return scores, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--setting", choices=("new", "seen", "both"), default="both")
    parser.add_argument("--params", type=json.loads, default=None,
                        help="skip the selection: JSON {method: {param: value}}")
    parser.add_argument("--skip", type=int, default=0,
                        help="resume: skip the first SKIP splits of each setting")
    args = parser.parse_args()
    started = time.perf_counter()
    X, y, task = load_school(return_X_y=True)
    X, y = X.astype(float), y.astype(float)
    new_splits = [next(GroupShuffleSplit(1, test_size=HELD_OUT, random_state=k)
                       .split(X, y, groups=task)) for k in range(args.splits)]
    params = args.params or select(X, y, task, new_splits[0][0])
    print(f"params: {json.dumps(params)}", flush=True)
    results = {}
    if args.setting in ("new", "both"):
        results["new schools (20 % held out)"] = run("new", new_splits, X, y, task, params,
                                                     args.skip)
    if args.setting in ("seen", "both"):
        seen = list(school_protocol(n_splits=args.splits, random_state=0)
                    .split(X, y, groups=task))
        results["seen schools (75/25 within each)"] = run("seen", seen, X, y, task, params,
                                                          args.skip)
    print("\n| setting | method | explained variance | median fit+predict time |")
    print("|---|---|---|---|")
    for setting, (scores, times) in results.items():
        for m in scores:
            s = 100 * np.asarray(scores[m])
            print(f"| {setting} | {m} | {s.mean():.1f}% ± {s.std():.1f}% | "
                  f"{np.median(times[m]):.1f} s |")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
