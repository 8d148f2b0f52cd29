"""Dask arrays and DataFrames as estimator inputs (the approximate path only).

``fit`` on Dask data never gathers the rows: the feature map is fitted on a
uniform sample of rows, the sufficient statistics are computed per block on
the workers and merged (:mod:`rkhsmtl.solvers._dask_statistics`), and only
the m x m / m x T / T x T quantities reach the client.  ``predict`` on a
Dask array returns a lazy Dask array, block by block.
"""
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np
from sklearn.utils import check_random_state

from .._backend import get_namespace

#: Rows sampled (uniformly, one compute) to fit the feature map, per feature.
SAMPLE_PER_COMPONENT = 4


def is_dask_collection(x):
    module = type(x).__module__
    return module.startswith("dask.") or module.startswith("dask_")


@dataclass
class DaskData:
    """Training data that stays on the Dask workers."""

    xp: Any
    X: Any                        # dask array (n, d)
    layout: str                   # "shared" or "heterogeneous"
    targets: Any                  # dask array (n,) or (n, T)
    tasks: np.ndarray
    task_codes: Optional[Any]     # dask array (n,) of ints, heterogeneous only
    sample_weight: Any
    y_was_1d: bool
    mask: Any = None

    @property
    def n_tasks(self):
        return len(self.tasks)


def _dask_frame_to_arrays(X, task):
    if isinstance(task, str):
        if task not in X.columns:
            raise ValueError(f"task={task!r} is not a column of the Dask DataFrame X; "
                             f"its columns are {list(X.columns)}.")
        labels = X[task].to_dask_array(lengths=True)
        X = X.drop(columns=[task])
        task = labels
    return X.to_dask_array(lengths=True), task


def validate_dask_fit_data(estimator, X, y, task=None, sample_weight=None):
    """Check Dask inputs for an approximate fit and encode the task labels.

    Returns
    -------
    DaskData
    """
    import dask.array as da

    from ..solvers._dask_statistics import _check_known, task_codes_dask

    if getattr(estimator, "approximation", None) is None:
        raise ValueError(
            "Dask inputs are fitted on the approximate path only: set "
            "approximation='nystroem' (or 'random_fourier'). An exact fit needs the "
            "N x N kernel matrix in memory; for data that fits, pass numpy arrays "
            "(X.compute()).")
    if getattr(estimator, "task_column", None) is not None:
        raise ValueError("With Dask inputs pass the task labels as task= (an array, or "
                         "the name of a column of a Dask DataFrame X), not task_column.")
    if hasattr(X, "columns"):
        X, task = _dask_frame_to_arrays(X, task)
    if hasattr(y, "to_dask_array"):
        y = y.to_dask_array(lengths=True)
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise ValueError(f"X must be a 2-D Dask array or a Dask DataFrame; got "
                         f"{type(X).__name__}.")
    # Landmarks are sampled by row index, which needs known chunk sizes.
    _check_known(X, "X")
    _check_numpy_blocks(X, "X")
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but y "
                         "is None.")
    y = y if isinstance(y, da.Array) else da.from_array(np.asarray(y),
                                                        chunks=(X.chunks[0],) +
                                                        tuple((s,) for s in
                                                              np.shape(y)[1:]))
    _check_numpy_blocks(y, "y")
    estimator.n_features_in_ = int(X.shape[1])
    xp = get_namespace(np.empty(0))
    if task is not None:
        if y.ndim != 1:
            raise ValueError(f"With task labels, y must be 1-D; got shape {y.shape}.")
        if not isinstance(task, da.Array):
            task = da.from_array(np.asarray(task), chunks=(X.chunks[0],))
        _check_numpy_blocks(task, "task")
        codes, tasks = task_codes_dask(task)
        return DaskData(xp, X, "heterogeneous", y, np.asarray(tasks), codes,
                        sample_weight, True)
    y_was_1d = y.ndim == 1
    Y = y[:, None] if y_was_1d else y
    return DaskData(xp, X, "shared", Y, np.arange(Y.shape[1]), None, sample_weight,
                    y_was_1d)


def _check_numpy_blocks(arr, name):
    """Refuse Dask arrays whose blocks are not NumPy arrays (CuPy, sparse).

    The workers compute the statistics with NumPy; a CuPy-backed array would
    fail deep inside a task (or need CuPy where it is not installed).
    """
    meta = getattr(arr, "_meta", None)
    if meta is None or isinstance(meta, np.ndarray):
        return
    kind = f"{type(meta).__module__}.{type(meta).__name__}"
    raise TypeError(
        f"The Dask array {name} holds {kind} blocks; the Dask path computes its "
        "statistics with NumPy on the workers. Convert the blocks first: "
        f"{name}.map_blocks(cupy.asnumpy) for CuPy (or .map_blocks(lambda b: "
        "b.todense()) for sparse blocks), or, for data that fits on one GPU, pass "
        "the CuPy array itself (not a Dask array) to fit.")


def fit_map_on_sample(fmap, X, n_components, random_state):
    """Fit the feature map on a uniform sample of X's rows (one compute)."""
    n = X.shape[0]
    size = min(n, max(SAMPLE_PER_COMPONENT * n_components, n_components))
    rng = check_random_state(random_state)
    rows = np.sort(rng.choice(n, size=size, replace=False))
    sample = X[rows].compute()
    return fmap.fit(sample)


def gather_dask_statistics(data, fmap):
    from ..solvers._dask_statistics import gather_statistics_dask

    layout = "tasks" if data.layout == "heterogeneous" else "shared"
    return gather_statistics_dask(data.X, data.targets, data.task_codes, fmap,
                                  data.n_tasks, sample_weight=data.sample_weight,
                                  layout=layout)


def predict_dask(estimator, X, task=None):
    """Lazy predictions: ``estimator``'s own prediction on every row block."""
    import dask.array as da

    if hasattr(X, "columns"):
        X, task = _dask_frame_to_arrays(X, task)
    X = X.rechunk({1: -1})
    n_tasks = estimator.n_tasks_

    def block(xb, *tb):
        scores, _ = estimator._decision(np.asarray(xb), None if not tb else tb[0])
        return np.asarray(scores)

    if task is None:
        single = estimator._single_output
        return da.map_blocks(block, X, dtype=float,
                             chunks=(X.chunks[0],) if single else
                             (X.chunks[0], (n_tasks,)),
                             drop_axis=1 if single else None)
    if not isinstance(task, da.Array):
        task = da.from_array(np.asarray(task), chunks=(X.chunks[0],))
    task = task.rechunk((X.chunks[0],))
    return da.map_blocks(lambda xb, tb: block(xb, tb[:, 0]), X, task[:, None],
                         dtype=float, chunks=(X.chunks[0],), drop_axis=1)
