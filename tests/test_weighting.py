"""Distribution matching (rkhsmtl.weighting): weights, estimators, diagnostics."""
import doctest
import pickle
import sys
import warnings

import numpy as np
import pytest
import sklearn
from scipy.stats import norm
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import KFold, cross_validate
from sklearn.utils.estimator_checks import parametrize_with_checks

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.kernels import compute_kernel
from rkhsmtl.weighting import (
    DistributionMatchingClassifier,
    DistributionMatchingRegressor,
    DistributionMatchingWeights,
    borrowing_matrix,
    effective_sample_size,
    plot_borrowing,
)


def _gaussian_tasks(means, n, seed=0, sd=1.0):
    rng = np.random.RandomState(seed)
    means = np.atleast_2d(np.asarray(means, dtype=float).T).T
    T, d = means.shape
    task = np.repeat(np.arange(T), n)
    X = sd * rng.randn(T * n, d) + means[task]
    return X, task, means


def _true_ratios(X, means, sd=1.0):
    """p(x | t) / p_pool(x) for equal-size isotropic Gaussian tasks."""
    dens = np.stack([np.prod(norm.pdf(X, m, sd), axis=1) for m in means], axis=1)
    return dens / dens.mean(axis=1, keepdims=True)


def _weights(**kw):
    kw.setdefault("random_state", 0)
    return DistributionMatchingWeights(**kw)


# ---------------------------------------------------------------- weights
@pytest.mark.parametrize("means", [[-1.5, 0.0, 1.5], [[0, 0], [1.5, 0], [0, 1.5], [1, 1]]])
def test_weights_match_true_density_ratios(means):
    X, task, means = _gaussian_tasks(means, 150)
    dm = _weights().fit(X, task=task)
    true = _true_ratios(X, means)
    for t in range(len(means)):
        assert np.corrcoef(dm.weights_[:, t], true[:, t])[0, 1] >= 0.9
    np.testing.assert_allclose(dm.weights_.sum(axis=0), len(X))  # normalize="pool"


def test_identical_distributions_give_unit_weights():
    X, task, _ = _gaussian_tasks(np.zeros((3, 2)), 500)
    W = _weights().fit(X, task=task).weights_
    assert np.mean(np.abs(W - 1)) < 0.05
    assert np.max(np.abs(W - 1)) < 0.3


def test_disjoint_supports_borrow_nothing():
    X, task, _ = _gaussian_tasks([-8.0, 0.0, 8.0], 60, sd=0.5)
    dm = _weights(C=100.0).fit(X, task=task)
    off = dm.borrowing_[~np.eye(3, dtype=bool)]
    assert off.max() < 0.01
    np.testing.assert_allclose(dm.borrowing_.sum(axis=1), 1.0)


def test_condition_on_xy_separates_tasks_with_shared_inputs():
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, (200, 1))
    task = np.repeat([0, 1], 100)
    y = np.where(task == 0, 1.0, -1.0) * X[:, 0] + 0.1 * rng.randn(200)
    x_only = _weights().fit(X, y, task=task)
    joint = _weights(condition_on="xy").fit(X, y, task=task)
    assert abs(x_only.borrowing_[0, 1] - 0.5) < 0.1     # inputs cannot tell them apart
    assert joint.borrowing_[0, 1] < 0.2                  # (x, y) can
    with pytest.raises(ValueError, match="condition_on='xy'.*needs y"):
        _weights(condition_on="xy").fit(X, task=task)


def test_task_similarity_mixes_task_ratios():
    X, task, _ = _gaussian_tasks([-1.0, 0.0, 1.0], 50)
    base = _weights(clip_quantile=None, normalize=None).fit(X, task=task)
    same = _weights(clip_quantile=None, normalize=None, task_similarity=np.eye(3))
    np.testing.assert_allclose(same.fit(X, task=task).weights_, base.weights_)
    S = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    Sc = S.copy()
    mixed = _weights(clip_quantile=None, normalize=None, task_similarity=S).fit(X, task=task)
    R = base.weights_
    np.testing.assert_allclose(mixed.weights_[:, 0], (R[:, 0] + R[:, 1]) / 2)
    np.testing.assert_allclose(mixed.weights_[:, 2], R[:, 2])
    assert np.array_equal(S, Sc)


