"""Train/test splits and cross-validators that respect the task structure.

Every splitter splits each task separately, so that all tasks appear in the
training and the test parts in the same proportion (or with the same number
of training rows per task, as in the usual benchmark protocols).  The task
labels are passed as ``task`` (functions) or as ``groups`` (splitters, the
scikit-learn convention), as arrays, lists or pandas Series.
"""
import numbers
import warnings

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing, check_random_state

from .._validation import factorize_task_labels, split_task_column

__all__ = [
    "multitask_train_test_split",
    "PerTaskShuffleSplit",
    "TaskStratifiedKFold",
    "school_protocol",
    "sarcos_protocol",
    "landmine_protocol",
    "malsar_protocol",
]

_DEFAULT_TEST_SIZE = 0.25


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def _label_repr(label):
    if isinstance(label, np.generic):
        label = label.item()
    return repr(label)


def _num_rows(a):
    if hasattr(a, "shape") and len(a.shape) > 0:
        return a.shape[0]
    return len(a)


def _check_size(value, name):
    if value is None:
        return
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"The '{name}' parameter must be a float in (0, 1), an int >= 1 or "
            f"None; got {value!r}."
        )
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise ValueError(
                f"The '{name}' parameter must be an int >= 1 (rows per task) or a "
                f"float in (0, 1); got {value!r}."
            )
    elif not 0 < value < 1:
        raise ValueError(
            f"The '{name}' parameter must be a float in (0, 1) (fraction of each "
            f"task) or an int >= 1; got {value!r}."
        )


def _check_sizes(test_size, train_size):
    _check_size(test_size, "test_size")
    _check_size(train_size, "train_size")
    if (isinstance(test_size, numbers.Real) and isinstance(train_size, numbers.Real)
            and not isinstance(test_size, numbers.Integral)
            and not isinstance(train_size, numbers.Integral)
            and test_size + train_size > 1):
        raise ValueError(
            "The sum of 'test_size' and 'train_size' must be at most 1; got "
            f"{test_size} + {train_size}."
        )
    if test_size is None and train_size is None:
        return _DEFAULT_TEST_SIZE, None
    return test_size, train_size


def _fraction_rows(fraction, n_t):
    """``round(fraction * n_t)`` (half up), kept in [1, n_t - 1] when n_t >= 2."""
    k = int(np.floor(fraction * n_t + 0.5))
    return min(max(k, 1), n_t - 1) if n_t >= 2 else 0


def _task_counts(n_t, test_size, train_size, label):
    """Numbers ``(n_train, n_test)`` of rows of one task of ``n_t`` rows."""
    if train_size is None:  # test_size given; the rest trains
        if isinstance(test_size, numbers.Integral):
            if n_t < test_size + 1:
                raise ValueError(
                    f"Task {label} has {n_t} rows, fewer than test_size="
                    f"{test_size} test rows plus 1 training row."
                )
            return n_t - test_size, test_size
        n_test = _fraction_rows(test_size, n_t)
        return n_t - n_test, n_test
    if isinstance(train_size, numbers.Integral):
        n_train = train_size
        if n_t < n_train:
            raise ValueError(
                f"Task {label} has {n_t} rows, fewer than train_size="
                f"{train_size} training rows per task."
            )
    else:
        n_train = _fraction_rows(train_size, n_t) if n_t >= 2 else n_t
    if test_size is None:
        return n_train, n_t - n_train
    if isinstance(test_size, numbers.Integral):
        n_test = test_size
    else:
        n_test = _fraction_rows(test_size, n_t)
    if n_train + n_test > n_t:
        raise ValueError(
            f"Task {label} has {n_t} rows, fewer than the {n_train} training plus "
            f"{n_test} test rows requested."
        )
    return n_train, n_test


def _rows_by_task(inverse, n_tasks):
    """List of the row indices of each task (increasing order)."""
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=n_tasks))[:-1]
    return np.split(order, bounds)


def _per_task_indices(labels, inverse, test_size, train_size, rng):
    """One random per-task split: sorted ``(train, test)`` row indices."""
    train, test = [], []
    for label, rows in zip(labels, _rows_by_task(inverse, len(labels))):
        n_train, n_test = _task_counts(rows.shape[0], test_size, train_size,
                                       _label_repr(label))
        rows = rng.permutation(rows)
        test.append(rows[:n_test])
        train.append(rows[n_test:n_test + n_train])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


