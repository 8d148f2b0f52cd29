"""Shared machinery of the hard-parameter-sharing estimators.

Parameter validation, target encoding hooks, the fit driver (one shared
network, or one network per task with ``single_task``), fitted-state storage
and the forward pass used by every prediction method.  The training loop
itself is in :mod:`._optim`; the two public estimators are in
:mod:`._regressor` and :mod:`._classifier`.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .._backend import asarray_on, get_namespace, is_numpy, to_numpy
from .._validation import pick_task_scores, validate_fit_data, validate_predict_tasks
from ._balancing import LOSS_WEIGHTINGS, make_balancer
from ._network import NetworkSpec, forward, init_params
from ._optim import fit_network, join_histories

_OBJECTIVE = r"""
    .. math::

        \min_{\theta}\; \sum_{t=1}^{T} w_t\, \frac{1}{|O_t|}
        \sum_{i \in O_t} \ell\big(z_t(x_i; \theta), y_{it}\big)
        + \frac{\lambda}{2} \sum_{W \in \theta} \|W\|_F^2,

    where :math:`z_t = v_t^\top g_t(h(x)) + c_t` reads the shared trunk
    :math:`h` through the head of task :math:`t`, :math:`O_t` are the observed
    training entries of task :math:`t` in the mini-batch, :math:`\lambda` is
    ``weight_decay`` (weight matrices only, not biases) and the weights
    :math:`w_t` depend on ``loss_weighting`` (all 1 for ``"equal"``).
"""

_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(64, 64)
        Units of each shared trunk layer.
    activation : {"relu", "tanh"}, default="relu"
        Activation of every hidden layer (trunk and heads).
    dropout : float in [0, 1), default=0.0
        Dropout probability of the trunk units during training.
    weight_decay : float, default=1e-4
        L2 penalty :math:`\\lambda` on the weight matrices.
    head_hidden_size : int or None, default=None
        Units of one hidden layer in each task head; None for linear heads.
    task_column : int, str or None, default=None
        Column of ``X`` holding the task label of each row.
    device : {None, "cpu", "cuda"}, default=None
        Backend; None follows the input arrays.
    learning_rate : float, default=1e-3
        Adam step size (also for learned task weights).
    batch_size : int, default=64
        Rows per mini-batch.
    max_epochs : int, default=200
        Maximum number of passes over the training rows.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of each task's rows and stop when the
        mean per-task validation loss stops improving; the best parameters
        are kept.
    validation_fraction : float in (0, 1), default=0.1
        Share of each task's rows held out for early stopping.
    n_iter_no_change : int, default=10
        Epochs without an improvement of at least ``tol`` before stopping.
    tol : float, default=1e-4
        Minimum improvement of the monitored loss.
    task_balanced_batches : bool, default=True
        Each mini-batch draws rows from every task in equal proportion.
    loss_weighting : {"equal", "uncertainty", "gradnorm", "pcgrad"}, \
default="equal"
        How task losses are combined (see :mod:`rkhsmtl.neural._balancing`).
    gradnorm_alpha : float, default=1.5
        Restoring-force exponent of GradNorm.
    single_task : bool, default=False
        Train the same architecture separately for each task (no sharing), as
        a baseline to measure the multi-task gain.
    dtype : {"float32", "float64"}, default="float32"
        Precision of training; predictions are computed in float64.
    warm_start : bool, default=False
        Start from the previous solution when refitting on the same tasks.
    random_state : int, RandomState instance or None, default=None
        Seeds initialization, validation split, batches and dropout.
    verbose : int, default=0
        Print the monitored loss every epoch.

    Attributes
    ----------
    tasks_ : ndarray of shape (n_tasks,)
        Task labels (column indices for a 2-D ``Y``).
    n_tasks_ : int
    coefs_ : list of arrays
        ``[W_1, b_1, ..., W_L, b_L, <head arrays>]``; with ``single_task`` a
        list of such lists, one per task.
    loss_history_ : ndarray of shape (n_epochs, n_tasks)
        Per-task training loss of each epoch (NaN after a single-task network
        stopped); for the regressor, on the standardized targets.
    validation_history_ : ndarray of shape (n_epochs, n_tasks) or None
        Per-task validation loss of each epoch (early stopping only), in the
        same units as ``loss_history_``.
    task_weights_history_ : ndarray of shape (n_epochs, n_tasks) or None
        Task weights at the end of each epoch, for learned weightings
        (``exp(-s_t)`` for ``"uncertainty"``, ``w_t`` for ``"gradnorm"``).
    task_weights_ : ndarray of shape (n_tasks,) or None
        Final learned task weights.
    log_variances_ : ndarray of shape (n_tasks,) or None
        Learned :math:`s_t = \\log \\sigma_t^2` (``"uncertainty"`` only).
    n_iter_ : int
        Epochs run.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features,)
        Defined when ``X`` has string column names."""


