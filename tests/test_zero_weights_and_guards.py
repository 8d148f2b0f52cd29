"""Zero sample weights mean "not there"; CV splits as iterables; a clear
``score`` error without task labels; the memory guard on every N^2 path."""
import numpy as np
import pytest
from sklearn.model_selection import KFold

from rkhsmtl import MultiTaskKernelRidge, MultiTaskKernelRidgeCV
from rkhsmtl.solvers import dense_eigen
from rkhsmtl.solvers._hadamard import one_hot


def _hetero(n_per_task=(20, 16, 18), seed=0):
    rng = np.random.RandomState(seed)
    task = np.repeat(["a", "b", "c"], n_per_task)
    X = rng.randn(task.size, 2)
    y = np.sin(X[:, 0]) + (task == "b") * X[:, 1] + 0.1 * rng.randn(task.size)
    return X, y, task


def _zero_some(n, seed=1, share=0.25):
    rng = np.random.RandomState(seed)
    w = rng.uniform(0.5, 2.0, n)
    zero = rng.rand(n) < share
    w[zero] = 0.0
    return w, zero


# ------------------------------------------------------- zero weight = removal
@pytest.mark.parametrize("solver", ["cholesky", "cg"])
@pytest.mark.parametrize("task_weighting", ["samples", "uniform"])
def test_zero_weight_rows_equal_removal_heterogeneous(solver, task_weighting):
    X, y, task = _hetero()
    w, zero = _zero_some(len(y))
    params = dict(alpha=0.1, solver=solver, task_weighting=task_weighting, tol=1e-13)
    full = MultiTaskKernelRidge(**params).fit(X, y, task=task, sample_weight=w)
    kept = MultiTaskKernelRidge(**params).fit(X[~zero], y[~zero], task=task[~zero],
                                             sample_weight=w[~zero])
    X_new = np.random.RandomState(2).randn(7, 2)
    np.testing.assert_allclose(full.predict(X_new), kept.predict(X_new), atol=1e-8)
    np.testing.assert_allclose(full.intercept_, kept.intercept_, atol=1e-8)


@pytest.mark.parametrize("missing", [False, True])
def test_zero_weight_rows_equal_removal_shared(missing):
    rng = np.random.RandomState(0)
    X = rng.randn(40, 2)
    Y = np.c_[np.sin(X[:, 0]), np.cos(X[:, 1]), X[:, 0] * X[:, 1]]
    if missing:  # masked CG path
        Y[rng.rand(*Y.shape) < 0.15] = np.nan
    w, zero = _zero_some(len(Y))
    params = dict(alpha=0.1, tol=1e-13)
    full = MultiTaskKernelRidge(**params).fit(X, Y, sample_weight=w)
    kept = MultiTaskKernelRidge(**params).fit(X[~zero], Y[~zero], sample_weight=w[~zero])
    assert full.solver_ == ("cg" if missing else "eigen")
    X_new = rng.randn(6, 2)
    np.testing.assert_allclose(full.predict(X_new), kept.predict(X_new), atol=1e-8)


