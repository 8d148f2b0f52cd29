"""Cheap hyperparameter selection for the built-in methods.

Two small meta-estimators keep selection affordable inside a comparison:

* :class:`TaskGridSearch`: a small grid scored by task-stratified K-fold
  (per-task mean AUC for classifiers, mean squared error for regressors);
* :class:`SelectOnSubsample`: run any selector on a per-task subsample of
  at most ``max_rows`` rows, then refit the chosen hyperparameters on all rows
  (large data sets such as School).
"""
import warnings

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.model_selection import ParameterGrid
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..metrics import roc_auc_score
from ..model_selection import TaskStratifiedKFold
from ._evaluate import continuous_scores


def _inner_has(method):
    def check(self):
        inner = getattr(self, "estimator_", None)
        if inner is None:
            inner = getattr(self, "estimator", None) or getattr(self, "selector", None)
        return hasattr(inner, method)
    return check


class _Delegating(BaseEstimator):
    """Prediction methods forwarded to the fitted ``estimator_``."""

    def predict(self, X, task=None):
        """Predict with the refitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X, task=task)

    @available_if(_inner_has("decision_function"))
    def decision_function(self, X, task=None):
        """Decision function of the refitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.decision_function(X, task=task)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X, task=None):
        """Class probabilities of the refitted estimator."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X, task=task)

    @property
    def task_matrix_(self):
        """Task matrix of the refitted estimator (when it has one)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.task_matrix_


def _selected(selector):
    """Hyperparameters chosen by a fitted selector, as ``set_params`` keywords."""
    if hasattr(selector, "best_params_"):
        return dict(selector.best_params_)
    chosen = {"alpha": float(selector.alpha_)}
    if getattr(selector, "omega_", None) is not None:
        chosen["omega"] = float(selector.omega_)
    return chosen


class TaskGridSearch(_Delegating):
    """Small grid search with task-stratified K-fold, then a refit on all rows.

    Parameters
    ----------
    estimator : estimator
        Unfitted estimator with ``fit(X, y, task=...)``.
    param_grid : dict of str to list
        Candidate values, as for :class:`sklearn.model_selection.ParameterGrid`.
    cv : int, default=3
        Number of task-stratified folds.
    random_state : int, default=0
        Seed of the folds.

    Attributes
    ----------
    best_params_ : dict
    cv_scores_ : ndarray of shape (n_candidates,)
        Mean validation score (per-task AUC, or minus the MSE).
    estimator_ : estimator
        Refitted on all rows with ``best_params_``.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelClassifier
    >>> from rkhsmtl.compare import TaskGridSearch
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(120, 2)
    >>> task = np.repeat([0, 1], 60)
    >>> y = (X[:, 0] > 0).astype(int)
    >>> search = TaskGridSearch(MultiTaskKernelClassifier(), {"alpha": [0.01, 1.0]})
    >>> search.fit(X, y, task=task).best_params_["alpha"] in (0.01, 1.0)
    True
    """

    def __init__(self, estimator, param_grid, *, cv=3, random_state=0):
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y, task=None):
        """Score every candidate, then refit the best on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        task : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y, task = np.asarray(X), np.asarray(y), np.asarray(task)
        folds = list(TaskStratifiedKFold(self.cv, shuffle=True,
                                         random_state=self.random_state)
                     .split(X, y, groups=task))
        candidates = list(ParameterGrid(self.param_grid))
        classify = is_classifier(self.estimator)
        scores = np.full(len(candidates), np.nan)
        for c, params in enumerate(candidates):
            fold_scores = []
            for train, val in folds:
                model = clone(self.estimator).set_params(**params)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        model.fit(X[train], y[train], task=task[train])
                    except ValueError:
                        continue  # e.g. a fold left a task with one class
                    if classify:
                        fold_scores.append(roc_auc_score(
                            y[val], continuous_scores(model, X[val], task[val]),
                            task[val]))
                    else:
                        resid = y[val] - model.predict(X[val], task=task[val])
                        fold_scores.append(-float(np.mean(resid ** 2)))
            if fold_scores and not np.all(np.isnan(fold_scores)):
                scores[c] = np.nanmean(fold_scores)
        best = 0 if np.all(np.isnan(scores)) else int(np.nanargmax(scores))
        self.cv_scores_ = scores
        self.best_params_ = candidates[best]
        self.estimator_ = clone(self.estimator).set_params(**self.best_params_)
        self.estimator_.fit(X, y, task=task)
        return self


def _per_task_subsample(task, max_rows, rng):
    """Row indices keeping the same fraction of every task (at least 2 rows each)."""
    fraction = max_rows / task.shape[0]
    keep = []
    for label in np.unique(task):
        rows = np.flatnonzero(task == label)
        n_keep = min(rows.shape[0], max(2, int(round(fraction * rows.shape[0]))))
        keep.append(rng.choice(rows, n_keep, replace=False))
    return np.sort(np.concatenate(keep))


class SelectOnSubsample(_Delegating):
    """Select hyperparameters on a per-task subsample, refit on all rows.

    Parameters
    ----------
    selector : estimator
        Selecting estimator: exposes ``best_params_`` or ``alpha_`` (and
        ``omega_``) once fitted, e.g. :class:`~rkhsmtl.MultiTaskKernelRidgeCV`.
    refit_estimator : estimator
        Estimator refitted on all rows with the selected hyperparameters.
    max_rows : int, default=3000
        Largest number of rows the selector sees; smaller data sets are used
        whole.
    random_state : int, default=0
        Seed of the subsample.

    Attributes
    ----------
    best_params_ : dict
    selector_ : estimator
        The fitted selector.
    estimator_ : estimator
        ``refit_estimator`` refitted on all rows (the selector itself when it
        saw every row and can predict).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import MultiTaskKernelRidge, MultiTaskKernelRidgeCV
    >>> from rkhsmtl.compare import SelectOnSubsample
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 2)
    >>> task = np.repeat([0, 1], 100)
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.randn(200)
    >>> model = SelectOnSubsample(MultiTaskKernelRidgeCV(alphas=[0.1, 1.0], cv=3),
    ...                           MultiTaskKernelRidge(), max_rows=100)
    >>> sorted(model.fit(X, y, task=task).best_params_)
    ['alpha', 'omega']
    """

    def __init__(self, selector, refit_estimator, *, max_rows=3000, random_state=0):
        self.selector = selector
        self.refit_estimator = refit_estimator
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X, y, task=None):
        """Select on at most ``max_rows`` rows, then refit on all of them.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        task : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        X, y, task = np.asarray(X), np.asarray(y), np.asarray(task)
        rows = slice(None)
        if self.max_rows is not None and y.shape[0] > self.max_rows:
            rows = _per_task_subsample(task, self.max_rows,
                                       np.random.RandomState(self.random_state))
        self.selector_ = clone(self.selector).fit(X[rows], y[rows], task=task[rows])
        self.best_params_ = _selected(self.selector_)
        if isinstance(rows, slice) and hasattr(self.selector_, "predict"):
            # The selector saw every row and refitted itself: no second fit.
            self.estimator_ = self.selector_
            return self
        self.estimator_ = clone(self.refit_estimator).set_params(**self.best_params_)
        self.estimator_.fit(X, y, task=task)
        return self


