"""Learned task structure: every block step, the engine, and the estimators.

References are independent of the code under test: random feasible points
and perturbations for each task-matrix step, the closed-form fixed points,
MultiTaskKernelRidge with the learned matrix, the linear CMTL of
rkhsmtl.linear, and planted structure from rkhsmtl.datasets.
"""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    ClusteredMultiTaskLearningClassifier,
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    OutputKernelLearning,
    OutputKernelLearningClassifier,
    TaskRelationLearning,
    TaskRelationLearningClassifier,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)
from rkhsmtl.datasets import make_multitask_regression
from rkhsmtl.estimators import _alternating
from rkhsmtl.tasks.learned import (
    ClusterNormStep,
    ConvexClusterStep,
    RelationStep,
    SparseStep,
    SpectralStep,
    mean_free_basis,
    trace_frobenius_map,
    waterfill,
)

T = 5


def _random_psd(rng, T=T, rank=None, ridge=1e-3):
    G = rng.randn(T, rank or T)
    return G @ G.T + ridge * np.eye(T)


def _phi(step, state, M, alpha):
    A = step.task_matrix(state)
    w, V = np.linalg.eigh(A)
    keep = w > 1e-12 * w.max()
    Vk = V[:, keep]
    return alpha * np.sum((Vk.T @ M @ Vk).diagonal() / w[keep]) + step.penalty(state)


def _random_orthogonal(rng, T):
    Q, _ = np.linalg.qr(rng.randn(T, T))
    return Q


# ------------------------------------------------------------- block steps
@pytest.mark.parametrize("penalty", ["trace", "frobenius", "trace_frobenius"])
def test_spectral_step_minimizes_against_perturbations(penalty):
    rng = np.random.RandomState(0)
    alpha, beta = 0.7, 1.3
    step = SpectralStep(penalty, alpha, beta, frobenius_ratio=0.4)
    for _ in range(5):
        M = _random_psd(rng)
        A = step.update(M)
        best = _phi(step, A, M, alpha)
        for scale in (1e-4, 1e-2, 1e-1):
            for _ in range(40):
                D = rng.randn(T, T)
                D = scale * np.linalg.norm(A) * (D + D.T) / 2
                if np.linalg.eigvalsh(A + D).min() <= 0:
                    continue
                assert _phi(step, A + D, M, alpha) >= best - 1e-10 * abs(best)


def test_trace_frobenius_map_is_the_root_of_its_cubic():
    sigma = np.array([1e-6, 0.3, 2.0, 50.0])
    a = trace_frobenius_map(sigma, 0.5, 2.0, 0.3)
    # d/da [alpha sigma / a + beta((1 - rho) a + rho a^2)] = 0
    grad = -0.5 * sigma / a**2 + 2.0 * (0.7 + 2 * 0.3 * a)
    np.testing.assert_allclose(grad, 0.0, atol=1e-9)


def test_closed_forms_of_trace_and_frobenius_steps():
    rng = np.random.RandomState(1)
    M = _random_psd(rng)
    w, V = np.linalg.eigh(M)
    sqrtM = (V * np.sqrt(w)) @ V.T
    np.testing.assert_allclose(SpectralStep("trace", 2.0, 0.5).update(M),
                               np.sqrt(2.0 / 0.5) * sqrtM, rtol=1e-10)
    cbrt = (V * np.cbrt(w * 2.0 / (2 * 0.5))) @ V.T
    np.testing.assert_allclose(SpectralStep("frobenius", 2.0, 0.5).update(M), cbrt,
                               rtol=1e-10)


