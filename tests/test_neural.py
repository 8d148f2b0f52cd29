"""Tests of the hard-parameter-sharing networks (rkhsmtl.neural)."""
import doctest
import pickle

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from rkhsmtl.neural import HardSharingNetClassifier, HardSharingNetRegressor
from rkhsmtl.neural import _balancing, _base, _classifier, _regressor
from rkhsmtl.neural._balancing import _objective_and_gradient, flatten, pcgrad_combine
from rkhsmtl.neural._network import NetworkSpec, init_params

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_SAMPLE_WEIGHT_REASON = (
    "mini-batch Adam with shuffling: a weight of 2 scales a row's gradient, which "
    "is not the same optimization path as seeing the row twice (as for MLPRegressor)"
)


@parametrize_with_checks(
    [HardSharingNetRegressor(hidden_layer_sizes=(16,), max_epochs=30, learning_rate=1e-2,
                             random_state=0),
     HardSharingNetClassifier(hidden_layer_sizes=(16,), max_epochs=30, learning_rate=1e-2,
                              random_state=0)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON},
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ---------------------------------------------------------------- gradients
def _finite_difference_check(kind, head_hidden, activation, weighting="equal"):
    rng = np.random.RandomState(0)
    n, d, T = 9, 3, 3
    spec = NetworkSpec(d, (5, 4), T, head_hidden, activation)
    params = init_params(spec, rng, np, np.float64)
    X = rng.normal(size=(n, d))
    Y = rng.normal(size=(n, T)) if kind == "regression" else (rng.uniform(size=(n, T)) > 0.5) * 1.0
    weight = (rng.uniform(size=(n, T)) > 0.3) * rng.uniform(0.5, 2, size=(n, 1))
    theta = flatten(np, params)
    if weighting == "uncertainty":
        theta = np.concatenate([theta, rng.normal(scale=0.5, size=T)])

    def f(th):
        return _objective_and_gradient(th, np, spec, X, Y, weight, kind, 0.01, params,
                                       weighting)

    _, grad = f(theta)
    eps, numeric = 1e-6, np.empty_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        numeric[i] = (f(theta + step)[0] - f(theta - step)[0]) / (2 * eps)
    error = np.linalg.norm(grad - numeric) / np.linalg.norm(numeric)
    assert error < 1e-6, error
    return grad


@pytest.mark.parametrize("kind", ["regression", "classification"])
@pytest.mark.parametrize("head_hidden", [None, 4])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_gradients_match_finite_differences(kind, head_hidden, activation):
    _finite_difference_check(kind, head_hidden, activation)


@pytest.mark.parametrize("kind", ["regression", "classification"])
def test_uncertainty_objective_gradient(kind):
    grad = _finite_difference_check(kind, None, "tanh", weighting="uncertainty")
    assert np.all(grad[-3:] != 0)  # the log-variances are part of the checked vector


# ---------------------------------------------------------------- balancing
@pytest.mark.parametrize("seed", range(20))
def test_pcgrad_update_never_opposes_a_projected_gradient(seed):
    rng = np.random.RandomState(seed)
    g1 = rng.normal(size=30)
    g2 = -g1 + 0.8 * rng.normal(size=30)  # conflicting: g1 . g2 < 0 (usually)
    G = np.stack([g1, g2])
    combined = pcgrad_combine(np, G, rng)
    assert combined @ g1 >= -1e-10 and combined @ g2 >= -1e-10
    if g1 @ g2 >= 0:
        np.testing.assert_allclose(combined, g1 + g2)


def test_pcgrad_sums_non_conflicting_gradients():
    G = np.abs(np.random.RandomState(0).normal(size=(4, 10)))
    np.testing.assert_allclose(pcgrad_combine(np, G, np.random.RandomState(0)), G.sum(0))


def _two_noise_levels(n=400, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4))
    f = np.sin(X[:, 0]) + X[:, 1]
    Y = np.column_stack([f + 0.05 * rng.normal(size=n), f + 1.0 * rng.normal(size=n)])
    return X, Y


