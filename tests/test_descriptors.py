"""Task descriptors: the descriptor task kernel, unseen tasks, the mean fallback.

Every exactness test compares with a reference built here: a hand-made task
matrix, a dense saddle-point solve of the separable kernel system (the
oracle), or scikit-learn's KernelRidge.
"""
import pickle

import numpy as np
import pytest
import sklearn
from sklearn.kernel_ridge import KernelRidge
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate

from rkhsmtl import (
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    TaskStructureLearning,
)
from rkhsmtl.tasks import descriptor_task_matrix, unseen_intercepts

GAMMA, TGAMMA, OMEGA, ALPHA, LAM = 0.5, 0.7, 0.6, 0.3, 0.8


def _hetero(seed=0, n_tasks=4, per=12):
    rng = np.random.RandomState(seed)
    Zt = rng.randn(n_tasks, 2)
    task = np.repeat(np.arange(n_tasks), per)
    X = rng.randn(task.size, 2)
    y = np.sin(X[:, 0] + Zt[task, 0]) + 0.5 * Zt[task, 1] + 0.1 * rng.randn(task.size)
    return X, y, task, Zt


def _model(**kw):
    params = dict(alpha=ALPHA, gamma=GAMMA, task_matrix="descriptors",
                  task_gamma=TGAMMA, omega=OMEGA, task_intercept_alpha=LAM,
                  solver="cholesky")
    params.update(kw)
    return MultiTaskKernelRidge(**params)


def _hand_matrix(Zt, omega=OMEGA):
    return (1 - omega) * np.eye(len(Zt)) + omega * rbf_kernel(Zt, gamma=TGAMMA)


def _oracle_hetero(X, y, task, A):
    """Dense saddle system (G + alpha I) c + E b = y, E^T c = 0."""
    N, T = len(y), A.shape[0]
    G = rbf_kernel(X, gamma=GAMMA) * A[np.ix_(task, task)]
    E = np.eye(T)[task]
    M = np.block([[G + ALPHA * np.eye(N), E], [E.T, np.zeros((T, T))]])
    sol = np.linalg.solve(M, np.r_[y, np.zeros(T)])
    return sol[:N], sol[N:]


def _oracle_shared(X, Y, A):
    """Dense np.kron solve, vec(C) task-major: (A kron K + alpha I) c + 1-blocks b."""
    n, T = Y.shape
    K = rbf_kernel(X, gamma=GAMMA)
    E = np.kron(np.eye(T), np.ones((n, 1)))
    M = np.block([[np.kron(A, K) + ALPHA * np.eye(n * T), E],
                  [E.T, np.zeros((T, T))]])
    sol = np.linalg.solve(M, np.r_[Y.T.ravel(), np.zeros(T)])
    return sol[:n * T].reshape(T, n).T, sol[n * T:]


# ------------------------------------------------------------------ exactness
def test_descriptor_kernel_equals_hand_built_task_matrix():
    X, y, task, Zt = _hetero()
    A = _hand_matrix(Zt)
    np.testing.assert_allclose(
        descriptor_task_matrix(Zt, "rbf", TGAMMA, None, OMEGA), A, rtol=1e-12)
    desc = _model().fit(X, y, task=task, task_features=Zt)
    user = _model(task_matrix=A).fit(X, y, task=task)
    np.testing.assert_allclose(desc.task_matrix_, A, rtol=1e-12)
    np.testing.assert_allclose(desc.predict(X), user.predict(X), rtol=1e-10, atol=1e-12)
    Y = np.c_[np.sin(X[:12, 0]), np.cos(X[:12, 1]), X[:12, 0], np.sin(X[:12, 1])]
    desc = _model(solver="eigen").fit(X[:12], Y, task_features=Zt)
    user = _model(solver="eigen", task_matrix=A).fit(X[:12], Y)
    np.testing.assert_allclose(desc.predict(X), user.predict(X), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["cholesky", "cg"])
