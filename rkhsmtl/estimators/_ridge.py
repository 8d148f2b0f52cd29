"""Multi-task kernel ridge regression with a fixed task matrix."""
from sklearn.base import RegressorMixin, _fit_context

from .._scoring import r2_multitask
from ._base import _MultiTaskKernelBase
from ._unseen import DESCRIPTOR_CONSTRAINTS


class MultiTaskKernelRidge(RegressorMixin, _MultiTaskKernelBase):
    r"""Multi-task kernel ridge regression with a separable kernel k(x, x') A[s, t].

    Fits all tasks jointly by minimizing

    .. math::

        \sum_{i} w_i\,\big(y_i - f_{t_i}(x_i) - b_{t_i}\big)^2
        + \alpha \sum_{s,t} A^{+}_{st}\,\langle f_s, f_t\rangle_{\mathcal H_k},

    where :math:`w_i` are the sample weights (rescaled per task with
    ``task_weighting="uniform"``) and :math:`b_t` are unpenalized task
    intercepts.  With ``task_matrix="independent"`` and
    ``fit_intercept=False`` this is one :class:`sklearn.kernel_ridge.KernelRidge`
    per task; with ``"pooled"`` it is one KernelRidge on the pooled data.

    Two data layouts are accepted:

    * shared inputs, ``fit(X, Y)`` with ``Y`` of shape (n_samples, n_tasks)
      (NaN marks a missing entry; solved exactly, not by dropping rows);
    * heterogeneous tasks, ``fit(X, y, task=labels)`` with one task label per
      row (labels of any hashable type, kept in ``tasks_``).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularization strength, >= 0.
    kernel : {"rbf", "laplacian", "linear", "polynomial", "precomputed"} or callable, default="rbf"
        Input kernel.  A callable is called as ``kernel(X, Y, **kernel_params)``
        on two 2-D arrays and must return their Gram matrix.
    gamma : float, default=None
        Kernel coefficient of rbf, laplacian and polynomial; None means
        ``1 / n_features`` (as in scikit-learn).
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1.0
        Constant term of the polynomial kernel.
    kernel_params : dict, default=None
        Extra keyword arguments for a callable kernel.
    task_matrix : {"independent", "pooled", "mean", "graph", "descriptors"} or array-like of shape (n_tasks, n_tasks), default="mean"
        Task structure: ``I``, ``11^T``, ``(1 - omega) I + omega 11^T / T``,
        ``(L + graph_epsilon I)^{-1}`` from ``task_graph``,
        ``(1 - omega) I + omega K_T`` with the task kernel ``K_T[s, t] =
        task_kernel(z_s, z_t)`` on the descriptors passed to ``fit`` as
        ``task_features`` (tasks never seen in training are then predicted
        from their descriptors), or a symmetric PSD matrix (rows and columns
        in the order of ``tasks_``).
    omega : float in [0, 1], default=0.5
        Coupling of the mean-regularized and descriptor task matrices (0:
        independent; 1: the shared structure alone, no private part).
    task_graph : array-like of shape (n_tasks, n_tasks), default=None
        Non-negative task similarities for ``task_matrix="graph"``.
    graph_epsilon : float, default=1.0
        Plain ridge weight of the graph penalty; keeps A invertible.
    task_kernel : {"rbf", "laplacian", "linear", "polynomial"} or callable, default="rbf"
        Kernel on task descriptors (``task_matrix="descriptors"`` only); the
        same family as ``kernel``.
    task_gamma : float, default=None
        Coefficient of the task kernel; None means ``1 / n_descriptors``.
    task_kernel_params : dict, default=None
        ``degree`` and ``coef0`` of a polynomial task kernel, or the keyword
        arguments of a callable one.
    task_intercept_alpha : float, default=1.0
        Ridge weight of the intercept of a task never seen in training:
        ``b_* = mean(b) + a_*^T (A + task_intercept_alpha I)^{-1} (b -
        mean(b))``, with ``a_* = omega * task_kernel(z_*, z_t)`` its row of
        the task matrix (a kernel ridge on the fitted intercepts; large
        values give every new task the mean intercept).
    task_weighting : {"samples", "uniform"}, default="samples"
        ``"samples"``: every row weighs the same.  ``"uniform"``: each task's
        weights are rescaled to the same total, so large tasks do not drown
        small ones.
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    solver : {"auto", "eigen", "cholesky", "cg"}, default="auto"
        ``"eigen"``: shared inputs, complete Y.  ``"cg"``: matrix-free PCG (any
        layout; exact on missing entries).  ``"cholesky"``: heterogeneous tasks,
        dense.  ``"auto"`` picks by layout, size and free memory.
    tol : float, default=1e-10
        Relative residual at which the CG solvers stop.
    max_iter : int, default=1000
        Iteration cap of the CG solvers.
    approximation : {"nystroem", "random_fourier"}, default=None
        None solves exactly in the n x n (or N x N) kernel matrix.
        ``"nystroem"`` (any kernel) or ``"random_fourier"`` (rbf, laplacian)
        replace the input kernel by ``n_components`` explicit features and
        keep the task matrix exact: one pass over the data gathers m x m
        statistics per task, and the fit's cost no longer grows with the
        number of rows beyond that pass.  With as many Nyström landmarks as
        rows the fit equals the exact one.
    n_components : int, default=1000
        Number of Nyström landmarks (drawn uniformly from the training rows;
        clipped to the number of rows) or of random Fourier features.  Used
        only with ``approximation``.

    random_state : int, RandomState instance or None, default=None
        Seeds the Nyström landmarks or the random Fourier frequencies
        (``approximation`` only).
    task_column : int or str, default=None
        Column of X that holds the task labels (index, or name for a pandas
        DataFrame); it is removed from the features.  Lets cross-validation and
        pipelines pass task labels inside X.
    device : {"cpu", "cuda"}, default=None
        Force the backend; None follows the input arrays (CuPy in, CuPy out).

    Attributes
    ----------
    dual_coef_ : array of shape (n_train_rows, n_tasks)
        Prediction coefficients B: ``f_t(x) = k(x, X_fit_) @ B[:, t]``.
    intercept_ : array of shape (n_tasks,)
    task_matrix_ : array of shape (n_tasks, n_tasks)
        The task matrix used.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels; column t of predictions is task ``tasks_[t]``.
    n_tasks_ : int
    layout_ : {"shared", "heterogeneous"}
    solver_ : str
        The solver actually used.
    X_fit_ : array
        Training inputs (task-sorted for heterogeneous data).
    n_iter_ : int
        CG iterations (1 for the direct solvers).
    n_features_in_ : int
    feature_map_ : NystroemFeatures or RandomFourierFeatures or None
        The fitted feature map (None for an exact fit).
    coef_ : array of shape (n_components, n_tasks) or None
        Feature weights W of an approximate fit: ``f_t(x) = phi(x) @ W[:, t]``.
    n_components_ : int or None
        Feature dimension actually used (Nyström drops directions of a
        rank-deficient landmark set).
    task_features_ : ndarray of shape (n_tasks, n_descriptors) or None
        Descriptors of the training tasks (``task_matrix="descriptors"``),
        rows in the order of ``tasks_``.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelRidge
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(60, 3)
    >>> task = np.repeat(["a", "b", "c"], 20)
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.randn(60)
    >>> model = MultiTaskKernelRidge(alpha=0.1).fit(X, y, task=task)
    >>> model.predict(X[:2]).shape
    (2, 3)
    >>> model.predict(X[:2], task=["a", "c"]).shape
    (2,)
    """

    _parameter_constraints = {**_MultiTaskKernelBase._parameter_constraints,
                              **DESCRIPTOR_CONSTRAINTS}

    def __init__(self, alpha=1.0, *, kernel="rbf", gamma=None, degree=3, coef0=1.0,
                 kernel_params=None, task_matrix="mean", omega=0.5, task_graph=None,
                 graph_epsilon=1.0, task_kernel="rbf", task_gamma=None,
                 task_kernel_params=None, task_intercept_alpha=1.0,
                 task_weighting="samples", fit_intercept=True,
                 solver="auto", tol=1e-10, max_iter=1000, approximation=None,
                 n_components=1000, random_state=None, task_column=None,
                 device=None):
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.task_matrix = task_matrix
        self.omega = omega
        self.task_graph = task_graph
        self.graph_epsilon = graph_epsilon
        self.task_kernel = task_kernel
        self.task_gamma = task_gamma
        self.task_kernel_params = task_kernel_params
        self.task_intercept_alpha = task_intercept_alpha
        self.task_weighting = task_weighting
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.approximation = approximation
        self.n_components = n_components
        self.random_state = random_state
        self.task_column = task_column
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None, *, task_features=None):
        """Fit all tasks jointly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (or the training kernel if ``kernel="precomputed"``).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets: one per row with ``task``, or one column per task for
            shared inputs (NaN = missing).
        task : array-like of shape (n_samples,) or str, default=None
            Task label of each row (heterogeneous tasks), or the name of the
            task column of a DataFrame X.
        sample_weight : array-like of shape (n_samples,), default=None
        task_features : array-like of shape (n_tasks, n_descriptors) or DataFrame, default=None
            Task descriptors for ``task_matrix="descriptors"`` (ignored
            otherwise): one row per task in the order of ``tasks_`` (the
            sorted labels; the columns of Y for shared inputs), or a pandas
            DataFrame indexed by task label, whose rows for tasks without
            training data are kept for ``predict``.  A fit parameter: route it
            in scikit-learn tools with ``set_fit_request(task_features=True)``.

        Returns
        -------
        self : object
        """
        data = self._validate_data_for_fit(X, y, task, sample_weight)
        self._set_task_features(data, task_features)
        problem = self._make_problem(data)
        A = self._task_matrix(data.n_tasks, data.xp, like=data.X)
        weights = problem.loss_weights(self.task_weighting)
        solution = problem.solve(A, self.alpha, weights=weights,
                                 fit_intercept=self.fit_intercept,
                                 consume_kernel=True)
        self._store_solution(data, problem, A, solution)
        return self

    def predict(self, X, task=None, *, task_features=None, unknown_task="raise"):
        """Predict every task at each row, or each row's own task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,) or str, default=None
            Task of each row.  None predicts all tasks.
        task_features : array-like of shape (n_new_tasks, n_descriptors) or DataFrame, default=None
            Descriptors of the labels in ``task`` not seen in training
            (``task_matrix="descriptors"``): an array with one row per new
            label (sorted), or a DataFrame indexed by task label.  Seen tasks
            use their stored descriptors (a DataFrame row that disagrees is
            an error).
        unknown_task : {"raise", "mean"}, default="raise"
            A label not seen in training and without descriptors: an error,
            or ``"mean"``, the average of the fitted task functions
            ``(1/T) sum_t (f_t(x) + b_t)`` (the prediction whose task-matrix
            row is the average of the training tasks' rows).

        Returns
        -------
        y_pred : array of shape (n_samples, n_tasks) or (n_samples,)
            (n_samples,) when ``task`` is given or the model was fitted on a
            single task given as a 1-D y.  Same device as X.
        """
        F, input_xp = self._decision(X, task, task_features, unknown_task)
        return self._to_caller(F, input_xp)

    def score(self, X, y, task=None, sample_weight=None, *, task_features=None,
              unknown_task="raise"):
        """R^2 as in scikit-learn (2-D y: uniform average over tasks, NaN skipped).

        Per-task and pooled metrics are in :mod:`rkhsmtl.metrics`;
        ``task_features`` and ``unknown_task`` as in :meth:`predict`.
        """
        return r2_multitask(y, self.predict(X, task=task, task_features=task_features,
                                            unknown_task=unknown_task), sample_weight)
