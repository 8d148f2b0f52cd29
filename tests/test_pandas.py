"""pandas audit: a DataFrame with a task column works in every exported estimator.

For each estimator exported by ``rkhsmtl``, ``rkhsmtl.neural`` and
``rkhsmtl.linear``, fitting on a DataFrame that holds the task labels in a
column (``fit(df, y, task="school")``, or ``task_column="school"``) must give
the same predictions as the numpy path ``fit(X, y, task=labels)``, and must
leave the DataFrame unchanged.
"""
import inspect

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import BaseEstimator, is_classifier

import rkhsmtl
import rkhsmtl.linear
import rkhsmtl.neural

pd = pytest.importorskip("pandas")

# Small, fast settings per estimator; anything not listed is built with its
# defaults (so estimators exported later are audited too).
FAST_PARAMS = {
    "MultiTaskKernelRidge": {"alpha": 0.1},
    "MultiTaskKernelRidgeCV": {"alphas": [0.1, 1.0], "cv": 2},
    "MultiTaskKernelClassifier": {"alpha": 0.1},
    "HardSharingNetRegressor": {"hidden_layer_sizes": (8,), "max_epochs": 5,
                                "early_stopping": False, "random_state": 0},
    "HardSharingNetClassifier": {"hidden_layer_sizes": (8,), "max_epochs": 5,
                                 "early_stopping": False, "random_state": 0},
    "HardSharingNetRegressorCV": {
        "estimator": rkhsmtl.neural.HardSharingNetRegressor(
            hidden_layer_sizes=(8,), max_epochs=5, early_stopping=False),
        "param_grid": {"weight_decay": [1e-3, 1e-1]}, "cv": 2, "random_state": 0},
    "HardSharingNetClassifierCV": {
        "estimator": rkhsmtl.neural.HardSharingNetClassifier(
            hidden_layer_sizes=(8,), max_epochs=5, early_stopping=False),
        "param_grid": {"weight_decay": [1e-3, 1e-1]}, "cv": 2, "random_state": 0},
    "LinearMultiTaskRegressor": {"lambda1": 0.01, "max_iter": 200},
    "LinearMultiTaskClassifier": {"lambda1": 0.01, "max_iter": 200},
    "LinearMultiTaskRegressorCV": {"n_lambdas": 3, "cv": 2, "max_iter": 200},
    "LinearMultiTaskClassifierCV": {"n_lambdas": 3, "cv": 2, "max_iter": 200},
}

# Cases known to fail the audit: (estimator name, case) -> reason, strict so
# that a fix shows up as an XPASS to remove from here.
KNOWN_FAILURES = {}


def _exported_estimators():
    found = {}
    for module in (rkhsmtl, rkhsmtl.neural, rkhsmtl.linear):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
                found[name] = obj
    return [found[name] for name in sorted(found)]


def _cases(case):
    for cls in _exported_estimators():
        marks = ()
        reason = KNOWN_FAILURES.get((cls.__name__, case))
        if reason is not None:
            marks = pytest.mark.xfail(strict=True, reason=reason)
        yield pytest.param(cls, id=cls.__name__, marks=marks)


def _data(classification):
    rng = np.random.RandomState(0)
    labels = np.repeat(np.array(["s1", "s2", "s3"]), 30)
    X = rng.randn(90, 2)
    if classification:
        # Alternating classes inside every task: both classes in every task and
        # in every fold.
        y = np.tile([0, 1], 45)
        X[:, 0] += 1.5 * y
    else:
        y = np.sin(X[:, 0]) + 0.5 * X[:, 1] + np.repeat([0.0, 0.5, -0.5], 30)
    df = pd.DataFrame({"x0": X[:, 0], "school": labels, "x1": X[:, 1]})
    return X, y, labels, df


def _build(cls, **extra):
    params = dict(FAST_PARAMS.get(cls.__name__, {}))
    params.update(extra)
    return cls(**params)


def _outputs(model, X, task):
    """Every prediction of a fitted model, each row for its own task."""
    out = {"predict": np.asarray(model.predict(X, task=task), dtype=float)}
    for method in ("decision_function", "predict_proba"):
        if hasattr(model, method):
            out[method] = np.asarray(getattr(model, method)(X, task=task), dtype=float)
    return out


