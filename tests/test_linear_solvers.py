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
from rkhsmtl.linear._gap import gap_available
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
              ("robust_feature", 0.0, False), ("robust_lowrank", 0.0, True),
              ("sparse_trace", 0.0, False), ("graph", 0.0, True), ("graph", 0.05, False),
              ("cluster", 0.0, True), ("cluster", 0.05, False)]


def _penalty_kwargs(name, T=4):
    """Extra estimator parameters of a penalty (graph: a chain, whose Laplacian
    is singular; graph's lambda3=0: no l1 part, the certified case)."""
    if name == "graph":
        return {"graph": P.chain_graph(T), "lambda3": 0.0}
    if name == "cluster":
        return {"n_clusters": 2}
    return {}


def _make(name, lambda1, lambda3, T=4):
    kw = _penalty_kwargs(name, T)
    return P.make_penalty(name, lambda1, kw.pop("lambda3", lambda3), n_features=10,
                          n_tasks=T, **kw)


@pytest.mark.parametrize("name,lambda2,fit_intercept", _GAP_CASES)
def test_gap_bounds_the_suboptimality(name, lambda2, fit_intercept):
    X, y, task = _problem("heterogeneous", seed=3)
    codes = np.searchsorted(np.unique(task), task)
    datafit = MultiTaskDatafit(X, y, codes, 4)
    pen = _make(name, 0.03, 0.05)
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
    kw = {"lambda3": 0.05, **_penalty_kwargs(name)}
    est = LinearMultiTaskRegressor(penalty=name, lambda1=0.03, lambda2=lambda2,
                                   fit_intercept=fit_intercept, solver="fista",
                                   stopping="max_iter", max_iter=30, **kw).fit(
        X, y, task=task)
    gap = final_gap(datafit, pen, est._variable, est.intercept_, lambda2, fit_intercept)
    assert est.dual_gap_ == pytest.approx(gap, rel=1e-9)


#: a network matrix whose Laplacian's null space is not spanned by task-group
#: indicators (rank 2 of 4, random directions): no certificate for its l1 part
_ODD_GRAPH = np.array([[1.0, 0.3], [-0.5, 1.0], [0.2, -0.7], [0.4, 0.1]])


def test_no_gap_without_certificate():
    X, y, task = _problem("heterogeneous")
    # SRMTL's l1 part on a non-graph network matrix has no certificate.
    m = LinearMultiTaskRegressor(penalty="graph", graph=_ODD_GRAPH, lambda3=0.01).fit(
        X, y, task=task)
    assert np.isnan(m.dual_gap_) and m.solver_ == "fista"
    with pytest.raises(ValueError, match=r"stopping='dual_gap'.*penalty='graph'.*"
                       r"stopping='relative_objective'"):
        LinearMultiTaskRegressor(penalty="graph", graph=_ODD_GRAPH, lambda3=0.01,
                                 stopping="dual_gap").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"solver='admm' needs loss='squared'"):
        LinearMultiTaskClassifier(solver="admm").fit(X, y > 0, task=task)
    with pytest.raises(ValueError, match=r"solver='bcd' needs .*row-separable.*"
                       r"'trace'.*solver='fista'"):
        LinearMultiTaskRegressor(penalty="trace", solver="bcd").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"solver='bcd' needs loss='squared'"):
        LinearMultiTaskClassifier(solver="bcd").fit(X, y > 0, task=task)


# -- block coordinate descent ------------------------------------------------------

