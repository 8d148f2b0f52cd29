"""Tests of rkhsmtl.linear: parity with scikit-learn, prox operators against
direct solutions, optimality at convergence, API conformance, errors."""
import doctest
import sys
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LogisticRegression, MultiTaskLasso
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import rkhsmtl.linear as lin
from rkhsmtl.linear import (
    LinearMultiTaskClassifier,
    LinearMultiTaskClassifierCV,
    LinearMultiTaskRegressor,
    LinearMultiTaskRegressorCV,
    MultiTaskDatafit,
    chain_graph,
    make_linear_multitask,
    regularization_path,
)
from rkhsmtl.linear import penalties as P
from rkhsmtl.linear.penalties.cluster import project_cluster_set, project_eigenvalues


# -- parity with scikit-learn ----------------------------------------------------

@pytest.mark.parametrize("fit_intercept", [True, False])
def test_l21_matches_multitask_lasso(fit_intercept):
    X, Y, _, _ = make_linear_multitask("l21", n_tasks=4, n_features=12, n_samples=60,
                                       shared_inputs=True, random_state=0)
    Y = Y + 0.7  # a non-zero mean exercises the intercepts
    alpha = 0.08
    sk = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14,
                        max_iter=100_000).fit(X, Y)
    # Complete shared data: our loss is (1/2n)||Y - XW - 1b^T||_F^2, as sklearn's.
    ours = LinearMultiTaskRegressor(lambda1=alpha, fit_intercept=fit_intercept,
                                    tol=1e-15, max_iter=20_000).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, sk.coef_.T, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_ + np.zeros(4), atol=1e-6)


def test_lasso_matches_per_task_lasso():
    rng = np.random.default_rng(1)
    sizes = [30, 45, 60]
    X = rng.standard_normal((sum(sizes), 8))
    task = np.repeat(["a", "b", "c"], sizes)
    y = X @ rng.standard_normal(8) + 0.3 * rng.standard_normal(len(task)) + 1.0
    alpha = 0.05
    # "uniform": each task's loss averaged over its own rows = sklearn's Lasso.
    ours = LinearMultiTaskRegressor(penalty="lasso", lambda1=alpha,
                                    task_weighting="uniform", tol=1e-15,
                                    max_iter=20_000).fit(X, y, task=task)
    for t, label in enumerate(ours.tasks_):
        rows = task == label
        sk = Lasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X[rows], y[rows])
        np.testing.assert_allclose(ours.coef_[:, t], sk.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_[t], sk.intercept_, atol=1e-6)


