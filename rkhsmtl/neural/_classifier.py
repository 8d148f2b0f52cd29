"""Multi-task binary classification network (logistic-loss heads)."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import type_of_target

from .._backend import to_numpy
from .._validation import task_label
from ._base import _OBJECTIVE, _PARAMETERS, _BaseHardSharingNet
from ._optim import long_to_wide


class HardSharingNetClassifier(ClassifierMixin, _BaseHardSharingNet):
    __doc__ = r"""Multi-task binary classifier with a shared trunk and per-task heads.

    Every task is a binary problem over the same two labels ``classes_``; the
    heads minimise the logistic loss
    :math:`\ell(z, y) = \log(1 + e^{z}) - y z`, :math:`y \in \{0, 1\}`:
""" + _OBJECTIVE + _PARAMETERS + """
    classes_ : ndarray of shape (2,)
        The two labels; ``classes_[1]`` is the positive class.

    See Also
    --------
    HardSharingNetRegressor : The same network with squared-loss heads.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.neural import HardSharingNetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 3))
    >>> task = np.repeat(["a", "b"], 60)
    >>> y = np.where(X[:, 0] + (task == "b") * 0.3 > 0, "yes", "no")
    >>> clf = HardSharingNetClassifier(max_epochs=30, random_state=0)
    >>> clf.fit(X, y, task=task).predict_proba(X[:2], task=["a", "b"]).shape
    (2, 2)
    >>> clf.classes_
    array(['no', 'yes'], dtype='<U3')
    """

    _kind = "classification"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, task=None, sample_weight=None):
        """Fit on ``(X, Y)`` with shared inputs or ``(X, y, task)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Labels, two distinct values in all, each task holding both.
        task : array-like of shape (n_samples,) or str, default=None
            Task label of each row, or the DataFrame column holding it.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : HardSharingNetClassifier
        """
        return self._fit(X, y, task, sample_weight, y_numeric=False)

    def _encode_targets(self, data):
        raw = np.asarray(data.targets)
        kind = type_of_target(raw.ravel(), input_name="y")
        if kind.startswith("continuous"):
            raise ValueError(
                f"Unknown label type: {kind}. {type(self).__name__} needs two class "
                "labels per task; for real-valued targets use HardSharingNetRegressor."
            )
        classes = np.unique(raw)
        if len(classes) != 2:
            # sklearn's wording for binary-only classifiers, then the specifics
            raise ValueError(
                "Only binary classification is supported. The type of the target "
                f"is {kind}. {type(self).__name__} needs exactly 2 classes in y "
                f"(shared by all tasks); got {len(classes)} class(es) "
                f"{classes[:10].tolist()}."
            )
        columns = (raw.T if data.layout == "shared"
                   else [raw[data.task_codes == t] for t in range(data.n_tasks)])
        for t, labels in enumerate(columns):
            present = np.unique(labels)
            if len(present) != 2:
                raise ValueError(
                    f"Task {task_label(data.tasks[t])!r} has the label set {present.tolist()}: "
                    f"every task needs both classes {classes.tolist()} (one class only "
                    "cannot train a binary head)."
                )
        self.classes_ = classes
        positive = (raw == classes[1]).astype(np.float64)
        if data.layout == "shared":
            return positive
        return long_to_wide(positive, data.task_codes, data.n_tasks)

    def decision_function(self, X, task=None, *, unknown_task="raise"):
        """Logits of the positive class, (n_samples, n_tasks) or (n_samples,).

        ``unknown_task="mean"`` gives a task label not seen in training the
        average of the task heads' logits; ``"raise"`` makes it an error.
        """
        return self._to_caller(*self._decision(X, task, unknown_task))

    def predict_proba(self, X, task=None, *, unknown_task="raise"):
        """Class probabilities.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2) or (n_samples, n_tasks)
            ``[P(classes_[0]), P(classes_[1])]`` for a 1-D fit or with ``task``;
            otherwise the probability of ``classes_[1]`` for every task.
        """
        Z = to_numpy(self._decision(X, task, unknown_task)[0])
        e = np.exp(-np.abs(Z))
        p = np.where(Z >= 0, 1 / (1 + e), e / (1 + e))
        return np.stack([1 - p, p], axis=1) if p.ndim == 1 else p

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Labels, shape (n_samples, n_tasks), or (n_samples,) with ``task``."""
        Z = to_numpy(self._decision(X, task, unknown_task)[0])
        return self.classes_[(Z > 0).astype(np.intp)]

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """Accuracy; for a 2-D ``Y`` the uniform average of per-task accuracies."""
        pred = self.predict(X, task, unknown_task=unknown_task)
        y = np.asarray(y)
        if y.ndim == 1 or pred.ndim == 1:
            return accuracy_score(y.reshape(pred.shape), pred, sample_weight=sample_weight)
        return float(np.mean([accuracy_score(y[:, t], pred[:, t], sample_weight=sample_weight)
                              for t in range(y.shape[1])]))
