"""One entry point that turns user data into clean arrays and a task encoding.

Two layouts reach the solvers:

* ``"shared"``: every task observed at the same inputs, ``X`` (n, d) and
  ``Y`` (n, T), NaN marking a missing entry.  A 1-D ``y`` without ``task`` is
  the single-task case of this layout.
* ``"heterogeneous"``: rows ``X`` (N, d), targets ``y`` (N,) and one task
  label per row (``task``), labels of any hashable type.

Task labels can also travel inside ``X``: a column index or a pandas column
name (``task_column`` parameter, or ``task="name"`` with a DataFrame), so that
every scikit-learn tool that only passes ``X`` and ``y`` works unchanged.
Inputs are never modified in place.
"""
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._backend import asarray_on, get_namespace, is_numpy, to_numpy


@dataclass
class MultiTaskData:
    """Validated training data (arrays live in namespace ``xp``)."""

    xp: Any
    X: Any                      # (n_rows, n_features) or a precomputed kernel
    layout: str                 # "shared" or "heterogeneous"
    targets: Any                # Y (n, T) for shared, y (N,) for heterogeneous
    tasks: np.ndarray           # task labels, position = task code
    task_codes: Optional[np.ndarray]  # (N,) int codes, heterogeneous only
    sample_weight: Any          # (n_rows,) or None
    y_was_1d: bool              # single task given as a 1-D y

    @property
    def n_tasks(self):
        return len(self.tasks)

    @property
    def mask(self):
        """Observed entries of Y (shared layout), None if Y is complete."""
        if self.layout != "shared":
            return None
        observed = ~self.xp.isnan(self.targets)
        return None if bool(self.xp.all(observed)) else observed


def task_label(t):
    """A task label as a plain Python value (numpy scalars and object entries alike)."""
    return t.item() if hasattr(t, "item") else t


def _is_missing(label):
    if label is None:
        return True
    try:
        return bool(label != label)        # NaN, NaT
    except (TypeError, ValueError):        # pandas.NA refuses to be a bool
        return True


def check_no_missing_labels(labels, name="task"):
    """Refuse NaN / None task labels: every row needs a task.

    ``labels`` is a 1-D numpy array.  The same message for the estimators, the
    metrics and the splitters.
    """
    if labels.dtype.kind == "f":
        missing = np.flatnonzero(np.isnan(labels))
    elif labels.dtype.kind == "O":
        missing = np.flatnonzero([_is_missing(t) for t in labels])
    else:
        return
    if missing.size:
        raise ValueError(
            f"The '{name}' labels contain NaN or None at {missing.size} row(s) "
            f"(first: row {missing[0]}); every row needs a task label. Drop those "
            "rows or give them a task."
        )


def factorize_task_labels(task, name="task"):
    """``(labels, inverse)`` of 1-D task labels for the metrics and splitters.

    Labels are sorted when orderable, else kept in order of appearance (these
    functions need no stable encoding across calls, unlike the estimators).
    """
    if task is None:
        raise ValueError(
            f"The '{name}' parameter must be an array of task labels (one per "
            "row); got None."
        )
    task = task.to_numpy() if hasattr(task, "to_numpy") else np.asarray(
        to_numpy(task) if not isinstance(task, (list, tuple)) else task)
    if task.ndim != 1:
        raise ValueError(
            f"'{name}' must be a 1-D array of task labels; got shape {task.shape}."
        )
    check_no_missing_labels(task, name)
    try:
        labels, inverse = np.unique(task, return_inverse=True)
    except TypeError:  # unorderable mix of label types: order of appearance
        index = {}
        inverse = np.array([index.setdefault(t, len(index)) for t in task],
                           dtype=np.intp)
        labels = np.empty(len(index), dtype=object)
        labels[:] = list(index)
    return labels, inverse.ravel()


