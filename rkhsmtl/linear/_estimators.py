"""Linear multi-task estimators (MALSAR / RMTL formulations).

The estimators are thin shells: validation (:mod:`rkhsmtl._validation`) ->
data-fitting term (:mod:`._losses`) x penalty (:mod:`.penalties`) -> a solver
chosen by :func:`._path.choose_solver` (FISTA :mod:`._fista`, coordinate
descent :mod:`._bcd`, ADMM :mod:`._admm`, proximal Newton
:mod:`._prox_newton`).  numpy only: arrays of other libraries are moved to numpy.
The shared core is :class:`._base._LinearMultiTaskBase`; the cross-validated
versions are in :mod:`._cv`.
"""
import warnings

import numpy as np
from scipy.special import expit
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from .._backend import to_numpy
from .._scoring import r2_multitask
from ._base import _ATTRS_DOC, _OBJECTIVE_DOC, _PARAMS_DOC, _LinearMultiTaskBase


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

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predict targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        task : array-like of shape (n_samples,), default=None
            Task of each row; None predicts every task.
        unknown_task : {"raise", "mean"}, default="raise"
            A task label not seen in training: an error, or the average task
            function ``x^T mean_t(w_t) + mean_t(b_t)``.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_tasks)
        """
        return self._decision(X, task, unknown_task)

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """R^2: pooled over rows with ``task``; else averaged uniformly over
        the columns of ``Y``, skipping NaN (missing) entries."""
        return r2_multitask(y, self.predict(X, task, unknown_task=unknown_task),
                            sample_weight)

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
        # NaN marks a missing label in a 2-D float Y (shared layout; the
        # validation allows it nowhere else): the datafit gives those entries
        # zero weight, as it does for missing regression targets.
        missing = (np.isnan(y) if data.task_codes is None and y.dtype.kind == "f"
                   else np.zeros(y.shape, dtype=bool))
        check_classification_targets(y[~missing])
        classes = np.unique(y[~missing])
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
                if len(np.unique(y[~missing[:, t], t])) != 2:
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
        return np.where(missing, np.nan, np.where(y == classes[1], 1.0, -1.0))

    def decision_function(self, X, task=None, *, unknown_task="raise"):
        """Linear scores ``x^T w_t + b_t`` (positive favours ``classes_[1]``).

        Returns (n_samples, n_tasks) without ``task`` (or (n_samples,) when
        fitted from a 1-D ``y`` without task), (n_samples,) with ``task``.
        ``unknown_task="mean"`` scores a task label not seen in training by
        the average of the task scores; ``"raise"`` makes it an error.
        """
        return self._decision(X, task, unknown_task)

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predicted labels, shaped like :meth:`decision_function`."""
        scores = self.decision_function(X, task, unknown_task=unknown_task)
        return self.classes_[(scores > 0).astype(int)]

    def predict_proba(self, X, task=None, *, unknown_task="raise"):
        """Class probabilities: (n_samples, 2), or (n_samples, n_tasks, 2)
        when predicting every task of a multi-task fit."""
        p = expit(self.decision_function(X, task, unknown_task=unknown_task))
        return np.stack([1.0 - p, p], axis=-1)

    def predict_log_proba(self, X, task=None, *, unknown_task="raise"):
        """Log of :meth:`predict_proba`."""
        return np.log(self.predict_proba(X, task, unknown_task=unknown_task))

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """Accuracy over the observed entries (NaN in a 2-D float ``Y`` marks
        a missing label and is left out)."""
        pred = self.predict(X, task, unknown_task=unknown_task)
        y = np.asarray(to_numpy(y))
        if y.size != pred.size:
            raise ValueError(
                f"y has {y.size} entries but the model predicts {pred.size} "
                f"(shape {pred.shape}); pass y of shape {pred.shape}"
                + ("" if task is not None or pred.ndim == 1 else
                   ", or pass task= for a 1-D y") + ".")
        y = y.reshape(pred.shape)
        observed = (~np.isnan(y) if y.dtype.kind == "f"
                    else np.ones(y.shape, dtype=bool))
        if observed.ndim == 1 and not observed.all():
            raise ValueError(
                "y contains NaN. A NaN label marks a missing entry only in a 2-D "
                "Y of shape (n_samples, n_tasks); drop the rows with a missing "
                "label from a 1-D y.")
        correct = (pred == y).astype(float)
        sw = (np.ones(correct.shape[0]) if sample_weight is None
              else np.asarray(sample_weight, dtype=np.float64))
        sw = sw if correct.ndim == 1 else sw[:, None] * np.ones_like(correct)
        sw = np.where(observed, sw, 0.0)
        if not np.any(sw > 0):
            raise ValueError(
                "y has no observed label with positive weight to score; every "
                "entry is NaN (missing) or has zero sample weight.")
        return float(np.average(correct, weights=sw))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
