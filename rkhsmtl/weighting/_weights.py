r"""Resampling weights that match the pooled sample to each task's distribution.

For a pool of N examples from T tasks (task t holds :math:`n_t` of them,
:math:`\pi_t = n_t / N`), Bayes' rule turns a task-membership classifier into
density ratios (Bickel, Bogojeska, Lengauer and Scheffer, ICML 2008):

.. math::

    r_t(x, y) = \frac{p(x, y \mid t)}{p(x, y)} = \frac{p(t \mid x, y)}{\pi_t},
    \qquad
    \mathbb E_{(x, y) \sim t}\,[\ell] = \mathbb E_{\text{pool}}\,[r_t\,\ell].

The membership probabilities come from a multinomial logistic regression
trained on the pool and evaluated out of fold (cross-fitting), so that no
example scores itself.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples

from .._backend import to_numpy
from .._validation import encode_tasks, validate_fit_data

# Calibrated ratios average about 1 over the pool; a task whose clipped
# ratios average below this has lost its weight ("collapsed").
_COLLAPSE_MEAN = 1e-6


def _label(t):
    return t.item() if hasattr(t, "item") else t


def effective_sample_size(weights):
    """Kish effective sample size :math:`(\\sum_i w_i)^2 / \\sum_i w_i^2` per column.

    Parameters
    ----------
    weights : array-like of shape (n_samples, n_tasks)

    Returns
    -------
    ess : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import effective_sample_size
    >>> W = np.array([[1.0, 2.0], [1.0, 0.0], [1.0, 0.0]])
    >>> effective_sample_size(W).tolist()
    [3.0, 1.0]
    """
    W = np.asarray(weights, dtype=np.float64)
    sq = np.sum(W * W, axis=0)
    return np.where(sq > 0, np.sum(W, axis=0) ** 2 / np.where(sq > 0, sq, 1.0), 0.0)


def borrowing_matrix(weights, codes, n_tasks):
    """Share of task t's total weight that sits on task s's examples.

    Parameters
    ----------
    weights : array-like of shape (n_samples, n_tasks)
    codes : array-like of int of shape (n_samples,)
        Task index of every row.
    n_tasks : int

    Returns
    -------
    borrowing : ndarray of shape (n_tasks, n_tasks)
        Rows sum to one; ``borrowing[t, t]`` is the share task t keeps on its
        own examples.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import borrowing_matrix
    >>> W = np.array([[1.0, 1.0], [3.0, 0.0], [0.0, 1.0]])
    >>> borrowing_matrix(W, codes=[0, 0, 1], n_tasks=2).tolist()
    [[1.0, 0.0], [0.5, 0.5]]
    """
    W = np.asarray(weights, dtype=np.float64)
    onehot = np.eye(n_tasks)[np.asarray(codes)]
    per_source = W.T @ onehot                       # (target t, source s)
    total = per_source.sum(axis=1, keepdims=True)
    return per_source / np.where(total > 0, total, 1.0)


def check_task_similarity(S, tasks):
    """Validate a (T, T) non-negative task-similarity matrix; return it row-normalized."""
    T = len(tasks)
    try:
        S = np.array(S, dtype=np.float64)          # a copy: the input stays untouched
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The 'task_similarity' parameter must be a numeric array of shape "
            f"(n_tasks, n_tasks) = ({T}, {T}); got {type(S).__name__}.") from exc
    if S.shape != (T, T):
        extra = ""
        if S.ndim == 2 and S.shape[0] == S.shape[1] and S.shape[0] > T:
            extra = (" A larger matrix means some tasks have no examples: every "
                     "task needs rows in the pool to get weights, so drop the rows "
                     "and columns of the absent tasks.")
        raise ValueError(
            f"The 'task_similarity' parameter must have shape (n_tasks, n_tasks) = "
            f"({T}, {T}), one row and column per task in the order of tasks_ "
            f"{[str(_label(t)) for t in tasks][:20]}; got shape {S.shape}.{extra}")
    if not np.all(np.isfinite(S)) or np.any(S < 0):
        raise ValueError(
            "The 'task_similarity' parameter must be finite and non-negative; got "
            f"minimum {np.nanmin(S):.3g}. Use similarities in [0, 1] (1 on the "
            "diagonal), not distances or correlations.")
    rows = S.sum(axis=1)
    empty = np.flatnonzero(rows <= 0)
    if empty.size:
        raise ValueError(
            f"Row {empty[0]} (task {_label(tasks[empty[0]])!r}) of 'task_similarity' "
            "sums to zero; give every task a positive self-similarity (diagonal).")
    return S / rows[:, None]


class DistributionMatchingWeights(BaseEstimator):
    r"""Per-task resampling weights of every pooled example (distribution matching).

    For each pooled example i and task t the weight is the density ratio

    .. math::

        r_t(i) = \frac{\hat p(t \mid \psi_i)}{\pi_t}, \qquad
        \hat p(t \mid \psi) = \operatorname{softmax}_t(v_t^\top \psi + c_t),

    where the softmax weights minimize the multinomial logistic loss of
    predicting the task of each pooled example, plus
    :math:`\frac{1}{2C} \sum_t \|v_t\|^2` (:class:`sklearn.linear_model.LogisticRegression`),
    and :math:`\pi_t` is the (sample-weighted) share of task t in the pool.
    Weighting the pool by :math:`r_t` makes it distributed like task t, so
    a learner trained on the whole weighted pool targets task t's risk.

    Parameters
    ----------
    condition_on : {"x", "xy"}, default="x"
        ``"x"``: :math:`\psi = \phi(x)` (covariate shift: task inputs differ, the
        conditional :math:`p(y \mid x)` is shared).  ``"xy"``: match the joint
        distribution with :math:`\psi = [\phi(x),\ \tilde y,\ \tilde y\,\phi(x)]`,
        :math:`\tilde y` being y standardized over the pool.  For binary labels
        encoded as +-1 these features span :math:`\phi(x) \otimes
        \mathrm{onehot}(y)`; for a real y they let the membership odds depend
        on y and tilt linearly in y at every x.
    C : float, default=1.0
        Inverse regularization strength of the membership model (larger C,
        sharper and noisier weights).
    features : {"linear", "rbf"}, default="linear"
        :math:`\phi`: the standardized inputs, or ``n_components`` Nystroem RBF
        features of them (:class:`sklearn.kernel_approximation.Nystroem`),
        which lets the membership model separate non-linearly.  Linear
        logits are exact for Gaussian tasks that differ by their means and
        have the lowest variance; they are too smooth to cut the pool sharply
        between separated tasks (several percent of a task's weight then leaks
        onto its neighbours), where ``"rbf"`` (or a larger C) does better.
    n_components : int, default=100
        Number of Nystroem features (``features="rbf"``; capped at the pool size).
    feature_gamma : float, default=None
        RBF width of the Nystroem features on the standardized inputs; None
        means ``1 / n_features``.
    task_similarity : array-like of shape (n_tasks, n_tasks), default=None
        Non-negative prior similarities between tasks (rows and columns in the
        order of ``tasks_``).  With :math:`R` the row-normalized similarity,
        task t's weights become :math:`\tilde r_t = \sum_s R_{ts}\, r_s`: the
        target distribution of task t is the mixture
        :math:`\sum_s R_{ts}\, p(x, y \mid s)` of the tasks it is declared
        similar to.  The identity leaves the weights unchanged; all ones
        targets the equal mixture of all tasks.
    tasks : array-like, default=None
        Task labels, in the order of the weight columns.  Every listed label
        must occur in the data and every label of the data must be listed.
        None means the sorted unique labels.
    cv : int or None, default=5
        Cross-fitting folds (task-stratified): each example's membership
        probabilities come from a model not trained on it.  Capped at the size
        of the smallest task.  None fits and evaluates one model on the whole
        pool (in-sample, sharper, more overfit weights).
    clip_quantile : float in (0, 1] or None, default=0.99
        Cap task t's ratios at this quantile of the ratios of task t's own
        examples (variance control against a few huge weights).
    max_weight : float or None, default=None
        Absolute cap on the ratios, applied after ``clip_quantile``; the ratios
        average about 1 over the pool, so ``max_weight=10`` lets an example
        count at most ten times its share.
    normalize : {"pool", "task"} or None, default="pool"
        Rescale each task's weights after clipping so that they sum to the
        pool size N (``"pool"``), to the task size :math:`n_t` (``"task"``),
        or leave them raw (None).
    max_iter : int, default=1000
        Iteration cap of the logistic regression.
    random_state : int, RandomState instance or None, default=None
        Fold shuffling and Nystroem sampling.

    Attributes
    ----------
    weights_ : ndarray of shape (n_samples, n_tasks)
        :math:`r_t(i)`, rows in the input order, columns in the order of ``tasks_``.
    tasks_ : ndarray of shape (n_tasks,)
    task_codes_ : ndarray of shape (n_samples,)
        Column index of each row's own task.
    priors_ : ndarray of shape (n_tasks,)
        :math:`\pi_t`.
    membership_proba_ : ndarray of shape (n_samples, n_tasks)
        Out-of-fold :math:`\hat p(t \mid \psi_i)`.
    effective_sample_size_ : ndarray of shape (n_tasks,)
        :math:`(\sum_i w_{it})^2 / \sum_i w_{it}^2`.
    borrowing_ : ndarray of shape (n_tasks, n_tasks)
        ``borrowing_[t, s]``: share of task t's total weight on task s's examples.
    n_splits_ : int
        Folds actually used (1 for ``cv=None``).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import DistributionMatchingWeights
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.randn(50, 1) - 3, rng.randn(50, 1) + 3]
    >>> task = np.repeat(["a", "b"], 50)
    >>> dm = DistributionMatchingWeights(C=10.0, random_state=0).fit(X, task=task)
    >>> dm.weights_.shape
    (100, 2)
    >>> bool(dm.borrowing_[0, 1] < 0.05)
    True
    """

    _parameter_constraints = {
        "condition_on": [StrOptions({"x", "xy"})],
        "C": [Interval(Real, 0, None, closed="neither")],
        "features": [StrOptions({"linear", "rbf"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "feature_gamma": [Interval(Real, 0, None, closed="neither"), None],
        "task_similarity": ["array-like", None],
        "tasks": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left"), None],
        "clip_quantile": [Interval(Real, 0, 1, closed="right"), None],
        "max_weight": [Interval(Real, 0, None, closed="neither"), None],
        "normalize": [StrOptions({"pool", "task"}), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(self, *, condition_on="x", C=1.0, features="linear", n_components=100,
                 feature_gamma=None, task_similarity=None, tasks=None, cv=5,
                 clip_quantile=0.99, max_weight=None, normalize="pool", max_iter=1000,
                 random_state=None):
        self.condition_on = condition_on
        self.C = C
        self.features = features
        self.n_components = n_components
        self.feature_gamma = feature_gamma
        self.task_similarity = task_similarity
        self.tasks = tasks
        self.cv = cv
        self.clip_quantile = clip_quantile
        self.max_weight = max_weight
        self.normalize = normalize
        self.max_iter = max_iter
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, task=None, sample_weight=None):
        """Estimate the weights of every pooled example for every task.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Pooled inputs.
        y : array-like of shape (n_samples,), default=None
            Targets or labels; needed only for ``condition_on="xy"``.
        task : array-like of shape (n_samples,)
            Task label of every row.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the membership model and in :math:`\\pi_t`.

        Returns
        -------
        self : object
        """
        if task is None:
            raise ValueError(
                "DistributionMatchingWeights.fit needs task labels: pass task= with "
                "one label per row of X.")
        if self.condition_on == "xy" and y is None:
            raise ValueError(
                "condition_on='xy' matches the joint distribution of (x, y) and "
                "needs y; pass y, or use condition_on='x'.")
        # The estimators' own gate: the same errors for a y of the wrong length,
        # negative sample weights or a task with one example.  Without y (only
        # X is matched) a placeholder target stands in for it.
        n_rows = _num_samples(X)
        data = validate_fit_data(self, X, np.zeros(n_rows) if y is None else y, task,
                                 sample_weight, device="cpu")
        X = np.asarray(to_numpy(data.X), dtype=np.float64)
        y = None if y is None else np.asarray(to_numpy(data.targets), dtype=np.float64)
        sw = None if data.sample_weight is None else to_numpy(data.sample_weight)
        self._fit_arrays(X, y, data.tasks[data.task_codes], sw)
        return self

    # ------------------------------------------------------------ internals
    def _encode(self, labels, n_rows):
        """Task labels -> (tasks, codes), honouring the ``tasks`` parameter."""
        found, codes = encode_tasks(labels, n_rows)
        if self.tasks is None:
            return found, codes
        listed = np.asarray(self.tasks)
        if listed.ndim != 1 or len(set(map(_label, listed))) != listed.shape[0]:
            raise ValueError(
                "The 'tasks' parameter must be a 1-D list of distinct task labels; "
                f"got {listed.tolist()[:20]}.")
        present = set(map(_label, found))
        absent = [_label(t) for t in listed if _label(t) not in present]
        if absent:
            raise ValueError(
                f"Task(s) {absent[:10]} listed in 'tasks' have no examples in the "
                "data: a task needs rows in the pool to define its distribution. "
                "Remove them from 'tasks' or add their rows.")
        return listed, encode_tasks(labels, n_rows, known=listed, name="task")

    def _features(self, X, y, sw, rng):
        # Dividing by each column's largest magnitude first changes nothing
        # after standardization but keeps the variance from overflowing for
        # finite inputs at a huge scale (which would otherwise reach the
        # membership model as NaN and be blamed on X).
        peak = np.max(np.abs(X), axis=0) if X.shape[0] else np.ones(X.shape[1])
        Z = StandardScaler().fit_transform(X / np.where(peak > 0, peak, 1.0),
                                           sample_weight=sw)
        if self.features == "rbf":
            gamma = self.feature_gamma if self.feature_gamma is not None else 1.0 / X.shape[1]
            Z = Nystroem(gamma=gamma, n_components=min(self.n_components, X.shape[0]),
                         random_state=rng).fit_transform(Z)
        if self.condition_on == "xy":
            ys = y - np.average(y, weights=sw)
            scale = np.sqrt(np.average(ys * ys, weights=sw))
            ys = ys / scale if scale > 0 else ys
            Z = np.hstack([Z, ys[:, None], ys[:, None] * Z])
        return Z

    def _membership_proba(self, Z, codes, n_tasks, sw, rng):
        def model():
            return LogisticRegression(C=self.C, max_iter=self.max_iter)

        def fit_predict(train, test):
            m = model().fit(Z[train], codes[train],
                            sample_weight=None if sw is None else sw[train])
            out = np.zeros((test.shape[0], n_tasks))
            out[:, m.classes_] = m.predict_proba(Z[test])
            return out

        n = Z.shape[0]
        if self.cv is None:
            self.n_splits_ = 1
            return fit_predict(np.arange(n), np.arange(n))
        self.n_splits_ = int(min(self.cv, np.bincount(codes).min()))
        folds = StratifiedKFold(self.n_splits_, shuffle=True,
                                random_state=rng.randint(np.iinfo(np.int32).max))
        P = np.empty((n, n_tasks))
        for train, test in folds.split(Z, codes):
            P[test] = fit_predict(train, test)
        return P

    def _fit_arrays(self, X, y, labels, sw):
        """Fit on numpy arrays; ``labels`` raw task labels. Sets the fitted state."""
        n = X.shape[0]
        tasks, codes = self._encode(labels, n)
        T = len(tasks)
        self.tasks_, self.task_codes_ = tasks, codes
        w_rows = np.ones(n) if sw is None else sw
        mass = np.bincount(codes, weights=w_rows, minlength=T)
        self.priors_ = mass / mass.sum()
        similarity = (None if self.task_similarity is None
                      else check_task_similarity(self.task_similarity, tasks))
        if T == 1:
            P = np.ones((n, 1))
            self.n_splits_ = 0
        else:
            rng = check_random_state(self.random_state)
            Z = self._features(X, y, sw, rng)
            P = self._membership_proba(Z, codes, T, sw, rng)
        self.membership_proba_ = P
        R = P / self.priors_[None, :]
        if similarity is not None:
            R = R @ similarity.T
        R = self._clip(R, codes, tasks, w_rows)
        self.weights_ = self._normalize(R, codes, T)
        self.effective_sample_size_ = effective_sample_size(self.weights_)
        self.borrowing_ = borrowing_matrix(self.weights_, codes, T)
        self._warn_concentrated(tasks, np.bincount(codes, minlength=T))
        return self

    def _clip(self, R, codes, tasks, w_rows):
        R = R.copy()
        if self.clip_quantile is not None:
            for t in range(R.shape[1]):
                cap = np.quantile(R[codes == t, t], self.clip_quantile)
                np.minimum(R[:, t], cap, out=R[:, t])
        if self.max_weight is not None:
            np.minimum(R, self.max_weight, out=R)
        mean = (w_rows @ R) / w_rows.sum()
        for t in np.flatnonzero(~(mean > _COLLAPSE_MEAN)):
            raise ValueError(
                f"The weights of task {_label(tasks[t])!r} collapse to zero (pool "
                f"average {mean[t]:.3g}, expected about 1): clipping removed its "
                f"mass (clip_quantile={self.clip_quantile}, max_weight="
                f"{self.max_weight}) or the membership model gives its examples no "
                "probability. Raise or unset max_weight / clip_quantile, or change "
                "the membership model (raise C, features='rbf').")
        return R

    def _normalize(self, R, codes, T):
        if self.normalize is None:
            return R
        totals = R.sum(axis=0)
        target = (np.full(T, R.shape[0], dtype=np.float64) if self.normalize == "pool"
                  else np.bincount(codes, minlength=T).astype(np.float64))
        return R * (target / totals)[None, :]

    def _warn_concentrated(self, tasks, counts):
        # The reweighted pool should be worth at least about the task's own
        # data; far below that, the task is better off learned alone.
        for t in np.flatnonzero(self.effective_sample_size_ < 0.5 * counts):
            warnings.warn(
                f"The weights of task {_label(tasks[t])!r} concentrate on few "
                f"examples: effective sample size {self.effective_sample_size_[t]:.2f}, "
                f"less than half of its own {counts[t]} examples. Regularize the membership model more (lower C), clip "
                "harder (lower clip_quantile or set max_weight), or use cv to "
                "cross-fit the probabilities.", UserWarning, stacklevel=3)