def test_unseen_task_equals_dense_oracle_heterogeneous(solver):
    X, y, task, Zt = _hetero()
    train = task < 3                         # task 3 is never seen
    Zs, z_new = Zt[:3], Zt[3:]
    model = _model(solver=solver, tol=1e-13).fit(X[train], y[train], task=task[train],
                                                 task_features=Zs)
    A = _hand_matrix(Zs)
    c, b = _oracle_hetero(X[train], y[train], task[train], A)
    a_new = OMEGA * rbf_kernel(z_new, Zs, gamma=TGAMMA)[0]          # (T,)
    Kx = rbf_kernel(X, X[train], gamma=GAMMA)
    b_new = b.mean() + a_new @ np.linalg.solve(A + LAM * np.eye(3), b - b.mean())
    expected = Kx @ (c * a_new[task[train]]) + b_new
    got = model.predict(X, task=np.full(len(X), 3), task_features=z_new)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    # The oracle is the model's own solution on the seen tasks.
    seen = Kx @ (c[:, None] * A[task[train]]) + b
    np.testing.assert_allclose(model.predict(X), seen, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(
        unseen_intercepts(A, a_new[None, :], b, LAM), [b_new], rtol=1e-12)


def test_unseen_task_equals_dense_oracle_shared_and_nystroem():
    X, _, _, Zt = _hetero(per=5)
    X = X[:15]
    rng = np.random.RandomState(1)
    Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0] + 0.3), X[:, 1], np.cos(X[:, 1])]
    Y = Y + 0.1 * rng.randn(*Y.shape)
    Zs, z_new = Zt[:4], rng.randn(1, 2)
    A = _hand_matrix(Zs)
    C, b = _oracle_shared(X, Y, A)
    a_new = OMEGA * rbf_kernel(z_new, Zs, gamma=TGAMMA)[0]
    b_new = b.mean() + a_new @ np.linalg.solve(A + LAM * np.eye(4), b - b.mean())
    Xq = rng.randn(7, 2)
    expected = rbf_kernel(Xq, X, gamma=GAMMA) @ C @ a_new + b_new
    frame = pytest.importorskip("pandas").DataFrame(z_new, index=["new"])
    for kw in (dict(solver="eigen"), dict(solver="auto", approximation="nystroem",
                                          n_components=15, random_state=0)):
        model = _model(**kw).fit(X, Y, task_features=Zs)
        got = model.predict(Xq, task=["new"] * 7, task_features=frame)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_nystroem_unseen_equals_exact_heterogeneous():
    X, y, task, Zt = _hetero()
    train = task < 3
    fit = dict(task=task[train], task_features=Zt[:3])
    exact = _model().fit(X[train], y[train], **fit)
    approx = _model(solver="auto", approximation="nystroem", n_components=int(train.sum()),
                    random_state=0).fit(X[train], y[train], **fit)
    new = dict(task=np.full(len(X), 3), task_features=Zt[3:])
    np.testing.assert_allclose(approx.predict(X, **new), exact.predict(X, **new),
                               rtol=1e-6, atol=1e-7)


def test_one_hot_linear_descriptors_are_the_independent_model():
    X, y, task, _ = _hetero()
    onehot = np.eye(4)
    desc = _model(task_kernel="linear", fit_intercept=False).fit(
        X, y, task=task, task_features=onehot)
    np.testing.assert_allclose(desc.task_matrix_, np.eye(4), atol=1e-14)
    indep = _model(task_matrix="independent", fit_intercept=False).fit(X, y, task=task)
    np.testing.assert_allclose(desc.predict(X), indep.predict(X), rtol=1e-10, atol=1e-12)
    for t in range(4):
        kr = KernelRidge(alpha=ALPHA, kernel="rbf", gamma=GAMMA).fit(X[task == t],
                                                                      y[task == t])
        np.testing.assert_allclose(desc.predict(X)[:, t], kr.predict(X), rtol=1e-8,
                                   atol=1e-10)
    # A new task orthogonal to every seen one shares nothing: f_* = 0.
    new = desc.predict(X[:5], task=[9] * 5, task_features=np.zeros((1, 4)))
    np.testing.assert_allclose(new, 0.0, atol=1e-14)


