"""Per-task and joint evaluation metrics for multi-task learning.

Every metric accepts the two data layouts of the library:

* **long** (heterogeneous inputs): 1-D ``y_true`` and ``y_pred`` of shape
  ``(N,)`` and a ``task`` label per row (ints, strings, any hashable).  Without
  ``task`` all rows form a single task.
* **wide** (shared inputs): 2-D ``Y_true`` and ``Y_pred`` of shape ``(n, T)``,
  one column per task, with ``task=None``.  NaN entries of ``Y_true`` are
  missing and ignored.

``sample_weight`` is one weight per row (``(N,)`` or ``(n,)``).  ``average``
combines the per-task values:

* ``None``: array with one value per task, in the sorted order of the unique
  task labels (long layout) or in column order (wide layout);
* ``"uniform"``: plain mean over tasks;
* ``"weighted"``: mean weighted by each task's number of rows (or by its total
  sample weight when ``sample_weight`` is given);
* ``"pooled"`` (regression metrics only): the metric computed once over all
  rows pooled together.

A task on which a metric is undefined (no rows, fewer than two rows for a
variance-based metric, constant targets, a single class for ROC AUC) gets NaN
with a :class:`~sklearn.exceptions.UndefinedMetricWarning` (a ``UserWarning``)
naming the task, and is left out of the averages.
"""
import warnings

import numpy as np
from sklearn import metrics as _skm
from sklearn.exceptions import UndefinedMetricWarning

from ._backend import to_numpy
from ._validation import factorize_task_labels

__all__ = [
    "mean_squared_error",
    "normalized_mean_squared_error",
    "explained_variance",
    "r2_score",
    "accuracy_score",
    "roc_auc_score",
    "per_task_scores",
]

_REGRESSION_AVERAGES = ("uniform", "weighted", "pooled", None)
_CLASSIFICATION_AVERAGES = ("uniform", "weighted", None)


class _UndefinedScore(Exception):
    """Raised by a per-task scorer when the metric is undefined on a task."""


# --------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------
def _label_repr(label):
    if isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def _check_sample_weight(sample_weight, n_rows):
    if sample_weight is None:
        return None
    w = np.asarray(to_numpy(sample_weight), dtype=float)
    if w.ndim != 1:
        raise ValueError(
            f"'sample_weight' must be 1-D (one weight per row); got shape {w.shape}."
        )
    if w.shape[0] != n_rows:
        raise ValueError(
            "y_true and sample_weight have inconsistent numbers of rows: "
            f"{n_rows} and {w.shape[0]}."
        )
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("'sample_weight' must be finite and non-negative.")
    return w


def _take(w, idx):
    return None if w is None else w[idx]


def _as_numeric(a, name, metric):
    if a.dtype.kind in "biuf":
        return a
    try:
        return a.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{metric} needs numeric {name}; got values of dtype {a.dtype} (e.g. "
            f"{_label_repr(a.flat[0])}). Convert them to numbers, or use "
            "accuracy_score for class labels."
        ) from None


def _check_blocks_finite(labels, blocks, wide):
    """Non-finite values never reach a scorer: a task would silently drop out.

    As scikit-learn's metrics do, refuse them with an error that names the
    task (NaN in a wide ``Y_true`` marks a missing entry and is removed before).
    """
    for t, (y, p, _) in zip(labels, blocks):
        where = f"column {t}" if wide else f"task {_label_repr(t)}"
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            fix = ("only NaN marks a missing entry" if wide else
                   "in the long layout every row needs a finite target; drop the "
                   "rows without one (NaN marks a missing entry only in a 2-D Y_true)")
            raise ValueError(
                f"y_true contains NaN or infinity for {where}: {fix}."
            )
        if p.dtype.kind == "f" and not np.all(np.isfinite(p)):
            bad = int(np.count_nonzero(~np.isfinite(p)))
            raise ValueError(
                f"y_pred contains NaN or infinity for {where} ({bad} of {p.shape[0]} "
                "row(s)); a metric over it would be undefined. Check the model "
                "that produced the predictions (a diverged fit, inputs at an "
                "extreme scale) before scoring."
            )


