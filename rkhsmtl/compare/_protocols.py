r"""Evaluation protocols of ``rkhsmtl compare`` beyond the per-task splits.

``--protocol new-tasks`` (leave-tasks-out): each split holds out a random
fraction of the *tasks* entirely (all their rows), fits every method on the
other tasks and scores it on the held-out tasks, which it never saw.  A
method predicts a task it never saw in one of two ways:

* from **descriptors**: an estimator with ``task_matrix="descriptors"`` gets,
  as ``task_features``, each task's mean of the standardized inputs (training
  tasks: their training rows; new tasks: their test inputs, never their
  targets), so it predicts through the task kernel;
* otherwise by the **mean fallback**: the average of the fitted task
  functions, :math:`\frac1T \sum_t (f_t(x) + b_t)` (``unknown_task="mean"``
  where the estimator takes it, else the average of the columns of
  ``predict(X)``, the same quantity).
"""
import dataclasses
import inspect

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from ._datasets import Dataset, DatasetError

PROTOCOLS = ("per-task", "new-tasks")

#: Fraction of the tasks held out per split (``--test-size`` overrides it).
NEW_TASKS_TEST_SIZE = 0.2


class _LeaveTasksOutSplit:
    """Whole tasks held out: GroupShuffleSplit over the task labels."""

    def __init__(self, n_splits, test_size, random_state):
        self.n_splits, self.test_size, self.random_state = n_splits, test_size, random_state

    def split(self, X, y=None, groups=None):
        n_tasks = np.unique(groups).size
        if n_tasks < 2:
            raise ValueError(
                f"--protocol new-tasks holds out whole tasks and needs at least 2 "
                f"tasks; the data set has {n_tasks}.")
        n_test = int(np.ceil(self.test_size * n_tasks))
        if n_test >= n_tasks:
            raise ValueError(
                f"--test-size {self.test_size:g} of {n_tasks} tasks holds out every "
                "task; lower it so that some tasks are left for training.")
        splitter = GroupShuffleSplit(self.n_splits, test_size=n_test,
                                     random_state=self.random_state)
        return splitter.split(X, y, groups=groups)


@dataclasses.dataclass
class LeaveTasksOutDataset(Dataset):
    """A :class:`~rkhsmtl.compare.Dataset` whose splits hold out whole tasks.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.compare import load_dataset
    >>> from rkhsmtl.compare._protocols import leave_tasks_out
    >>> data = leave_tasks_out(load_dataset("synthetic"))
    >>> train, test = next(data.splitter(1).split(data.X, data.y, groups=data.task))
    >>> set(data.task[train]) & set(data.task[test])
    set()
    """

    def splitter(self, n_splits, random_state=0, test_size=None):
        """Leave-tasks-out splitter (``test_size``: fraction of the tasks)."""
        size = NEW_TASKS_TEST_SIZE if test_size is None else test_size
        return _LeaveTasksOutSplit(n_splits, size, random_state)

    def protocol_text(self, n_splits, test_size=None):
        size = NEW_TASKS_TEST_SIZE if test_size is None else test_size
        plural = "split" if n_splits == 1 else "splits"
        return (f"{n_splits} random leave-tasks-out {plural} ({size:g} of the tasks "
                "held out entirely and scored as tasks never seen in training; "
                "methods without task descriptors predict them by the average of "
                "their fitted task functions); inputs standardized on the training "
                "rows of each split")


def leave_tasks_out(dataset):
    """The same data set under the leave-tasks-out protocol."""
    if dataset.n_tasks < 2:
        raise DatasetError(
            f"data set {dataset.name!r} has {dataset.n_tasks} task; --protocol "
            "new-tasks needs at least 2.")
    fields = {f.name: getattr(dataset, f.name) for f in dataclasses.fields(Dataset)}
    return LeaveTasksOutDataset(**fields)


def protocol_of(dataset):
    """``"new-tasks"`` for a :class:`LeaveTasksOutDataset`, else ``"per-task"``."""
    return "new-tasks" if isinstance(dataset, LeaveTasksOutDataset) else "per-task"


def task_input_means(X, task):
    """One descriptor per task: the mean of its rows of X (labels sorted)."""
    labels, codes = np.unique(task, return_inverse=True)
    sums = np.zeros((labels.size, X.shape[1]))
    np.add.at(sums, codes, X)
    return labels, sums / np.bincount(codes)[:, None]


def _takes(method, name):
    try:
        return name in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _uses_descriptors(estimator):
    tm = getattr(estimator, "task_matrix", None)
    return isinstance(tm, str) and tm == "descriptors" and _takes(estimator.fit,
                                                                   "task_features")


def fit_params(protocol, estimator, X, task):
    """Extra ``fit`` keywords of a protocol (descriptors for descriptor models)."""
    if protocol == "new-tasks" and _uses_descriptors(estimator):
        return {"task_features": task_input_means(X, task)[1]}
    return {}


def scored(protocol, estimator, X_test, task_test, problem_type="regression"):
    """What the metrics call: the estimator, or its unseen-task predictor."""
    if protocol != "new-tasks":
        return estimator
    return UnseenTaskPredictor(estimator, X_test, task_test, problem_type)


class UnseenTaskPredictor:
    """``predict`` / ``decision_function`` of a fitted estimator on new tasks.

    Parameters
    ----------
    estimator : fitted estimator
    X_test, task_test : ndarray
        The held-out rows, whose inputs give the new tasks' descriptors.
    problem_type : {"regression", "classification"}, default="regression"
    """

    def __init__(self, estimator, X_test, task_test, problem_type="regression"):
        self._classification = problem_type == "classification"
        # A selection wrapper (TaskGridSearch, SelectOnSubsample) delegates to
        # its refitted estimator_, which may take unknown_task / task_features.
        inner = getattr(estimator, "estimator_", None)
        if inner is not None and not _takes(estimator.predict, "unknown_task"):
            estimator = inner
        self.estimator = estimator
        self._features = (task_input_means(X_test, task_test)[1]
                          if _uses_descriptors(estimator) else None)
        if hasattr(estimator, "decision_function"):
            self.decision_function = self._decision_function

    def _call(self, name, X, task):
        method = getattr(self.estimator, name)
        if self._features is not None:
            return method(X, task=task, task_features=self._features)
        if _takes(method, "unknown_task"):
            return method(X, task=task, unknown_task="mean")
        scores = np.asarray(method(X), dtype=float)
        if scores.ndim != 2:
            raise ValueError(
                f"{type(self.estimator).__name__}.{name}(X) without task labels "
                f"returned shape {scores.shape}, so the average task function for "
                "tasks never seen in training cannot be formed; the method cannot "
                "take part in --protocol new-tasks.")
        return scores.mean(axis=1)

    def predict(self, X, task):
        est = self.estimator
        method = getattr(est, "predict")
        if self._features is not None or _takes(method, "unknown_task"):
            return self._call("predict", X, task)
        if self._classification:
            # Labels do not average: threshold the average decision instead.
            classes = np.asarray(getattr(est, "classes_", np.empty((0, 0))))
            if classes.shape != (2,) or not hasattr(est, "decision_function"):
                raise ValueError(
                    f"{type(est).__name__} cannot label tasks never seen in training "
                    "(no decision_function, or a label pair per task).")
            return classes[(self._decision_function(X, task) > 0).astype(int)]
        return self._call("predict", X, task)

    def _decision_function(self, X, task):
        return self._call("decision_function", X, task)
