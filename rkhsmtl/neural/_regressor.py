"""Multi-task regression network (squared-loss heads)."""
import numpy as np
from sklearn.base import RegressorMixin

from .._backend import to_numpy
from .._scoring import r2_multitask
from ._base import _OBJECTIVE, _PARAMETERS, _BaseHardSharingNet
from ._optim import long_to_wide


class HardSharingNetRegressor(RegressorMixin, _BaseHardSharingNet):
    __doc__ = r"""Multi-task regression network with a shared trunk and per-task heads.

    Minimises the squared loss :math:`\ell(z, y) = (z - y)^2 / 2` with Adam, on
    targets standardized per task (each task's observed mean and standard
    deviation, undone at prediction, so the fit does not depend on the unit
    of y):
""" + _OBJECTIVE + _PARAMETERS + """

    See Also
    --------
    HardSharingNetClassifier : The same network with logistic-loss heads.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.neural import HardSharingNetRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(120, 3))
    >>> Y = np.sin(X[:, :1]) + [[0.0, 0.5, -0.5]] + 0.1 * rng.normal(size=(120, 3))
    >>> model = HardSharingNetRegressor(max_epochs=50, random_state=0).fit(X, Y)
    >>> model.predict(X).shape
    (120, 3)
    >>> model.predict(X[:4], task=[0, 1, 2, 2]).shape
    (4,)
    """

    _kind = "regression"

    def fit(self, X, y, task=None, sample_weight=None):
        """Fit on ``(X, Y)`` with shared inputs or ``(X, y, task)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
            Targets; NaN entries of a 2-D ``Y`` are missing and masked out.
        task : array-like of shape (n_samples,) or str, default=None
            Task label of each row (heterogeneous inputs), or the name of the
            DataFrame column holding it.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : HardSharingNetRegressor
        """
        return self._fit(X, y, task, sample_weight, y_numeric=True)

    def _encode_targets(self, data):
        if data.layout == "shared":
            return np.asarray(to_numpy(data.targets), dtype=np.float64)
        return long_to_wide(np.asarray(to_numpy(data.targets), dtype=np.float64),
                             data.task_codes, data.n_tasks)

    def _target_standardization(self, Y, sw):
        """Each task's (weighted) mean and standard deviation over its observed rows.

        The network trains on standardized targets and predictions are mapped
        back, so the fit does not depend on the targets' unit: with the
        default learning rate and ``tol``, targets at scale 1e8 would
        otherwise train to a useless fit and still stop as "converged".
        """
        observed = ~np.isnan(Y)
        T = Y.shape[1]
        offset, scale = np.zeros(T), np.ones(T)
        for t in range(T):
            rows = observed[:, t]
            w = None if sw is None else sw[rows]
            if w is not None and not w.sum() > 0:
                w = None
            values = Y[rows, t]
            offset[t] = np.average(values, weights=w)
            spread = np.sqrt(np.average((values - offset[t]) ** 2, weights=w))
            scale[t] = spread if np.isfinite(spread) and spread > 0 else 1.0
        return offset, scale

    def predict(self, X, task=None, *, unknown_task="raise"):
        """Predictions of shape (n_samples, n_tasks), or (n_samples,) with ``task``.

        A model fitted on a 1-D ``y`` without ``task`` returns (n_samples,).
        ``unknown_task="mean"`` predicts a task label not seen in training by
        the average of the task heads, ``(1/T) sum_t f_t(x)``; ``"raise"``
        makes it an error.
        """
        return self._to_caller(*self._decision(X, task, unknown_task))

    def score(self, X, y, task=None, sample_weight=None, *, unknown_task="raise"):
        """R²; for a 2-D ``Y`` the uniform average over tasks, NaN ignored."""
        return r2_multitask(y, self.predict(X, task, unknown_task=unknown_task),
                            sample_weight)
