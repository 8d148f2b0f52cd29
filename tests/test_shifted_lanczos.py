"""One Lanczos process for many shifted systems (rkhsmtl.solvers.shifted_lanczos)."""
import numpy as np

from rkhsmtl.solvers.shifted_lanczos import solve_shifted


def _operator(n=120, seed=0, sigma=0.1):
    """P = (H + sigma I)^-1 for an H with eigenvalues from 1e-4 to 1e2."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.geomspace(1e-4, 1e2, n)
    return (Q / (lam + sigma)) @ Q.T, Q, lam, rng


def test_every_shift_equals_its_dense_solve():
    sigma = 0.1
    P, _, _, rng = _operator(sigma=sigma)
    b = rng.standard_normal(P.shape[0])
    alphas = np.array([1e-3, 0.02, 0.5, 3.0, 100.0])
    shifts = 1.0 / (alphas - sigma)   # negative and positive definite P + s I
    sols, info = solve_shifted(lambda v: P @ v, b, shifts, tol=1e-13)
    assert info["n_iter"] <= P.shape[0]
    for s, u in zip(shifts, sols):
        ref = np.linalg.solve(P + s * np.eye(len(b)), b)
        np.testing.assert_allclose(u, ref, rtol=0, atol=1e-11 * np.abs(ref).max())
    # ... which is the alpha system: (H + alpha I) x = P^-1 b with x = s u
    H = np.linalg.inv(P) - sigma * np.eye(len(b))
    for alpha, s, u in zip(alphas, shifts, sols):
        x = s * u
        np.testing.assert_allclose((H + alpha * np.eye(len(b))) @ x, np.linalg.solve(P, b),
                                   rtol=0, atol=1e-8 * np.abs(np.linalg.solve(P, b)).max())


def test_an_invariant_subspace_ends_the_process_exactly():
    # b in the span of 3 eigenvectors: the Krylov space is exhausted after 3
    # iterations and the solutions are exact
    P, Q, lam, _ = _operator(n=60, seed=1)
    b = Q[:, [0, 7, 20]] @ np.array([1.0, -2.0, 0.5])
    sols, info = solve_shifted(lambda v: P @ v, b, [5.0, -50.0], tol=1e-15)
    assert info["n_iter"] <= 5   # 3, or the next residual check
    for s, u in zip([5.0, -50.0], sols):
        np.testing.assert_allclose(u, np.linalg.solve(P + s * np.eye(60), b), atol=1e-12)


def test_zero_right_hand_side_and_the_iteration_cap():
    P, _, _, rng = _operator(n=40, seed=2)
    sols, info = solve_shifted(lambda v: P @ v, np.zeros(40), [1.0, 2.0])
    assert info["n_iter"] == 0 and all(np.all(u == 0) for u in sols)
    b = rng.standard_normal(40)
    sols, info = solve_shifted(lambda v: P @ v, b, [1e-3], tol=1e-16, max_iter=4)
    assert info["n_iter"] == 4 and info["residuals"][0] > 1e-16
    # the capped iterate is CG's: closer to the solution than 0 in the
    # energy norm of P + s I
    M = P + 1e-3 * np.eye(40)
    u_star = np.linalg.solve(M, b)
    e = sols[0] - u_star
    assert e @ M @ e < u_star @ M @ u_star
