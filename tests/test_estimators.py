"""Estimators against independent references and their public API."""
import pickle

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from rkhsmtl import MultiTaskKernelClassifier, MultiTaskKernelRidge, MultiTaskKernelRidgeCV

from conftest import to_xp


def _hetero(seed=0, T=3, n=20):
    rng = np.random.RandomState(seed)
    X = rng.randn(T * n, 3)
    task = np.repeat(np.array(["x", "y", "z"][:T]), n)
    y = np.sin(X[:, 0]) + 0.2 * rng.randn(T * n) + (task == "y")
    return X, y, task


@pytest.mark.parametrize("solver", ["cholesky", "eigen", "cg"])
@pytest.mark.parametrize("kernel", ["rbf", "laplacian", "linear", "polynomial"])
def test_independent_equals_kernel_ridge_per_task(solver, kernel):
    X, y, task = _hetero()
    model = MultiTaskKernelRidge(alpha=0.5, kernel=kernel, task_matrix="independent",
                                 fit_intercept=False, solver=solver, tol=1e-13)
    P = model.fit(X, y, task=task).predict(X)
    for j, t in enumerate(model.tasks_):
        ref = KernelRidge(alpha=0.5, kernel=kernel).fit(X[task == t], y[task == t])
        np.testing.assert_allclose(P[:, j], ref.predict(X), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_pooled_equals_one_kernel_ridge(solver):
    X, y, task = _hetero()
    model = MultiTaskKernelRidge(alpha=0.5, task_matrix="pooled", fit_intercept=False,
                                 solver=solver, tol=1e-13).fit(X, y, task=task)
    ref = KernelRidge(alpha=0.5, kernel="rbf").fit(X, y)
    np.testing.assert_allclose(model.predict(X, task=task), ref.predict(X), rtol=1e-8)


def test_shared_inputs_equal_kernel_ridge_per_column():
    X, y, _ = _hetero()
    Y = np.c_[y, np.cos(X[:, 1]), X[:, 2]]
    model = MultiTaskKernelRidge(alpha=0.3, task_matrix="independent",
                                 fit_intercept=False).fit(X, Y)
    assert model.solver_ == "eigen"
    for t in range(3):
        ref = KernelRidge(alpha=0.3, kernel="rbf").fit(X, Y[:, t])
        np.testing.assert_allclose(model.predict(X)[:, t], ref.predict(X), rtol=1e-8)


def test_mean_regularized_moves_from_independent_to_pooled():
    X, y, task = _hetero()
    ind = MultiTaskKernelRidge(alpha=0.5, task_matrix="independent").fit(X, y, task=task)
    # omega -> 1 is one pooled function with the penalty scaled by T (A = 11^T / T).
    pooled = MultiTaskKernelRidge(alpha=0.5 * 3, task_matrix="pooled").fit(X, y, task=task)
    preds = {}
    for omega in [0.0, 0.3, 0.6, 0.9, 0.999999, 1.0]:
        m = MultiTaskKernelRidge(alpha=0.5, omega=omega).fit(X, y, task=task)
        preds[omega] = m.predict(X)
    np.testing.assert_allclose(preds[0.0], ind.predict(X), rtol=1e-8)
    np.testing.assert_allclose(preds[1.0], pooled.predict(X), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(preds[0.999999], preds[1.0], atol=1e-4)
    d = [np.abs(preds[o] - preds[1.0]).max() for o in [0.0, 0.3, 0.6, 0.9]]
    assert all(a > b for a, b in zip(d, d[1:]))  # monotone approach to pooled


def test_intercepts_equal_dense_bordered_solution():
    from _oracles import dense_hetero
    from rkhsmtl.kernels import compute_kernel

    X, y, task = _hetero()
    sw = np.random.RandomState(1).uniform(0.5, 2, len(y))
    m = MultiTaskKernelRidge(alpha=0.2, omega=0.4, solver="cholesky")
    m.fit(X, y, task=task, sample_weight=sw)
    codes = np.searchsorted(m.tasks_, task)
    A = m.task_matrix_
    c, b = dense_hetero(compute_kernel(X), A, codes, y, 0.2, sw)
    np.testing.assert_allclose(m.intercept_, b, rtol=1e-8)
    F = compute_kernel(X) @ (c[:, None] * A[codes]) + b
    np.testing.assert_allclose(m.predict(X), F, rtol=1e-8, atol=1e-10)


def test_sample_weight_equals_repetition():
    X, y, task = _hetero()
    sw = np.ones(len(y))
    sw[:5] = 2
    Xr, yr, tr = np.r_[X, X[:5]], np.r_[y, y[:5]], np.r_[task, task[:5]]
    a = MultiTaskKernelRidge(alpha=0.3).fit(X, y, task=task, sample_weight=sw)
    b = MultiTaskKernelRidge(alpha=0.3).fit(Xr, yr, task=tr)
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-8)


def test_uniform_task_weighting_matches_rescaled_weights():
    X, y, task = _hetero()
    X, y, task = X[:50], y[:50], task[:50]  # tasks of 20, 20, 10 rows
    m = MultiTaskKernelRidge(alpha=0.3, task_weighting="uniform").fit(X, y, task=task)
    counts = {t: (task == t).sum() for t in np.unique(task)}
    w = np.array([len(y) / 3 / counts[t] for t in task])
    ref = MultiTaskKernelRidge(alpha=0.3).fit(X, y, task=task, sample_weight=w)
    np.testing.assert_allclose(m.predict(X), ref.predict(X), rtol=1e-8)


def test_graph_and_user_task_matrices():
    X, y, task = _hetero()
    graph = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], float)
    g = MultiTaskKernelRidge(task_matrix="graph", task_graph=graph).fit(X, y, task=task)
    L = np.diag(graph.sum(1)) - graph
    np.testing.assert_allclose(g.task_matrix_, np.linalg.inv(L + np.eye(3)))
    u = MultiTaskKernelRidge(task_matrix=g.task_matrix_).fit(X, y, task=task)
    np.testing.assert_allclose(u.predict(X), g.predict(X), rtol=1e-10)


