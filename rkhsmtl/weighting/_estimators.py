r"""Distribution-matching estimators: one weighted kernel ridge per task, solved at once.

Task t's model is trained on the whole pool with the weights
:math:`w_{it} = s_i\, r_t(i)` (``s`` the sample weights, ``r`` from
:class:`~rkhsmtl.weighting.DistributionMatchingWeights`).  The T weighted
ridges share their inputs, so they are one shared-input separable problem with
task matrix :math:`A = I`, targets :math:`Y_{it} = y_i` and entry weights
:math:`w_{it}`.  The kernel matrix is computed once for all tasks; then either
:mod:`rkhsmtl.solvers.weighted_cg` solves all T at once (block PCG, every step
one GEMM over the T tasks, preconditioned per task through one shared
pivoted-Cholesky Nyström factor of the kernel), or the core dense primitives
factor :math:`D_t K D_t + \alpha I` once per task.  Equal weights across tasks
(one task, identical distributions) are solved by one eigendecomposition.
"""
import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import (BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context,
                          clone)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import asarray_on, get_namespace, to_numpy
from .._labels import encode_binary, labels_from_scores, multitask_accuracy
from .._scoring import r2_multitask
from .._validation import (MultiTaskData, pick_task_scores, validate_fit_data,
                           validate_predict_tasks)
from ..kernels import compute_kernel
from .._backend import linalg
from ..solvers import SeparableProblem, cholesky, weighted_cg
from ..solvers._problem import predict_all
from ._weights import DistributionMatchingWeights, borrowing_matrix, effective_sample_size

_KERNELS = {"rbf", "laplacian", "linear", "polynomial", "poly"}

_PARAMS_DOC = r"""alpha : float, default=1.0
        Regularization strength of every task's ridge, >= 0.
    weighting : DistributionMatchingWeights, default=None
        The (unfitted) weight model; cloned in ``fit``.  None means
        ``DistributionMatchingWeights()``.  Its parameters are tunable as
        ``weighting__C``, ``weighting__condition_on``, ... in a grid search.
    kernel : {"rbf", "laplacian", "linear", "polynomial"} or callable, default="rbf"
        Input kernel of the task models.
    gamma : float, default=None
        Kernel coefficient; None means ``1 / n_features``.
    degree : float, default=3
    coef0 : float, default=1.0
    kernel_params : dict, default=None
        Extra keyword arguments of a callable kernel.
    fit_intercept : bool, default=True
        One unpenalized intercept per task.
    solver : {"auto", "cg", "cholesky"}, default="auto"
        ``"cg"``: all T weighted ridges in one block-PCG solve (every step one
        GEMM over the T tasks; each task preconditioned through one shared
        low-rank pivoted-Cholesky factor of the kernel, no eigendecomposition).
        ``"cholesky"``: one factorization of the weighted kernel matrix per task
        (the kernel matrix is still computed once).  ``"auto"`` picks by a flop
        count (CG unless the pool is small); equal weights across tasks (one
        task, or identical distributions) are always solved directly by one eigh.
    tol : float, default=1e-10
        Relative residual at which the CG solver stops.
    max_iter : int, default=1000
        Iteration cap of the CG solver.
    task_column : int or str, default=None
        Column of X that holds the task labels (removed from the features).
    device : {"cpu", "cuda"}, default=None
        Backend of the ridge solves; None follows the inputs.  The membership
        model always runs on the CPU (scikit-learn)."""

_ATTRS_DOC = r"""weights_ : ndarray of shape (n_pool, n_tasks)
        Resampling weights :math:`r_t(i)` (without the sample weights), rows in
        the input order (for a 2-D Y: the observed entries, task by task).
    effective_sample_size_ : ndarray of shape (n_tasks,)
        :math:`(\sum_i w_{it})^2 / \sum_i w_{it}^2` of the loss weights.
    borrowing_ : ndarray of shape (n_tasks, n_tasks)
        Share of task t's loss weight placed on task s's examples (rows sum to 1).
    weighting_ : DistributionMatchingWeights
        The fitted weight model.
    dual_coef_ : array of shape (n_pool, n_tasks)
        :math:`f_t(x) = k(x, X_{fit}) B_{:, t}`.
    intercept_ : array of shape (n_tasks,)
    tasks_ : ndarray of shape (n_tasks,)
        Task labels; column t of predictions is task ``tasks_[t]``.
    n_tasks_ : int
    X_fit_ : array of shape (n_pool, n_features)
    solver_ : {"eigen", "cg", "cholesky"}
        The solver used.
    n_iter_ : int
        CG iterations (1 for the direct solvers).
    n_features_in_ : int"""