def test_low_rank_step_minimizes_over_rank_constrained_matrices():
    rng = np.random.RandomState(2)
    alpha, beta, r = 1.0, 0.5, 2
    step = SpectralStep("low_rank", alpha, beta, rank=r)
    M = _random_psd(rng)
    A = step.update(M)
    assert np.linalg.matrix_rank(A, tol=1e-10) == r
    best = _phi(step, A, M, alpha)
    # Any rank-r PSD matrix whose range contains M's leading directions:
    # random rank-r matrices on random r-dimensional subspaces of them are
    # worse, and so are rescaled eigenvalues on the chosen subspace.
    w, V = np.linalg.eigh(M)
    Vr = V[:, np.argsort(w)[::-1][:r]]
    for _ in range(200):
        a = np.exp(rng.randn(r)) * np.sqrt(alpha * np.sort(w)[::-1][:r] / beta)
        R = _random_orthogonal(rng, r)
        cand = (Vr @ R * a) @ (Vr @ R).T
        assert _phi(step, cand, M, alpha) >= best - 1e-10 * abs(best)


def test_waterfill_is_the_constrained_minimizer():
    rng = np.random.RandomState(3)
    s = rng.rand(7) ** 2
    lo, hi, total = 0.1, 1.0, 3.0
    sigma = waterfill(s, lo, hi, total)
    assert np.all(sigma >= lo - 1e-12) and np.all(sigma <= hi + 1e-12)
    assert abs(sigma.sum() - total) < 1e-9
    best = np.sum(s / sigma)
    for _ in range(300):
        other = waterfill(rng.rand(7), lo, hi, total)   # random feasible points
        for t in (1e-3, 0.1, 1.0):
            cand = (1 - t) * sigma + t * other
            assert np.sum(s / cand) >= best - 1e-12


def _feasible_cluster_norm_matrix(rng, step, T):
    lo, hi, total = step._bounds(T)
    sigma = waterfill(rng.rand(T - 1), lo, hi, total)
    Q = mean_free_basis(T) @ _random_orthogonal(rng, T - 1)
    return step.scale * np.full((T, T), 1.0 / T) + (Q * sigma) @ Q.T


@pytest.mark.parametrize("kind", ["cluster_norm", "convex_cluster", "relation"])
def test_constrained_steps_minimize_over_their_feasible_sets(kind):
    rng = np.random.RandomState(4)
    if kind == "cluster_norm":
        step = ClusterNormStep(n_clusters=2, cluster_ratio=0.2)

        def random_feasible():
            return _feasible_cluster_norm_matrix(rng, step, T)
    elif kind == "convex_cluster":
        step = ConvexClusterStep(rho_1=1.0, rho_2=0.3, n_clusters=2)

        def random_feasible():
            m = waterfill(rng.rand(T), 0.0, 1.0, 2.0)
            Q = _random_orthogonal(rng, T)
            return (Q * m) @ Q.T
    else:
        step = RelationStep(lambda_1=0.2, lambda_2=0.5)

        def random_feasible():
            W = _random_psd(rng)
            return W / np.trace(W)
    for _ in range(3):
        M = _random_psd(rng, rank=2, ridge=1e-2)
        state = step.update(M)
        best = _phi(step, state, M, 1.0)
        for _ in range(100):
            other = random_feasible()
            for t in (1e-3, 1e-2, 0.3, 1.0):
                cand = (1 - t) * state + t * other     # convex sets: stays feasible
                assert _phi(step, cand, M, 1.0) >= best - 1e-10 * abs(best)


def test_relation_step_is_the_trace_step_renormalized():
    rng = np.random.RandomState(5)
    M = _random_psd(rng)
    trace_A = SpectralStep("trace", 1.0, 1.0).update(M)
    np.testing.assert_allclose(RelationStep(0.1, 1.0).update(M),
                               trace_A / np.trace(trace_A), rtol=1e-10)