def test_uncertainty_weighting_learns_larger_variance_for_noisier_task():
    X, Y = _two_noise_levels()
    model = HardSharingNetRegressor(hidden_layer_sizes=(32,), loss_weighting="uncertainty",
                                    learning_rate=1e-2, max_epochs=40,
                                    early_stopping=False, random_state=0).fit(X, Y)
    sigma2 = np.exp(model.log_variances_)
    assert sigma2[1] > 5 * sigma2[0]
    np.testing.assert_allclose(model.task_weights_, 1 / sigma2, rtol=1e-5)
    assert model.task_weights_history_.shape == model.loss_history_.shape


def test_gradnorm_weights_stay_positive_and_sum_to_n_tasks():
    X, Y = _two_noise_levels(n=200)
    Y = np.column_stack([Y, 10 * Y[:, 0]])
    model = HardSharingNetRegressor(hidden_layer_sizes=(16, 8), loss_weighting="gradnorm",
                                    learning_rate=1e-2, max_epochs=15, random_state=0)
    history = model.fit(X, Y).task_weights_history_
    assert history.shape == (model.n_iter_, 3)
    assert np.all(history > 0)
    np.testing.assert_allclose(history.sum(axis=1), 3, rtol=1e-5)
    assert np.ptp(history[-1]) > 1e-3  # the weights actually moved


# ---------------------------------------------------------------- learning
def _related_tasks(n_per_task, seed, n_tasks=8):
    rng = np.random.RandomState(seed)
    offsets = np.random.RandomState(100).normal(scale=0.3, size=n_tasks)
    task = np.repeat(np.arange(n_tasks), n_per_task)
    X = rng.uniform(-2, 2, size=(task.size, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 / 2 + offsets[task] + 0.1 * rng.normal(size=task.size)
    return X, y, task


def test_sharing_beats_single_task_on_related_tasks():
    X, y, task = _related_tasks(15, seed=0)
    X_test, y_test, task_test = _related_tasks(50, seed=1)
    params = dict(hidden_layer_sizes=(32, 32), learning_rate=1e-2, max_epochs=150,
                  batch_size=32, early_stopping=False, random_state=0)
    shared = HardSharingNetRegressor(**params).fit(X, y, task=task)
    alone = HardSharingNetRegressor(single_task=True, **params).fit(X, y, task=task)
    r2_shared = shared.score(X_test, y_test, task=task_test)
    r2_alone = alone.score(X_test, y_test, task=task_test)
    assert r2_shared > r2_alone + 0.1, (r2_shared, r2_alone)
    assert len(alone.coefs_) == 8 and alone.loss_history_.shape[1] == 8


# ---------------------------------------------------------------- API
@pytest.fixture
def shared_data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    Y = X[:, :1] + rng.normal(scale=0.1, size=(60, 3))
    return X, Y


def _small(cls=HardSharingNetRegressor, **kw):
    return cls(hidden_layer_sizes=(8,), max_epochs=kw.pop("max_epochs", 5),
               random_state=kw.pop("random_state", 0), **kw)


def test_predict_shapes_for_both_layouts(shared_data):
    X, Y = shared_data
    model = _small().fit(X, Y)
    assert model.predict(X).shape == (60, 3)
    assert model.predict(X, task=np.arange(60) % 3).shape == (60,)
    assert _small().fit(X, Y[:, 0]).predict(X).shape == (60,)
    hetero = _small().fit(X, Y[:, 0], task=np.arange(60) % 3)
    assert hetero.predict(X).shape == (60, 3) and hetero.n_tasks_ == 3
    assert hetero.predict(X[:5], task=[0, 1, 2, 0, 1]).shape == (5,)
    np.testing.assert_allclose(hetero.predict(X[:3], task=[0, 1, 2]),
                               np.diag(hetero.predict(X[:3])))


@pytest.mark.parametrize("weighting", ["equal", "uncertainty", "gradnorm", "pcgrad"])
def test_nan_entries_are_masked(shared_data, weighting):
    X, Y = shared_data
    Y = Y.copy()
    Y[::2, 0] = np.nan
    Y[1::3, 2] = np.nan
    model = _small(loss_weighting=weighting, head_hidden_size=3).fit(X, Y)
    assert np.all(np.isfinite(model.loss_history_))
    assert np.all(np.isfinite(model.predict(X)))
    assert np.isfinite(model.score(X, Y))


def test_string_task_labels_and_task_column():
    pd = pytest.importorskip("pandas")
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    task = np.where(rng.uniform(size=40) > 0.5, "left", "right")
    task[:2] = ["left", "right"]
    y = X[:, 0] + (task == "left")
    model = _small().fit(X, y, task=task)
    assert list(model.tasks_) == ["left", "right"]
    by_column = _small(task_column=2).fit(np.column_stack([X, task == "left"]), y)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "who": task})
    by_name = _small().fit(frame, y, task="who")
    np.testing.assert_allclose(by_name.predict(frame, task="who"),
                               model.predict(X, task=task), rtol=1e-6)
    assert by_column.predict(np.column_stack([X, task == "left"])).shape == (40,)
    with pytest.raises(ValueError, match="Unknown task"):
        model.predict(X[:2], task=["left", "middle"])