def _blocks_wide(Y, P, w):
    if P.shape != Y.shape:
        raise ValueError(
            "Y_true and Y_pred must have the same shape in the wide layout; "
            f"got {Y.shape} and {P.shape}."
        )
    observed = ~np.isnan(Y) if Y.dtype.kind == "f" else np.ones(Y.shape, bool)
    blocks = []
    for j in range(Y.shape[1]):
        rows = np.flatnonzero(observed[:, j])
        blocks.append((Y[rows, j], P[rows, j], _take(w, rows)))
    labels = np.arange(Y.shape[1])
    _check_blocks_finite(labels, blocks, wide=True)
    return labels, blocks


def _blocks_long(y, p, task, w):
    if p.ndim != 1:
        raise ValueError(
            f"y_pred must be 1-D like y_true; got shape {p.shape}. "
            "For the wide layout pass 2-D Y_true and Y_pred."
        )
    if p.shape[0] != y.shape[0]:
        raise ValueError(
            "y_true and y_pred have inconsistent numbers of rows: "
            f"{y.shape[0]} and {p.shape[0]}."
        )
    if task is None:
        labels, blocks = np.array([0]), [(y, p, w)]
        _check_blocks_finite(labels, blocks, wide=False)
        return labels, blocks
    labels, inverse = factorize_task_labels(task)
    if inverse.shape[0] != y.shape[0]:
        raise ValueError(
            "y_true and task have inconsistent numbers of rows: "
            f"{y.shape[0]} and {inverse.shape[0]}."
        )
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(labels)))[:-1]
    blocks = [(y[i], p[i], _take(w, i)) for i in np.split(order, bounds)]
    _check_blocks_finite(labels, blocks, wide=False)
    return labels, blocks


def _prepare(y_true, y_pred, task, sample_weight, kind="labels", name="metric"):
    """Split the inputs into per-task blocks ``(y_true_t, y_pred_t, w_t)``.

    ``kind``: ``"regression"`` (numeric targets and predictions), ``"scores"``
    (labels and numeric scores) or ``"labels"`` (labels on both sides).
    """
    y = np.asarray(to_numpy(y_true))
    p = np.asarray(to_numpy(y_pred))
    if y.size == 0 or y.shape[0] == 0:
        raise ValueError(
            f"y_true is empty (shape {y.shape}); {name} needs at least one row."
        )
    if kind == "regression":
        y = _as_numeric(y, "y_true", name)
    if kind in ("regression", "scores"):
        p = _as_numeric(p, "y_pred", name)
    if y.ndim == 2:
        if task is not None:
            raise ValueError(
                "'task' must be None when y_true is 2-D (wide layout, one column "
                "per task); got a task array as well."
            )
        w = _check_sample_weight(sample_weight, y.shape[0])
        return _blocks_wide(y, p, w)
    if y.ndim != 1:
        raise ValueError(
            f"y_true must be 1-D (long layout) or 2-D (wide layout); got shape {y.shape}."
        )
    w = _check_sample_weight(sample_weight, y.shape[0])
    return _blocks_long(y, p, task, w)


def _check_average(average, allowed, name):
    if not (average is None or (isinstance(average, str) and average in allowed)):
        raise ValueError(
            f"The 'average' parameter of {name} must be one of "
            f"{list(allowed)}; got {average!r}."
        )


# --------------------------------------------------------------------------
# Per-task computation and averaging
# --------------------------------------------------------------------------
def _require_rows(y, w, n_min):
    n = y.shape[0] if w is None else int(np.count_nonzero(w > 0))
    if n < n_min:
        what = "rows" if w is None else "rows with positive weight"
        need = "at least 2" if n_min == 2 else "at least 1"
        raise _UndefinedScore(f"it has {n} {what} ({need} needed)")


def _safe_score(scorer, block, name, where):
    try:
        return float(scorer(*block))
    except _UndefinedScore as exc:
        warnings.warn(
            f"{name} is undefined for {where}: {exc}; its score is NaN and it "
            "is left out of the averages.",
            UndefinedMetricWarning,
            stacklevel=4,
        )
        return np.nan


def _block_size(block):
    y, _, w = block
    return float(y.shape[0]) if w is None else float(np.sum(w))


def _average(values, sizes, average):
    ok = ~np.isnan(values)
    if not np.any(ok):
        return np.nan
    if average == "uniform" or np.sum(sizes[ok]) == 0:
        return float(np.mean(values[ok]))
    return float(np.average(values[ok], weights=sizes[ok]))


