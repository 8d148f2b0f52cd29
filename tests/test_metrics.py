"""Tests of rkhsmtl.metrics against scikit-learn, task by task."""
import warnings

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from rkhsmtl import metrics as mtm

LABELS = np.array(["a", "b", "c"])


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    task = rng.choice(LABELS, size=60, p=[0.5, 0.3, 0.2])
    y = rng.normal(size=60) + (task == "b") * 3.0
    p = y + rng.normal(scale=0.5, size=60)
    w = rng.uniform(0.1, 2.0, size=60)
    return y, p, task, w


@pytest.fixture
def classification_data():
    rng = np.random.default_rng(1)
    task = rng.integers(0, 3, size=90)
    y = rng.integers(0, 2, size=90)
    score = y + rng.normal(scale=0.8, size=90)
    w = rng.uniform(0.1, 2.0, size=90)
    return y, score, task, w


def _nmse_ref(y, p, w=None):
    var = np.average((y - np.average(y, weights=w)) ** 2, weights=w)
    return skm.mean_squared_error(y, p, sample_weight=w) / var


REG_REFERENCES = {
    mtm.mean_squared_error: lambda y, p, w=None: skm.mean_squared_error(
        y, p, sample_weight=w),
    mtm.normalized_mean_squared_error: _nmse_ref,
    mtm.explained_variance: lambda y, p, w=None: 1.0 - _nmse_ref(y, p, w),
    mtm.r2_score: lambda y, p, w=None: skm.r2_score(y, p, sample_weight=w),
}
CLF_REFERENCES = {
    mtm.accuracy_score: lambda y, s, w=None: skm.accuracy_score(
        y, s > 0.5, sample_weight=w),
    mtm.roc_auc_score: lambda y, s, w=None: skm.roc_auc_score(y, s, sample_weight=w),
}


def _clf_pred(metric, score):
    return (score > 0.5).astype(int) if metric is mtm.accuracy_score else score


def _per_task_reference(ref, y, p, task, w=None):
    return np.array([
        ref(y[task == t], p[task == t], None if w is None else w[task == t])
        for t in np.unique(task)
    ])


