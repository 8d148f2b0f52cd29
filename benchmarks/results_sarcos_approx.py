"""SARCOS: the approximate path against the exact fit, as m grows (shared inputs).

Protocol: the 4,449 rows of SARCOS's official test file (the only part
available), 7 joint torques as tasks on shared inputs; per split a random
3,000 rows for training and the other 1,449 for testing; inputs standardized
and every torque standardized on the training rows (predictions mapped back
before scoring); nMSE = MSE / Var(y_t) per task on the test rows, averaged
over tasks.  Fixed hyperparameters (RBF gamma = 1/21, alpha = 1e-3 for the
fixed structures; MTRL lambda_1 = 1e-3, lambda_2 = 1e-2), the values
``results_sarcos.py``'s grid search picks most often.  Per split: the exact
fit and the Nystroem fit for every m in ``--components`` (uniform landmarks,
``random_state`` = the split), for independent tasks, the mean-regularized
structure and MTRL.

Usage: RKHSMTL_DATA=../shared/data python benchmarks/results_sarcos_approx.py [--splits 5]
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning
from rkhsmtl.datasets import load_sarcos

GAMMA = 1.0 / 21
MODELS = {
    "independent": lambda **kw: MultiTaskKernelRidge(
        task_matrix="independent", alpha=1e-3, gamma=GAMMA, **kw),
    "mean-regularized": lambda **kw: MultiTaskKernelRidge(
        task_matrix="mean", omega=0.5, alpha=1e-3, gamma=GAMMA, **kw),
    "MTRL": lambda **kw: TaskRelationLearning(
        lambda_1=1e-3, lambda_2=1e-2, gamma=GAMMA, max_iter=50, tol=1e-5, **kw),
}


def nmse(Y, P):
    return float(np.mean(np.mean((Y - P) ** 2, axis=0) / np.var(Y, axis=0)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--components", default="250,500,1000,2000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.components.split(",")]
    sarcos = load_sarcos()
    X, Y = sarcos.data_wide, sarcos.target_wide
    scores = {(name, m): [] for name in MODELS for m in [None] + sizes}
    seconds = {key: [] for key in scores}
    for split in range(args.splits):
        rng = np.random.RandomState(split)
        order = rng.permutation(X.shape[0])
        tr, te = order[:args.train], order[args.train:]
        mu, sd = X[tr].mean(0), X[tr].std(0) + 1e-12
        ymu, ysd = Y[tr].mean(0), Y[tr].std(0)
        Xtr, Xte = (X[tr] - mu) / sd, (X[te] - mu) / sd
        Ytr = (Y[tr] - ymu) / ysd
        for name, make in MODELS.items():
            for m in [None] + sizes:
                kw = {} if m is None else dict(approximation="nystroem", n_components=m,
                                               random_state=split)
                model = make(**kw)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(Xtr, Ytr)
                seconds[(name, m)].append(time.perf_counter() - start)
                P = model.predict(Xte) * ysd + ymu
                scores[(name, m)].append(nmse(Y[te], P))
        print(f"split {split} done", flush=True)

    print(f"\nSARCOS (official test file), {args.train} training rows per split, "
          f"{args.splits} splits: test nMSE (mean +- std over splits) and fit time")
    print(f"| method | m | nMSE | nMSE - exact (paired) | fit s |")
    print("|---|---|---|---|---|")
    for name in MODELS:
        exact = np.array(scores[(name, None)])
        for m in [None] + sizes:
            s = np.array(scores[(name, m)])
            diff = s - exact
            label = "exact" if m is None else str(m)
            print(f"| {name} | {label} | {s.mean():.4f} +- {s.std():.4f} | "
                  f"{diff.mean():+.4f} +- {diff.std():.4f} | "
                  f"{np.mean(seconds[(name, m)]):.2f} |")


if __name__ == "__main__":
    main()