class StructureOnSubsample(_Delegating):
    """Learn a task matrix on a per-task subsample, refit it fixed on all rows.

    Alternating structure learning repeats an N x N factorization in every
    iteration; on data sets the size of School that is hours on a laptop.
    This learns the task matrix on at most ``max_rows`` rows (the same share of
    every task), then fits the fixed-structure model of the core engine on all
    rows with that matrix: the transfer use of a learned ``task_matrix_``.

    Parameters
    ----------
    learner : estimator
        A learned-structure estimator (e.g. :class:`~rkhsmtl.TaskRelationLearning`).
    max_rows : int, default=4000
        Rows the learner sees; smaller data sets are learned on whole.
    random_state : int, default=0
        Seed of the subsample.

    Attributes
    ----------
    learner_ : estimator
        The fitted learner.
    estimator_ : estimator
        The refitted fixed-structure model (the learner itself when it saw every
        row).
    task_matrix_ : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import TaskRelationLearning
    >>> from rkhsmtl.compare import StructureOnSubsample
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(120, 2)
    >>> task = np.repeat([0, 1, 2], 40)
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.randn(120)
    >>> model = StructureOnSubsample(TaskRelationLearning(), max_rows=60)
    >>> model.fit(X, y, task=task).task_matrix_.shape
    (3, 3)
    """

    def __init__(self, learner, *, max_rows=4000, random_state=0):
        self.learner = learner
        self.max_rows = max_rows
        self.random_state = random_state

    def fit(self, X, y, task=None):
        """Learn the task matrix on a subsample, then refit on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        task : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        from ..estimators import MultiTaskKernelClassifier, MultiTaskKernelRidge

        X, y, task = np.asarray(X), np.asarray(y), np.asarray(task)
        if self.max_rows is None or y.shape[0] <= self.max_rows:
            self.learner_ = self.estimator_ = clone(self.learner).fit(X, y, task=task)
        else:
            rows = _per_task_subsample(task, self.max_rows,
                                       np.random.RandomState(self.random_state))
            self.learner_ = clone(self.learner).fit(X[rows], y[rows], task=task[rows])
            inner = _innermost(self.learner_)
            params = {k: v for k, v in inner.get_params().items()
                      if k in ("kernel", "gamma", "degree", "coef0", "kernel_params",
                               "task_weighting", "fit_intercept", "solver")}
            cls = MultiTaskKernelClassifier if is_classifier(inner) else MultiTaskKernelRidge
            self.estimator_ = cls(alpha=inner._function_alpha(),
                                  task_matrix=np.asarray(inner.task_matrix_), **params)
            self.estimator_.fit(X, y, task=task)
        return self


def _innermost(estimator):
    """The fitted model inside selection wrappers (their ``estimator_``)."""
    while hasattr(estimator, "estimator_") and estimator.estimator_ is not estimator:
        estimator = estimator.estimator_
    return estimator
