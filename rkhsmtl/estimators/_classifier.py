"""Multi-task kernel classification for binary tasks."""
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if

from .._backend import asarray_on, to_numpy
from .._labels import encode_binary, labels_from_scores, multitask_accuracy
from ._base import _MultiTaskKernelBase
from ._newton import newton_logistic, proba_from_scores
from ._unseen import DESCRIPTOR_CONSTRAINTS


class _LogisticProbaMixin:
    """``predict_proba`` for the classifiers with a ``loss`` parameter."""

    def _has_proba(self):
        if self.loss != "logistic":
            # available_if chains this as the cause of its "has no attribute"
            # error, so the user sees why and what to change.
            raise AttributeError(
                f"predict_proba needs loss='logistic'; this {type(self).__name__} has "
                f"loss={self.loss!r}, whose scores are not probabilities. Refit with "
                "loss='logistic', or use decision_function.")
        return True

    @available_if(_has_proba)
    def predict_proba(self, X, task=None, *, task_features=None, unknown_task="raise"):
        """Class probabilities (``loss="logistic"`` only).

        Returns
        -------
        proba : array of shape (n_samples, 2) or (n_samples, n_tasks)
            (n_samples, 2) with ``task`` or for a single task.  Without
            ``task`` on a multi-task model, the probability of the positive
            class (``classes_[1]``) of every task, as scikit-learn's multilabel
            classifiers (e.g. MLPClassifier) return it.
        """
        return proba_from_scores(self.decision_function(
            X, task, task_features=task_features, unknown_task=unknown_task))