def test_clipping_and_normalization():
    X, task, _ = _gaussian_tasks([-1.0, 1.0], 50)
    raw = _weights(clip_quantile=None, normalize=None).fit(X, task=task).weights_
    capped = _weights(clip_quantile=None, max_weight=1.5, normalize=None).fit(X, task=task)
    np.testing.assert_allclose(capped.weights_, np.minimum(raw, 1.5))
    per_task = _weights(normalize="task").fit(X, task=task).weights_
    np.testing.assert_allclose(per_task.sum(axis=0), [50, 50])
    q = _weights(clip_quantile=0.5, normalize=None).fit(X, task=task)
    assert q.weights_[task == 0, 0].max() <= np.median(raw[task == 0, 0]) + 1e-12
    assert _weights(cv=None).fit(X, task=task).n_splits_ == 1


def test_diagnostic_formulas():
    W = np.array([[1.0, 0.0], [1.0, 2.0], [2.0, 2.0]])
    np.testing.assert_allclose(effective_sample_size(W), [16 / 6, 2.0])
    B = borrowing_matrix(W, np.array([0, 0, 1]), 2)
    np.testing.assert_allclose(B, [[0.5, 0.5], [0.5, 0.5]])


# ------------------------------------------------------------- estimators
def _shifted_regression(seed=0, T=4, n=25):
    X, task, _ = _gaussian_tasks(np.linspace(-2, 2, T)[:, None], n, seed=seed)
    rng = np.random.RandomState(seed + 100)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(len(task))
    return X, y, task


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_regressor_equals_weighted_kernel_ridge(solver):
    X, y, task = _shifted_regression()
    m = DistributionMatchingRegressor(alpha=0.3, weighting=_weights(), fit_intercept=False,
                                      solver=solver, tol=1e-13).fit(X, y, task=task)
    assert m.solver_ == solver
    P = m.predict(X)
    for t in range(m.n_tasks_):
        ref = KernelRidge(alpha=0.3, kernel="rbf", gamma=1.0).fit(
            X, y, sample_weight=m.weights_[:, t])
        np.testing.assert_allclose(P[:, t], ref.predict(X), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("solver", ["cg", "cholesky"])
def test_regressor_intercepts_equal_dense_bordered_solve(solver):
    X, y, task = _shifted_regression()
    sw = np.random.RandomState(3).uniform(0.5, 2.0, len(y))
    m = DistributionMatchingRegressor(alpha=0.2, weighting=_weights(), solver=solver,
                                      tol=1e-13).fit(X, y + 3.0, task=task, sample_weight=sw)
    K = compute_kernel(X)
    N = len(y)
    for t in range(m.n_tasks_):
        w = sw * m.weights_[:, t]
        # [[K + alpha W^-1, 1], [1^T, 0]] [c; b] = [y; 0]
        big = np.block([[K + 0.2 * np.diag(1 / w), np.ones((N, 1))],
                        [np.ones((1, N)), np.zeros((1, 1))]])
        sol = np.linalg.solve(big, np.r_[y + 3.0, 0.0])
        np.testing.assert_allclose(m.intercept_[t], sol[-1], rtol=1e-8)
        np.testing.assert_allclose(m.predict(X)[:, t], K @ sol[:-1] + sol[-1], rtol=1e-8)


def test_classifier_is_regressor_on_signed_labels():
    X, y, task = _shifted_regression()
    labels = np.where(y > 0, "pos", "neg")
    clf = DistributionMatchingClassifier(alpha=0.3, weighting=_weights()).fit(
        X, labels, task=task)
    reg = DistributionMatchingRegressor(alpha=0.3, weighting=_weights()).fit(
        X, np.where(labels == "pos", 1.0, -1.0), task=task)
    np.testing.assert_allclose(clf.decision_function(X), reg.predict(X), rtol=1e-8)
    assert list(clf.classes_) == ["neg", "pos"]
    proba = clf.predict_proba(X, task=task)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X, task=task))