def _fista_optimum(X, y, task, max_iter=10_000, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LinearMultiTaskRegressor(solver="fista", stopping="relative_objective",
                                        tol=1e-15, max_iter=max_iter, **kw).fit(
            X, y, task=task)


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("penalty", ["l21", "lasso"])
@pytest.mark.parametrize("fit_intercept,lambda2", [(True, 0.0), (False, 0.02)])
def test_bcd_reaches_the_fista_optimum(layout, penalty, fit_intercept, lambda2):
    X, y, task = _problem(layout, seed=1)
    kw = dict(penalty=penalty, lambda1=0.05, lambda2=lambda2, fit_intercept=fit_intercept)
    X0, y0 = X.copy(), y.copy()
    bcd = LinearMultiTaskRegressor(solver="bcd", tol=1e-12, max_iter=20_000, **kw).fit(
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
    X, y, task = _problem("heterogeneous", seed=2, n=40, d=70, T=3)
    m = LinearMultiTaskRegressor(lambda1=0.08, tol=1e-10).fit(X, y, task=task)
    assert m.solver_ == "bcd" and m.dual_gap_ <= 1e-10 * m.objective_history_[-1]
    ref = _fista_optimum(X, y, task, lambda1=0.08)
    F, F_ref = m.objective_history_[-1], ref.objective_history_[-1]
    assert F <= F_ref * (1 + 1e-9)
    assert 0 < np.count_nonzero(np.linalg.norm(m.coef_, axis=1)) < 70


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_bcd_matches_multitask_lasso(fit_intercept):
    X, Y, _ = _problem("shared", seed=4, n=50, d=12, T=5)
    alpha = 0.05
    sk = MultiTaskLasso(alpha=alpha, fit_intercept=fit_intercept, tol=1e-14,
                        max_iter=100_000).fit(X, Y)
    # Same scaling: (1/2n) ||Y - X W - 1 b^T||_F^2 + alpha ||W||_21 (a_i = T/(nT)).
    ours = LinearMultiTaskRegressor(lambda1=alpha, fit_intercept=fit_intercept,
                                    tol=1e-13, max_iter=20_000).fit(X, Y)
    assert ours.solver_ == "admm"  # few features
    bcd = LinearMultiTaskRegressor(lambda1=alpha, fit_intercept=fit_intercept,
                                   tol=1e-13, max_iter=20_000, solver="bcd").fit(X, Y)
    np.testing.assert_allclose(bcd.coef_, sk.coef_.T, atol=1e-6)
    datafit = MultiTaskDatafit(X, Y, None, 5)

    def objective(W, b):
        return datafit.value(W, b) + P.L21(alpha).value(W)

    b_sk = sk.intercept_ if fit_intercept else np.zeros(5)
    F_sk, F_ours = objective(sk.coef_.T, b_sk), objective(ours.coef_, ours.intercept_)
    assert F_ours <= F_sk + 1e-12 * F_sk
    assert abs(F_ours - F_sk) <= 1e-9 * F_sk
    np.testing.assert_allclose(ours.coef_, sk.coef_.T, atol=1e-6)
    assert ours.dual_gap_ <= 1e-12



def _shared_sparse(seed=6, n=60, d=90, T=4):
    # Shared inputs, row-sparse truth, more features than the first working set.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = np.zeros((d, T))
    W[rng.choice(d, 6, replace=False)] = rng.standard_normal((6, T))
    return X, X @ W + 0.3 * rng.standard_normal((n, T))


def test_uniform_epoch_equals_the_generic_epoch():
    # Shared inputs with one weight per task take the closed-form row update;
    # it must be the generic (per-task Newton) update exactly.
    from rkhsmtl.linear._bcd import _Subproblem

    X, Y = _shared_sparse(n=40, d=15, T=3)
    stats = MultiTaskDatafit(X, Y, None, 3).profiled_stats(True)
    rng = np.random.default_rng(0)
    for pen, lambda2 in [(P.L21(0.1), 0.0), (P.L21(0.05), 0.03), (P.Lasso(0.05), 0.02)]:
        rows = np.arange(15)
        W0 = rng.standard_normal((15, 3)) * (rng.random(15) < 0.5)[:, None]
        out = []
        for uniform in (True, False):
            sub = _Subproblem(stats, rows, pen, lambda2)
            assert sub.uniform
            sub.uniform = uniform
            W = W0.copy()
            grad = sub.matvec(W) - sub.C + 2 * lambda2 * W
            for _ in range(3):
                sub.epoch(W, grad)
            out.append((W, grad))
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10, atol=1e-12)


def _heterogeneous_stats(seed=3, d=12, T=4):
    """Centred per-task statistics with unequal curvatures and one feature
    that is constant (dead after centring) in task 0."""
    X, y, task = _problem("heterogeneous", seed=seed, n=25, d=d, T=T)
    X = X.copy()
    X[task == 0, 3] = 2.0
    codes = np.searchsorted(np.unique(task), task)
    return MultiTaskDatafit(X, y, codes, T, gram=True).profiled_stats(True)


def test_general_epoch_equals_the_rowwise_epoch():
    # The heterogeneous epoch skips rows and precomputes the step's bracket;
    # it must be the plain row-by-row exact update.
    from rkhsmtl.linear._bcd import _Subproblem

    stats = _heterogeneous_stats()
    d, T = stats.n_features, stats.n_tasks
    rng = np.random.default_rng(0)
    for pen, lambda2 in [(P.L21(0.05), 0.0), (P.L21(0.02), 0.03), (P.Lasso(0.02), 0.0),
                         (P.Lasso(0.01), 0.02)]:
        rows = np.arange(d)
        W0 = rng.standard_normal((d, T)) * (rng.random(d) < 0.5)[:, None]
        out = []
        for epoch in ("_epoch_general", "_epoch_rowwise"):
            sub = _Subproblem(stats, rows, pen, lambda2)
            # (With a ridge no coefficient is dead: the column's rounding
            # residue is then ordinary curvature.)
            assert not sub.uniform and (lambda2 > 0 or sub.dead[3, 0])
            W = W0.copy()
            W[sub.dead] = 0.0
            grad = sub.matvec(W) - sub.C + 2 * lambda2 * W
            for _ in range(4):
                getattr(sub, epoch)(W, grad)
            out.append((W, grad))
        assert np.count_nonzero(out[0][0]) > 0
        np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-10, atol=1e-12)


