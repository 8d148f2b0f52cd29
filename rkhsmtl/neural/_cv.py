"""Hard-sharing networks with their hyperparameters chosen by cross-validation.

A network's weight decay, width and number of epochs matter as much as a
kernel method's ``alpha``; comparing a tuned kernel model with an untuned
network says little.  These two thin estimators score a small grid with
task-stratified K-fold (every task in every fold, in the same proportion)
and refit the best candidate on all rows, as
:class:`~rkhsmtl.MultiTaskKernelRidgeCV` does for the kernel side.

The number of epochs is a grid dimension (``max_epochs``) and the default
base network trains exactly that many epochs: its plateau stop is switched
off, so a candidate means the same thing in every fold and in the refit.
"""
import copy
import warnings
from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, ParameterGrid, check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._validation import _task_labels_from_arg, split_task_column, validate_fit_data
from ..metrics import roc_auc_score
from ..model_selection import TaskStratifiedKFold
from ._classifier import HardSharingNetClassifier
from ._regressor import HardSharingNetRegressor

# Weight decay x width of the last shared layer x epochs: 18 candidates, the
# size of the kernel methods' grids in ``rkhsmtl compare`` (6 alphas x 4
# omegas).  A narrow last trunk layer is the low-rank sharing that small tasks
# need: each linear head then has 2 or 4 weights to learn, not 32 (measured
# on the default compare data: 62 % pooled explained variance with widths
# (2, 4, 8) against 45 % for (32, 32) alone).
DEFAULT_PARAM_GRID = {
    "weight_decay": [1e-3, 1e-2, 1e-1],
    "hidden_layer_sizes": [(32, 2), (32, 4), (32, 16)],
    "max_epochs": [300, 1000],
}

# The base network of the search.  Measured on the default ``rkhsmtl compare``
# data (20 tasks of 15 training rows): the estimator defaults (ReLU, Adam step
# 1e-3, mini-batches of 64, stop on a training-loss plateau) stop long before
# the fit is done (19 % pooled explained variance against 49 % for independent
# kernel ridge); tanh units, a 1e-2 step and batches of up to 512 rows train
# smooth task functions in a few hundred epochs.  A batch that holds every row
# of a small data set needs no task balancing (the loss is a per-task mean
# already), and plain shuffling halves the time of an epoch.
_BASE = dict(activation="tanh", learning_rate=1e-2, batch_size=512,
             task_balanced_batches=False, early_stopping=False, tol=0.0,
             n_iter_no_change=1_000_000)

_COMMON_DOC = """
    Parameters
    ----------
    estimator : {est} or None, default=None
        The network whose parameters are searched.  None uses
        ``{est}(activation="tanh", learning_rate=1e-2, batch_size=512,
        task_balanced_batches=False, early_stopping=False, tol=0.0,
        n_iter_no_change=1_000_000)``: exactly ``max_epochs`` epochs per fit.
    param_grid : dict of str to list or None, default=None
        Candidate values of the network's parameters, as for
        :class:`sklearn.model_selection.ParameterGrid`.  None uses
        ``DEFAULT_PARAM_GRID``: ``weight_decay`` in (1e-3, 1e-2, 1e-1),
        ``hidden_layer_sizes`` in ((32, 2), (32, 4), (32, 16)), ``max_epochs``
        in (300, 1000).
    cv : int or cross-validator, default=3
        Number of folds of :class:`~rkhsmtl.model_selection.TaskStratifiedKFold`
        (long-format data; a plain shuffled K-fold without ``task``), a
        splitter with ``split(X, y, groups)``, or an iterable of
        (train, validation) index arrays.
    refit : bool, default=True
        Refit the best candidate on all rows (needed to predict).
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and, when the network's own ``random_state`` is
        None, the networks too (so the search is reproducible).
    task_column : int, str or None, default=None
        Column of X holding each row's task label (an index, or a name for a
        pandas DataFrame); when set it overrides the network's own
        ``task_column``.
{extra}
    Attributes
    ----------
    best_params_ : dict
        The candidate with the best mean validation score.
    best_score_ : float
        Its mean validation score ({score}).
    cv_results_ : dict of str to ndarray
        ``params``, ``mean_test_score``, ``std_test_score``,
        ``split<k>_test_score``, ``rank_test_score`` and ``mean_fit_time``, one
        entry per candidate (as in :class:`~sklearn.model_selection.GridSearchCV`).
    best_estimator_ : {est}
        The refitted best network (``refit=True`` only).
    n_splits_ : int
        Number of folds.
    tasks_ : ndarray of shape (n_tasks,)
        Task labels of the refitted network.
    n_tasks_ : int
        Number of tasks.
"""

