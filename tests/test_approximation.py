"""The approximate (feature-space) path against the exact one and independent references.

With as many Nyström landmarks as rows the feature space spans the kernel's,
so every fit must equal the exact fit; A = I must equal scikit-learn's
Nystroem + Ridge per task with the same landmarks; statistics gathered in
chunks must equal those gathered at once.
"""
import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import Ridge

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    OutputKernelLearning,
    TaskRelationLearning,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)
from rkhsmtl._validation import validate_fit_data
from rkhsmtl.estimators import _alternating
from rkhsmtl.features import NystroemFeatures
from rkhsmtl.kernels import compute_kernel
from rkhsmtl.solvers import feature_ridge
from rkhsmtl.solvers._feature_problem import FeatureProblem, gather_statistics
from rkhsmtl.solvers.feature_statistics import StatisticsAccumulator

A4 = np.array([[2.0, 1.0, 0.0, 0.0], [1.0, 2.0, 0.5, 0.0],
               [0.0, 0.5, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def _hetero(N=60, T=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, 3)
    task = np.arange(N) % T
    rng.shuffle(task)
    y = np.sin(X[:, 0]) + 0.3 * rng.randn(N) + 0.2 * task
    return X, y, task, rng.rand(N) + 0.5


def _shared(n=50, T=4, seed=1, missing=False):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    Y = np.sin(X[:, :1]) + 0.3 * rng.randn(n, T)
    if missing:
        Y[rng.rand(n, T) < 0.3] = np.nan
    return X, Y, rng.rand(n) + 0.5


def _quiet_fit(model, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kw)


def _rel(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(np.asarray(b)))


@pytest.mark.parametrize("layout", ["heterogeneous", "shared", "missing"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("task_weighting", ["samples", "uniform"])
def test_all_landmarks_equal_exact_fit(layout, fit_intercept, task_weighting):
    if layout == "heterogeneous":
        X, y, task, sw = _hetero()
        args, kw = (X, y), {"task": task, "sample_weight": sw}
    else:
        X, Y, sw = _shared(missing=layout == "missing")
        args, kw = (X, Y), {"sample_weight": sw}
    params = dict(alpha=0.3, gamma=0.5, task_matrix=A4, fit_intercept=fit_intercept,
                  task_weighting=task_weighting, tol=1e-13)
    exact = MultiTaskKernelRidge(**params).fit(*args, **kw)
    approx = MultiTaskKernelRidge(**params, approximation="nystroem",
                                  n_components=X.shape[0], random_state=0).fit(*args, **kw)
    assert approx.solver_ == "features" and approx.n_components_ == X.shape[0]
    assert _rel(approx.predict(X), exact.predict(X)) < 1e-6
    np.testing.assert_allclose(approx.intercept_, exact.intercept_, atol=1e-7)
    X_new = np.random.RandomState(5).randn(7, 3)
    assert _rel(approx.predict(X_new), exact.predict(X_new)) < 1e-6


@pytest.mark.parametrize("make", [
    lambda: TaskRelationLearning(lambda_1=0.1, lambda_2=0.1, max_iter=30),
    lambda: TaskStructureLearning(alpha=0.3, penalty="trace", max_iter=30),
    lambda: OutputKernelLearning(alpha=0.3, max_iter=30),
    lambda: ClusteredMultiTaskLearning(n_clusters=2, max_iter=30),
], ids=["mtrl", "trace", "okl", "cmtl"])
@pytest.mark.parametrize("layout", ["heterogeneous", "shared"])
def test_learned_structure_all_landmarks_equal_exact(make, layout, monkeypatch):
    # Step for step over 30 unconverged steps: both paths solve every step
    # exactly (inexact steps stop each path's PCG at a different point; the
    # converged fits are compared with them in the next test).
    monkeypatch.setattr(_alternating, "INEXACT", False)
    if layout == "heterogeneous":
        X, y, task, _ = _hetero(N=48)
        args, kw = (X, y), {"task": task}
    else:
        X, Y, _ = _shared(n=40)
        args, kw = (X, Y), {}
    exact = _quiet_fit(make(), *args, **kw)
    approx = _quiet_fit(make().set_params(approximation="nystroem",
                                          n_components=X.shape[0], random_state=0),
                        *args, **kw)
    assert approx.n_iter_ == exact.n_iter_
    assert _rel(approx.task_matrix_, exact.task_matrix_) < 1e-6
    assert _rel(approx.predict(X), exact.predict(X)) < 1e-6
    np.testing.assert_allclose(approx.objective_history_, exact.objective_history_,
                               rtol=1e-7)


@pytest.mark.parametrize("make", [
    lambda: TaskRelationLearning(lambda_1=0.1, lambda_2=0.1),
    lambda: TaskStructureLearning(alpha=0.3, penalty="trace"),
], ids=["mtrl", "trace"])
def test_converged_learned_structure_all_landmarks_equal_exact(make):
    # The default engine (Anderson steps, inexact coefficient steps) on both
    # paths, run to convergence (a barrier of 1e-3 lets the plain iteration
    # converge; tol=1e-15 stops on a decrease at rounding level, where A is
    # settled far below 1e-6): the same optimum.
    X, y, task, _ = _hetero(N=48)
    params = dict(epsilon=1e-3, tol=1e-15, max_iter=3000)
    exact = _quiet_fit(make().set_params(**params), X, y, task=task)
    approx = _quiet_fit(make().set_params(approximation="nystroem", n_components=48,
                                          random_state=0, **params), X, y, task=task)
    assert exact.n_iter_ < 3000 and approx.n_iter_ < 3000
    assert _rel(approx.task_matrix_, exact.task_matrix_) < 1e-6
    assert _rel(approx.predict(X), exact.predict(X)) < 1e-6


def test_classifier_squared_loss_all_landmarks_equal_exact():
    X, Y, _ = _shared(n=40)
    Yc = (Y > 0).astype(int)
    for make in (lambda: MultiTaskKernelClassifier(alpha=0.3),
                 lambda: TaskStructureLearningClassifier(alpha=0.3, max_iter=20)):
        exact = _quiet_fit(make(), X, Yc)
        approx = _quiet_fit(make().set_params(approximation="nystroem", n_components=40),
                            X, Yc)
        assert _rel(approx.decision_function(X), exact.decision_function(X)) < 1e-6
        np.testing.assert_array_equal(approx.predict(X), exact.predict(X))


def test_independent_equals_sklearn_nystroem_ridge_per_task():
    """A = I with fixed landmarks is one Nystroem + Ridge per task."""
    X, y, task, _ = _hetero(N=90)
    model = MultiTaskKernelRidge(alpha=0.5, gamma=0.4, task_matrix="independent",
                                 approximation="nystroem", n_components=25,
                                 random_state=3).fit(X, y, task=task)
    Z = model.feature_map_.landmarks_
    for j, t in enumerate(model.tasks_):
        rows = task == t
        # All of Z as scikit-learn's landmarks: its map K_ZZ^{-1/2} k_Z differs
        # from ours by a rotation, to which the ridge is invariant.
        feats = Nystroem(kernel="rbf", gamma=0.4, n_components=Z.shape[0]).fit(Z)
        Phi = feats.transform(X[rows])
        ref = Ridge(alpha=0.5, fit_intercept=True).fit(Phi, y[rows])
        np.testing.assert_allclose(model.predict(X[rows], task=task[rows]),
                                   ref.predict(Phi), rtol=1e-6, atol=1e-8)


def test_pooled_equals_one_ridge_on_features():
    X, y, task, _ = _hetero(N=80)
    model = MultiTaskKernelRidge(alpha=0.5, task_matrix="pooled", fit_intercept=False,
                                 approximation="nystroem", n_components=20,
                                 random_state=0).fit(X, y, task=task)
    Phi = model.feature_map_.transform(X)
    ref = Ridge(alpha=0.5, fit_intercept=False).fit(Phi, y)
    np.testing.assert_allclose(model.predict(X, task=task), ref.predict(Phi), rtol=1e-8,
                               atol=1e-10)


@pytest.mark.parametrize("rank", [4, 2])
def test_dense_kronecker_oracle_for_feature_system(rank):
    """The (m T) x (m T) system, formed densely only here, gives the same W
    through every tasks-layout method (dense, PCG with per-task blocks, PCG
    with blocks over A's eigen-directions; a singular A keeps W in its range)."""
    X, y, task, sw = _hetero(N=50)
    fmap = NystroemFeatures(lambda a, b: compute_kernel(a, b, gamma=0.5), 12,
                            random_state=0).fit(X)
    Phi = fmap.transform(X)
    m, T, alpha = Phi.shape[1], 4, 0.7
    if rank == 4:
        A = A4 + 0.1 * np.eye(4)
    else:
        B = np.random.RandomState(3).randn(4, rank)
        A = B @ B.T
    # f_{t_i}(x_i) = v_i^T vec(V) with W = V A; penalty alpha vec(V)^T (A kron I) vec(V).
    big = np.zeros((m * T, m * T))
    rhs = np.zeros(m * T)
    for i in range(len(y)):
        e = np.zeros(T)
        e[task[i]] = 1.0
        v = np.kron(A @ e, Phi[i])
        big += sw[i] * np.outer(v, v)
        rhs += sw[i] * y[i] * v
    big += alpha * np.kron(A, np.eye(m))
    V = np.linalg.lstsq(big, rhs, rcond=None)[0].reshape(T, m).T
    acc = StatisticsAccumulator(np, m, T, "tasks", rows_limit=0)   # every task a Gram
    acc.add(Phi, y, codes=task, weights=sw)
    methods = {"direct": (10**9, 10.0), "pcg-tasks": (0, 1e12), "pcg-directions": (0, 0.5)}
    if rank < T:
        methods.pop("pcg-tasks")
    for expected, (direct_max, rcond) in methods.items():
        old = feature_ridge.DIRECT_MAX, feature_ridge.TASK_BLOCKS_MAX_COND
        feature_ridge.DIRECT_MAX, feature_ridge.TASK_BLOCKS_MAX_COND = direct_max, rcond
        try:
            fac = feature_ridge.decompose(acc.result(), fit_intercept=False)
            W, _, info = feature_ridge.solve(fac, A, alpha, tol=1e-13)
        finally:
            feature_ridge.DIRECT_MAX, feature_ridge.TASK_BLOCKS_MAX_COND = old
        assert info["method"] == expected
        np.testing.assert_allclose(W, V @ A, rtol=1e-7, atol=1e-9)


def test_route_choice_follows_recorded_costs():
    """The tasks layout keeps the PCG route of its last solve while that one
    was cheap, and otherwise tries the other (within the last one's cost)
    unless the other's record is recent and more expensive; a task matrix
    crossing the conditioning threshold starts afresh."""
    choose, record = feature_ridge.choose_route, feature_ridge.record_route
    tasks, directions = "pcg-tasks", "pcg-directions"
    fac = feature_ridge.FeatureFactors(None, None, False, None)
    assert choose(fac, False, True) == (directions, None)  # singular A: one route
    assert choose(fac, True, False) == (directions, None)  # the task matrix decides
    fac = feature_ridge.FeatureFactors(None, None, False, None)
    assert choose(fac, True, True) == (tasks, None)
    cheap = int(feature_ridge.SWITCH_COST // feature_ridge.ROUTE_COST[tasks])
    record(fac, tasks, cheap)
    assert choose(fac, True, True) == (tasks, None)        # cheap: kept
    record(fac, tasks, 100)
    assert choose(fac, True, True) == (directions, 400.0)  # dear, other untried
    record(fac, directions, 500)
    assert choose(fac, True, True) == (tasks, 500.0)       # other recent, cheaper
    record(fac, tasks, 100)                                # 400 products
    assert choose(fac, True, True) == (tasks, None)        # other recent, dearer
    for _ in range(feature_ridge.RETRY_AFTER):
        record(fac, tasks, 100)
    assert choose(fac, True, True) == (directions, 400.0)  # other's record is old
    record(fac, directions, 1)
    assert choose(fac, True, True) == (directions, None)
    record(fac, directions, 500)
    assert choose(fac, True, False) == (directions, None)  # crossed: its default
    assert choose(fac, True, True) == (tasks, None)        # crossed back


@pytest.mark.parametrize("hand_back", [False, True])
def test_route_switch_keeps_every_solution_exact(hand_back, monkeypatch):
    """A sequence of solves on one factorization, the routes switching on
    their recorded costs (trials handing back to the other route included),
    equals the direct solve at every task matrix."""
    X, y, task, sw = _hetero(N=80, T=5)
    fmap = NystroemFeatures(lambda a, b: compute_kernel(a, b, gamma=0.5), 14,
                            random_state=0).fit(X)
    acc = StatisticsAccumulator(np, 14, 5, "tasks", rows_limit=0)
    acc.add(fmap.transform(X), y, codes=task, weights=sw)
    stats = acc.result()
    monkeypatch.setattr(feature_ridge, "SWITCH_COST", 2.0)   # switch early
    # A trial of the per-task blocks affords one iteration (it hands its
    # iterate back to the direction blocks), or as many as it needs.
    monkeypatch.setitem(feature_ridge.ROUTE_COST, "pcg-tasks",
                        1000.0 if hand_back else 0.01)
    rng = np.random.RandomState(4)
    fac = feature_ridge.decompose(stats, fit_intercept=True)
    routes = []
    for k in range(6):
        B = rng.randn(5, 5)
        A = B @ B.T + 0.05 * np.eye(5)       # ill-conditioned: one regime
        monkeypatch.setattr(feature_ridge, "DIRECT_MAX", 0)
        W, b, info = feature_ridge.solve(fac, A, 0.3, tol=1e-13)
        routes.append(info["method"])
        # The loss's quadratic term, read off the solve's residual, equals
        # the product with the Grams.
        quad = float(np.sum(W * fac.stats.task_matmul(W)))
        assert info["quadratic"] == pytest.approx(quad, rel=1e-10)
        monkeypatch.setattr(feature_ridge, "DIRECT_MAX", 10**9)
        W_ref, b_ref, ref = feature_ridge.solve(
            feature_ridge.decompose(stats, fit_intercept=True), A, 0.3)
        assert ref["method"] == "direct"
        np.testing.assert_allclose(W, W_ref, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(b, b_ref, rtol=1e-7, atol=1e-9)
    assert set(fac.route_costs) == {"pcg-tasks", "pcg-directions"}
    if hand_back:
        # More route records than solves: trials ran out of their budget and
        # handed their iterate back, and the solutions are exact all the same.
        assert fac.route_solves > 6
    else:
        assert set(routes) == {"pcg-tasks", "pcg-directions"}


def test_direction_preconditioner_checks_memory_before_rotating(monkeypatch):
    """The direction route rotates a copy of the statistics: too little
    memory is a MemoryError naming the size and the fix, before allocating."""
    import rkhsmtl._memory

    X, y, task, sw = _hetero(N=80, T=5)
    fmap = NystroemFeatures(lambda a, b: compute_kernel(a, b, gamma=0.5), 14,
                            random_state=0).fit(X)
    acc = StatisticsAccumulator(np, 14, 5, "tasks", rows_limit=0)
    acc.add(fmap.transform(X), y, codes=task, weights=sw)
    fac = feature_ridge.decompose(acc.result(), fit_intercept=True)
    monkeypatch.setattr(feature_ridge, "DIRECT_MAX", 0)
    monkeypatch.setattr(rkhsmtl._memory, "available_memory", lambda xp: 100)
    B = np.random.RandomState(0).randn(5, 2)
    with pytest.raises(MemoryError, match=r"rotated for the direction preconditioner.*"
                                          r"needs about .* GiB.*Lower 'n_components'"):
        feature_ridge.solve(fac, B @ B.T, 0.3)    # singular A: the direction route
    assert fac.rotated is None


@pytest.mark.parametrize("layout", ["heterogeneous", "shared", "missing"])
def test_chunked_statistics_equal_one_pass(layout):
    if layout == "heterogeneous":
        X, y, task, sw = _hetero(N=70)
        data = validate_fit_data(MultiTaskKernelRidge(), X, y, task, sw)
    else:
        X, Y, sw = _shared(missing=layout == "missing")
        data = validate_fit_data(MultiTaskKernelRidge(), X, Y, None, sw)
    fmap = NystroemFeatures(lambda a, b: compute_kernel(a, b, gamma=0.5), 15,
                            random_state=0).fit(X)
    whole = gather_statistics(data, fmap, chunk_bytes=10**9)
    chunked = gather_statistics(data, fmap, chunk_bytes=8 * 15 * 2 * 7)
    for t in range(data.n_tasks):
        np.testing.assert_allclose(chunked.task_gram_dense(t), whole.task_gram_dense(t),
                                   rtol=1e-10, atol=1e-12)
    for name in ("count", "phi_sum", "phi_y", "y_sum", "y_sq"):
        np.testing.assert_allclose(getattr(chunked, name), getattr(whole, name),
                                   rtol=1e-10, atol=1e-12)


def test_merge_is_the_union_and_rows_switch_to_gram():
    rng = np.random.RandomState(0)
    Phi, y = rng.randn(40, 12), rng.randn(40)
    codes = np.r_[np.zeros(30, int), np.ones(10, int)]
    rng.shuffle(codes)
    parts = []
    for lo, hi in ((0, 13), (13, 40)):
        acc = StatisticsAccumulator(np, 12, 2, "tasks")
        acc.add(Phi[lo:hi], y[lo:hi], codes=codes[lo:hi])
        parts.append(acc.result())
    merged = parts[0].merge(parts[1])
    acc = StatisticsAccumulator(np, 12, 2, "tasks")
    acc.add(Phi, y, codes=codes)
    whole = acc.result()
    # 30 rows > 12 features: a Gram; 10 rows: kept as rows.
    assert 0 in whole.task_gram and 1 in whole.task_rows
    for t in (0, 1):
        P = Phi[codes == t]
        np.testing.assert_allclose(merged.task_gram_dense(t), P.T @ P, rtol=1e-12)
        np.testing.assert_allclose(whole.task_gram_dense(t), P.T @ P, rtol=1e-12)


def test_fit_is_deterministic_pickles_and_leaves_inputs_alone():
    X, y, task, sw = _hetero(N=200)
    X0, y0, sw0 = X.copy(), y.copy(), sw.copy()
    make = lambda: MultiTaskKernelRidge(approximation="nystroem", n_components=30,  # noqa: E731
                                        random_state=7)
    a = make().fit(X, y, task=task, sample_weight=sw)
    b = make().fit(X, y, task=task, sample_weight=sw)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict(X), a.predict(X))
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(sw, sw0)


def test_nystroem_dual_form_predicts_like_features():
    X, y, task, _ = _hetero(N=90)
    model = MultiTaskKernelRidge(approximation="nystroem", n_components=20,
                                 random_state=0).fit(X, y, task=task)
    K = compute_kernel(X, model.X_fit_, gamma=None)
    np.testing.assert_allclose(K @ model.dual_coef_ + model.intercept_, model.predict(X),
                               rtol=1e-10, atol=1e-12)


def test_random_fourier_approaches_exact_fit():
    X, Y, _ = _shared(n=60)
    exact = MultiTaskKernelRidge(alpha=0.3, gamma=0.3).fit(X, Y).predict(X)
    errors = [
        _rel(MultiTaskKernelRidge(alpha=0.3, gamma=0.3, approximation="random_fourier",
                                  n_components=m, random_state=0).fit(X, Y).predict(X),
             exact)
        for m in (20, 3000)]
    assert errors[1] < 0.05 and errors[1] < errors[0]


def test_approximation_errors_are_clear():
    X, Y, _ = _shared(n=30)
    with pytest.raises(ValueError, match="precomputed"):
        MultiTaskKernelRidge(kernel="precomputed", approximation="nystroem").fit(
            compute_kernel(X, X), Y)
    with pytest.raises(ValueError, match="n_components"):
        MultiTaskKernelRidge(approximation="nystroem", n_components=0).fit(X, Y)
    with pytest.raises(ValueError, match="random_fourier|laplacian|rbf"):
        MultiTaskKernelRidge(kernel="polynomial", approximation="random_fourier").fit(X, Y)


def test_feature_problem_shared_solves_many_alphas_from_one_decomposition():
    X, Y, _ = _shared(n=40)
    data = validate_fit_data(MultiTaskKernelRidge(), X, Y)
    fmap = NystroemFeatures(lambda a, b: compute_kernel(a, b), 40).fit(X)
    problem = FeatureProblem(gather_statistics(data, fmap), "shared")
    for alpha in (0.01, 0.1, 1.0):
        sol = problem.solve(np.eye(4), alpha)
        ref = MultiTaskKernelRidge(alpha=alpha, task_matrix="independent").fit(X, Y)
        assert _rel(fmap.transform(X) @ sol.dual_coef + sol.intercept, ref.predict(X)) < 1e-6
    assert len(problem._factors) == 1


@pytest.mark.parametrize("make", [
    lambda: MultiTaskKernelRidge(alpha=0.3, approximation="nystroem", n_components=30,
                                 random_state=0),
    lambda: MultiTaskKernelRidge(alpha=0.3, approximation="random_fourier",
                                 n_components=40, random_state=0),
    lambda: TaskRelationLearning(max_iter=8, tol=0.0, approximation="nystroem",
                                 n_components=30, random_state=0),
], ids=["nystroem", "random-fourier", "mtrl"])
@pytest.mark.parametrize("direct_max", [2000, 0], ids=["direct", "pcg"])
def test_approximate_path_matches_numpy_on_every_namespace(xp_name, make, direct_max,
                                                           monkeypatch):
    from conftest import to_xp

    monkeypatch.setattr(feature_ridge, "DIRECT_MAX", direct_max)

    X, y, task, sw = _hetero(N=80)
    ref = _quiet_fit(make(), X, y, task=task, sample_weight=sw)
    out = _quiet_fit(make(), to_xp(xp_name, X), to_xp(xp_name, y), task=task,
                     sample_weight=to_xp(xp_name, sw))
    P = out.predict(to_xp(xp_name, X))
    host = P.get() if hasattr(P, "get") else np.from_dlpack(P)
    np.testing.assert_allclose(host, ref.predict(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("layout", ["heterogeneous", "shared", "missing"])
@pytest.mark.parametrize("make", [
    lambda: MultiTaskKernelClassifier(alpha=0.1, loss="logistic"),
    lambda: TaskStructureLearningClassifier(alpha=0.1, loss="logistic", max_iter=8),
], ids=["kernel", "trace"])
def test_logistic_loss_all_landmarks_equal_exact(make, layout):
    """Newton steps regather the statistics from the kept feature rows."""
    rng = np.random.RandomState(0)
    X = rng.randn(48, 3)
    if layout == "heterogeneous":
        task = np.arange(48) % 3
        y = (np.sin(X[:, 0]) + 0.3 * rng.randn(48) > 0).astype(int)
        args, kw = (X, y), {"task": task}
    else:
        Y = (np.sin(X[:, :1]) + 0.5 * rng.randn(48, 3) > 0).astype(float)
        if layout == "missing":
            Y[rng.rand(48, 3) < 0.2] = np.nan
        args, kw = (X, Y), {}
    exact = _quiet_fit(make(), *args, **kw)
    approx = _quiet_fit(make().set_params(approximation="nystroem", n_components=48),
                        *args, **kw)
    assert _rel(approx.decision_function(X), exact.decision_function(X)) < 1e-6
    # The learned structure's Anderson steps amplify the two paths' rounding
    # differences (about 1e-9) to about 1e-7 after 8 steps.
    np.testing.assert_allclose(approx.predict_proba(X), exact.predict_proba(X),
                               atol=2e-7)



def test_overflowing_statistics_are_an_error_not_a_nan_fit():
    rng = np.random.RandomState(0)
    X, task = rng.randn(50, 2), np.arange(50) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="statistics are not finite.*Standardize y"):
            MultiTaskKernelRidge(approximation="nystroem", n_components=10).fit(
                X, rng.randn(50) * 1e200, task=task)
