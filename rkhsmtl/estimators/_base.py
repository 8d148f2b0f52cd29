"""Shared anatomy of the separable-kernel estimators.

An estimator is a thin shell: validate -> kernel -> task matrix ->
:class:`~rkhsmtl.solvers.SeparableProblem` -> fitted coefficients -> predict.
"""
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import asarray_on, get_namespace
from .._validation import validate_fit_data, validate_predict_data
from ..kernels import compute_kernel
from ..solvers import SOLVERS, SeparableProblem
from ..solvers._hadamard import one_hot
from ..solvers._problem import predict_all
from ..tasks import TASK_MATRICES, resolve_task_matrix
from ._unseen import DescriptorMixin
from ._dask_input import is_dask_collection, predict_dask, validate_dask_fit_data
from ._approximate import (
    APPROXIMATION_CONSTRAINTS,
    clear_feature_solution,
    make_feature_problem,
    predict_features,
    store_feature_solution,
    uses_approximation,
)

KERNEL_NAMES = {"rbf", "laplacian", "linear", "polynomial", "poly", "precomputed"}


class _MultiTaskKernelBase(DescriptorMixin, BaseEstimator):
    """Parameters, fitting plumbing and prediction shared by all estimators."""

    _parameter_constraints = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "kernel": [StrOptions(KERNEL_NAMES), callable],
        "gamma": [Interval(Real, 0, None, closed="neither"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Real],
        "kernel_params": [dict, None],
        "task_matrix": [StrOptions(set(TASK_MATRICES) | {"descriptors"}), "array-like"],
        "omega": [Interval(Real, 0, 1, closed="both")],
        "task_graph": ["array-like", None],
        "graph_epsilon": [Interval(Real, 0, None, closed="neither")],
        "task_weighting": [StrOptions({"samples", "uniform"})],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "task_column": [Integral, str, None],
        "device": [StrOptions({"cpu", "cuda"}), None],
        **APPROXIMATION_CONSTRAINTS,
        "random_state": ["random_state"],
    }

    # ----------------------------------------------------------------- helpers
    @property
    def _precomputed(self):
        return isinstance(self.kernel, str) and self.kernel == "precomputed"

    def _kernel_fn(self):
        return partial(compute_kernel, kernel=self.kernel, gamma=self.gamma,
                       degree=self.degree, coef0=self.coef0,
                       kernel_params=self.kernel_params)

    def _validate_data_for_fit(self, X, y, task, sample_weight, y_numeric=True):
        if is_dask_collection(X):
            return validate_dask_fit_data(self, X, y, task, sample_weight)
        return validate_fit_data(
            self, X, y, task, sample_weight, task_column=self.task_column,
            device=self.device, precomputed=self._precomputed, y_numeric=y_numeric)

    def _task_matrix(self, n_tasks, xp, like, omega=None):
        omega = self.omega if omega is None else omega
        if self._uses_descriptors():
            return asarray_on(self._descriptor_matrix(omega), xp, like=like)
        A = resolve_task_matrix(self.task_matrix, n_tasks, omega=omega,
                                task_graph=self.task_graph,
                                graph_epsilon=self.graph_epsilon)
        return asarray_on(A, xp, like=like)

    def _make_problem(self, data):
        if uses_approximation(self):
            problem, self._feature_map = make_feature_problem(self, data)
            return problem
        return SeparableProblem(data, self._kernel_fn(), precomputed=self._precomputed,
                                solver=self._solver_for(data), tol=self.tol,
                                max_iter=self.max_iter)

    def _solver_for(self, data):
        """The ``solver`` to use; subclasses refine ``"auto"``."""
        return self.solver

    def _store_solution(self, data, problem, A, solution):
        """Fitted state shared by all estimators (stays on the fit device)."""
        self.tasks_ = data.tasks
        self.n_tasks_ = data.n_tasks
        self.layout_ = data.layout
        self.solver_ = problem.solver
        self.task_matrix_ = A
        self.X_fit_ = getattr(problem, "X", None) if not self._precomputed else None
        self.dual_coef_ = solution.dual_coef
        self.intercept_ = solution.intercept
        self._single_output = data.layout == "shared" and data.y_was_1d
        self._train_order = problem.order
        # Direct solvers count as one iteration (scikit-learn convention).
        self.n_iter_ = max(1, int(solution.info.get("n_iter") or 1))
        if problem.solver == "features":
            store_feature_solution(self, self.__dict__.pop("_feature_map"), solution)
        else:
            clear_feature_solution(self)
        self._store_unseen_coef(problem, A, solution)

    # ----------------------------------------------------------------- predict
    def _decision(self, X, task=None, task_features=None, unknown_task="raise"):
        """Raw multi-task scores and the caller's namespace.

        Tasks not in ``tasks_`` (``task`` labels) are predicted from their
        descriptors or by the ``unknown_task="mean"`` fallback
        (:mod:`._unseen`); with neither they raise.
        """
        check_is_fitted(self, "intercept_")
        self._check_unseen_request(task_features, unknown_task)
        if is_dask_collection(X):
            if task_features is not None or unknown_task != "raise":
                raise ValueError(
                    "task_features and unknown_task='mean' are not available for "
                    "Dask inputs to predict; compute X (X.compute()) first.")
            return predict_dask(self, X, task), None
        n_train = self.dual_coef_.shape[0] if self._precomputed else None
        keep = unknown_task != "raise" or self._uses_descriptors(fitted=True)
        checked = validate_predict_data(
            self, X, task, reference=self.intercept_, task_column=self.task_column,
            n_train=n_train, unknown="keep" if keep else "raise")
        X, codes, input_xp = checked[:3]
        new_labels = checked[3] if keep else ()
        xp = get_namespace(self.intercept_)
        if self._precomputed and self._train_order is not None:
            order = self._train_order
            X = xp.take(X, order if isinstance(X, np.ndarray)
                        else xp.asarray(order), axis=1)
        F = self._scores(xp, X, self.dual_coef_, self.coef_, self.intercept_)
        if keep:
            F = self._with_unseen_tasks(xp, X, F, new_labels, task_features,
                                        unknown_task)
        if codes is not None:
            F = xp.sum(F * one_hot(xp, codes, F.shape[1], like=F), axis=1)
        elif self._single_output:
            F = F[:, 0]
        return F, input_xp

    def _scores(self, xp, X, dual_coef, coef, intercept):
        """Scores (n, k) of k task functions given by their coefficients."""
        if getattr(self, "feature_map_", None) is not None:
            return predict_features(xp, self.feature_map_, X, coef, intercept)
        return predict_all(xp, self._kernel_fn(), X, self.X_fit_, dual_coef,
                           intercept, precomputed=self._precomputed)

    def _to_caller(self, F, input_xp):
        # None: a lazy Dask result, returned as is.
        return F if input_xp is None else asarray_on(F, input_xp)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self._precomputed
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.array_api_support = True
        return tags
