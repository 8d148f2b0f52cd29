"""Explicit feature maps: Nyström and random Fourier features.

Parity with the exact kernel (Phi Phi^T = K when the landmarks span the data,
Phi Phi^T -> K as D grows), numerical robustness (duplicate rows), landmark
choice, backends, and the error messages.
"""
import pickle
from functools import partial

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.kernel_approximation import RBFSampler

from rkhsmtl.features import (
    NystroemFeatures,
    RandomFourierFeatures,
    make_feature_map,
)
from rkhsmtl.features import _landmarks
from rkhsmtl.kernels import compute_kernel

from conftest import to_xp


def rbf(gamma):
    return partial(compute_kernel, kernel="rbf", gamma=gamma)


@pytest.fixture
def X():
    return np.random.RandomState(0).randn(60, 3)


def rel_error(Phi, K):
    return np.linalg.norm(Phi @ Phi.T - K) / np.linalg.norm(K)


# --------------------------------------------------------------------------
# Nyström
# --------------------------------------------------------------------------

@pytest.mark.parametrize("landmarks", ["uniform", "greedy"])
def test_nystroem_all_rows_reproduces_kernel(X, landmarks):
    kernel_fn = rbf(0.3)
    K = kernel_fn(X, X)
    assert np.linalg.eigvalsh(K)[0] > 1e-6  # well conditioned: exactness is testable
    fmap = NystroemFeatures(kernel_fn, 60, landmarks=landmarks, random_state=0).fit(X)
    Phi = fmap.transform(X)
    assert Phi.shape == (60, 60)
    assert fmap.n_landmarks_ == fmap.n_components_ == 60
    assert rel_error(Phi, K) < 1e-10
    assert sorted(fmap.landmark_indices_.tolist()) == list(range(60))


def test_nystroem_is_exact_on_landmarks_and_matches_formula(X):
    kernel_fn = partial(compute_kernel, kernel="laplacian", gamma=0.5)
    fmap = NystroemFeatures(kernel_fn, 15, random_state=1).fit(X)
    Z = X[fmap.landmark_indices_]
    np.testing.assert_array_equal(fmap.landmarks_, Z)
    Phi_z = fmap.transform(Z)
    np.testing.assert_allclose(Phi_z @ Phi_z.T, kernel_fn(Z, Z), atol=1e-10)
    # Off the landmarks: k(x, Z) K_ZZ^{-1} k(Z, x').
    X_new = np.random.RandomState(5).randn(7, 3)
    expected = kernel_fn(X_new, Z) @ np.linalg.solve(kernel_fn(Z, Z), kernel_fn(Z, X))
    np.testing.assert_allclose(fmap.transform(X_new) @ fmap.transform(X).T, expected,
                               atol=1e-10)
    # Features are ordered by decreasing eigenvalue.
    assert np.all(np.diff(fmap.eigenvalues_) <= 0)


def test_nystroem_duplicate_rows_are_finite_and_reduce_rank():
    rng = np.random.RandomState(0)
    X = np.repeat(rng.randn(8, 2), 6, axis=0)  # 48 rows, 8 distinct
    kernel_fn = rbf(0.5)
    fmap = NystroemFeatures(kernel_fn, 30, random_state=0).fit(X)
    Phi = fmap.transform(X)
    assert np.all(np.isfinite(Phi))
    assert fmap.n_landmarks_ == 30
    assert fmap.n_components_ < fmap.n_landmarks_
    assert fmap.n_components_ <= 8
    assert Phi.shape == (48, fmap.n_components_)
    # 30 landmarks among 48 rows with 6 copies each cover all 8 points here.
    assert len({tuple(z) for z in fmap.landmarks_}) == 8
    assert rel_error(Phi, kernel_fn(X, X)) < 1e-10


def test_greedy_landmarks_pick_the_distinct_points():
    rng = np.random.RandomState(3)
    points = rng.randn(5, 2) * 2.0
    X = points[rng.randint(0, 5, size=100)]
    assert len({tuple(x) for x in X}) == 5
    fmap = NystroemFeatures(rbf(0.5), 20, landmarks="greedy").fit(X)
    assert fmap.n_landmarks_ == 5  # stops: the kernel matrix has rank 5
    assert {tuple(z) for z in fmap.landmarks_} == {tuple(p) for p in points}
    assert len(set(fmap.landmark_indices_.tolist())) == 5
    assert rel_error(fmap.transform(X), rbf(0.5)(X, X)) < 1e-10


