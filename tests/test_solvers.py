"""Every solver against an independent dense (Kronecker / N x N) reference."""
import numpy as np
import pytest

from rkhsmtl.kernels import compute_kernel
from rkhsmtl.solvers import cholesky, dense_eigen, hadamard_cg, masked_cg, sylvester
from rkhsmtl.solvers._hadamard import hadamard_matvec, one_hot, task_rows
from rkhsmtl.solvers._kernel_operator import KernelOperator

from _oracles import dense_hetero, dense_shared

xp = np  # solver-level tests run on numpy; backends are tested elsewhere


def _rel(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300)


def _problem(n=25, T=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 3)
    K = compute_kernel(X, kernel="rbf", gamma=0.5)
    G = rng.randn(T, T)
    A = G @ G.T + 0.1 * np.eye(T)
    Y = rng.randn(n, T)
    return X, K, A, Y


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sylvester_matches_dense_kronecker(fit_intercept, weighted):
    X, K, A, Y = _problem()
    sw = np.random.RandomState(1).uniform(0.5, 2, len(Y)) if weighted else None
    kfac = sylvester.decompose_kernel(xp, K, sample_weight=sw)
    tfac = sylvester.decompose_task_matrix(xp, A)
    C, b = sylvester.solve(kfac, tfac, Y, 0.3, fit_intercept)
    W = None if sw is None else np.repeat(sw[:, None], Y.shape[1], axis=1)
    C_ref, b_ref = dense_shared(K, A, Y, 0.3, W, fit_intercept)
    assert _rel(C, C_ref) < 1e-8
    if fit_intercept:
        assert _rel(b, b_ref) < 1e-8


def test_sylvester_path_equals_single_solves():
    X, K, A, Y = _problem()
    kfac = sylvester.decompose_kernel(xp, K)
    tfac = sylvester.decompose_task_matrix(xp, A)
    alphas = [1e-3, 0.1, 10.0]
    for (C, b), a in zip(sylvester.solve_path(kfac, tfac, Y, alphas), alphas):
        C1, b1 = sylvester.solve(kfac, tfac, Y, a)
        assert _rel(C, C1) < 1e-12 and _rel(b, b1) < 1e-12


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_residuals_equal_brute_force(fit_intercept):
    X, K, A, Y = _problem(n=12, T=3)
    sw = np.random.RandomState(2).uniform(0.5, 2, len(Y))
    kfac = sylvester.decompose_kernel(xp, K, sample_weight=sw)
    tfac = sylvester.decompose_task_matrix(xp, A)
    r = sylvester.loo_residuals(kfac, tfac, Y, 0.2, fit_intercept)
    W = np.repeat(sw[:, None], 3, axis=1)
    for i, t in [(0, 0), (5, 2), (11, 1)]:
        Ym = Y.copy()
        Ym[i, t] = np.nan
        C, b = dense_shared(K, A, Ym, 0.2, W, fit_intercept)
        pred = (K @ C @ A)[i, t] + b[t]
        assert abs(r[i, t] - (Y[i, t] - pred)) < 1e-9


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_masked_cg_matches_dense_on_observed_entries(fit_intercept):
    X, K, A, Y = _problem()
    rng = np.random.RandomState(3)
    Y = Y.copy()
    Y[rng.rand(*Y.shape) < 0.3] = np.nan
    W = np.where(np.isnan(Y), 0.0, rng.uniform(0.5, 2.0, Y.shape))
    kfac = sylvester.decompose_kernel(xp, K)
    tfac = sylvester.decompose_task_matrix(xp, A)
    C, b, info = masked_cg.solve(kfac, tfac, K, A, Y, W, 0.3, fit_intercept,
                                 tol=1e-13)
    C_ref, b_ref = dense_shared(K, A, Y, 0.3, W, fit_intercept)
    assert info["converged"]
    assert _rel(C, C_ref) < 1e-8
    assert np.all(C[np.isnan(Y)] == 0)
    if fit_intercept:
        assert _rel(b, b_ref) < 1e-8


def _hetero(N=40, T=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, 2)
    codes = np.sort(rng.randint(0, T, N))
    codes[:T] = np.arange(T)
    codes = np.sort(codes)
    K = compute_kernel(X, kernel="rbf", gamma=0.7)
    G = rng.randn(T, T)
    A = G @ G.T + 0.1 * np.eye(T)
    y = rng.randn(N)
    w = rng.uniform(0.5, 2, N)
    return X, K, A, codes, y, w


