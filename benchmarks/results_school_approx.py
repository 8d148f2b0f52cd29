"""School: the approximate (Nystroem) path against the exact fit, as m grows.

Same protocol and hyperparameters as ``results_school.py`` (10 random 75/25
splits within every school, inputs standardized on the training rows, RBF
gamma = 0.02, ``task_weighting="uniform"``; mean-regularized alpha = 0.1,
omega = 0.9; MTRL lambda_1 = 0.01, lambda_2 = 0.1), explained variance over
the pooled test rows.  Per split: the exact mean-regularized fit, the
approximate one for every m in ``--components``, and MTRL alternating on all
training rows on the approximate path (``--mtrl-components``); with
``--exact-mtrl`` also the exact MTRL on the first split, for the time ratio.

Usage: RKHSMTL_DATA=../shared/data python benchmarks/results_school_approx.py [--splits 10]
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning
from rkhsmtl.datasets import load_school
from rkhsmtl.metrics import explained_variance
from rkhsmtl.model_selection import school_protocol

COMMON = dict(kernel="rbf", gamma=0.02, task_weighting="uniform")
MEAN = dict(alpha=0.1, omega=0.9, task_matrix="mean", **COMMON)
MTRL = dict(lambda_1=0.01, lambda_2=0.1, max_iter=30, tol=1e-4, **COMMON)


def timed_score(model, Xtr, ytr, ttr, Xte, yte, tte):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xtr, ytr, task=ttr)
    seconds = time.perf_counter() - start
    return (explained_variance(yte, model.predict(Xte, task=tte), task=tte, average="pooled"),
            seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=10)
    parser.add_argument("--components", default="500,1000,2000,4000")
    parser.add_argument("--mtrl-components", type=int, default=2000)
    parser.add_argument("--exact-mtrl", action="store_true")
    parser.add_argument("--mtrl-only", action="store_true",
                        help="only the approximate MTRL row")
    args = parser.parse_args()
    ms = [int(m) for m in args.components.split(",") if m]
    X, y, task = load_school(return_X_y=True)
    splits = list(school_protocol(n_splits=args.splits, random_state=0).split(
        X, y, groups=task))
    rows = {}

    def record(name, value, seconds):
        rows.setdefault(name, []).append((value, seconds))
        print(f"  {name:<34} {100 * value:6.2f} %  {seconds:7.1f} s", flush=True)

    for k, (tr, te) in enumerate(splits):
        print(f"split {k}: {len(tr)} training rows", flush=True)
        scaler = StandardScaler().fit(X[tr])
        data = (scaler.transform(X[tr]), y[tr], task[tr],
                scaler.transform(X[te]), y[te], task[te])
        if args.mtrl_only:
            ms = []
        else:
            record("mean-regularized, exact",
                   *timed_score(MultiTaskKernelRidge(**MEAN), *data))
        for m in ms:
            model = MultiTaskKernelRidge(approximation="nystroem", n_components=m,
                                         random_state=k, **MEAN)
            record(f"mean-regularized, Nystroem m={m}", *timed_score(model, *data))
        model = TaskRelationLearning(approximation="nystroem",
                                     n_components=args.mtrl_components, random_state=k,
                                     **MTRL)
        record(f"MTRL, Nystroem m={args.mtrl_components}", *timed_score(model, *data))
        if args.exact_mtrl and k == 0:
            record("MTRL, exact (split 0 only)",
                   *timed_score(TaskRelationLearning(**MTRL), *data))
    exact = np.array([v for v, _ in rows.get("mean-regularized, exact", [])])
    print("\n| method | explained variance (mean ± std) | difference from exact, "
          "paired (mean ± std) | fit time (s, mean) | splits |\n|---|---|---|---|---|")
    for name, values in rows.items():
        v = np.array([a for a, _ in values])
        s = np.mean([b for _, b in values])
        diff = (f"{100 * np.mean(v - exact[:len(v)]):+.2f} ± "
                f"{100 * np.std(v - exact[:len(v)]):.2f} points"
                if name.startswith("mean-regularized, N") else "")
        print(f"| {name} | {100 * v.mean():.1f} % ± {100 * v.std():.1f} % | {diff} | "
              f"{s:.1f} | {len(v)} |")


if __name__ == "__main__":
    main()