# --------------------------------------------------------------------------
# Per-task values equal scikit-learn on each task's rows
# --------------------------------------------------------------------------
@pytest.mark.parametrize("metric", list(REG_REFERENCES), ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_per_task_matches_sklearn(metric, weighted, regression_data):
    y, p, task, w = regression_data
    w = w if weighted else None
    got = metric(y, p, task=task, sample_weight=w, average=None)
    expected = _per_task_reference(REG_REFERENCES[metric], y, p, task, w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("metric", list(CLF_REFERENCES), ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_classification_per_task_matches_sklearn(metric, weighted,
                                                 classification_data):
    y, score, task, w = classification_data
    w = w if weighted else None
    got = metric(y, _clf_pred(metric, score), task=task, sample_weight=w,
                 average=None)
    expected = _per_task_reference(CLF_REFERENCES[metric], y, score, task, w)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_per_task_order_is_sorted_labels(regression_data):
    y, p, task, _ = regression_data
    got = mtm.mean_squared_error(y, p, task=task, average=None)
    first = skm.mean_squared_error(y[task == "a"], p[task == "a"])
    assert got.shape == (3,)
    assert got[0] == pytest.approx(first)


def test_single_task_without_task_labels(regression_data):
    y, p, _, _ = regression_data
    assert mtm.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))
    np.testing.assert_allclose(mtm.mean_squared_error(y, p, average=None),
                               [skm.mean_squared_error(y, p)])


def test_pandas_task_labels(regression_data):
    pd = pytest.importorskip("pandas")
    y, p, task, _ = regression_data
    got = mtm.mean_squared_error(pd.Series(y), pd.Series(p), task=pd.Series(task),
                                 average=None)
    np.testing.assert_allclose(got, mtm.mean_squared_error(y, p, task=task,
                                                           average=None))


# --------------------------------------------------------------------------
# Averages computed by hand
# --------------------------------------------------------------------------
@pytest.mark.parametrize("metric", list(REG_REFERENCES) + list(CLF_REFERENCES),
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("weighted", [False, True])
def test_uniform_and_weighted_averages(metric, weighted, regression_data,
                                       classification_data):
    if metric in CLF_REFERENCES:
        y, score, task, w = classification_data
        p = _clf_pred(metric, score)
    else:
        y, p, task, w = regression_data
    w = w if weighted else None
    per_task = metric(y, p, task=task, sample_weight=w, average=None)
    sizes = np.array([(task == t).sum() if w is None else w[task == t].sum()
                      for t in np.unique(task)])
    assert metric(y, p, task=task, sample_weight=w) == pytest.approx(
        per_task.mean())
    assert metric(y, p, task=task, sample_weight=w, average="weighted") == \
        pytest.approx(np.sum(per_task * sizes) / np.sum(sizes))


@pytest.mark.parametrize("weighted", [False, True])
def test_pooled_averages(weighted, regression_data):
    y, p, task, w = regression_data
    w = w if weighted else None
    mse = np.average((y - p) ** 2, weights=w)
    var = np.average((y - np.average(y, weights=w)) ** 2, weights=w)
    kw = dict(task=task, sample_weight=w, average="pooled")
    assert mtm.mean_squared_error(y, p, **kw) == pytest.approx(mse)
    assert mtm.normalized_mean_squared_error(y, p, **kw) == pytest.approx(mse / var)
    assert mtm.explained_variance(y, p, **kw) == pytest.approx(1 - mse / var)
    assert mtm.r2_score(y, p, **kw) == pytest.approx(
        skm.r2_score(y, p, sample_weight=w))


def test_explained_variance_is_not_sklearn_definition():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    p = y + 1.0  # constant offset: residual variance 0, MSE 1
    assert skm.explained_variance_score(y, p) == pytest.approx(1.0)
    assert mtm.explained_variance(y, p) == pytest.approx(1 - 1 / 1.25)


# --------------------------------------------------------------------------
# Wide layout
# --------------------------------------------------------------------------
def _wide_with_nans():
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(30, 4))
    P = Y + rng.normal(scale=0.3, size=Y.shape)
    Y[rng.random(Y.shape) < 0.25] = np.nan
    w = rng.uniform(0.5, 1.5, size=30)
    rows, cols = np.nonzero(~np.isnan(Y))
    return Y, P, w, (Y[rows, cols], P[rows, cols], cols, w[rows])


@pytest.mark.parametrize("metric", list(REG_REFERENCES), ids=lambda f: f.__name__)
@pytest.mark.parametrize("average", [None, "uniform", "weighted", "pooled"])
@pytest.mark.parametrize("weighted", [False, True])
def test_wide_with_nans_equals_long(metric, average, weighted):
    Y, P, w, (y, p, task, w_long) = _wide_with_nans()
    wide = metric(Y, P, sample_weight=w if weighted else None, average=average)
    long = metric(y, p, task=task, sample_weight=w_long if weighted else None,
                  average=average)
    np.testing.assert_allclose(wide, long, rtol=1e-12)


def test_wide_classification_with_nans():
    rng = np.random.default_rng(3)
    Y = rng.choice([-1.0, 1.0], size=(40, 3))
    S = Y + rng.normal(size=Y.shape)
    Y[rng.random(Y.shape) < 0.2] = np.nan
    got = mtm.roc_auc_score(Y, S, average=None)
    for j in range(3):
        m = ~np.isnan(Y[:, j])
        assert got[j] == pytest.approx(skm.roc_auc_score(Y[m, j], S[m, j]))
    acc = mtm.accuracy_score(Y, np.sign(S), average=None)
    m = ~np.isnan(Y[:, 1])
    assert acc[1] == pytest.approx(skm.accuracy_score(Y[m, 1], np.sign(S[m, 1])))


def test_wide_empty_column_is_nan_with_warning():
    Y = np.array([[1.0, np.nan], [2.0, np.nan], [4.0, np.nan]])
    P = np.zeros_like(Y)
    with pytest.warns(UndefinedMetricWarning, match="task 1"):
        got = mtm.mean_squared_error(Y, P, average=None)
    assert np.isnan(got[1])
    with pytest.warns(UndefinedMetricWarning):
        assert mtm.mean_squared_error(Y, P) == pytest.approx(got[0])


# --------------------------------------------------------------------------
# Undefined values: NaN + warning, left out of the averages
# --------------------------------------------------------------------------
def test_roc_auc_single_class_task_is_nan_and_skipped():
    y = np.array([0, 1, 0, 1, 1, 1, 1])
    s = np.array([0.1, 0.9, 0.4, 0.3, 0.8, 0.2, 0.7])
    task = np.array(["x", "x", "y", "y", "z", "z", "z"])
    with pytest.warns(UserWarning, match="task 'z'"):
        per_task = mtm.roc_auc_score(y, s, task=task, average=None)
    assert np.isnan(per_task[2])
    np.testing.assert_allclose(per_task[:2], [1.0, 0.0])
    with pytest.warns(UserWarning, match="single class"):
        assert mtm.roc_auc_score(y, s, task=task) == pytest.approx(0.5)
    with pytest.warns(UserWarning):
        assert mtm.roc_auc_score(y, s, task=task, average="weighted") == \
            pytest.approx(0.5)


@pytest.mark.parametrize("metric", [mtm.normalized_mean_squared_error,
                                    mtm.explained_variance, mtm.r2_score])
def test_variance_metrics_single_row_task(metric):
    y = np.array([1.0, 2.0, 3.0, 5.0])
    p = np.array([1.5, 2.0, 2.5, 4.0])
    task = np.array([0, 0, 0, 7])
    with pytest.warns(UndefinedMetricWarning, match="task 7.*1 rows"):
        got = metric(y, p, task=task, average=None)
    assert np.isnan(got[1]) and np.isfinite(got[0])
    with pytest.warns(UndefinedMetricWarning):
        assert metric(y, p, task=task) == pytest.approx(got[0])


def test_constant_targets():
    y = np.array([2.0, 2.0, 1.0, 3.0])
    p = np.array([2.0, 2.5, 1.0, 3.5])
    task = np.array([0, 0, 1, 1])
    with pytest.warns(UndefinedMetricWarning, match="constant"):
        assert np.isnan(mtm.normalized_mean_squared_error(y, p, task=task,
                                                          average=None)[0])
    # r2 follows scikit-learn's finite convention for constant targets
    np.testing.assert_allclose(mtm.r2_score(y, p, task=task, average=None)[0],
                               skm.r2_score(y[:2], p[:2]))


def test_all_tasks_undefined_gives_nan():
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(mtm.r2_score([1.0, 2.0], [1.0, 2.0], task=[0, 1]))


def test_no_warning_when_defined(regression_data):
    y, p, task, _ = regression_data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mtm.per_task_scores(y, p, task=task)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------
def test_mismatched_lengths():
    with pytest.raises(ValueError, match="y_true and y_pred.*5 and 4"):
        mtm.mean_squared_error(np.zeros(5), np.zeros(4))
    with pytest.raises(ValueError, match="y_true and task.*5 and 3"):
        mtm.mean_squared_error(np.zeros(5), np.zeros(5), task=[0, 1, 2])
    with pytest.raises(ValueError, match="sample_weight.*5 and 2"):
        mtm.mean_squared_error(np.zeros(5), np.zeros(5), sample_weight=[1, 2])
    with pytest.raises(ValueError, match=r"same shape.*\(3, 2\) and \(3, 3\)"):
        mtm.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 3)))


