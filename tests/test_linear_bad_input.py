"""Bad input to the linear multi-task estimators: one clear error (naming the
parameter, what was received and the fix) or the documented behaviour, never a
silent wrong answer."""
import warnings

import numpy as np
import pytest
from sklearn.model_selection import KFold

from rkhsmtl.linear import (
    LinearMultiTaskClassifier,
    LinearMultiTaskClassifierCV,
    LinearMultiTaskRegressor,
    LinearMultiTaskRegressorCV,
    regularization_path,
)


@pytest.fixture
def shared():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    Y = X @ rng.normal(size=(4, 3)) + 0.1 * rng.normal(size=(40, 3))
    return X, Y


# -- 1. non-finite lambda grids ----------------------------------------------
CV_ESTIMATORS = [LinearMultiTaskRegressorCV, LinearMultiTaskClassifierCV]


@pytest.mark.parametrize("Est", CV_ESTIMATORS)
@pytest.mark.parametrize("param, value", [
    ("lambdas", [np.nan]), ("lambdas", [np.inf]), ("lambdas", [0.1, -np.inf]),
    ("lambda2s", [np.nan]), ("lambda2s", [0.0, np.inf]),
])
def test_cv_nonfinite_grid_refused(shared, Est, param, value):
    X, Y = shared
    Y = Y if Est is LinearMultiTaskRegressorCV else (Y > 0).astype(float)
    params = {"lambdas": [0.1], param: value}
    bad = [v for v in value if not np.isfinite(v)][0]
    with pytest.raises(ValueError, match=rf"'{param}' parameter must hold finite "
                       rf"values; got {bad!r}.*Remove the NaN/inf"):
        Est(**params).fit(X, Y)


@pytest.mark.parametrize("param", ["lambdas", "lambda2s"])
def test_cv_empty_grid_refused(shared, param):
    X, Y = shared
    with pytest.raises(ValueError, match=rf"'{param}' parameter must hold at least"):
        LinearMultiTaskRegressorCV(**{"lambdas": [0.1], param: []}).fit(X, Y)


@pytest.mark.parametrize("value", [[np.nan], [1.0, np.inf], [np.nan, 0.5]])
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_regularization_path_nonfinite_lambdas_refused(shared, value, loss):
    X, Y = shared
    Y = Y if loss == "squared" else (Y > 0).astype(float)
    with pytest.raises(ValueError, match="'lambdas' parameter must hold finite"):
        regularization_path(X, Y, lambdas=value, loss=loss)


def test_finite_grid_still_works(shared):
    X, Y = shared
    cv = LinearMultiTaskRegressorCV(lambdas=[0.3, 0.01], lambda2s=[0.0, 0.1],
                                    cv=3).fit(X, Y)
    assert np.isfinite(cv.lambda1_) and np.isfinite(cv.best_score_)


# -- 2. a task with few observations in the CV -------------------------------
@pytest.mark.parametrize("cv", [2, 3, 5])
@pytest.mark.parametrize("rows", [[0, 1], [38, 39], [10, 25]])
def test_cv_shared_rare_task_kept_in_every_training_fold(shared, cv, rows):
    # The plain estimator fits a column observed on two rows; so must the CV,
    # wherever those two rows lie (KFold alone would put both in one fold).
    X, Y = shared
    Y = Y.copy()
    Y[:, 2] = np.nan
    Y[rows, 2] = [1.0, -1.0]
    LinearMultiTaskRegressor(lambda1=0.1).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        est = LinearMultiTaskRegressorCV(n_lambdas=3, cv=cv).fit(X, Y)
    assert np.isfinite(est.lambda1_) and np.isfinite(est.best_score_)


def test_cv_shared_complete_keeps_plain_kfold(shared):
    # Complete Y: the folds are scikit-learn's KFold, as before.
    X, Y = shared
    a = LinearMultiTaskRegressorCV(lambdas=[0.3, 0.01], cv=4).fit(X, Y)
    b = LinearMultiTaskRegressorCV(lambdas=[0.3, 0.01], cv=KFold(4)).fit(X, Y)
    np.testing.assert_allclose(a.cv_results_["mean_test_score"],
                               b.cv_results_["mean_test_score"])


def test_cv_heterogeneous_two_row_task_fits():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    y = rng.normal(size=40)
    task = np.r_[np.zeros(19), np.ones(19), [2, 2]]
    LinearMultiTaskRegressor().fit(X, y, task=task)
    for cv in (2, 5):
        est = LinearMultiTaskRegressorCV(n_lambdas=3, cv=cv).fit(X, y, task=task)
        assert np.isfinite(est.lambda1_)


def test_cv_splitter_losing_a_task_gives_clear_error():
    # A user splitter that leaves a task out of a training fold: one clear
    # error before fitting, naming the task, its row count and the fix.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4))
    y = rng.normal(size=40)
    task = np.r_[np.zeros(19), np.ones(19), [2, 2]]
    with pytest.raises(ValueError, match=r"Task 2.* has 2 observed row\(s\), and "
                       r"training fold 3 of cv=KFold.*holds none.*at least 2 "
                       r"observed rows.*TaskStratifiedKFold"):
        LinearMultiTaskRegressorCV(n_lambdas=3, cv=KFold(4)).fit(X, y, task=task)


def test_cv_zero_weight_rows_do_not_count_as_observations(shared):
    X, Y = shared
    Y = Y.copy()
    Y[:, 2] = np.nan
    Y[[0, 1, 2], 2] = [1.0, -1.0, 0.5]
    sw = np.ones(len(X))
    sw[2] = 0.0
    est = LinearMultiTaskRegressorCV(n_lambdas=3, cv=3).fit(X, Y, sample_weight=sw)
    assert np.isfinite(est.lambda1_)


