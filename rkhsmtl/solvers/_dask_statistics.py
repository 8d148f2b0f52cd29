"""Feature statistics of Dask arrays: one pass on the workers, a tree of merges.

Each row block of X (with the matching blocks of y, the task codes and the
sample weights) becomes one :class:`~rkhsmtl.solvers.feature_statistics.FeatureStatistics`
on the worker that holds it: the kernel features of the block, summed and
projected (Nyström) there, so only m x m, m x T and T-sized partial results
travel.  The partial statistics of disjoint blocks add up
(:meth:`FeatureStatistics.merge`), so they are combined by a tree of merges,
as :func:`dask.array.reduction` combines partial sums, and one ``compute``
runs the whole pass.  Whatever scheduler is active runs it: the threaded
default, ``dask.config.set(scheduler="synchronous")``, or a
``dask.distributed`` client.

Dask is imported here only, and only when these functions are called: the
rest of the library never sees it.
"""
import uuid

import numpy as np

from .._backend import get_namespace, to_numpy
from .._memory import check_memory
from ._feature_problem import raw_features, statistics_memory
from .feature_statistics import SHARED, TASKS, FeatureStatistics, StatisticsAccumulator

#: Partial statistics merged by one task of the reduction tree.
SPLIT_EVERY = 8

_DASK_HINT = ("Dask arrays need the dask extra: pip install 'rkhsmtl[dask]' "
              "(dask[array,dataframe,distributed]).")


def _import_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise ImportError(_DASK_HINT) from exc
    return dask, da


