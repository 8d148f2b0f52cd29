"""Tests of the cross-validated networks (rkhsmtl.neural._cv) and their use in compare."""
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

from rkhsmtl.metrics import roc_auc_score
from rkhsmtl.model_selection import TaskStratifiedKFold
from rkhsmtl.neural import (
    HardSharingNetClassifier,
    HardSharingNetClassifierCV,
    HardSharingNetRegressor,
    HardSharingNetRegressorCV,
)
from rkhsmtl.neural import _cv

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

GRID = {"weight_decay": [1e-4, 1.0], "hidden_layer_sizes": [(8,), (8, 2)],
        "max_epochs": [2, 8]}


_TINY = dict(hidden_layer_sizes=(16,), max_epochs=30, learning_rate=1e-2, random_state=0)
_FOLD_REASON = ("the search's folds of this tiny data leave a one-class fold in "
                "every candidate, which the search reports instead of the network's "
                "own message")


@parametrize_with_checks(
    [HardSharingNetRegressorCV(HardSharingNetRegressor(**_TINY), {"weight_decay": [1e-3]},
                               cv=2, random_state=0),
     HardSharingNetClassifierCV(HardSharingNetClassifier(**_TINY), {"weight_decay": [1e-3]},
                                cv=2, random_state=0)],
    expected_failed_checks=lambda est: (
        {"check_fit2d_1feature": _FOLD_REASON, "check_dtype_object": _FOLD_REASON}
        if isinstance(est, HardSharingNetClassifierCV) else {}),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _data(n_per_task=16, n_tasks=3, seed=0):
    rng = np.random.RandomState(seed)
    task = np.repeat(np.arange(n_tasks), n_per_task)
    X = rng.normal(size=(task.size, 2))
    y = np.sin(2 * X[:, 0]) + 0.5 * task + 0.1 * rng.normal(size=task.size)
    return X, y, task


def _base_regressor(**params):
    return HardSharingNetRegressor(learning_rate=1e-2, batch_size=32, early_stopping=False,
                                   random_state=0, **params)


@pytest.mark.parametrize("no_stop", [False, True])
def test_selects_the_best_cv_score_of_a_manual_loop(no_stop):
    # no_stop: every run reaches max_epochs, so the search trains each width x
    # decay once per fold and reads the shorter runs off its checkpoints; the
    # scores must equal those of separate fits
    X, y, task = _data()
    base = _base_regressor(n_iter_no_change=100 if no_stop else 3)
    search = HardSharingNetRegressorCV(base, GRID, cv=3, random_state=1)
    search.fit(X, y, task=task)
    assert (len(_cv._epoch_paths(base, search.cv_results_["params"])) == 4) == no_stop
    folds = list(TaskStratifiedKFold(3, shuffle=True, random_state=1).split(X, y, groups=task))
    manual = []
    for params in search.cv_results_["params"]:
        fold_scores = []
        for train, val in folds:
            model = clone(base).set_params(**params)
            model.fit(X[train], y[train], task=task[train])
            fold_scores.append(-np.mean((y[val] - model.predict(X[val], task=task[val])) ** 2))
        manual.append(np.mean(fold_scores))
    manual = np.array(manual)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual, rtol=1e-10)
    assert len(manual) == 8 and np.ptp(manual) > 0  # the grid points really differ
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(manual))]
    assert search.best_score_ == pytest.approx(manual.max())
    assert search.cv_results_["rank_test_score"][int(np.argmax(manual))] == 1
    assert search.n_splits_ == 3


def test_refit_equals_a_direct_fit_with_the_best_params():
    X, y, task = _data()
    search = HardSharingNetRegressorCV(_base_regressor(), GRID, cv=3, random_state=0)
    search.fit(X, y, task=task)
    direct = clone(_base_regressor()).set_params(**search.best_params_).fit(X, y, task=task)
    np.testing.assert_array_equal(search.predict(X, task=task), direct.predict(X, task=task))
    assert search.score(X, y, task=task) == pytest.approx(direct.score(X, y, task=task))


