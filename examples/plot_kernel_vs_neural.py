"""
Kernel multi-task learning versus a hard-sharing network
========================================================

Two ways of sharing information between tasks:

* the kernel model couples the task functions through the task matrix of a
  separable kernel (:class:`~rkhsmtl.MultiTaskKernelRidgeCV`, mean-regularized,
  ``alpha`` and ``omega`` chosen by cross-validation);
* the neural model shares a trunk of hidden layers and gives every task its
  own output head (:class:`~rkhsmtl.neural.HardSharingNetRegressorCV`, weight
  decay chosen by the same task-stratified cross-validation, so that both
  sides are tuned).

Each is compared with its own no-sharing baseline (independent kernel ridge;
the same network trained separately per task with ``single_task=True``), on
synthetic related tasks, for a growing number of training rows per task.

If the School data set is already on disk (see
:func:`rkhsmtl.datasets.get_data_home`), the last section repeats the
comparison on a few schools; nothing is downloaded.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

from rkhsmtl import MultiTaskKernelRidgeCV
from rkhsmtl.datasets import DatasetNotFoundError, load_school, make_multitask_regression
from rkhsmtl.metrics import mean_squared_error
from rkhsmtl.model_selection import multitask_train_test_split
from rkhsmtl.neural import HardSharingNetRegressor, HardSharingNetRegressorCV

alphas = np.logspace(-3, 1, 7)

# The base network of HardSharingNetRegressorCV (tanh, Adam step 1e-2, large
# batches, exactly max_epochs epochs), with a smaller grid than the 18
# candidates of ``rkhsmtl compare`` so that the example stays short.
net = dict(hidden_layer_sizes=(32, 4), activation="tanh", learning_rate=1e-2,
           batch_size=512, task_balanced_batches=False, early_stopping=False,
           tol=0.0, n_iter_no_change=1_000_000, random_state=0)
# the 300-epoch candidates are read off the 1000-epoch runs: no extra fits
grid = {"weight_decay": [1e-3, 1e-2, 1e-1], "max_epochs": [300, 1000]}
# one network per task trains the tasks one after the other: every candidate
# is a fit of its own, so the single-task search gets the decays only
single_grid = {"weight_decay": [1e-3, 1e-2, 1e-1], "max_epochs": [300]}


def make_models():
    return {
        "kernel, independent": MultiTaskKernelRidgeCV(
            alphas=alphas, task_matrix="independent", cv=3),
        "kernel, mean-regularized": MultiTaskKernelRidgeCV(
            alphas=alphas, omegas=[0.0, 0.5, 0.8, 0.95], cv=3),
        "network, single-task": HardSharingNetRegressorCV(
            HardSharingNetRegressor(single_task=True, **net), single_grid,
            random_state=0),
        "network, hard sharing": HardSharingNetRegressorCV(
            HardSharingNetRegressor(**net), grid, random_state=0),
    }


def evaluate(X_tr, y_tr, t_tr, X_te, y_te, t_te):
    scores, seconds = {}, {}
    for name, model in make_models().items():
        start = time.perf_counter()
        model.fit(X_tr, y_tr, task=t_tr)
        seconds[name] = time.perf_counter() - start
        pred = model.predict(X_te, task=t_te)
        scores[name] = mean_squared_error(y_te, pred, task=t_te)
    return scores, seconds


# %%
# Synthetic related tasks
# -----------------------
# Six tasks drawn with one cluster of correlated functions (correlation 0.8).

X, y, task, _ = make_multitask_regression(
    n_samples=150, n_tasks=6, n_features=3, structure="clustered", n_clusters=1,
    correlation=0.8, noise=0.2, random_state=1)

sizes = [10, 25, 50]
results = {}
for n_train in sizes:
    X_tr, X_te, y_tr, y_te, t_tr, t_te = multitask_train_test_split(
        X, y, task=task, train_size=n_train, random_state=0)
    scores, seconds = evaluate(X_tr, y_tr, t_tr, X_te, y_te, t_te)
    for name in scores:
        results.setdefault(name, []).append(scores[name])
    print(f"{n_train} rows per task: " + ", ".join(
        f"{name} {scores[name]:.3f} ({seconds[name]:.2f} s)" for name in scores))

fig, ax = plt.subplots(figsize=(6, 4))
for name, mse in results.items():
    ax.plot(sizes, mse, "o-" if name.startswith("kernel") else "s--", label=name)
ax.set_xlabel("training rows per task")
ax.set_ylabel("test MSE (uniform average over tasks)")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# School (only if already downloaded)
# -----------------------------------
# Ten schools, 75% of each school for training; inputs standardized on the
# training rows.  Skipped when the file is not in the data home.

try:
    X_s, y_s, t_s = load_school(return_X_y=True, download_if_missing=False)
except DatasetNotFoundError:
    print("School data not found locally: skipped (this example never downloads).")
else:
    keep = np.isin(t_s, np.unique(t_s)[:10])
    X_s, y_s, t_s = X_s[keep], y_s[keep], t_s[keep]
    X_tr, X_te, y_tr, y_te, t_tr, t_te = multitask_train_test_split(
        X_s, y_s, task=t_s, test_size=0.25, random_state=0)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0) + 1e-12
    X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std
    scores, _ = evaluate(X_tr, y_tr, t_tr, X_te, y_te, t_te)
    variance = np.var(y_te)
    for name, mse in scores.items():
        print(f"School, 10 schools, {name}: explained variance {1 - mse / variance:.1%}")

# %%
# The full picture
# ----------------
# ``rkhsmtl compare --learning-curve`` runs this protocol with the searches of
# ``rkhsmtl compare`` (independent kernel ridge, the best fixed and a learned
# task matrix, the shared and the single-task network) on the built-in
# synthetic tasks, SARCOS or School; docs/results.md shows the curves, the fit
# times and where the two families cross.

plt.show()