def test_centred_heterogeneous_gram_is_exact():
    # The centring runs in one buffer; it must be the rank-one formula.
    X, y, task = _problem("heterogeneous")
    codes = np.searchsorted(np.unique(task), task)
    stats = MultiTaskDatafit(X, y, codes, 4, gram=True).quadratic_stats()
    centred = stats.centered()
    mean_x = stats.xsum / stats.wsum
    expected = stats.gram - np.einsum("it,jt->jit", stats.xsum, mean_x)
    np.testing.assert_array_equal(centred.gram, expected)


def test_spd_inverses():
    from rkhsmtl.linear._bcd import _spd_inverses

    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 6, 6))
    P_ = A @ A.transpose(0, 2, 1) + 0.1 * np.eye(6)
    np.testing.assert_allclose(_spd_inverses(P_), np.linalg.inv(P_), rtol=1e-10,
                               atol=1e-10)
    P_[1] = -np.eye(6)
    assert _spd_inverses(P_) is None


@pytest.mark.parametrize("newton_max_rows", [0, 10 ** 6])
@pytest.mark.parametrize("penalty,lambda2", [("l21", 0.0), ("l21", 0.02)])
def test_heterogeneous_bcd_with_and_without_newton(monkeypatch, newton_max_rows,
                                                   penalty, lambda2):
    # Beyond NEWTON_MAX_ROWS nonzero rows the Newton step is skipped; both
    # routes reach the long-run FISTA optimum (more features than rows per
    # task: singular per-task Gram blocks).
    import rkhsmtl.linear._bcd as bcd_module

    monkeypatch.setattr(bcd_module, "NEWTON_MAX_ROWS", newton_max_rows)
    X, y, task = _problem("heterogeneous", seed=8, n=12, d=16, T=3)
    kw = dict(penalty=penalty, lambda1=0.02, lambda2=lambda2)
    m = LinearMultiTaskRegressor(solver="bcd", tol=1e-12, max_iter=20_000, **kw).fit(
        X, y, task=task)
    ref = _fista_optimum(X, y, task, **kw)
    F, F_ref = m.objective_history_[-1], ref.objective_history_[-1]
    assert abs(F - F_ref) <= 1e-9 * abs(F_ref)
    assert m.dual_gap_ <= 1e-12 * F
    assert np.count_nonzero(np.linalg.norm(m.coef_, axis=1)) > 3


def test_working_set_stays_near_the_support(monkeypatch):
    # The working set is twice the support unless a round stalls: on a
    # 10-row support among 300 features it never takes all the rows.
    import rkhsmtl.linear._bcd as bcd_module

    sizes = []
    original = bcd_module._Subproblem

    class Recording(original):
        def __init__(self, stats, rows, penalty, lambda2):
            sizes.append(len(rows))
            super().__init__(stats, rows, penalty, lambda2)

    monkeypatch.setattr(bcd_module, "_Subproblem", Recording)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 300))
    W = np.zeros((300, 5))
    W[rng.choice(300, 10, replace=False)] = rng.standard_normal((10, 5))
    Y = X @ W + 0.1 * rng.standard_normal((200, 5))
    m = LinearMultiTaskRegressor(lambda1=0.05, tol=1e-10).fit(X, Y)
    assert m.solver_ == "bcd" and m.dual_gap_ <= 1e-10 * m.objective_history_[-1]
    support = np.count_nonzero(np.linalg.norm(m.coef_, axis=1))
    assert 0 < support <= 20
    assert sizes[0] == 300 and max(sizes[1:]) <= 4 * support
    sk = MultiTaskLasso(alpha=0.05, tol=1e-14, max_iter=100_000).fit(X, Y)
    np.testing.assert_allclose(m.coef_, sk.coef_.T, atol=1e-6)


