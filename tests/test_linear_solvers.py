"""rkhsmtl.linear solvers: per-task Gram statistics, duality gaps, block
coordinate descent (against FISTA run to convergence and scikit-learn)."""
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import MultiTaskLasso

from rkhsmtl.linear import (
    LinearMultiTaskClassifier,
    LinearMultiTaskRegressor,
    MultiTaskDatafit,
    make_linear_multitask,
)
from rkhsmtl.linear import penalties as P
from rkhsmtl.linear._bcd import group_step
from rkhsmtl.linear._path import fit_penalized, final_gap


def _problem(layout, seed=0, n=30, d=10, T=4):
    X, y, task, _ = make_linear_multitask(
        "l21", n_tasks=T, n_features=d, n_samples=n, noise=0.5,
        shared_inputs=layout == "shared", random_state=seed)
    if layout == "shared":
        return X, y, None
    # Unequal task sizes and feature scales: the heterogeneous case proper.
    keep = np.ones(len(y), bool)
    keep[(task == 0) & (np.arange(len(y)) % 3 == 0)] = False
    X = X * np.linspace(0.5, 3.0, X.shape[1])
    return X[keep], y[keep], task[keep]


# -- Gram statistics ---------------------------------------------------------------

@pytest.mark.parametrize("layout", ["shared_missing", "heterogeneous"])
@pytest.mark.parametrize("weighting", ["samples", "uniform"])
def test_gram_route_equals_data_route(layout, weighting):
    rng = np.random.default_rng(0)
    d, T = 5, 3
    if layout == "shared_missing":
        X = rng.standard_normal((40, d))
        Y = rng.standard_normal((40, T))
        Y[rng.random(Y.shape) < 0.25] = np.nan
        codes = None
    else:
        X = rng.standard_normal((60, d))
        codes = np.r_[np.arange(T), rng.integers(0, T, 57)]
        Y = rng.standard_normal(60)
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    X0, Y0 = X.copy(), Y.copy()
    gram = MultiTaskDatafit(X, Y, codes, T, sample_weight=sw, task_weighting=weighting,
                            gram=True)
    rows = MultiTaskDatafit(X, Y, codes, T, sample_weight=sw, task_weighting=weighting,
                            gram=False)
    assert gram._task_gram is not None and rows._task_gram is None
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)
    for _ in range(3):
        W, b = rng.standard_normal((d, T)), rng.standard_normal(T)
        vg, gWg, gbg = gram.value_and_grad(W, b)
        vr, gWr, gbr = rows.value_and_grad(W, b)
        assert abs(vg - vr) <= 1e-12 * abs(vr)
        assert abs(gram.value(W, b) - vr) <= 1e-12 * abs(vr)
        scale = np.abs(gWr).max()
        np.testing.assert_allclose(gWg, gWr, rtol=0, atol=1e-12 * scale)
        np.testing.assert_allclose(gbg, gbr, rtol=0, atol=1e-12 * scale)
    # The intercept-free (centred) statistics equal the loss at the best b.
    stats = gram.quadratic_stats()
    W = rng.standard_normal((d, T))
    b = stats.intercepts(W)
    centred = stats.centered()
    assert abs(centred.value_and_grad(W, np.zeros(T))[0] - rows.value(W, b)) \
        <= 1e-12 * rows.value(W, b)


# The row route overflows inside numpy (RuntimeWarning) before the check.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_statistics_name_the_input_scale():
    X, y, task = _problem("heterogeneous")
    big = X * 1e200
    with pytest.raises(ValueError, match=r"not finite.*max \|X\|.*Standardize X"):
        LinearMultiTaskRegressor().fit(big, y, task=task)
    with pytest.raises(ValueError, match=r"not finite.*Standardize X"):
        MultiTaskDatafit(big, y, np.searchsorted(np.unique(task), task), 4, gram=True)
    # The row route (logistic loss): the Lipschitz constant overflows.
    with pytest.raises(ValueError, match=r"(Lipschitz|gradient).*standardize X"):
        LinearMultiTaskClassifier(max_iter=5).fit(big, y > 0, task=task)


# -- exact row step ----------------------------------------------------------------