def _covariate_shift(seed, n, means, noise=0.3):
    rng = np.random.RandomState(seed)
    task = np.repeat(np.arange(len(means)), n)
    X = (0.8 * rng.randn(len(task)) + np.asarray(means)[task])[:, None]
    f = np.sin(X[:, 0]) + 0.1 * X[:, 0] ** 2   # one E[y | x] for every task
    return X, f + noise * rng.randn(len(task)), task, f


def _selected_test_error(make, X, y, task, val, test, alphas=(1e-2, 1e-1, 1.0)):
    """Test MSE at the alpha with the best validation MSE."""
    best = None
    for a in alphas:
        m = make(a).fit(X, y, task=task)
        val_err = np.mean((m.predict(val[0], task=val[2]) - val[3]) ** 2)
        if best is None or val_err < best[0]:
            best = (val_err, np.mean((m.predict(test[0], task=test[2]) - test[3]) ** 2))
    return best[1]


def test_benefit_under_covariate_shift():
    # Several small tasks (15 rows) spread along x; one smooth-kernel fit per
    # task is too local for independent learning and too global when pooled.
    means = [-4.0, -2.5, -1.0, 0.5, 2.0, 3.5]
    kw = dict(kernel="rbf", gamma=0.2)
    makers = {
        "independent": lambda a: MultiTaskKernelRidge(a, task_matrix="independent", **kw),
        "pooled": lambda a: MultiTaskKernelRidge(a, task_matrix="pooled", **kw),
        "dm": lambda a: DistributionMatchingRegressor(a, weighting=_weights(), **kw),
    }
    errors = {k: [] for k in makers}
    for seed in range(3):
        X, y, task, _ = _covariate_shift(seed, 15, means)
        val = _covariate_shift(seed + 10, 100, means)
        test = _covariate_shift(seed + 20, 300, means)
        for name, make in makers.items():
            errors[name].append(_selected_test_error(make, X, y, task, val, test))
    mean = {k: np.mean(v) for k, v in errors.items()}
    assert mean["dm"] < 0.9 * mean["independent"], mean
    assert mean["dm"] < 0.9 * mean["pooled"], mean


def test_no_harm_on_unrelated_tasks():
    # Separated tasks with unrelated functions: the weights isolate each task.
    # Linear membership logits are too smooth to cut the pool sharply here
    # (they leak ~15% of the weight across neighbours at C=1); RBF features do.
    means, n = [-6.0, 0.0, 6.0], 20
    funcs = [np.sin, np.cos, lambda x: 0.5 * x - 3.0]

    def draw(m, seed):
        r = np.random.RandomState(seed)
        task = np.repeat(np.arange(3), m)
        X = (r.randn(3 * m) + np.asarray(means)[task])[:, None]
        f = np.select([task == t for t in range(3)], [g(X[:, 0]) for g in funcs])
        return X, f + 0.2 * r.randn(3 * m), task, f

    X, y, task, _ = draw(n, 1)
    val, test = draw(100, 2), draw(300, 3)
    ind = _selected_test_error(
        lambda a: MultiTaskKernelRidge(a, task_matrix="independent"), X, y, task, val, test)
    dm = _selected_test_error(
        lambda a: DistributionMatchingRegressor(a, weighting=_weights(features="rbf")),
        X, y, task, val, test)
    assert dm <= 1.05 * ind, (dm, ind)


def test_predict_shapes_task_column_and_shared_layout():
    X, y, task = _shifted_regression(T=3, n=15)
    m = DistributionMatchingRegressor(weighting=_weights()).fit(X, y, task=task)
    assert m.predict(X[:4]).shape == (4, 3)
    assert m.predict(X[:4], task=task[:4]).shape == (4,)
    assert m.weights_.shape == (45, 3) and m.borrowing_.shape == (3, 3)
    assert m.effective_sample_size_.shape == (3,)
    mc = DistributionMatchingRegressor(weighting=_weights(), task_column=1).fit(
        np.c_[X, task], y)
    np.testing.assert_allclose(mc.predict(np.c_[X, task]), m.predict(X, task=task), rtol=1e-10)
    Y = np.c_[y, -y]
    Y[::4, 1] = np.nan
    shared = DistributionMatchingRegressor(weighting=_weights()).fit(X, Y)
    assert shared.predict(X).shape == (45, 2)
    assert shared.weights_.shape == (45 + int(np.sum(~np.isnan(Y[:, 1]))), 2)
    single = DistributionMatchingRegressor(fit_intercept=False).fit(X, y)
    ref = KernelRidge(alpha=1.0, kernel="rbf", gamma=1.0).fit(X, y)
    np.testing.assert_allclose(single.predict(X), ref.predict(X), rtol=1e-8)
    assert single.solver_ == "eigen"
    assert single.predict(X).shape == (45,)


