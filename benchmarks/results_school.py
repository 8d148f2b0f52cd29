"""School: independent, pooled and mean-regularized kernel MTL side by side.

Protocol: 10 random 75/25 splits within every school; explained variance =
1 - MSE / Var(y) over the pooled test rows (the MTL literature's convention);
alpha (and omega) chosen by 3-fold task-stratified CV on the training rows of
the first split, then fixed.  Inputs standardized on the training rows.

Usage: python benchmarks/results_school.py [--splits 10]
"""
import argparse
import time

import numpy as np
from sklearn.preprocessing import StandardScaler

from rkhsmtl import MultiTaskKernelRidge, MultiTaskKernelRidgeCV
from rkhsmtl.datasets import load_school
from rkhsmtl.metrics import explained_variance
from rkhsmtl.model_selection import school_protocol


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--splits", type=int, default=10)
    args = parser.parse_args()
    X, y, task = load_school(return_X_y=True)
    splits = list(school_protocol(n_splits=args.splits, random_state=0).split(
        X, y, groups=task))
    methods = {"independent": "independent", "pooled": "pooled", "mean-regularized": "mean"}
    chosen = {}
    tr, _ = splits[0]
    scaler = StandardScaler().fit(X[tr])
    for name, A in methods.items():
        cv = MultiTaskKernelRidgeCV(alphas=np.logspace(-3, 2, 6), task_matrix=A,
                                    omegas=[0.5, 0.75, 0.9], kernel="rbf", gamma=0.02,
                                    cv=3, task_weighting="uniform")
        # Select on a 4000-row subsample of the first training split for speed.
        sub = np.random.RandomState(0).choice(tr, 4000, replace=False)
        cv.fit(scaler.transform(X[sub]), y[sub], task=task[sub])
        chosen[name] = (cv.alpha_, cv.omega_)
        print(f"{name}: alpha={cv.alpha_:g} omega={cv.omega_}", flush=True)
    scores = {name: [] for name in methods}
    for k, (tr, te) in enumerate(splits):
        scaler = StandardScaler().fit(X[tr])
        Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
        for name, A in methods.items():
            alpha, omega = chosen[name]
            m = MultiTaskKernelRidge(alpha=alpha, task_matrix=A, omega=omega or 0.5,
                                     kernel="rbf", gamma=0.02, task_weighting="uniform")
            start = time.perf_counter()
            m.fit(Xtr, y[tr], task=task[tr])
            ev = explained_variance(y[te], m.predict(Xte, task=task[te]), task=task[te],
                                    average="pooled")
            scores[name].append(ev)
            print(f"split {k}: {name:<18} EV={ev:.4f} ({time.perf_counter() - start:.1f}s)",
                  flush=True)
    print("\n| method | explained variance (mean ± std) |\n|---|---|")
    for name, s in scores.items():
        print(f"| {name} | {100 * np.mean(s):.1f}% ± {100 * np.std(s):.1f}% |")


if __name__ == "__main__":
    main()
