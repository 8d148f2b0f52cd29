"""The approximate (feature-space) twin of :class:`SeparableProblem`.

An estimator with ``approximation=...`` builds a :class:`FeatureProblem`
instead of a :class:`~rkhsmtl.solvers.SeparableProblem`: the same ``solve``
/ ``loss_weights`` / ``release_kernel`` surface, so the fixed-structure
estimators and the alternating engine of the learned structures run on it
unchanged, but everything after the one pass over the data touches only
m x m, m x T and T x T quantities.
"""
import numpy as np

from .._backend import is_numpy
from .._memory import check_memory
from . import feature_ridge
from ._problem import Solution
from .feature_statistics import SHARED, TASKS, StatisticsAccumulator, _host

#: Bytes of features computed at once in the pass over in-memory data.
CHUNK_BYTES = 64 * 1024**2


def statistics_memory(n_features, n_tasks, layout):
    """Upper bound of the statistics' size in bytes (Grams dominate)."""
    m, T = n_features, n_tasks
    grams = 1 if layout == SHARED else T
    return 8.0 * (grams * m * m + 3 * m * T + 3 * T)


def gather_statistics(data, feature_map, *, chunk_bytes=None):
    """One pass over validated data: features chunk by chunk, statistics summed.

    Parameters
    ----------
    data : rkhsmtl._validation.MultiTaskData
    feature_map : fitted feature map (``transform(X) -> (n, m)``)

    Returns
    -------
    FeatureStatistics
        Layout ``"shared"`` for complete shared targets with one weight per
        row, ``"tasks"`` otherwise (heterogeneous rows, missing entries).
    """
    xp = data.xp
    m, T = feature_map.n_components_, data.n_tasks
    shared = data.layout == "shared" and data.mask is None
    layout = SHARED if shared else TASKS
    check_memory(
        statistics_memory(m, T, layout), xp,
        what=f"The feature statistics (m={m} features, {T} tasks)",
        instead="Lower 'n_components'.")
    if chunk_bytes is None:
        # Device arrays: fewer, larger chunks (each chunk costs Python-side
        # work and host synchronizations, not only flops).
        chunk_bytes = CHUNK_BYTES if is_numpy(xp) else 16 * CHUNK_BYTES
    raw, projection = raw_features(feature_map)
    width = m if projection is None else projection.shape[0]
    acc = StatisticsAccumulator(xp, width, T, layout, projection=projection)
    X, Y, sw = data.X, data.targets, data.sample_weight
    n = X.shape[0]
    rows = max(1, int(chunk_bytes // (8 * max(width, 1) * 2)))
    if data.layout == "heterogeneous":
        # Task-sorted chunks: each chunk holds one or a few tasks, so every
        # Gram update is one large product.
        codes = np.asarray(data.task_codes)
        order = np.argsort(codes, kind="stable")
        for start in range(0, n, rows):
            idx = order[start:start + rows]
            take = idx if is_numpy(xp) else xp.asarray(idx)
            Phi = raw(xp.take(X, take, axis=0))
            acc.add(Phi, xp.take(Y, take, axis=0), codes=codes[idx],
                    weights=None if sw is None else xp.take(sw, take, axis=0))
        return acc.result()
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        Phi = raw(X[start:stop, ...])
        w = None if sw is None else sw[start:stop]
        if shared:
            acc.add(Phi, Y[start:stop, :], weights=w)
        else:
            _add_missing_columns(acc, xp, Phi, Y[start:stop, :], w)
    return acc.result()


def raw_features(feature_map):
    """The map as (row features, fixed linear map applied at the end).

    A Nyström map is ``k(x, Z) @ projection_``: the statistics are gathered on
    the kernel features and projected once (see
    :class:`~rkhsmtl.solvers.feature_statistics.StatisticsAccumulator`).
    """
    kernel_features = getattr(feature_map, "kernel_features", None)
    if kernel_features is not None:
        return kernel_features, feature_map.projection_
    return feature_map.transform, None


def _add_missing_columns(acc, xp, Phi, Y, w):
    """Shared inputs with NaN entries: each column's observed rows are that
    task's rows (the tasks layout)."""
    observed = _host(~xp.isnan(Y)) > 0          # one device -> host copy per chunk
    for t in range(Y.shape[1]):
        idx = np.flatnonzero(observed[:, t])
        if idx.size == 0:
            continue
        take = idx if is_numpy(xp) else xp.asarray(idx)
        acc.add(xp.take(Phi, take, axis=0), xp.take(Y[:, t], take, axis=0),
                codes=np.full(idx.size, t),
                weights=None if w is None else xp.take(w, take, axis=0))


class FeatureProblem:
    """Sufficient statistics plus cached decompositions, solved many times.

    Parameters
    ----------
    stats : FeatureStatistics
    layout : {"shared", "heterogeneous"}
        The data's layout (what the estimators report), not the statistics'.
    tol, max_iter : float, int
        PCG stopping rule (tasks layout with large m * rank(A)).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers._feature_problem import FeatureProblem
    >>> from rkhsmtl.solvers.feature_statistics import StatisticsAccumulator
    >>> acc = StatisticsAccumulator(np, n_features=2, n_tasks=2, layout="shared")
    >>> acc.add(np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]]))
    >>> problem = FeatureProblem(acc.result(), "shared")
    >>> sol = problem.solve(np.eye(2), 1.0, fit_intercept=False)
    >>> sol.dual_coef.tolist()
    [[0.5, 1.0], [1.5, 2.0]]
    """

    solver = "features"
    order = None
    codes = None

    def __init__(self, stats, layout, *, tol=1e-10, max_iter=1000):
        self.stats = stats
        self.xp = stats.xp
        self.layout = layout
        self.n_tasks = stats.n_tasks
        self.tol, self.max_iter = tol, max_iter
        self._factors = {}
        self._weighting = None
        self._fit_intercept = True

    def loss_weights(self, task_weighting="samples"):
        """Apply the task weighting to the statistics; returns a marker.

        ``"uniform"`` gives every task the same total weight (as the exact
        path): each task's statistics are scaled by one factor, no new pass.
        """
        if task_weighting != self._weighting:
            if task_weighting == "uniform" and self.stats.layout == TASKS:
                xp = self.xp
                c = self.stats.count
                positive = c > 0
                target = xp.sum(c) / max(int(xp.sum(xp.astype(positive, c.dtype))), 1)
                factors = xp.where(positive, target / xp.where(positive, c,
                                                               xp.ones_like(c)),
                                   xp.zeros_like(c))
                self.stats = self.stats.scaled(factors)
                self._factors = {}
            self._weighting = task_weighting
        return task_weighting

    def factors(self, fit_intercept):
        if fit_intercept not in self._factors:
            self._factors[fit_intercept] = feature_ridge.decompose(self.stats,
                                                                   fit_intercept)
        return self._factors[fit_intercept]

    #: ``solve`` takes ``tol`` (the alternating engine's inexact steps)
    accepts_tol = True

    def solve(self, A, alpha, *, weights=None, targets=None, fit_intercept=True,
              x0=None, solver=None, consume_kernel=False, tol=None):
        """Solve for one task matrix and alpha; ``dual_coef`` holds W (m, T).

        ``tol`` overrides the PCG tolerance of this solve (None: ``self.tol``).
        """
        if targets is not None:
            raise ValueError(
                "The approximate path solves from statistics gathered in one pass "
                "and cannot change the targets between solves (Newton steps of "
                "loss='logistic'). Use loss='squared' with approximation, or "
                "approximation=None.")
        self._fit_intercept = bool(fit_intercept)
        return _solution(self.factors(self._fit_intercept), A, alpha, x0, self, tol)

    def loss_and_gram(self, solution):
        """Training loss (at the optimal intercepts of the last solve's
        setting) and M = W^T W (numpy)."""
        from .._backend import to_numpy

        xp = self.xp
        fac = self.factors(self._fit_intercept)
        W = solution.dual_coef
        M = to_numpy(xp.matrix_transpose(W) @ W)
        loss = feature_ridge.squared_loss(fac, W, solution.info.get("quadratic"))
        return loss, 0.5 * (M + M.T)

    def release_kernel(self):
        """Nothing to release: there is no kernel matrix."""


class FeatureRowsProblem:
    """The feature-space problem with the feature rows kept in memory.

    The one-pass statistics cannot follow weights and targets that change at
    every solve (the Newton steps of ``loss="logistic"``); with the rows
    ``Phi`` (N x m) in memory, each solve regathers the statistics with the
    new weights and targets (one N x m x m product) and solves them as
    :class:`FeatureProblem` does.  Same surface as
    :class:`~rkhsmtl.solvers.SeparableProblem`: ``targets``,
    ``loss_weights``, ``solve``, ``training_scores``.
    """

    solver = "features"
    order = None

    def __init__(self, data, Phi, *, tol=1e-10, max_iter=1000):
        self.xp = data.xp
        self.layout = data.layout
        self.n_tasks = data.n_tasks
        self.targets = data.targets
        self.sample_weight = data.sample_weight
        self.codes = None if data.layout == "shared" else np.asarray(data.task_codes)
        self.Phi = Phi
        self.tol, self.max_iter = tol, max_iter

    def loss_weights(self, task_weighting="samples"):
        """Per-row (heterogeneous) or per-entry (shared) loss weights."""
        xp = self.xp
        if self.layout == "heterogeneous":
            n = self.Phi.shape[0]
            w = (self.sample_weight if self.sample_weight is not None
                 else xp.ones((n,), dtype=self.Phi.dtype))
            if task_weighting == "uniform":
                totals = np.bincount(self.codes, weights=np.asarray(_host(w)),
                                     minlength=self.n_tasks)
                scale = (totals.sum() / self.n_tasks) / np.where(totals > 0, totals, 1.0)
                w = w * xp.asarray(scale[self.codes], dtype=w.dtype)
            return w
        Y = self.targets
        w = xp.astype(~xp.isnan(Y), Y.dtype)
        if self.sample_weight is not None:
            w = w * self.sample_weight[:, None]
        if task_weighting == "uniform":
            per_task = xp.sum(w, axis=0)
            w = w * ((xp.sum(per_task) / self.n_tasks) / per_task)[None, :]
        return w

    def _statistics(self, weights, targets):
        xp = self.xp
        acc = StatisticsAccumulator(xp, self.Phi.shape[1], self.n_tasks, TASKS)
        if self.layout == "heterogeneous":
            acc.add(self.Phi, targets, codes=self.codes, weights=weights)
            return acc.result()
        for t in range(self.n_tasks):
            w = weights[:, t]
            y = xp.where(w > 0, targets[:, t], xp.zeros_like(w))
            acc.add(self.Phi, y, codes=np.full(self.Phi.shape[0], t), weights=w)
        return acc.result()

    def solve(self, A, alpha, *, weights=None, targets=None, fit_intercept=True,
              x0=None, solver=None, consume_kernel=False):
        """Regather the statistics for these weights and targets, then solve."""
        weights = self.loss_weights() if weights is None else weights
        targets = self.targets if targets is None else targets
        fac = feature_ridge.decompose(self._statistics(weights, targets),
                                      bool(fit_intercept))
        return _solution(fac, A, alpha, x0, self)

    def training_scores(self, solution):
        """(f, f + b, W): scores at the training rows; ``dual_coef^T W`` is the
        Gram of the task functions (the engine's M)."""
        xp = self.xp
        F_all = self.Phi @ solution.dual_coef
        if self.layout == "shared":
            return F_all, F_all + solution.intercept[None, :], solution.dual_coef
        idx = xp.asarray(self.codes) if not is_numpy(xp) else self.codes
        E = xp.astype(idx[:, None] == xp.arange(self.n_tasks)[None, :], F_all.dtype)
        f = xp.sum(F_all * E, axis=1)
        return f, f + E @ solution.intercept, solution.dual_coef

    def function_norm2(self, solution, A):
        """:math:`\\mathrm{tr}(A^+ W^\\top W)`, the squared norm of the functions."""
        xp = self.xp
        M = _host(xp.matrix_transpose(solution.dual_coef) @ solution.dual_coef)
        A = _host(A)
        w, V = np.linalg.eigh(0.5 * (A + A.T))
        keep = w > 1e-12 * max(w.max(), 1e-300)
        Vk = V[:, keep]
        return float(np.sum((Vk.T @ M @ Vk).diagonal() / w[keep]))

    def release_kernel(self):
        """Nothing to release."""


def _solution(fac, A, alpha, x0, problem, tol=None):
    """One feature-space solve as a :class:`Solution` (W in ``dual_coef``)."""
    W, b, info = feature_ridge.solve(fac, A, alpha, x0=x0,
                                     tol=problem.tol if tol is None else tol,
                                     max_iter=problem.max_iter)
    if b is None:
        b = problem.xp.zeros((problem.n_tasks,), dtype=W.dtype)
    info["solver"] = "features"
    return Solution(W, b, W, info)