@pytest.mark.parametrize("penalty,lambda2", [("l21", 0.0), ("l21", 0.02), ("lasso", 0.01)])
def test_shared_working_sets_reach_the_fista_optimum(penalty, lambda2):
    X, Y = _shared_sparse()
    kw = dict(penalty=penalty, lambda1=0.08, lambda2=lambda2)
    m = LinearMultiTaskRegressor(tol=1e-12, max_iter=20_000, **kw).fit(X, Y)
    assert m.solver_ == "bcd"  # d = 90 > ADMM_MAX_FEATURES
    ref = _fista_optimum(X, Y, None, **kw)
    F, F_ref = m.objective_history_[-1], ref.objective_history_[-1]
    assert abs(F - F_ref) <= 1e-9 * abs(F_ref)
    assert m.dual_gap_ <= 1e-12 * F
    assert 0 < np.count_nonzero(np.linalg.norm(m.coef_, axis=1)) < 90


def test_shared_working_sets_match_multitask_lasso_and_certify():
    X, Y = _shared_sparse(seed=7)
    T, alpha = Y.shape[1], 0.08
    sk = MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, Y)
    ours = LinearMultiTaskRegressor(lambda1=alpha, tol=1e-13, max_iter=20_000).fit(X, Y)
    assert ours.solver_ == "bcd"
    np.testing.assert_allclose(ours.coef_, sk.coef_.T, atol=1e-7)
    np.testing.assert_allclose(ours.intercept_, sk.intercept_, atol=1e-7)
    datafit = MultiTaskDatafit(X, Y, None, T)
    pen = P.L21(alpha)

    def objective(W, b):
        return datafit.value(W, b) + pen.value(W)

    F_star = min(objective(sk.coef_.T, sk.intercept_), objective(ours.coef_, ours.intercept_))
    # The certificate is a true upper bound of the distance to the optimum at
    # every accuracy (F_star is within the tight gap of the optimum).
    lower = F_star - ours.dual_gap_
    for tol in (1e-1, 1e-2, 1e-4, 1e-6):
        m = LinearMultiTaskRegressor(lambda1=alpha, tol=tol).fit(X, Y)
        F = objective(m.coef_, m.intercept_)
        gap = final_gap(datafit, pen, m.coef_, m.intercept_, 0.0, True)
        assert m.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-14)
        assert 0 <= F - lower <= gap + 1e-12 * F
        assert gap <= tol * F
    # sklearn's solution, gapped by the same function, is certified as well.
    assert final_gap(datafit, pen, sk.coef_.T, sk.intercept_, 0.0, True) <= 1e-9 * F_star

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
    assert cv.solver_ == "admm" and cv.dual_gap_ <= 1e-6 * cv.objective_history_[-1]


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


# -- ADMM in the per-task Gram metric ----------------------------------------------

_ADMM_PENALTIES = ["trace", "graph", "cluster", "dirty", "robust_feature",
                   "robust_lowrank", "sparse_trace"]


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("penalty", _ADMM_PENALTIES)
def test_admm_reaches_the_fista_optimum(layout, penalty):
    X, y, task = _problem(layout, seed=6)
    fit_intercept = layout == "heterogeneous"
    kw = {"penalty": penalty, "lambda1": 0.05, "lambda3": 0.08,
          "fit_intercept": fit_intercept, **_penalty_kwargs(penalty)}
    X0, y0 = X.copy(), y.copy()
    m = LinearMultiTaskRegressor(tol=1e-11, max_iter=50_000, **kw).fit(X, y, task=task)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert m.solver_ == "admm" and m.n_iter_ >= 1
    F = m.objective_history_[-1]
    assert m.dual_gap_ <= 1e-11 * F
    assert np.all(np.diff(m.objective_history_) <= 0)
    ref = _fista_optimum(X, y, task, **kw)
    F_ref = ref.objective_history_[-1]
    # ADMM's certificate bounds its distance to FISTA's best point too.
    assert F - F_ref <= m.dual_gap_ + 1e-13 * F_ref
    assert abs(F - F_ref) <= 1e-9 * F_ref
    # The reported variable and intercepts reproduce the objective, with the
    # penalty as the estimator defines it (``[W; M]`` for "cluster").
    datafit = MultiTaskDatafit(X, y, None if task is None else
                               np.searchsorted(np.unique(task), task), 4, gram=False)
    pen = _make(penalty, 0.05, 0.08)
    V = m._variable
    value = (datafit.value(m.coef_, m.intercept_) + pen.value(V) + pen.smooth(V)[0])
    assert value == pytest.approx(F, rel=1e-10)
    # The certificate at the returned point: the data route equals the Gram
    # route, and it is small (ADMM's own is at most it: it also takes the
    # dual point of the loss block's iterate).
    codes = None if task is None else np.searchsorted(np.unique(task), task)
    gram = MultiTaskDatafit(X, y, codes, 4, gram=True)
    gap = final_gap(datafit, pen, V, m.intercept_, 0.0, fit_intercept)
    gap_gram = final_gap(gram, pen, V, m.intercept_, 0.0, fit_intercept)
    assert gap == pytest.approx(gap_gram, rel=1e-6, abs=1e-13 * F)
    assert m.dual_gap_ <= gap + 1e-13 * F and gap <= 1e-8 * F