def _evaluate(scorer, name, allowed, y_true, y_pred, task, sample_weight, average,
              kind="regression"):
    _check_average(average, allowed, name)
    labels, blocks = _prepare(y_true, y_pred, task, sample_weight, kind, name)
    if average == "pooled":
        pooled = tuple(
            None if blocks[0][k] is None else np.concatenate([b[k] for b in blocks])
            for k in range(3)
        )
        return _safe_score(scorer, pooled, name, "the pooled rows")
    values = np.array([
        _safe_score(scorer, b, name, f"task {_label_repr(t)}")
        for t, b in zip(labels, blocks)
    ])
    if average is None:
        return values
    return _average(values, np.array([_block_size(b) for b in blocks]), average)


# --------------------------------------------------------------------------
# Scorers on one block
# --------------------------------------------------------------------------
def _mse(y, p, w):
    _require_rows(y, w, 1)
    return np.average((y - p) ** 2, weights=w)


def _variance(y, w):
    _require_rows(y, w, 2)
    y_used = y if w is None else y[w > 0]
    if np.ptp(y_used) == 0:
        raise _UndefinedScore("its targets are constant (zero variance)")
    mean = np.average(y, weights=w)
    return np.average((y - mean) ** 2, weights=w)


def _nmse(y, p, w):
    var = _variance(y, w)
    return _mse(y, p, w) / var


def _explained_variance(y, p, w):
    return 1.0 - _nmse(y, p, w)


def _r2(y, p, w):
    _require_rows(y, w, 2)
    return _skm.r2_score(y, p, sample_weight=w)


def _accuracy(y, p, w):
    _require_rows(y, w, 1)
    return _skm.accuracy_score(y, p, sample_weight=w)


def _roc_auc(y, p, w):
    _require_rows(y, w, 1)
    classes = np.unique(y if w is None else y[w > 0])
    if classes.shape[0] < 2:
        raise _UndefinedScore(
            f"y_true has a single class ({_label_repr(classes[0])})"
        )
    return _skm.roc_auc_score(y, p, sample_weight=w)


# --------------------------------------------------------------------------
# Public metrics
# --------------------------------------------------------------------------
_PARAMS_DOC = """y_true : array-like of shape (N,) or (n, T)
        True targets: 1-D with ``task`` (long layout) or 2-D with one column
        per task and NaN for missing entries (wide layout).
    y_pred : array-like of the same shape as ``y_true``
        Predictions{pred_extra}.
    task : array-like of shape (N,), default=None
        Task label of each row in the long layout (any hashable type).
        ``None`` with 1-D inputs means a single task; must be ``None`` with
        2-D inputs.
    sample_weight : array-like of shape (N,) or (n,), default=None
        Weight of each row.
    average : {averages}, default="uniform"
        ``None`` returns one value per task (sorted task labels, or column
        order); ``"uniform"`` the plain mean over tasks; ``"weighted"`` the
        mean weighted by each task's number of rows (total sample weight when
        ``sample_weight`` is given){pooled_doc}.  Tasks where the metric is
        undefined (NaN) are left out of the averages."""

_POOLED_DOC = '; ``"pooled"`` the metric computed once over all rows pooled'
_REG_AVG = '{"uniform", "weighted", "pooled"} or None'
_CLF_AVG = '{"uniform", "weighted"} or None'


def _doc(extra="", regression=True):
    return _PARAMS_DOC.format(
        pred_extra=extra,
        averages=_REG_AVG if regression else _CLF_AVG,
        pooled_doc=_POOLED_DOC if regression else "",
    )


def mean_squared_error(y_true, y_pred, task=None, *, sample_weight=None,
                       average="uniform"):
    return _evaluate(_mse, "mean_squared_error", _REGRESSION_AVERAGES,
                     y_true, y_pred, task, sample_weight, average)


mean_squared_error.__doc__ = f"""Mean squared error per task, or averaged over tasks.

    Parameters
    ----------
    {_doc()}

    Returns
    -------
    score : float or ndarray of shape (T,)
        Averaged MSE, or one MSE per task when ``average=None``.

    Examples
    --------
    >>> from rkhsmtl.metrics import mean_squared_error
    >>> mean_squared_error([1., 2., 3., 5.], [1., 2., 4., 5.],
    ...                    task=["a", "a", "b", "b"], average=None)
    array([0. , 0.5])
    """