def _per_task_cholesky(xp, K, y, W, alpha, fit_intercept):
    """T weighted kernel ridges on one kernel matrix: one Cholesky per task.

    Each factorization is of :math:`D_t K D_t + \\alpha I` (D_t the square roots
    of task t's weights), through the core dense solver's primitives.
    """
    from ..solvers import Solution

    N, T = W.shape
    ones = xp.ones((N, 1), dtype=K.dtype)
    columns, intercepts = [], []
    for t in range(T):
        d = xp.sqrt(W[:, t])
        M = linalg.scale_symmetric(xp, xp.asarray(K, copy=True), d)
        chol = linalg.cholesky(xp, linalg.add_to_diagonal(xp, M, alpha), overwrite=True)
        c, b = cholesky.solve(chol, xp, y, ones, d, fit_intercept)
        columns.append(c)
        intercepts.append(b[0] if b is not None else xp.zeros((), dtype=K.dtype))
    B = xp.stack(columns, axis=1)
    return Solution(B, xp.stack(intercepts), B, {"n_iter": 1})


def _weighted_cg(xp, K, y, W, alpha, fit_intercept, tol, max_iter):
    """T weighted kernel ridges in one block PCG (shared Nyström preconditioner)."""
    from ..solvers import Solution

    C, b, info = weighted_cg.solve(xp, K, y, W, alpha, fit_intercept, tol=tol,
                                   max_iter=max_iter)
    if b is None:
        b = xp.zeros((W.shape[1],), dtype=K.dtype)
    return Solution(C, b, C, info)