def test_greedy_diagonal_and_transform_in_blocks(monkeypatch):
    X = np.random.RandomState(2).randn(50, 3)
    reference = NystroemFeatures(rbf(0.2), 12, landmarks="greedy").fit(X)
    monkeypatch.setattr(_landmarks, "_DIAGONAL_BLOCK", 7)
    monkeypatch.setattr(_landmarks, "BLOCK_BYTES", 8 * 40 * 5)  # a few rows per block
    blocked = NystroemFeatures(rbf(0.2), 12, landmarks="greedy").fit(X)
    np.testing.assert_array_equal(blocked.landmark_indices_, reference.landmark_indices_)
    np.testing.assert_allclose(blocked.transform(X), reference.transform(X), atol=1e-12)
    rff = RandomFourierFeatures(n_components=30, random_state=0).fit(X)
    monkeypatch.undo()
    np.testing.assert_allclose(
        rff.transform(X),
        RandomFourierFeatures(n_components=30, random_state=0).fit(X).transform(X),
        atol=1e-12)


@pytest.mark.parametrize("landmarks", ["uniform", "greedy"])
def test_nystroem_error_decreases_with_landmarks(landmarks):
    X = np.random.RandomState(0).randn(300, 4)
    kernel_fn = rbf(0.25)
    K = kernel_fn(X, X)
    errors = [
        rel_error(NystroemFeatures(kernel_fn, m, landmarks=landmarks, random_state=0)
                  .fit(X).transform(X), K)
        for m in (10, 40, 80)
    ]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.5 * errors[0]


def test_greedy_beats_uniform_on_clustered_data():
    rng = np.random.RandomState(0)
    centers = rng.randn(6, 2) * 5
    X = centers[rng.randint(0, 6, size=300)] + 0.05 * rng.randn(300, 2)
    K = rbf(1.0)(X, X)
    greedy = NystroemFeatures(rbf(1.0), 6, landmarks="greedy").fit(X)
    uniform = NystroemFeatures(rbf(1.0), 6, random_state=0).fit(X)
    assert rel_error(greedy.transform(X), K) <= rel_error(uniform.transform(X), K) + 1e-12


def test_nystroem_determinism_and_cap(X):
    a = NystroemFeatures(rbf(0.3), 20, random_state=7).fit(X)
    b = NystroemFeatures(rbf(0.3), 20, random_state=7).fit(X)
    c = NystroemFeatures(rbf(0.3), 20, random_state=8).fit(X)
    np.testing.assert_array_equal(a.landmark_indices_, b.landmark_indices_)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.array_equal(a.landmark_indices_, c.landmark_indices_)
    capped = NystroemFeatures(rbf(0.3), 500, random_state=0).fit(X)
    assert capped.n_landmarks_ == 60
    assert capped.n_components == 500  # hyperparameter untouched


def test_nystroem_rcond_drops_small_eigenvalues(X):
    full = NystroemFeatures(rbf(0.3), 40, random_state=0).fit(X)
    cut = NystroemFeatures(rbf(0.3), 40, random_state=0, rcond=1e-3).fit(X)
    assert cut.n_components_ < full.n_components_ == 40
    assert cut.eigenvalues_[-1] > 1e-3 * cut.eigenvalues_[0]


def test_inputs_not_modified(X):
    X_copy = X.copy()
    Xi = (X * 10).astype(np.int64)
    Xi_copy = Xi.copy()
    NystroemFeatures(rbf(0.3), 10, random_state=0).fit(X).transform(X)
    NystroemFeatures(rbf(0.3), 10, landmarks="greedy").fit(X).transform(X)
    RandomFourierFeatures(n_components=10, random_state=0).fit(X).transform(X)
    NystroemFeatures(rbf(0.003), 10, random_state=0).fit(Xi).transform(Xi)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Xi, Xi_copy)