def test_zero_weights_cv_loo_selects_as_removal():
    """Leave-one-out on shared inputs: zero-weight rows are not scored and
    leave every other residual unchanged."""
    rng = np.random.RandomState(3)
    X = rng.randn(50, 2)
    Y = np.c_[np.sin(X[:, 0]), np.sin(X[:, 0]) + 0.3 * X[:, 1]] + 0.2 * rng.randn(50, 2)
    w, zero = _zero_some(len(Y))
    alphas = np.logspace(-3, 1, 9)
    full = MultiTaskKernelRidgeCV(alphas=alphas).fit(X, Y, sample_weight=w)
    kept = MultiTaskKernelRidgeCV(alphas=alphas).fit(X[~zero], Y[~zero],
                                                     sample_weight=w[~zero])
    assert full.cv_method_ == kept.cv_method_ == "loo"
    assert np.all(np.isfinite(full.cv_results_["mean_test_score"]))
    np.testing.assert_allclose(full.cv_results_["mean_test_score"],
                               kept.cv_results_["mean_test_score"], rtol=1e-7)
    assert (full.alpha_, full.omega_) == (kept.alpha_, kept.omega_)
    np.testing.assert_allclose(full.predict(X[:5]), kept.predict(X[:5]), atol=1e-8)


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
def test_zero_weights_cv_kfold_selects_as_removal(layout):
    """The same (train, test) splits with the zero-weight rows dropped give the
    same scores: such rows neither train nor get scored."""
    if layout == "shared":
        rng = np.random.RandomState(4)
        X = rng.randn(45, 2)
        y = np.c_[np.sin(X[:, 0]), np.cos(X[:, 0])] + 0.2 * rng.randn(45, 2)
        task = None
    else:
        X, y, task = _hetero(seed=4)
    n = len(y)
    w, zero = _zero_some(n, seed=5)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    new_index = np.cumsum(~zero) - 1
    kept_folds = [(new_index[tr[~zero[tr]]], new_index[te[~zero[te]]])
                  for tr, te in folds]
    alphas = np.logspace(-3, 1, 5)
    fit_task = {} if task is None else {"task": task}
    kept_task = {} if task is None else {"task": task[~zero]}
    full = MultiTaskKernelRidgeCV(alphas=alphas, cv=folds).fit(
        X, y, sample_weight=w, **fit_task)
    kept = MultiTaskKernelRidgeCV(alphas=alphas, cv=kept_folds).fit(
        X[~zero], y[~zero], sample_weight=w[~zero], **kept_task)
    assert full.cv_method_ == "kfold"
    np.testing.assert_allclose(full.cv_results_["mean_test_score"],
                               kept.cv_results_["mean_test_score"], rtol=1e-6)
    assert (full.alpha_, full.omega_) == (kept.alpha_, kept.omega_)