class _DistributionMatchingBase(BaseEstimator):
    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "weighting": [DistributionMatchingWeights, None],
        "kernel": [StrOptions(_KERNELS), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Real],
        "kernel_params": [dict, None],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", "cg", "cholesky"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "task_column": [Integral, str, None],
        "device": [StrOptions({"cpu", "cuda"}), None],
    }

    def __init__(self, alpha=1.0, *, weighting=None, kernel="rbf", gamma=None, degree=3,
                 coef0=1.0, kernel_params=None, fit_intercept=True, solver="auto", tol=1e-10,
                 max_iter=1000, task_column=None, device=None):
        self.alpha = alpha
        self.weighting = weighting
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.task_column = task_column
        self.device = device

    def _kernel_fn(self):
        return partial(compute_kernel, kernel=self.kernel, gamma=self.gamma,
                       degree=self.degree, coef0=self.coef0,
                       kernel_params=self.kernel_params)

    def _fit_pool(self, data, targets):
        """Weights on the pool, then the T weighted ridges in one solve.

        ``targets`` are numeric, (N,) for heterogeneous data or (n, T) for a
        shared layout (NaN = missing), in the namespace ``data.xp``.
        """
        xp = data.xp
        if data.layout == "heterogeneous":
            X, y = data.X, targets
            labels, sw = data.tasks[data.task_codes], data.sample_weight
        else:
            # One pooled row per observed entry, task by task.
            observed = ~np.isnan(to_numpy(targets))
            cols, rows = np.nonzero(observed.T)
            idx = rows if isinstance(data.X, np.ndarray) else xp.asarray(rows)
            X = xp.take(data.X, idx, axis=0)
            y = asarray_on(to_numpy(targets)[rows, cols], xp, like=data.X)
            labels = data.tasks[cols]
            sw = None if data.sample_weight is None else xp.take(data.sample_weight,
                                                                 idx, axis=0)
        sw_np = None if sw is None else to_numpy(sw)
        if sw_np is not None and np.any(sw_np == 0):
            # A zero weight means the row is not there: it must not enter the
            # membership model either (its x would still shape the weights).
            keep = np.flatnonzero(sw_np > 0)
            kidx = keep if isinstance(X, np.ndarray) else xp.asarray(keep)
            X, y = xp.take(X, kidx, axis=0), xp.take(y, kidx, axis=0)
            labels, sw, sw_np = labels[keep], xp.take(sw, kidx, axis=0), sw_np[keep]
        weighting = (DistributionMatchingWeights() if self.weighting is None
                     else self.weighting)
        self.weighting_ = clone(weighting)
        self.weighting_._fit_arrays(np.asarray(to_numpy(X), dtype=np.float64),
                                    np.asarray(to_numpy(y), dtype=np.float64),
                                    labels, sw_np)
        tasks, T = self.weighting_.tasks_, len(self.weighting_.tasks_)
        R = self.weighting_.weights_
        W = R if sw_np is None else R * sw_np[:, None]
        solution = self._weighted_ridges(xp, X, y, asarray_on(W, xp, like=X), tasks)
        self.tasks_, self.n_tasks_ = tasks, T
        self.weights_ = R
        self.effective_sample_size_ = self.weighting_.effective_sample_size_
        if sw_np is not None:
            self.effective_sample_size_ = effective_sample_size(W)
            self.borrowing_ = borrowing_matrix(W, self.weighting_.task_codes_, T)
        else:
            self.borrowing_ = self.weighting_.borrowing_
        self.X_fit_ = X
        self.dual_coef_ = solution.dual_coef
        self.intercept_ = solution.intercept
        self.n_iter_ = max(1, int(solution.info.get("n_iter") or 1))
        self._single_output = data.layout == "shared" and data.y_was_1d

    def _weighted_ridges(self, xp, X, y, W, tasks):
        """The T weighted kernel ridges (columns of W) on one kernel matrix.

        Sets ``solver_`` and returns the :class:`~rkhsmtl.solvers.Solution`.
        """
        T = W.shape[1]
        pool = MultiTaskData(xp, X, "shared", xp.tile(y[:, None], (1, T)), tasks, None,
                             None, False)
        problem = SeparableProblem(pool, self._kernel_fn(), solver="auto",
                                   tol=self.tol, max_iter=self.max_iter)
        row_only, _ = problem.row_weights_only(W)
        self.solver_ = "eigen" if row_only else self._resolve_solver(X.shape[0], T)
        if self.solver_ == "cholesky":
            try:
                solution = _per_task_cholesky(xp, problem.kernel(), y, W, self.alpha,
                                              self.fit_intercept)
            except np.linalg.LinAlgError:
                warnings.warn(
                    "Cholesky failed: the weighted kernel matrix is not numerically "
                    "positive definite (a non-PSD kernel, or alpha=0). Falling back to "
                    "solver='cg'; increase 'alpha' to avoid this.", RuntimeWarning,
                    stacklevel=4)
                self.solver_ = "cg"
        if self.solver_ == "cg":
            solution = _weighted_cg(xp, problem.kernel(), y, W, self.alpha,
                                    self.fit_intercept, self.tol, self.max_iter)
        elif self.solver_ == "eigen":
            A = asarray_on(np.eye(T), xp, like=X)
            solution = problem.solve(A, self.alpha, weights=W,
                                     fit_intercept=self.fit_intercept)
        problem.release_kernel()
        return solution

    def _resolve_solver(self, n_rows, n_tasks):
        """``"auto"``: block PCG unless T factorizations cost fewer flops."""
        if self.solver != "auto":
            return self.solver
        # Flop counts: T Cholesky ~ T N^3 / 3.  PCG: the preconditioner's
        # per-task m x m Gram matrices, T N m^2, plus ~30 iterations of one
        # N x N x T GEMM (6-11 iterations to 1e-10 in
        # benchmarks/bench_weighting.py, a few dozen to 1e-6 on School).
        rank = min(weighted_cg.DEFAULT_RANK, n_rows)
        cholesky_cost = n_tasks * n_rows**3 / 3.0
        cg_cost = n_tasks * n_rows * rank**2 + 60.0 * n_rows**2 * n_tasks
        return "cg" if cg_cost < cholesky_cost else "cholesky"

    def _decision(self, X, task=None, unknown_task="raise"):
        check_is_fitted(self, "dual_coef_")
        X, codes, input_xp = validate_predict_tasks(
            self, X, task, unknown_task, reference=self.dual_coef_,
            task_column=self.task_column)
        xp = get_namespace(self.dual_coef_)
        F = predict_all(xp, self._kernel_fn(), X, self.X_fit_, self.dual_coef_,
                        self.intercept_)
        if codes is not None:
            F = pick_task_scores(xp, F, codes)
        elif self._single_output:
            F = F[:, 0]
        return asarray_on(F, input_xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags


class DistributionMatchingRegressor(RegressorMixin, _DistributionMatchingBase):
    __doc__ = r"""Kernel ridge per task on the pool reweighted to the task's distribution.

    Every task t gets its own function, trained on *all* pooled examples with
    the distribution-matching weights :math:`r_t(i)` of
    :class:`DistributionMatchingWeights` (Bickel et al., ICML 2008):

    .. math::

        \min_{f_t \in \mathcal H_k,\ b_t}\ \sum_{i=1}^{N} s_i\, r_t(i)\,
        \big(y_i - f_t(x_i) - b_t\big)^2 + \alpha\, \|f_t\|^2_{\mathcal H_k},
        \qquad t = 1, \dots, T,

    with :math:`s_i` the sample weights.  Examples from tasks distributed like
    task t count fully, examples from unrelated regions count little, so small
    tasks borrow strength exactly where the pool resembles them.  Task t's
    function equals :class:`sklearn.kernel_ridge.KernelRidge` fitted on the pool
    with ``sample_weight=weights_[:, t]``; all T fits share one kernel matrix
    (and, with ``solver="cg"``, one low-rank preconditioner factor).

    Data layouts as :class:`~rkhsmtl.MultiTaskKernelRidge`: ``fit(X, y,
    task=labels)``, or shared inputs ``fit(X, Y)`` with Y (n, T) (each observed
    entry becomes one pooled example), or a 1-D y without task (one task: plain
    kernel ridge).

    Parameters
    ----------
    {params}

    Attributes
    ----------
    {attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import (DistributionMatchingRegressor,
    ...                                DistributionMatchingWeights)
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.randn(30, 1) - 1, rng.randn(30, 1) + 1]
    >>> task = np.repeat(["a", "b"], 30)
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.randn(60)
    >>> model = DistributionMatchingRegressor(
    ...     alpha=0.1, weighting=DistributionMatchingWeights(random_state=0))
    >>> model.fit(X, y, task=task).predict(X[:3]).shape
    (3, 2)
    >>> model.predict(X[:3], task=["a", "a", "b"]).shape
    (3,)
    >>> model.borrowing_.shape
    (2, 2)
    """.replace("{params}", _PARAMS_DOC).replace("{attrs}", _ATTRS_DOC)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None):
        """Estimate the weights, then fit every task's weighted kernel ridge.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        task : array-like of shape (n_samples,) or str, default=None
            Task label of each row, or the task column name of a DataFrame X.
        sample_weight : array-like of shape (n_samples,), default=None
            Rows with zero weight are left out entirely, of the membership
            model too (a zero weight means the row is not there).

        Returns
        -------
        self : object
        """
        data = validate_fit_data(self, X, y, task, sample_weight,
                                 task_column=self.task_column, device=self.device)
        self._fit_pool(data, data.targets)
        return self

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predict every task at each row, or each row's own task.

        ``unknown_task="mean"`` predicts a task label not seen in training by
        the average of the task functions; ``"raise"`` makes it an error.

        Returns
        -------
        y_pred : array of shape (n_samples, n_tasks) or (n_samples,)
        """
        return self._decision(X, task, unknown_task)

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """R^2 (2-D y: uniform average over tasks, NaN entries skipped)."""
        return r2_multitask(y, self.predict(X, task=task, unknown_task=unknown_task),
                            sample_weight)


class DistributionMatchingClassifier(ClassifierMixin, _DistributionMatchingBase):
    __doc__ = r"""Binary classifier per task on the pool reweighted to the task's distribution.

    Labels are encoded :math:`y_i \in \{-1, +1\}` (``classes_[1]`` is +1) and
    every task minimizes the weighted squared loss (regularized least-squares
    classification) on the whole pool:

    .. math::

        \min_{f_t,\ b_t}\ \sum_{i=1}^{N} s_i\, r_t(i)\,
        \big(y_i - f_t(x_i) - b_t\big)^2 + \alpha\, \|f_t\|^2_{\mathcal H_k}.

    Since the squared loss estimates :math:`\mathbb E[y \mid x] = 2 p(+1 \mid x) - 1`,
    ``predict_proba`` returns :math:`\operatorname{clip}((1 + f)/2, 0, 1)` (no
    Platt calibration); ``predict`` thresholds :math:`f` at 0.  With
    ``condition_on="xy"`` the membership model sees the +-1 labels.

    Parameters
    ----------
    {params}

    Attributes
    ----------
    classes_ : ndarray of shape (2,) or list of such arrays
        Class labels; one list entry per task column when the columns of a 2-D
        Y use different label pairs.
    {attrs}

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import DistributionMatchingClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(80, 2)
    >>> task = np.repeat([0, 1], 40)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = DistributionMatchingClassifier(alpha=0.1).fit(X, y, task=task)
    >>> clf.predict(X[:3], task=[0, 1, 1]).shape
    (3,)
    >>> clf.predict_proba(X[:3], task=[0, 1, 1]).shape
    (3, 2)
    """.replace("{params}", _PARAMS_DOC).replace("{attrs}", _ATTRS_DOC)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None):
        """Estimate the weights, then fit every task's weighted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Two class labels (per task column for a 2-D y).
        task : array-like of shape (n_samples,) or str, default=None
        sample_weight : array-like of shape (n_samples,), default=None
            Rows with zero weight are left out entirely, of the membership
            model too (a zero weight means the row is not there).

        Returns
        -------
        self : object
        """
        # y goes in as given: a DataFrame keeps its column names as task names
        # (validate_fit_data moves other labels to the host itself).
        data = validate_fit_data(self, X, y, task,
                                 sample_weight, task_column=self.task_column,
                                 device=self.device, y_numeric=False)
        raw = np.asarray(data.targets)
        if data.y_was_1d and raw.ndim == 2:
            signed, self.classes_ = encode_binary(raw[:, 0], type(self).__name__)
            signed = signed[:, None]
        else:
            signed, self.classes_ = encode_binary(raw, type(self).__name__)
        self._fit_pool(data, asarray_on(signed, data.xp, like=data.X))
        return self

    def decision_function(self, X, task=None, *, unknown_task="raise"):
        """Scores :math:`f_t(x) + b_t`; positive means ``classes_[1]``.

        ``unknown_task="mean"`` scores a task label not seen in training by
        the average of the task scores; ``"raise"`` makes it an error.

        Returns
        -------
        scores : array of shape (n_samples, n_tasks) or (n_samples,)
        """
        return self._decision(X, task, unknown_task)

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predicted class labels (numpy array of the training labels)."""
        scores = to_numpy(self.decision_function(X, task,   # checks it is fitted
                                                 unknown_task=unknown_task))
        return labels_from_scores(self.classes_, scores)

    def predict_proba(self, X, task=None, *, unknown_task="raise"):
        """Class probabilities :math:`\\operatorname{clip}((1 + f)/2, 0, 1)`.

        Returns
        -------
        proba : array of shape (n_samples, 2) or (n_samples, n_tasks)
            (n_samples, 2) with ``task`` or for a single task; otherwise the
            probability of each task's positive class.
        """
        scores = self.decision_function(X, task, unknown_task=unknown_task)
        xp = get_namespace(scores)
        p1 = xp.clip(0.5 * (1.0 + scores), 0.0, 1.0)
        if p1.ndim == 1:
            return xp.stack([1.0 - p1, p1], axis=1)
        return p1

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """Mean accuracy (2-D y: averaged over all entries)."""
        return multitask_accuracy(y, self.predict(X, task=task, unknown_task=unknown_task),
                                  sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