# --------------------------------------------------------------------------
# Train/test split
# --------------------------------------------------------------------------
def multitask_train_test_split(*arrays, task, test_size=None, train_size=None,
                               random_state=None):
    """Split arrays into train and test parts, every task in the same proportion.

    Each task is split separately.  With a float ``test_size`` a task of
    ``n_t`` rows gets ``round(test_size * n_t)`` test rows (halves rounded
    up), but always at least one training row and, when ``n_t >= 2``, at
    least one test row.  An int size is a number of rows **per task**.

    Parameters
    ----------
    *arrays : sequence of array-likes with the same number of rows
        Arrays to split (numpy arrays, lists, sparse matrices, pandas
        objects).
    task : array-like of shape (N,)
        Task label of each row (any hashable type; list, array or Series).
    test_size : float or int, default=None
        Fraction of each task (float in (0, 1)) or number of rows per task
        (int) in the test part.  ``None``: 0.25 when ``train_size`` is also
        ``None``, otherwise the rest of each task.
    train_size : float or int, default=None
        Fraction of each task or number of rows per task in the training
        part; ``None``: the rest of each task.  ``train_size=40`` gives 40
        training rows per task and the rest for testing.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling; an int makes the split deterministic.

    Returns
    -------
    splitting : list of length ``2 * (len(arrays) + 1)``
        ``X_train, X_test, ...`` for every array, followed by
        ``task_train, task_test``.  Rows keep their original order.

    Raises
    ------
    ValueError
        If the arrays and ``task`` have different numbers of rows, or a task
        has fewer rows than an int size requests (the message names the task).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.model_selection import multitask_train_test_split
    >>> X = np.arange(16).reshape(8, 2)
    >>> task = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> X_tr, X_te, t_tr, t_te = multitask_train_test_split(
    ...     X, task=task, test_size=0.5, random_state=0)
    >>> np.bincount(t_tr), np.bincount(t_te)
    (array([2, 2]), array([2, 2]))
    """
    test_size, train_size = _check_sizes(test_size, train_size)
    labels, inverse = factorize_task_labels(task)
    for i, a in enumerate(arrays):
        if _num_rows(a) != inverse.shape[0]:
            raise ValueError(
                f"Array {i} and task have inconsistent numbers of rows: "
                f"{_num_rows(a)} and {inverse.shape[0]}."
            )
    rng = check_random_state(random_state)
    train, test = _per_task_indices(labels, inverse, test_size, train_size, rng)
    out = []
    for a in (*arrays, task):
        out.extend((_safe_indexing(a, train), _safe_indexing(a, test)))
    return out


