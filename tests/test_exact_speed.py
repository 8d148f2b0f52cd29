"""Exact heterogeneous paths that reuse factorizations (issue 17).

* The warm sequence solver (PCG preconditioned by an earlier Cholesky
  factor) against the dense bordered reference, and a stale factor being
  refactored (and counted).
* Learned structures on heterogeneous tasks: the reuse path against the
  reference path that refactors at every step.
* MultiTaskKernelRidgeCV on heterogeneous tasks against naive per-candidate
  refits.
"""
from functools import partial

import numpy as np
import pytest

from _oracles import dense_hetero
from rkhsmtl import (MultiTaskKernelRidge, MultiTaskKernelRidgeCV, TaskRelationLearning,
                     TaskStructureLearning)
from rkhsmtl._validation import validate_fit_data
from rkhsmtl.estimators import _alternating
from rkhsmtl.kernels import rbf_kernel
from rkhsmtl.solvers import SeparableProblem
from rkhsmtl.solvers import warm_cholesky
from rkhsmtl.solvers.warm_cholesky import (IDEAL_ITER, WarmCholeskySequence,
                                           task_block_matmat)

pytestmark = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning")


def _hetero(n_tasks=4, per_task=12, seed=0):
    rng = np.random.RandomState(seed)
    task = np.repeat(np.arange(n_tasks), per_task)
    X = rng.randn(len(task), 3)
    shift = rng.randn(n_tasks)
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] * shift[task] + shift[task] + 0.1 * rng.randn(len(task))
    return X, y, task


def _spd(T, rng, scale):
    R = rng.randn(T, T)
    return np.eye(T) + scale * (R @ R.T) / T


def _sequence(X, task, weights, alpha, fit_intercept, **kw):
    K = rbf_kernel(X, X, gamma=0.5)
    offsets = np.searchsorted(task, np.arange(task.max() + 2))
    seq = WarmCholeskySequence(np, K, task, offsets, np.sqrt(weights), alpha,
                               fit_intercept, **kw)
    return K, seq


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_warm_solves_match_the_dense_reference(fit_intercept, weighted):
    X, y, task = _hetero()
    rng = np.random.RandomState(1)
    w = rng.uniform(0.5, 2.0, len(y)) if weighted else np.ones(len(y))
    # A 48-row factorization costs less than one iteration; pretend it does
    # not, so that the sequence keeps the first factor.
    K, seq = _sequence(X, task, w, 0.1, fit_intercept, factor_cost=100)
    A0 = _spd(4, rng, 0.5)
    c, b, info = seq.solve(A0, y)
    assert info["refactored"] and seq.n_factorizations == 1
    # A sequence of nearby matrices: PCG on the first factor, no refactoring.
    x = info["x"]
    for k in range(3):
        A = A0 + 1e-3 * (k + 1) * _spd(4, rng, 1.0)
        c, b, info = seq.solve(A, y, x0=x)
        x = info["x"]
        assert not info["refactored"] and 0 < info["n_iter"] < seq.max_iter
        c_ref, b_ref = dense_hetero(K, A, task, y, 0.1, weights=w,
                                    fit_intercept=fit_intercept)
        np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-8 * np.abs(c_ref).max())
        if fit_intercept:
            np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-8 * np.abs(b_ref).max())
        else:
            assert b is None
        # K ((c) * E), carried through CG, is the product it claims to be.
        E = np.eye(4)[task]
        np.testing.assert_allclose(info["KcE"], K @ (c[:, None] * E), atol=1e-10)
    assert seq.n_factorizations == 1