def test_admm_with_ridge_and_warm_start():
    X, y, task = _problem("heterogeneous", seed=7)
    kw = dict(penalty="trace", lambda1=0.05, lambda2=0.03)
    m = LinearMultiTaskRegressor(tol=1e-11, warm_start=True, **kw).fit(X, y, task=task)
    ref = _fista_optimum(X, y, task, **kw)
    F, F_ref = m.objective_history_[-1], ref.objective_history_[-1]
    assert m.solver_ == "admm" and abs(F - F_ref) <= 1e-9 * F_ref
    n_cold = m.n_iter_
    m.set_params(lambda1=0.045).fit(X, y, task=task)
    cold = LinearMultiTaskRegressor(tol=1e-11, **{**kw, "lambda1": 0.045}).fit(
        X, y, task=task)
    assert m.objective_history_[-1] == pytest.approx(cold.objective_history_[-1],
                                                     rel=1e-9)
    assert m.n_iter_ <= n_cold


def test_cluster_prox_and_value_are_exact():
    rng = np.random.default_rng(8)
    d, T, k = 3, 5, 2
    pen = P.Cluster(0.7, 0.4, k, d, T)
    W = rng.standard_normal((d, T))
    # coef_value is the minimum over M of the smooth term: attained at the
    # returned M, which is feasible, and no random feasible M does better.
    M = pen.best_cluster_matrix(W)
    vals = np.linalg.eigvalsh(M)
    assert vals.min() >= -1e-12 and vals.max() <= 1 + 1e-12
    assert np.trace(M) == pytest.approx(k)
    value = pen.coef_value(W)
    assert pen.smooth(np.vstack([W, M]))[0] == pytest.approx(value, rel=1e-12)
    for _ in range(20):
        Q, _ = np.linalg.qr(rng.standard_normal((T, T)))
        m = P.cluster.project_eigenvalues(rng.uniform(0, 1, T), k)
        assert pen.smooth(np.vstack([W, (Q * m) @ Q.T]))[0] >= value - 1e-12
    # The prox minimizes step * value(Z) + ||Z - V||^2 / 2 (checked by a
    # generic optimizer started from the prox's answer and from V).
    V, step = rng.standard_normal((d, T)), 0.8
    Z = pen.prox_coef(V, step)

    def phi(z):
        z = z.reshape(d, T)
        return step * pen.coef_value(z) + 0.5 * np.sum((z - V) ** 2)

    for start in (Z, V):
        best = minimize(phi, start.ravel(), method="Powell",
                        options={"xtol": 1e-10, "ftol": 1e-14, "maxiter": 50_000})
        assert phi(Z.ravel()) <= best.fun + 1e-10


def test_graph_gap_needs_the_null_space_shift():
    # A chain's Laplacian is flat along the constant task direction: the
    # plain residual is not dual feasible there, the shifted one is, and the
    # resulting gap vanishes at the optimum and bounds the distance to it.
    X, y, task = _problem("heterogeneous", seed=9)
    kw = dict(penalty="graph", graph=P.chain_graph(4), lambda1=0.2)
    m = LinearMultiTaskRegressor(tol=1e-12, **kw).fit(X, y, task=task)
    assert m.solver_ == "admm" and m.dual_gap_ <= 1e-12 * m.objective_history_[-1]
    pen = P.Graph(0.2, P.chain_graph(4))
    N = pen.dual_null_space(0.0)
    assert N.shape == (4, 1)
    np.testing.assert_allclose(np.abs(N[:, 0]), 0.5)
    assert pen.dual_null_space(0.1) is None


def _two_groups_graph():
    """Chains 0-1 and 2-3, not connected: a two-dimensional null space."""
    G = np.zeros((4, 2))
    G[0, 0], G[1, 0], G[2, 1], G[3, 1] = 1.0, -1.0, 1.0, -1.0
    return G