def test_deterministic_with_random_state_and_pickles():
    X, y, task = _data()
    # the default base network, its seed drawn from the search's random_state
    grid = {"weight_decay": [1e-3, 1e-1], "max_epochs": [4]}
    a = HardSharingNetRegressorCV(param_grid=grid, cv=2, random_state=3).fit(X, y, task=task)
    b = HardSharingNetRegressorCV(param_grid=grid, cv=2, random_state=3).fit(X, y, task=task)
    np.testing.assert_array_equal(a.cv_results_["mean_test_score"],
                                  b.cv_results_["mean_test_score"])
    np.testing.assert_array_equal(a.predict(X, task=task), b.predict(X, task=task))
    assert a.best_estimator_.activation == "tanh"  # the documented default base
    assert a.param_grid is grid and a.estimator is None  # parameters stored verbatim
    restored = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(restored.predict(X, task=task), a.predict(X, task=task))


def test_shared_inputs_with_a_2d_target():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    Y = np.column_stack([np.sin(X[:, 0]), np.cos(X[:, 1])])
    search = HardSharingNetRegressorCV(_base_regressor(), {"weight_decay": [1e-4, 1e-1],
                                                           "max_epochs": [5]},
                                       cv=2, random_state=0).fit(X, Y)
    assert search.predict(X).shape == (40, 2)


@pytest.mark.parametrize("layout", ["shared", "long"])
def test_r2_scoring_is_the_task_averaged_r2_of_a_manual_loop(layout):
    # scoring="r2": each fold's score is the uniform average of the per-task
    # R^2 (scikit-learn's r2_score on a 2-D Y; per task group in long format)
    from sklearn.metrics import r2_score
    from sklearn.model_selection import KFold

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    # task scales 1 and 30: the pooled MSE is the second task's alone
    Y = np.column_stack([np.sin(2 * X[:, 0]), 30 * np.cos(X[:, 1])])
    Y = Y + 0.1 * rng.normal(size=Y.shape)
    grid = {"weight_decay": [1e-4, 1e-1], "max_epochs": [3, 10]}
    if layout == "shared":
        args, folds = (X, Y), list(KFold(3, shuffle=True, random_state=2).split(X))
    else:
        task = np.repeat([0, 1], 60)
        Xl, yl = np.vstack([X, X]), Y.T.ravel()
        args = (Xl, yl, task)
        folds = list(TaskStratifiedKFold(3, shuffle=True, random_state=2)
                     .split(Xl, yl, groups=task))
    search = HardSharingNetRegressorCV(_base_regressor(), grid, cv=folds, scoring="r2")
    search.fit(*args)
    manual = []
    for params in search.cv_results_["params"]:
        fold_scores = []
        for train, val in folds:
            model = clone(_base_regressor()).set_params(**params)
            if layout == "shared":
                model.fit(X[train], Y[train])
                fold_scores.append(r2_score(Y[val], model.predict(X[val])))
            else:
                model.fit(Xl[train], yl[train], task=task[train])
                pred = model.predict(Xl[val], task=task[val])
                fold_scores.append(np.mean([r2_score(yl[val][task[val] == t],
                                                     pred[task[val] == t]) for t in (0, 1)]))
        manual.append(np.mean(fold_scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual, rtol=1e-10)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(manual))]
    mse = HardSharingNetRegressorCV(_base_regressor(), grid, cv=folds).fit(*args)
    # the two criteria really differ here (not just a rescaling)
    assert not np.allclose(mse.cv_results_["mean_test_score"], manual)


def test_task_mean_r2_skips_tasks_without_an_r2():
    y = np.array([1.0, 2.0, 3.0, 5.0, 5.0, 7.0])
    pred = np.array([1.0, 2.5, 3.0, 0.0, 0.0, 7.5])
    task = np.array([0, 0, 0, 1, 1, 2])  # task 1 constant, task 2 one row
    expected = 1 - 0.25 / 2.0
    assert _cv.task_mean_r2(y, pred, task) == pytest.approx(expected)
    assert np.isnan(_cv.task_mean_r2(y[3:5], pred[3:5], task[3:5]))
    Y = np.column_stack([y[:3], [1.0, np.nan, 2.0]])
    P = np.column_stack([pred[:3], [1.0, 0.0, 2.0]])
    assert _cv.task_mean_r2(Y, P, None) == pytest.approx((expected + 1.0) / 2)


