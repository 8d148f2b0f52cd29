"""SARCOS: the tuned hard-sharing network against scikit-learn's tuned MLPRegressor.

Question (issue 18): is the library's network, tuned by
:class:`~rkhsmtl.neural.HardSharingNetRegressorCV`, at least as good as the
obvious alternative, :class:`sklearn.neural_network.MLPRegressor` tuned by
:class:`~sklearn.model_selection.GridSearchCV` over the same grid?

Protocol.  SARCOS's official test file in its shared layout: 4,449 input rows
(21 features) shared by the 7 joint torques (``data_wide``, ``target_wide``).
Each of ``--splits`` repetitions draws ``--train-rows`` training rows at
random (the rest, about 3,400 rows, is the test set); both models see exactly
the same rows, the same 3 folds (one ``KFold(3, shuffle=True)`` object
passed to both searches) and inputs standardized on the training rows.
Targets are standardized per task on the training rows for both (the
network does it internally; MLPRegressor through
``TransformedTargetRegressor(StandardScaler)``).  Both networks are the same
model: a shared trunk and one linear output per torque, Adam with the same
step and batch size, the same activation, ``max_epochs`` / ``max_iter``
epochs exactly (no early stopping, no plateau stop), float64.

The grid: width ``hidden_layer_sizes`` and epochs are the same values; the
L2 penalty is the same *effective* penalty.  The network adds
``weight_decay * W`` to the gradient of the sum over the 7 tasks of their
half mean squared errors; MLPRegressor's gradient is the same data term
(``X.T @ (prediction - Y) / batch_size``, summed over the outputs) plus
``alpha * W / batch_size``.  So ``alpha = weight_decay * batch_size`` is the
same penalty (as in benchmarks/results_neural.py), and each model gets its
grid in its own units.

Selection: both searches score their candidates with ``--scoring``: the
pooled MSE (``neg_mean_squared_error``, the default), or the R^2 averaged
over the 7 torques (``r2``: scikit-learn's scorer on a 2-D Y and
``HardSharingNetRegressorCV(scoring="r2")``), which weighs the torques as
the test score does.

Score: per-task nMSE (MSE / Var(y_t) on the test rows) averaged over the 7
tasks; lower is better.  The table gives mean ± std over splits, the paired
difference (network minus MLPRegressor) and the number of splits on which
the network is at least as good.

``--balancing`` runs the second table instead: the four loss-balancing
options of the network (equal, uncertainty, GradNorm, PCGrad) on synthetic
tasks of unequal sizes *and* scales (8 tasks of the default compare
generator, 12 to 200 training rows, targets multiplied by 0.1 to 30), with
everything else fixed (tanh trunk (32, 4), weight decay 1e-2, 1000 epochs,
Adam step 1e-2, batches of 256), over ``--splits`` splits of 50 % of every
task's rows.  The regressor standardizes every task's targets before the
loss, so the scales reach the losses only through what is left after that
(task difficulty, noise); it is run with task-balanced mini-batches (the
default) and with plain shuffled batches, where the large tasks dominate
every batch.  Scores: pooled explained variance on the raw targets (the
large-scale tasks weigh most), per-task nMSE averaged over tasks (every task
counts the same), and fit time.

Usage (defaults: about 5 minutes on the quiet 2-core VM):

    python benchmarks/results_neural_fair.py [--splits 5] [--train-rows 1000] [--quick]
        [--scoring {neg_mean_squared_error,r2}] [--side {both,ours,sklearn}]
    python benchmarks/results_neural_fair.py --balancing [--splits 5]
"""
import argparse
import time
import warnings

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from rkhsmtl.datasets import load_sarcos
from rkhsmtl.metrics import normalized_mean_squared_error
from rkhsmtl.neural import HardSharingNetRegressor, HardSharingNetRegressorCV

ACTIVATION, LEARNING_RATE, BATCH_SIZE = "relu", 1e-3, 64