def test_sparse_step_minimizes_and_zeroes_weak_relations():
    rng = np.random.RandomState(6)
    alpha, beta = 1.0, 0.5
    step = SparseStep(alpha, beta, sparsity=2.0)
    M = _random_psd(rng, ridge=0.5)
    A = step.update(M)
    best = _phi(step, A, M, alpha)
    for scale in (1e-5, 1e-3, 1e-1):
        for _ in range(100):
            D = rng.randn(T, T)
            D = scale * (D + D.T) / 2
            if np.linalg.eigvalsh(A + D).min() <= 0:
                continue
            assert _phi(step, A + D, M, alpha) >= best - 1e-9 * abs(best)
    # Stronger sparsity never creates relations, and very strong kills all.
    off = ~np.eye(T, dtype=bool)
    A_strong = SparseStep(alpha, beta, sparsity=1e3).update(M)
    assert np.abs(A_strong[off]).max() < 1e-12
    assert np.count_nonzero(np.abs(A[off]) > 1e-12) <= np.count_nonzero(
        np.abs(SparseStep(alpha, beta, sparsity=0.0).update(M)[off]) > 1e-12)


# ------------------------------------------------------------------ engine
def _shared_data(seed=0, n=50, missing=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * rng.randn(n), -np.sin(X[:, 0]),
              np.cos(X[:, 1])] + 0.05 * rng.randn(n, 4)
    if missing:
        Y[rng.rand(*Y.shape) < 0.2] = np.nan
    return X, Y


def _hetero_data(seed=0):
    X, Y = _shared_data(seed, n=64)
    task = np.repeat(["a", "b", "c", "d"], 16)
    return X, Y[np.arange(64), np.repeat(np.arange(4), 16)], task