def test_masked_shared_equals_heterogeneous_on_observed_entries():
    X, y, _ = _hetero()
    rng = np.random.RandomState(5)
    Y = np.c_[y, np.cos(X[:, 1]), X[:, 2]]
    Y[rng.rand(*Y.shape) < 0.3] = np.nan
    masked = MultiTaskKernelRidge(alpha=0.3, tol=1e-13).fit(X, Y)
    assert masked.solver_ == "cg"
    rows, cols = np.nonzero(~np.isnan(Y))
    long = MultiTaskKernelRidge(alpha=0.3).fit(X[rows], Y[rows, cols], task=cols)
    np.testing.assert_allclose(masked.predict(X), long.predict(X), rtol=1e-7, atol=1e-9)


def test_predict_shapes_labels_and_single_task():
    X, y, task = _hetero()
    m = MultiTaskKernelRidge().fit(X, y, task=task)
    assert list(m.tasks_) == ["x", "y", "z"]
    assert m.predict(X[:4]).shape == (4, 3)
    p = m.predict(X[:4], task=["z", "x", "x", "y"])
    np.testing.assert_allclose(p, m.predict(X[:4])[[0, 1, 2, 3], [2, 0, 0, 1]])
    single = MultiTaskKernelRidge().fit(X, y)
    assert single.predict(X[:4]).shape == (4,)


def test_task_column_numpy_and_pandas():
    pd = pytest.importorskip("pandas")
    X, y, task = _hetero()
    ref = MultiTaskKernelRidge().fit(X, y, task=task).predict(X, task=task)
    codes = np.searchsorted(["x", "y", "z"], task)
    Xc = np.c_[X, codes]
    m = MultiTaskKernelRidge(task_column=3).fit(Xc, y)
    np.testing.assert_allclose(m.predict(Xc), ref, rtol=1e-10)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(school=task)
    m = MultiTaskKernelRidge(task_column="school").fit(df, y)
    np.testing.assert_allclose(m.predict(df), ref, rtol=1e-10)
    m2 = MultiTaskKernelRidge().fit(df, y, task="school")
    np.testing.assert_allclose(m2.predict(df, task="school"), ref, rtol=1e-10)