def test_group_step_is_exact():
    rng = np.random.default_rng(1)
    for _ in range(20):
        z = rng.standard_normal(5) * 3
        L = rng.uniform(0.01, 5.0, 5)
        lam = rng.uniform(0.1, 2.0)
        w = group_step(z, L, lam)

        def phi(v):
            return 0.5 * np.sum(L * v * v) - z @ v + lam * np.linalg.norm(v)

        best = minimize(phi, z / L, method="Powell",
                        options={"xtol": 1e-12, "ftol": 1e-15, "maxiter": 100_000})
        assert phi(w) <= best.fun + 1e-12
        if np.linalg.norm(w) > 0:  # stationarity: L w - z + lam w / ||w|| = 0
            np.testing.assert_allclose(L * w - z + lam * w / np.linalg.norm(w), 0,
                                       atol=1e-10)
        else:
            assert np.linalg.norm(z) <= lam


# -- duality gaps ------------------------------------------------------------------

_GAP_CASES = [("l21", 0.0, True), ("lasso", 0.0, False), ("trace", 0.0, True),
              ("l21", 0.05, False), ("trace", 0.05, False), ("dirty", 0.0, True),
              ("robust_feature", 0.0, False)]


@pytest.mark.parametrize("name,lambda2,fit_intercept", _GAP_CASES)
def test_gap_bounds_the_suboptimality(name, lambda2, fit_intercept):
    X, y, task = _problem("heterogeneous", seed=3)
    codes = np.searchsorted(np.unique(task), task)
    datafit = MultiTaskDatafit(X, y, codes, 4)
    pen = P.make_penalty(name, 0.03, 0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        best = fit_penalized(datafit, pen, lambda2=lambda2, fit_intercept=fit_intercept,
                             max_iter=4000, tol=1e-12, stopping="dual_gap",
                             solver="auto")
    F_star = best.objective_history[-1]
    # FISTA's gap shrinks like the square root of its suboptimality; the
    # bound below holds whatever its size.
    assert best.dual_gap <= 1e-5 * F_star
    for k in (1, 5, 30, 200):
        fit = fit_penalized(datafit, pen, lambda2=lambda2, fit_intercept=fit_intercept,
                            max_iter=k, stopping="max_iter")
        F = fit.objective_history[-1]
        assert fit.dual_gap >= 0
        # The certificate may not undercut the true distance to the optimum
        # (F_star itself is within best.dual_gap of the optimum).
        assert F - (F_star - best.dual_gap) <= fit.dual_gap + 1e-12 * F_star
        # ... and it is the same number from the public estimator.
    est = LinearMultiTaskRegressor(penalty=name, lambda1=0.03, lambda3=0.05,
                                   lambda2=lambda2, fit_intercept=fit_intercept,
                                   solver="fista", stopping="max_iter",
                                   max_iter=30).fit(X, y, task=task)
    gap = final_gap(datafit, pen, est._variable, est.intercept_, lambda2, fit_intercept)
    assert est.dual_gap_ == pytest.approx(gap, rel=1e-9)


def test_no_gap_without_certificate():
    X, y, task = _problem("heterogeneous")
    m = LinearMultiTaskRegressor(penalty="graph", graph=np.eye(4)).fit(X, y, task=task)
    assert np.isnan(m.dual_gap_) and m.solver_ == "fista"
    with pytest.raises(ValueError, match=r"stopping='dual_gap'.*penalty='graph'.*"
                       r"stopping='relative_objective'"):
        LinearMultiTaskRegressor(penalty="graph", graph=np.eye(4),
                                 stopping="dual_gap").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"solver='bcd' needs .*row-separable.*"
                       r"'trace'.*solver='fista'"):
        LinearMultiTaskRegressor(penalty="trace", solver="bcd").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"solver='bcd' needs loss='squared'"):
        LinearMultiTaskClassifier(solver="bcd").fit(X, y > 0, task=task)


# -- block coordinate descent ------------------------------------------------------