# ------------------------------------------------------------------ fallback
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mean_fallback_is_the_average_over_training_tasks():
    X, y, task, Zt = _hetero()
    Xq = X[:9]
    models = [
        MultiTaskKernelRidge(alpha=ALPHA, gamma=GAMMA).fit(X, y, task=task),
        MultiTaskKernelRidge(alpha=ALPHA, approximation="nystroem", n_components=20,
                             random_state=0).fit(X, y, task=task),
        TaskStructureLearning(alpha=ALPHA, max_iter=3).fit(X, y, task=task),
        # Shared inputs (exact leave-one-out selection).
        MultiTaskKernelRidgeCV(alphas=[0.1, 1.0]).fit(
            X[:12], np.c_[y[:12], y[12:24], y[24:36]]),
        _model().fit(X, y, task=task, task_features=Zt),
    ]
    for model in models:
        got = model.predict(Xq, task=[99] * 9, unknown_task="mean")
        # (1/T) sum_t (f_t(x) + b_t): the task-matrix row averaged over tasks.
        np.testing.assert_allclose(got, model.predict(Xq).mean(axis=1), rtol=1e-12)
        assert model.score(Xq, y[:9], task=[99] * 9, unknown_task="mean") < 1.0
    # The same, from the oracle's coefficients and A's mean row: B = c a.
    A = _hand_matrix(Zt)
    c, b = _oracle_hetero(X, y, task, A)
    a_mean = A.mean(axis=0)
    expected = rbf_kernel(Xq, X, gamma=GAMMA) @ (c * a_mean[task]) + b.mean()
    np.testing.assert_allclose(models[-1].predict(Xq, task=[99] * 9, unknown_task="mean"),
                               expected, rtol=1e-8, atol=1e-10)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_mean_fallback_of_classifiers():
    from rkhsmtl import TaskStructureLearningClassifier

    X, y, task, _ = _hetero()
    yc = (y > np.median(y)).astype(int)
    for clf in (MultiTaskKernelClassifier(loss="logistic", alpha=0.1),
                TaskStructureLearningClassifier(alpha=0.1, max_iter=2)):
        clf.fit(X, yc, task=task)
        scores = clf.decision_function(X[:6], task=[99] * 6, unknown_task="mean")
        np.testing.assert_allclose(scores, clf.decision_function(X[:6]).mean(axis=1),
                                   rtol=1e-12)
        np.testing.assert_array_equal(
            clf.predict(X[:6], task=[99] * 6, unknown_task="mean"), (scores > 0) * 1)
    logistic = MultiTaskKernelClassifier(loss="logistic", alpha=0.1).fit(X, yc, task=task)
    scores = logistic.decision_function(X[:6], task=[99] * 6, unknown_task="mean")
    proba = logistic.predict_proba(X[:6], task=[99] * 6, unknown_task="mean")
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-10)


def test_mixed_seen_unseen_rows_and_stored_extra_rows():
    pd = pytest.importorskip("pandas")
    X, y, task, Zt = _hetero()
    labels = np.array(["a", "b", "c", "d"])[task]
    frame = pd.DataFrame(Zt, index=["a", "b", "c", "d"], columns=["z1", "z2"])
    train = labels != "d"
    model = _model().fit(X[train], y[train], task=labels[train], task_features=frame)
    assert model.task_features_.shape == (3, 2)
    mixed = np.array(["a", "d", "b", "d"])
    # The extra row "d" of the fit DataFrame is kept: no task_features needed.
    got = model.predict(X[:4], task=mixed)
    ref = model.predict(X[:4], task=mixed, task_features=frame.loc[["d", "a"]])
    np.testing.assert_allclose(got, ref, rtol=1e-14)
    seen = model.predict(X[:4])                  # columns a, b, c
    np.testing.assert_allclose(got[[0, 2]], [seen[0, 0], seen[2, 1]], rtol=1e-12)
    # Classifier: the squared loss on +/-1 labels equals the ridge, unseen too.
    yc = np.where(y > np.median(y), "hi", "lo")
    clf = MultiTaskKernelClassifier(alpha=ALPHA, gamma=GAMMA, task_matrix="descriptors",
                                    task_gamma=TGAMMA, omega=OMEGA,
                                    task_intercept_alpha=LAM, solver="cholesky")
    clf.fit(X[train], yc[train], task=labels[train], task_features=frame)
    ridge = _model().fit(X[train], np.where(yc[train] == "lo", 1.0, -1.0),
                         task=labels[train], task_features=frame)
    np.testing.assert_allclose(clf.decision_function(X, task=["d"] * len(X)),
                               ridge.predict(X, task=["d"] * len(X)), rtol=1e-8,
                               atol=1e-10)