_SCORING_DOC = """    scoring : {"neg_mean_squared_error", "r2"}, default="neg_mean_squared_error"
        Validation score.  ``"neg_mean_squared_error"``: minus the MSE over
        all validation entries, so tasks with large targets weigh most.
        ``"r2"``: the uniform average over tasks of each task's R^2 (the
        columns of a 2-D ``y``, as scikit-learn's ``"r2"`` scorer; or the
        ``task`` groups), so every task counts the same, as in per-task
        normalized-error evaluations; a task with fewer than two validation
        entries is left out.
"""


def _check_grid(param_grid):
    grid = DEFAULT_PARAM_GRID if param_grid is None else param_grid
    if not isinstance(grid, dict) or not grid:
        raise ValueError(
            "The 'param_grid' parameter must be a non-empty dict mapping parameter "
            f"names to lists of values, or None; got {param_grid!r} instead.")
    for name, values in grid.items():
        if isinstance(values, str) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(
                f"param_grid[{name!r}] must be a non-empty list of candidate values; "
                f"got {values!r} instead.")
    return list(ParameterGrid(grid))


def _epoch_paths(base, candidates):
    """Candidate indices grouped by everything but ``max_epochs``, epochs ascending.

    A group shares one training run per fold only when nothing can stop that
    run early (no early stopping, no plateau stop before the last epoch) and
    one network is trained (not ``single_task``); otherwise every candidate
    is its own group.
    """
    def epochs(c):
        return candidates[c].get("max_epochs", base.max_epochs)

    longest = max(epochs(c) for c in range(len(candidates)))
    # single_task trains the tasks one after the other on one random stream:
    # a longer run of task 0 changes the draws of task 1, so no sharing
    shares = (not base.single_task and "single_task" not in candidates[0]
              and "early_stopping" not in candidates[0] and not base.early_stopping
              and "n_iter_no_change" not in candidates[0]
              and base.n_iter_no_change >= longest)
    if not shares:
        return [[c] for c in range(len(candidates))]
    groups = {}
    for c, params in enumerate(candidates):
        key = repr(sorted((k, v) for k, v in params.items() if k != "max_epochs"))
        groups.setdefault(key, []).append(c)
    return [sorted(g, key=epochs) for g in groups.values()]


def _at_epoch(model, epoch):
    """The fitted ``model`` as it was after ``epoch`` epochs (a shallow copy)."""
    if epoch not in model._checkpoint_coefs:
        return model
    snapshot = copy.copy(model)
    snapshot.coefs_ = model._checkpoint_coefs[epoch]
    return snapshot


