"""unknown_task="mean" beyond the kernel estimators: the neural, linear and
distribution-matching families predict a task never seen in training by the
average of their fitted task functions (issue 16)."""
import pickle

import numpy as np
import pytest

from rkhsmtl.linear import LinearMultiTaskClassifier, LinearMultiTaskRegressor
from rkhsmtl.neural import (
    HardSharingNetClassifier,
    HardSharingNetRegressor,
    HardSharingNetRegressorCV,
)
from rkhsmtl.weighting import DistributionMatchingClassifier, DistributionMatchingRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

NET = dict(hidden_layer_sizes=(8,), max_epochs=5, early_stopping=False, random_state=0)

REGRESSORS = [
    pytest.param(lambda: LinearMultiTaskRegressor(lambda1=0.01), id="linear"),
    pytest.param(lambda: HardSharingNetRegressor(**NET), id="net"),
    pytest.param(lambda: HardSharingNetRegressorCV(
        HardSharingNetRegressor(**NET), {"weight_decay": [1e-3]}, cv=2, random_state=0),
        id="net-cv"),
    pytest.param(lambda: DistributionMatchingRegressor(), id="dm"),
]
CLASSIFIERS = [
    pytest.param(lambda: LinearMultiTaskClassifier(lambda1=0.01), id="linear"),
    pytest.param(lambda: HardSharingNetClassifier(**NET), id="net"),
    pytest.param(lambda: DistributionMatchingClassifier(), id="dm"),
]


def _data(classification=False):
    rng = np.random.RandomState(0)
    task = np.repeat(np.array(["a", "b", "c"]), 30)
    X = rng.randn(90, 2)
    if classification:
        y = np.tile([0, 1], 45)
        X[:, 0] += 1.5 * y
    else:
        y = np.sin(X[:, 0]) + np.repeat([0.0, 1.0, -1.0], 30) + 0.1 * rng.randn(90)
    return X, y, task


@pytest.mark.parametrize("make", REGRESSORS)
def test_regressor_mean_fallback_is_the_average_task_function(make):
    X, y, task = _data()
    model = make().fit(X, y, task=task)
    every = np.asarray(model.predict(X), dtype=float)            # (n, 3)
    labels = np.where(np.arange(90) % 2 == 0, "new", task)       # half unseen
    got = np.asarray(model.predict(X, task=labels, unknown_task="mean"), dtype=float)
    own = every[np.arange(90), np.searchsorted(["a", "b", "c"], np.where(
        labels == "new", "a", labels))]
    expected = np.where(labels == "new", every.mean(axis=1), own)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    # the default still refuses an unseen label, naming it
    with pytest.raises(ValueError, match="new"):
        model.predict(X, task=labels)
    with pytest.raises(ValueError, match="'unknown_task' parameter"):
        model.predict(X, task=labels, unknown_task="pooled")
    score = model.score(X, y, task=labels, unknown_task="mean")
    assert np.isfinite(score)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        np.asarray(loaded.predict(X, task=labels, unknown_task="mean")), got)


@pytest.mark.parametrize("make", CLASSIFIERS)
def test_classifier_mean_fallback_averages_the_task_scores(make):
    X, y, task = _data(classification=True)
    model = make().fit(X, y, task=task)
    every = np.asarray(model.decision_function(X), dtype=float)
    new = np.full(90, "new")
    got = np.asarray(model.decision_function(X, task=new, unknown_task="mean"),
                     dtype=float)
    np.testing.assert_allclose(got, every.mean(axis=1), rtol=1e-10, atol=1e-12)
    labels = np.asarray(model.predict(X, task=new, unknown_task="mean"))
    np.testing.assert_array_equal(labels, model.classes_[(got > 0).astype(int)])
    proba = np.asarray(model.predict_proba(X, task=new, unknown_task="mean"))
    assert proba.shape == (90, 2)
    with pytest.raises(ValueError, match="new"):
        model.decision_function(X, task=new)