def test_cross_validation_with_task_column_and_routing():
    import sklearn

    X, y, task = _hetero()
    codes = np.searchsorted(["x", "y", "z"], task)
    Xc = np.c_[X, codes]
    cv = KFold(3, shuffle=True, random_state=0)
    res = cross_validate(MultiTaskKernelRidge(task_column=3), Xc, y, cv=cv)
    assert np.all(np.isfinite(res["test_score"]))
    gs = GridSearchCV(MultiTaskKernelRidge(task_column=3), {"alpha": [0.1, 1.0]}, cv=cv)
    assert gs.fit(Xc, y).best_params_["alpha"] in (0.1, 1.0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = MultiTaskKernelRidge().set_fit_request(task=True).set_score_request(task=True)
        res = cross_validate(est, X, y, cv=cv, params={"task": task})
        assert np.all(np.isfinite(res["test_score"]))


def test_cross_validate_without_routing_says_how_to_route():
    # scikit-learn turns a failing score into NaN plus a warning; the warning
    # is all the user sees, so it must carry the routing recipe.
    X, y, task = _hetero()
    cv = KFold(3, shuffle=True, random_state=0)
    with pytest.warns(UserWarning, match=r"set_score_request\(task=True\)"):
        res = cross_validate(MultiTaskKernelRidge(), X, y, cv=cv,
                             params={"task": task})
    assert np.all(np.isnan(res["test_score"]))
    with pytest.raises(ValueError, match="task_column="):
        cross_validate(MultiTaskKernelRidge(), X, y, cv=cv,
                       params={"task": task}, error_score="raise")


def test_pickle_and_inputs_untouched():
    X, y, task = _hetero()
    Xc, yc, tc = X.copy(), y.copy(), task.copy()
    A = np.eye(3) * 0.5 + 0.5
    Ac = A.copy()
    m = MultiTaskKernelRidge(task_matrix=A).fit(X, y, task=task)
    for a, b in [(X, Xc), (y, yc), (task, tc), (A, Ac)]:
        assert np.array_equal(a, b)
    m2 = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(m2.predict(X), m.predict(X))


def test_logistic_equals_sklearn_logistic_regression():
    rng = np.random.RandomState(0)
    X = rng.randn(80, 2)
    y = (X[:, 0] + 0.5 * rng.randn(80) > 0).astype(int)
    alpha = 0.5
    clf = MultiTaskKernelClassifier(loss="logistic", alpha=alpha, kernel="linear",
                                    task_matrix="independent", newton_tol=1e-14).fit(X, y)
    lr = LogisticRegression(C=1 / (2 * alpha), tol=1e-12, max_iter=10000).fit(X, y)
    np.testing.assert_allclose(clf.decision_function(X), lr.decision_function(X),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(clf.predict_proba(X), lr.predict_proba(X), atol=1e-7)
    h = np.array(clf.objective_history_)
    assert np.all(np.diff(h) <= 1e-12 * np.abs(h[:-1]))


def test_squared_classifier_equals_ridge_on_signed_labels():
    X, y, task = _hetero()
    labels = np.where(y > np.median(y), "pos", "neg")
    clf = MultiTaskKernelClassifier(alpha=0.3).fit(X, labels, task=task)
    assert list(clf.classes_) == ["neg", "pos"]
    ridge = MultiTaskKernelRidge(alpha=0.3).fit(X, np.where(labels == "pos", 1.0, -1.0),
                                               task=task)
    np.testing.assert_allclose(clf.decision_function(X), ridge.predict(X), rtol=1e-10)
    assert set(clf.predict(X, task=task)) <= {"neg", "pos"}


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_logistic_heterogeneous_solvers_agree(solver):
    X, y, task = _hetero()
    labels = (y > np.median(y)).astype(int)
    clf = MultiTaskKernelClassifier(loss="logistic", alpha=0.05, solver=solver,
                                    newton_tol=1e-12).fit(X, labels, task=task)
    ref = MultiTaskKernelClassifier(loss="logistic", alpha=0.05, solver="eigen",
                                    newton_tol=1e-12).fit(X, labels, task=task)
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X),
                               rtol=1e-6, atol=1e-7)


def test_ridge_cv_loo_selects_like_brute_force():
    X, y, _ = _hetero()
    Y = np.c_[y, y + 0.1 * np.cos(X[:, 1])]
    alphas = [0.01, 0.1, 1.0]
    cv = MultiTaskKernelRidgeCV(alphas=alphas, omegas=[0.0, 0.5]).fit(X, Y)
    assert cv.cv_method_ == "loo"
    best = None
    for omega in [0.0, 0.5]:
        for a in alphas:
            errs = []
            for i in range(0, len(Y), 7):
                for t in range(2):
                    Ym = Y.copy()
                    Ym[i, t] = np.nan
                    m = MultiTaskKernelRidge(alpha=a, omega=omega, tol=1e-13).fit(X, Ym)
                    errs.append((Y[i, t] - m.predict(X[i:i + 1])[0, t]) ** 2)
            score = -np.mean(errs)
            best = max(best or (score, a, omega), (score, a, omega))
    refit = MultiTaskKernelRidge(alpha=cv.alpha_, omega=cv.omega_).fit(X, Y)
    np.testing.assert_allclose(cv.predict(X), refit.predict(X), rtol=1e-10)


def test_ridge_cv_kfold_heterogeneous():
    X, y, task = _hetero()
    cv = MultiTaskKernelRidgeCV(alphas=[0.01, 1.0, 100.0], cv=4).fit(X, y, task=task)
    assert cv.cv_method_ == "kfold" and cv.alpha_ < 100.0
    assert len(cv.cv_results_["mean_test_score"]) == 3 * 6