def test_pickle_round_trip_and_determinism(shared_data):
    X, Y = shared_data
    model = _small(dropout=0.2, loss_weighting="pcgrad").fit(X, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_array_equal(_small(dropout=0.2, loss_weighting="pcgrad").fit(X, Y)
                                  .predict(X), model.predict(X))
    assert not np.allclose(_small(random_state=1).fit(X, Y).predict(X), model.predict(X))


def test_float64_mode_and_warm_start(shared_data):
    X, Y = shared_data
    model = _small(dtype="float64", warm_start=True, max_epochs=2, early_stopping=False)
    model.fit(X, Y)
    assert all(p.dtype == np.float64 for p in model.coefs_)
    first = [p.copy() for p in model.coefs_]
    model.fit(X, Y)  # continues from the previous weights
    fresh = _small(dtype="float64", max_epochs=2, early_stopping=False).fit(X, Y)
    assert not np.allclose(model.coefs_[0], first[0])
    assert not np.allclose(model.coefs_[0], fresh.coefs_[0])


def test_classifier_api():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    task = np.arange(80) % 2
    y = np.where(X[:, 0] + 0.5 * task > 0, "pos", "neg")
    clf = _small(HardSharingNetClassifier, max_epochs=30, learning_rate=1e-2).fit(X, y, task=task)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X, task=task)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(X, task=task)) <= {"neg", "pos"}
    assert clf.decision_function(X).shape == (80, 2)
    assert clf.score(X, y, task=task) > 0.8
    Y = np.column_stack([y, np.where(X[:, 1] > 0, "pos", "neg")])
    wide = _small(HardSharingNetClassifier).fit(X, Y)
    assert wide.predict(X).shape == (80, 2) and wide.predict_proba(X).shape == (80, 2)


# ---------------------------------------------------------------- errors
def test_classifier_rejects_bad_targets():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 2))
    task = np.arange(30) % 2
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        _small(HardSharingNetClassifier).fit(X, rng.normal(size=30))
    with pytest.raises(ValueError, match="Only binary classification.*3 class"):
        _small(HardSharingNetClassifier).fit(X, np.arange(30) % 3)
    one_class_task = np.where(task == 0, 1, np.arange(30) % 4 > 1)
    with pytest.raises(ValueError, match="Task 0 has the label set"):
        _small(HardSharingNetClassifier).fit(X, one_class_task, task=task)


def test_divergence_names_learning_rate(shared_data):
    X, Y = shared_data
    with pytest.raises(FloatingPointError, match="Lower learning_rate"):
        _small(learning_rate=1e12, max_epochs=20, early_stopping=False).fit(X * 1e3, Y * 1e3)


def test_small_tasks_and_validation_fraction():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(23, 2))
    task = np.r_[np.zeros(20), np.ones(3)]
    with pytest.warns(UserWarning, match="validation_fraction=0.1 leaves no validation row"):
        _small().fit(X, X[:, 0], task=task)
    with pytest.raises(ValueError, match="at least 2"):
        _small().fit(X[:21], X[:21, 0], task=task[:21])


@pytest.mark.parametrize("params, match", [
    (dict(loss_weighting="mgda"), "loss_weighting"),
    (dict(dtype="float16"), "dtype"),
    (dict(validation_fraction=1.0), "validation_fraction"),
])
def test_invalid_parameters(shared_data, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        HardSharingNetRegressor(**params).fit(*shared_data)


def test_docstring_examples():
    for module in (_base, _regressor, _classifier, _balancing):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0