@pytest.mark.parametrize("graph,lambda2,fit_intercept", [
    ("chain", 0.0, True), ("chain", 0.0, False), ("two_groups", 0.0, True),
    ("chain", 0.05, True), ("identity", 0.0, False)])
def test_srmtl_gap_with_its_l1_part_bounds_the_suboptimality(graph, lambda2,
                                                              fit_intercept):
    # MALSAR's SRMTL: the graph term plus an l1 part.  The certificate bounds
    # P - P* from every point, vanishes at the optimum, and lets ADMM stop
    # on it at the long-run FISTA optimum.
    G = {"chain": P.chain_graph(4), "two_groups": _two_groups_graph(),
         "identity": np.eye(4)}[graph]
    X, y, task = _problem("heterogeneous", seed=5)
    codes = np.searchsorted(np.unique(task), task)
    datafit = MultiTaskDatafit(X, y, codes, 4)
    pen = P.Graph(0.2, G, lambda3=0.03)
    assert gap_available(pen, "squared", lambda2)
    kw = dict(penalty="graph", graph=G, lambda1=0.2, lambda3=0.03, lambda2=lambda2,
              fit_intercept=fit_intercept)
    ref = _fista_optimum(X, y, task, max_iter=100_000, **kw)
    F_star = ref.objective_history_[-1]
    # (Rows whose optimal l1 subgradient sits on a corner of its box, all
    # tasks of a group with the same sign, make the certificate shrink only
    # linearly with the distance to the optimum: ADMM certifies 1e-8 here,
    # and plateaus near 1e-9.)
    m = LinearMultiTaskRegressor(tol=1e-8, max_iter=20_000, **kw).fit(X, y, task=task)
    assert m.solver_ == "admm"
    F = m.objective_history_[-1]
    assert m.dual_gap_ <= 1e-8 * F
    assert abs(F - F_star) <= 1e-9 * F_star
    assert 0 < np.count_nonzero(m.coef_) < m.coef_.size  # the l1 part is active
    for k in (1, 5, 30, 200):
        fit = fit_penalized(datafit, pen, lambda2=lambda2, fit_intercept=fit_intercept,
                            max_iter=k, stopping="max_iter")
        F_k = fit.objective_history[-1]
        assert np.isfinite(fit.dual_gap) and fit.dual_gap >= 0
        assert F_k - (F - m.dual_gap_) <= fit.dual_gap + 1e-12 * F


def test_graph_l1_conjugate_bound_is_exact_at_the_optimum_and_an_upper_bound():
    # h*(V) = max_W <V, W> - h(W): the bound is never below any value of
    # that supremum's objective, and equals it at V = subgradient of h at W.
    rng = np.random.RandomState(0)
    pen = P.Graph(0.3, P.chain_graph(5), lambda3=0.2)
    for _ in range(20):
        W = rng.randn(6, 5) * (rng.rand(6, 5) < 0.6)
        K = 0.3 * pen._laplacian
        V = 2 * W @ K + 0.2 * np.sign(W) + (W == 0) * rng.uniform(-0.2, 0.2, W.shape)
        # V is a subgradient of h at W
        h = float(np.sum(W * (W @ K))) + 0.2 * np.abs(W).sum()
        bound = pen.conjugate_bound(V, W)
        # Fenchel-Young with equality at a subgradient: h*(V) = <V, W> - h(W)
        assert bound == pytest.approx(np.vdot(V, W) - h, rel=1e-9, abs=1e-9)
        for _ in range(5):
            W2 = rng.randn(6, 5)
            h2 = float(np.sum(W2 * (W2 @ K))) + 0.2 * np.abs(W2).sum()
            assert bound >= np.vdot(V, W2) - h2 - 1e-9


def test_cluster_ridge_conjugate_is_fenchel_young_exact():
    # h(W) = lambda2 ||W||^2 + min_M c tr(W (eta I + M)^{-1} W^T): its
    # conjugate is never below <U, W> - h(W), and equal at the maximizer
    # W = U (c A^{-1} + lambda2 I)^{-1} / 2 with the water-filled M.
    rng = np.random.RandomState(1)
    lambda2 = 0.07
    pen = P.Cluster(0.3, 0.2, n_clusters=2, n_features=6, n_tasks=5)
    for _ in range(10):
        U = rng.randn(6, 5) * rng.uniform(0.1, 3.0)
        conj = pen.dual_quadratic(U, lambda2)
        for _ in range(20):
            W = rng.randn(6, 5)
            h = lambda2 * np.sum(W * W) + pen.coef_value(W)
            assert conj >= np.vdot(U, W) - h - 1e-12 * abs(conj)
        best = minimize(lambda w: -(np.vdot(U.ravel(), w) - lambda2 * w @ w
                                    - pen.coef_value(w.reshape(6, 5))),
                        np.zeros(30), method="BFGS", options={"gtol": 1e-10})
        assert -best.fun == pytest.approx(conj, rel=1e-6)
    # lambda2 = 0: the closed form (eta ||U||^2 + top-k eigenvalues) / (4 c)
    s2 = np.linalg.svd(U, compute_uv=False) ** 2
    expected = (pen.eta * np.sum(U * U) + np.sort(s2)[::-1][:2].sum()) / (4 * pen.c)
    assert pen.dual_quadratic(U, 0.0) == pytest.approx(expected, rel=1e-12)
    assert pen.dual_quadratic(U, 1e-12) == pytest.approx(expected, rel=1e-6)