def grids(quick):
    weight_decay = [1e-4, 1e-3, 1e-2]
    widths = [(64, 64), (128, 128)]
    epochs = [100, 300]
    if quick:
        weight_decay, widths, epochs = [1e-4, 1e-2], [(64, 64)], [30, 100]
    ours = {"weight_decay": weight_decay, "hidden_layer_sizes": widths,
            "max_epochs": epochs}
    theirs = {"regressor__alpha": [w * BATCH_SIZE for w in weight_decay],
              "regressor__hidden_layer_sizes": widths, "regressor__max_iter": epochs}
    return ours, theirs


def nmse(Y_true, Y_pred):
    n, T = Y_true.shape
    task = np.repeat(np.arange(T)[None, :], n, axis=0).ravel()
    return float(normalized_mean_squared_error(Y_true.ravel(), Y_pred.ravel(), task=task,
                                               average="uniform"))


def balancing(args):
    from rkhsmtl.datasets import make_multitask_regression
    from rkhsmtl.metrics import explained_variance
    from rkhsmtl.model_selection import PerTaskShuffleSplit

    T = 8
    sizes = np.linspace(24, 400, T).astype(int)  # rows per task; half train
    scales = np.geomspace(0.1, 30, T)
    X, y, task, _ = make_multitask_regression(
        n_samples=int(sizes.max()), n_tasks=T, n_features=2, structure="clustered",
        n_clusters=2, correlation=0.95, noise=0.2, random_state=0)
    keep = np.concatenate([np.flatnonzero(task == t)[:sizes[t]] for t in range(T)])
    X, y, task = X[keep], y[keep] * scales[task[keep]], task[keep]
    print(f"{T} tasks, rows per task {sizes.tolist()} (half train), target scales "
          f"{np.round(scales, 2).tolist()}; {args.splits} splits\n", flush=True)
    epochs = 100 if args.quick else 1000
    results = {}
    for k, (tr, te) in enumerate(PerTaskShuffleSplit(args.splits, test_size=0.5,
                                                     random_state=0).split(X, y, groups=task)):
        scaler = StandardScaler().fit(X[tr])
        X_tr, X_te = scaler.transform(X[tr]), scaler.transform(X[te])
        for balanced in (True, False):
            for weighting in ("equal", "uncertainty", "gradnorm", "pcgrad"):
                net = HardSharingNetRegressor(
                    (32, 4), activation="tanh", weight_decay=1e-2, max_epochs=epochs,
                    learning_rate=1e-2, batch_size=256, early_stopping=False, tol=0.0,
                    n_iter_no_change=1_000_000, loss_weighting=weighting,
                    task_balanced_batches=balanced, random_state=k)
                start = time.perf_counter()
                net.fit(X_tr, y[tr], task=task[tr])
                elapsed = time.perf_counter() - start
                pred = net.predict(X_te, task=task[te])
                ev = float(explained_variance(y[te], pred, task=task[te], average="pooled"))
                nm = float(normalized_mean_squared_error(y[te], pred, task=task[te],
                                                         average="uniform"))
                results.setdefault((balanced, weighting), []).append((ev, nm, elapsed))
                print(f"split {k} balanced={balanced!s:<5} {weighting:<11} EV={ev:.3f} "
                      f"nMSE={nm:.3f} {elapsed:.1f}s", flush=True)
    print("\n| batches | loss weighting | EV (pooled) | nMSE (per task) | fit time (s) |")
    print("|---|---|---:|---:|---:|")
    for (balanced, weighting), values in results.items():
        v = np.array(values)
        print(f"| {'task-balanced' if balanced else 'shuffled'} | {weighting} | "
              f"{100 * v[:, 0].mean():.1f}% ± {100 * v[:, 0].std():.1f}% | "
              f"{v[:, 1].mean():.3f} ± {v[:, 1].std():.3f} | {v[:, 2].mean():.1f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--train-rows", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="tiny grid (smoke test)")
    parser.add_argument("--scoring", default="neg_mean_squared_error",
                        choices=["neg_mean_squared_error", "r2"],
                        help="validation score of both searches: the pooled MSE, or "
                             "the R^2 averaged over the 7 torques (scikit-learn's "
                             "'r2' on a 2-D Y; every torque counts the same, as in "
                             "the per-task nMSE of the test score)")
    parser.add_argument("--side", default="both", choices=["both", "ours", "sklearn"],
                        help="run one search only (the two can run as two processes)")
    parser.add_argument("--balancing", action="store_true",
                        help="the loss-balancing table instead (synthetic tasks of "
                             "unequal sizes and scales)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.balancing:
        with threadpool_limits(limits=1):
            return balancing(args)
    warnings.simplefilter("ignore", ConvergenceWarning)
    sarcos = load_sarcos()
    X, Y = sarcos.data_wide, sarcos.target_wide
    ours_grid, sk_grid = grids(args.quick)
    print(f"SARCOS shared layout: {X.shape[0]} rows, {X.shape[1]} features, "
          f"{Y.shape[1]} tasks; {args.train_rows} training rows per split, "
          f"{args.splits} splits")
    print(f"grid (network): {ours_grid}\ngrid (MLPRegressor): {sk_grid}\n"
          f"validation score of both searches: {args.scoring}\n", flush=True)
    scores = {"HardSharingNetRegressorCV": [], "MLPRegressor + GridSearchCV": []}
    times = {k: [] for k in scores}
    chosen = {k: [] for k in scores}
    rng = np.random.RandomState(0)
    with threadpool_limits(limits=1):
        for k in range(args.splits):
            rows = rng.permutation(X.shape[0])
            tr, te = rows[:args.train_rows], rows[args.train_rows:]
            scaler = StandardScaler().fit(X[tr])
            X_tr, X_te = scaler.transform(X[tr]), scaler.transform(X[te])
            folds = KFold(3, shuffle=True, random_state=k)

            net = HardSharingNetRegressor(
                activation=ACTIVATION, learning_rate=LEARNING_RATE,
                batch_size=BATCH_SIZE, early_stopping=False, tol=0.0,
                n_iter_no_change=1_000_000, dtype="float64", random_state=k)
            ours = HardSharingNetRegressorCV(net, ours_grid, cv=folds, random_state=k,
                                             scoring=args.scoring)
            mlp = MLPRegressor(activation=ACTIVATION, learning_rate_init=LEARNING_RATE,
                               batch_size=BATCH_SIZE, early_stopping=False, tol=0.0,
                               n_iter_no_change=1_000_000, random_state=k)
            theirs = GridSearchCV(
                TransformedTargetRegressor(mlp, transformer=StandardScaler()), sk_grid,
                cv=folds, scoring=args.scoring)
            for name, model in (("HardSharingNetRegressorCV", ours),
                                ("MLPRegressor + GridSearchCV", theirs)):
                if args.side != "both" and (name == "HardSharingNetRegressorCV") != (
                        args.side == "ours"):
                    continue
                start = time.perf_counter()
                model.fit(X_tr, Y[tr])
                times[name].append(time.perf_counter() - start)
                scores[name].append(nmse(Y[te], model.predict(X_te)))
                chosen[name].append(model.best_params_)
                print(f"split {k}: {name:<28} nMSE={scores[name][-1]:.4f}  "
                      f"fit+select {times[name][-1]:.1f}s  {model.best_params_}",
                      flush=True)
    if args.side != "both":
        name = ("HardSharingNetRegressorCV" if args.side == "ours"
                else "MLPRegressor + GridSearchCV")
        s, t = np.array(scores[name]), np.array(times[name])
        print(f"\n| {name} | {s.mean():.4f} ± {s.std():.4f} | {t.mean():.1f} |")
        return
    ours_s = np.array(scores["HardSharingNetRegressorCV"])
    sk_s = np.array(scores["MLPRegressor + GridSearchCV"])
    diff = ours_s - sk_s
    print("\n| model | nMSE (per task, mean ± std) | fit + selection time (s) |")
    print("|---|---:|---:|")
    for name in scores:
        s, t = np.array(scores[name]), np.array(times[name])
        print(f"| {name} | {s.mean():.4f} ± {s.std():.4f} | {t.mean():.1f} |")
    print(f"\nPaired difference (network - MLPRegressor): {diff.mean():+.4f} ± "
          f"{diff.std():.4f}; network at least as good on {int((diff <= 0).sum())} of "
          f"{len(diff)} splits.")


if __name__ == "__main__":
    main()