def repeated_values(values):
    """The values that occur more than once, in the order they first repeat."""
    seen, repeated = set(), []
    for v in values:
        if v in seen and v not in repeated:
            repeated.append(v)
        seen.add(v)
    return repeated


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def split_task_column(X, task_column):
    """Return ``(X without the task column, labels)``; labels None if no column."""
    if task_column is None:
        return X, None
    if _is_dataframe(X):
        columns = list(X.columns)
        if isinstance(task_column, str):
            if task_column not in columns:
                raise ValueError(
                    f"The task column {task_column!r} is not a column of X; "
                    f"available columns: {columns}."
                )
            name = task_column
        else:
            if not -len(columns) <= int(task_column) < len(columns):
                raise ValueError(
                    f"The 'task_column' index {task_column} is out of range for X "
                    f"with {len(columns)} columns."
                )
            name = columns[int(task_column)]
        return X.drop(columns=[name]), np.asarray(X[name])
    if isinstance(task_column, str):
        raise ValueError(
            f"task_column={task_column!r} names a column, which needs X to be a "
            "pandas DataFrame; for an array pass the column index instead."
        )
    xp = get_namespace(X)
    if is_numpy(xp):
        Xa = np.asarray(X)
        if Xa.ndim != 2:
            raise ValueError(
                f"X must be 2-D to hold a task column; got {Xa.ndim} dimension(s)."
            )
        j = int(task_column) % Xa.shape[1]
        return np.delete(Xa, j, axis=1), Xa[:, j]
    j = int(task_column) % X.shape[1]
    keep = [k for k in range(X.shape[1]) if k != j]
    labels = to_numpy(X[:, j])
    return xp.take(X, xp.asarray(keep), axis=1), labels


def _task_labels_from_arg(X, task):
    """``task="col"`` with a DataFrame names a column of X."""
    if isinstance(task, str) and _is_dataframe(X):
        return split_task_column(X, task)
    return X, task


def _check_features(estimator, X, xp, precomputed, reset):
    if is_numpy(xp):
        X = check_array(X, dtype=np.float64, input_name="X")
    else:
        X = asarray_on(X, xp)
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D array for X; got {X.ndim} dimension(s). Reshape "
                "with X.reshape(-1, 1) for a single feature."
            )
        if not xp.isdtype(X.dtype, "real floating"):
            X = xp.astype(X, xp.float64)
        if not bool(xp.all(xp.isfinite(X))):
            raise ValueError(
                "Input X contains NaN or infinity. Remove or impute those rows "
                "before fitting."
            )
    if precomputed and reset and X.shape[0] != X.shape[1]:
        raise ValueError(
            "With kernel='precomputed', X must be the square training kernel "
            f"matrix; got shape {tuple(X.shape)}."
        )
    return X


def encode_tasks(labels, n_rows, known=None, name="task", unknown="raise"):
    """Encode task labels as integer codes.

    With ``known`` (the fitted ``tasks_``), unknown labels raise an error that
    lists them and the known ones; with ``unknown="keep"`` they are coded
    ``len(known) + j`` instead, j indexing the returned new labels, and the
    result is ``(codes, new_labels)`` (task descriptors and the
    ``unknown_task="mean"`` fallback predict such tasks).
    """
    labels = np.asarray(to_numpy(labels))
    if labels.ndim != 1 or labels.shape[0] != n_rows:
        raise ValueError(
            f"The '{name}' labels must be 1-D with one label per row of X "
            f"({n_rows}); got shape {labels.shape}."
        )
    check_no_missing_labels(labels, name)
    if known is None:
        try:
            tasks, codes = np.unique(labels, return_inverse=True)
        except TypeError as exc:
            raise ValueError(
                f"The '{name}' labels must be of one comparable type (all ints or "
                "all strings); got a mix."
            ) from exc
        return tasks, codes.astype(np.int64)
    unknown_mode = unknown
    if unknown_mode not in ("raise", "keep"):
        raise ValueError(f"unknown must be 'raise' or 'keep'; got {unknown_mode!r}.")
    lookup = {t.item() if hasattr(t, "item") else t: i for i, t in enumerate(known)}
    codes = np.empty(n_rows, dtype=np.int64)
    unknown = []
    for i, lab in enumerate(labels):
        key = lab.item() if hasattr(lab, "item") else lab
        code = lookup.get(key)
        if code is None:
            unknown.append(lab)
            code = -1
        codes[i] = code
    if unknown and unknown_mode == "keep":
        return _code_new_labels(codes, labels, unknown, len(known))
    if unknown:
        shown = sorted(set(map(str, unknown)))[:10]
        raise ValueError(
            f"Unknown task label(s) {shown} in '{name}': the model was fitted on "
            f"tasks {list(map(str, known))[:20]}. Predict only for fitted tasks, "
            "or refit with data for the new task. In cross-validation (GridSearchCV, "
            "cross_validate) a fold missed this task: split with "
            "rkhsmtl.model_selection.TaskStratifiedKFold (task_column= reads the "
            "labels from X) so that every fold trains every task."
        )
    return codes