def test_logistic_matches_logistic_regression_per_task():
    X, y, task, _ = make_linear_multitask("lasso", n_tasks=3, n_features=5,
                                          n_samples=80, noise=1.0, random_state=2)
    labels = (y > 0).astype(int)
    C, n = 0.5, 80
    # sklearn: C sum(loss) + ||w||^2 / 2  ==  C n [mean(loss) + ||w||^2 / (2 C n)].
    ours = LinearMultiTaskClassifier(penalty="lasso", lambda1=1e-12,
                                     lambda2=1.0 / (2 * C * n), tol=1e-15,
                                     max_iter=20_000).fit(X, labels, task=task)
    for t in range(3):
        rows = task == t
        sk = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X[rows], labels[rows])
        np.testing.assert_allclose(ours.coef_[:, t], sk.coef_.ravel(), atol=1e-5)
        np.testing.assert_allclose(ours.intercept_[t], sk.intercept_[0], atol=1e-5)
    proba = ours.predict_proba(X[:5], task=task[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_missing_entries_equal_heterogeneous_fit():
    X, Y, _, _ = make_linear_multitask("l21", n_tasks=3, n_features=6, n_samples=40,
                                       shared_inputs=True, random_state=3)
    rng = np.random.default_rng(0)
    Ym = Y.copy()
    Ym[rng.random(Y.shape) < 0.3] = np.nan
    shared = LinearMultiTaskRegressor(lambda1=0.05, tol=1e-14, max_iter=10_000).fit(X, Ym)
    rows, cols = np.nonzero(~np.isnan(Ym))
    hetero = LinearMultiTaskRegressor(lambda1=0.05, tol=1e-14, max_iter=10_000).fit(
        X[rows], Ym[rows, cols], task=cols)
    np.testing.assert_allclose(shared.coef_, hetero.coef_, atol=1e-8)
    assert shared.predict(X).shape == (40, 3)
    assert np.isfinite(shared.score(X, Ym))


# -- gradients of the losses -------------------------------------------------------

@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("weighting", ["samples", "uniform"])
def test_loss_gradient_finite_differences(loss, layout, weighting):
    rng = np.random.default_rng(4)
    d, T = 4, 3
    if layout == "shared":
        X = rng.standard_normal((15, d))
        Y = rng.standard_normal((15, T))
        Y[rng.random(Y.shape) < 0.2] = np.nan
        if loss == "logistic":
            Y = np.where(np.isnan(Y), np.nan, np.sign(Y))
        codes = None
    else:
        X = rng.standard_normal((25, d))
        codes = np.r_[np.arange(T), rng.integers(0, T, 22)]
        Y = rng.standard_normal(25)
        if loss == "logistic":
            Y = np.sign(Y)
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    fit = MultiTaskDatafit(X, Y, codes, T, loss=loss, sample_weight=sw,
                           task_weighting=weighting)
    W, b = rng.standard_normal((d, T)), rng.standard_normal(T)
    _, gW, gb = fit.value_and_grad(W, b)
    h = 1e-6
    num_W = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        E = np.zeros_like(W)
        E[idx] = h
        num_W[idx] = (fit.value(W + E, b) - fit.value(W - E, b)) / (2 * h)
    num_b = np.array([(fit.value(W, b + h * e) - fit.value(W, b - h * e)) / (2 * h)
                      for e in np.eye(T)])
    np.testing.assert_allclose(gW, num_W, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, num_b, rtol=1e-6, atol=1e-8)


# -- proximal operators -------------------------------------------------------------

def _penalties(shape):
    d, T = shape
    return {
        "l21": P.L21(0.7),
        "lasso": P.Lasso(0.4),
        "trace": P.Trace(0.8),
        "graph_l1": P.Graph(0.3, chain_graph(T), lambda3=0.5),
        "dirty": P.Dirty(0.6, 0.3),
        "robust_feature": P.RobustFeature(0.5, 0.7),
        "robust_lowrank": P.RobustLowRank(0.6, 0.5),
        "sparse_trace": P.SparseTrace(0.3, 0.6),
    }


@pytest.mark.parametrize("name", list(_penalties((3, 2))))
def test_prox_solves_its_subproblem(name):
    rng = np.random.default_rng(5)
    shape = (3, 2)
    pen = _penalties(shape)[name]
    V = pen.init(rng.standard_normal(shape)) + (
        rng.standard_normal((2,) + shape) if isinstance(pen, P.PairPenalty) else 0)
    step = 0.9

    def phi(Z):
        Z = Z.reshape(V.shape)
        return step * pen.value(Z) + 0.5 * np.sum((Z - V) ** 2)

    p = pen.prox(V, step)
    # Direct numerical solution of the small subproblem.
    direct = minimize(phi, V.ravel(), method="Powell",
                      options={"xtol": 1e-10, "ftol": 1e-14, "maxiter": 200_000})
    assert phi(p) <= direct.fun + 1e-9
    np.testing.assert_allclose(p.ravel(), direct.x, atol=2e-3)
    # Exact characterization: phi is 1-strongly convex, so p is its minimizer
    # iff phi(Z) >= phi(p) + ||Z - p||^2 / 2 for every Z.
    for scale in (1e-3, 1e-1, 1.0):
        for _ in range(200):
            Z = p + scale * rng.standard_normal(V.shape) * (rng.random(V.shape) < 0.6)
            assert phi(Z) >= phi(p) + 0.5 * np.sum((Z - p) ** 2) - 1e-10


def test_svt_is_the_exact_trace_prox():
    rng = np.random.default_rng(6)
    V = rng.standard_normal((5, 4))
    U, s, Vt = np.linalg.svd(V, full_matrices=False)
    thr = s[1] + 0.1  # keeps exactly one singular value
    out = P.Trace(1.0).prox(V, thr)
    np.testing.assert_allclose(out, (s[0] - thr) * np.outer(U[:, 0], Vt[0]), atol=1e-12)


def test_cluster_projection_is_the_euclidean_projection():
    rng = np.random.default_rng(7)
    T, k = 5, 2
    A = rng.standard_normal((T, T))
    M = A + A.T
    Pm = project_cluster_set(M, k)
    w = np.linalg.eigvalsh(Pm)
    assert w.min() >= -1e-10 and w.max() <= 1 + 1e-10
    assert abs(np.trace(Pm) - k) < 1e-9
    # Variational inequality <M - P, Z - P> <= 0 for feasible Z.
    for _ in range(300):
        Q, _ = np.linalg.qr(rng.standard_normal((T, T)))
        Z = (Q * project_eigenvalues(rng.standard_normal(T) * 2, k)) @ Q.T
        assert np.sum((M - Pm) * (Z - Pm)) <= 1e-9
    # Eigenvalue projection against a direct constrained solve.
    v = rng.standard_normal(T) * 2
    direct = minimize(lambda m: 0.5 * np.sum((m - v) ** 2), np.full(T, k / T),
                      method="SLSQP", bounds=[(0, 1)] * T,
                      constraints=[{"type": "eq", "fun": lambda m: m.sum() - k}],
                      options={"ftol": 1e-14, "maxiter": 1000})
    np.testing.assert_allclose(project_eigenvalues(v, k), direct.x, atol=1e-6)


# -- solver behaviour and optimality -------------------------------------------------

def _gradient(model, X, y, task):
    codes = None if task is None else np.searchsorted(model.tasks_, task)
    fit = MultiTaskDatafit(X, y, codes, len(model.tasks_))
    _, G, gb = fit.value_and_grad(model.coef_, model.intercept_)
    return G + 2 * model.lambda2 * model.coef_, gb


def test_l21_optimality_conditions():
    X, y, task, _ = make_linear_multitask("l21", n_tasks=4, n_features=15,
                                          n_samples=30, noise=0.5, random_state=8)
    lam = 0.1
    m = LinearMultiTaskRegressor(lambda1=lam, lambda2=0.01, tol=1e-15,
                                 max_iter=20_000).fit(X, y, task=task)
    assert np.all(np.diff(m.objective_history_) <= 0)
    G, gb = _gradient(m, X, y, task)
    np.testing.assert_allclose(gb, 0, atol=1e-7)
    norms = np.linalg.norm(m.coef_, axis=1)
    active = norms > 0
    assert 0 < active.sum() < 15
    np.testing.assert_allclose(G[active] + lam * m.coef_[active] / norms[active, None],
                               0, atol=1e-6)
    assert np.all(np.linalg.norm(G[~active], axis=1) <= lam * (1 + 1e-6))


def test_trace_optimality_conditions():
    X, y, task, _ = make_linear_multitask("trace", n_tasks=5, n_features=8, rank=2,
                                          n_samples=30, noise=0.5, random_state=9)
    lam = 0.2
    m = LinearMultiTaskRegressor(penalty="trace", lambda1=lam, tol=1e-15,
                                 max_iter=20_000).fit(X, y, task=task)
    assert np.all(np.diff(m.objective_history_) <= 0)
    G, _ = _gradient(m, X, y, task)
    U, s, Vt = np.linalg.svd(m.coef_)
    r = int(np.sum(s > 1e-8 * s[0]))
    assert 1 <= r < 5
    U1, V1 = U[:, :r], Vt[:r].T
    # -G = lam (U1 V1^T + Z) with U1^T Z = 0, Z V1 = 0, ||Z||_2 <= 1.
    np.testing.assert_allclose(U1.T @ (-G) @ V1, lam * np.eye(r), atol=1e-6)
    np.testing.assert_allclose((-G) @ V1 - U1 @ (U1.T @ (-G) @ V1), 0, atol=1e-6)
    Z = (-G) - lam * U1 @ V1.T
    assert np.linalg.norm(Z, 2) <= lam * (1 + 1e-6)


@pytest.mark.parametrize("penalty,extra", [
    ("lasso", {}), ("graph", {"graph": chain_graph(4), "lambda3": 0.01}),
    ("cluster", {"lambda3": 0.1}), ("dirty", {}), ("robust_feature", {}),
    ("robust_lowrank", {}), ("sparse_trace", {})])
def test_every_penalty_monotone_and_components(penalty, extra):
    X, y, task, _ = make_linear_multitask("dirty", n_tasks=4, n_features=10,
                                          n_samples=25, random_state=10)
    for cls, target in ((LinearMultiTaskRegressor, y), (LinearMultiTaskClassifier, y > 0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            m = cls(penalty=penalty, lambda1=0.05, max_iter=300, **extra).fit(
                X, target, task=task)
        assert np.all(np.diff(m.objective_history_) <= 1e-12 * abs(m.objective_history_[0]))
        if penalty in P.PAIR_PENALTIES:
            np.testing.assert_allclose(m.coef_components_["P"] + m.coef_components_["Q"],
                                       m.coef_)
        if penalty == "cluster":
            M = m.coef_components_["M"]
            assert abs(np.trace(M) - 2) < 1e-8
            assert np.linalg.eigvalsh(M).min() > -1e-8


def test_stopping_rules_and_warm_start():
    X, y, task, _ = make_linear_multitask("l21", random_state=11)
    m = LinearMultiTaskRegressor(stopping="max_iter", max_iter=7).fit(X, y, task=task)
    assert m.n_iter_ == 7 and len(m.objective_history_) == 8
    cold = LinearMultiTaskRegressor(stopping="absolute_objective", tol=1e-12,
                                    max_iter=5000).fit(X, y, task=task)
    warm = LinearMultiTaskRegressor(stopping="absolute_objective", tol=1e-12,
                                    max_iter=5000, warm_start=True)
    warm.fit(X, y, task=task)
    warm.set_params(lambda1=0.09).fit(X, y, task=task)
    cold2 = LinearMultiTaskRegressor(lambda1=0.09, stopping="absolute_objective",
                                     tol=1e-12, max_iter=5000).fit(X, y, task=task)
    assert warm.n_iter_ < cold2.n_iter_
    np.testing.assert_allclose(warm.coef_, cold2.coef_, atol=1e-5)
    assert cold.n_iter_ > 0


def test_warm_started_path_equals_cold_fits():
    X, y, task, _ = make_linear_multitask("l21", n_tasks=4, n_features=12,
                                          n_samples=30, random_state=12)
    path = regularization_path(X, y, task, penalty="l21", n_lambdas=6, eps=1e-2,
                               tol=1e-13, max_iter=20_000)
    assert np.all(np.diff(path.lambdas) < 0)
    # lambda1_max zeroes every row (up to rounding at the exact threshold).
    assert np.abs(path.coefs[0]).max() < 1e-12
    assert np.any(path.coefs[1] != 0)
    for lam, coef, b in zip(path.lambdas, path.coefs, path.intercepts):
        cold = LinearMultiTaskRegressor(lambda1=lam, tol=1e-13, max_iter=20_000).fit(
            X, y, task=task)
        np.testing.assert_allclose(coef, cold.coef_, atol=1e-6)
        np.testing.assert_allclose(b, cold.intercept_, atol=1e-6)
    tr = regularization_path(X, y, task, penalty="trace", n_lambdas=3)
    assert np.abs(tr.coefs[0]).max() < 1e-12


# -- simulations: recovery at low noise -----------------------------------------------

def test_l21_recovers_the_shared_support():
    X, y, task, W = make_linear_multitask("l21", n_tasks=5, n_features=30,
                                          n_informative=5, n_samples=60, noise=0.01,
                                          random_state=13)
    m = LinearMultiTaskRegressor(lambda1=0.05, tol=1e-10).fit(X, y, task=task)
    found = np.linalg.norm(m.coef_, axis=1) > 1e-8
    np.testing.assert_array_equal(found, np.linalg.norm(W, axis=1) > 0)


def test_trace_recovers_the_rank():
    X, y, task, W = make_linear_multitask("trace", n_tasks=6, n_features=10, rank=2,
                                          n_samples=80, noise=0.01, random_state=14)
    m = LinearMultiTaskRegressor(penalty="trace", lambda1=0.05, tol=1e-10).fit(
        X, y, task=task)
    s = np.linalg.svd(m.coef_, compute_uv=False)
    assert int(np.sum(s > 1e-8 * s[0])) == np.linalg.matrix_rank(W) == 2


@pytest.mark.parametrize("structure", lin._simulate.STRUCTURES)
def test_simulator_shapes(structure):
    X, y, task, W = make_linear_multitask(structure, n_tasks=4, n_features=6,
                                          n_samples=10, random_state=0)
    assert X.shape == (40, 6) and y.shape == (40,) and W.shape == (6, 4)
    np.testing.assert_array_equal(np.bincount(task), [10] * 4)


# -- errors ---------------------------------------------------------------------------

def test_bad_inputs_give_clear_errors():
    X, y, task, _ = make_linear_multitask("graph", n_tasks=4, random_state=0)
    with pytest.raises(ValueError, match=r"'graph' parameter must have shape .*"
                       r"n_tasks=4; got shape \(3, 2\).*chain_graph"):
        LinearMultiTaskRegressor(penalty="graph", graph=np.ones((3, 2))).fit(
            X, y, task=task)
    with pytest.raises(ValueError, match="needs the network matrix"):
        LinearMultiTaskRegressor(penalty="graph").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"'n_clusters'.*at most the number of tasks "
                       r"\(4\); got n_clusters=6. Lower n_clusters"):
        LinearMultiTaskRegressor(penalty="cluster", n_clusters=6).fit(X, y, task=task)
    for bad in (0.0, -1.0):
        with pytest.raises(InvalidParameterError,
                           match=rf"'lambda1' parameter .* range \(0.0, inf\)\. Got {bad}"):
            LinearMultiTaskRegressor(lambda1=bad).fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"'lambda3' parameter must be > 0"):
        LinearMultiTaskRegressor(penalty="dirty", lambda3=0.0).fit(X, y, task=task)
    labels = np.array(["a", "b", "c"])[np.arange(len(y)) % 3]
    with pytest.raises(ValueError, match="Only binary classification.*3 classes"):
        LinearMultiTaskClassifier().fit(X, labels, task=task)
    one_class = np.where(task == 0, "a", np.where(y > 0, "a", "b"))
    with pytest.raises(ValueError, match=r"Task 0 has labels of only one class"):
        LinearMultiTaskClassifier().fit(X, one_class, task=task)
    with pytest.raises(ValueError, match="'lambdas' values must be positive"):
        regularization_path(X, y, task, lambdas=[0.1, -1.0])


# -- sklearn conformance, CV, plots, docstrings ----------------------------------------

@parametrize_with_checks([
    LinearMultiTaskRegressor(),
    LinearMultiTaskClassifier(),
    # Small grids keep the ~50 checks quick; the CV machinery is the same.
    # The sample-weight check compares predictions to rtol=1e-7 at
    # lambda1 = 1e-3 lambda1_max on 30 features and 15 rows (near
    # interpolation): both fits must be tighter than the default gap 1e-6.
    LinearMultiTaskRegressorCV(n_lambdas=3, cv=3, tol=1e-9, max_iter=3000),
    LinearMultiTaskClassifierCV(n_lambdas=3, cv=3),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_predict_shapes_and_task_column():
    X, Y, _, _ = make_linear_multitask("l21", n_tasks=3, shared_inputs=True,
                                       random_state=0)
    m = LinearMultiTaskRegressor().fit(X, Y)
    assert m.predict(X).shape == (50, 3)
    assert m.predict(X, task=np.zeros(50, int)).shape == (50,)
    assert LinearMultiTaskRegressor().fit(X, Y[:, 0]).predict(X).shape == (50,)
    X2, y2, task2, _ = make_linear_multitask("l21", n_tasks=3, random_state=0)
    Xc = np.column_stack([X2, task2])
    a = LinearMultiTaskRegressor(task_column=-1).fit(Xc, y2)
    b = LinearMultiTaskRegressor().fit(X2, y2, task=task2)
    np.testing.assert_allclose(a.coef_, b.coef_)
    np.testing.assert_allclose(a.predict(Xc), b.predict(X2, task=task2))
    clf = LinearMultiTaskClassifier().fit(X, Y > 0)
    assert clf.predict_proba(X).shape == (50, 3, 2)
    assert clf.decision_function(X).shape == (50, 3)


def test_cv_estimators():
    X, y, task, _ = make_linear_multitask("l21", n_tasks=3, n_features=10,
                                          n_samples=30, random_state=15)
    cv1 = LinearMultiTaskRegressorCV(n_lambdas=5, lambda2s=[0.0, 0.1], cv=3).fit(
        X, y, task=task)
    cv2 = LinearMultiTaskRegressorCV(n_lambdas=5, lambda2s=[0.0, 0.1], cv=3,
                                     n_jobs=2).fit(X, y, task=task)
    assert len(cv1.cv_results_["mean_test_score"]) == 10
    np.testing.assert_allclose(cv1.cv_results_["mean_test_score"],
                               cv2.cv_results_["mean_test_score"])
    assert cv1.lambda1_ in cv1.lambdas_ and cv1.lambda2_ in (0.0, 0.1)
    best = np.argmax(cv1.cv_results_["mean_test_score"])
    assert cv1.cv_results_["lambda1"][best] == cv1.lambda1_
    refit = LinearMultiTaskRegressor(lambda1=cv1.lambda1_, lambda2=cv1.lambda2_).fit(
        X, y, task=task)
    np.testing.assert_allclose(cv1.coef_, refit.coef_)
    clf = LinearMultiTaskClassifierCV(lambdas=[0.1, 0.01], cv=3).fit(X, y > 0, task=task)
    assert clf.score(X, y > 0, task=task) > 0.8
    Xs, Ys, _, _ = make_linear_multitask("l21", n_tasks=3, shared_inputs=True,
                                         random_state=0)
    assert LinearMultiTaskRegressorCV(n_lambdas=3, cv=3).fit(Xs, Ys).lambda1_ > 0


def test_plots(monkeypatch):
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    X, y, task, _ = make_linear_multitask("l21", random_state=0)
    cv = LinearMultiTaskRegressorCV(n_lambdas=4, cv=3).fit(X, y, task=task)
    assert lin.plot_cv_curve(cv) is not None
    assert lin.plot_objective(cv) is not None
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install 'rkhsmtl\[plot\]'"):
        lin.plot_objective(cv)


def test_docstring_examples_run():
    pytest.importorskip("matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    n = 0
    for name in lin.__all__:
        for test in finder.find(getattr(lin, name), name):
            if test.examples:
                n += 1
                runner.run(test)
    assert n >= 7
    assert runner.failures == 0


def test_gram_form_of_the_squared_loss_equals_the_direct_form():
    """Complete shared targets use X^T X; it must equal the row-wise loss."""
    from rkhsmtl.linear._losses import MultiTaskDatafit

    rng = np.random.RandomState(0)
    X, Y = rng.randn(40, 6), rng.randn(40, 3)
    for weighting in ("samples", "uniform"):
        fit = MultiTaskDatafit(X, Y, None, 3, task_weighting=weighting)
        assert fit._gram is not None
        W, b = rng.randn(6, 3), rng.randn(3)
        gram = fit.value_and_grad(W, b)
        fit._gram = None
        direct = fit.value_and_grad(W, b)
        np.testing.assert_allclose(gram[0], direct[0], rtol=1e-12)
        np.testing.assert_allclose(gram[1], direct[1], atol=1e-12)
        np.testing.assert_allclose(gram[2], direct[2], atol=1e-12)
