"""Cross-validated linear multi-task estimators.

Every fold fits a warm-started path over the ``lambda1`` grid (one path per
``lambda2`` value) and scores it on its held-out rows; folds run in parallel
with joblib; the best pair is refitted on all rows.
"""
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils._param_validation import Interval

from ._base import (_ATTRS_DOC, _PARAMS_DOC, _LinearMultiTaskBase, _check_grid,
                    _numpy)
from ._estimators import LinearMultiTaskClassifier, LinearMultiTaskRegressor
from ._losses import MultiTaskDatafit
from ._path import lambda_grid, lambda_max, path_on_datafit


def _subset_datafit(est, data, targets, rows):
    Xs = _numpy(data.X)[rows]
    sw = None if data.sample_weight is None else _numpy(data.sample_weight)[rows]
    codes = None if data.task_codes is None else data.task_codes[rows]
    return MultiTaskDatafit(Xs, targets[rows], codes, data.n_tasks, loss=est._loss,
                            sample_weight=sw, task_weighting=est.task_weighting)


def _held_out_score(loss, coef, intercept, X, targets, codes, sw):
    """The estimators' ``score`` on held-out rows, from raw coefficients."""
    if codes is None:
        F = X @ coef + intercept
    else:
        F = np.einsum("ij,ji->i", X, coef[:, codes]) + intercept[codes]
    if loss == "logistic":
        correct = (np.where(F > 0, 1.0, -1.0) == targets).astype(float)
        w = np.ones(correct.shape) if sw is None else (
            sw if correct.ndim == 1 else sw[:, None] * np.ones_like(correct))
        w = np.where(np.isnan(targets), 0.0, w)  # NaN: a missing label
        return float(np.average(correct, weights=w)) if np.any(w > 0) else np.nan
    if F.ndim == 1:
        return float(r2_score(targets, F, sample_weight=sw))
    scores = []
    for t in range(F.shape[1]):
        ok = ~np.isnan(targets[:, t])
        if ok.sum() < 2:
            continue
        scores.append(r2_score(targets[ok, t], F[ok, t],
                               sample_weight=None if sw is None else sw[ok]))
    return float(np.mean(scores)) if scores else np.nan


def _observed_mask(data, targets):
    """(n_rows, n_tasks) boolean: row i is a training observation of task t."""
    n_rows = _numpy(data.X).shape[0]
    sw = None if data.sample_weight is None else _numpy(data.sample_weight)
    if data.task_codes is None:
        Y = np.asarray(targets, dtype=np.float64)
        mask = ~np.isnan(Y)
    else:
        mask = np.zeros((n_rows, data.n_tasks), dtype=bool)
        mask[np.arange(n_rows), data.task_codes] = True
    if sw is not None:
        mask &= (sw > 0)[:, None]
    return mask


def _shared_task_folds(mask, n_splits):
    """K-fold split of shared-layout rows that spreads each task's observed
    rows over the folds, rarest task first, so that a task observed on 2 or
    more rows stays in every training fold wherever the rows allow it."""
    n_rows = mask.shape[0]
    fold = np.full(n_rows, -1)
    sizes = np.zeros(n_splits, dtype=int)
    for t in np.argsort(mask.sum(axis=0), kind="stable"):
        rows = np.flatnonzero(mask[:, t])
        placed = fold[rows]
        # Folds already holding this task's rows come last.
        held = np.bincount(placed[placed >= 0], minlength=n_splits)
        for i in rows[placed < 0]:
            k = np.lexsort((sizes, held))[0]
            fold[i] = k
            sizes[k] += 1
            held[k] += 1
    for i in np.flatnonzero(fold < 0):  # rows observing no task
        k = int(np.argmin(sizes))
        fold[i] = k
        sizes[k] += 1
    idx = np.arange(n_rows)
    return [(idx[fold != k], idx[fold == k]) for k in range(n_splits)]


