"""The block-PCG solver for many weighted ridges on one kernel matrix.

Oracles: dense per-task bordered solves, scikit-learn's KernelRidge with
sample_weight, and the explicit preconditioner matrix.
"""
import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from rkhsmtl.kernels import compute_kernel
from rkhsmtl.solvers import masked_cg, sylvester, weighted_cg
from rkhsmtl.solvers._pivoted_cholesky import pivoted_cholesky


def _problem(N=120, T=4, seed=0, spread=2.0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, 3)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(N)
    K = compute_kernel(X, kernel="rbf", gamma=0.3)
    # Log-normal weights over ~3 orders of magnitude, some rows left out.
    W = np.exp(spread * rng.randn(N, T))
    W[rng.rand(N, T) < 0.1] = 0.0
    return K, y, W


# ------------------------------------------------------------ pivoted Cholesky
def test_pivoted_cholesky_is_exact_on_low_rank_matrices():
    G = np.random.RandomState(0).randn(30, 4)
    M = G @ G.T
    L, pivots, residual = pivoted_cholesky(np, lambda p: M[:, p], np.diag(M), 30)
    assert L.shape == (30, 4) and len(pivots) == 4
    np.testing.assert_allclose(L @ L.T, M, atol=1e-10)
    np.testing.assert_allclose(residual, 0.0, atol=1e-10)


def test_pivoted_cholesky_residual_pivots_and_stopping():
    K, _, _ = _problem(N=80)
    L, pivots, residual = pivoted_cholesky(np, lambda p: K[:, p], np.diag(K), 10)
    E = K - L @ L.T
    np.testing.assert_allclose(residual, np.diag(E), atol=1e-12)
    assert np.all(residual >= 0) and np.linalg.eigvalsh(E).min() > -1e-10
    assert np.allclose(residual[pivots], 0.0)
    # The factor is the Nystroem approximation on its pivots.
    S = np.array(pivots)
    nystroem = K[:, S] @ np.linalg.solve(K[np.ix_(S, S)], K[S, :])
    np.testing.assert_allclose(L @ L.T, nystroem, atol=1e-8)
    # atol stops as soon as the largest residual diagonal entry is below it.
    L2, _, residual2 = pivoted_cholesky(np, lambda p: K[:, p], np.diag(K), 80, atol=0.05)
    assert residual2.max() <= 0.05 and L2.shape[1] < 80
    _, _, before = pivoted_cholesky(np, lambda p: K[:, p], np.diag(K), L2.shape[1] - 1)
    assert before.max() > 0.05


def test_pivoted_cholesky_leaves_the_diagonal_alone():
    K, _, _ = _problem(N=40)
    diag = np.diag(K).copy()
    pivoted_cholesky(np, lambda p: K[:, p], diag, 5)
    np.testing.assert_array_equal(diag, np.diag(K))


# ---------------------------------------------------------------- preconditioner
def test_preconditioner_is_the_inverse_of_the_scaled_nystroem_system():
    K, _, W = _problem(N=60, T=3)
    sw = np.sqrt(W)
    apply, rank = weighted_cg.preconditioner(np, K, sw, alpha=0.5, rank=7)
    assert rank == 7
    d_max = sw.max(axis=1)
    L, _, _ = pivoted_cholesky(np, lambda p: d_max * K[:, p] * d_max[p],
                               d_max**2 * np.diag(K), 7)
    R = np.random.RandomState(1).randn(60, 3)
    Z = apply(R)
    for t in range(3):
        ratio = np.where(d_max > 0, sw[:, t] / np.where(d_max > 0, d_max, 1), 0)
        P = (ratio[:, None] * (L @ L.T) * ratio[None, :]) + 0.5 * np.eye(60)
        np.testing.assert_allclose(Z[:, t], np.linalg.solve(P, R[:, t]), rtol=1e-9)


# ------------------------------------------------------------------------ solve
@pytest.mark.parametrize("rank", [3, 20, 500])
def test_solve_equals_weighted_kernel_ridge(rank):
    K, y, W = _problem()
    C, b, info = weighted_cg.solve(np, K, y, W, 0.1, fit_intercept=False, rank=rank,
                                   tol=1e-12)
    assert b is None and info["converged"] and info["rank"] <= min(rank, 120)
    for t in range(W.shape[1]):
        ref = KernelRidge(alpha=0.1, kernel="precomputed").fit(K, y, sample_weight=W[:, t])
        np.testing.assert_allclose(K @ C[:, t], K @ ref.dual_coef_, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("rank", [5, 300])
def test_solve_with_intercepts_and_per_task_targets_equals_bordered_solve(rank):
    K, y, W = _problem(T=3, seed=2)
    N, T = W.shape
    Y = np.stack([y + t for t in range(T)], axis=1)
    Y[W == 0] = np.nan                      # ignored where the weight is zero
    C, b, info = weighted_cg.solve(np, K, Y, W, 0.3, rank=rank, tol=1e-13)
    assert info["converged"]
    for t in range(T):
        on = W[:, t] > 0
        n = int(on.sum())
        Ko = K[np.ix_(on, on)]
        big = np.block([[Ko + 0.3 * np.diag(1 / W[on, t]), np.ones((n, 1))],
                        [np.ones((1, n)), np.zeros((1, 1))]])
        sol = np.linalg.solve(big, np.r_[Y[on, t], 0.0])
        np.testing.assert_allclose(b[t], sol[-1], rtol=1e-8)
        np.testing.assert_allclose(C[on, t], sol[:-1], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(C[~on, t], 0.0)


def test_inputs_are_not_modified():
    K, y, W = _problem(N=50)
    copies = [a.copy() for a in (K, y, W)]
    weighted_cg.solve(np, K, y, W, 0.1, rank=5)
    for a, c in zip((K, y, W), copies):
        np.testing.assert_array_equal(a, c)


def test_full_rank_preconditioner_converges_at_once():
    K, y, W = _problem(N=60)
    _, _, info = weighted_cg.solve(np, K, y, W, 0.1, fit_intercept=False, rank=60)
    assert info["n_iter"] <= 2


def test_fewer_iterations_than_the_mean_weight_preconditioner():
    """The reason this solver exists: spread weights defeat one mean weight."""
    K, y, W = _problem(N=300, T=5, spread=1.5)
    alpha = 0.1
    _, _, ours = weighted_cg.solve(np, K, y, W, alpha, rank=30, tol=1e-8)
    kfac = sylvester.decompose_kernel(np, K)
    tfac = sylvester.decompose_task_matrix(np, np.eye(5))
    _, _, theirs = masked_cg.solve(kfac, tfac, K, np.eye(5), np.tile(y[:, None], (1, 5)),
                                   W, alpha, tol=1e-8, max_iter=2000)
    assert ours["converged"] and theirs["converged"]
    # Measured: 38 against 647 iterations.
    assert ours["n_iter"] * 5 < theirs["n_iter"], (ours["n_iter"], theirs["n_iter"])


def test_warm_start_from_the_solution_needs_no_iterations():
    K, y, W = _problem(N=80)
    _, _, info = weighted_cg.solve(np, K, y, W, 0.1, rank=10, tol=1e-10)
    _, _, again = weighted_cg.solve(np, K, y, W, 0.1, rank=10, tol=1e-8, x0=info["x"])
    assert again["n_iter"] == 0


def test_alpha_zero_on_a_full_rank_kernel_interpolates():
    rng = np.random.RandomState(0)
    X = rng.randn(25, 2)
    K = compute_kernel(X, kernel="rbf", gamma=2.0)
    y, W = rng.randn(25), rng.uniform(0.5, 2.0, (25, 2))
    C, _, info = weighted_cg.solve(np, K, y, W, 0.0, fit_intercept=False, rank=5,
                                   tol=1e-12, max_iter=5000)
    assert info["converged"]
    np.testing.assert_allclose(K @ C, np.tile(y[:, None], (1, 2)), atol=1e-6)


def test_too_little_memory_is_refused_before_allocating(monkeypatch):
    K, y, W = _problem(N=50)
    monkeypatch.setenv("RKHSMTL_MAX_MEMORY_GB", "1e-6")
    with pytest.raises(MemoryError, match="weighted CG solver.*solver='cholesky'"):
        weighted_cg.solve(np, K, y, W, 0.1)


def test_every_namespace_gives_the_numpy_solution(xp_name):
    from array_api_compat import array_namespace

    from conftest import to_xp
    K, y, W = _problem(N=90, T=3)
    C, b, ref = weighted_cg.solve(np, K, y, W, 0.2, rank=10, tol=1e-12)
    Ka, ya, Wa = (to_xp(xp_name, a) for a in (K, y, W))
    xp = array_namespace(Ka)
    Cx, bx, info = weighted_cg.solve(xp, Ka, ya, Wa, 0.2, rank=10, tol=1e-12)
    assert array_namespace(Cx) is xp and info["n_iter"] == ref["n_iter"]
    np.testing.assert_allclose(np.asarray(Cx.tolist()) if hasattr(Cx, "tolist") else Cx,
                               C, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(np.asarray(bx.tolist()) if hasattr(bx, "tolist") else bx,
                               b, rtol=1e-8)
