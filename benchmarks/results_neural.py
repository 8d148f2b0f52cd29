"""Hard-parameter-sharing network vs scikit-learn's MLPRegressor on real data.

SARCOS (shared inputs, official test file only, 4449 x 21, 7 torques as
tasks): n training inputs drawn at random (every one carries all 7 torques, so
each task has n training points), all other inputs are the test set; inputs and
targets standardized on the training rows; nMSE = MSE_t / Var(y_t) on the test
rows, averaged over the 7 tasks; ``--reps`` repetitions for each n.  Compared on
the same splits: HardSharingNetRegressor (shared trunk, linear heads), the same
network in ``single_task`` mode (one network per torque), and MLPRegressor fitted
on the 7 outputs at once (a multi-output MLP *is* hard sharing with linear
heads, so this is the same-shape comparison).

School (heterogeneous inputs, 139 schools): the 75/25 per-school splits of
``school_protocol`` (as in docs/results.md); features standardized on the
training rows, targets left raw; explained variance = 1 - MSE / Var(y) on the
pooled test rows.  HardSharingNetRegressor with one head per school vs
MLPRegressor on the features plus a one-hot encoding of the school (MLPRegressor
has no notion of tasks; a one-hot task input is the natural way to give it the
task, and it then learns task offsets and task-feature interactions in its
first layer instead of in separate heads).

Hyperparameters: a small grid evaluated on the *first* split's training rows
only (3-fold CV for SARCOS; a 75/25 per-school hold-out for School).  SARCOS
uses one configuration for every model (picked by MLPRegressor's validation
nMSE, so the baseline is the tuned one); on School each model gets its own
best configuration.  MLPRegressor's ``alpha`` adds ``alpha * W / batch_size`` to
the mini-batch gradient, our ``weight_decay`` adds ``weight_decay * W``: we set
``weight_decay = alpha / batch_size`` so the two penalties are the same.
Both use Adam (learning rate 1e-3).  MLPRegressor divides the penalty by the
size of the *current* batch, so a short last batch gets a larger decay; on
SARCOS the batch size 25 divides every n (50, 100, 200), which makes the two
penalties equal on every step (School: batch 32).  On SARCOS the number of epochs
is part of the grid and every epoch runs (no early stopping: with 50-200
training rows the held-out 10 % would be 5-20 rows); on School both stop
early on 10 % of the training rows (patience 20 epochs, at most 300).

Usage: python benchmarks/results_neural.py [--reps 10] [--school-splits 10]
"""
import argparse
import itertools
import json
import platform
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from rkhsmtl.datasets import load_sarcos, load_school
from rkhsmtl.metrics import explained_variance, normalized_mean_squared_error
from rkhsmtl.model_selection import PerTaskShuffleSplit, school_protocol
from rkhsmtl.neural import HardSharingNetRegressor

# SARCOS trains on 50-200 rows: early stopping would monitor 5-20 held-out rows,
# too few to stop reliably, so the number of epochs is a fixed hyperparameter
# there (every epoch runs: tol=0).  School holds out 10 % of ~11,500 rows.
SARCOS_GRID = {"hidden_layer_sizes": [(64,), (64, 64)], "activation": ["relu", "tanh"],
               "alpha": [1e-4, 1e-1], "max_epochs": [200, 1000], "early_stopping": [False],
               "batch_size": [25]}
SCHOOL_GRID = {"hidden_layer_sizes": [(32,), (64, 64)], "alpha": [1e-4, 1e-1],
               "max_epochs": [300], "early_stopping": [True], "batch_size": [32]}
# Shared by every model and every configuration.
TRAINING = {"learning_rate": 1e-3, "validation_fraction": 0.1}


def grid(spec):
    keys = list(spec)
    return [dict(zip(keys, values)) for values in itertools.product(*spec.values())]


