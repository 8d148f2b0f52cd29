"""The ``score`` of every multi-task regressor (kernel, weighting, linear, neural)."""
import numpy as np
from sklearn.metrics import r2_score

from ._backend import to_numpy


def missing_task_message(n_tasks):
    """What ``score`` says when a 1-D y meets predictions for every task."""
    return (
        f"score got a 1-D y (one target per row) but no task labels, so the model "
        f"predicted all {n_tasks} tasks at each row and cannot tell which one to "
        "compare. Pass each row's task: est.score(X, y, task=labels); or fit "
        "with task_column= so that X carries the labels; or, inside scikit-learn "
        "tools (cross_validate, GridSearchCV), route the labels: "
        "sklearn.set_config(enable_metadata_routing=True); "
        "est.set_fit_request(task=True).set_score_request(task=True); then "
        "cross_validate(est, X, y, params={'task': labels}). A model fitted on "
        "shared inputs is scored with y of shape (n_samples, n_tasks)."
    )


def r2_multitask(y_true, y_pred, sample_weight=None):
    """R^2 as scikit-learn's ``score``, for one or many tasks.

    One column of predictions (or a 1-D y): R^2 over the rows.  A 2-D Y: the
    uniform average of the per-task R^2, each over that task's observed
    (non-NaN) entries.
    """
    y_true = np.asarray(to_numpy(y_true), dtype=np.float64)
    y_pred = np.asarray(to_numpy(y_pred))
    sw = None if sample_weight is None else np.asarray(to_numpy(sample_weight))
    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] > 1:
        raise ValueError(missing_task_message(y_pred.shape[1]))
    if y_true.ndim == 1 or y_pred.ndim == 1:
        return float(r2_score(y_true.reshape(y_pred.shape), y_pred, sample_weight=sw))
    scores = []
    for t in range(y_true.shape[1]):
        keep = ~np.isnan(y_true[:, t])
        scores.append(r2_score(y_true[keep, t], y_pred[keep, t],
                               sample_weight=None if sw is None else sw[keep]))
    return float(np.mean(scores))