# -- logistic loss: proximal Newton -----------------------------------------------

def _labels(layout, seed=10):
    X, y, task = _problem(layout, seed=seed)
    if layout == "shared":
        return X, np.where(y > np.median(y, axis=0), 1.0, 0.0), None
    return X, (y > np.median(y)).astype(float), task


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
@pytest.mark.parametrize("penalty,extra", [
    ("l21", {}), ("lasso", {}), ("trace", {}), ("dirty", {}), ("robust_lowrank", {}),
    ("graph", {"lambda2": 0.05}), ("cluster", {}), ("l21", {"lambda2": 0.05})])
def test_newton_reaches_the_fista_optimum(layout, penalty, extra):
    X, y, task = _labels(layout)
    fit_intercept = layout == "heterogeneous"
    kw = {"penalty": penalty, "lambda1": 0.02, "lambda3": 0.03,
          "fit_intercept": fit_intercept, **_penalty_kwargs(penalty), **extra}
    m = LinearMultiTaskClassifier(tol=1e-10, **kw).fit(X, y, task=task)
    assert m.solver_ == "newton" and m.n_iter_ >= 1
    F = m.objective_history_[-1]
    assert m.dual_gap_ <= 1e-10 * F
    assert np.all(np.diff(m.objective_history_) <= 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = LinearMultiTaskClassifier(solver="fista", stopping="relative_objective",
                                        tol=1e-15, max_iter=20_000, **kw).fit(
            X, y, task=task)
    F_ref = ref.objective_history_[-1]
    assert abs(F - F_ref) <= 1e-9 * F_ref
    # The gap is an upper bound: of the distance to FISTA's best point too.
    assert F - F_ref <= m.dual_gap_ + 1e-13 * F_ref
    # ... and FISTA's own certificate (computed by final_gap on its iterate,
    # intercepts refined for the dual) bounds its distance to ours.
    assert F_ref - F <= ref.dual_gap_ + 1e-13 * F_ref


def test_logistic_gap_bounds_the_suboptimality():
    X, y, task = _labels("heterogeneous", seed=11)
    codes = np.searchsorted(np.unique(task), task)
    datafit = MultiTaskDatafit(X, np.where(y > 0, 1.0, -1.0), codes, 4, loss="logistic")
    for name in ("l21", "trace", "cluster"):
        pen = _make(name, 0.02, 0.03)
        best = fit_penalized(datafit, pen, max_iter=100, tol=1e-12, stopping="dual_gap",
                             solver="auto")
        assert best.solver == "newton" and best.dual_gap <= 1e-12 * \
            best.objective_history[-1]
        F_star = best.objective_history[-1] - best.dual_gap
        for k in (1, 5, 30, 200):
            fit = fit_penalized(datafit, pen, max_iter=k, stopping="max_iter")
            F = fit.objective_history[-1]
            assert 0 <= F - F_star <= fit.dual_gap + 1e-12
    # SRMTL (graph + l1, the chain's Laplacian singular) and the clustered
    # model with a ridge: the bound holds from every iterate as well.  (As
    # with the squared loss, the l1 rows on a corner of their box make the
    # SRMTL certificate plateau near 1e-9.)
    for pen, lambda2 in ((P.Graph(0.02, P.chain_graph(4), lambda3=0.01), 0.0),
                         (P.Graph(0.02, _two_groups_graph(), lambda3=0.01), 0.0),
                         (_make("cluster", 0.02, 0.03), 0.05)):
        best = fit_penalized(datafit, pen, lambda2=lambda2, max_iter=100, tol=1e-12,
                             stopping="dual_gap", solver="auto")
        assert best.solver == "newton" and best.dual_gap <= 1e-8 * \
            best.objective_history[-1]
        F_star = best.objective_history[-1] - best.dual_gap
        for k in (1, 5, 30, 200):
            fit = fit_penalized(datafit, pen, lambda2=lambda2, max_iter=k,
                                stopping="max_iter")
            F = fit.objective_history[-1]
            assert np.isfinite(fit.dual_gap)
            assert 0 <= F - F_star <= fit.dual_gap + 1e-12
    # Without intercepts the candidate needs no refinement; gap = 0 nowhere
    # but at the optimum.
    pen = P.L21(0.02)
    fit = fit_penalized(datafit, pen, fit_intercept=False, max_iter=3,
                        stopping="max_iter")
    assert fit.dual_gap > 1e-6


def test_newton_refusals_and_fallback():
    X, y, task = _labels("heterogeneous")
    with pytest.raises(ValueError, match=r"solver='newton' needs loss='logistic'"):
        LinearMultiTaskRegressor(solver="newton").fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"solver='newton' needs stopping='dual_gap'"):
        LinearMultiTaskClassifier(solver="newton", stopping="relative_objective").fit(
            X, y, task=task)
    # The graph term without a ridge or an l1 part has no certificate with
    # the logistic loss (the dual point would have to leave the null space of
    # the Laplacian): FISTA with the objective rule.  With SRMTL's l1 part the
    # box absorbs that part of the dual point (Graph.conjugate_bound).
    m = LinearMultiTaskClassifier(penalty="graph", graph=P.chain_graph(4),
                                  lambda3=0.0).fit(X, y, task=task)
    assert m.solver_ == "fista" and np.isnan(m.dual_gap_)
    m = LinearMultiTaskClassifier(penalty="graph", graph=P.chain_graph(4),
                                  lambda3=0.01).fit(X, y, task=task)
    assert m.solver_ == "newton" and 0 <= m.dual_gap_ <= 1e-6 * m.objective_history_[-1]