def test_hadamard_matvec_identity():
    X, K, A, codes, y, w = _hetero()
    E = one_hot(xp, codes, A.shape[0], like=y)
    v = np.random.RandomState(4).randn(len(y))
    dense = (K * A[codes][:, codes]) @ v
    assert _rel(hadamard_matvec(xp, K, task_rows(xp, A, codes), E, v), dense) < 1e-12


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_cholesky_and_eigen_match_dense(fit_intercept):
    X, K, A, codes, y, w = _hetero()
    E = one_hot(xp, codes, A.shape[0], like=y)
    c_ref, b_ref = dense_hetero(K, A, codes, y, 0.2, w, fit_intercept)
    chol = cholesky.factor(xp, K, A, codes, np.sqrt(w), 0.2)
    c, b = cholesky.solve(chol, xp, y, E, np.sqrt(w), fit_intercept)
    assert _rel(c, c_ref) < 1e-8
    fac = dense_eigen.decompose(xp, K, A, codes, E, np.sqrt(w))
    c2, b2 = dense_eigen.solve(fac, y, 0.2, fit_intercept)
    assert _rel(c2, c_ref) < 1e-8
    if fit_intercept:
        assert _rel(b, b_ref) < 1e-8 and _rel(b2, b_ref) < 1e-8
    K_copy = K.copy()
    cholesky.factor(xp, K, A, codes, np.sqrt(w), 0.2)
    assert np.array_equal(K, K_copy)  # overwrite=False keeps the kernel


@pytest.mark.parametrize("stored", [True, False])
def test_hadamard_cg_matches_dense(stored):
    X, K, A, codes, y, w = _hetero()
    offsets = np.searchsorted(codes, np.arange(A.shape[0] + 1))
    kfn = lambda a, b: compute_kernel(a, b, kernel="rbf", gamma=0.7)  # noqa: E731
    kop = (KernelOperator(xp, K=K) if stored
           else KernelOperator(xp, X=X, kernel_fn=kfn, block_bytes=8 * 40 * 7))
    assert stored or kop.block_rows < len(y)  # exercises the blockwise path
    c, b, info = hadamard_cg.solve(xp, kop, A, y, codes, offsets, np.sqrt(w), 0.2,
                                   True, tol=1e-13)
    c_ref, b_ref = dense_hetero(K, A, codes, y, 0.2, w, True)
    assert info["converged"]
    assert _rel(c, c_ref) < 1e-8 and _rel(b, b_ref) < 1e-8


def test_cg_warns_when_not_converged():
    from sklearn.exceptions import ConvergenceWarning

    X, K, A, codes, y, w = _hetero()
    offsets = np.searchsorted(codes, np.arange(A.shape[0] + 1))
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        hadamard_cg.solve(xp, KernelOperator(xp, K=K), A, y, codes, offsets, None,
                          1e-6, True, tol=1e-15, max_iter=2)


def test_weighted_eigendecomposition_cache_compares_weights_by_value():
    """Regression: the cache was keyed by id(weights); Newton's temporary
    curvature weights recycle ids, so a stale decomposition came back and the
    logistic fits stopped early, depending on memory reuse."""
    from functools import partial

    from rkhsmtl import MultiTaskKernelRidge
    from rkhsmtl._validation import validate_fit_data
    from rkhsmtl.solvers import SeparableProblem

    rng = np.random.RandomState(0)
    X, Y = rng.randn(30, 2), rng.randn(30, 2)
    data = validate_fit_data(MultiTaskKernelRidge(), X, Y)
    problem = SeparableProblem(data, partial(compute_kernel, kernel="rbf"))
    w = np.full(30, 2.0)
    first = problem.kernel_eigen(w)
    w[:] = rng.uniform(0.5, 3.0, 30)            # same object (same id), new values
    second = problem.kernel_eigen(w)
    assert second is not first
    np.testing.assert_allclose(second.d, np.sqrt(w))
    assert problem.kernel_eigen(w.copy()) is second     # equal values: reused
    assert problem.kernel_eigen(None).d is None