# Adam's default step and the weight initialization assume inputs of unit
# scale; far above it the first layer saturates or explodes.
_FEATURE_SCALE_LIMIT = 1e3


def _warn_unscaled_features(xp, X):
    if X.shape[0] < 2:
        return
    spread = float(xp.max(xp.std(X, axis=0)))
    if spread > _FEATURE_SCALE_LIMIT:
        warnings.warn(
            f"Features of X have standard deviations up to {spread:.3g}; the "
            "network trains well only on inputs of unit scale. Standardize X, "
            "e.g. make_pipeline(StandardScaler(), HardSharingNet...(...)).",
            UserWarning, stacklevel=4)


class _BaseHardSharingNet(BaseEstimator):
    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "head_hidden_size": [None, Interval(Integral, 1, None, closed="left")],
        "task_column": [None, Integral, str],
        "device": [None, StrOptions({"cpu", "cuda", "gpu"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "task_balanced_batches": ["boolean"],
        "loss_weighting": [StrOptions(set(LOSS_WEIGHTINGS))],
        "gradnorm_alpha": [Interval(Real, 0, None, closed="left")],
        "single_task": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"})],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(64, 64), *, activation="relu", dropout=0.0,
                 weight_decay=1e-4, head_hidden_size=None, task_column=None,
                 device=None, learning_rate=1e-3, batch_size=64, max_epochs=200,
                 early_stopping=True, validation_fraction=0.1, n_iter_no_change=10,
                 tol=1e-4, task_balanced_batches=True, loss_weighting="equal",
                 gradnorm_alpha=1.5, single_task=False, dtype="float32",
                 warm_start=False, random_state=None, verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.head_hidden_size = head_hidden_size
        self.task_column = task_column
        self.device = device
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.task_balanced_batches = task_balanced_batches
        self.loss_weighting = loss_weighting
        self.gradnorm_alpha = gradnorm_alpha
        self.single_task = single_task
        self.dtype = dtype
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    # ------------------------------------------------------------------ fit
    def _fit(self, X, y, task, sample_weight, y_numeric):
        self._validate_params()
        hidden = tuple(int(h) for h in np.atleast_1d(self.hidden_layer_sizes))
        if not hidden or min(hidden) < 1:
            raise ValueError(
                "The 'hidden_layer_sizes' parameter must hold at least one "
                f"positive layer size; got {self.hidden_layer_sizes!r} instead."
            )
        data = validate_fit_data(self, X, y, task, sample_weight,
                                 task_column=self.task_column, device=self.device,
                                 y_numeric=y_numeric)
        Y = self._encode_targets(data)  # host (n, T) float64, NaN = missing
        _warn_unscaled_features(data.xp, data.X)
        xp = np if is_numpy(data.xp) else data.xp  # plain numpy: no wrapper overhead
        dt = getattr(xp, self.dtype)
        Xd = xp.astype(asarray_on(data.X, xp), dt)
        sw = None if data.sample_weight is None else np.asarray(
            to_numpy(data.sample_weight), dtype=np.float64)
        if sw is not None and np.all(sw == 1):
            sw = None  # unit weights are no weights: same arithmetic, same result
        self._target_offset, self._target_scale = self._target_standardization(Y, sw)
        if self._target_scale is not None:
            Y = (Y - self._target_offset) / self._target_scale
        rng = check_random_state(self.random_state)
        warm = self.coefs_ if (self.warm_start and self._warm_compatible(data, hidden)) else None
        observed = ~np.isnan(Y)
        self.tasks_, self.n_tasks_ = data.tasks, data.n_tasks
        if self.single_task:
            fits = []
            for t in range(self.n_tasks_):
                rows = np.flatnonzero(observed[:, t])
                fits.append(self._fit_one(
                    xp, xp.take(Xd, xp.asarray(rows), axis=0), Y[rows, t:t + 1], None if sw is None else sw[rows],
                    data.tasks[t:t + 1], hidden, rng, None if warm is None else warm[t]))
        else:
            fits = [self._fit_one(xp, Xd, Y, sw, data.tasks, hidden, rng, warm)]
        self._store(fits, data)
        return self

    def _target_standardization(self, Y, sw):
        """Per-task (offset, scale) the network trains on, or (None, None)."""
        return None, None

    def _warm_compatible(self, data, hidden):
        return (hasattr(self, "coefs_") and len(self.tasks_) == data.n_tasks
                and np.array_equal(self.tasks_, data.tasks)
                and getattr(self, "_hidden", None) == (hidden, self.head_hidden_size,
                                                      self.single_task, self.dtype))

    def _fit_one(self, xp, X, Y, sw, tasks, hidden, rng, warm):
        T, dt = Y.shape[1], getattr(xp, self.dtype)
        spec = NetworkSpec(X.shape[1], hidden, T, self.head_hidden_size, self.activation)
        params = (init_params(spec, rng, xp, dt) if warm is None
                  else [xp.asarray(p, copy=True) for p in warm])
        balancer = make_balancer(self.loss_weighting, xp, T, dt, rng=rng,
                                 learning_rate=self.learning_rate, kind=self._kind,
                                 alpha=self.gradnorm_alpha)
        # set by the cross-validated search only (rkhsmtl.neural._cv)
        checkpoints = getattr(self, "_epoch_checkpoints", ())
        result = fit_network(xp, X, Y, sw, tasks, spec, params, balancer, self._kind,
                             self.get_params(), rng, checkpoints=checkpoints)
        result["spec"], result["balancer"] = spec, balancer
        return result

    def _store(self, fits, data):
        hidden = fits[0]["spec"].hidden_layer_sizes
        self._hidden = (hidden, self.head_hidden_size, self.single_task, self.dtype)
        self._specs = [f["spec"] for f in fits]
        self.n_iter_ = max(f["n_iter"] for f in fits)
        if not all(f["converged"] for f in fits):
            warnings.warn(
                f"Stopped after max_epochs={self.max_epochs} epochs without "
                "converging; increase max_epochs.", ConvergenceWarning, stacklevel=3)

        self.loss_history_ = join_histories(fits, "loss_history")
        self.validation_history_ = join_histories(fits, "validation_history")
        self.task_weights_history_ = join_histories(fits, "weight_history")
        balancers = [f["balancer"] for f in fits]
        self.task_weights_ = (np.concatenate([to_numpy(b.weights()) for b in balancers])
                              if balancers[0].learned else None)
        self.log_variances_ = (np.concatenate([to_numpy(b.log_vars) for b in balancers])
                               if self.loss_weighting == "uncertainty" else None)
        params = [f["params"] for f in fits]
        self.coefs_ = params if self.single_task else params[0]
        epochs = set.intersection(*(set(f["checkpoints"]) for f in fits))
        self._checkpoint_coefs = {
            e: ([f["checkpoints"][e] for f in fits] if self.single_task
                else fits[0]["checkpoints"][e]) for e in epochs}
        self._single_output = data.y_was_1d and data.layout == "shared"

    # -------------------------------------------------------------- predict
    def _decision(self, X, task=None, unknown_task="raise"):
        """Outputs in float64 on the fitted namespace, plus the caller's.

        ``unknown_task="mean"``: a task label not seen in training gets the
        average of the task heads' outputs (in the units of y).
        """
        check_is_fitted(self, "coefs_")
        nets = self.coefs_ if self.single_task else [self.coefs_]
        ref = nets[0][0]
        Xp, codes, input_xp = validate_predict_tasks(
            self, X, task, unknown_task, reference=ref, task_column=self.task_column)
        xp = np if is_numpy(get_namespace(ref)) else get_namespace(ref)
        # float64 at predict whatever the training dtype: cheap, and float32
        # BLAS results would depend on how many rows are predicted at once
        Xd = xp.astype(Xp, xp.float64)
        outputs = [forward(xp, spec, [xp.astype(p, xp.float64) for p in params], Xd)[0]
                   for spec, params in zip(self._specs, nets)]
        Z = outputs[0] if len(outputs) == 1 else xp.concat(outputs, axis=1)
        if getattr(self, "_target_scale", None) is not None:
            Z = (Z * asarray_on(self._target_scale, xp, like=Z)
                 + asarray_on(self._target_offset, xp, like=Z))
        if codes is not None:
            Z = pick_task_scores(xp, Z, codes)
        elif self._single_output:
            Z = Z[:, 0]
        return Z, input_xp

    @staticmethod
    def _to_caller(Z, input_xp):
        return to_numpy(Z) if is_numpy(input_xp) else asarray_on(Z, input_xp)
