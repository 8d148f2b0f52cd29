"""Data sets that ``rkhsmtl compare`` runs on, with their split protocols."""
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import numpy as np

from ..datasets import (
    load_landmine,
    load_sarcos,
    load_school,
    load_table,
    make_multitask_classification,
    make_multitask_regression,
)
from ..model_selection import (
    PerTaskShuffleSplit,
    landmine_protocol,
    sarcos_protocol,
    school_protocol,
)

BUILTIN_DATASETS = ("synthetic", "synthetic-classification", "school", "landmine", "sarcos")

# The School protocol and the hyperparameters published in docs/results.md:
# RBF kernel with gamma=0.02 on standardized inputs, per-task loss averaging,
# hyperparameters selected once by 3-fold task-stratified CV on a 4000-row
# per-school subsample of the first split (benchmarks/results_school.py).
SCHOOL_HYPERPARAMETERS = {
    "kernel": {"kernel": "rbf", "gamma": 0.02, "task_weighting": "uniform"},
    "independent": {"alpha": 1.0},
    "pooled": {"alpha": 10.0},
    "mean": {"alpha": 0.1, "omega": 0.9},
    "mtrl": {"lambda_1": 0.01, "lambda_2": 0.1},
    "dm": {"alpha": 10.0, "weighting__condition_on": "x"},
}

# Built-in synthetic data: 20 tasks in two clusters of strongly related tasks
# (within-cluster correlation 0.95, none across), 30 rows per task of which
# half train: too few rows for one task alone, so sharing pays off visibly,
# and pooling everything is worse than sharing within clusters.
_SYNTHETIC = dict(n_samples=30, n_tasks=20, n_features=2, structure="clustered",
                  n_clusters=2, correlation=0.95, length_scale=1.0, random_state=0)


class DatasetError(ValueError):
    """A data set that cannot be compared on; the message says what to do.

    Examples
    --------
    >>> from rkhsmtl.compare import DatasetError, load_dataset
    >>> issubclass(DatasetError, ValueError)
    True
    >>> try:
    ...     load_dataset("no-such-data")
    ... except ValueError as exc:
    ...     print(type(exc).__name__)
    DatasetError
    """


@dataclass
class Dataset:
    """A long-format multi-task data set and its split protocol.

    ``task`` holds integer codes ``0..n_tasks-1``; ``task_names[t]`` is the
    label of code ``t``.  ``test_size`` / ``train_size`` describe the
    per-task split of the protocol (one of them is set).

    Parameters
    ----------
    name : str
        Short name (``"school"``, a file name...).
    description : str
        One line for reports.
    problem_type : {"regression", "classification"}
    X : ndarray of shape (n_rows, n_features)
    y : ndarray of shape (n_rows,)
    task : ndarray of shape (n_rows,)
        Integer task codes.
    task_names : list
        Label of each task code.
    test_size : float, default=0.25
        Per-task test share of the protocol.
    train_size : int, default=None
        Per-task number of training rows (used instead of ``test_size``).
    protocol : str, default=""
        The protocol's name, for reports.
    hyperparameters : mapping, default={}
        Published fixed hyperparameters by method name (see
        :class:`MethodContext`).
    true_task_matrix : ndarray of shape (n_tasks, n_tasks), default=None
        The planted task matrix of synthetic data.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.compare import Dataset
    >>> data = Dataset("toy", "two tasks, four rows", "regression",
    ...               X=np.zeros((4, 1)), y=np.arange(4.0),
    ...               task=np.array([0, 0, 1, 1]), task_names=["a", "b"])
    >>> data.n_tasks, data.n_features
    (2, 1)
    """

    name: str
    description: str
    problem_type: str
    X: np.ndarray
    y: np.ndarray
    task: np.ndarray
    task_names: list
    test_size: Optional[float] = 0.25
    train_size: Optional[int] = None
    protocol: str = ""
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    true_task_matrix: Optional[np.ndarray] = None

    @property
    def n_tasks(self):
        return len(self.task_names)

    @property
    def n_features(self):
        return self.X.shape[1]

    def splitter(self, n_splits, random_state=0, test_size=None):
        """Per-task shuffle splitter of the protocol (``test_size`` overrides it)."""
        if test_size is not None:
            return PerTaskShuffleSplit(n_splits, test_size=test_size,
                                       random_state=random_state)
        if self.name == "school":
            return school_protocol(n_splits=n_splits, random_state=random_state)
        if self.name == "landmine":
            return landmine_protocol(self.train_size, n_splits=n_splits,
                                     random_state=random_state)
        if self.name == "sarcos":
            return sarcos_protocol(self.train_size, n_splits=n_splits,
                                   random_state=random_state)
        return PerTaskShuffleSplit(n_splits, test_size=self.test_size,
                                   random_state=random_state)

    def protocol_text(self, n_splits, test_size=None):
        if test_size is not None:
            part = f"{test_size:g} of every task's rows as test rows"
        elif self.train_size is not None:
            part = f"{self.train_size} training rows per task, the rest as test rows"
        else:
            part = f"{self.test_size:g} of every task's rows as test rows"
        plural = "split" if n_splits == 1 else "splits"
        return (f"{n_splits} random per-task {plural} ({part}); inputs standardized "
                "on the training rows of each split")