def _fista_optimum(X, y, task, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LinearMultiTaskRegressor(solver="fista", stopping="relative_objective",
                                        tol=1e-15, max_iter=10_000, **kw).fit(
            X, y, task=task)


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("penalty", ["l21", "lasso"])
@pytest.mark.parametrize("fit_intercept,lambda2", [(True, 0.0), (False, 0.02)])
def test_bcd_reaches_the_fista_optimum(layout, penalty, fit_intercept, lambda2):
    X, y, task = _problem(layout, seed=1)
    kw = dict(penalty=penalty, lambda1=0.05, lambda2=lambda2, fit_intercept=fit_intercept)
    X0, y0 = X.copy(), y.copy()
    bcd = LinearMultiTaskRegressor(solver="auto", tol=1e-12, max_iter=20_000, **kw).fit(
        X, y, task=task)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert bcd.solver_ == "bcd" and bcd.n_iter_ >= 1
    ref = _fista_optimum(X, y, task, **kw)
    F_bcd, F_ref = bcd.objective_history_[-1], ref.objective_history_[-1]
    assert abs(F_bcd - F_ref) <= 1e-9 * abs(F_ref)
    assert F_bcd <= F_ref + 1e-12 * abs(F_ref)
    assert bcd.dual_gap_ <= 1e-12 * F_bcd
    assert np.all(np.diff(bcd.objective_history_) <= 0)
    np.testing.assert_allclose(bcd.predict(X, task=task), ref.predict(X, task=task),
                               atol=1e-4 * np.abs(y).max())


def test_bcd_working_sets_on_many_features():
    # d > working-set start: the set must grow from the dual and end certified.
    X, y, task = _problem("heterogeneous", seed=2, n=40, d=60, T=3)
    m = LinearMultiTaskRegressor(lambda1=0.08, tol=1e-10).fit(X, y, task=task)
    assert m.solver_ == "bcd" and m.dual_gap_ <= 1e-10 * m.objective_history_[-1]
    ref = _fista_optimum(X, y, task, lambda1=0.08)
    F, F_ref = m.objective_history_[-1], ref.objective_history_[-1]
    assert F <= F_ref * (1 + 1e-9)
    assert 0 < np.count_nonzero(np.linalg.norm(m.coef_, axis=1)) < 60


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_bcd_matches_multitask_lasso(fit_intercept):
    X, Y, _ = _problem("shared", seed=4, n=50, d=12, T=5)
    alpha = 0.05
    sk = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14,
                        max_iter=100_000).fit(X, Y)
    # Same scaling: (1/2n) ||Y - X W - 1 b^T||_F^2 + alpha ||W||_21 (a_i = T/(nT)).
    ours = LinearMultiTaskRegressor(lambda1=alpha, fit_intercept=fit_intercept,
                                    tol=1e-13, max_iter=20_000).fit(X, Y)
    assert ours.solver_ == "bcd"
    datafit = MultiTaskDatafit(X, Y, None, 5)

    def objective(W, b):
        return datafit.value(W, b) + P.L21(alpha).value(W)

    b_sk = sk.intercept_ if fit_intercept else np.zeros(5)
    F_sk, F_ours = objective(sk.coef_.T, b_sk), objective(ours.coef_, ours.intercept_)
    assert F_ours <= F_sk + 1e-12 * F_sk
    assert abs(F_ours - F_sk) <= 1e-9 * F_sk
    np.testing.assert_allclose(ours.coef_, sk.coef_.T, atol=1e-6)
    assert ours.dual_gap_ <= 1e-12


def test_bcd_warm_started_path_and_cv():
    from rkhsmtl.linear import LinearMultiTaskRegressorCV, regularization_path

    X, y, task = _problem("heterogeneous", seed=5)
    path = regularization_path(X, y, task, penalty="l21", n_lambdas=6, eps=0.05,
                               tol=1e-10)
    assert np.all(path.dual_gaps <= 1e-10 * path.objectives)
    for lam, coef in zip(path.lambdas[[0, -1]], path.coefs[[0, -1]]):
        cold = LinearMultiTaskRegressor(lambda1=lam, tol=1e-10).fit(X, y, task=task)
        np.testing.assert_allclose(coef, cold.coef_, atol=1e-5)
    cv = LinearMultiTaskRegressorCV(penalty="lasso", n_lambdas=4, cv=3).fit(
        X, y, task=task)
    assert cv.solver_ == "bcd" and cv.dual_gap_ <= 1e-6 * cv.objective_history_[-1]


def test_bcd_with_zero_weights_and_more_features_than_rows():
    # Singular Gram blocks (d > n) and zero weights: the Newton and Anderson
    # steps must not leave the region where the Gram form of the loss is
    # accurate (this once "accepted" a point with objective -3e41).
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, size=15).astype(float)
    sw = np.hstack([rng.randint(0, 5, size=15), np.ones(30)])
    X, y = np.vstack([X, X, X]), np.hstack([y, y, y])
    kw = dict(lambda1=1.2e-4, max_iter=5000)
    bcd = LinearMultiTaskRegressor(tol=1e-10, **kw).fit(X, y, sample_weight=sw)
    ref = LinearMultiTaskRegressor(solver="fista", stopping="dual_gap", tol=1e-7,
                                   **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y, sample_weight=sw)
    F, F_ref = bcd.objective_history_[-1], ref.objective_history_[-1]
    assert 0 < F <= F_ref * (1 + 1e-9)
    assert F >= F_ref - ref.dual_gap_ - 1e-12
    assert bcd.dual_gap_ <= 1e-10 * F