def normalized_mean_squared_error(y_true, y_pred, task=None, *,
                                  sample_weight=None, average="uniform"):
    return _evaluate(_nmse, "normalized_mean_squared_error", _REGRESSION_AVERAGES,
                     y_true, y_pred, task, sample_weight, average)


normalized_mean_squared_error.__doc__ = f"""Normalized MSE: ``MSE_t / Var(y_t)`` per task (SARCOS convention).

    The variance is the (sample-weighted) population variance (``ddof=0``) of
    the true targets of the task.  With ``average="pooled"`` it is the MSE over
    all rows divided by the variance of all true targets.  A task with fewer
    than two rows or constant targets gets NaN with a warning.

    Parameters
    ----------
    {_doc()}

    Returns
    -------
    score : float or ndarray of shape (T,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.metrics import normalized_mean_squared_error
    >>> Y = np.array([[0., 1.], [2., np.nan], [4., 3.]])
    >>> P = np.array([[1., 1.], [2., 0.], [3., 2.]])
    >>> normalized_mean_squared_error(Y, P, average=None).round(3)
    array([0.25, 0.5 ])
    """


def explained_variance(y_true, y_pred, task=None, *, sample_weight=None,
                       average="uniform"):
    return _evaluate(_explained_variance, "explained_variance",
                     _REGRESSION_AVERAGES, y_true, y_pred, task, sample_weight,
                     average)


explained_variance.__doc__ = f"""Explained variance as defined in the multi-task learning literature.

    ``1 - MSE / Var(y)``, i.e. ``1 - nMSE``, per task; with
    ``average="pooled"`` it is the School-benchmark convention
    ``1 - (total MSE) / (total variance of the test targets)`` over all rows
    pooled (Bakker & Heskes 2003, Evgeniou et al. 2005, Argyriou et al. 2008).
    This is **not** :func:`sklearn.metrics.explained_variance_score`, which
    uses the variance of the residuals instead of their mean square.  The
    variance is the population variance (``ddof=0``), so per task the value
    coincides with R² except that tasks with constant targets get NaN (with a
    warning) instead of scikit-learn's finite convention.

    Parameters
    ----------
    {_doc()}

    Returns
    -------
    score : float or ndarray of shape (T,)

    Examples
    --------
    >>> from rkhsmtl.metrics import explained_variance
    >>> explained_variance([0., 2., 4., 1., 3.], [1., 2., 3., 1., 2.],
    ...                    task=[0, 0, 0, 1, 1], average="pooled")
    0.7
    """


def r2_score(y_true, y_pred, task=None, *, sample_weight=None, average="uniform"):
    return _evaluate(_r2, "r2_score", _REGRESSION_AVERAGES,
                     y_true, y_pred, task, sample_weight, average)


r2_score.__doc__ = f"""Coefficient of determination R² per task.

    Per task the value equals :func:`sklearn.metrics.r2_score` on that task's
    rows (including scikit-learn's finite convention for constant targets:
    1.0 for a perfect fit, 0.0 otherwise).  A task with fewer than two rows
    gets NaN with a warning.  ``average="pooled"`` is R² over all rows pooled.

    Parameters
    ----------
    {_doc()}

    Returns
    -------
    score : float or ndarray of shape (T,)

    Examples
    --------
    >>> from rkhsmtl.metrics import r2_score
    >>> r2_score([0., 2., 4., 1., 3.], [1., 2., 3., 1., 2.],
    ...          task=[0, 0, 0, 1, 1], average=None)
    array([0.75, 0.5 ])
    """


def accuracy_score(y_true, y_pred, task=None, *, sample_weight=None,
                   average="uniform"):
    return _evaluate(_accuracy, "accuracy_score", _CLASSIFICATION_AVERAGES,
                     y_true, y_pred, task, sample_weight, average, kind="labels")