def test_zero_weight_task_is_refused_at_the_gate():
    X, y, task = _hetero()
    w = np.ones(len(y))
    w[task == "c"] = 0.0
    for est in (MultiTaskKernelRidge(solver="cholesky"), MultiTaskKernelRidge(solver="cg"),
                MultiTaskKernelRidgeCV(alphas=[0.1, 1.0])):
        with pytest.raises(ValueError, match=r"sample_weight.*all zero for task 'c'"):
            est.fit(X, y, task=task, sample_weight=w)
    # Shared inputs: task 1's observed entries all weigh zero.
    Y = np.c_[y, y]
    Y[: len(y) // 2, 1] = np.nan
    w = np.ones(len(y))
    w[len(y) // 2:] = 0.0
    with pytest.raises(ValueError, match="all zero for task 1"):
        MultiTaskKernelRidge().fit(X, Y, sample_weight=w)
    with pytest.raises(ValueError, match="[Ss]ample.weight"):  # scikit-learn says it
        MultiTaskKernelRidge().fit(X, y, sample_weight=np.zeros(len(y)))


def test_fold_without_a_task_pins_its_intercept_at_zero():
    """A task absent from the weighted training rows (a fold that misses it)
    has an undetermined intercept: it is 0, and the other tasks are solved."""
    X, y, task = _hetero()
    codes = np.unique(task, return_inverse=True)[1]
    keep = codes != 2
    K = np.exp(-0.5 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    A = 0.5 * np.eye(3) + 0.5 / 3
    E = one_hot(np, codes, 3, like=y)
    d = keep.astype(float)
    fac = dense_eigen.decompose(np, K, A, codes, E, d)
    c, b = dense_eigen.solve(fac, y, 0.1)
    assert np.all(np.isfinite(c)) and b[2] == 0.0
    np.testing.assert_allclose(c[~keep], 0.0)
    # Equal to the solve on the kept rows with the kept tasks' block of A.
    sub = np.ix_(keep, keep)
    fac2 = dense_eigen.decompose(np, K[sub], A[:2, :2], codes[keep],
                                 E[keep][:, :2])
    c2, b2 = dense_eigen.solve(fac2, y[keep], 0.1)
    np.testing.assert_allclose(c[keep], c2, atol=1e-8)
    np.testing.assert_allclose(b[:2], b2, atol=1e-8)


# ------------------------------------------------------------- cv and score
def test_cv_accepts_an_iterable_of_splits():
    rng = np.random.RandomState(0)
    X = rng.randn(36, 2)
    Y = np.c_[np.sin(X[:, 0]), np.cos(X[:, 0])]
    splitter = KFold(3, shuffle=True, random_state=1)
    ref = MultiTaskKernelRidgeCV(alphas=[0.01, 0.1, 1.0], cv=splitter).fit(X, Y)
    for cv in (list(splitter.split(X)), splitter.split(X)):
        model = MultiTaskKernelRidgeCV(alphas=[0.01, 0.1, 1.0], cv=cv).fit(X, Y)
        np.testing.assert_allclose(model.cv_results_["mean_test_score"],
                                   ref.cv_results_["mean_test_score"])
    X, y, task = _hetero()
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    model = MultiTaskKernelRidgeCV(alphas=[0.1, 1.0], cv=folds).fit(X, y, task=task)
    assert np.all(np.isfinite(model.cv_results_["mean_test_score"]))


@pytest.mark.parametrize("Est", [MultiTaskKernelRidge, MultiTaskKernelRidgeCV])
def test_score_without_task_says_how_to_pass_it(Est):
    X, y, task = _hetero()
    model = Est().fit(X, y, task=task)
    with pytest.raises(ValueError, match="task=") as info:
        model.score(X, y)
    message = str(info.value)
    for needed in ("task_column", "set_config(enable_metadata_routing=True)",
                   "set_fit_request(task=True)", "set_score_request(task=True)"):
        assert needed in message
    assert np.isfinite(model.score(X, y, task=task))


# ------------------------------------------------------------- memory guard
def test_cg_preconditioner_goes_through_the_memory_guard(monkeypatch):
    X, y, task = _hetero()
    monkeypatch.setenv("RKHSMTL_MAX_MEMORY_GB", "1e-6")  # about 1 KiB
    with pytest.raises(MemoryError, match="block-Jacobi.*approximation='nystroem'"):
        MultiTaskKernelRidge(solver="cg").fit(X, y, task=task)


def test_cv_kfold_kernel_goes_through_the_memory_guard(monkeypatch):
    X, y, task = _hetero()
    # The hetero problem itself fits (solver='auto' falls back to CG); the
    # K-fold path's N x N kernel does not.
    monkeypatch.setenv("RKHSMTL_MAX_MEMORY_GB", "1e-6")
    with pytest.raises(MemoryError,
                       match=r"K-fold cross-validation.*approximation='nystroem'"):
        MultiTaskKernelRidgeCV(alphas=[0.1, 1.0]).fit(X, y, task=task)
    monkeypatch.setenv("RKHSMTL_MAX_MEMORY_GB", "1")
    MultiTaskKernelRidgeCV(alphas=[0.1, 1.0]).fit(X, y, task=task)


@pytest.mark.parametrize("layout", ["heterogeneous", "shared"])
def test_distribution_matching_zero_weight_equals_removal(layout):
    from rkhsmtl.weighting import DistributionMatchingRegressor, DistributionMatchingWeights

    rng = np.random.RandomState(0)
    N = 90
    X = rng.randn(N, 3)
    t = np.arange(N) % 3
    sw = rng.rand(N) + 0.5
    sw[[4, 10, 50]] = 0.0
    keep = sw > 0

    def make():
        return DistributionMatchingRegressor(
            alpha=0.3, weighting=DistributionMatchingWeights(random_state=0))

    if layout == "heterogeneous":
        y = np.sin(X[:, 0]) + 0.1 * rng.randn(N) + 0.3 * t
        a = make().fit(X, y, task=t, sample_weight=sw)
        b = make().fit(X[keep], y[keep], task=t[keep], sample_weight=sw[keep])
        np.testing.assert_allclose(a.predict(X, task=t), b.predict(X, task=t),
                                   rtol=1e-8, atol=1e-10)
    else:
        Y = np.sin(X[:, :1]) + 0.3 * rng.randn(N, 3)
        a = make().fit(X, Y, sample_weight=sw)
        b = make().fit(X[keep], Y[keep], sample_weight=sw[keep])
        np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-8, atol=1e-10)