def gather_statistics_dask(X, y, task_codes, feature_map, n_tasks, *,
                           sample_weight=None, layout="tasks",
                           split_every=SPLIT_EVERY):
    r"""One pass over Dask arrays: per-block statistics on the workers, merged.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        Inputs, chunked by rows (several column chunks are joined into one).
        Chunks may be numpy or CuPy arrays.
    y : dask.array.Array of shape (n_samples,) or (n_samples, n_tasks)
        One target per row (``layout="tasks"``), or one complete column per
        task (``layout="shared"``).  Row chunks must match X's.
    task_codes : dask.array.Array of int of shape (n_samples,) or None
        Task code in ``0 .. n_tasks - 1`` of each row (``layout="tasks"``;
        :func:`task_codes_dask` encodes arbitrary labels).  None for the
        shared layout.
    feature_map : fitted NystroemFeatures or RandomFourierFeatures
        Shipped to the workers once (it must pickle).
    n_tasks : int
        Number of tasks T.
    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Non-negative row weights (ones if None).
    layout : {"tasks", "shared"}, default="tasks"
        Layout of the statistics (see
        :mod:`rkhsmtl.solvers.feature_statistics`).
    split_every : int, default=8
        Partial statistics merged by one task of the reduction tree.

    Returns
    -------
    FeatureStatistics
        The statistics of all rows, in the namespace of X's chunks (numpy for
        numpy chunks), equal to those of an in-memory pass up to round-off.

    Raises
    ------
    ValueError
        For unknown chunk sizes, row chunks that differ between the inputs,
        non-finite values or task codes outside ``0 .. n_tasks - 1`` in a
        block (the message gives the block's rows), or negative weights.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from rkhsmtl.features import RandomFourierFeatures
    >>> from rkhsmtl.solvers._dask_statistics import gather_statistics_dask
    >>> rng = np.random.RandomState(0)
    >>> X, y = rng.randn(100, 3), rng.randn(100)
    >>> fmap = RandomFourierFeatures(n_components=16, random_state=0).fit(X)
    >>> stats = gather_statistics_dask(
    ...     da.from_array(X, chunks=(30, 3)), da.from_array(y, chunks=30),
    ...     da.from_array(np.arange(100) % 2, chunks=30), fmap, n_tasks=2)
    >>> stats.count.tolist()
    [50.0, 50.0]
    """
    dask, da = _import_dask()
    if layout not in (SHARED, TASKS):
        raise ValueError(f"The 'layout' parameter must be 'tasks' or 'shared'; got "
                         f"{layout!r} instead.")
    if isinstance(n_tasks, bool) or not isinstance(n_tasks, (int, np.integer)) \
            or n_tasks < 1:
        raise ValueError(f"The 'n_tasks' parameter must be a positive int; got "
                         f"{n_tasks!r} instead.")
    n_tasks = int(n_tasks)
    if isinstance(split_every, bool) or not isinstance(split_every, (int, np.integer)) \
            or split_every < 2:
        raise ValueError(f"The 'split_every' parameter must be an int >= 2; got "
                         f"{split_every!r} instead.")
    X = _check_X(X, da)
    row_chunks = X.chunks[0]
    if layout == TASKS:
        y = _check_aligned(y, "y", X, da, ndim=1)
        if task_codes is None:
            raise ValueError(
                "The 'task_codes' parameter is required with layout='tasks': one "
                "integer code in 0..n_tasks-1 per row (encode labels with "
                "task_codes_dask(task)).")
        task_codes = _check_aligned(task_codes, "task_codes", X, da, ndim=1)
        if task_codes.dtype.kind not in "iu":
            raise ValueError(
                "The 'task_codes' parameter must hold integer codes in "
                f"0..{n_tasks - 1}; got dtype {task_codes.dtype}. Encode task labels "
                "with codes, tasks = task_codes_dask(task).")
    else:
        if task_codes is not None:
            raise ValueError(
                "The 'task_codes' parameter must be None with layout='shared' (each "
                "column of y is one task); use layout='tasks' for one task per row.")
        y = _check_aligned(y, "y", X, da, ndim=2)
        if y.shape[1] != n_tasks:
            raise ValueError(
                f"With layout='shared' y needs one column per task: {n_tasks} "
                f"tasks, but y has {y.shape[1]} columns.")
    if sample_weight is not None:
        sample_weight = _check_aligned(sample_weight, "sample_weight", X, da, ndim=1)

    xp = get_namespace(X._meta)
    raw_width, projection = _widths(feature_map)
    m = raw_width if projection is None else int(projection.shape[1])
    check_memory(
        statistics_memory(m, n_tasks, layout), xp,
        what=f"The feature statistics (m={m} features, {n_tasks} tasks)",
        instead="Lower 'n_components'.")

    # One graph key for the fitted map: a worker receives it once, not once
    # per block.
    fmap = dask.delayed(feature_map, name=f"rkhsmtl-feature-map-{uuid.uuid4().hex}")
    # Unoptimized blocks keep the keys shared by X, y and the codes (e.g. one
    # DataFrame read), so the single compute below reads the data once.
    blocks = [_blocks(a) for a in (X, y, task_codes, sample_weight)]
    starts = np.concatenate([[0], np.cumsum(row_chunks)]).astype(int)
    block_stats = dask.delayed(_block_statistics, pure=True)
    parts = [
        block_stats(fmap, layout, n_tasks, int(starts[i]), int(starts[i + 1]), i,
                    *(b[i] if b is not None else None for b in blocks))
        for i in range(len(row_chunks))
    ]
    merge = dask.delayed(_merge_packed, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    (packed,) = dask.compute(parts[0])
    if packed is None:
        raise ValueError("X has no rows: the feature statistics need at least one "
                         "row.")
    stats = _unpack(packed)
    return stats if projection is None else stats.projected(projection)


def task_codes_dask(task, tasks=None):
    """Encode a Dask array of task labels as integer codes, lazily.

    Parameters
    ----------
    task : dask.array.Array of shape (n_samples,)
        Task label of each row (ints, strings, any sortable type).
    tasks : array-like, default=None
        Known labels (a fitted ``tasks_``), sorted.  None finds them with one
        ``da.unique`` compute.

    Returns
    -------
    codes : dask.array.Array of int64 of shape (n_samples,)
        Index of each row's label in ``tasks``, with ``task``'s chunks.
    tasks : numpy.ndarray
        The sorted unique labels.

    Examples
    --------
    >>> import numpy as np
    >>> import dask.array as da
    >>> from rkhsmtl.solvers._dask_statistics import task_codes_dask
    >>> codes, tasks = task_codes_dask(da.from_array(np.array(["b", "a", "b"]), chunks=2))
    >>> codes.compute().tolist(), tasks.tolist()
    ([1, 0, 1], ['a', 'b'])
    """
    from .._validation import check_no_missing_labels

    _, da = _import_dask()
    if not isinstance(task, da.Array):
        raise TypeError(
            "The 'task' parameter of task_codes_dask must be a dask array; got "
            f"{type(task).__name__}. Convert a Dask DataFrame column with "
            "df[col].to_dask_array(lengths=True).")
    if task.ndim != 1:
        raise ValueError(f"The 'task' labels must be a 1-D dask array; got shape "
                         f"{task.shape}.")
    if tasks is None:
        try:
            tasks = np.asarray(to_numpy(da.unique(task).compute()))
        except TypeError as exc:
            raise ValueError(
                "The 'task' labels must be of one comparable type (all ints or all "
                "strings); got a mix.") from exc
        check_no_missing_labels(tasks, "task")
    else:
        tasks = np.asarray(tasks)
    return task.map_blocks(_encode_block, tasks=tasks, dtype=np.int64,
                           meta=np.empty((0,), dtype=np.int64)), tasks


# ------------------------------------------------------------------ checks
def _check_X(X, da):
    if not isinstance(X, da.Array):
        raise TypeError(f"X must be a dask array here; got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(
            f"X must be a 2-D dask array of shape (n_samples, n_features); got shape "
            f"{X.shape}. Reshape a single feature with X.reshape(-1, 1).")
    _check_known(X, "X")
    if len(X.chunks[1]) > 1:
        # A block needs whole rows: the kernel sees every feature of a row.
        X = X.rechunk({1: -1})
    return X


def _check_known(a, name):
    if any(np.isnan(c) for c in a.chunks[0]):
        raise ValueError(
            f"'{name}' has unknown chunk sizes (NaN), as the .values of a Dask "
            "DataFrame has, so its rows cannot be matched block by block. Use "
            f"{name} = df.to_dask_array(lengths=True) (or df[col].to_dask_array("
            f"lengths=True)), or call {name}.compute_chunk_sizes() first.")


def _check_aligned(a, name, X, da, ndim):
    if not isinstance(a, da.Array):
        # Small in-memory arrays (weights, codes) follow X's row blocks.
        arr = np.asarray(to_numpy(a))
        if arr.ndim != ndim or arr.shape[0] != X.shape[0]:
            raise ValueError(
                f"'{name}' must have shape ({X.shape[0]}{', n_tasks' if ndim == 2 else ''}) "
                f"to match X; got shape {arr.shape}.")
        chunks = (X.chunks[0],) + ((arr.shape[1],) if ndim == 2 else ())
        return da.from_array(arr, chunks=chunks)
    if a.ndim != ndim:
        shape = "(n_samples,)" if ndim == 1 else "(n_samples, n_tasks)"
        raise ValueError(f"'{name}' must be a {ndim}-D dask array of shape {shape}; "
                         f"got shape {a.shape}.")
    _check_known(a, name)
    if a.shape[0] != X.shape[0]:
        raise ValueError(f"'{name}' has {a.shape[0]} rows but X has {X.shape[0]}; "
                         "give one entry per row of X.")
    if a.chunks[0] != X.chunks[0]:
        raise ValueError(
            f"The row chunks of '{name}' {_show(a.chunks[0])} differ from those of "
            f"X {_show(X.chunks[0])}; block i of X must hold the same rows as block "
            f"i of '{name}'. Rechunk them alike: {name} = {name}.rechunk({{0: "
            "X.chunks[0]}).")
    if ndim == 2 and len(a.chunks[1]) > 1:
        a = a.rechunk({1: -1})
    return a


def _show(chunks, limit=6):
    shown = ", ".join(str(int(c)) for c in chunks[:limit])
    return f"({shown}{', ...' if len(chunks) > limit else ''}; {len(chunks)} blocks)"


def _widths(feature_map):
    """(width of the raw row features, projection or None), on the client."""
    if not hasattr(feature_map, "n_components_"):
        raise ValueError(
            "The 'feature_map' must be fitted (call feature_map.fit(X_sample)) "
            "before gathering statistics.")
    _, projection = raw_features(feature_map)
    if projection is None:
        return int(feature_map.n_components_), None
    return int(projection.shape[0]), projection


def _blocks(a):
    if a is None:
        return None
    return a.to_delayed(optimize_graph=False).ravel().tolist()


# ----------------------------------------------------- on the workers
def _block_statistics(feature_map, layout, n_tasks, start, stop, index, X, y,
                      codes, weights):
    """Statistics of one row block (runs on a worker); packed for transport."""
    if X.shape[0] == 0:
        return None
    xp = get_namespace(X)
    where = f"rows {start} to {stop - 1} (block {index})"
    X = _finite(xp, X, "X", start, where, "Remove or impute those rows (and the matching "
                "y, task and sample_weight entries) before fitting.")
    fix_y = ("Remove those rows before fitting." if layout == TASKS else
             "layout='shared' needs complete targets: give missing entries as "
             "separate rows with layout='tasks' instead.")
    y = _finite(xp, y, "y", start, where, fix_y)
    if weights is not None:
        weights = _finite(xp, weights, "sample_weight", start, where,
                          "Give every row a finite weight.")
        low = float(xp.min(weights))
        if low < 0:
            raise ValueError(f"The 'sample_weight' values must be non-negative; got "
                             f"{low:.3g} in {where}.")
    if layout == TASKS:
        codes = np.asarray(to_numpy(codes))
        bad = (codes < 0) | (codes >= n_tasks)
        if np.any(bad):
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"'task_codes' holds {codes[first]} at row {start + first}, in "
                f"{where}; codes must be integers in 0..{n_tasks - 1} (n_tasks="
                f"{n_tasks}). Encode labels with codes, tasks = task_codes_dask(task) "
                "and pass n_tasks=len(tasks).")
    else:
        codes = None
    raw, projection = raw_features(feature_map)
    width = feature_map.n_components_ if projection is None else projection.shape[0]
    # Raw (unprojected) statistics: the blocks merge on raw features and the
    # client projects once, instead of every block projecting its own rows.
    acc = StatisticsAccumulator(xp, width, n_tasks, layout)
    acc.add(raw(X), y, codes=codes, weights=weights)
    return _pack(acc.result())