# ----------------------------------------------------------------- bad input
def test_bad_descriptors_are_clear_errors():
    pd = pytest.importorskip("pandas")
    X, y, task, Zt = _hetero()
    bad = Zt.copy()
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match=r"'task_features'.*NaN.*impute"):
        _model().fit(X, y, task=task, task_features=bad)
    with pytest.raises(ValueError, match=r"'task_features'.*one row per task: 4 rows.*got 3"):
        _model().fit(X, y, task=task, task_features=Zt[:3])
    with pytest.raises(ValueError, match=r"'task_features'.*required.*|needs the 'task_features'"):
        _model().fit(X, y, task=task)
    dup = pd.DataFrame(np.r_[Zt, Zt[:1]], index=[0, 1, 2, 3, 0])
    with pytest.raises(ValueError, match=r"'task_features'.*\['0'\] appear more than once"):
        _model().fit(X, y, task=task, task_features=dup)
    with pytest.raises(ValueError, match=r"no row for task\(s\) \['3'\]"):
        _model().fit(X, y, task=task, task_features=pd.DataFrame(Zt[:3]))
    model = _model().fit(X, y, task=task, task_features=Zt)
    with pytest.raises(ValueError,
                       match=r"'task_features'.*3 descriptor column\(s\).*fitted with 2"):
        model.predict(X[:2], task=[7, 7], task_features=np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"'task_features'.*1 rows.*got 2"):
        model.predict(X[:2], task=[7, 7], task_features=np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"row of task 1 disagrees.*drop its row"):
        model.predict(X[:2], task=[1, 7], task_features=pd.DataFrame(
            [Zt[1] + 1.0, Zt[0]], index=[1, 7]))
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) \['7'\].*task_features=.*"
                                         r"unknown_task='mean'"):
        model.predict(X[:2], task=[1, 7])
    with pytest.raises(ValueError, match=r"'unknown_task'.*'raise'.*'mean'.*got 'pooled'"):
        model.predict(X[:2], task=[1, 7], unknown_task="pooled")
    plain = MultiTaskKernelRidge().fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"'task_features' parameter of predict needs.*"
                                         r"task_matrix='descriptors'"):
        plain.predict(X[:2], task=[1, 7], task_features=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"Unknown task label"):
        plain.predict(X[:2], task=[1, 7])
    with pytest.raises(ValueError, match=r"not available in MultiTaskKernelRidgeCV"):
        MultiTaskKernelRidgeCV(task_matrix="descriptors").fit(X, y, task=task)
    # Inputs untouched.
    Zc = Zt.copy()
    _model().fit(X, y, task=task, task_features=Zt)
    np.testing.assert_array_equal(Zt, Zc)


# ------------------------------------------------------- pickle and routing
def test_pickle_round_trip_keeps_unseen_predictions():
    X, y, task, Zt = _hetero()
    model = _model().fit(X[task < 3], y[task < 3], task=task[task < 3],
                         task_features=Zt[:3])
    clone = pickle.loads(pickle.dumps(model))
    kw = dict(task=np.full(len(X), 3), task_features=Zt[3:])
    np.testing.assert_array_equal(clone.predict(X, **kw), model.predict(X, **kw))


def test_metadata_routing_with_leave_tasks_out():
    pd = pytest.importorskip("pandas")
    X, y, task, Zt = _hetero(n_tasks=6, per=8)
    frame = pd.DataFrame(Zt, index=np.arange(6))
    cv = GroupKFold(3)
    with sklearn.config_context(enable_metadata_routing=True):
        est = _model().set_fit_request(task=True, task_features=True)
        est = est.set_score_request(task=True, task_features=True)
        # Every test fold holds tasks the fold never trained on; the fit
        # DataFrame carries their descriptors.
        res = cross_validate(est, X, y, cv=cv, params={
            "groups": task, "task": task, "task_features": frame})
        assert np.all(np.isfinite(res["test_score"]))
        gs = GridSearchCV(est, {"omega": [0.5, 1.0]}, cv=cv)
        gs.fit(X, y, groups=task, task=task, task_features=frame)
        assert gs.best_params_["omega"] in (0.5, 1.0)
    # The fold score is the R^2 of the unseen-task predictions.
    train, test = next(cv.split(X, y, groups=task))
    m = _model().fit(X[train], y[train], task=task[train], task_features=frame)
    assert not set(task[test]) & set(m.tasks_.tolist())
    expected = m.score(X[test], y[test], task=task[test])
    assert res["test_score"][0] == pytest.approx(expected, rel=1e-10)