def _weakly_coupled(T):
    """An SPD task matrix that is not diagonal (no task-by-task solve)."""
    return np.eye(T) + 0.01 * (np.ones((T, T)) - np.eye(T))


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_a_diagonal_first_task_matrix_is_solved_task_by_task(fit_intercept):
    # The usual start of a learned structure (A = I / T, say): no N x N
    # factorization, the dense reference's answer, and the next (coupled)
    # matrix factors as before.  (Zero weights go through it in
    # test_zero_weights_and_guards.py.)
    X, y, task = _hetero(seed=21)
    w = np.random.RandomState(22).uniform(0.3, 2.0, len(y))
    K, seq = _sequence(X, task, w, 0.1, fit_intercept)
    A0 = np.diag([0.5, 1.0, 2.0, 0.25])
    c, b, info = seq.solve(A0, y)
    assert info.get("block") and seq.n_factorizations == 0
    c_ref, b_ref = dense_hetero(K, A0, task, y, 0.1, weights=w,
                                fit_intercept=fit_intercept)
    np.testing.assert_allclose(c, c_ref, atol=1e-10 * np.abs(c_ref).max())
    if fit_intercept:
        np.testing.assert_allclose(b, b_ref, atol=1e-10 * np.abs(b_ref).max())
    # K((d x) * E), which the engine's objective reads
    E = (task[:, None] == np.arange(4)[None, :]).astype(float)
    np.testing.assert_allclose(info["KcE"], K @ (info["x"][:, None] * np.sqrt(w)[:, None] * E),
                               atol=1e-10 * np.abs(info["KcE"]).max())
    A1 = _spd(4, np.random.RandomState(23), 1.0)
    c1, b1, info1 = seq.solve(A1, y, x0=info["x"])
    assert info1["refactored"] and seq.n_factorizations == 1
    c1_ref, _ = dense_hetero(K, A1, task, y, 0.1, weights=w,
                             fit_intercept=fit_intercept)
    np.testing.assert_allclose(c1, c1_ref, atol=1e-8 * np.abs(c1_ref).max())


def test_stale_factor_triggers_a_counted_refactorization(monkeypatch):
    # The rent-or-buy rule with a float64 factor (a direct solve after each
    # refactorization); the float32 factor is tested below.
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", False)
    X, y, task = _hetero()
    rng = np.random.RandomState(2)
    K, seq = _sequence(X, task, np.ones(len(y)), 0.1, True, max_iter=3,
                       factor_cost=2)
    A0 = _weakly_coupled(4)   # (a diagonal A would be solved task by task)
    _, _, info = seq.solve(A0, y)
    assert seq.n_factorizations == 1
    # Far from A0: PCG cannot converge in 3 iterations, so it refactors at
    # once and solves directly; the answer is still exact.
    A1 = _spd(4, rng, 20.0)
    c, b, info = seq.solve(A1, y, x0=info["x"])
    assert info["refactored"] and seq.n_factorizations == 2
    c_ref, b_ref = dense_hetero(K, A1, task, y, 0.1)
    np.testing.assert_allclose(c, c_ref, atol=1e-8 * np.abs(c_ref).max())
    np.testing.assert_allclose(b, b_ref, atol=1e-8 * np.abs(b_ref).max())
    # Converged, but the iterations beyond IDEAL_ITER cost a factorization:
    # the factor is marked stale and the next solve refactors.
    seq.max_iter = 50
    A2 = A1 + 0.3 * _spd(4, rng, 5.0)
    _, _, info = seq.solve(A2, y, x0=info["x"])
    assert not info["refactored"]
    assert info["n_iter"] - IDEAL_ITER >= seq.factor_cost
    assert seq.stale and seq.n_factorizations == 2
    _, _, info = seq.solve(A2 + 1e-6 * np.eye(4), y, x0=info["x"])
    assert info["refactored"] and seq.n_factorizations == 3


def test_task_block_matmat_is_the_dense_product():
    rng = np.random.RandomState(3)
    task = np.repeat(np.arange(3), [4, 1, 5])
    B = rng.randn(10, 10)
    K = B @ B.T
    u = rng.randn(10)
    offsets = np.array([0, 4, 5, 10])
    E = np.eye(3)[task]
    np.testing.assert_allclose(task_block_matmat(np, K, offsets, u, E),
                               K @ (u[:, None] * E), atol=1e-12)


def test_training_scores_by_task_blocks_equal_k_times_b():
    X, y, task = _hetero(seed=4)
    data = validate_fit_data(MultiTaskKernelRidge(), X, y, task, None)
    problem = SeparableProblem(data, partial(rbf_kernel, gamma=0.5), solver="cholesky")
    A = _spd(4, np.random.RandomState(5), 1.0)
    sol = problem.solve(A, 0.1)
    _, _, KB = problem.training_scores(sol)
    np.testing.assert_allclose(KB, problem.kernel() @ sol.dual_coef, atol=1e-10)