def test_invalid_average():
    with pytest.raises(ValueError, match="'average' parameter of r2_score must be "
                                         "one of.*'pooled'.*got 'foo'"):
        mtm.r2_score([1.0, 2.0], [1.0, 2.0], average="foo")
    with pytest.raises(ValueError, match="'average' parameter of accuracy_score"):
        mtm.accuracy_score([1, 0], [1, 0], average="pooled")


def test_task_with_wide_layout_and_bad_shapes():
    with pytest.raises(ValueError, match="'task' must be None"):
        mtm.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 2)), task=[0, 1, 2])
    with pytest.raises(ValueError, match="1-D .* or 2-D"):
        mtm.mean_squared_error(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="y_pred must be 1-D"):
        mtm.mean_squared_error(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="NaN"):
        mtm.mean_squared_error(np.zeros((2, 2)), np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="non-negative"):
        mtm.mean_squared_error(np.zeros(2), np.zeros(2), sample_weight=[1, -1])


# --------------------------------------------------------------------------
# per_task_scores
# --------------------------------------------------------------------------
def test_per_task_scores(regression_data):
    y, p, task, w = regression_data
    scores = mtm.per_task_scores(y, p, task=task, sample_weight=w,
                                 metrics=("mse", "r2", mtm.explained_variance))
    assert list(scores) == ["task", "n_samples", "mse", "r2", "explained_variance"]
    np.testing.assert_array_equal(scores["task"], LABELS)
    np.testing.assert_array_equal(scores["n_samples"],
                                  [(task == t).sum() for t in LABELS])
    np.testing.assert_allclose(
        scores["r2"], mtm.r2_score(y, p, task=task, sample_weight=w, average=None))
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(scores).shape == (3, 5)


def test_per_task_scores_default_and_errors():
    Y, P, _, _ = _wide_with_nans()
    scores = mtm.per_task_scores(Y, P)
    assert set(scores) == {"task", "n_samples", "mse", "nmse",
                           "explained_variance", "r2"}
    np.testing.assert_array_equal(scores["n_samples"], (~np.isnan(Y)).sum(0))
    with pytest.raises(ValueError, match="'metrics'.*got 'bogus'"):
        mtm.per_task_scores(Y, P, metrics=("bogus",))


def test_mixed_label_types_do_not_crash():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    task = np.array([1, "a", 1, "a"], dtype=object)
    got = mtm.mean_squared_error(y, y + 1, task=task, average=None)
    np.testing.assert_allclose(got, [1.0, 1.0])