def make(kind, config, seed, activation="relu"):
    act = config.get("activation", activation)
    hidden, alpha, tr = config["hidden_layer_sizes"], config["alpha"], TRAINING
    early, epochs, batch = config["early_stopping"], config["max_epochs"], config["batch_size"]
    # Without early stopping, tol=0 and an unreachable patience run every epoch.
    patience, tol = (20, 1e-5) if early else (10**9, 0.0)
    if kind == "mlp":
        return MLPRegressor(hidden_layer_sizes=hidden, activation=act, solver="adam",
                            alpha=alpha, batch_size=batch,
                            learning_rate_init=tr["learning_rate"],
                            max_iter=epochs, early_stopping=early,
                            validation_fraction=tr["validation_fraction"],
                            n_iter_no_change=patience, tol=tol,
                            shuffle=True, random_state=seed)
    return HardSharingNetRegressor(
        hidden_layer_sizes=hidden, activation=act, weight_decay=alpha / batch,
        learning_rate=tr["learning_rate"], batch_size=batch,
        max_epochs=epochs, early_stopping=early,
        validation_fraction=tr["validation_fraction"], n_iter_no_change=patience, tol=tol,
        task_balanced_batches=False, single_task=(kind == "single"), dtype="float64",
        random_state=seed)


def timed_fit(model, *args, **kwargs):
    start = time.perf_counter()
    with warnings.catch_warnings():
        # ConvergenceWarning: max_epochs reached (by design without early
        # stopping); UserWarning: batch_size clipped to n for small n.
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        model.fit(*args, **kwargs)
    return time.perf_counter() - start


def mean_std(values):
    return float(np.mean(values)), float(np.std(values))


# ---------------------------------------------------------------- SARCOS
def sarcos_split(n_rows, n_train, seed):
    rng = np.random.RandomState(seed)
    perm = rng.permutation(n_rows)
    return perm[:n_train], perm[n_train:]


def standardize(Xtr, Ytr, Xte, Yte):
    sx, sy = StandardScaler().fit(Xtr), StandardScaler().fit(Ytr)
    return sx.transform(Xtr), sy.transform(Ytr), sx.transform(Xte), sy.transform(Yte)


def sarcos_nmse(kind, config, X, Y, tr, te, seed):
    Xtr, Ytr, Xte, Yte = standardize(X[tr], Y[tr], X[te], Y[te])
    model = make(kind, config, seed)
    seconds = timed_fit(model, Xtr, Ytr)
    return normalized_mean_squared_error(Yte, model.predict(Xte)), seconds


def select_sarcos(X, Y, tr, log):
    """3-fold CV of every configuration on the first split's training rows."""
    scores = []
    for config in grid(SARCOS_GRID):
        folds = KFold(3, shuffle=True, random_state=0).split(tr)
        values = [sarcos_nmse("mlp", config, X, Y, tr[a], tr[b], 0)[0] for a, b in folds]
        scores.append(np.mean(values))
        log(f"  validate {config}: MLP nMSE={scores[-1]:.4f}")
    return grid(SARCOS_GRID)[int(np.argmin(scores))]


def run_sarcos(reps, log):
    data = load_sarcos()
    X, Y = data.data_wide, data.target_wide
    out = {}
    for n in (50, 100, 200):
        seeds = [1000 * n + r for r in range(reps)]
        config = select_sarcos(X, Y, sarcos_split(len(X), n, seeds[0])[0], log)
        log(f"SARCOS n={n}: chosen {config}")
        res = {k: {"nmse": [], "seconds": []} for k in ("ours", "single", "mlp")}
        for r, seed in enumerate(seeds):
            tr, te = sarcos_split(len(X), n, seed)
            for kind in res:
                nmse, sec = sarcos_nmse(kind, config, X, Y, tr, te, seed)
                res[kind]["nmse"].append(nmse)
                res[kind]["seconds"].append(sec)
            log(f"  rep {r}: " + "  ".join(
                f"{k}={v['nmse'][-1]:.4f} ({v['seconds'][-1]:.1f}s)" for k, v in res.items()))
        out[n] = {"config": config, "results": res}
    return out


