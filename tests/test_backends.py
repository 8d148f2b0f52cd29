"""Every public estimator gives numpy's answer on every array namespace.

Runs with numpy and ``array_api_strict`` everywhere and with CuPy where a CUDA
device is present (the ``gpu`` marker), so a namespace slip in any estimator
(a numpy call on a device array, a dtype or device mismatch) fails here.
"""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    ClusteredMultiTaskLearningClassifier,
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    OutputKernelLearning,
    OutputKernelLearningClassifier,
    TaskRelationLearning,
    TaskRelationLearningClassifier,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)

from conftest import to_xp
from rkhsmtl.estimators import _alternating


@pytest.fixture(autouse=True)
def _exact_coefficient_steps(monkeypatch):
    # The learned structures run 10-15 unconverged steps here, compared
    # across namespaces to 1e-7: numpy's warm Cholesky sequence would solve
    # its steps inexactly while the other namespaces solve them directly, so
    # the two trajectories would part at the inexact solves' tolerance.
    # Inexact steps are tested in test_acceleration.py.
    monkeypatch.setattr(_alternating, "INEXACT", False)


def _shared(n=40, T=3, seed=0, classify=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.sin(X[:, :1]) + 0.3 * rng.randn(n, T)
    if classify:
        Y = (Y > 0).astype(float)
    return X, Y


def _hetero(n=60, T=3, seed=0, classify=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    task = np.arange(n) % T
    y = np.sin(X[:, 0]) + 0.3 * rng.randn(n) + 0.5 * (task == 1)
    if classify:
        y = (y > 0.2).astype(float)
    return X, y, task


def _to_host(a):
    if hasattr(a, "get"):                      # CuPy
        return a.get()
    if isinstance(a, np.ndarray):
        return a
    return np.from_dlpack(a)                   # array_api_strict (CPU)


def _same_library(out, like):
    return type(out).__module__.split(".")[0] == type(like).__module__.split(".")[0]


REGRESSORS = {
    "ridge": lambda: MultiTaskKernelRidge(alpha=0.3, task_matrix="mean", tol=1e-13),
    "ridge-graph": lambda: MultiTaskKernelRidge(
        alpha=0.3, task_matrix="graph",
        task_graph=np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)),
    "ridge-cv": lambda: MultiTaskKernelRidgeCV(alphas=(0.01, 0.1, 1.0), task_matrix="mean"),
    "trace": lambda: TaskStructureLearning(alpha=0.3, penalty="trace", max_iter=15, tol=0.0),
    "okl": lambda: OutputKernelLearning(alpha=0.3, max_iter=15, tol=0.0),
    "mtrl": lambda: TaskRelationLearning(max_iter=15, tol=0.0),
    "cmtl": lambda: ClusteredMultiTaskLearning(n_clusters=2, max_iter=15, tol=0.0),
}

CLASSIFIERS = {
    "kernel-squared": lambda: MultiTaskKernelClassifier(alpha=0.3, task_matrix="mean"),
    "kernel-logistic": lambda: MultiTaskKernelClassifier(alpha=0.3, task_matrix="mean",
                                                         loss="logistic"),
    "trace": lambda: TaskStructureLearningClassifier(alpha=0.3, max_iter=10, tol=0.0),
    "okl": lambda: OutputKernelLearningClassifier(alpha=0.3, max_iter=10, tol=0.0),
    "mtrl": lambda: TaskRelationLearningClassifier(max_iter=10, tol=0.0),
    "cmtl": lambda: ClusteredMultiTaskLearningClassifier(n_clusters=2, max_iter=10, tol=0.0),
}


def _fit_predict(make, args, kw, xp_name, method="predict"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = getattr(make().fit(*args, **kw), method)(args[0])
        xa = [to_xp(xp_name, a) for a in args]
        out = getattr(make().fit(*xa, **kw), method)(xa[0])
    return ref, out, xa


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("name", sorted(REGRESSORS))
def test_regressor_matches_numpy(xp_name, name, layout):
    if layout == "shared":
        args, kw = _shared(), {}
    else:
        X, y, task = _hetero()
        args, kw = (X, y), {"task": task}
    ref, out, xa = _fit_predict(REGRESSORS[name], args, kw, xp_name)
    assert _same_library(out, xa[0])
    np.testing.assert_allclose(_to_host(out), ref, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classifier_matches_numpy(xp_name, name, layout):
    if layout == "shared":
        args, kw = _shared(classify=True), {}
    else:
        X, y, task = _hetero(classify=True)
        args, kw = (X, y), {"task": task}
    ref, out, _ = _fit_predict(CLASSIFIERS[name], args, kw, xp_name,
                               method="decision_function")
    np.testing.assert_allclose(_to_host(out), ref, rtol=1e-6, atol=1e-8)


def test_learned_task_matrix_matches_numpy(xp_name):
    X, Y = _shared()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = TaskRelationLearning(max_iter=15, tol=0.0).fit(X, Y)
        out = TaskRelationLearning(max_iter=15, tol=0.0).fit(to_xp(xp_name, X),
                                                             to_xp(xp_name, Y))
    np.testing.assert_allclose(_to_host(out.task_matrix_), ref.task_matrix_,
                               rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("name", ["regressor", "classifier"])
def test_neural_matches_numpy(xp_name, name):
    """Same seed, float64: the network trains to the same weights everywhere."""
    from rkhsmtl.neural import HardSharingNetClassifier, HardSharingNetRegressor

    X, y, task = _hetero(classify=name == "classifier")
    cls = HardSharingNetClassifier if name == "classifier" else HardSharingNetRegressor
    method = "predict_proba" if name == "classifier" else "predict"

    def make():
        return cls(hidden_layer_sizes=(16,), max_epochs=5, batch_size=16,
                   early_stopping=False, dtype="float64", random_state=0)

    ref, out, _ = _fit_predict(make, (X, y), {"task": task}, xp_name, method=method)
    np.testing.assert_allclose(_to_host(out), ref, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_distribution_matching_matches_numpy(xp_name, solver):
    from rkhsmtl.weighting import DistributionMatchingRegressor, DistributionMatchingWeights

    X, y, task = _hetero()

    def make():
        return DistributionMatchingRegressor(
            alpha=0.3, solver=solver, tol=1e-12,
            weighting=DistributionMatchingWeights(random_state=0))

    ref, out, _ = _fit_predict(make, (X, y), {"task": task}, xp_name)
    np.testing.assert_allclose(_to_host(out), ref, rtol=1e-6, atol=1e-9)