def test_empty_chunk_maps_to_empty_features(xp_name, X):
    fmap = NystroemFeatures(rbf(0.3), 10, random_state=0).fit(to_xp(xp_name, X))
    rff = RandomFourierFeatures(n_components=7, random_state=0).fit(to_xp(xp_name, X))
    empty = to_xp(xp_name, np.zeros((0, 3)))
    assert tuple(fmap.transform(empty).shape) == (0, fmap.n_components_)
    assert tuple(rff.transform(empty).shape) == (0, 7)
    with pytest.raises(ValueError, match="at least 1 sample"):
        NystroemFeatures(rbf(0.3), 10).fit(empty)


def test_lists_are_accepted(X):
    fmap = NystroemFeatures(rbf(0.3), 10, random_state=0).fit(X.tolist())
    np.testing.assert_allclose(fmap.transform(X.tolist()), fmap.transform(X))


@pytest.mark.parametrize("landmarks", ["uniform", "greedy"])
def test_nystroem_backends_agree(xp_name, X, landmarks):
    kernel_fn = rbf(0.3)
    X_new = np.random.RandomState(1).randn(9, 3)
    ref = NystroemFeatures(kernel_fn, 25, landmarks=landmarks, random_state=0).fit(X)
    fmap = NystroemFeatures(kernel_fn, 25, landmarks=landmarks, random_state=0)
    fmap.fit(to_xp(xp_name, X))
    Phi = fmap.transform(to_xp(xp_name, X_new))
    assert type(Phi) is type(to_xp(xp_name, X_new))
    assert isinstance(fmap.landmark_indices_, np.ndarray)
    np.testing.assert_array_equal(fmap.landmark_indices_, ref.landmark_indices_)
    assert fmap.n_components_ == ref.n_components_
    Phi = _host(Phi)
    Phi_ref = ref.transform(X_new)
    np.testing.assert_allclose(Phi @ Phi.T, Phi_ref @ Phi_ref.T, atol=1e-10)
    # Sign-normalized eigenvectors: the features themselves agree.
    np.testing.assert_allclose(Phi, Phi_ref, atol=1e-7)


def _host(a):
    from rkhsmtl._backend import to_numpy

    return np.asarray(to_numpy(a))


@pytest.mark.parametrize("landmarks", ["uniform", "greedy"])
def test_nystroem_pickles(X, landmarks):
    fmap = make_feature_map("nystroem", kernel="rbf", gamma=0.3, n_components=12,
                            random_state=0, landmarks=landmarks).fit(X)
    again = pickle.loads(pickle.dumps(fmap))
    np.testing.assert_array_equal(again.transform(X), fmap.transform(X))
    assert clone(fmap).get_params()["n_components"] == 12


def test_nystroem_errors(X):
    with pytest.raises(ValueError, match=r"'n_components'.*Got 0"):
        NystroemFeatures(rbf(0.3), 0).fit(X)
    with pytest.raises(ValueError, match=r"'n_components'.*Got 2\.5"):
        NystroemFeatures(rbf(0.3), 2.5).fit(X)
    with pytest.raises(ValueError, match="'landmarks'.*'uniform', 'greedy'"):
        NystroemFeatures(rbf(0.3), 5, landmarks="kmeans").fit(X)
    with pytest.raises(ValueError, match="'rcond'"):
        NystroemFeatures(rbf(0.3), 5, rcond=-1.0).fit(X)
    with pytest.raises(ValueError, match="'kernel_fn'"):
        NystroemFeatures("rbf", 5).fit(X)
    with pytest.raises(ValueError, match="2-D"):
        NystroemFeatures(rbf(0.3), 5).fit(X[:, 0])
    with pytest.raises(ValueError, match="NaN or infinity"):
        NystroemFeatures(rbf(0.3), 5).fit(np.where(X > 2, np.nan, X))
    with pytest.raises(NotFittedError):
        NystroemFeatures(rbf(0.3), 5).transform(X)
    fmap = NystroemFeatures(rbf(0.3), 5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="4 features.*3 features"):
        fmap.transform(np.ones((2, 4)))
    with pytest.raises(ValueError, match="is zero"):
        NystroemFeatures(partial(compute_kernel, kernel="linear"), 5).fit(np.zeros((6, 2)))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_nystroem_non_finite_kernel_names_the_fix(X):
    def overflowing(A, B):
        return np.exp(1e3 * A @ B.T)

    with pytest.raises(ValueError, match=r"'overflowing'.*NaN or infinity.*gamma"):
        NystroemFeatures(overflowing, 10, random_state=0).fit(X)
    # A partial of compute_kernel: compute_kernel or the feature map names the
    # kernel and the parameter to change.
    kernel_fn = partial(compute_kernel, kernel="polynomial", gamma=1e3, degree=200)
    with pytest.raises(ValueError, match="degree"):
        NystroemFeatures(kernel_fn, 10, random_state=0).fit(X * 100)