def _fit_both(monkeypatch, make, X, y, task, **fit):
    # Plain, exactly solved block steps on both sides: Anderson extrapolation
    # (tested in test_acceleration.py) amplifies the PCG rounding into
    # different proposals, and inexact steps (also there) stop each path's
    # PCG at a different point; this test is about the paths.
    monkeypatch.setattr(_alternating, "ACCELERATE", False)
    monkeypatch.setattr(_alternating, "INEXACT", False)
    new = make().fit(X, y, task=task, **fit)
    with monkeypatch.context() as m:
        m.setattr(SeparableProblem, "reuse_factorization", False)
        ref = make().fit(X, y, task=task, **fit)
    return new, ref


@pytest.mark.parametrize("make", [
    lambda: TaskRelationLearning(lambda_1=0.01, lambda_2=0.1, gamma=0.5,
                                 max_iter=40, tol=1e-9),
    lambda: TaskStructureLearning(penalty="trace", gamma=0.5, max_iter=40, tol=1e-9),
], ids=["mtrl", "trace"])
@pytest.mark.parametrize("weighted", [False, True])
def test_learned_structure_matches_the_refactor_every_step_path(monkeypatch, make,
                                                                weighted):
    X, y, task = _hetero(n_tasks=5, per_task=16, seed=6)
    fit = {}
    if weighted:
        fit["sample_weight"] = np.random.RandomState(7).uniform(0.2, 3.0, len(y))
    new, ref = _fit_both(monkeypatch, make, X, y, task, **fit)
    A, A_ref = np.asarray(new.task_matrix_), np.asarray(ref.task_matrix_)
    assert np.linalg.norm(A - A_ref) <= 1e-6 * np.linalg.norm(A_ref)
    np.testing.assert_allclose(new.dual_coef_, ref.dual_coef_, rtol=0,
                               atol=1e-6 * np.abs(ref.dual_coef_).max())
    assert new.n_iter_ == ref.n_iter_
    # The reference refactors at every step; the reuse path far less often.
    assert ref.n_factorizations_ == ref.n_iter_ + 1
    assert 1 <= new.n_factorizations_ < ref.n_factorizations_
    history = np.asarray(new.objective_history_)
    assert np.all(np.diff(history) <= 1e-10 * np.abs(history[:-1]))
    np.testing.assert_allclose(history, ref.objective_history_, rtol=1e-8)


def test_learned_structure_on_shared_inputs_counts_one_eigh():
    rng = np.random.RandomState(8)
    X = rng.randn(30, 2)
    Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.1 * X[:, 1]]
    model = TaskStructureLearning(penalty="trace", max_iter=5).fit(X, Y)
    assert model.n_factorizations_ == 1


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("route", ["eigh", "warm-alpha-sequence", "shifted-lanczos",
                                   "shifted-lanczos-odd-grid", "shifted-lanczos-long-grid",
                                   "shifted-lanczos-one-range"])