# --------------------------------------------------------------------------
# Cross-validators
# --------------------------------------------------------------------------
class _TaskSplitter(BaseCrossValidator):
    """Base of the splitters whose ``groups`` are the task labels."""

    # Ask for ``groups`` when metadata routing is enabled in scikit-learn.
    __metadata_request__split = {"groups": True}

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
        """
        return self.n_splits

    def _check_groups(self, X, groups):
        labels, inverse = factorize_task_labels(groups, name="groups")
        if X is not None and _num_rows(X) != inverse.shape[0]:
            raise ValueError(
                "X and groups have inconsistent numbers of rows: "
                f"{_num_rows(X)} and {inverse.shape[0]}."
            )
        return labels, inverse


def _check_n_splits(n_splits, minimum):
    if (isinstance(n_splits, (bool, np.bool_))
            or not isinstance(n_splits, numbers.Integral) or n_splits < minimum):
        raise ValueError(
            f"The 'n_splits' parameter must be an int >= {minimum}; got {n_splits!r}."
        )


class PerTaskShuffleSplit(_TaskSplitter):
    """Random train/test splits, each task split in the same proportion.

    Each split is a :func:`multitask_train_test_split` of the rows; the task
    labels are passed as ``groups`` (so the splitter works inside
    :func:`sklearn.model_selection.cross_val_score` and friends with
    ``groups=task``).  Train and test parts of different splits may overlap,
    as in :class:`sklearn.model_selection.ShuffleSplit`.

    Parameters
    ----------
    n_splits : int, default=10
        Number of random splits.
    test_size : float or int, default=None
        Fraction of each task (float) or number of rows per task (int) in the
        test part.  ``None``: 0.25 when ``train_size`` is also ``None``,
        otherwise the rest of each task.
    train_size : float or int, default=None
        Fraction of each task or number of training rows per task; ``None``:
        the rest of each task.
    random_state : int, RandomState instance or None, default=None
        Seed; with an int, repeated calls to :meth:`split` give the same
        splits.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.model_selection import PerTaskShuffleSplit
    >>> task = np.repeat(["a", "b"], [8, 4])
    >>> cv = PerTaskShuffleSplit(n_splits=2, test_size=0.25, random_state=0)
    >>> for train, test in cv.split(np.zeros((12, 1)), groups=task):
    ...     print(len(train), len(test), np.unique(task[test]))
    9 3 ['a' 'b']
    9 3 ['a' 'b']
    """

    def __init__(self, n_splits=10, test_size=None, train_size=None,
                 random_state=None):
        self.n_splits = n_splits
        self.test_size = test_size
        self.train_size = train_size
        self.random_state = random_state

    def split(self, X, y=None, groups=None):
        """Generate train/test row indices, each task split separately.

        Parameters
        ----------
        X : array-like of shape (N, n_features) or None
            Training data (only its number of rows is used).
        y : object
            Ignored (may be continuous).
        groups : array-like of shape (N,)
            Task label of each row (array, list or pandas Series); required
            unless ``task_column`` names the column of X that holds them.

        Yields
        ------
        train : ndarray
            Sorted training row indices of the split.
        test : ndarray
            Sorted test row indices of the split.
        """
        _check_n_splits(self.n_splits, 1)
        test_size, train_size = _check_sizes(self.test_size, self.train_size)
        labels, inverse = self._check_groups(X, groups)
        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            yield _per_task_indices(labels, inverse, test_size, train_size, rng)


class TaskStratifiedKFold(_TaskSplitter):
    """K-fold cross-validation in which every task is split across the folds.

    The rows of each task are dealt to the folds in turn, continuing where the
    previous task stopped, so that every task has the same proportion of its
    rows in every fold (per-task counts differ by at most one between folds)
    and the folds have sizes differing by at most one.  This is stratified
    K-fold on the task labels (``groups``); ``y`` is ignored and may be
    continuous.  Unlike :class:`sklearn.model_selection.StratifiedKFold` it
    never raises for small tasks.

    A task with fewer rows than ``n_splits`` has its rows spread over as many
    folds as possible (one row per fold): in the other folds it has no test
    rows.  A task with a single row has no training rows in the fold where
    that row is tested (a model must then predict it from the other tasks
    only).  Both cases are allowed and emit a ``UserWarning`` naming the
    tasks.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=True
        Whether to shuffle the rows of each task (and the order in which
        tasks are dealt) before dealing them to the folds.
    random_state : int, RandomState instance or None, default=None
        Seed used when ``shuffle=True``.
    task_column : int or str, default=None
        Column of X holding the task labels, as the estimators'
        ``task_column``: then ``split`` needs no ``groups`` (so
        ``GridSearchCV(est, grid, cv=TaskStratifiedKFold(task_column=...))``
        works without metadata routing).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.model_selection import TaskStratifiedKFold
    >>> task = np.repeat([0, 1], [6, 3])
    >>> cv = TaskStratifiedKFold(n_splits=3, random_state=0)
    >>> [np.bincount(task[test], minlength=2).tolist()
    ...  for _, test in cv.split(np.zeros((9, 1)), groups=task)]
    [[2, 1], [2, 1], [2, 1]]
    """

    def __init__(self, n_splits=5, shuffle=True, random_state=None, task_column=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.task_column = task_column

    def _fold_of_rows(self, labels, inverse):
        n_splits = self.n_splits
        rng = check_random_state(self.random_state) if self.shuffle else None
        order = np.arange(len(labels))
        if rng is not None:
            order = rng.permutation(order)
        by_task = _rows_by_task(inverse, len(labels))
        dealt = np.concatenate([
            rng.permutation(by_task[k]) if rng is not None else by_task[k]
            for k in order
        ])
        fold_ids = np.arange(dealt.shape[0]) % n_splits
        if rng is not None:  # which folds receive the leftover rows
            fold_ids = rng.permutation(n_splits)[fold_ids]
        fold = np.empty(dealt.shape[0], dtype=np.intp)
        fold[dealt] = fold_ids
        return fold

    def _warn_small_tasks(self, labels, inverse):
        counts = np.bincount(inverse, minlength=len(labels))
        small = [_label_repr(t) for t, c in zip(labels, counts) if c < self.n_splits]
        if not small:
            return
        single = [_label_repr(t) for t, c in zip(labels, counts) if c == 1]
        msg = (
            f"{len(small)} task(s) have fewer rows than n_splits={self.n_splits} "
            f"({', '.join(small[:10])}{', ...' if len(small) > 10 else ''}): "
            "their rows are spread over as many folds as possible, so some folds "
            "have no test rows for them."
        )
        if single:
            msg += (
                f" Task(s) {', '.join(single[:10])}{', ...' if len(single) > 10 else ''}"
                " have a single row and no training rows in the fold that tests it."
            )
        warnings.warn(msg, UserWarning, stacklevel=3)

    def split(self, X, y=None, groups=None):
        """Generate train/test row indices of the ``n_splits`` folds.

        Parameters
        ----------
        X : array-like of shape (N, n_features) or None
            Training data (only its number of rows is used).
        y : object
            Ignored (may be continuous).
        groups : array-like of shape (N,)
            Task label of each row (array, list or pandas Series); required.

        Yields
        ------
        train : ndarray
            Sorted training row indices of the fold.
        test : ndarray
            Sorted test row indices of the fold.
        """
        _check_n_splits(self.n_splits, 2)
        if groups is None and self.task_column is not None:
            _, groups = split_task_column(X, self.task_column)
        labels, inverse = self._check_groups(X, groups)
        if inverse.shape[0] < self.n_splits:
            raise ValueError(
                f"Cannot have n_splits={self.n_splits} greater than the number "
                f"of rows: {inverse.shape[0]}."
            )
        self._warn_small_tasks(labels, inverse)
        fold = self._fold_of_rows(labels, inverse)
        for f in range(self.n_splits):
            yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)


# --------------------------------------------------------------------------
# Benchmark protocols
# --------------------------------------------------------------------------
def school_protocol(n_splits=10, random_state=0):
    """Splitter of the School benchmark: 75% / 25% of every school, 10 repeats.

    Parameters
    ----------
    n_splits : int, default=10
        Number of random splits.
    random_state : int, RandomState instance or None, default=0
        Seed.

    Returns
    -------
    cv : PerTaskShuffleSplit

    Examples
    --------
    >>> from rkhsmtl.model_selection import school_protocol
    >>> school_protocol().test_size
    0.25
    """
    return PerTaskShuffleSplit(n_splits, test_size=0.25, random_state=random_state)


def _check_rows_per_task(n_train_per_task, name):
    if (isinstance(n_train_per_task, (bool, np.bool_))
            or not isinstance(n_train_per_task, numbers.Integral)
            or n_train_per_task < 1):
        raise ValueError(
            f"The '{name}' parameter must be an int >= 1; got {n_train_per_task!r}."
        )


def sarcos_protocol(n_train_per_task, n_splits=10, random_state=0):
    """Splitter with ``n_train_per_task`` training rows per task, the rest test.

    Parameters
    ----------
    n_train_per_task : int
        Number of training rows of every task (e.g. 50, 100, 150, 200).
    n_splits : int, default=10
        Number of random splits.
    random_state : int, RandomState instance or None, default=0
        Seed.

    Returns
    -------
    cv : PerTaskShuffleSplit

    Examples
    --------
    >>> from rkhsmtl.model_selection import sarcos_protocol
    >>> sarcos_protocol(100).train_size
    100
    """
    _check_rows_per_task(n_train_per_task, "n_train_per_task")
    return PerTaskShuffleSplit(n_splits, train_size=n_train_per_task,
                               random_state=random_state)


def landmine_protocol(n_train_per_task=40, n_splits=10, random_state=0):
    """Splitter of the Landmine benchmark: 40 training rows per field, rest test.

    Parameters
    ----------
    n_train_per_task : int, default=40
        Number of training rows of every task.
    n_splits : int, default=10
        Number of random splits.
    random_state : int, RandomState instance or None, default=0
        Seed.

    Returns
    -------
    cv : PerTaskShuffleSplit

    Examples
    --------
    >>> from rkhsmtl.model_selection import landmine_protocol
    >>> landmine_protocol().train_size
    40
    """
    _check_rows_per_task(n_train_per_task, "n_train_per_task")
    return PerTaskShuffleSplit(n_splits, train_size=n_train_per_task,
                               random_state=random_state)


def malsar_protocol(train_fraction, n_splits=10, random_state=0):
    """Splitter of the MALSAR experiments: a fraction of every task trains.

    Parameters
    ----------
    train_fraction : float in (0, 1)
        Fraction of each task used for training (0.1, 0.2 or 0.3 in MALSAR);
        the rest is the test part.
    n_splits : int, default=10
        Number of random splits.
    random_state : int, RandomState instance or None, default=0
        Seed.

    Returns
    -------
    cv : PerTaskShuffleSplit

    Examples
    --------
    >>> from rkhsmtl.model_selection import malsar_protocol
    >>> malsar_protocol(0.2).train_size
    0.2
    """
    if (isinstance(train_fraction, (bool, np.bool_, numbers.Integral))
            or not isinstance(train_fraction, numbers.Real)
            or not 0 < train_fraction < 1):
        raise ValueError(
            "The 'train_fraction' parameter must be a float in (0, 1); got "
            f"{train_fraction!r}."
        )
    return PerTaskShuffleSplit(n_splits, train_size=float(train_fraction),
                               random_state=random_state)
