"""The public regularization path: an estimator's fits over a lambda grid.

It sits above the estimators (it builds one to validate the data and the
penalty), so the solver layer (:mod:`._path`) never imports them.
"""
import numpy as np
from sklearn.utils import Bunch

from ._base import _check_grid
from ._estimators import LinearMultiTaskClassifier, LinearMultiTaskRegressor
from ._path import lambda_grid, lambda_max, path_on_datafit


def regularization_path(X, y, task=None, *, penalty="l21", lambdas=None,
                        n_lambdas=20, eps=1e-3, loss="squared", sample_weight=None,
                        **params):
    r"""Fit a linear multi-task model over a decreasing ``lambda1`` sequence.

    Each fit starts from the previous solution (warm start), which makes the
    whole path cost a small multiple of one fit at the smallest value.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        Targets; with ``loss="logistic"`` two class labels per task.
    task : array-like of shape (n_samples,), default=None
        Task label per row (heterogeneous layout).
    penalty : str, default="l21"
        Any penalty of :class:`LinearMultiTaskRegressor`.
    lambdas : array-like, default=None
        ``lambda1`` values, fitted in decreasing order.  None: ``n_lambdas``
        values from ``lambda1_max`` (the smallest value with ``W = 0``
        optimal, from the gradient at ``W = 0``) down to ``eps * lambda1_max``.
    n_lambdas : int, default=20
    eps : float, default=1e-3
    loss : {"squared", "logistic"}, default="squared"
    sample_weight : array-like of shape (n_samples,), default=None
    **params
        Other hyperparameters of the estimator (``lambda2``, ``lambda3``,
        ``graph``, ``n_clusters``, ``fit_intercept``, ``task_weighting``,
        ``max_iter``, ``tol``, ``stopping``, ``solver``, ``task_column``).

    Returns
    -------
    path : Bunch
        ``lambdas`` (n_lambdas,), ``coefs`` (n_lambdas, n_features, n_tasks),
        ``intercepts`` (n_lambdas, n_tasks), ``n_iter`` (n_lambdas,),
        ``objectives`` (final objective per value), ``dual_gaps`` (the
        certified gap per value, NaN without certificate) and ``tasks``.

    Examples
    --------
    >>> from rkhsmtl.linear import make_linear_multitask, regularization_path
    >>> X, y, task, W = make_linear_multitask("l21", n_tasks=3, n_features=8,
    ...                                       n_samples=30, random_state=0)
    >>> path = regularization_path(X, y, task, penalty="l21", n_lambdas=5)
    >>> path.coefs.shape
    (5, 8, 3)
    >>> bool((path.coefs[0] == 0).all())
    True
    """
    cls = LinearMultiTaskClassifier if loss == "logistic" else LinearMultiTaskRegressor
    if lambdas is not None:
        lambdas = _check_grid("lambdas", lambdas)
    lambda1 = float(np.max(lambdas)) if lambdas is not None else 1.0
    est = cls(penalty=penalty, lambda1=lambda1, **params)
    est._validate_params()
    datafit, _, _ = est._prepare(X, y, task, sample_weight)
    d, T = datafit.n_features, datafit.n_tasks
    if lambdas is None:
        pen = est._make_penalty(1.0, d, T)
        lambdas = lambda_grid(lambda_max(datafit, pen, fit_intercept=est.fit_intercept),
                              n_lambdas, eps)
    else:
        lambdas = np.sort(lambdas)[::-1]
        if np.any(lambdas <= 0):
            raise ValueError(
                f"The 'lambdas' values must be positive; got a minimum of "
                f"{lambdas.min():.3g}. Pass a grid of positive lambda1 values.")
    fits = path_on_datafit(
        datafit, lambda lam: est._make_penalty(lam, d, T), lambdas,
        lambda2=est.lambda2, fit_intercept=est.fit_intercept, max_iter=est.max_iter,
        tol=est.tol, stopping=est.stopping, solver=est.solver)
    return Bunch(
        lambdas=lambdas,
        coefs=np.stack([f.coef for f in fits]),
        intercepts=np.stack([f.intercept for f in fits]),
        n_iter=np.array([f.n_iter for f in fits]),
        objectives=np.array([f.objective_history[-1] for f in fits]),
        dual_gaps=np.array([f.dual_gap for f in fits]),
        tasks=est.tasks_,
    )
