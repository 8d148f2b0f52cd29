"""Shared shell of the learned-structure estimators.

A learned-structure estimator is a fixed-structure one (``_MultiTaskKernelBase``)
whose task matrix comes out of :func:`._alternating.alternate` instead of a
parameter.  Subclasses only say which task-matrix step they use, with which
weight on the function norm, and which extra fitted attributes they expose.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from .._backend import asarray_on, to_numpy
from .._labels import encode_binary
from ..solvers import SeparableProblem
from ..tasks._fixed import unit_diagonal
from ._alternating import alternate
from ._approximate import make_feature_problem, uses_approximation
from .._scoring import r2_multitask
from ._base import _MultiTaskKernelBase
from ._classifier import MultiTaskKernelClassifier, _LogisticProbaMixin

_FIXED_ONLY = ("task_matrix", "omega", "task_graph", "graph_epsilon")
LOSS_CONSTRAINT = {"loss": [StrOptions({"squared", "logistic"})]}


def _base_constraints():
    c = {k: v for k, v in _MultiTaskKernelBase._parameter_constraints.items()
         if k not in _FIXED_ONLY}
    c.update({
        "epsilon": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    })
    return c


class _StructureLearningBase(_MultiTaskKernelBase):
    """Fitting through the alternating engine; prediction as the fixed models."""

    _parameter_constraints = _base_constraints()

    # ---- to be provided by subclasses
    def _make_step(self, n_tasks):
        raise NotImplementedError

    def _function_alpha(self):
        """Weight of tr(A^+ B^T K B) in the objective (the coefficient ridge)."""
        return self.alpha

    def _store_structure(self, step, state, A, to_fit_device):
        """Extra fitted attributes (cluster labels, covariance...).

        ``to_fit_device`` moves a host (numpy) matrix to the fit's namespace.
        """

    def _block_update(self, problem, weights):
        return None

    # ---- engine
    def _make_problem(self, data):
        if uses_approximation(self):
            problem, self._feature_map = make_feature_problem(self, data)
            return problem
        # tol / max_iter of these estimators belong to the outer loop; the
        # inner CG solves stay tight so that every block step is exact.
        return SeparableProblem(data, self._kernel_fn(), precomputed=self._precomputed,
                                solver=self.solver, tol=1e-10, max_iter=1000)

    def _check_n_tasks(self, data, task):
        n_tasks = data.n_tasks
        if n_tasks >= 2:
            return
        if data.y_was_1d and task is None and self.task_column is None:
            # A 1-D y without task labels is scikit-learn's single-output
            # convention: fit it (the "structure" is a 1 x 1 scale), but say so.
            warnings.warn(
                f"{type(self).__name__} got a single task (1-D y, no task labels); "
                "there is no task structure to learn. Pass task labels or a 2-D Y "
                "with one column per task, or use MultiTaskKernelRidge.",
                UserWarning, stacklevel=4)
            return
        if n_tasks < 2:
            raise ValueError(
                f"{type(self).__name__} learns relations between tasks and needs at "
                f"least 2 tasks; got {n_tasks}. Fit MultiTaskKernelRidge (or "
                "sklearn.kernel_ridge.KernelRidge) for a single task."
            )

    def _fit_targets(self, data):
        return data

    def _fit(self, X, y, task, sample_weight, y_numeric=True):
        data = self._validate_data_for_fit(X, y, task, sample_weight, y_numeric=y_numeric)
        self._check_n_tasks(data, task)
        data = self._fit_targets(data)
        problem = self._make_problem(data)
        step = self._make_step(data.n_tasks)
        weights = problem.loss_weights(self.task_weighting)
        state = None
        if self.warm_start and getattr(self, "_structure_state", None) is not None \
                and np.shape(self._structure_state) == (data.n_tasks, data.n_tasks):
            state = self._structure_state
        result = alternate(
            problem, step, alpha=self._function_alpha(), weights=weights,
            fit_intercept=self.fit_intercept, epsilon=self.epsilon,
            max_iter=self.max_iter, tol=self.tol, state=state, like=data.X,
            block_update=self._block_update(problem, weights),
            loss=getattr(self, "loss", "squared"), verbose=int(self.verbose))
        problem.release_kernel()
        A = asarray_on(result.task_matrix, data.xp, like=data.X)
        self._store_solution(data, problem, A, result.solution)
        self._structure_state = result.state
        self.objective_history_ = list(result.objective_history)
        self.n_iter_ = result.n_iter
        self.n_factorizations_ = result.n_factorizations
        def to_fit_device(M):
            return asarray_on(M, data.xp, like=data.X)

        self.task_correlation_ = to_fit_device(unit_diagonal(result.task_matrix))
        self._store_structure(step, result.state, result.task_matrix, to_fit_device)
        return self


class _StructureRegressorMixin(RegressorMixin):
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None):
        """Learn the task functions and the task matrix jointly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (or the training kernel if ``kernel="precomputed"``).
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            One target per row with ``task``, or one column per task for
            shared inputs (NaN = missing).
        task : array-like of shape (n_samples,) or str, default=None
            Task label of each row, or the name of the task column of a
            DataFrame X.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._fit(X, y, task, sample_weight)

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predict every task (n, T), or each row's own task with ``task`` (n,).

        ``unknown_task="mean"`` predicts a label not seen in training by the
        average of the fitted task functions, ``(1/T) sum_t (f_t(x) + b_t)``
        (the task-matrix row averaged over the training tasks); ``"raise"``
        makes it an error.
        """
        F, input_xp = self._decision(X, task, unknown_task=unknown_task)
        return self._to_caller(F, input_xp)

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """R^2 as in scikit-learn (2-D y: uniform average over tasks, NaN skipped)."""
        return r2_multitask(y, self.predict(X, task=task, unknown_task=unknown_task),
                            sample_weight)


class _StructureClassifierMixin(_LogisticProbaMixin, ClassifierMixin):
    """Binary tasks on labels encoded as -1 / +1 (squared or logistic loss)."""

    def _fit_targets(self, data):
        raw = np.asarray(data.targets)
        if data.y_was_1d and raw.ndim == 2:
            targets, self.classes_ = encode_binary(raw[:, 0], type(self).__name__)
            targets = targets[:, None]
        else:
            targets, self.classes_ = encode_binary(raw, type(self).__name__)
        data.targets = asarray_on(targets, data.xp, like=data.X)
        return data

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, task=None, sample_weight=None):
        """Learn the binary task functions and the task matrix jointly.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Class labels, two per task.
        task : array-like of shape (n_samples,) or str, default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        y = to_numpy(y) if y is not None and not hasattr(y, "iloc") else y
        return self._fit(X, y, task, sample_weight, y_numeric=False)

    decision_function = MultiTaskKernelClassifier.decision_function
    predict = MultiTaskKernelClassifier.predict
    score = MultiTaskKernelClassifier.score

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        return tags