def _infer_problem_type(y):
    values = np.unique(y[np.isfinite(y)])
    if values.size == 2 and np.all(values == np.round(values)):
        return "classification"
    return "regression"


def _check_tasks(task, task_names, name):
    counts = np.bincount(task, minlength=len(task_names))
    small = [str(task_names[t]) for t in np.flatnonzero(counts < 2)]
    if small:
        shown = ", ".join(repr(s) for s in small[:5]) + (" ..." if len(small) > 5 else "")
        raise DatasetError(
            f"data set {name!r}: {len(small)} task(s) have fewer than 2 rows "
            f"({shown}); every task needs at least one training and one test row. "
            "Drop or merge those tasks."
        )


def _csv_has_rows(path):
    """False for a file with a header line and no data line."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = (line for line in fh if line.strip())
        next(lines, None)
        return next(lines, None) is not None


def _load_file(spec, task_column, target):
    """``load_table`` with every malformed-file case turned into a DatasetError.

    Each message names the file or column and the fix, so that the command
    prints one line and exits 2 instead of a traceback or a numpy message.
    """
    csv = spec.lower().endswith(".csv")
    if csv and os.path.isfile(spec) and not _csv_has_rows(spec):
        raise DatasetError(
            f"{spec} has a header but no data rows; add rows (one per example) "
            "below the header.")
    try:
        table = load_table(spec, task_column=task_column, target=target)
    except (FileNotFoundError, ImportError):
        raise
    except Exception as exc:  # numpy's and pandas' own wording, made actionable
        text = str(exc)
        if csv and "could not convert string to float" in text:
            # load_table has already checked the feature columns are numeric.
            raise DatasetError(
                f"the target column {target!r} of {spec} is not numeric ({text}); "
                "encode it as numbers (e.g. 0/1 for two classes) and rerun.") from None
        if not csv and ("pickle" in text or "zip" in text.lower()
                        or isinstance(exc, (OSError, EOFError))):
            raise DatasetError(
                f"{spec} is not a numpy .npz archive ({type(exc).__name__}); save "
                "it with np.savez(path, X=..., y=..., task=...), or pass a .csv "
                "file.") from None
        raise DatasetError(f"{spec}: {text}") from None
    _check_finite_table(spec, table, target)
    return table


def _check_finite_table(spec, table, target):
    X, y = np.asarray(table.data, dtype=float), np.asarray(table.target, dtype=float)
    bad_y = np.flatnonzero(~np.isfinite(y))
    if bad_y.size:
        column = f"target column {target!r}" if target is not None else "y"
        raise DatasetError(
            f"the {column} of {spec} has {bad_y.size} missing (NaN) or infinite "
            f"value(s) "
            f"(first at data row {bad_y[0]}); drop or fill those rows and rerun.")
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        names = list(table.feature_names)
        name = names[j] if j < len(names) else f"x{j}"
        rows = np.flatnonzero(bad[:, j])
        kind = "missing (NaN)" if np.isnan(X[rows[0], j]) else "infinite"
        raise DatasetError(
            f"feature column {name!r} of {spec} has {rows.size} {kind} "
            f"value(s) (first at data row {rows[0]}); drop or impute those rows "
            "(e.g. fill with the column mean) and rerun.")


def _synthetic(problem_type):
    if problem_type == "regression":
        X, y, task, A = make_multitask_regression(noise=0.2, **_SYNTHETIC)
        kind = "regression"
    else:
        X, y, task, A = make_multitask_classification(flip_y=0.05, **_SYNTHETIC)
        kind = "binary classification"
    s = _SYNTHETIC
    description = (
        f"built-in synthetic {kind} (rkhsmtl.datasets.make_multitask_"
        f"{problem_type}): {s['n_tasks']} tasks in {s['n_clusters']} planted "
        f"clusters (within-cluster correlation {s['correlation']}), "
        f"{s['n_samples']} rows per task, {s['n_features']} features, "
        f"random_state={s['random_state']}"
    )
    name = "synthetic" if problem_type == "regression" else "synthetic-classification"
    return Dataset(name, description, problem_type, X, y.astype(float), task,
                   list(range(s["n_tasks"])), test_size=0.5, true_task_matrix=A)


def load_dataset(spec=None, *, task_column=None, target=None, data_home=None):
    """The data set named by ``--dataset``.

    Parameters
    ----------
    spec : str, default=None
        None or ``"synthetic"`` (the default), ``"synthetic-classification"``,
        ``"school"``, ``"landmine"``, ``"sarcos"``, or a path to a ``.npz`` or
        ``.csv`` file (see :func:`rkhsmtl.datasets.load_table`).
    task_column, target : str, default=None
        Column names of a ``.csv`` table.
    data_home : str, default=None
        Folder of the benchmark files (default: ``$RKHSMTL_DATA``).

    Returns
    -------
    dataset : Dataset

    Raises
    ------
    DatasetError
        Unknown name, options that do not apply, or a task with fewer than
        two rows.
    rkhsmtl.datasets.DatasetNotFoundError, FileNotFoundError, ValueError
        From the loaders (missing file, missing column).

    Examples
    --------
    >>> from rkhsmtl.compare import load_dataset
    >>> data = load_dataset("synthetic")
    >>> data.name, data.problem_type, data.n_tasks
    ('synthetic', 'regression', 20)
    """
    spec = "synthetic" if spec is None else str(spec)
    is_file = spec.lower().endswith((".npz", ".csv"))
    if (task_column is not None or target is not None) and not spec.lower().endswith(".csv"):
        raise DatasetError(
            "--task-column and --target apply to a .csv table only; got "
            f"--dataset {spec}. Drop them, or pass a PATH.csv."
        )
    if spec in ("synthetic", "synthetic-classification"):
        data = _synthetic("regression" if spec == "synthetic" else "classification")
    elif spec == "school":
        X, y, task = load_school(data_home, return_X_y=True)
        data = Dataset("school", "School (ILEA exam scores): 139 schools, 15362 students, "
                       "27 features; target = exam score", "regression", X, y, task,
                       list(range(139)), test_size=0.25,
                       hyperparameters=SCHOOL_HYPERPARAMETERS)
    elif spec == "landmine":
        X, y, task = load_landmine(data_home, return_X_y=True)
        data = Dataset("landmine", "Landmine detection: 29 fields, 14820 samples, 9 "
                       "features; binary target (about 6% positives)", "classification",
                       X, y, task, list(range(29)), test_size=None, train_size=40)
    elif spec == "sarcos":
        X, y, task = load_sarcos(data_home, return_X_y=True)
        data = Dataset("sarcos", "SARCOS inverse dynamics (official test file): 7 joint "
                       "torques sharing 4449 inputs of 21 features", "regression",
                       X, y, task, list(range(7)), test_size=None, train_size=100)
    elif is_file:
        table = _load_file(spec, task_column, target)
        y = np.asarray(table.target, dtype=float)
        data = Dataset(os.path.basename(spec),
                       f"table {spec}: {len(table.task_names)} task(s), "
                       f"{table.data.shape[0]} rows, {table.data.shape[1]} features",
                       _infer_problem_type(y), table.data, y, table.task,
                       list(table.task_names), test_size=0.25)
    else:
        raise DatasetError(
            f"unknown --dataset {spec!r}; use one of {', '.join(BUILTIN_DATASETS)} or a "
            "path to a .npz or .csv file."
        )
    _check_tasks(data.task, data.task_names, data.name)
    return data
