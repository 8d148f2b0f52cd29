"""Shared core of the linear multi-task estimators.

Hyperparameter storage and validation, data preparation (validation ->
:class:`~._losses.MultiTaskDatafit`), penalty construction, the single FISTA fit
and the linear decision function.  The public estimators are in
:mod:`._estimators` (fixed ``lambda1``) and :mod:`._cv` (cross-validated).
"""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import to_numpy
from .._validation import (pick_task_scores, validate_fit_data,
                           validate_predict_tasks)
from ._fista import STOPPING_RULES
from ._losses import MultiTaskDatafit
from ._path import SOLVERS, fit_penalized
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
        Maximum number of iterations (FISTA steps, coordinate-descent
        epochs, ADMM iterations or Newton steps).
    tol : float, default=1e-6
        Tolerance of the stopping rule: with the duality gap, the fit stops
        once ``dual_gap_ <= tol * objective``.
    stopping : {"auto", "dual_gap", "relative_objective", "absolute_objective", \
"max_iter"}, default="auto"
        ``"dual_gap"``: the certified duality gap relative to the objective
        (squared and logistic loss with ``"l21"``, ``"lasso"``, ``"trace"``;
        ``"graph"`` without l1 part (``lambda3=0``; with the logistic loss
        only with ``lambda2 > 0``); with ``lambda2=0`` ``"cluster"`` and the
        ``W = P + Q`` penalties).  The other three are MALSAR's rules on the
        change of the objective (FISTA only).  ``"auto"`` takes the gap with
        ``"bcd"``, ``"admm"`` and ``"newton"``, and ``"relative_objective"``
        with FISTA (whose gap, reported as ``dual_gap_`` all the same, shrinks
        only like the square root of its suboptimality).
    solver : {"auto", "fista", "bcd", "admm", "newton"}, default="auto"
        ``"fista"``: accelerated proximal gradient (every model).
        ``"bcd"``: block coordinate descent over feature rows with working
        sets and Anderson extrapolation (squared loss, ``"l21"`` or
        ``"lasso"``).  ``"admm"``: ADMM whose loss step is an exact solve
        per task (squared loss, every penalty with a certificate).
        ``"newton"``: proximal Newton for the logistic loss, each step a
        weighted least-squares model solved by ``"bcd"`` or ``"admm"``.  The
        last three stop on the gap.  ``"auto"``: ``"newton"`` for the
        logistic loss, ``"bcd"`` for ``"l21"``/``"lasso"`` with more than 64
        features, else ``"admm"``; FISTA where no certificate exists.
    warm_start : bool, default=False
        Start from the previous solution when refitting.
    task_column : int or str, default=None
        Column of ``X`` holding the task labels.
    verbose : int, default=0
        When > 0, print the solver's progress: with FISTA the objective and
        its relative change every ``max(1, max_iter // 20)`` iterations, with
        coordinate descent, ADMM and proximal Newton the objective and the
        duality gap at every gap check (every working-set round, 10 ADMM
        iterations, Newton step); each with the elapsed seconds, then a final
        line.
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
    objective_history_ : ndarray of shape (n_iterations + 1,)
        Objective values, non-increasing, starting at the initial point.
    dual_gap_ : float
        Duality gap at the solution: an upper bound of the distance of the
        objective to its minimum (NaN where no certificate exists; see
        ``stopping``).
    solver_ : str
        The solver used (``"fista"``, ``"bcd"``, ``"admm"`` or ``"newton"``).
    n_iter_ : int
    n_features_in_ : int
"""


def _numpy(a):
    return None if a is None else np.asarray(to_numpy(a))


def _check_grid(name, values):
    """A finite, non-empty 1-D grid of floats (NaN or inf would be searched
    silently and give a NaN or meaningless selection)."""
    try:
        grid = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise ValueError(
            f"The {name!r} parameter must be an array of numbers; got "
            f"{values!r}.") from None
    if grid.size == 0:
        raise ValueError(
            f"The {name!r} parameter must hold at least one value; got an empty "
            f"grid. Pass a non-empty list of values, or None for the default.")
    bad = ~np.isfinite(grid)
    if np.any(bad):
        raise ValueError(
            f"The {name!r} parameter must hold finite values; got "
            f"{float(grid[bad][0])!r} among {grid.tolist()[:10]}. Remove the NaN/inf "
            f"entries and pass finite values.")
    return grid


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
        "stopping": [StrOptions(set(STOPPING_RULES) | {"auto"})],
        "solver": [StrOptions(set(SOLVERS))],
        "warm_start": ["boolean"],
        "task_column": [Integral, str, None],
        "verbose": ["verbose"],
    }

    def __init__(self, penalty="l21", lambda1=0.1, lambda2=0.0, lambda3=None,
                 n_clusters=2, graph=None, fit_intercept=True,
                 task_weighting="samples", max_iter=1000, tol=1e-6,
                 stopping="auto", solver="auto", warm_start=False, task_column=None,
                 verbose=0):
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
        self.solver = solver
        self.warm_start = warm_start
        self.task_column = task_column
        self.verbose = verbose

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
                            stopping=self.stopping, solver=self.solver,
                            verbose=int(self.verbose))
        if not fit.converged:
            name = {"bcd": "Coordinate descent", "admm": "ADMM",
                    "newton": "Proximal Newton"}.get(fit.solver, "FISTA")
            warnings.warn(
                f"{name} did not meet the stopping rule ({self.stopping}, "
                f"tol={self.tol}) in max_iter={self.max_iter} iterations. Increase "
                "max_iter, loosen tol, or scale the features.", ConvergenceWarning)
        self.coef_ = fit.coef
        self.intercept_ = fit.intercept
        self.coef_components_ = penalty.components(fit.variable)
        self.objective_history_ = fit.objective_history
        self.n_iter_ = fit.n_iter
        self.dual_gap_ = float(fit.dual_gap)
        self.solver_ = fit.solver
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
    def _decision(self, X, task=None, unknown_task="raise"):
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
        X, codes, _ = validate_predict_tasks(self, X, task, unknown_task,
                                             reference=self.coef_,
                                             task_column=self.task_column)
        X = _numpy(X)
        if codes is None:
            F = X @ self.coef_ + self.intercept_
            return F[:, 0] if self._y_was_1d and len(self.tasks_) == 1 else F
        if np.any(codes >= self.coef_.shape[1]):
            # unknown_task="mean": tasks not seen in training
            return pick_task_scores(np, X @ self.coef_ + self.intercept_, codes)
        return np.einsum("ij,ji->i", X, self.coef_[:, codes]) + self.intercept_[codes]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags
