"""
Linear multi-task learning: l2,1 and trace-norm penalties
=========================================================

Two structured penalties of :mod:`rkhsmtl.linear` on the coefficient matrix
:math:`W` (one column per task):

* ``penalty="l21"``, :math:`\\lambda_1 \\sum_j \\|W_{j,:}\\|_2`, selects
  features *jointly*: a row of :math:`W` is either zero for every task or
  active for all of them;
* ``penalty="trace"``, :math:`\\lambda_1 \\|W\\|_*`, asks the task weight
  vectors to live in a low-dimensional subspace.

Each is fitted, with :math:`\\lambda_1` chosen by cross-validation, on data
simulated with the matching structure, next to plain ridge regression per
task (``penalty="l21"`` with a negligible weight and a ridge term).  The
heatmaps show the true and estimated coefficient matrices.
"""

import matplotlib.pyplot as plt
import numpy as np

from rkhsmtl.linear import (
    LinearMultiTaskRegressor,
    LinearMultiTaskRegressorCV,
    make_linear_multitask,
)

n_tasks, n_features = 8, 30


def fit_and_compare(structure, penalty, **simulate):
    X, y, task, W_true = make_linear_multitask(
        structure, n_tasks=n_tasks, n_features=n_features, n_samples=25,
        noise=0.5, random_state=0, **simulate)
    structured = LinearMultiTaskRegressorCV(penalty=penalty, n_lambdas=10, cv=3)
    structured.fit(X, y, task=task)
    ridge = LinearMultiTaskRegressor(penalty="l21", lambda1=1e-8, lambda2=0.1)
    ridge.fit(X, y, task=task)
    fits = {"truth": W_true,
            f"{penalty} (lambda1={structured.lambda1_:.3g})": structured.coef_,
            "ridge per task": ridge.coef_}
    for name, W in fits.items():
        err = np.linalg.norm(W - W_true) / np.linalg.norm(W_true)
        rows = int(np.sum(np.linalg.norm(W, axis=1) > 1e-6))
        rank = int(np.linalg.matrix_rank(W, tol=1e-2 * np.linalg.norm(W, 2)))
        print(f"{structure:>6} data, {name:<28} relative error {err:5.2f}, "
              f"non-zero rows {rows:2d}, rank at 1% {rank}")
    return fits


def heatmaps(fits, title):
    vmax = np.abs(fits["truth"]).max()
    fig, axes = plt.subplots(1, len(fits), figsize=(8, 4), sharey=True)
    for ax, (name, W) in zip(axes, fits.items()):
        im = ax.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("task")
    axes[0].set_ylabel("feature")
    fig.colorbar(im, ax=axes, shrink=0.8)
    fig.suptitle(title)


# %%
# Joint feature selection (l2,1)
# ------------------------------
# Five of the thirty features are informative, the same five for every task.

fits = fit_and_compare("l21", "l21", n_informative=5)
heatmaps(fits, "shared support: l2,1 penalty")

# %%
# Low rank (trace norm)
# ---------------------
# The eight task vectors span a two-dimensional subspace.

fits = fit_and_compare("trace", "trace", rank=2)
heatmaps(fits, "rank-2 coefficients: trace-norm penalty")
plt.show()