def test_lazy_gram_equals_the_dense_gram_and_computes_only_what_is_read():
    from rkhsmtl.linear._gram import LazyGram

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 12))
    G = X.T @ X
    lazy = LazyGram(X)
    np.testing.assert_allclose(lazy.diagonal(), np.diag(G), rtol=1e-14)
    rows = np.array([7, 2, 9])
    np.testing.assert_allclose(lazy[np.ix_(rows, rows)], G[np.ix_(rows, rows)], rtol=1e-13)
    np.testing.assert_allclose(lazy[:, 5], G[:, 5], rtol=1e-13)
    assert lazy.n_computed == 4  # columns 2, 5, 7, 9 only
    W = np.zeros((12, 3))
    W[[2, 11]] = rng.standard_normal((2, 3))
    np.testing.assert_allclose(lazy @ W, G @ W, rtol=1e-12)
    assert lazy.n_computed == 5
    np.testing.assert_allclose(np.asarray(lazy), G, rtol=1e-13)  # the rest, once
    assert lazy.n_computed == 12
    np.testing.assert_allclose(lazy.T, G, rtol=1e-13)
    Xc = X - X.mean(axis=0)
    np.testing.assert_allclose(np.asarray(LazyGram(X).centered()), Xc.T @ Xc, atol=1e-12)


def test_multitask_lasso_problem_reads_a_fraction_of_the_gram():
    # MultiTaskLasso's setting (complete shared targets, no weights): the
    # working sets touch a few Gram columns, and the fit is still the optimum
    rng = np.random.default_rng(1)
    n, d, T = 300, 200, 5
    X = rng.standard_normal((n, d))
    W = np.zeros((d, T))
    W[:5] = rng.standard_normal((5, T))
    Y = X @ W + 0.1 * rng.standard_normal((n, T))
    alpha = 0.2 * np.linalg.norm(X.T @ (Y - Y.mean(axis=0)), axis=1).max() / n
    from rkhsmtl.linear._losses import MultiTaskDatafit
    from rkhsmtl.linear.penalties import L21
    datafit = MultiTaskDatafit(X, Y, None, T)
    fit = fit_penalized(datafit, L21(alpha), fit_intercept=True, tol=1e-12, solver="bcd",
                        stopping="dual_gap", max_iter=10_000)
    assert datafit.profiled_stats(True).gram.n_computed < d // 4
    sk = MultiTaskLasso(alpha=alpha, tol=1e-14, max_iter=100_000).fit(X, Y)
    np.testing.assert_allclose(fit.coef, sk.coef_.T, atol=1e-7)
    np.testing.assert_allclose(fit.intercept, sk.intercept_, atol=1e-7)