# -- 3. NaN-missing labels in the linear classifiers -------------------------
def _labels(Y, missing):
    Yc = (Y > 0).astype(float)
    for i, t in missing:
        Yc[i, t] = np.nan
    return Yc


def test_classifier_accepts_nan_missing_labels(shared):
    X, Y = shared
    missing = [(0, 0), (5, 2), (7, 1)]
    Yc = _labels(Y, missing)
    clf = LinearMultiTaskClassifier(lambda1=0.01).fit(X, Yc)
    np.testing.assert_array_equal(clf.classes_, [0.0, 1.0])
    assert np.all(np.isfinite(clf.coef_))
    # The value under a NaN never matters: filling it with either class
    # changes the fit, leaving it missing gives a third, different fit.
    Y0, Y1 = Yc.copy(), Yc.copy()
    for i, t in missing:
        Y0[i, t], Y1[i, t] = 0.0, 1.0
    kw = dict(lambda1=0.01, tol=1e-10, max_iter=5000)
    a = LinearMultiTaskClassifier(**kw).fit(X, Yc).coef_
    b = LinearMultiTaskClassifier(**kw).fit(X, Y0).coef_
    c = LinearMultiTaskClassifier(**kw).fit(X, Y1).coef_
    assert not np.allclose(b, c)
    assert not np.allclose(a, b) and not np.allclose(a, c)  # ... and are left out


def test_classifier_missing_labels_equal_dropping_rows_single_task(shared):
    # One task: a NaN label is exactly the row removed.
    X, Y = shared
    y = (Y[:, :1] > 0).astype(float)
    y2 = np.c_[y, y]
    y2[[3, 8], 1] = np.nan
    keep = np.setdiff1d(np.arange(len(X)), [3, 8])
    kw = dict(penalty="lasso", lambda1=0.01, tol=1e-12, max_iter=20000,
              task_weighting="uniform")
    both = LinearMultiTaskClassifier(**kw).fit(X, y2)
    alone = LinearMultiTaskClassifier(**kw).fit(X[keep], y[keep, 0])
    np.testing.assert_allclose(both.coef_[:, 1], alone.coef_[:, 0], rtol=1e-4,
                               atol=1e-5)


def test_classifier_cv_accepts_nan_missing_labels(shared):
    X, Y = shared
    Yc = _labels(Y, [(0, 0), (5, 2), (7, 1)])
    clf = LinearMultiTaskClassifierCV(n_lambdas=3, cv=3).fit(X, Yc)
    assert np.isfinite(clf.best_score_)
    assert np.all(np.isfinite(clf.cv_results_["mean_test_score"]))


def test_classifier_all_missing_column_refused(shared):
    X, Y = shared
    Yc = (Y > 0).astype(float)
    Yc[:, 1] = np.nan
    with pytest.raises(ValueError, match="no observed value"):
        LinearMultiTaskClassifier().fit(X, Yc)


def test_classifier_nan_in_1d_labels_refused(shared):
    X, Y = shared
    y = (Y[:, 0] > 0).astype(float)
    y[0] = np.nan
    task = np.repeat([0, 1], 20)
    with pytest.raises(ValueError, match="NaN"):
        LinearMultiTaskClassifier().fit(X, y, task=task)


def test_classifier_score_skips_missing_labels(shared):
    X, Y = shared
    missing = [(0, 0), (5, 2), (7, 1)]
    Yc = _labels(Y, missing)
    clf = LinearMultiTaskClassifier(lambda1=0.01).fit(X, Yc)
    pred = clf.predict(X)
    observed = ~np.isnan(Yc)
    expected = np.mean(pred[observed] == Yc[observed])
    assert clf.score(X, Yc) == pytest.approx(expected)
    # A NaN is never counted as a wrong (or right) prediction.
    Yf = Yc.copy()
    for i, t in missing:
        Yf[i, t] = pred[i, t]
    assert clf.score(X, Yc) != pytest.approx(clf.score(X, Yf))
    sw = np.linspace(0.5, 2.0, len(X))
    w = sw[:, None] * observed
    expected_w = np.sum(w * (pred == Yc)) / w.sum()
    assert clf.score(X, Yc, sample_weight=sw) == pytest.approx(expected_w)


def test_classifier_score_all_missing_or_1d_nan_refused(shared):
    X, Y = shared
    clf = LinearMultiTaskClassifier(lambda1=0.01).fit(X, (Y > 0).astype(float))
    with pytest.raises(ValueError, match="no observed label"):
        clf.score(X, np.full(Y.shape, np.nan))
    task = np.repeat([0, 1, 2], [14, 13, 13])
    y = (Y[np.arange(40), task] > 0).astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="NaN label marks a missing entry only"):
        clf.score(X, y, task=task)


def test_classifier_score_wrong_shape_clear(shared):
    X, Y = shared
    clf = LinearMultiTaskClassifier(lambda1=0.01).fit(X, (Y > 0).astype(float))
    with pytest.raises(ValueError, match=r"y has 40 entries but the model predicts "
                       r"120.*pass task="):
        clf.score(X, (Y[:, 0] > 0).astype(float))


def test_non_finite_default_lambda_grid_names_the_scale():
    import warnings

    from rkhsmtl.linear import regularization_path

    rng = np.random.RandomState(0)
    X, y, t = rng.randn(30, 3), rng.randn(30) * 1e307, np.arange(30) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="largest useful lambda1.*Standardize X"):
            regularization_path(X, y, t, penalty="l21", n_lambdas=3, fit_intercept=False)