def test_ridge_cv_iterable_splits_index_the_users_rows():
    # The problem sorts heterogeneous rows by task; the (train, test) indices
    # of an iterable cv refer to the user's order, whatever that order is.
    X, y, task = _hetero()
    perm = np.random.RandomState(1).permutation(len(y))
    X, y, task = X[perm], y[perm], task[perm]
    folds = [(np.arange(0, 40), np.arange(40, 60)), (np.arange(20, 60), np.arange(20))]
    alphas = [0.01, 1.0]
    cv = MultiTaskKernelRidgeCV(alphas=alphas, omegas=[0.5], cv=folds,
                                tol=1e-13).fit(X, y, task=task)
    expected = []
    for a in alphas:
        err = 0.0
        for train, test in folds:
            m = MultiTaskKernelRidge(alpha=a, omega=0.5, tol=1e-13).fit(
                X[train], y[train], task=task[train])
            err += np.sum((y[test] - m.predict(X[test], task=task[test])) ** 2)
        expected.append(-err / 40)
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"], expected, rtol=1e-8)


def test_backend_namespace_matches_numpy(xp_name):
    X, y, task = _hetero()
    Y = np.c_[y, np.cos(X[:, 1])]
    Ym = Y.copy()
    Ym[::5, 0] = np.nan
    for args, kw in [((X, Y), {}), ((X, Ym), {}), ((X, y), {"task": task})]:
        ref = MultiTaskKernelRidge(alpha=0.3, tol=1e-13).fit(*args, **kw).predict(X)
        xa = [to_xp(xp_name, a) for a in args]
        m = MultiTaskKernelRidge(alpha=0.3, tol=1e-13).fit(*xa, **kw)
        P = m.predict(to_xp(xp_name, X))
        assert type(P).__module__.split(".")[0] == type(xa[0]).__module__.split(".")[0]
        np.testing.assert_allclose(np.asarray(P.tolist() if hasattr(P, "tolist")
                                              else P), ref, rtol=1e-8, atol=1e-10)


# ------------------------------------------------ missing labels (classifiers)
def _partially_labelled(seed=0, n=40, T=3):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    Y = (X[:, :1] + 0.7 * rng.randn(n, T) > 0).astype(float)
    missing = rng.rand(n, T) < 0.25
    Y[missing] = np.nan
    rows, cols = np.nonzero(~missing)
    return X, Y, (X[rows], Y[rows, cols], cols)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_classifier_missing_labels_are_the_observed_entries_as_tasks(loss):
    """NaN in a 2-D float Y leaves the entry out of the loss: the fit equals
    the heterogeneous fit on the observed (row, task) pairs."""
    X, Y, (Xh, yh, th) = _partially_labelled()
    kw = dict(loss=loss, alpha=0.3, tol=1e-13, newton_tol=1e-13, max_newton_iter=100)
    shared = MultiTaskKernelClassifier(**kw).fit(X, Y)
    hetero = MultiTaskKernelClassifier(solver="cholesky", **kw).fit(Xh, yh, task=th)
    np.testing.assert_allclose(shared.decision_function(X), hetero.decision_function(X),
                               rtol=1e-6, atol=1e-8)
    # score: accuracy over the observed entries only.
    observed = ~np.isnan(Y)
    expected = np.mean((shared.predict(X) == Y)[observed])
    assert shared.score(X, Y) == pytest.approx(expected)
    assert 0.5 < expected < 1.0


def test_missing_labels_are_refused_where_they_cannot_be_missing():
    X, Y, _ = _partially_labelled()
    y = Y[:, 0].copy()
    with pytest.raises(ValueError, match="Input y contains NaN"):
        MultiTaskKernelClassifier().fit(X, y)          # 1-D y: one task, no missing
    Y_empty = Y.copy()
    Y_empty[:, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 of y.*no observed value"):
        MultiTaskKernelClassifier().fit(X, Y_empty)
    Y_inf = Y.copy()
    Y_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        MultiTaskKernelClassifier().fit(X, Y_inf)


def test_auto_solver_for_logistic_newton_steps_is_cg():
    X, y, task = _hetero()
    labels = (y > np.median(y)).astype(int)
    auto = MultiTaskKernelClassifier(loss="logistic", alpha=0.1).fit(X, labels, task=task)
    chol = MultiTaskKernelClassifier(loss="logistic", alpha=0.1, solver="cholesky").fit(
        X, labels, task=task)
    assert auto.solver_ == "cg" and chol.solver_ == "cholesky"
    np.testing.assert_allclose(auto.decision_function(X), chol.decision_function(X),
                               rtol=1e-6, atol=1e-8)
    squared = MultiTaskKernelClassifier(alpha=0.1).fit(X, labels, task=task)
    assert squared.solver_ == "cholesky"