def test_cv_on_heterogeneous_tasks_equals_naive_refits(monkeypatch, route,
                                                       fit_intercept):
    # eigh: every fold eigendecomposes once for all alphas; warm-alpha-sequence:
    # one warm sequence (float32 factor, PCG, refactored when stale) over the
    # alphas; shifted-lanczos: one float64 factor at the alphas' geometric
    # middle and one Lanczos process for all of them (on the odd grid the
    # middle is one of the alphas).
    from rkhsmtl.estimators import _ridge_cv

    # (long grid: more alphas than EIGH_IN_CHOLESKYS, which without the
    # shifted route would eigendecompose; one range: a single factorization
    # for alphas spanning 3e4)
    monkeypatch.setattr(_ridge_cv, "EIGH_IN_CHOLESKYS",
                        0 if route in ("eigh", "shifted-lanczos-long-grid") else 16)
    if route == "shifted-lanczos-one-range":
        monkeypatch.setattr(_ridge_cv, "SHIFTED_RANGE", 1e300)
    monkeypatch.setattr(_ridge_cv, "SHIFTED_ALPHAS_MIN",
                        3 if route.startswith("shifted") else 0)
    used = []
    shifted = _ridge_cv.MultiTaskKernelRidgeCV._shifted_alpha_path
    monkeypatch.setattr(_ridge_cv.MultiTaskKernelRidgeCV, "_shifted_alpha_path",
                        lambda self, *a: used.append(1) or shifted(self, *a))
    X, y, task = _hetero(n_tasks=3, per_task=14, seed=9)
    alphas, omegas = [0.01, 1.0, 0.1, 30.0, 1e-3], [0.25, 0.75]
    if route == "shifted-lanczos-odd-grid":
        alphas = [1e-2, 1e-3, 1e-1, 1.0, 10.0]   # geometric middle 0.1, on the grid
    rng = np.random.RandomState(10)
    # Folds stratified by task, as index arrays into the (task-sorted) rows.
    fold = np.concatenate([rng.permutation(np.arange(14) % 3) for _ in range(3)])
    splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    sample_weight = np.random.RandomState(11).uniform(0.5, 2.0, len(y))
    cv = MultiTaskKernelRidgeCV(alphas=alphas, omegas=omegas, cv=splits, gamma=0.5,
                                fit_intercept=fit_intercept).fit(X, y, task=task,
                                               sample_weight=sample_weight)
    naive = []
    for omega in omegas:
        for alpha in alphas:
            err = 0.0
            for tr, va in splits:
                m = MultiTaskKernelRidge(alpha=alpha, omega=omega, gamma=0.5,
                                         solver="cholesky",
                                         fit_intercept=fit_intercept).fit(
                    X[tr], y[tr], task=task[tr], sample_weight=sample_weight[tr])
                resid = y[va] - m.predict(X[va], task=task[va])
                err += np.sum(sample_weight[va] * resid ** 2)
            naive.append(-err / sample_weight.sum())
    np.testing.assert_allclose(cv.cv_results_["mean_test_score"], naive, rtol=1e-8)
    best = int(np.argmax(naive))
    assert cv.alpha_ == alphas[best % len(alphas)]
    assert cv.omega_ == omegas[best // len(alphas)]
    assert bool(used) == route.startswith("shifted")


def test_scores_and_gram_from_the_warm_sequence_equal_dense_products():
    X, y, task = _hetero(seed=12)
    data = validate_fit_data(MultiTaskKernelRidge(), X, y, task, None)
    problem = SeparableProblem(data, partial(rbf_kernel, gamma=0.5), solver="cholesky")
    A = _spd(4, np.random.RandomState(13), 1.0)
    sol = problem.sequence(0.1).solve(A)
    F, M = problem.scores_and_gram(sol)
    K, B = problem.kernel(), sol.dual_coef
    E = np.eye(4)[problem.codes]
    np.testing.assert_allclose(F, np.sum((K @ B) * E, axis=1) + E @ sol.intercept,
                               atol=1e-10)
    np.testing.assert_allclose(M, B.T @ K @ B, atol=1e-10 * np.abs(B.T @ K @ B).max())


def test_a_warm_start_from_the_last_solution_skips_one_pass_over_K(monkeypatch):
    # K((d x) * E) of the last solution does not depend on A or alpha: the
    # next solve's first residual reuses it.  Same solution as recomputing
    # it, one pass over K fewer per solve, and an x0 changed in place since
    # (or any other x0) gets its own pass and the dense reference's answer.
    X, y, task = _hetero(seed=31)
    w = np.random.RandomState(32).uniform(0.5, 2.0, len(y))
    rng = np.random.RandomState(33)
    A0 = _spd(4, rng, 0.5)
    As = [A0 + 1e-3 * (k + 1) * _spd(4, rng, 1.0) for k in range(3)]
    passes = []
    real = warm_cholesky.task_block_matmat

    def counted(*args, **kwargs):
        passes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(warm_cholesky, "task_block_matmat", counted)

    def run(remember):
        K, seq = _sequence(X, task, w, 0.1, True, factor_cost=100)
        if not remember:
            monkeypatch.setattr(seq, "_remember", lambda x, Z: None)
        c, b, info = seq.solve(A0, y)
        out, counts = [], []
        for A in As:
            passes.clear()
            c, b, info = seq.solve(A, y, x0=info["x"])
            assert not info["refactored"]
            counts.append(len(passes))
            out.append((c, b, info["KcE"]))
        return K, seq, out, counts

    K, seq, reused, n_reused = run(True)
    _, _, fresh, n_fresh = run(False)
    assert [a + 1 for a in n_reused] == n_fresh
    for (c, b, Z), (c2, b2, Z2) in zip(reused, fresh):
        np.testing.assert_allclose(c, c2, rtol=0, atol=1e-12 * np.abs(c2).max())
        np.testing.assert_allclose(b, b2, rtol=0, atol=1e-12 * np.abs(b2).max())
        np.testing.assert_allclose(Z, Z2, rtol=0, atol=1e-12 * np.abs(Z2).max())
    # The caller's x0 changed in place after the solve: not the remembered x.
    x = seq._last[0].copy()
    x *= 1.5
    A = As[-1] + 1e-3 * np.eye(4)
    passes.clear()
    c, b, info = seq.solve(A, y, x0=x)
    assert len(passes) == info["n_iter"] + 1
    c_ref, b_ref = dense_hetero(K, A, task, y, 0.1, weights=w)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-8 * np.abs(c_ref).max())
    np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-8 * np.abs(b_ref).max())