def test_transform_namespace_mismatch_is_an_error(X):
    pytest.importorskip("array_api_strict")
    fmap = NystroemFeatures(rbf(0.3), 5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="fitted on"):
        fmap.transform(to_xp("array_api_strict", X))
    rff = RandomFourierFeatures(n_components=5, random_state=0).fit(to_xp("array_api_strict", X))
    with pytest.raises(ValueError, match="fitted on"):
        rff.transform(X)


# --------------------------------------------------------------------------
# Random Fourier features
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", ["rbf", "laplacian"])
def test_random_fourier_converges_to_kernel(kernel):
    X = np.random.RandomState(0).randn(50, 3)
    K = compute_kernel(X, kernel=kernel, gamma=0.4)
    errors = []
    for D in (100, 20000):
        Phi = RandomFourierFeatures(kernel, gamma=0.4, n_components=D,
                                    random_state=0).fit(X).transform(X)
        assert Phi.shape == (50, D)
        errors.append(np.abs(Phi @ Phi.T - K).mean())
    assert errors[1] < 0.02
    assert errors[1] < errors[0]


def test_random_fourier_gamma_none_is_one_over_n_features(X):
    default = RandomFourierFeatures(n_components=40, random_state=3).fit(X)
    explicit = RandomFourierFeatures(gamma=1 / 3, n_components=40, random_state=3).fit(X)
    np.testing.assert_allclose(default.random_weights_, explicit.random_weights_)
    assert default.gamma is None  # resolved at fit, not written back


def test_random_fourier_matches_rbf_sampler_in_distribution():
    X = np.random.RandomState(1).randn(40, 5)
    gamma, D = 0.3, 2000
    K = compute_kernel(X, kernel="rbf", gamma=gamma)
    ours, theirs = [], []
    for seed in range(5):
        ref = RBFSampler(gamma=gamma, n_components=D, random_state=seed).fit(X)
        rff = RandomFourierFeatures(gamma=gamma, n_components=D, random_state=seed + 100).fit(X)
        Phi_ref, Phi = ref.transform(X), rff.transform(X)
        theirs.append(np.abs(Phi_ref @ Phi_ref.T - K).mean())
        ours.append(np.abs(Phi @ Phi.T - K).mean())
        # Same parametrization: W ~ N(0, 2 gamma), b ~ U[0, 2 pi), scale sqrt(2 / D).
        assert rff.random_weights_.shape == ref.random_weights_.shape
        assert abs(rff.random_weights_.var() / (2 * gamma) - 1) < 0.05
        assert abs(rff.random_offset_.mean() / np.pi - 1) < 0.1
        assert 0 <= rff.random_offset_.min() and rff.random_offset_.max() < 2 * np.pi
        np.testing.assert_allclose(np.abs(Phi).max(), np.sqrt(2 / D), rtol=1e-3)
    assert 0.7 < np.mean(ours) / np.mean(theirs) < 1.4


def test_laplacian_frequencies_are_cauchy(X):
    rff = RandomFourierFeatures("laplacian", gamma=0.5, n_components=20000,
                                random_state=0).fit(X)
    W = rff.random_weights_
    # Cauchy(0, gamma): median 0, quartiles at +-gamma.
    q1, q2, q3 = np.percentile(W, [25, 50, 75])
    assert abs(q2) < 0.02 and abs(q1 + 0.5) < 0.02 and abs(q3 - 0.5) < 0.02