def test_scoring_must_be_a_known_name():
    X, y, task = _data()
    with pytest.raises(ValueError, match="scoring"):
        HardSharingNetRegressorCV(_base_regressor(), {"max_epochs": [2]},
                                  scoring="accuracy").fit(X, y, task=task)


def test_classifier_selects_by_per_task_auc():
    rng = np.random.RandomState(0)
    task = np.repeat([0, 1], 40)
    X = rng.normal(size=(80, 2))
    y = (X[:, 0] + 0.3 * rng.normal(size=80) > 0).astype(int)
    base = HardSharingNetClassifier(hidden_layer_sizes=(8,), learning_rate=1e-2,
                                    early_stopping=False, random_state=0)
    grid = {"max_epochs": [1, 20]}
    search = HardSharingNetClassifierCV(base, grid, cv=2, random_state=0).fit(X, y, task=task)
    folds = list(TaskStratifiedKFold(2, shuffle=True, random_state=0).split(X, y, groups=task))
    manual = [np.mean([roc_auc_score(y[v], clone(base).set_params(**p).fit(
        X[t], y[t], task=task[t]).decision_function(X[v], task=task[v]), task[v])
        for t, v in folds]) for p in search.cv_results_["params"]]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], manual)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(manual))]
    assert search.predict_proba(X[:3], task=task[:3]).shape == (3, 2)
    np.testing.assert_array_equal(search.classes_, [0, 1])


def test_bad_input_names_the_parameter():
    X, y, task = _data()
    with pytest.raises(ValueError, match="param_grid"):
        HardSharingNetRegressorCV(param_grid={}).fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"param_grid\['weight_decay'\]"):
        HardSharingNetRegressorCV(param_grid={"weight_decay": []}).fit(X, y, task=task)
    with pytest.raises(ValueError, match="estimator"):
        HardSharingNetRegressorCV(HardSharingNetClassifier()).fit(X, y, task=task)
    with pytest.raises(ValueError, match="every candidate failed"):
        HardSharingNetRegressorCV(param_grid={"learning_rate": [1e30]}).fit(X, y * 1e30, task=task)


def test_compare_report_names_the_neural_selection(monkeypatch, tmp_path):
    from rkhsmtl.compare import Dataset, run_comparison, write_report

    # the default grid trains up to 1000 epochs: a tiny one keeps the test fast
    monkeypatch.setattr(_cv, "DEFAULT_PARAM_GRID",
                        {"weight_decay": [1e-3, 1e-1], "max_epochs": [3]})
    X, y, task = _data(n_per_task=16)
    data = Dataset("toy", "three sine tasks", "regression", X=X, y=y, task=task,
                   task_names=[0, 1, 2], test_size=0.5)
    result = run_comparison(data, ["neural"], n_splits=1)
    row = result.rows[0]
    assert row["error"] == "" and np.isfinite(row["fit_time_s"])
    assert "weight_decay=" in row["selected"] and "max_epochs=3" in row["selected"]
    write_report(result, tmp_path / "report.md", command_line="rkhsmtl compare")
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "**neural**" in report and "Selected: " in report and "weight_decay=" in report


def test_single_task_checkpoints_equal_separate_fits():
    X, y, task = _data(n_per_task=12, n_tasks=2)
    base = _base_regressor(hidden_layer_sizes=(4,), single_task=True, tol=0.0,
                           n_iter_no_change=100)
    search = HardSharingNetRegressorCV(base, {"max_epochs": [2, 6]}, cv=2,
                                       random_state=0).fit(X, y, task=task)
    folds = list(TaskStratifiedKFold(2, shuffle=True, random_state=0).split(X, y, groups=task))
    for c, params in enumerate(search.cv_results_["params"]):
        for k, (train, val) in enumerate(folds):
            model = clone(base).set_params(**params).fit(X[train], y[train], task=task[train])
            expected = -np.mean((y[val] - model.predict(X[val], task=task[val])) ** 2)
            assert search.cv_results_[f"split{k}_test_score"][c] == pytest.approx(
                expected, rel=1e-12)