def _outputs_task_column(model, df):
    out = {"predict": np.asarray(model.predict(df), dtype=float)}
    for method in ("decision_function", "predict_proba"):
        if hasattr(model, method):
            out[method] = np.asarray(getattr(model, method)(df), dtype=float)
    return out


def _check_same(got, expected):
    assert set(got) == set(expected)
    for key in expected:
        assert_allclose(got[key], expected[key], rtol=1e-10, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("cls", list(_cases("task_argument")))
def test_task_argument_names_the_column(cls):
    X, y, labels, df = _data(is_classifier(_build(cls)))
    before = df.copy()
    reference = _build(cls).fit(X, y, task=labels)
    model = _build(cls).fit(df, y, task="school")
    assert list(model.tasks_) == ["s1", "s2", "s3"]
    _check_same(_outputs(model, df, "school"), _outputs(reference, X, labels))
    pd.testing.assert_frame_equal(df, before)  # input left unchanged


@pytest.mark.parametrize("cls", list(_cases("task_column")))
def test_task_column_parameter(cls):
    X, y, labels, df = _data(is_classifier(_build(cls)))
    before = df.copy()
    reference = _build(cls).fit(X, y, task=labels)
    model = _build(cls, task_column="school").fit(df, y)
    assert list(model.tasks_) == ["s1", "s2", "s3"]
    _check_same(_outputs_task_column(model, df), _outputs(reference, X, labels))
    pd.testing.assert_frame_equal(df, before)


@pytest.mark.parametrize("cls", list(_cases("all_tasks")))
def test_predict_every_task_from_dataframe(cls):
    # After fit(df, y, task="school"), the features alone predict every task,
    # as predict(X) does in the numpy path.
    X, y, labels, df = _data(is_classifier(_build(cls)))
    reference = _build(cls).fit(X, y, task=labels)
    model = _build(cls).fit(df, y, task="school")
    assert_allclose(np.asarray(model.predict(df.drop(columns="school")), dtype=float),
                    np.asarray(reference.predict(X), dtype=float),
                    rtol=1e-10, atol=1e-12)


# A DataFrame Y names the tasks by its columns: repeated names would make two
# tasks share one label (regressors) or merge them (distribution matching).
def _duplicate_column_estimators():
    from rkhsmtl.weighting import DistributionMatchingClassifier, DistributionMatchingRegressor

    fast_net = FAST_PARAMS["HardSharingNetRegressor"]
    return [
        pytest.param(rkhsmtl.MultiTaskKernelRidge, {}, False, id="ridge"),
        pytest.param(rkhsmtl.MultiTaskKernelRidgeCV, {"alphas": [1.0]}, False, id="ridge-cv"),
        pytest.param(rkhsmtl.neural.HardSharingNetRegressor, fast_net, False, id="net"),
        pytest.param(DistributionMatchingRegressor, {}, False, id="dm-regressor"),
        pytest.param(DistributionMatchingClassifier, {}, True, id="dm-classifier"),
        pytest.param(rkhsmtl.MultiTaskKernelClassifier, {}, True, id="classifier"),
    ]


@pytest.mark.parametrize("cls, params, classification", _duplicate_column_estimators())
def test_duplicate_task_columns_in_y_are_refused(cls, params, classification):
    X, y, _, _ = _data(classification)
    columns = np.c_[y, y, y][:30]
    Y = pd.DataFrame(columns, columns=["a", "b", "a"])
    before = Y.copy()
    with pytest.raises(ValueError, match=r"\['a'\] appear more than once.*Rename or drop"):
        cls(**params).fit(X[:30], Y)
    pd.testing.assert_frame_equal(Y, before)


def test_dataframe_y_keeps_task_names_in_distribution_matching_classifier():
    from rkhsmtl.weighting import DistributionMatchingClassifier

    X, y, _, _ = _data(True)
    Y = pd.DataFrame({"left": y[:40], "right": 1 - y[:40]})
    model = DistributionMatchingClassifier().fit(X[:40], Y)
    assert list(model.tasks_) == ["left", "right"]