def test_random_fourier_determinism_and_pickle(X):
    a = RandomFourierFeatures("laplacian", n_components=30, random_state=0).fit(X)
    b = RandomFourierFeatures("laplacian", n_components=30, random_state=0).fit(X)
    c = RandomFourierFeatures("laplacian", n_components=30, random_state=1).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.allclose(a.transform(X), c.transform(X))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.transform(X), a.transform(X))
    assert a.n_components_ == 30 and a.n_features_in_ == 3


def test_random_fourier_backends_agree(xp_name, X):
    ref = RandomFourierFeatures(n_components=50, random_state=0).fit(X)
    rff = RandomFourierFeatures(n_components=50, random_state=0).fit(to_xp(xp_name, X))
    Phi = rff.transform(to_xp(xp_name, X))
    assert type(Phi) is type(to_xp(xp_name, X))
    np.testing.assert_allclose(_host(Phi), ref.transform(X), atol=1e-12)


def test_random_fourier_errors(X):
    for kernel in ("polynomial", "linear", np.dot):
        with pytest.raises(ValueError, match=r"'rbf', 'laplacian'.*nystroem"):
            RandomFourierFeatures(kernel).fit(X)
    with pytest.raises(ValueError, match=r"'n_components'.*Got -3"):
        RandomFourierFeatures(n_components=-3).fit(X)
    with pytest.raises(ValueError, match="'gamma'"):
        RandomFourierFeatures(gamma=0.0).fit(X)
    with pytest.raises(NotFittedError):
        RandomFourierFeatures().transform(X)


# --------------------------------------------------------------------------
# Factory
# --------------------------------------------------------------------------

def test_make_feature_map_builds_unfitted_maps(X):
    fmap = make_feature_map("nystroem", kernel="polynomial", gamma=None, degree=2,
                            coef0=1.0, kernel_params=None, n_components=60,
                            random_state=0, landmarks="greedy")
    assert isinstance(fmap, NystroemFeatures) and not hasattr(fmap, "projection_")
    assert fmap.landmarks == "greedy"
    Phi = fmap.fit(X).transform(X)
    K = compute_kernel(X, kernel="polynomial", degree=2)
    # Degree-2 polynomial kernel on 3 features has rank 10: exact with 60 landmarks.
    assert fmap.n_components_ == 10
    assert rel_error(Phi, K) < 1e-10

    rff = make_feature_map("random_fourier", kernel="laplacian", gamma=None, degree=3,
                           coef0=1.0, kernel_params=None, n_components=25,
                           random_state=4)
    assert isinstance(rff, RandomFourierFeatures) and not hasattr(rff, "random_weights_")
    direct = RandomFourierFeatures("laplacian", gamma=1 / 3, n_components=25, random_state=4)
    np.testing.assert_array_equal(rff.fit(X).transform(X), direct.fit(X).transform(X))


def test_make_feature_map_callable_kernel_with_nystroem(X):
    def scaled_linear(A, B, scale=1.0):
        return scale * (A @ B.T)

    fmap = make_feature_map("nystroem", kernel=scaled_linear, kernel_params={"scale": 2.0},
                            n_components=20, random_state=0).fit(X)
    Phi = fmap.transform(X)
    assert fmap.n_components_ == 3
    np.testing.assert_allclose(Phi @ Phi.T, 2.0 * X @ X.T, atol=1e-10)


def test_make_feature_map_errors():
    for approximation in ("nystroem", "random_fourier"):
        with pytest.raises(ValueError, match="raw features X, not a precomputed kernel"):
            make_feature_map(approximation, kernel="precomputed")
    with pytest.raises(ValueError, match=r"'rbf', 'laplacian'.*nystroem"):
        make_feature_map("random_fourier", kernel=np.dot)
    with pytest.raises(ValueError, match=r"'rbf', 'laplacian'.*nystroem"):
        make_feature_map("random_fourier", kernel="poly")
    with pytest.raises(ValueError, match="'approximation'.*'nystroem', 'random_fourier'"):
        make_feature_map("fourier")
    with pytest.raises(ValueError, match="'kernel'.*Got 'gaussian'"):
        make_feature_map("nystroem", kernel="gaussian")