def _check_splits(splits, mask, tasks, cv):
    """Every training fold must observe every task (the plain fit needs it)."""
    for k, (train, _) in enumerate(splits):
        counts = mask[train].sum(axis=0)
        missing = np.flatnonzero(counts == 0)
        if missing.size:
            t = missing[0]
            label = tasks[t].item() if hasattr(tasks[t], "item") else tasks[t]
            n_obs = int(mask[:, t].sum())
            raise ValueError(
                f"Task {label!r} has {n_obs} observed row(s), and training fold "
                f"{k} of cv={cv!r} holds none of them, so that fold cannot fit the "
                f"task. With cv={cv!r} every task needs at least 2 observed rows "
                f"spread over different folds (with an integer cv the rows are "
                f"spread for you). Use an integer cv, fewer folds, a task-"
                f"stratified splitter (rkhsmtl.model_selection.TaskStratifiedKFold) "
                f"or drop the task.")


def _fold_scores(est, data, targets, train, test, lambdas, lambda2s):
    datafit = _subset_datafit(est, data, targets, train)
    d, T = datafit.n_features, datafit.n_tasks
    X_test = _numpy(data.X)[test]
    codes = None if data.task_codes is None else data.task_codes[test]
    sw = None if data.sample_weight is None else _numpy(data.sample_weight)[test]
    scores = np.empty((len(lambda2s), len(lambdas)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i, lam2 in enumerate(lambda2s):
            fits = path_on_datafit(
                datafit, lambda lam: est._make_penalty(lam, d, T), lambdas,
                lambda2=lam2, fit_intercept=est.fit_intercept, max_iter=est.max_iter,
                tol=est.tol, stopping=est.stopping, solver=est.solver)
            for j, fit in enumerate(fits):
                scores[i, j] = _held_out_score(est._loss, fit.coef, fit.intercept,
                                               X_test, targets[test], codes, sw)
    return scores


class _CVMixin:
    """Grid search over ``lambda1`` (warm-started paths) and ``lambda2``."""

    def fit(self, X, y, task=None, sample_weight=None):
        """Cross-validate ``lambda1`` (and ``lambda2``), then refit on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        task : array-like of shape (n_samples,), default=None
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._validate_params()
        start_time = time.perf_counter()
        datafit, data, targets = self._prepare(X, y, task, sample_weight)
        d, T = datafit.n_features, datafit.n_tasks
        if self.lambdas is None:
            lam_max = lambda_max(datafit, self._make_penalty(1.0, d, T),
                                 fit_intercept=self.fit_intercept)
            lambdas = lambda_grid(lam_max, self.n_lambdas, self.eps)
        else:
            lambdas = np.sort(_check_grid("lambdas", self.lambdas))[::-1]
            if np.any(lambdas <= 0):
                raise ValueError(
                    f"The 'lambdas' values must be positive; got a minimum of "
                    f"{lambdas.min():.3g}. Pass a grid of positive lambda1 values.")
        lambda2s = (np.array([self.lambda2], dtype=np.float64) if self.lambda2s is None
                    else _check_grid("lambda2s", self.lambda2s))
        if np.any(lambda2s < 0):
            raise ValueError(
                f"The 'lambda2s' values must be >= 0; got a minimum of "
                f"{lambda2s.min():.3g}.")
        n_rows = _numpy(data.X).shape[0]
        mask = _observed_mask(data, targets)
        if data.task_codes is not None:
            # Stratify on the task so that every fold trains every task.
            cv = check_cv(self.cv, classifier=True)
            if isinstance(self.cv, Integral):
                cv = StratifiedKFold(n_splits=self.cv)
            with warnings.catch_warnings():
                # Tasks smaller than n_splits: _check_splits says what matters.
                warnings.filterwarnings("ignore", message="The least populated class")
                splits = list(cv.split(np.zeros(n_rows), data.task_codes))
        elif isinstance(self.cv, Integral):
            # Spread each task's observed (non-NaN) rows over the folds, so
            # that every training fold observes every task.
            if self.cv > n_rows:
                raise ValueError(
                    f"Cannot have cv={self.cv} folds greater than the number of "
                    f"rows n_samples={n_rows}. Lower cv.")
            splits = list(KFold(n_splits=self.cv).split(np.zeros(n_rows)))
            if any(not mask[train].any(axis=0).all() for train, _ in splits):
                splits = _shared_task_folds(mask, self.cv)
        else:
            splits = list(check_cv(self.cv).split(np.zeros(n_rows)))
        _check_splits(splits, mask, self.tasks_, self.cv)
        # A generator hands back each fold in order as it finishes, so that the
        # progress lines come while the folds run.
        folds = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_fold_scores)(self, data, np.asarray(targets), train, test,
                                  lambdas, lambda2s)
            for train, test in splits)
        all_scores = []
        for k, fold in enumerate(folds, start=1):
            all_scores.append(fold)
            if self.verbose > 0:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells
                    so_far = np.nanmean(np.stack(all_scores), axis=0)
                best = np.nanmax(so_far) if np.any(np.isfinite(so_far)) else np.nan
                print(f"Fold {k}/{len(splits)}: best mean score so far = {best:.10e}, "
                      f"elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)
        all_scores = np.stack(all_scores)  # (n_folds, n_lambda2, n_lambda1)
        mean = np.nanmean(all_scores, axis=0)
        std = np.nanstd(all_scores, axis=0)
        i, j = np.unravel_index(np.nanargmax(mean), mean.shape)
        grid2, grid1 = np.meshgrid(lambda2s, lambdas, indexing="ij")
        self.cv_results_ = {
            "lambda1": grid1.ravel(), "lambda2": grid2.ravel(),
            "mean_test_score": mean.ravel(), "std_test_score": std.ravel(),
            **{f"split{k}_test_score": s.ravel() for k, s in enumerate(all_scores)},
        }
        self.lambdas_ = lambdas
        self.lambda1_ = float(lambdas[j])
        self.lambda2_ = float(lambda2s[i])
        self.best_score_ = float(mean[i, j])
        if self.verbose > 0:
            print(f"Selected lambda1={self.lambda1_:.6g}, lambda2={self.lambda2_:.6g}, "
                  f"best score = {self.best_score_:.10e}; refitting on all data, "
                  f"elapsed = {time.perf_counter() - start_time:.2f} s", flush=True)
        return self._fit_datafit(datafit, self.lambda1_, self.lambda2_)


def _parameter_entries(doc):
    """numpydoc parameter entries of ``doc`` by name (each with its description)."""
    entries, name = {}, None
    for line in doc.strip("\n").split("\n"):
        if line.startswith("    ") and not line.startswith("        ") and " : " in line:
            name = line.strip().split(" : ")[0]
            entries[name] = line
        elif name is not None:
            entries[name] += "\n" + line
    return entries


_CV_ONLY = _parameter_entries("""
    lambdas : array-like or None, default=None
        ``lambda1`` grid; None uses ``n_lambdas`` values from ``lambda1_max``
        down to ``eps * lambda1_max``.
    n_lambdas : int, default=20
        Length of the default ``lambda1`` grid.
    eps : float, default=1e-3
        Smallest default ``lambda1`` as a fraction of ``lambda1_max``.
    lambda2s : array-like or None, default=None
        ``lambda2`` grid searched jointly; None keeps ``lambda2``.
    cv : int or cross-validation splitter, default=5
        Integer: ``StratifiedKFold`` on the task labels (heterogeneous) or
        ``KFold`` over rows (shared inputs), with the rows re-spread over
        the folds when a fold would leave a task without an observed
        (non-NaN) entry to train on.
    n_jobs : int, default=None
        Folds run in parallel with joblib.
    verbose : int, default=0
        When > 0, print one line per fold (the best mean score so far and the
        elapsed seconds), the selected values, then the refit's solver
        progress (see :class:`LinearMultiTaskRegressor`).
""")
_CV_ENTRIES = {**_parameter_entries(_PARAMS_DOC), **_CV_ONLY}
# Signature order (numpydoc checks it); lambda1 and warm_start are not
# parameters of the CV estimators.
_CV_PARAMS_DOC = "\n" + "\n".join(_CV_ENTRIES[name] for name in (
    "penalty", "lambdas", "n_lambdas", "eps", "lambda2", "lambda2s", "lambda3",
    "n_clusters", "graph", "fit_intercept", "task_weighting", "max_iter", "tol",
    "stopping", "solver", "cv", "n_jobs", "task_column", "verbose")) + "\n"

_CV_ATTRS_DOC = """
    lambda1_, lambda2_ : float
        Selected values.
    lambdas_ : ndarray
        The ``lambda1`` grid used.
    cv_results_ : dict
        ``lambda1``, ``lambda2``, ``mean_test_score``, ``std_test_score`` and
        ``split{k}_test_score`` per grid point (score as in ``score``).
    best_score_ : float"""

_cv_constraints = {
    **{k: v for k, v in _LinearMultiTaskBase._parameter_constraints.items()
       if k != "lambda1"},
    "lambdas": ["array-like", None],
    "n_lambdas": [Interval(Integral, 1, None, closed="left")],
    "eps": [Interval(Real, 0, 1, closed="neither")],
    "lambda2s": ["array-like", None],
    "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
    "n_jobs": [Integral, None],
}


def _cv_init(self, penalty, lambdas, n_lambdas, eps, lambda2, lambda2s, lambda3,
             n_clusters, graph, fit_intercept, task_weighting, max_iter, tol,
             stopping, solver, cv, n_jobs, task_column, verbose):
    self.penalty = penalty
    self.lambdas = lambdas
    self.n_lambdas = n_lambdas
    self.eps = eps
    self.lambda2 = lambda2
    self.lambda2s = lambda2s
    self.lambda3 = lambda3
    self.n_clusters = n_clusters
    self.graph = graph
    self.fit_intercept = fit_intercept
    self.task_weighting = task_weighting
    self.max_iter = max_iter
    self.tol = tol
    self.stopping = stopping
    self.solver = solver
    self.cv = cv
    self.n_jobs = n_jobs
    self.task_column = task_column
    self.verbose = verbose


class LinearMultiTaskRegressorCV(_CVMixin, LinearMultiTaskRegressor):
    __doc__ = """:class:`LinearMultiTaskRegressor` with ``lambda1`` (and
    ``lambda2``) chosen by task-stratified K-fold cross-validation (R^2).

    Each fold fits a warm-started path over the ``lambda1`` grid; folds run in
    parallel; the selected values are refitted on all data.

    Parameters
    ----------""" + _CV_PARAMS_DOC + """
    Attributes
    ----------""" + _CV_ATTRS_DOC + _ATTRS_DOC + """
    Examples
    --------
    >>> from rkhsmtl.linear import LinearMultiTaskRegressorCV, make_linear_multitask
    >>> X, y, task, W = make_linear_multitask("l21", n_tasks=3, n_features=10,
    ...                                       n_samples=40, random_state=0)
    >>> cv = LinearMultiTaskRegressorCV(n_lambdas=5, cv=3).fit(X, y, task=task)
    >>> len(cv.cv_results_["mean_test_score"])
    5
    """

    _parameter_constraints = dict(_cv_constraints)
    _parameter_constraints.pop("warm_start")

    def __init__(self, penalty="l21", lambdas=None, n_lambdas=20, eps=1e-3,
                 lambda2=0.0, lambda2s=None, lambda3=None, n_clusters=2, graph=None,
                 fit_intercept=True, task_weighting="samples", max_iter=1000,
                 tol=1e-6, stopping="auto", solver="auto", cv=5, n_jobs=None,
                 task_column=None, verbose=0):
        _cv_init(**{k: v for k, v in locals().items() if k != "__class__"})


class LinearMultiTaskClassifierCV(_CVMixin, LinearMultiTaskClassifier):
    __doc__ = """:class:`LinearMultiTaskClassifier` with ``lambda1`` (and
    ``lambda2``) chosen by task-stratified K-fold cross-validation (accuracy).

    Parameters
    ----------""" + _CV_PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray of shape (2,)""" + _CV_ATTRS_DOC + _ATTRS_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear import LinearMultiTaskClassifierCV, make_linear_multitask
    >>> X, y, task, W = make_linear_multitask("l21", n_tasks=3, n_features=10,
    ...                                       n_samples=40, random_state=0)
    >>> clf = LinearMultiTaskClassifierCV(n_lambdas=4, cv=3).fit(X, y > 0, task=task)
    >>> clf.lambda1_ > 0
    True
    """

    _parameter_constraints = dict(_cv_constraints)
    _parameter_constraints.pop("warm_start")

    def __init__(self, penalty="l21", lambdas=None, n_lambdas=20, eps=1e-3,
                 lambda2=0.0, lambda2s=None, lambda3=None, n_clusters=2, graph=None,
                 fit_intercept=True, task_weighting="samples", max_iter=1000,
                 tol=1e-6, stopping="auto", solver="auto", cv=5, n_jobs=None,
                 task_column=None, verbose=0):
        _cv_init(**{k: v for k, v in locals().items() if k != "__class__"})