def _code_new_labels(codes, labels, unknown, n_known):
    """Codes ``n_known + j`` for the rows of new labels (sorted when orderable)."""
    keys = [task_label(t) for t in unknown]
    try:
        new = sorted(set(keys))
    except TypeError:                      # unorderable mix: order of appearance
        new = list(dict.fromkeys(keys))
    index = {t: n_known + j for j, t in enumerate(new)}
    codes = codes.copy()
    missing = np.flatnonzero(codes < 0)
    codes[missing] = [index[task_label(labels[i])] for i in missing]
    new_labels = np.empty(len(new), dtype=object)
    new_labels[:] = new
    return codes, new_labels


def _check_min_samples(counts, tasks, what="sample"):
    small = np.flatnonzero(counts < 2)
    if small.size:
        t = small[0]
        label = tasks[t].item() if hasattr(tasks[t], "item") else tasks[t]
        raise ValueError(
            f"Task {label!r} has {int(counts[t])} {what}(s); every task needs at "
            "least 2 (n_samples = 1 cannot fit a task and its intercept). Remove "
            "the task or merge it with a related one."
        )


def _check_targets_shared(Y, xp, n_rows):
    raw = np.asarray(Y) if isinstance(Y, (list, tuple, np.ndarray)) else None
    if raw is not None and raw.dtype.kind in "USO":
        try:
            raw.astype(np.float64)
        except (TypeError, ValueError):
            example = next((v for v in raw.ravel() if isinstance(v, (str, bytes))), None)
            raise ValueError(
                "y must be numeric for a regressor; got non-numeric values"
                + (f" such as {str(example)!r}" if example is not None else "")
                + ". For class labels use a classifier (MultiTaskKernelClassifier or "
                "a structure learner's Classifier twin); otherwise convert y to "
                "numbers first.") from None
    if is_numpy(xp):
        Y = check_array(
            Y, dtype=np.float64, ensure_all_finite="allow-nan", ensure_2d=False,
            input_name="y",
        )
    else:
        Y = asarray_on(Y, xp)
        if not xp.isdtype(Y.dtype, "real floating"):
            Y = xp.astype(Y, xp.float64)
    if Y.shape[0] != n_rows:
        raise ValueError(
            f"X and y have inconsistent numbers of rows: X has {n_rows}, y has "
            f"{Y.shape[0]}."
        )
    if bool(xp.any(xp.isinf(Y))):
        raise ValueError("Input y contains infinity; only NaN (missing) is allowed.")
    return Y