def _finite(xp, a, name, start, where, fix):
    if a.dtype != xp.float64:
        a = xp.astype(a, xp.float64)
    ok = xp.isfinite(a)
    if not bool(xp.all(ok)):
        rows = ok if ok.ndim == 1 else xp.all(ok, axis=1)
        first = int(np.flatnonzero(~np.asarray(to_numpy(rows)))[0])
        raise ValueError(
            f"'{name}' holds NaN or infinity in {where}, first at row "
            f"{start + first}. {fix}")
    return a


def _merge_packed(*parts):
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    total = _unpack(parts[0])
    for p in parts[1:]:
        total = total.merge(_unpack(p))
    return _pack(total)


def _encode_block(block, tasks):
    labels = np.asarray(to_numpy(block))
    codes = np.searchsorted(tasks, labels)
    inside = np.clip(codes, 0, max(len(tasks) - 1, 0))
    unknown = (codes >= len(tasks)) | (tasks[inside] != labels)
    if np.any(unknown):
        shown = sorted(set(map(str, labels[unknown])))[:10]
        raise ValueError(
            f"Unknown task label(s) {shown} in 'task': the known tasks are "
            f"{list(map(str, tasks))[:20]}.")
    return codes.astype(np.int64)


# -------------------------------------------------------------- transport
# The namespace module stays behind: a worker rebuilds it from the arrays,
# which keeps the partial results plain picklable data.
_FIELDS = ("layout", "n_features", "n_tasks", "count", "phi_sum", "phi_y", "y_sum",
           "y_sq", "gram", "task_gram", "task_rows")


def _pack(stats):
    return {name: getattr(stats, name) for name in _FIELDS}


def _unpack(packed):
    return FeatureStatistics(get_namespace(packed["phi_y"]), **packed)