class MultiTaskKernelClassifier(_LogisticProbaMixin, ClassifierMixin,
                                _MultiTaskKernelBase):
    r"""Multi-task kernel classifier for binary tasks with a separable kernel.

    With labels encoded as :math:`y_i \in \{-1, +1\}` (``classes_[1]`` is +1)
    it minimizes

    .. math::

        \sum_i w_i\,\ell\big(y_i, f_{t_i}(x_i) + b_{t_i}\big)
        + \alpha \sum_{s,t} A^{+}_{st}\,\langle f_s, f_t\rangle_{\mathcal H_k},

    with :math:`\ell(y, f) = (y - f)^2` for ``loss="squared"`` (regularized
    least squares, closed form) or :math:`\log(1 + e^{-y f})` for
    ``loss="logistic"`` (Newton / IRLS steps, each a weighted separable ridge
    solved by the same solvers as :class:`MultiTaskKernelRidge`).

    Parameters
    ----------
    alpha : float, default=1.0
    loss : {"squared", "logistic"}, default="squared"
    kernel, gamma, degree, coef0, kernel_params, task_matrix, omega, task_graph, graph_epsilon, task_kernel, task_gamma, task_kernel_params, task_intercept_alpha, task_weighting, fit_intercept, solver, tol, max_iter
        As in :class:`MultiTaskKernelRidge` (``task_matrix="descriptors"``
        scores tasks never seen in training from their descriptors).
    max_newton_iter : int, default=50
        Newton steps of the logistic loss.
    newton_tol : float, default=1e-8
        Stop Newton when the relative decrease of the objective is below this.
    approximation, n_components, random_state
        As in :class:`MultiTaskKernelRidge`.  With ``loss="logistic"`` the
        N x m feature rows are kept in memory, since every Newton step
        reweights the rows (the squared loss needs one pass only).
    task_column, device
        As in :class:`MultiTaskKernelRidge`.

    Attributes
    ----------
    classes_ : ndarray of shape (2,) or list of such arrays
        Class labels, ``classes_[1]`` being the positive class.  One array
        when every task has the same two labels (always the case for a 1-D
        y); a list with one array per task column when the columns of a 2-D Y
        use different labels.
    dual_coef_, intercept_, task_matrix_, tasks_, n_tasks_, layout_, solver_, X_fit_, feature_map_, coef_, n_components_, task_features_
        As in :class:`MultiTaskKernelRidge`.
    n_newton_iter_ : int
        Newton steps taken (0 for the squared loss).
    objective_history_ : list of float
        Logistic objective after each Newton step.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(80, 2)
    >>> task = np.repeat([0, 1], 40)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = MultiTaskKernelClassifier(loss="logistic", alpha=0.01)
    >>> clf.fit(X, y, task=task).predict(X[:3], task=[0, 1, 1]).shape
    (3,)
    """

    _parameter_constraints = {
        **_MultiTaskKernelBase._parameter_constraints,
        **DESCRIPTOR_CONSTRAINTS,
        "loss": [StrOptions({"squared", "logistic"})],
        "max_newton_iter": [Interval(Integral, 1, None, closed="left")],
        "newton_tol": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, alpha=1.0, *, loss="squared", kernel="rbf", gamma=None,
                 degree=3, coef0=1.0, kernel_params=None, task_matrix="mean",
                 omega=0.5, task_graph=None, graph_epsilon=1.0, task_kernel="rbf",
                 task_gamma=None, task_kernel_params=None, task_intercept_alpha=1.0,
                 task_weighting="samples", fit_intercept=True, solver="auto",
                 tol=1e-10, max_iter=1000, max_newton_iter=50, newton_tol=1e-8,
                 approximation=None, n_components=1000, random_state=None,
                 task_column=None, device=None):
        self.alpha = alpha
        self.loss = loss
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
        self.max_newton_iter = max_newton_iter
        self.newton_tol = newton_tol
        self.approximation = approximation
        self.n_components = n_components
        self.random_state = random_state
        self.task_column = task_column
        self.device = device

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None, *, task_features=None):
        """Fit all binary tasks jointly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels (two per task).
        task : array-like of shape (n_samples,) or str, default=None
        sample_weight : array-like of shape (n_samples,), default=None
        task_features : array-like of shape (n_tasks, n_descriptors) or DataFrame, default=None
            Task descriptors for ``task_matrix="descriptors"``, as in
            :meth:`MultiTaskKernelRidge.fit`.

        Returns
        -------
        self : object
        """
        data = self._validate_data_for_fit(X, y, task, sample_weight, y_numeric=False)
        self._set_task_features(data, task_features)
        raw = np.asarray(data.targets)
        if data.y_was_1d and raw.ndim == 2:
            # A single task given as a 1-D y: one array of classes, as sklearn.
            targets, self.classes_ = encode_binary(raw[:, 0])
            targets = targets[:, None]
        else:
            targets, self.classes_ = encode_binary(raw)
        xp = data.xp
        data.targets = asarray_on(targets, xp, like=data.X)
        problem = self._make_problem(data)
        A = self._task_matrix(data.n_tasks, xp, like=data.X)
        weights = problem.loss_weights(self.task_weighting)
        self.objective_history_ = []
        self.n_newton_iter_ = 0
        if self.loss == "squared":
            solution = problem.solve(A, self.alpha, weights=weights,
                                     fit_intercept=self.fit_intercept,
                                     consume_kernel=True)
        else:
            solution = self._fit_logistic(problem, A, weights)
            problem.release_kernel()
        self._store_solution(data, problem, A, solution)
        return self

    def _solver_for(self, data):
        # Newton steps re-solve with new weights each time: the warm-started
        # matrix-free CG beats refactoring the N x N system at every step
        # (Landmine, all 14,820 rows: 94 s against 143 s for Cholesky).
        if self.solver == "auto" and self.loss == "logistic" and \
                data.layout == "heterogeneous":
            return "cg"
        return self.solver

    # ------------------------------------------------------------ logistic
    def _training_scores(self, problem, solution, A=None):
        """f + b at the training rows, and the squared RKHS norm of f."""
        f, F, _ = problem.training_scores(solution)
        if hasattr(problem, "function_norm2"):       # feature-space weights
            return F, problem.function_norm2(solution, A)
        return F, float(problem.xp.sum(solution.coef * f))

    def _fit_logistic(self, problem, A, weights):
        solution, _, self.n_newton_iter_ = newton_logistic(
            problem, A, self.alpha, weights,
            lambda sol: self._training_scores(problem, sol, A),
            fit_intercept=self.fit_intercept, max_iter=self.max_newton_iter,
            tol=self.newton_tol, history=self.objective_history_)
        return solution

    # -------------------------------------------------------------- predict
    def decision_function(self, X, task=None, *, task_features=None,
                          unknown_task="raise"):
        """Signed scores; positive means ``classes_[1]``.

        ``task_features`` and ``unknown_task`` predict tasks never seen in
        training, as in :meth:`MultiTaskKernelRidge.predict`.

        Returns
        -------
        scores : array of shape (n_samples, n_tasks) or (n_samples,)
        """
        F, input_xp = self._decision(X, task, task_features, unknown_task)
        return self._to_caller(F, input_xp)

    def predict(self, X, task=None, *, task_features=None, unknown_task="raise"):
        """Predicted class labels (numpy array of the training labels)."""
        scores = to_numpy(self.decision_function(   # checks it is fitted
            X, task, task_features=task_features, unknown_task=unknown_task))
        return labels_from_scores(self.classes_, scores)

    def score(self, X, y, task=None, sample_weight=None, *, task_features=None,
              unknown_task="raise"):
        """Mean accuracy (2-D y: averaged over all entries)."""
        return multitask_accuracy(y, self.predict(X, task=task, task_features=task_features,
                                                  unknown_task=unknown_task),
                                  sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        return tags
