"""Tests of rkhsmtl.model_selection splitters."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from rkhsmtl.model_selection import (
    PerTaskShuffleSplit,
    TaskStratifiedKFold,
    landmine_protocol,
    malsar_protocol,
    multitask_train_test_split,
    sarcos_protocol,
    school_protocol,
)

SIZES = {"s1": 20, "s2": 7, "s3": 2, "s4": 1, "s5": 50}


def _data(sizes=SIZES, seed=0):
    rng = np.random.default_rng(seed)
    task = np.concatenate([[t] * n for t, n in sizes.items()])
    task = task[rng.permutation(task.shape[0])]
    X = rng.normal(size=(task.shape[0], 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + rng.normal(scale=0.1, size=task.shape[0])
    return X, y, task


def _counts(task, idx):
    labels, counts = np.unique(task[idx], return_counts=True)
    return dict(zip(labels.tolist(), counts.tolist()))


# --------------------------------------------------------------------------
# multitask_train_test_split
# --------------------------------------------------------------------------
def test_split_proportions_per_task():
    X, y, task = _data()
    out = multitask_train_test_split(X, y, task=task, test_size=0.25, random_state=0)
    X_tr, X_te, y_tr, y_te, t_tr, t_te = out
    # round half up, >= 1 train row, >= 1 test row when n_t >= 2
    expected_test = {"s1": 5, "s2": 2, "s3": 1, "s5": 13}
    expected_train = {"s1": 15, "s2": 5, "s3": 1, "s4": 1, "s5": 37}
    assert _counts(t_te, slice(None)) == expected_test
    assert _counts(t_tr, slice(None)) == expected_train
    assert X_tr.shape == (59, 3) and X_te.shape == (21, 3)
    assert y_tr.shape == (59,) and y_te.shape == (21,)


def test_split_no_overlap_full_coverage_and_alignment():
    X, y, task = _data()
    idx = np.arange(task.shape[0])
    i_tr, i_te, X_tr, X_te, t_tr, t_te = multitask_train_test_split(
        idx, X, task=task, random_state=1)
    assert np.intersect1d(i_tr, i_te).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([i_tr, i_te])), idx)
    np.testing.assert_array_equal(X_tr, X[i_tr])
    np.testing.assert_array_equal(t_te, task[i_te])


def test_split_deterministic():
    X, y, task = _data()
    a = multitask_train_test_split(X, task=task, random_state=3)
    b = multitask_train_test_split(X, task=task, random_state=3)
    c = multitask_train_test_split(X, task=task, random_state=4)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_split_int_train_size():
    X, y, task = _data({"a": 50, "b": 45, "c": 60})
    X_tr, X_te, t_tr, t_te = multitask_train_test_split(X, task=task, train_size=40,
                                                        random_state=0)
    assert _counts(t_tr, slice(None)) == {"a": 40, "b": 40, "c": 40}
    assert _counts(t_te, slice(None)) == {"a": 10, "b": 5, "c": 20}


def test_split_int_test_size_and_both_sizes():
    X, y, task = _data({"a": 10, "b": 12})
    _, _, t_tr, t_te = multitask_train_test_split(X, task=task, test_size=3,
                                                  random_state=0)
    assert _counts(t_te, slice(None)) == {"a": 3, "b": 3}
    assert _counts(t_tr, slice(None)) == {"a": 7, "b": 9}
    _, _, t_tr, t_te = multitask_train_test_split(X, task=task, train_size=0.5,
                                                  test_size=2, random_state=0)
    assert _counts(t_tr, slice(None)) == {"a": 5, "b": 6}
    assert _counts(t_te, slice(None)) == {"a": 2, "b": 2}


def test_split_float_train_size():
    X, y, task = _data({"a": 10, "b": 30})
    _, _, t_tr, t_te = multitask_train_test_split(X, task=task, train_size=0.3,
                                                  random_state=0)
    assert _counts(t_tr, slice(None)) == {"a": 3, "b": 9}
    assert _counts(t_te, slice(None)) == {"a": 7, "b": 21}


def test_split_pandas_and_lists():
    pd = pytest.importorskip("pandas")
    X, y, task = _data()
    df = pd.DataFrame(X)
    s = pd.Series(task, index=np.arange(task.shape[0]) + 100)
    X_tr, X_te, t_tr, t_te = multitask_train_test_split(df, task=s, random_state=0)
    assert isinstance(X_tr, pd.DataFrame) and isinstance(t_tr, pd.Series)
    assert len(X_tr) + len(X_te) == len(df)
    out = multitask_train_test_split(list(y), task=list(task), random_state=0)
    assert isinstance(out[0], list) and len(out[0]) == len(X_tr)


def test_split_only_task():
    _, _, task = _data()
    t_tr, t_te = multitask_train_test_split(task=task, random_state=0)
    assert len(t_tr) + len(t_te) == len(task)


def test_split_errors():
    X, y, task = _data({"a": 50, "b": 30})
    with pytest.raises(ValueError, match="Task 'b' has 30 rows, fewer than "
                                         "train_size=40"):
        multitask_train_test_split(X, task=task, train_size=40)
    with pytest.raises(ValueError, match="Task 'b' has 30 rows"):
        multitask_train_test_split(X, task=task, test_size=30)
    with pytest.raises(ValueError, match="Task 'b' has 30 rows, fewer than the 20 "
                                         "training plus 15 test"):
        multitask_train_test_split(X, task=task, train_size=20, test_size=0.5)
    with pytest.raises(ValueError, match="Array 0 and task.*79 and 80"):
        multitask_train_test_split(X[1:], task=task)
    with pytest.raises(ValueError, match="'test_size' parameter must be a float "
                                         r"in \(0, 1\).*got 1.5"):
        multitask_train_test_split(X, task=task, test_size=1.5)
    with pytest.raises(ValueError, match="'train_size' parameter must be an int "
                                         ">= 1.*got 0"):
        multitask_train_test_split(X, task=task, train_size=0)
    with pytest.raises(ValueError, match="sum of 'test_size' and 'train_size'"):
        multitask_train_test_split(X, task=task, train_size=0.8, test_size=0.3)
    with pytest.raises(ValueError, match="'task' parameter .* got None"):
        multitask_train_test_split(X, task=None)


# --------------------------------------------------------------------------
# PerTaskShuffleSplit and the protocols
# --------------------------------------------------------------------------
def test_per_task_shuffle_split_each_split_is_a_per_task_split():
    X, y, task = _data()
    cv = PerTaskShuffleSplit(n_splits=5, test_size=0.25, random_state=0)
    assert cv.get_n_splits() == 5
    splits = list(cv.split(X, y, groups=task))
    assert len(splits) == 5
    for train, test in splits:
        assert _counts(task, test) == {"s1": 5, "s2": 2, "s3": 1, "s5": 13}
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == task.size
    assert not np.array_equal(splits[0][1], splits[1][1])
    again = list(cv.split(X, y, groups=task))
    for (a, b), (c, d) in zip(splits, again):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_per_task_shuffle_split_pandas_groups():
    pd = pytest.importorskip("pandas")
    X, y, task = _data()
    cv = PerTaskShuffleSplit(n_splits=2, random_state=0)
    a = list(cv.split(X, groups=pd.Series(task)))
    b = list(cv.split(X, groups=task))
    np.testing.assert_array_equal(a[1][0], b[1][0])


def test_per_task_shuffle_split_errors():
    X, y, task = _data()
    with pytest.raises(ValueError, match="'groups' parameter"):
        next(PerTaskShuffleSplit().split(X, y))
    with pytest.raises(ValueError, match="X and groups.*80 and 79"):
        next(PerTaskShuffleSplit().split(X, y, groups=task[1:]))
    with pytest.raises(ValueError, match="'n_splits' parameter must be an int"):
        next(PerTaskShuffleSplit(n_splits=0).split(X, groups=task))


@pytest.mark.parametrize("cv", [
    PerTaskShuffleSplit(n_splits=3, random_state=0),
    TaskStratifiedKFold(n_splits=3, random_state=0),
], ids=["shuffle", "kfold"])
def test_cross_val_score(cv):
    X, y, task = _data({"a": 30, "b": 25, "c": 40})
    scores = cross_val_score(Ridge(), X, y, groups=task, cv=cv)
    assert scores.shape == (3,) and np.all(scores > 0.9)


def test_protocols():
    X, y, task = _data({"a": 60, "b": 45})
    cv = school_protocol()
    assert (cv.n_splits, cv.test_size, cv.random_state) == (10, 0.25, 0)
    train, test = next(cv.split(X, groups=task))
    assert _counts(task, test) == {"a": 15, "b": 11}

    for cv in (sarcos_protocol(30, n_splits=2), landmine_protocol(n_splits=2)):
        for train, test in cv.split(X, groups=task):
            n = cv.train_size
            assert _counts(task, train) == {"a": n, "b": n}
            assert _counts(task, test) == {"a": 60 - n, "b": 45 - n}
    assert landmine_protocol().train_size == 40

    cv = malsar_protocol(0.2, n_splits=3, random_state=1)
    assert cv.get_n_splits() == 3
    train, test = next(cv.split(X, groups=task))
    assert _counts(task, train) == {"a": 12, "b": 9}
    with pytest.raises(ValueError, match="'train_fraction' parameter"):
        malsar_protocol(20)
    with pytest.raises(ValueError, match="'n_train_per_task' parameter"):
        sarcos_protocol(0.5)


# --------------------------------------------------------------------------
# TaskStratifiedKFold
# --------------------------------------------------------------------------
def test_kfold_partition_and_task_proportions():
    X, y, task = _data({"a": 23, "b": 10, "c": 41})
    cv = TaskStratifiedKFold(n_splits=5, random_state=0)
    folds = list(cv.split(X, y, groups=task))
    assert len(folds) == cv.get_n_splits() == 5
    tests = np.concatenate([test for _, test in folds])
    np.testing.assert_array_equal(np.sort(tests), np.arange(task.size))
    for train, test in folds:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == task.size
    sizes = [test.size for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for t, n in {"a": 23, "b": 10, "c": 41}.items():
        per_fold = [int(np.sum(task[test] == t)) for _, test in folds]
        assert sum(per_fold) == n
        assert max(per_fold) - min(per_fold) <= 1


def test_kfold_deterministic_and_no_shuffle():
    X, y, task = _data({"a": 10, "b": 7})
    a = [t for _, t in TaskStratifiedKFold(3, random_state=2).split(X, groups=task)]
    b = [t for _, t in TaskStratifiedKFold(3, random_state=2).split(X, groups=task)]
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    task = np.repeat([0, 1], [4, 4])
    folds = [t.tolist() for _, t in
             TaskStratifiedKFold(2, shuffle=False).split(None, groups=task)]
    assert folds == [[0, 2, 4, 6], [1, 3, 5, 7]]


def test_kfold_small_tasks_warn_but_never_raise():
    X, y, task = _data({"big": 30, "small": 3, "single": 1})
    cv = TaskStratifiedKFold(n_splits=5, random_state=0)
    with pytest.warns(UserWarning, match="fewer rows than n_splits=5.*'small'") as rec:
        folds = list(cv.split(X, groups=task))
    assert "single row" in str(rec[0].message) and "'single'" in str(rec[0].message)
    small_folds = [np.sum(task[test] == "small") for _, test in folds]
    assert sorted(small_folds) == [0, 0, 1, 1, 1]
    for train, _ in folds:  # 'small' always keeps training rows
        assert np.sum(task[train] == "small") >= 2


def test_kfold_all_tasks_smaller_than_n_splits():
    task = np.array(["a", "a", "b", "b", "c", "c"])
    with pytest.warns(UserWarning):
        folds = list(TaskStratifiedKFold(n_splits=4, random_state=0).split(
            None, groups=task))
    assert all(test.size >= 1 for _, test in folds)


def test_kfold_no_warning_when_tasks_large_and_continuous_y():
    X, y, task = _data({"a": 10, "b": 12})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        list(TaskStratifiedKFold(5, random_state=0).split(X, y, groups=task))


def test_kfold_errors():
    task = np.array([0, 0, 1])
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of "
                                         "rows: 3"):
        next(TaskStratifiedKFold(5).split(None, groups=task))
    with pytest.raises(ValueError, match="'n_splits' parameter must be an int >= 2"):
        next(TaskStratifiedKFold(1).split(None, groups=task))
    with pytest.raises(ValueError, match="'groups' parameter"):
        next(TaskStratifiedKFold(2).split(np.zeros((3, 1))))