def validate_fit_data(estimator, X, y, task=None, sample_weight=None, *,
                      task_column=None, device=None, precomputed=False,
                      y_numeric=True):
    """Validate ``fit`` inputs; set ``n_features_in_`` and ``feature_names_in_``.

    Returns
    -------
    data : MultiTaskData
        With ``y_numeric=False`` the targets stay a numpy array of raw labels
        (classifiers encode them); NaN-missing entries are then not allowed.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    # A task column named by ``task="col"`` is not a feature: remove it before
    # recording feature names, so predict(X_without_it) matches.
    X, task = _task_labels_from_arg(X, task)
    validate_data(estimator, X, skip_check_array=True, reset=True)
    X, column_labels = split_task_column(X, task_column)
    if column_labels is not None:
        if task is not None:
            raise ValueError(
                "Task labels were given twice (task_column and task=); pass only one."
            )
        task = column_labels
    xp = get_namespace(X, y, device=device)
    X = _check_features(estimator, asarray_on(X, xp) if not is_numpy(xp) else X,
                        xp, precomputed, reset=True)
    n_rows = X.shape[0]
    y_frame_columns = list(y.columns) if _is_dataframe(y) else None
    _check_target_columns(y, y_frame_columns)
    if not y_numeric and not _is_dataframe(y):
        # Class labels are host data whatever the backend (they are encoded
        # on the CPU); scikit-learn's check_array refuses device arrays.
        y = to_numpy(y)

    if task is None:
        if is_numpy(xp) or not y_numeric:
            y_arr = np.asarray(y) if y_numeric else _check_labels(y)
        else:
            y_arr = asarray_on(y, xp)
        if y_arr.ndim not in (1, 2):
            raise ValueError(
                f"y must be 1-D (one task) or 2-D (n_samples, n_tasks); got "
                f"{y_arr.ndim} dimensions."
            )
        y_was_1d = y_arr.ndim == 1
        if y_numeric:
            Y = _check_targets_shared(y_arr, xp, n_rows)
            Y = Y[:, None] if y_was_1d else Y
            counts = to_numpy(xp.sum(xp.astype(~xp.isnan(Y), xp.float64), axis=0))
        else:
            Y = y_arr[:, None] if y_was_1d else y_arr
            if Y.shape[0] != n_rows:
                raise ValueError(
                    f"X and y have inconsistent numbers of rows: X has {n_rows}, "
                    f"y has {Y.shape[0]}."
                )
            counts = (np.sum(~np.isnan(Y), axis=0) if Y.dtype.kind == "f"
                      else np.full(Y.shape[1], Y.shape[0]))
        tasks = (np.asarray(y_frame_columns) if y_frame_columns is not None
                 else np.arange(Y.shape[1]))
        for t in np.flatnonzero(counts == 0):
            raise ValueError(
                f"Task {tasks[t].item()!r} (column {t} of y) has no observed value; drop "
                "the column or give it data."
            )
        _check_min_samples(counts, tasks)
        layout, codes, targets = "shared", None, Y
    else:
        tasks, codes = encode_tasks(task, n_rows)
        y_arr = y if not y_numeric else (
            np.asarray(y) if is_numpy(xp) else asarray_on(y, xp))
        if y_numeric:
            targets = _check_targets_shared(y_arr, xp, n_rows)
            if targets.ndim != 1:
                raise ValueError(
                    "With task labels, y must be 1-D (one target per row); got "
                    f"shape {tuple(targets.shape)}. For shared inputs pass Y of "
                    "shape (n_samples, n_tasks) without task."
                )
            if bool(xp.any(xp.isnan(targets))):
                raise ValueError(
                    "Input y contains NaN. With task labels every row needs a "
                    "target: drop the rows with a missing target."
                )
        else:
            targets = check_array(y, dtype=None, ensure_2d=False, input_name="y")
            if targets.ndim != 1 or targets.shape[0] != n_rows:
                raise ValueError(
                    f"y must be 1-D with {n_rows} entries; got shape {targets.shape}."
                )
        _check_min_samples(np.bincount(codes, minlength=len(tasks)), tasks)
        layout, y_was_1d = "heterogeneous", True

    if sample_weight is not None:
        sw = _check_sample_weight(to_numpy(sample_weight), np.empty((n_rows, 0)),
                                  dtype=np.float64)
        if np.any(sw < 0):
            raise ValueError(
                "The 'sample_weight' values must be non-negative; got a minimum "
                f"of {sw.min():.3g}."
            )
        _check_task_weights(sw, targets, layout, codes, tasks)
        sample_weight = asarray_on(sw, xp, like=X)
    return MultiTaskData(xp, X, layout, targets, np.asarray(tasks), codes,
                         sample_weight, y_was_1d)


def _check_task_weights(sw, targets, layout, codes, tasks):
    """Refuse a task whose sample weights are all zero.

    A zero weight means "this row is not there" (a fit with it equals the fit
    without the row), so a task whose weights are all zero has no data, like
    a task without rows: its intercept is undetermined.
    """
    if layout == "heterogeneous":
        totals = np.bincount(codes, weights=sw, minlength=len(tasks))
    else:
        Y = to_numpy(targets)
        observed = (~np.isnan(Y) if Y.dtype.kind == "f"
                    else np.ones(Y.shape, dtype=bool))
        totals = sw @ observed
    empty = np.flatnonzero(totals <= 0)
    if empty.size:
        t = empty[0]
        label = task_label(tasks[t])
        where = ("its rows" if layout == "heterogeneous"
                 else "its observed entries of y")
        raise ValueError(
            f"The 'sample_weight' values are all zero for task {label!r} "
            f"({empty.size} task(s) in all): {where} weigh 0 in total. A zero "
            "weight means the row is not there, so that task would have no data. "
            "Drop the task's rows (or its column of y), or give some of them a "
            "positive weight."
        )


def _check_target_columns(y, frame_columns):
    """A 2-D Y needs at least one column, and its columns name distinct tasks."""
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.shape(y)
        except (TypeError, ValueError):   # ragged lists: check_array says more
            shape = None
    if shape is not None and len(shape) == 2 and shape[1] == 0:
        raise ValueError(
            f"y has no task column (shape {tuple(shape)}): a 2-D y needs one "
            "column per task. Pass a 1-D y for a single task, or a y of shape "
            "(n_samples, n_tasks) with n_tasks >= 1."
        )
    if frame_columns is not None:
        repeated = repeated_values(frame_columns)
        if repeated:
            raise ValueError(
                f"The columns of the DataFrame y name the tasks, but {repeated[:10]} "
                "appear more than once; got columns "
                f"{[str(c) for c in frame_columns][:20]}. Rename or drop the "
                "duplicates (e.g. y.loc[:, ~y.columns.duplicated()])."
            )


def _check_labels(y):
    """Class labels of the shared layout; NaN marks a missing label in a 2-D
    float Y (as missing targets in the regressors), never in a 1-D y."""
    raw = np.asarray(y) if not _is_dataframe(y) else y.to_numpy()
    missing_allowed = raw.ndim == 2 and raw.dtype.kind == "f"
    return check_array(y, dtype=None, ensure_2d=False, input_name="y",
                       ensure_all_finite="allow-nan" if missing_allowed else True)


def validate_predict_data(estimator, X, task=None, *, reference, task_column=None,
                          n_train=None, unknown="raise"):
    """Validate ``predict`` inputs against the fitted state.

    Parameters
    ----------
    reference : array
        A fitted array; its namespace and device are where the model lives.
    n_train : int, default=None
        Number of training rows when X is a precomputed kernel (``kernel=
        "precomputed"``); None otherwise.

    unknown : {"raise", "keep"}, default="raise"
        ``"keep"``: labels not in ``tasks_`` get codes ``n_tasks_ + j`` and
        the new labels are returned as a fourth value.

    Returns
    -------
    X, codes, input_xp
        X moved to the fitted namespace, task codes (or None), and the
        namespace of the caller's X so results go back to the caller's device.
        With ``unknown="keep"`` also the new labels (an empty object array
        when every label is known or ``task`` is None).
    """
    if not _is_dataframe(X) and is_numpy(get_namespace(X)):
        # Shape and finiteness errors come before feature-count errors, so a
        # 1-D X gets "Reshape your data" and a NaN gets a NaN message.
        check_array(X, dtype=None, ensure_all_finite=task_column is None,
                    input_name="X")
    X, task = _task_labels_from_arg(X, task)
    validate_data(estimator, X, skip_check_array=True, reset=False)
    X, column_labels = split_task_column(X, task_column)
    if column_labels is not None:
        task = column_labels
    input_xp = get_namespace(X)
    X = _check_features(estimator, X, input_xp, False, reset=False)
    if n_train is not None and X.shape[1] != n_train:
        raise ValueError(
            "With kernel='precomputed', X must be the kernel between the new "
            f"rows and the {n_train} training rows; got shape {tuple(X.shape)}."
        )
    X = asarray_on(X, get_namespace(reference), like=reference)
    codes = None
    if unknown == "keep":
        new_labels = np.empty(0, dtype=object)
        if task is not None:
            codes = encode_tasks(task, X.shape[0], known=estimator.tasks_,
                                 unknown="keep")
            if isinstance(codes, tuple):
                codes, new_labels = codes
        return X, codes, input_xp, new_labels
    if task is not None:
        codes = encode_tasks(task, X.shape[0], known=estimator.tasks_)
    return X, codes, input_xp


#: Values of the ``unknown_task`` argument of predict-type methods.
UNKNOWN_TASK_CHOICES = ("raise", "mean")


def check_unknown_task(unknown_task):
    """Refuse an ``unknown_task`` other than "raise" or "mean"."""
    if not (isinstance(unknown_task, str) and unknown_task in UNKNOWN_TASK_CHOICES):
        raise ValueError(
            "The 'unknown_task' parameter must be 'raise' (a task label not seen "
            "in training is an error) or 'mean' (such a task is predicted by the "
            f"average of the fitted task functions); got {unknown_task!r}.")


def validate_predict_tasks(estimator, X, task, unknown_task, **kwargs):
    """:func:`validate_predict_data` with the ``unknown_task`` choice applied.

    Returns ``(X, codes, input_xp)``; with ``unknown_task="mean"`` a label not
    in ``tasks_`` gets a code >= ``n_tasks`` (see :func:`pick_task_scores`).
    """
    check_unknown_task(unknown_task)
    if unknown_task == "raise":
        return validate_predict_data(estimator, X, task, **kwargs)
    return validate_predict_data(estimator, X, task, unknown="keep", **kwargs)[:3]


def pick_task_scores(xp, F, codes):
    """Each row's own task score from scores F (n, T) of the fitted tasks.

    A code >= T (a task not seen in training, kept by ``unknown_task="mean"``)
    gets the average of the T task functions at that row: the documented
    fallback, ``(1/T) sum_t f_t(x)`` (intercepts included).
    """
    n, T = F.shape
    codes = np.asarray(codes)
    known = codes < T
    flat = np.arange(n) * T + np.where(known, codes, 0)
    own = xp.take(xp.reshape(F, (-1,)), xp.asarray(flat) if not is_numpy(xp) else flat)
    if bool(known.all()):
        return own
    mean = xp.mean(F, axis=1)
    mask = xp.asarray(known) if not is_numpy(xp) else known
    return xp.where(mask, own, mean)