accuracy_score.__doc__ = f"""Classification accuracy per task.

    Per task the value equals :func:`sklearn.metrics.accuracy_score` on that
    task's rows.

    Parameters
    ----------
    {_doc(extra=" (predicted labels)", regression=False)}

    Returns
    -------
    score : float or ndarray of shape (T,)

    Examples
    --------
    >>> from rkhsmtl.metrics import accuracy_score
    >>> accuracy_score([1, 0, 1, 1], [1, 1, 1, 1], task=["a", "a", "b", "b"])
    0.75
    """


def roc_auc_score(y_true, y_pred, task=None, *, sample_weight=None,
                  average="uniform"):
    return _evaluate(_roc_auc, "roc_auc_score", _CLASSIFICATION_AVERAGES,
                     y_true, y_pred, task, sample_weight, average, kind="scores")


roc_auc_score.__doc__ = f"""Area under the ROC curve per task (binary tasks).

    Per task the value equals :func:`sklearn.metrics.roc_auc_score` on that
    task's rows.  A task whose ``y_true`` has a single class gets NaN with a
    ``UserWarning`` naming the task and is left out of the averages.

    Parameters
    ----------
    {_doc(extra=" (scores: decision function values or probabilities of the "
               "positive class)", regression=False)}

    Returns
    -------
    score : float or ndarray of shape (T,)

    Examples
    --------
    >>> from rkhsmtl.metrics import roc_auc_score
    >>> roc_auc_score([0, 1, 0, 1], [0.2, 0.9, 0.6, 0.4], task=[0, 0, 1, 1],
    ...               average=None)
    array([1., 0.])
    """


_METRICS = {
    "mse": mean_squared_error,
    "mean_squared_error": mean_squared_error,
    "nmse": normalized_mean_squared_error,
    "normalized_mean_squared_error": normalized_mean_squared_error,
    "explained_variance": explained_variance,
    "r2": r2_score,
    "r2_score": r2_score,
    "accuracy": accuracy_score,
    "accuracy_score": accuracy_score,
    "roc_auc": roc_auc_score,
    "roc_auc_score": roc_auc_score,
}


def _resolve_metric(metric):
    if callable(metric):
        return getattr(metric, "__name__", repr(metric)), metric
    if metric not in _METRICS:
        raise ValueError(
            f"Each entry of the 'metrics' parameter of per_task_scores must be "
            f"a callable or one of {sorted(_METRICS)}; got {metric!r}."
        )
    return metric, _METRICS[metric]


def per_task_scores(y_true, y_pred, task=None, *,
                    metrics=("mse", "nmse", "explained_variance", "r2"),
                    sample_weight=None):
    """Several metrics per task, as a dict of arrays (one entry per task).

    Parameters
    ----------
    y_true, y_pred, task
        As in :func:`mean_squared_error` (long or wide layout).
    metrics : sequence of str or callable, default=("mse", "nmse", \
"explained_variance", "r2")
        Metric names (``"mse"``, ``"nmse"``, ``"explained_variance"``,
        ``"r2"``, ``"accuracy"``, ``"roc_auc"`` or the full function names) or
        callables with the signature of the metrics of this module; a callable
        is stored under its ``__name__``.
    sample_weight : array-like of shape (n_samples,), default=None
        Row weights, as in :func:`mean_squared_error`.

    Returns
    -------
    scores : dict of str to ndarray of shape (T,)
        ``"task"``: the task labels (sorted unique labels, or column indices
        in the wide layout); ``"n_samples"``: the number of observed rows per
        task; then one entry per metric.  ``pandas.DataFrame(scores)`` gives a
        per-task report.

    Examples
    --------
    >>> from rkhsmtl.metrics import per_task_scores
    >>> s = per_task_scores([0., 2., 4., 1., 3.], [1., 2., 3., 1., 2.],
    ...                     task=["a", "a", "a", "b", "b"], metrics=("mse", "r2"))
    >>> s["task"], s["n_samples"], s["mse"].round(3)
    (array(['a', 'b'], dtype='<U1'), array([3, 2]), array([0.667, 0.5  ]))
    """
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    resolved = [_resolve_metric(m) for m in metrics]
    labels, blocks = _prepare(y_true, y_pred, task, sample_weight,
                              name="per_task_scores")
    scores = {"task": labels,
              "n_samples": np.array([b[0].shape[0] for b in blocks])}
    for name, func in resolved:
        scores[name] = np.asarray(func(y_true, y_pred, task,
                                       sample_weight=sample_weight, average=None))
    return scores