# ---------------------------------------------------------------- School
def school_fit_predict(kind, config, X, y, task, tr, te, seed):
    scaler = StandardScaler().fit(X[tr])
    Xtr, Xte = scaler.transform(X[tr]), scaler.transform(X[te])
    model = make(kind, config, seed)
    if kind == "mlp":
        onehot = np.eye(task.max() + 1)
        seconds = timed_fit(model, np.hstack([Xtr, onehot[task[tr]]]), y[tr])
        pred = model.predict(np.hstack([Xte, onehot[task[te]]]))
    else:
        seconds = timed_fit(model, Xtr, y[tr], task=task[tr])
        pred = model.predict(Xte, task=task[te])
    return explained_variance(y[te], pred, task=task[te], average="pooled"), seconds


def run_school(n_splits, log):
    X, y, task = load_school(return_X_y=True)
    splits = list(school_protocol(n_splits=n_splits, random_state=0).split(X, y, groups=task))
    tr0 = splits[0][0]
    fit_rows, val_rows = next(PerTaskShuffleSplit(1, test_size=0.25, random_state=1).split(
        X[tr0], y[tr0], groups=task[tr0]))
    fit_rows, val_rows = tr0[fit_rows], tr0[val_rows]
    chosen = {}
    for kind in ("ours", "mlp"):
        scores = []
        for config in grid(SCHOOL_GRID):
            ev, sec = school_fit_predict(kind, config, X, y, task, fit_rows, val_rows, 0)
            scores.append(ev)
            log(f"  validate {kind} {config}: EV={ev:.4f} ({sec:.1f}s)")
        chosen[kind] = grid(SCHOOL_GRID)[int(np.argmax(scores))]
        log(f"School {kind}: chosen {chosen[kind]}")
    res = {k: {"ev": [], "seconds": []} for k in chosen}
    for s, (tr, te) in enumerate(splits):
        for kind in res:
            ev, sec = school_fit_predict(kind, chosen[kind], X, y, task, tr, te, s)
            res[kind]["ev"].append(ev)
            res[kind]["seconds"].append(sec)
        log(f"  split {s}: " + "  ".join(
            f"{k}={v['ev'][-1]:.4f} ({v['seconds'][-1]:.1f}s)" for k, v in res.items()))
    return {"config": chosen, "results": res}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--school-splits", type=int, default=10)
    parser.add_argument("--json", default=None, help="write raw results here")
    args = parser.parse_args()

    def log(msg):
        print(msg, flush=True)

    start = time.perf_counter()
    log(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    sarcos = run_sarcos(args.reps, log)
    t_sarcos = time.perf_counter() - start
    school = run_school(args.school_splits, log)
    t_total = time.perf_counter() - start
    names = {"ours": "HardSharingNetRegressor", "single": "HardSharingNetRegressor(single_task)",
             "mlp": "MLPRegressor (multi-output)"}
    log(f"\nSARCOS nMSE (mean ± std over {args.reps} reps), total {t_sarcos:.0f}s")
    log("| model | n=50 | n=100 | n=200 |\n|---|---|---|---|")
    for kind, name in names.items():
        cells = ["{:.4f} ± {:.4f}".format(*mean_std(sarcos[n]["results"][kind]["nmse"]))
                 for n in (50, 100, 200)]
        log(f"| {name} | " + " | ".join(cells) + " |")
    log("\nSARCOS mean fit time per model (s)")
    for kind, name in names.items():
        log(f"| {name} | " + " | ".join(
            f"{np.mean(sarcos[n]['results'][kind]['seconds']):.2f}" for n in (50, 100, 200)) + " |")
    log(f"\nSchool explained variance over {args.school_splits} splits, total "
        f"{t_total - t_sarcos:.0f}s")
    for kind, name in (("ours", "HardSharingNetRegressor (task heads)"),
                       ("mlp", "MLPRegressor (features + one-hot school)")):
        ev, sd = mean_std(school["results"][kind]["ev"])
        log(f"| {name} | {100 * ev:.1f}% ± {100 * sd:.1f}% | "
            f"{np.mean(school['results'][kind]['seconds']):.1f}s |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sarcos": {str(k): v for k, v in sarcos.items()}, "school": school,
                       "seconds": {"sarcos": t_sarcos, "total": t_total}}, f, indent=1,
                      default=lambda o: list(o) if isinstance(o, tuple) else float(o))


if __name__ == "__main__":
    main()