def test_a_hopeless_pcg_solve_stops_early_and_refactors(monkeypatch):
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", False)
    X, y, task = _hetero(n_tasks=4, per_task=40, seed=14)
    K, seq = _sequence(X, task, np.ones(len(y)), 1e-3, True, max_iter=12,
                       factor_cost=1000)
    _, _, info = seq.solve(_weakly_coupled(4), y)
    # Strong coupling instead of almost none: the old factor is a poor
    # preconditioner, which the first iterations' rate shows.
    A1 = np.full((4, 4), 0.9) + 0.1 * np.eye(4)
    c, b, info = seq.solve(A1, y, x0=info["x"])
    assert info["refactored"] and 3 <= info["n_iter"] < seq.max_iter
    c_ref, b_ref = dense_hetero(K, A1, task, y, 1e-3)
    np.testing.assert_allclose(c, c_ref, atol=1e-8 * np.abs(c_ref).max())


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_float32_factor_preconditions_to_float64_accuracy(monkeypatch, fit_intercept):
    """The float32 factor is only a preconditioner: every solve, the first
    one included, ends at the float64 dense reference."""
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", True)
    X, y, task = _hetero(n_tasks=4, per_task=30, seed=3)
    rng = np.random.RandomState(4)
    w = rng.uniform(0.5, 2.0, len(y))
    # A float32 preconditioner must not limit the attainable accuracy: ask
    # PCG for a 1e-12 residual, far below float32's resolution.
    K, seq = _sequence(X, task, w, 0.1, fit_intercept, tol=1e-12)
    A = _spd(4, rng, 0.5)
    x = None
    for k in range(4):
        c, b, info = seq.solve(A, y, x0=x)
        x = info["x"]
        if k == 0:
            assert info["refactored"] and not seq.exact_factor
            assert seq._chol.factor.dtype == np.float32
            assert info["n_iter"] >= 1  # PCG finished the float32 solve
        c_ref, b_ref = dense_hetero(K, A, task, y, 0.1, weights=w,
                                    fit_intercept=fit_intercept)
        np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-9 * np.abs(c_ref).max())
        if fit_intercept:
            np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-9 * np.abs(b_ref).max())
        A = A + 2e-3 * _spd(4, rng, 1.0)