def test_metadata_routing_in_cross_validation():
    X, y, task = _shifted_regression(T=3, n=20)
    cv = KFold(3, shuffle=True, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = DistributionMatchingRegressor(weighting=_weights()).set_fit_request(
            task=True).set_score_request(task=True)
        res = cross_validate(est, X, y, cv=cv, params={"task": task})
    assert np.all(np.isfinite(res["test_score"]))


# -------------------------------------------------------------- bad input
def test_bad_input_messages():
    X, task, _ = _gaussian_tasks([-1.0, 1.0], 20)
    with pytest.raises(ValueError, match=r"\['c'\] listed in 'tasks' have no examples"):
        _weights(tasks=["a", "b", "c"]).fit(X, task=np.repeat(["a", "b"], 20))
    with pytest.raises(ValueError, match=r"task_similarity.*\(2, 2\).*got shape \(3, 3\)"
                                         r".*no examples"):
        _weights(task_similarity=np.eye(3)).fit(X, task=task)
    with pytest.raises(ValueError, match="task_similarity.*non-negative"):
        _weights(task_similarity=-np.eye(2)).fit(X, task=task)
    with pytest.raises(ValueError, match="task 0 .*collapse to zero.*max_weight"):
        _weights(max_weight=1e-9, normalize=None).fit(X, task=task)
    with pytest.raises(ValueError, match="needs task labels"):
        _weights().fit(X)
    with pytest.raises(ValueError, match="'C' parameter"):
        _weights(C=-1.0).fit(X, task=task)
    with pytest.raises(ValueError, match="task_similarity.*\\(2, 2\\)"):
        DistributionMatchingRegressor(weighting=_weights(task_similarity=np.eye(3))).fit(
            X, X[:, 0], task=task)
    y3 = np.repeat([0, 1, 2], 40)[:40]
    with pytest.raises(ValueError, match="Only binary classification"):
        DistributionMatchingClassifier().fit(X, y3, task=task)


def test_inputs_untouched_pickle_and_determinism():
    X, y, task = _shifted_regression()
    S = np.ones((4, 4)) + np.eye(4)
    copies = [a.copy() for a in (X, y, task, S)]
    make = lambda: DistributionMatchingRegressor(  # noqa: E731
        weighting=_weights(task_similarity=S, features="rbf", n_components=20,
                           random_state=7))
    m = make().fit(X, y, task=task)
    for a, b in zip((X, y, task, S), copies):
        assert np.array_equal(a, b)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))
    np.testing.assert_array_equal(make().fit(X, y, task=task).weights_, m.weights_)


def test_plot_borrowing(monkeypatch):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    X, y, task = _shifted_regression(T=3, n=10)
    m = DistributionMatchingRegressor(weighting=_weights()).fit(X, y, task=task)
    ax = plot_borrowing(m)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="'task_names' has 2 entries"):
        plot_borrowing(m, task_names=["a", "b"])
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"rkhsmtl\[plot\]"):
        plot_borrowing(np.eye(2))


def test_docstring_examples():
    pytest.importorskip("matplotlib").use("Agg")
    from rkhsmtl.weighting import _estimators, _plotting, _weights as weights_module

    for module in (weights_module, _estimators, _plotting):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__


# ------------------------------------------------------ sklearn conformance
@parametrize_with_checks([
    DistributionMatchingRegressor(weighting=DistributionMatchingWeights(random_state=0)),
    DistributionMatchingClassifier(alpha=0.1),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)
