"""Linear multi-task estimators (MALSAR / RMTL formulations) on one FISTA engine.

The estimators are thin shells: validation (:mod:`rkhsmtl._validation`) ->
data-fitting term (:mod:`._losses`) x penalty (:mod:`.penalties`) -> FISTA
(:mod:`._fista`).  numpy only: arrays of other libraries are moved to numpy.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, StratifiedKFold, check_cv
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from .._backend import to_numpy
from .._validation import validate_fit_data, validate_predict_data
from ._fista import STOPPING_RULES
from ._losses import MultiTaskDatafit
from ._path import fit_penalized, lambda_grid, lambda_max, path_on_datafit
from .penalties import PAIR_PENALTIES, PENALTIES, make_penalty

_OBJECTIVE_DOC = r"""
    .. math::

        \min_{W, b}\ \sum_{t=1}^{T} \sum_{i \in t} a_i\,
        \ell\big(y_i,\ x_i^\top w_t + b_t\big)
        + \lambda_2 \lVert W \rVert_F^2 + \Omega(W)

    with ``a_i = T / N`` (``task_weighting="samples"``, N observations in
    all) or ``a_i = 1 / n_t`` (``"uniform"``), so that with equally many
    observations per task the loss is the sum of the per-task mean losses (the
    scaling of scikit-learn's ``Lasso`` and ``MultiTaskLasso``).  The
    intercepts ``b`` are not penalized.  ``Omega`` is set by ``penalty``:

    * ``"l21"``: :math:`\lambda_1 \sum_j \lVert W_{j,:} \rVert_2` (joint feature
      selection);
    * ``"lasso"``: :math:`\lambda_1 \lVert W \rVert_1`;
    * ``"trace"``: :math:`\lambda_1 \lVert W \rVert_*` (low rank);
    * ``"graph"``: :math:`\lambda_1 \lVert W G \rVert_F^2 + \lambda_3 \lVert W \rVert_1`
      (MALSAR SRMTL; ``G`` is ``graph``);
    * ``"cluster"``: :math:`\min_M c\,\mathrm{tr}(W(\eta I + M)^{-1}W^\top)`
      over :math:`0 \preceq M \preceq I,\ \mathrm{tr} M = k`, with
      :math:`\eta = \lambda_3/\lambda_1`, :math:`c = \lambda_1\eta(1+\eta)`
      (MALSAR CMTL, ``k = n_clusters``);
    * ``W = P + Q`` models: ``"dirty"``
      :math:`\lambda_1 \lVert P \rVert_{1,\infty} + \lambda_3 \lVert Q \rVert_{1}`,
      ``"robust_feature"`` (rMTFL)
      :math:`\lambda_1 \lVert P \rVert_{2,1} + \lambda_3 \lVert Q^\top \rVert_{2,1}`,
      ``"robust_lowrank"`` (RMTL)
      :math:`\lambda_1 \lVert P \rVert_* + \lambda_3 \lVert Q^\top \rVert_{2,1}`,
      ``"sparse_trace"``
      :math:`\lambda_1 \lVert P \rVert_1 + \lambda_3 \lVert Q \rVert_*`.
"""

_PARAMS_DOC = """
    penalty : {"l21", "lasso", "trace", "graph", "cluster", "dirty", \
"robust_feature", "robust_lowrank", "sparse_trace"}, default="l21"
        Structure imposed on the coefficient matrix ``W`` (n_features, n_tasks).
    lambda1 : float, default=0.1
        Weight of the main penalty; must be > 0.
    lambda2 : float, default=0.0
        Ridge weight on ``||W||_F^2`` (RMTL's ``lambda2``).
    lambda3 : float or None, default=None
        Second weight: the l1 part of ``"graph"`` (None means 0), ``rho2`` of
        ``"cluster"`` and the weight on ``Q`` of the ``P + Q`` models (None
        means ``lambda1``).
    n_clusters : int, default=2
        Number of clusters ``k`` of ``"cluster"``; at most ``n_tasks``.
    graph : array-like of shape (n_tasks, n_edges), default=None
        Network matrix ``G`` of ``"graph"`` (one column per edge with +1 and
        -1 at its two tasks; see :func:`rkhsmtl.linear.chain_graph`).
    fit_intercept : bool, default=True
        Fit one unpenalized intercept per task.
    task_weighting : {"samples", "uniform"}, default="samples"
        Loss scaling across tasks (see the objective).
    max_iter : int, default=1000
        Maximum number of FISTA iterations.
    tol : float, default=1e-6
        Tolerance of the stopping rule.
    stopping : {"relative_objective", "absolute_objective", "max_iter"}, \
default="relative_objective"
        MALSAR stopping rule on the change of the objective.
    warm_start : bool, default=False
        Start from the previous solution when refitting.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.
"""

_ATTRS_DOC = """
    coef_ : ndarray of shape (n_features, n_tasks)
        ``W``; column ``t`` is the weight vector of task ``tasks_[t]``.
    intercept_ : ndarray of shape (n_tasks,)
    tasks_ : ndarray of shape (n_tasks,)
        Task labels (column indices of ``Y`` for the shared layout).
    coef_components_ : dict or None
        ``{"P", "Q"}`` for the ``W = P + Q`` models, ``{"W", "M"}`` for
        ``"cluster"``; None otherwise.
    objective_history_ : ndarray of shape (n_iter_ + 1,)
        Objective values, non-increasing, starting at the initial point.
    n_iter_ : int
    n_features_in_ : int
"""


def _numpy(a):
    return None if a is None else np.asarray(to_numpy(a))


class _LinearMultiTaskBase(BaseEstimator):
    _loss = "squared"

    _parameter_constraints: dict = {
        "penalty": [StrOptions(set(PENALTIES))],
        "lambda1": [Interval(Real, 0, None, closed="neither")],
        "lambda2": [Interval(Real, 0, None, closed="left")],
        "lambda3": [Interval(Real, 0, None, closed="left"), None],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "graph": ["array-like", None],
        "fit_intercept": ["boolean"],
        "task_weighting": [StrOptions({"samples", "uniform"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "stopping": [StrOptions(set(STOPPING_RULES))],
        "warm_start": ["boolean"],
        "task_column": [Integral, str, None],
    }

    def __init__(self, penalty="l21", lambda1=0.1, lambda2=0.0, lambda3=None,
                 n_clusters=2, graph=None, fit_intercept=True,
                 task_weighting="samples", max_iter=1000, tol=1e-6,
                 stopping="relative_objective", warm_start=False, task_column=None):
        self.penalty = penalty
        self.lambda1 = lambda1
        self.lambda2 = lambda2
        self.lambda3 = lambda3
        self.n_clusters = n_clusters
        self.graph = graph
        self.fit_intercept = fit_intercept
        self.task_weighting = task_weighting
        self.max_iter = max_iter
        self.tol = tol
        self.stopping = stopping
        self.warm_start = warm_start
        self.task_column = task_column

    # -- data ----------------------------------------------------------------
    def _encode_targets(self, data):
        return data.targets

    def _prepare(self, X, y, task, sample_weight):
        """Validate the data, set ``tasks_`` and build the data-fitting term."""
        data = validate_fit_data(self, X, y, task, sample_weight,
                                 task_column=self.task_column,
                                 y_numeric=self._loss == "squared")
        targets = self._encode_targets(data)
        self.tasks_ = data.tasks
        self._y_was_1d = data.y_was_1d
        datafit = MultiTaskDatafit(
            _numpy(data.X), targets, data.task_codes, data.n_tasks, loss=self._loss,
            sample_weight=_numpy(data.sample_weight),
            task_weighting=self.task_weighting)
        return datafit, data, targets

    # -- penalty -------------------------------------------------------------
    def _make_penalty(self, lambda1, n_features, n_tasks):
        name, lambda3 = self.penalty, self.lambda3
        graph = None
        if name == "graph":
            if self.graph is None:
                raise ValueError(
                    "penalty='graph' needs the network matrix: pass graph= of shape "
                    f"(n_tasks, n_edges) = ({n_tasks}, n_edges), e.g. "
                    "rkhsmtl.linear.chain_graph(n_tasks).")
            graph = np.asarray(self.graph, dtype=np.float64)
            if graph.ndim != 2 or graph.shape[0] != n_tasks:
                raise ValueError(
                    f"The 'graph' parameter must have shape (n_tasks, n_edges) with "
                    f"n_tasks={n_tasks}; got shape {graph.shape}. Build one column "
                    "per edge (+1 and -1 at its two tasks), e.g. "
                    "rkhsmtl.linear.chain_graph(n_tasks).")
        if name == "cluster" and self.n_clusters > n_tasks:
            raise ValueError(
                f"The 'n_clusters' parameter must be at most the number of tasks "
                f"({n_tasks}); got n_clusters={self.n_clusters}. Lower n_clusters.")
        if (name == "cluster" or name in PAIR_PENALTIES) and lambda3 is not None \
                and lambda3 <= 0:
            raise ValueError(
                f"The 'lambda3' parameter must be > 0 for penalty={name!r}; got "
                f"lambda3={lambda3}. Pass a positive value or None (= lambda1).")
        return make_penalty(name, lambda1, lambda3, graph=graph,
                            n_clusters=self.n_clusters, n_features=n_features,
                            n_tasks=n_tasks)

    # -- fitting -------------------------------------------------------------
    def _warm_variable(self, penalty, n_features, n_tasks):
        # The CV estimators have no warm_start parameter: they always start cold.
        if not (getattr(self, "warm_start", False) and hasattr(self, "_variable")):
            return None, None
        V = self._variable
        if V.shape != penalty.variable_shape(n_features, n_tasks):
            return None, None
        return V, self.intercept_

    def _fit_datafit(self, datafit, lambda1, lambda2):
        d, T = datafit.n_features, datafit.n_tasks
        penalty = self._make_penalty(lambda1, d, T)
        V0, b0 = self._warm_variable(penalty, d, T)
        fit = fit_penalized(datafit, penalty, lambda2=lambda2,
                            fit_intercept=self.fit_intercept, variable0=V0,
                            intercept0=b0, max_iter=self.max_iter, tol=self.tol,
                            stopping=self.stopping)
        if not fit.converged:
            warnings.warn(
                f"FISTA did not meet the stopping rule ({self.stopping}, "
                f"tol={self.tol}) in max_iter={self.max_iter} iterations. Increase "
                "max_iter, loosen tol, or scale the features.", ConvergenceWarning)
        self.coef_ = fit.coef
        self.intercept_ = fit.intercept
        self.coef_components_ = penalty.components(fit.variable)
        self.objective_history_ = fit.objective_history
        self.n_iter_ = fit.n_iter
        self._variable = fit.variable
        return self

    def fit(self, X, y, task=None, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            1-D with ``task`` (heterogeneous layout) or 2-D ``Y`` with NaN for
            a missing entry (shared inputs).
        task : array-like of shape (n_samples,), default=None
            Task label of each row.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._validate_params()
        datafit, _, _ = self._prepare(X, y, task, sample_weight)
        return self._fit_datafit(datafit, self.lambda1, self.lambda2)

    # -- prediction ----------------------------------------------------------
    def _decision(self, X, task=None):
        check_is_fitted(self)
        ndim = getattr(X, "ndim", None)
        if ndim is None and not hasattr(X, "iloc"):
            ndim = np.asarray(X).ndim
        if ndim == 1:
            # validate_predict_data checks the feature count first and would
            # report "no features" for a 1-D X; say what is wrong instead.
            raise ValueError(
                "Expected a 2-D array for X, got a 1-D array instead. Reshape your "
                "data with X.reshape(-1, 1) for a single feature or "
                "X.reshape(1, -1) for a single sample.")
        X, codes, _ = validate_predict_data(self, X, task, reference=self.coef_,
                                            task_column=self.task_column)
        X = _numpy(X)
        if codes is None:
            F = X @ self.coef_ + self.intercept_
            return F[:, 0] if self._y_was_1d and len(self.tasks_) == 1 else F
        return np.einsum("ij,ji->i", X, self.coef_[:, codes]) + self.intercept_[codes]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class LinearMultiTaskRegressor(RegressorMixin, _LinearMultiTaskBase):
    __doc__ = r"""Linear multi-task regression with structured penalties (squared loss).

    The MALSAR / RMTL family of linear MTL models, all solved by one
    accelerated proximal-gradient engine (FISTA with backtracking and
    monotone restart).  Works on numpy arrays (other array types are moved to
    numpy).

    Objective (squared loss :math:`\ell(y, f) = (y - f)^2 / 2`):
    """ + _OBJECTIVE_DOC + """
    Parameters
    ----------""" + _PARAMS_DOC + """
    Attributes
    ----------""" + _ATTRS_DOC + """
    Examples
    --------
    >>> from rkhsmtl.linear import LinearMultiTaskRegressor, make_linear_multitask
    >>> X, y, task, W = make_linear_multitask("l21", n_tasks=3, n_features=10,
    ...                                       n_samples=40, noise=0.1, random_state=0)
    >>> model = LinearMultiTaskRegressor(penalty="l21", lambda1=0.05).fit(X, y, task=task)
    >>> model.coef_.shape
    (10, 3)
    >>> model.predict(X[:2], task=task[:2]).shape
    (2,)
    """

    def predict(self, X, task=None):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,), default=None
            Task of each row; None predicts every task.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        return self._decision(X, task)

    def score(self, X, y, task=None, sample_weight=None):
        """R^2: pooled over rows with ``task``; else averaged uniformly over
        the columns of ``Y``, skipping NaN (missing) entries."""
        pred = self.predict(X, task)
        y = np.asarray(to_numpy(y), dtype=np.float64)
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        if pred.ndim == 1:
            return float(r2_score(y.ravel(), pred, sample_weight=sw))
        scores = []
        for t in range(pred.shape[1]):
            ok = ~np.isnan(y[:, t])
            scores.append(r2_score(y[ok, t], pred[ok, t],
                                   sample_weight=None if sw is None else sw[ok]))
        return float(np.mean(scores))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class LinearMultiTaskClassifier(ClassifierMixin, _LinearMultiTaskBase):
    __doc__ = r"""Linear multi-task binary classification (logistic loss).

    Every task is a binary problem on the same two class labels
    ``classes_``; ``classes_[1]`` is the positive class (:math:`y = +1`).
    Same penalties and solver as :class:`LinearMultiTaskRegressor`; numpy only.

    Objective (logistic loss :math:`\ell(y, f) = \log(1 + e^{-y f})`):
    """ + _OBJECTIVE_DOC + """
    Parameters
    ----------""" + _PARAMS_DOC + """
    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two class labels.""" + _ATTRS_DOC + """
    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear import LinearMultiTaskClassifier, make_linear_multitask
    >>> X, y, task, W = make_linear_multitask("l21", n_tasks=3, n_features=10,
    ...                                       n_samples=40, random_state=0)
    >>> labels = np.where(y > 0, "pos", "neg")
    >>> clf = LinearMultiTaskClassifier(lambda1=0.01).fit(X, labels, task=task)
    >>> clf.predict_proba(X[:2], task=task[:2]).shape
    (2, 2)
    """

    _loss = "logistic"

    def _prepare(self, X, y, task, sample_weight):
        if task is None and self.task_column is None and getattr(y, "ndim", 0) == 2 \
                and y.shape[1] == 1:
            # sklearn convention: a column vector is one task, said loudly.
            warnings.warn("A column-vector y was passed when a 1d array was "
                          "expected. Please change the shape of y to (n_samples,), "
                          "for example using ravel().", DataConversionWarning)
            y = np.ravel(y) if not hasattr(y, "iloc") else y.iloc[:, 0]
        return super()._prepare(X, y, task, sample_weight)

    def _encode_targets(self, data):
        y = np.asarray(data.targets)
        check_classification_targets(y)
        classes = np.unique(y)
        if len(classes) > 2:
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {type_of_target(y)}: y holds {len(classes)} classes "
                f"{classes.tolist()[:10]}, and {type(self).__name__} needs exactly "
                "two labels. Fit one model per pair of classes, or one-vs-rest.")
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs two classes in y; got only one class "
                f"{classes.tolist()}. Add examples of the other class.")
        codes = data.task_codes
        if codes is None:
            for t in range(y.shape[1]):
                if len(np.unique(y[:, t])) != 2:
                    raise ValueError(
                        f"Task {data.tasks[t].tolist()!r} has labels of only one class; "
                        f"every task needs both classes {classes.tolist()}. Drop the task or "
                        "add examples of the other class.")
        else:
            for t in range(len(data.tasks)):
                if len(np.unique(y[codes == t])) != 2:
                    raise ValueError(
                        f"Task {data.tasks[t].tolist()!r} has labels of only one class; "
                        f"every task needs both classes {classes.tolist()}. Drop the task or "
                        "add examples of the other class.")
        self.classes_ = classes
        return np.where(y == classes[1], 1.0, -1.0)

    def decision_function(self, X, task=None):
        """Linear scores ``x^T w_t + b_t`` (positive favours ``classes_[1]``).

        Returns (n_samples, n_tasks) without ``task`` (or (n_samples,) when
        fitted from a 1-D ``y`` without task), (n_samples,) with ``task``.
        """
        return self._decision(X, task)

    def predict(self, X, task=None):
        """Predicted labels, shaped like :meth:`decision_function`."""
        scores = self.decision_function(X, task)
        return self.classes_[(scores > 0).astype(int)]

    def predict_proba(self, X, task=None):
        """Class probabilities: (n_samples, 2), or (n_samples, n_tasks, 2)
        when predicting every task of a multi-task fit."""
        p = expit(self.decision_function(X, task))
        return np.stack([1.0 - p, p], axis=-1)

    def predict_log_proba(self, X, task=None):
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X, task))

    def score(self, X, y, task=None, sample_weight=None):
        """Accuracy over all predicted entries."""
        pred = self.predict(X, task)
        y = np.asarray(to_numpy(y)).reshape(pred.shape)
        correct = (pred == y).astype(float)
        if sample_weight is None:
            return float(correct.mean())
        sw = np.asarray(sample_weight, dtype=np.float64)
        sw = sw if correct.ndim == 1 else sw[:, None] * np.ones_like(correct)
        return float(np.average(correct, weights=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


# -- cross-validation ----------------------------------------------------------

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
        w = None if sw is None else (sw if correct.ndim == 1 else sw[:, None] * np.ones_like(correct))
        return float(np.average(correct, weights=w))
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
                tol=est.tol, stopping=est.stopping)
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
        datafit, data, targets = self._prepare(X, y, task, sample_weight)
        d, T = datafit.n_features, datafit.n_tasks
        if self.lambdas is None:
            lam_max = lambda_max(datafit, self._make_penalty(1.0, d, T),
                                 fit_intercept=self.fit_intercept)
            lambdas = lambda_grid(lam_max, self.n_lambdas, self.eps)
        else:
            lambdas = np.sort(np.asarray(self.lambdas, dtype=np.float64).ravel())[::-1]
            if np.any(lambdas <= 0):
                raise ValueError(
                    f"The 'lambdas' values must be positive; got a minimum of "
                    f"{lambdas.min():.3g}. Pass a grid of positive lambda1 values.")
        lambda2s = (np.array([self.lambda2], dtype=np.float64) if self.lambda2s is None
                    else np.asarray(self.lambda2s, dtype=np.float64).ravel())
        if np.any(lambda2s < 0):
            raise ValueError(
                f"The 'lambda2s' values must be >= 0; got a minimum of "
                f"{lambda2s.min():.3g}.")
        n_rows = _numpy(data.X).shape[0]
        if data.task_codes is not None:
            # Stratify on the task so that every fold trains every task.
            cv = check_cv(self.cv, classifier=True)
            if isinstance(self.cv, Integral):
                cv = StratifiedKFold(n_splits=self.cv)
            splits = list(cv.split(np.zeros(n_rows), data.task_codes))
        else:
            cv = KFold(n_splits=self.cv) if isinstance(self.cv, Integral) else check_cv(self.cv)
            splits = list(cv.split(np.zeros(n_rows)))
        all_scores = Parallel(n_jobs=self.n_jobs)(
            delayed(_fold_scores)(self, data, np.asarray(targets), train, test,
                                  lambdas, lambda2s)
            for train, test in splits)
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
        return self._fit_datafit(datafit, self.lambda1_, self.lambda2_)


_CV_PARAMS_DOC = """
    lambdas : array-like or None, default=None
        ``lambda1`` grid; None uses ``n_lambdas`` values from ``lambda1_max``
        down to ``eps * lambda1_max``.
    n_lambdas : int, default=20
    eps : float, default=1e-3
    lambda2s : array-like or None, default=None
        ``lambda2`` grid searched jointly; None keeps ``lambda2``.
    cv : int or cross-validation splitter, default=5
        Integer: ``StratifiedKFold`` on the task labels (heterogeneous) or
        ``KFold`` over rows (shared inputs).
    n_jobs : int, default=None
        Folds run in parallel with joblib.
"""

_CV_ATTRS_DOC = """
    lambda1_, lambda2_ : float
        Selected values.
    lambdas_ : ndarray
        The ``lambda1`` grid used.
    cv_results_ : dict
        ``lambda1``, ``lambda2``, ``mean_test_score``, ``std_test_score`` and
        ``split{k}_test_score`` per grid point (score as in ``score``).
    best_score_ : float
"""

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
             stopping, cv, n_jobs, task_column):
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
    self.cv = cv
    self.n_jobs = n_jobs
    self.task_column = task_column


class LinearMultiTaskRegressorCV(_CVMixin, LinearMultiTaskRegressor):
    __doc__ = """:class:`LinearMultiTaskRegressor` with ``lambda1`` (and
    ``lambda2``) chosen by task-stratified K-fold cross-validation (R^2).

    Each fold fits a warm-started path over the ``lambda1`` grid; folds run in
    parallel; the selected values are refitted on all data.

    Parameters
    ----------
    penalty : str, default="l21"
        As in :class:`LinearMultiTaskRegressor`; so are ``lambda2``,
        ``lambda3``, ``n_clusters``, ``graph``, ``fit_intercept``,
        ``task_weighting``, ``max_iter``, ``tol``, ``stopping`` and
        ``task_column``.""" + _CV_PARAMS_DOC + """
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
                 tol=1e-6, stopping="relative_objective", cv=5, n_jobs=None,
                 task_column=None):
        _cv_init(**{k: v for k, v in locals().items() if k != "__class__"})


class LinearMultiTaskClassifierCV(_CVMixin, LinearMultiTaskClassifier):
    __doc__ = """:class:`LinearMultiTaskClassifier` with ``lambda1`` (and
    ``lambda2``) chosen by task-stratified K-fold cross-validation (accuracy).

    Parameters
    ----------
    penalty : str, default="l21"
        As in :class:`LinearMultiTaskClassifier`; so are the other shared
        hyperparameters.""" + _CV_PARAMS_DOC + """
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
                 tol=1e-6, stopping="relative_objective", cv=5, n_jobs=None,
                 task_column=None):
        _cv_init(**{k: v for k, v in locals().items() if k != "__class__"})