def test_float32_that_cannot_factor_falls_back_to_float64(monkeypatch):
    """Duplicated rows and alpha = 1e-9: float32 Cholesky breaks down, the
    sequence switches to float64 for good and still solves exactly."""
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", True)
    X, y, task = _hetero(n_tasks=3, per_task=20, seed=5)
    X = np.repeat(X[::2], 2, axis=0)  # pairs of identical rows: K singular
    K, seq = _sequence(X, task, np.ones(len(y)), 1e-9, True)
    A = _spd(3, np.random.RandomState(6), 0.5)
    c, b, info = seq.solve(A, y)
    assert seq._low is False and seq.exact_factor
    assert seq._chol.factor.dtype == np.float64
    # The system is nearly singular, so compare what is well determined:
    # the fitted values (K o A[t_i, t_j]) c + b_t, against the dense solve.
    c_ref, b_ref = dense_hetero(K, A, task, y, 1e-9)
    KA = K * A[task][:, task]
    np.testing.assert_allclose(KA @ c + b[task], KA @ c_ref + b_ref[task], rtol=0,
                               atol=1e-6 * np.abs(y).max())


@pytest.mark.parametrize("mixed", [True, False])
def test_a_sequence_that_falls_back_to_the_eigen_solver_keeps_fitting(monkeypatch, mixed):
    """A linear kernel at 1e38 is not numerically positive definite: the warm
    sequence hands over to the one-shot eigen path (which warns) and the fit
    completes with finite predictions (it used to stop with a KeyError)."""
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", mixed)
    X, y, task = _hetero(n_tasks=3, per_task=20, seed=15)
    with pytest.warns(RuntimeWarning):
        model = TaskRelationLearning(kernel="linear", max_iter=4).fit(
            X * 1e19, y, task=task)
    assert np.all(np.isfinite(model.predict(X * 1e19, task=task)))


def test_entries_beyond_float32_range_keep_a_float64_factor(monkeypatch):
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", True)
    X, y, task = _hetero(n_tasks=3, per_task=10, seed=16)
    K, seq = _sequence(X, task, np.ones(len(y)), 0.1, True)
    big = WarmCholeskySequence(np, K * 1e32, task, seq.offsets, np.ones(len(y)),
                               0.1 * 1e32, True)
    c, b, info = big.solve(_weakly_coupled(3), y)
    assert big._low is False and big._chol.factor.dtype == np.float64
    c_ref, b_ref = dense_hetero(K, _weakly_coupled(3), task, y, 0.1)
    np.testing.assert_allclose(c * 1e32, c_ref, rtol=0, atol=1e-8 * np.abs(c_ref).max())


def test_a_float32_factor_that_cannot_finish_is_replaced_by_float64(monkeypatch):
    """Float32 factored, but its float64 PCG finish stops at max_iter: the
    float64 factor that replaces it must not reuse the float32 buffer."""
    monkeypatch.setattr(warm_cholesky, "MIXED_PRECISION", True)
    X, y, task = _hetero(n_tasks=3, per_task=20, seed=17)
    K, seq = _sequence(X, task, np.ones(len(y)), 1e-3, True, tol=1e-14, max_iter=1)
    A = _spd(3, np.random.RandomState(18), 0.5)
    c, b, info = seq.solve(A, y)
    assert seq.n_factorizations == 2 and seq._low is False and seq.exact_factor
    assert seq._chol.factor.dtype == np.float64
    c_ref, b_ref = dense_hetero(K, A, task, y, 1e-3)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-8 * np.abs(c_ref).max())
    np.testing.assert_allclose(b, b_ref, rtol=0, atol=1e-8 * np.abs(b_ref).max())


def test_alpha_ranges_cover_every_alpha_within_the_ratio():
    from rkhsmtl.estimators._ridge_cv import _alpha_ranges

    rng = np.random.RandomState(30)
    for _ in range(50):
        alphas = 10.0 ** rng.uniform(-8, 4, rng.randint(1, 20))
        groups = _alpha_ranges(alphas, 1e3)
        joined = np.sort(np.concatenate(groups))
        np.testing.assert_array_equal(joined, np.arange(len(alphas)))
        for g in groups:
            assert alphas[g].max() / alphas[g].min() <= 1e3 * (1 + 1e-9)
        span = alphas.max() / alphas.min()
        assert len(groups) <= max(1, int(np.ceil(np.log(span) / np.log(1e3) - 1e-12)))