class _BaseNetCV(BaseEstimator):
    _parameter_constraints = {
        "estimator": [None, HardSharingNetRegressor, HardSharingNetClassifier],
        "param_grid": [None, dict],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
        "refit": ["boolean"],
        "random_state": ["random_state"],
        "task_column": [None, Integral, str],
    }

    def __init__(self, estimator=None, param_grid=None, *, cv=3, refit=True,
                 random_state=None, task_column=None):
        self.estimator = estimator
        self.param_grid = param_grid
        self.cv = cv
        self.refit = refit
        self.random_state = random_state
        self.task_column = task_column

    def _fitted(self, name):
        check_is_fitted(self, "best_estimator_")
        return getattr(self.best_estimator_, name)

    @property
    def tasks_(self):
        """Task labels of the refitted network (columns of ``predict(X)``)."""
        return self._fitted("tasks_")

    @property
    def n_tasks_(self):
        """Number of tasks of the refitted network."""
        return self._fitted("n_tasks_")

    @property
    def n_features_in_(self):
        """Number of features seen in ``fit``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.n_features_in_

    def _base(self):
        base = (self._network(**_BASE) if self.estimator is None
                else clone(self.estimator))
        if not isinstance(base, self._network):
            raise ValueError(
                f"The 'estimator' parameter of {type(self).__name__} must be a "
                f"{self._network.__name__} or None; got {type(base).__name__} instead.")
        if self.task_column is not None:
            base.set_params(task_column=self.task_column)
        if base.random_state is None and self.random_state is not None:
            seed = np.random.RandomState(self.random_state).randint(np.iinfo(np.int32).max)
            base.set_params(random_state=int(seed))
        return base

    def _folds(self, X, y, task):
        if not isinstance(self.cv, Integral):
            # a splitter, or an iterable of (train, validation) index pairs
            return list(check_cv(self.cv).split(X, y, groups=task))
        if task is None:
            return list(KFold(self.cv, shuffle=True, random_state=self.random_state).split(X))
        return list(TaskStratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
                    .split(X, y, groups=task))

    def fit(self, X, y, task=None):
        """Score every candidate by K-fold, then refit the best on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Long-format targets with ``task``, a 2-D ``Y`` of shared inputs, or
            a 1-D ``y`` without ``task`` (one task).
        task : array-like of shape (n_samples,), default=None
            Task label of each row (long format).

        Returns
        -------
        self : object
        """
        import time

        self._validate_params()
        candidates = _check_grid(self.param_grid)
        base = self._base()
        # Bad input fails here, with the network's own message, rather than
        # as a failed candidate in every fold.
        data = validate_fit_data(base, X, y, task, None, task_column=base.task_column,
                                 device=base.device,
                                 y_numeric=self._network is HardSharingNetRegressor)
        base._encode_targets(data)
        refit_args = (X, y, task)
        # The folds index plain arrays: a task column (task="col" on a
        # DataFrame, or the network's task_column) becomes the labels, and
        # the fold fits run without task_column; the refit sees the caller's
        # own X, so the best network reads its task column as asked.
        X, task = _task_labels_from_arg(X, task)
        if task is None and base.task_column is not None:
            X, task = split_task_column(X, base.task_column)
            base = clone(base).set_params(task_column=None)
        X, y = np.asarray(X), np.asarray(y)
        task = None if task is None else np.asarray(task)
        folds = self._folds(X, y, task)
        scores = np.full((len(candidates), len(folds)), np.nan)
        times = np.zeros(len(candidates))
        for group in _epoch_paths(base, candidates):
            # One fit per fold runs to the group's largest max_epochs; the
            # shorter candidates are read off its checkpoints (the same
            # arithmetic as a fit that stops there).
            params = dict(candidates[group[-1]])
            epochs = [candidates[c].get("max_epochs", base.max_epochs) for c in group]
            start = time.perf_counter()
            for k, (train, val) in enumerate(folds):
                model = clone(base).set_params(**params)
                model._epoch_checkpoints = frozenset(epochs[:-1])
                t_tr = None if task is None else task[train]
                t_val = None if task is None else task[val]
                with warnings.catch_warnings():
                    # max_epochs is the number of epochs asked for, not a cap
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    try:
                        model.fit(X[train], y[train], task=t_tr)
                    except (ValueError, FloatingPointError):
                        continue  # a diverged candidate or a one-class fold: no score
                for c, e in zip(group, epochs):
                    scores[c, k] = self._score_fold(_at_epoch(model, e), X[val], y[val],
                                                    t_val)
            times[group] = (time.perf_counter() - start) / len(folds) / len(group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows
            mean = np.nanmean(scores, axis=1)
            std = np.nanstd(scores, axis=1)
        if np.all(np.isnan(mean)):
            raise ValueError(
                f"{type(self).__name__}: every candidate failed on every fold; check "
                "the data (each task needs rows in every fold) or the param_grid.")
        ranked = np.where(np.isnan(mean), -np.inf, mean)
        # ties go to the first candidate, as in GridSearchCV
        order = np.argsort(-ranked, kind="stable")
        rank = np.empty(len(candidates), dtype=np.int32)
        rank[order] = np.arange(1, len(candidates) + 1)
        best = int(order[0])
        self.cv_results_ = {"params": candidates, "mean_test_score": mean,
                            "std_test_score": std, "rank_test_score": rank,
                            "mean_fit_time": times}
        for k in range(len(folds)):
            self.cv_results_[f"split{k}_test_score"] = scores[:, k]
        self.best_index_ = best
        self.best_params_ = dict(candidates[best])
        self.best_score_ = float(mean[best])
        self.n_splits_ = len(folds)
        if self.refit:
            self.best_estimator_ = clone(self._base()).set_params(**self.best_params_)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                self.best_estimator_.fit(refit_args[0], refit_args[1], task=refit_args[2])
        return self

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predictions of the refitted best network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,), default=None
        unknown_task : {"raise", "mean"}, default="raise"
            A task label not seen in training: an error, or the average of
            the task heads.

        Returns
        -------
        y_pred : ndarray
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict(X, task=task, unknown_task=unknown_task)

    def score(self, X, y, task=None, *, unknown_task="raise"):
        """Score of the refitted best network (its own ``score``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        task : array-like of shape (n_samples,), default=None
        unknown_task : {"raise", "mean"}, default="raise"
            A task label not seen in training: an error, or the average of
            the task heads.

        Returns
        -------
        score : float
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.score(X, y, task=task, unknown_task=unknown_task)


class HardSharingNetRegressorCV(RegressorMixin, _BaseNetCV):
    __doc__ = r"""Hard-sharing regression network tuned by task-stratified K-fold.

    Every candidate of ``param_grid`` is fitted on K-1 folds and scored on the
    held-out fold by ``scoring``: by default minus the mean squared error over
    its rows (in the units of ``y``, as the kernel methods' selection in
    ``rkhsmtl compare``); the best mean score wins and is refitted on all rows.
""" + _COMMON_DOC.format(est="HardSharingNetRegressor",
                         score="minus the MSE, or the task-averaged R^2",
                         extra=_SCORING_DOC) + """
    See Also
    --------
    HardSharingNetRegressor : The network with fixed hyperparameters.
    rkhsmtl.MultiTaskKernelRidgeCV : The kernel counterpart.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.neural import HardSharingNetRegressor, HardSharingNetRegressorCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(90, 2))
    >>> task = np.repeat([0, 1, 2], 30)
    >>> y = np.sin(X[:, 0]) + 0.1 * task + 0.05 * rng.normal(size=90)
    >>> search = HardSharingNetRegressorCV(
    ...     HardSharingNetRegressor(hidden_layer_sizes=(8,), max_epochs=20,
    ...                             early_stopping=False, random_state=0),
    ...     {"weight_decay": [1e-3, 1e-1]}, cv=2, random_state=0)
    >>> search.fit(X, y, task=task).best_params_["weight_decay"] in (1e-3, 1e-1)
    True
    >>> search.predict(X[:3], task=[0, 1, 2]).shape
    (3,)
    """

    _network = HardSharingNetRegressor
    _parameter_constraints = {
        **_BaseNetCV._parameter_constraints,
        "scoring": [StrOptions({"neg_mean_squared_error", "r2"})],
    }
    score = _BaseNetCV.score  # the network's task-aware score, not RegressorMixin's

    def __init__(self, estimator=None, param_grid=None, *, cv=3, refit=True,
                 random_state=None, task_column=None, scoring="neg_mean_squared_error"):
        super().__init__(estimator, param_grid, cv=cv, refit=refit,
                         random_state=random_state, task_column=task_column)
        self.scoring = scoring

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags = self._network().__sklearn_tags__().target_tags
        return tags

    def _score_fold(self, model, X, y, task):
        pred = np.asarray(model.predict(X, task=task), dtype=float)
        y = y.astype(float)
        if self.scoring == "r2":
            return task_mean_r2(y, pred, task)
        return -float(np.nanmean((y - pred) ** 2))


def task_mean_r2(y, pred, task):
    """Uniform average over tasks of each task's R^2 on its observed entries.

    A 2-D ``y`` (shared inputs) has one task per column, as scikit-learn's
    ``r2_score(multioutput="uniform_average")``; a 1-D ``y`` takes the tasks
    from ``task``.  A task with fewer than two entries, or constant targets,
    has no R^2 and is left out; NaN if no task has one.
    """
    if y.ndim == 2:
        columns = [(y[:, t], pred[:, t]) for t in range(y.shape[1])]
    elif task is None:
        columns = [(y, pred)]
    else:
        columns = [(y[task == t], pred[task == t]) for t in np.unique(task)]
    scores = []
    for yt, pt in columns:
        keep = ~np.isnan(yt)
        yt, pt = yt[keep], pt[keep]
        total = float(np.sum((yt - yt.mean()) ** 2)) if yt.size >= 2 else 0.0
        if total > 0:
            scores.append(1.0 - float(np.sum((yt - pt) ** 2)) / total)
    return float(np.mean(scores)) if scores else np.nan


class HardSharingNetClassifierCV(ClassifierMixin, _BaseNetCV):
    __doc__ = r"""Hard-sharing classification network tuned by task-stratified K-fold.

    Every candidate of ``param_grid`` is fitted on K-1 folds and scored on the
    held-out fold by the mean over tasks of the per-task ROC AUC (as the
    kernel classifiers' selection in ``rkhsmtl compare``); the best mean score
    wins and is refitted on all rows.
""" + _COMMON_DOC.format(est="HardSharingNetClassifier", score="mean per-task AUC",
                         extra="") + """
    classes_ : ndarray of shape (2,)
        The labels of the refitted network.

    See Also
    --------
    HardSharingNetClassifier : The network with fixed hyperparameters.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.neural import HardSharingNetClassifier, HardSharingNetClassifierCV
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 2))
    >>> task = np.repeat([0, 1], 60)
    >>> y = (X[:, 0] + 0.2 * rng.normal(size=120) > 0).astype(int)
    >>> search = HardSharingNetClassifierCV(
    ...     HardSharingNetClassifier(hidden_layer_sizes=(8,), max_epochs=20,
    ...                              early_stopping=False, random_state=0),
    ...     {"weight_decay": [1e-3, 1e-1]}, cv=2, random_state=0)
    >>> search.fit(X, y, task=task).predict(X[:2], task=[0, 1]).shape
    (2,)
    """

    _network = HardSharingNetClassifier
    score = _BaseNetCV.score  # the network's task-aware score, not ClassifierMixin's

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        network = self._network().__sklearn_tags__()
        tags.target_tags, tags.classifier_tags = network.target_tags, network.classifier_tags
        return tags

    @property
    def classes_(self):
        """Labels of the refitted network."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.classes_

    def decision_function(self, X, task=None, *, unknown_task="raise"):
        """Logits of the refitted best network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,), default=None
        unknown_task : {"raise", "mean"}, default="raise"
            A task label not seen in training: an error, or the average of
            the task heads.

        Returns
        -------
        scores : ndarray
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.decision_function(X, task=task, unknown_task=unknown_task)

    def predict_proba(self, X, task=None, *, unknown_task="raise"):
        """Class probabilities of the refitted best network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,), default=None
        unknown_task : {"raise", "mean"}, default="raise"
            A task label not seen in training: an error, or the average of
            the task heads.

        Returns
        -------
        proba : ndarray
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.predict_proba(X, task=task, unknown_task=unknown_task)

    def _score_fold(self, model, X, y, task):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # a one-class task: NaN, skipped
            return float(roc_auc_score(y, model.decision_function(X, task=task), task))
