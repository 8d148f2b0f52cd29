"""Metrics of one fitted method on one test split."""
import warnings

import numpy as np

from .. import metrics

REGRESSION_METRICS = (
    # (column, label, function, average, higher_is_better)
    ("ev_pooled", "explained variance (pooled)", metrics.explained_variance, "pooled", True),
    ("ev_task", "explained variance (per task)", metrics.explained_variance, "uniform", True),
    ("r2_pooled", "R² (pooled)", metrics.r2_score, "pooled", True),
    ("r2_task", "R² (per task)", metrics.r2_score, "uniform", True),
    ("mse_pooled", "MSE (pooled)", metrics.mean_squared_error, "pooled", False),
    ("mse_task", "MSE (per task)", metrics.mean_squared_error, "uniform", False),
    ("nmse_pooled", "nMSE (pooled)", metrics.normalized_mean_squared_error, "pooled", False),
    ("nmse_task", "nMSE (per task)", metrics.normalized_mean_squared_error, "uniform", False),
)

CLASSIFICATION_METRICS = (
    ("auc_task", "AUC (per task)", metrics.roc_auc_score, "uniform", True),
    ("accuracy_task", "accuracy (per task)", metrics.accuracy_score, "uniform", True),
)


def metric_table(problem_type):
    """The metric rows ``(column, label, function, average, higher_is_better)``."""
    return REGRESSION_METRICS if problem_type == "regression" else CLASSIFICATION_METRICS


def headline_metric(problem_type):
    """Column of the metric that ranks methods (and is plotted)."""
    return "ev_pooled" if problem_type == "regression" else "auc_task"


def continuous_scores(estimator, X, task):
    """Scores for the AUC: decision function, else probability of the positive class."""
    if hasattr(estimator, "decision_function"):
        return np.asarray(estimator.decision_function(X, task=task), dtype=float)
    if hasattr(estimator, "predict_proba"):
        proba = np.asarray(estimator.predict_proba(X, task=task), dtype=float)
        return proba[:, -1] if proba.ndim == 2 else proba
    return np.asarray(estimator.predict(X, task=task), dtype=float)


def evaluate(problem_type, estimator, X, y, task):
    """All metrics of ``metric_table(problem_type)`` for a fitted estimator.

    Parameters
    ----------
    problem_type : {"regression", "classification"}
    estimator : fitted estimator
    X : ndarray of shape (n_test, n_features)
    y : ndarray of shape (n_test,)
    task : ndarray of shape (n_test,)

    Returns
    -------
    scores : dict of str to float
    """
    predicted = np.asarray(estimator.predict(X, task=task))
    if predicted.shape != y.shape:
        raise ValueError(
            f"predict(X, task=...) of {type(estimator).__name__} returned shape "
            f"{predicted.shape}; the comparison needs one prediction per row {y.shape}."
        )
    scores = {}
    continuous = None
    with warnings.catch_warnings():
        # A task whose test rows have one class (AUC) or constant targets gets
        # NaN and is left out of the average; the warning is noise here.
        warnings.simplefilter("ignore")
        for column, _, func, average, _ in metric_table(problem_type):
            if column.startswith("auc"):
                if continuous is None:
                    continuous = continuous_scores(estimator, X, task)
                value = func(y, continuous, task, average=average)
            else:
                value = func(y, predicted, task, average=average)
            scores[column] = float(value)
    return scores
