"""Diagnostic plots for the linear multi-task estimators (matplotlib, optional)."""
import numpy as np

from ..plotting import _pyplot


def plot_cv_curve(cv_estimator, ax=None):
    """Mean cross-validated score against ``lambda1`` (one line per ``lambda2``),
    with a +-1 standard deviation band and the selected value marked.

    Parameters
    ----------
    cv_estimator : LinearMultiTaskRegressorCV or LinearMultiTaskClassifierCV
        A fitted CV estimator.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from rkhsmtl.linear import (LinearMultiTaskRegressorCV, make_linear_multitask,
    ...                             plot_cv_curve)
    >>> X, y, task, W = make_linear_multitask(random_state=0)
    >>> ax = plot_cv_curve(LinearMultiTaskRegressorCV(n_lambdas=5, cv=3).fit(X, y, task=task))
    """
    plt = _pyplot()
    if not hasattr(cv_estimator, "cv_results_"):
        raise ValueError("plot_cv_curve needs a fitted CV estimator (with cv_results_).")
    if ax is None:
        _, ax = plt.subplots()
    res = cv_estimator.cv_results_
    for lam2 in np.unique(res["lambda2"]):
        sel = res["lambda2"] == lam2
        order = np.argsort(res["lambda1"][sel])
        lam1 = res["lambda1"][sel][order]
        mean = res["mean_test_score"][sel][order]
        std = res["std_test_score"][sel][order]
        line, = ax.plot(lam1, mean, marker="o", ms=3, label=f"lambda2={lam2:.3g}")
        ax.fill_between(lam1, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    ax.axvline(cv_estimator.lambda1_, color="k", ls="--", lw=1, label="selected")
    ax.set_xscale("log")
    ax.set_xlabel("lambda1")
    ax.set_ylabel("mean CV score")
    ax.legend()
    return ax


def plot_objective(estimator, ax=None):
    """Objective value per FISTA iteration (minus its final value, log scale).

    Parameters
    ----------
    estimator : fitted linear multi-task estimator
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> from rkhsmtl.linear import (LinearMultiTaskRegressor, make_linear_multitask,
    ...                             plot_objective)
    >>> X, y, task, W = make_linear_multitask(random_state=0)
    >>> ax = plot_objective(LinearMultiTaskRegressor().fit(X, y, task=task))
    """
    plt = _pyplot()
    if not hasattr(estimator, "objective_history_"):
        raise ValueError("plot_objective needs a fitted estimator (objective_history_).")
    if ax is None:
        _, ax = plt.subplots()
    hist = np.asarray(estimator.objective_history_)
    gap = hist - hist.min()
    # The last point is 0 by construction; drop it from the log plot.
    ax.semilogy(np.arange(len(gap) - 1), np.maximum(gap[:-1], np.finfo(float).tiny))
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective - final objective")
    return ax