ESTIMATORS = [
    lambda: TaskStructureLearning(alpha=0.1, penalty="trace"),
    lambda: TaskStructureLearning(alpha=0.1, penalty="frobenius"),
    lambda: TaskStructureLearning(alpha=0.1, penalty="trace_frobenius"),
    lambda: TaskStructureLearning(alpha=0.1, penalty="cluster", n_clusters=2),
    lambda: TaskStructureLearning(alpha=0.1, penalty="sparse", structure_alpha=0.3),
    lambda: TaskStructureLearning(alpha=0.1, penalty="low_rank", rank=2),
    lambda: OutputKernelLearning(alpha=0.1),
    lambda: TaskRelationLearning(0.01, 0.1),
    lambda: ClusteredMultiTaskLearning(n_clusters=2),
]


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("layout", ["shared", "missing", "hetero"])
def test_objective_is_non_increasing(make, layout):
    est = make().set_params(max_iter=30, tol=1e-9)
    if layout == "hetero":
        X, y, task = _hetero_data()
        fit_args = dict(task=task)
    else:
        X, y = _shared_data(missing=layout == "missing")
        fit_args = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, **fit_args)
    h = np.asarray(est.objective_history_)
    assert len(h) == est.n_iter_ + 1 >= 2
    assert np.all(np.diff(h) <= 1e-10 * np.abs(h[1:])), np.diff(h).max()
    assert h[-1] < h[0]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_optimality_conditions_at_convergence(make):
    """Both blocks are at their minimizers: refitting either changes nothing."""
    X, Y = _shared_data(seed=1)
    est = make().set_params(max_iter=2000, tol=1e-13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
    A = est.task_matrix_
    alpha = est._function_alpha()
    # Coefficient block: the fixed-A ridge with the learned A.
    ref = MultiTaskKernelRidge(alpha=alpha, task_matrix=A).fit(X, Y)
    np.testing.assert_allclose(ref.predict(X), est.predict(X), rtol=1e-8, atol=1e-10)
    # Structure block: one more step from the final Gram matrix.
    from sklearn.metrics.pairwise import rbf_kernel

    K = rbf_kernel(X, gamma=0.5)
    B = est.dual_coef_
    M = B.T @ K @ B + est.epsilon * np.eye(4)
    step = est._make_step(4)
    A_next = step.task_matrix(step.update(M, est._structure_state))
    np.testing.assert_allclose(A_next, A, atol=1e-5 * np.abs(A).max())


def test_zero_iterations_is_the_fixed_model_at_the_starting_matrix():
    X, Y = _shared_data()
    est = TaskStructureLearning(alpha=0.3, max_iter=0).fit(X, Y)
    ref = MultiTaskKernelRidge(alpha=0.3, task_matrix="independent").fit(X, Y)
    np.testing.assert_allclose(est.predict(X), ref.predict(X), rtol=1e-10)


def test_output_kernel_bcd_reaches_the_alternating_minimizer():
    X, Y = _shared_data(seed=2, n=30)
    kw = dict(alpha=0.3, epsilon=0.0, max_iter=5000, tol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        alt = OutputKernelLearning(**kw).fit(X, Y)
        bcd = OutputKernelLearning(algorithm="bcd", **kw).fit(X, Y)
    np.testing.assert_allclose(bcd.task_matrix_, alt.task_matrix_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bcd.objective_history_[-1], alt.objective_history_[-1],
                               rtol=1e-8)
    assert np.all(np.diff(bcd.objective_history_) <= 1e-10 * bcd.objective_history_[0])


def test_output_kernel_is_frobenius_structure_learning():
    X, Y = _shared_data()
    okl = OutputKernelLearning(alpha=0.2, output_kernel_alpha=0.7).fit(X, Y)
    tsl = TaskStructureLearning(alpha=0.2, penalty="frobenius", structure_alpha=0.7).fit(X, Y)
    np.testing.assert_allclose(okl.task_matrix_, tsl.task_matrix_, rtol=1e-10)


def test_kernel_cmtl_with_linear_kernel_matches_linear_cmtl():
    from rkhsmtl.linear import LinearMultiTaskRegressor

    rng = np.random.RandomState(7)
    n, d, T_ = 40, 3, 4
    X = rng.randn(n, d)
    W = np.c_[[1, 0, 0], [1, 0.1, 0], [0, 0, 1], [0, 0.1, 1]].astype(float)
    Y = X @ W + 0.1 * rng.randn(n, T_)
    lam1, lam3 = 0.05, 0.02
    lin = LinearMultiTaskRegressor(penalty="cluster", lambda1=lam1, lambda3=lam3,
                                   n_clusters=2, max_iter=20000, tol=1e-12).fit(X, Y)
    # The linear loss is sum_i (T/N) (y - f)^2 / 2: rescale to sum_i (y - f)^2.
    scale = 2.0 * (n * T_) / T_
    ker = ClusteredMultiTaskLearning(rho_1=scale * lam1, rho_2=scale * lam3, n_clusters=2,
                                     kernel="linear", epsilon=0.0, max_iter=5000,
                                     tol=1e-13).fit(X, Y)
    np.testing.assert_allclose(ker.predict(X), lin.predict(X), rtol=1e-4, atol=1e-4)


# --------------------------------------------------- planted structure
def _planted(structure, seed=0, n=40, T_=8, **kw):
    X, y, task, A = make_multitask_regression(
        n_samples=n, n_tasks=T_, n_features=3, structure=structure, noise=0.3,
        random_state=seed, **kw)
    Xt, yt, tt, _ = make_multitask_regression(
        n_samples=200, n_tasks=T_, n_features=3, structure=structure, noise=0.0,
        random_state=seed, **kw)
    return X, y, task, Xt, yt, tt, A


def _mse(model, X, y, task):
    return float(np.mean((model.predict(X, task=task) - y) ** 2))


def test_clusters_are_recovered_and_learning_beats_independent_and_pooled():
    X, y, task, Xt, yt, tt, A_true = _planted("clustered", n_clusters=2)
    truth = np.unique(A_true > 0.5 * A_true.max(), axis=0, return_inverse=True)[1].ravel()
    assert len(np.unique(truth)) == 2
    kw = dict(kernel="rbf", gamma=0.3, random_state=0)
    cmtl = ClusteredMultiTaskLearning(rho_1=1.0, rho_2=0.05, n_clusters=2, **kw).fit(
        X, y, task=task)
    tsl = TaskStructureLearning(alpha=0.1, penalty="cluster", n_clusters=2, **kw).fit(
        X, y, task=task)
    for model in (cmtl, tsl):
        assert adjusted_rand_score(truth, model.cluster_labels_) >= 0.9
    ind = MultiTaskKernelRidge(alpha=0.1, gamma=0.3, task_matrix="independent").fit(
        X, y, task=task)
    pool = MultiTaskKernelRidge(alpha=0.1, gamma=0.3, task_matrix="pooled").fit(
        X, y, task=task)
    learned = _mse(tsl, Xt, yt, tt)
    assert learned < 0.9 * _mse(ind, Xt, yt, tt)
    assert learned < 0.9 * _mse(pool, Xt, yt, tt)


def test_negative_correlations_are_recovered_with_their_signs():
    X, y, task, Xt, yt, tt, A_true = _planted("negative", T_=4)
    mtrl = TaskRelationLearning(0.01, 0.05, gamma=0.3).fit(X, y, task=task)
    corr_true = A_true / np.sqrt(np.outer(np.diag(A_true), np.diag(A_true)))
    strong = np.abs(corr_true) > 0.5
    np.fill_diagonal(strong, False)
    assert strong.any()
    assert np.all(np.sign(mtrl.task_correlation_[strong]) == np.sign(corr_true[strong]))
    ind = MultiTaskKernelRidge(alpha=0.1, gamma=0.3, task_matrix="independent").fit(
        X, y, task=task)
    assert _mse(mtrl, Xt, yt, tt) < _mse(ind, Xt, yt, tt)


def test_low_rank_structure_is_recovered():
    X, y, task, Xt, yt, tt, A_true = _planted("low_rank", rank=2)
    est = TaskStructureLearning(alpha=0.05, penalty="low_rank", rank=2, gamma=0.3).fit(
        X, y, task=task)
    w = np.linalg.eigvalsh(est.task_matrix_)
    assert np.sum(w > 1e-6 * w.max()) == 2
    # Its range is close to the true one: principal angles small.
    Ut = np.linalg.eigh(A_true)[1][:, -2:]
    Ue = np.linalg.eigh(est.task_matrix_)[1][:, -2:]
    assert np.linalg.svd(Ut.T @ Ue, compute_uv=False).min() > 0.9


# ------------------------------------------------------------- API details
def test_classifier_equals_regressor_on_signed_labels():
    X, Y = _shared_data()
    labels = np.where(Y > 0, "yes", "no")
    for reg, clf in [(TaskStructureLearning(alpha=0.1), TaskStructureLearningClassifier(alpha=0.1)),
                     (OutputKernelLearning(alpha=0.1), OutputKernelLearningClassifier(alpha=0.1)),
                     (TaskRelationLearning(), TaskRelationLearningClassifier()),
                     (ClusteredMultiTaskLearning(), ClusteredMultiTaskLearningClassifier())]:
        clf.fit(X, labels)
        reg.fit(X, np.where(labels == "yes", 1.0, -1.0))
        np.testing.assert_allclose(clf.decision_function(X), reg.predict(X), rtol=1e-10)
        assert set(np.unique(clf.predict(X))) <= {"yes", "no"}
        assert clf.score(X, labels) > 0.7


def test_learned_matrix_transfers_to_fixed_ridge_and_pickles():
    X, y, task = _hetero_data()
    est = TaskRelationLearning(0.01, 0.1, tol=1e-4).fit(X, y, task=task)
    fixed = MultiTaskKernelRidge(alpha=1.0, task_matrix=est.task_matrix_).fit(X, y, task=task)
    np.testing.assert_allclose(fixed.predict(X), est.predict(X), rtol=1e-8)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X, task=task), est.predict(X, task=task))
    np.testing.assert_allclose(np.trace(est.task_covariance_), 1.0)


