"""The ``score`` of every multi-task regressor (kernel, weighting, linear, neural)."""
import numpy as np
from sklearn.metrics import r2_score

from ._backend import to_numpy


def r2_multitask(y_true, y_pred, sample_weight=None):
    """R^2 as scikit-learn's ``score``, for one or many tasks.

    One column of predictions (or a 1-D y): R^2 over the rows.  A 2-D Y: the
    uniform average of the per-task R^2, each over that task's observed
    (non-NaN) entries.
    """
    y_true = np.asarray(to_numpy(y_true), dtype=np.float64)
    y_pred = np.asarray(to_numpy(y_pred))
    sw = None if sample_weight is None else np.asarray(to_numpy(sample_weight))
    if y_true.ndim == 1 or y_pred.ndim == 1:
        return float(r2_score(y_true.reshape(y_pred.shape), y_pred, sample_weight=sw))
    scores = []
    for t in range(y_true.shape[1]):
        keep = ~np.isnan(y_true[:, t])
        scores.append(r2_score(y_true[keep, t], y_pred[keep, t],
                               sample_weight=None if sw is None else sw[keep]))
    return float(np.mean(scores))