def test_warm_start_continues_and_convergence_warning_names_the_fix():
    X, Y = _shared_data()
    est = TaskStructureLearning(alpha=0.1, max_iter=2, tol=1e-12, warm_start=True)
    with pytest.warns(ConvergenceWarning, match="max_iter=2.*tol=1e-12"):
        est.fit(X, Y)
    first = est.objective_history_[-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, Y)
    assert est.objective_history_[0] <= first + 1e-12 * abs(first)
    cold = TaskStructureLearning(alpha=0.1, penalty="frobenius", tol=1e-8).fit(X, Y)
    warm = TaskStructureLearning(alpha=0.1, penalty="frobenius", tol=1e-8,
                                 warm_start=True)
    warm.fit(X, Y)
    n_cold = warm.n_iter_
    warm.fit(X, Y)
    assert warm.n_iter_ < n_cold
    np.testing.assert_allclose(warm.task_matrix_, cold.task_matrix_, atol=1e-4)


def test_deterministic_given_random_state():
    X, y, task = _hetero_data()
    a = ClusteredMultiTaskLearning(random_state=0).fit(X, y, task=task)
    b = ClusteredMultiTaskLearning(random_state=0).fit(X, y, task=task)
    np.testing.assert_array_equal(a.cluster_labels_, b.cluster_labels_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


@pytest.mark.parametrize("est, match", [
    (TaskStructureLearning(penalty="nuclear"), "penalty"),
    (TaskStructureLearning(alpha=0.0), "alpha"),
    (TaskStructureLearning(structure_alpha=-1.0), "structure_alpha"),
    (TaskRelationLearning(lambda_2=0.0), "lambda_2"),
    (ClusteredMultiTaskLearning(rho_1=0.0), "rho_1"),
    (TaskStructureLearning(penalty="low_rank"), "rank"),
])
def test_bad_parameters_get_clear_errors(est, match):
    X, Y = _shared_data()
    with pytest.raises(ValueError, match=match):
        est.fit(X, Y)


@pytest.mark.parametrize("est", [TaskStructureLearning(penalty="cluster", n_clusters=5),
                                 ClusteredMultiTaskLearning(n_clusters=9)])
def test_more_clusters_than_tasks_are_clipped_with_a_warning(est):
    X, Y = _shared_data()
    with pytest.warns(UserWarning, match="is more than the .* task"):
        est.set_params(max_iter=5).fit(X, Y)
    assert len(np.unique(est.cluster_labels_)) <= Y.shape[1]


def test_a_single_task_is_refused():
    X, Y = _shared_data()
    with pytest.raises(ValueError, match="at least 2 tasks.*got 1"):
        TaskStructureLearning().fit(X, Y[:, :1])
    with pytest.raises(ValueError, match="at least 2 tasks.*got 1"):
        TaskStructureLearning().fit(X, Y[:, 0], task=np.zeros(len(X)))
    # scikit-learn's single-output convention (1-D y, no labels) fits, with a warning.
    with pytest.warns(UserWarning, match="single task"):
        TaskStructureLearning().fit(X, Y[:, 0])


def test_bcd_on_heterogeneous_tasks_is_refused_with_the_alternative():
    X, y, task = _hetero_data()
    with pytest.raises(ValueError, match="algorithm='alternating'"):
        OutputKernelLearning(algorithm="bcd").fit(X, y, task=task)


def test_plots_of_learned_structure():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from rkhsmtl.plotting import plot_objective, plot_task_relations, task_order

    X, y, task = _hetero_data()
    est = TaskRelationLearning(0.01, 0.1, tol=1e-4).fit(X, y, task=task)
    ax = plot_task_relations(est)
    assert [t.get_text() for t in ax.get_xticklabels()] != []
    assert plot_objective(est).get_lines()
    # Tasks a, c (strongly negatively related) and b sit together; d apart.
    order = list(task_order(est.task_correlation_))
    assert abs(order.index(0) - order.index(1)) == 1 or abs(order.index(0) - order.index(2)) == 1
    with pytest.raises(ValueError, match="'order' parameter"):
        plot_task_relations(est, order="sorted")


@pytest.mark.parametrize("make", [
    lambda **kw: TaskStructureLearning(alpha=0.1, **kw),
    lambda **kw: TaskRelationLearning(**kw),
    lambda **kw: ClusteredMultiTaskLearningClassifier(**kw),
])
def test_task_labels_flow_through_cross_validation_and_metadata_routing(make):
    import sklearn
    from sklearn.model_selection import GridSearchCV, KFold, cross_validate

    X, y, task = _hetero_data()
    if "Classifier" in type(make()).__name__:
        y = (y > np.median(y)).astype(int)
    codes = np.searchsorted(["a", "b", "c", "d"], task)
    Xc = np.c_[X, codes]
    Xc_before, y_before = Xc.copy(), y.copy()
    cv = KFold(3, shuffle=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cross_validate(make(task_column=2, max_iter=20), Xc, y, cv=cv)
        assert np.all(np.isfinite(res["test_score"]))
        gs = GridSearchCV(make(task_column=2, max_iter=20), {"epsilon": [1e-8, 1e-6]}, cv=cv)
        gs.fit(Xc, y)
        with sklearn.config_context(enable_metadata_routing=True):
            est = make(max_iter=20).set_fit_request(task=True).set_score_request(task=True)
            res = cross_validate(est, X, y, cv=cv, params={"task": task})
            assert np.all(np.isfinite(res["test_score"]))
    np.testing.assert_array_equal(Xc, Xc_before)
    np.testing.assert_array_equal(y, y_before)


def test_okl_l_block_is_the_symmetric_minimizer():
    """Dinuzzo's L block: minimizer of ||Y - E L||^2 + alpha <E^T C, L> + mu ||L||^2."""
    from rkhsmtl.tasks.learned._okl import okl_l_step

    rng = np.random.RandomState(8)
    n, alpha, mu = 20, 0.3, 0.7
    Z = rng.randn(n, 3)
    K = np.exp(-0.5 * ((Z[:, None] - Z[None]) ** 2).sum(-1))
    L_old, Y = _random_psd(rng), rng.randn(n, T)
    # C solves the C block K C L_old + alpha C = Y (vec form, small n T).
    vecC = np.linalg.solve(np.kron(L_old, K) + alpha * np.eye(n * T), Y.T.ravel())
    C = vecC.reshape(T, n).T
    E = K @ C

    def q(L):
        return np.sum((Y - E @ L) ** 2) + alpha * np.sum((E.T @ C) * L) + mu * np.sum(L * L)

    L = okl_l_step(L_old, E, C, alpha, mu)
    assert np.linalg.eigvalsh(L).min() > 1e-8   # the PSD projection did not act
    best = q(L)
    for scale in (1e-4, 1e-2, 1.0):
        for _ in range(50):
            D = rng.randn(T, T)
            D = scale * (D + D.T) / 2
            assert q(L + D) >= best - 1e-10 * abs(best)


# --------------------------------------------------------------- logistic loss
CLASSIFIERS = [
    lambda: TaskStructureLearningClassifier(alpha=0.1, penalty="trace"),
    lambda: TaskStructureLearningClassifier(alpha=0.1, penalty="low_rank", rank=2),
    lambda: OutputKernelLearningClassifier(alpha=0.1),
    lambda: TaskRelationLearningClassifier(0.01, 0.1),
    lambda: ClusteredMultiTaskLearningClassifier(n_clusters=2),
]


def _label_data(layout):
    if layout == "hetero":
        X, y, task = _hetero_data()
        return X, np.where(y > 0, "yes", "no"), dict(task=task)
    X, Y = _shared_data()
    return X, (Y > 0).astype(int), {}


@pytest.mark.parametrize("make", CLASSIFIERS)
@pytest.mark.parametrize("layout", ["shared", "hetero"])
def test_logistic_objective_is_non_increasing(make, layout):
    X, y, fit_args = _label_data(layout)
    est = make().set_params(loss="logistic", max_iter=20, tol=1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, **fit_args)
    h = np.asarray(est.objective_history_)
    assert len(h) == est.n_iter_ + 1 >= 2
    assert np.all(np.diff(h) <= 1e-10 * np.abs(h[1:])), np.diff(h).max()
    assert h[-1] < h[0]


@pytest.mark.parametrize("make", CLASSIFIERS[:1] + CLASSIFIERS[2:])
def test_logistic_coefficients_are_optimal_for_the_learned_matrix(make):
    """At convergence the functions are the fixed-A logistic classifier's."""
    X, y, _ = _label_data("shared")
    est = make().set_params(loss="logistic", max_iter=500, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    ref = MultiTaskKernelClassifier(alpha=est._function_alpha(), loss="logistic",
                                    task_matrix=est.task_matrix_, newton_tol=1e-14,
                                    max_newton_iter=200).fit(X, y)
    np.testing.assert_allclose(est.decision_function(X), ref.decision_function(X),
                               rtol=1e-6, atol=1e-8)
    # ... and differ from the squared loss's.
    sq = make().set_params(max_iter=500, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sq.fit(X, y)
    assert np.abs(sq.decision_function(X) - est.decision_function(X)).max() > 1e-3


def test_logistic_probabilities_and_their_availability():
    X, y, fit_args = _label_data("hetero")
    est = TaskRelationLearningClassifier(0.01, 0.1, loss="logistic").fit(X, y, **fit_args)
    proba = est.predict_proba(X, task=fit_args["task"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(est.classes_[proba.argmax(axis=1)],
                          est.predict(X, task=fit_args["task"]))
    assert est.predict_proba(X).shape == (len(X), 4)
    assert est.score(X, y, task=fit_args["task"]) > 0.7
    squared = TaskRelationLearningClassifier(0.01, 0.1).fit(X, y, **fit_args)
    assert not hasattr(squared, "predict_proba")
    assert "loss" not in TaskRelationLearning().get_params()


def test_logistic_recovers_planted_clusters():
    X, y, task, Xt, yt, tt, A_true = _planted("clustered", n_clusters=2, n=60)
    truth = np.unique(A_true > 0.5 * A_true.max(), axis=0, return_inverse=True)[1].ravel()
    labels = (y > np.median(y)).astype(int)
    cmtl = ClusteredMultiTaskLearningClassifier(
        rho_1=1.0, rho_2=0.05, n_clusters=2, loss="logistic", gamma=0.3,
        random_state=0).fit(X, labels, task=task)
    assert adjusted_rand_score(truth, cmtl.cluster_labels_) >= 0.9


def test_logistic_with_bcd_is_refused_with_the_alternative():
    X, y, _ = _label_data("shared")
    with pytest.raises(ValueError, match="loss='logistic'.*algorithm='alternating'"):
        OutputKernelLearningClassifier(loss="logistic", algorithm="bcd").fit(X, y)


def test_logistic_structure_with_missing_labels_equals_the_heterogeneous_fit(
        monkeypatch):
    # Both layouts take the same plain block steps to max_iter: the test is
    # about the layouts, so Anderson's proposals (whose acceptance rounding
    # can flip between layouts) are off.
    monkeypatch.setattr(_alternating, "ACCELERATE", False)
    rng = np.random.RandomState(0)
    X = rng.randn(40, 2)
    Y = (X[:, :1] * np.array([[1.0, 1.0, -1.0]]) + 0.5 * rng.randn(40, 3) > 0).astype(float)
    missing = rng.rand(40, 3) < 0.25
    Y[missing] = np.nan
    rows, cols = np.nonzero(~missing)
    kw = dict(loss="logistic", max_iter=300, tol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        shared = TaskRelationLearningClassifier(0.01, 0.1, **kw).fit(X, Y)
        hetero = TaskRelationLearningClassifier(0.01, 0.1, **kw).fit(
            X[rows], Y[rows, cols], task=cols)
    np.testing.assert_allclose(shared.task_matrix_, hetero.task_matrix_, rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(shared.decision_function(X), hetero.decision_function(X),
                               rtol=1e-5, atol=1e-7)
    assert shared.task_correlation_[0, 2] < 0 < shared.task_correlation_[0, 1]
