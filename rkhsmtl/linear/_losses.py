r"""Multi-task data-fitting terms: value and gradient w.r.t. ``(W, b)``.

Two layouts (see :mod:`rkhsmtl._validation`):

* shared inputs: ``X`` (n, d), ``Y`` (n, T), NaN entries of ``Y`` are missing
  and carry zero weight;
* heterogeneous: ``X`` (N, d), ``y`` (N,), one task code per row.

Scaling (``task_weighting``).  Each observation ``i`` of task ``t`` gets the
weight ``a_i`` in

.. math:: L(W, b) = \sum_t \sum_{i \in t} a_i\, \ell(y_i, x_i^\top w_t + b_t)

* ``"samples"``: ``a_i = T s_i / \sum_j s_j`` (one pooled average over all
  observations, times ``T``);
* ``"uniform"``: ``a_i = s_i / \sum_{j \in t} s_j`` (every task's loss is
  averaged over its own observations, as in matMTL).

``s_i`` is the sample weight (1 by default).  Both coincide when the tasks
have equally many observations; then ``L`` is the sum of the per-task mean
losses, which is how scikit-learn scales ``Lasso`` and ``MultiTaskLasso``.

Losses: ``"squared"`` is ``(y - f)^2 / 2``; ``"logistic"`` is
``log(1 + exp(-y f))`` with ``y`` in ``{-1, +1}``.  numpy only.
"""
from contextlib import nullcontext

import numpy as np
from scipy.special import expit

from ._gram import (
    SMALL_PRODUCT,
    LazyGram,
    TaskGram,
    check_finite_statistics,
    one_blas_thread,
)

LOSSES = ("squared", "logistic")


def _pointwise(loss, y, f):
    """Loss values and derivatives w.r.t. the prediction ``f``."""
    if loss == "squared":
        r = f - y
        return 0.5 * r * r, r
    z = -y * f
    # logaddexp(0, z) = log(1 + exp(z)) without overflow.
    return np.logaddexp(0.0, z), -y * expit(z)


class MultiTaskDatafit:
    """Loss of a linear multi-task model on fixed data.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    targets : ndarray
        ``Y`` (n, T) with NaN for missing (shared) or ``y`` (N,)
        (heterogeneous); for ``"logistic"`` values in ``{-1, +1}``.
    task_codes : ndarray of shape (N,) or None
        None selects the shared layout.
    n_tasks : int
    loss : {"squared", "logistic"}
    sample_weight : ndarray of shape (n_rows,) or None
    task_weighting : {"samples", "uniform"}
    gram : {"auto", True, False}, default="auto"
        Evaluate the squared loss through per-task Gram statistics
        (:class:`~._gram.TaskGram`, O(d^2 T) per evaluation after one
        O(N d^2) pass) instead of the rows (O(N d)).  ``"auto"`` does so when
        it is cheaper (``d T < N``) and the statistics take at most
        ``GRAM_MAX_BYTES``; complete shared targets always use one X^T X.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear import MultiTaskDatafit
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> Y = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, np.nan]])
    >>> datafit = MultiTaskDatafit(X, Y, None, n_tasks=2)
    >>> datafit.value(np.array([[1.0, 2.0]]), np.zeros(2))
    0.0
    """

    #: memory cap of the per-task Gram statistics chosen by ``gram="auto"``
    GRAM_MAX_BYTES = 1 << 30

    def __init__(self, X, targets, task_codes, n_tasks, loss="squared",
                 sample_weight=None, task_weighting="samples", gram="auto"):
        self.loss = loss
        self.n_tasks = n_tasks
        self.shared = task_codes is None
        X = np.asarray(X, dtype=np.float64)
        self.n_features = X.shape[1]
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float64)
        if self.shared:
            Y = np.asarray(targets, dtype=np.float64)
            observed = ~np.isnan(Y)
            A = observed * (1.0 if sw is None else sw[:, None])
            self.X = X
            self.Y = np.where(observed, Y, 0.0)
            self._complete = bool(observed.all()) and sw is None
        else:
            codes = np.asarray(task_codes)
            # Rows sorted by task so that each task is one contiguous block.
            order = np.argsort(codes, kind="stable")
            self.X = X[order]
            self.Y = np.asarray(targets, dtype=np.float64)[order]
            self.codes = codes[order]
            bounds = np.searchsorted(self.codes, np.arange(n_tasks + 1))
            self.slices = [slice(bounds[t], bounds[t + 1]) for t in range(n_tasks)]
            A = np.ones(len(codes)) if sw is None else sw[order]
        self.A = self._scale(A, task_weighting)
        self._gram = None
        if self.shared and self._complete and loss == "squared" and \
                X.shape[0] > X.shape[1]:
            # Complete shared targets without sample weights: every entry of
            # a task column has the same weight, so the loss and its gradient
            # only need X^T X (d x d) and X^T Y, an O(d^2 T) step instead of
            # two O(n d T) products per iteration.
            # Small products on one BLAS thread: threads gain little there
            # and cost much on a busy machine (see _gram.SMALL_PRODUCT).
            # X^T X itself is computed on demand (LazyGram): coordinate
            # descent with working sets needs only a few of its columns.
            small = X.shape[0] * X.shape[1] ** 2 < SMALL_PRODUCT
            with np.errstate(over="ignore", invalid="ignore"), \
                    (one_blas_thread() if small else nullcontext()):  # checked below
                self._gram = LazyGram(X)
                self._xty = X.T @ self.Y
            self._xsum = X.sum(axis=0)
            self._ysum = self.Y.sum(axis=0)
            self._yy = np.einsum("ij,ij->j", self.Y, self.Y)
            self._c = self.A[0]
            # |G_ij| <= sqrt(G_ii G_jj): a finite diagonal bounds every entry.
            check_finite_statistics(self._gram.diagonal(), X)
        self._stats = None
        self._profiled = {}
        self._task_gram = None
        if loss == "squared" and self._gram is None and gram is not False:
            d = self.n_features
            n_rows = X.shape[0] * (n_tasks if self.shared else 1)
            cheaper = d * n_tasks < n_rows
            fits = 8 * d * d * n_tasks <= self.GRAM_MAX_BYTES
            if gram is True or (cheaper and fits):
                self._task_gram = self.quadratic_stats()

    # -- Gram statistics -------------------------------------------------------
    def quadratic_stats(self):
        """Per-task Gram statistics of the squared loss (built once, cached).

        Returns
        -------
        TaskGram
        """
        if self.loss != "squared":
            raise ValueError("Gram statistics exist for loss='squared' only; got "
                             f"loss={self.loss!r}.")
        if self._stats is not None:
            return self._stats
        T = self.n_tasks
        if self._gram is not None:
            c = self._c
            n = self.X.shape[0]
            stats = TaskGram(self._gram, c * self._xty, c * np.outer(self._xsum, np.ones(T)),
                             np.full(T, c * n), c * self._ysum, c * self._yy,
                             scale=np.full(T, c))
        elif self.shared:
            blocks = [(self.X, self.Y[:, t], self.A[:, t]) for t in range(T)]
            stats = TaskGram.from_rows(*zip(*blocks))
        else:
            stats = TaskGram.from_rows([self.X[s] for s in self.slices],
                                       [self.Y[s] for s in self.slices],
                                       [self.A[s] for s in self.slices])
        check_finite_statistics(stats.gram.diagonal() if isinstance(stats.gram, LazyGram)
                                else stats.gram, self.X)
        self._stats = stats
        return stats

    def profiled_stats(self, fit_intercept):
        """Statistics of the problem in ``W`` alone (cached): the intercepts
        minimized out (centred), or fixed at 0."""
        if fit_intercept not in self._profiled:
            stats = self.quadratic_stats()
            if fit_intercept:
                out = stats.centered()
            else:
                out = TaskGram(stats.gram, stats.xty, np.zeros_like(stats.xsum),
                               stats.wsum, np.zeros_like(stats.ysum), stats.yy,
                               scale=stats.scale)
            self._profiled[fit_intercept] = out
        return self._profiled[fit_intercept]

    @property
    def task_xsum(self):
        """``X_t^T a_t`` per task, shape (d, T) (what the intercepts couple to)."""
        if self._stats is not None:
            return self._stats.xsum
        if self.shared:
            return self.X.T @ self.A
        return np.stack([self.A[s] @ self.X[s] for s in self.slices], axis=1)

    @property
    def task_weight(self):
        """Total observation weight ``n_t`` per task, shape (T,)."""
        if self.shared:
            return self.A.sum(axis=0)
        return np.array([self.A[s].sum() for s in self.slices])

    def _scale(self, A, task_weighting):
        if self.shared:
            per_task = A.sum(axis=0)
        else:
            per_task = np.array([A[s].sum() for s in self.slices])
        if np.any(per_task <= 0):
            raise ValueError("Every task needs observations with positive weight.")
        if task_weighting == "uniform":
            factor = 1.0 / per_task
        else:
            factor = np.full(self.n_tasks, self.n_tasks / per_task.sum())
        if self.shared:
            return A * factor
        return A * factor[self.codes]

    def predict(self, W, b):
        if self.shared:
            return self.X @ W + b
        F = np.empty(self.X.shape[0])
        for t, s in enumerate(self.slices):
            F[s] = self.X[s] @ W[:, t] + b[t]
        return F

    def _gram_value_and_grad(self, W, b):
        """Squared loss through X^T X: sum_t c_t ||X w_t + b_t - y_t||^2 / 2."""
        n = self.X.shape[0]
        GW = self._gram @ W
        sw = self._xsum @ W
        # 0.5 * ||r_t||^2 = 0.5 (w'Gw + 2 b s'w + n b^2) - (w'X'y + b sum y) + 0.5 y'y
        quad = np.einsum("ij,ij->j", W, GW) + 2.0 * b * sw + n * b * b
        lin = np.einsum("ij,ij->j", W, self._xty) + b * self._ysum
        value = float(np.sum(self._c * (0.5 * quad - lin + 0.5 * self._yy)))
        gW = (GW + np.outer(self._xsum, b) - self._xty) * self._c
        gb = self._c * (sw + n * b - self._ysum)
        return value, gW, gb

    def value(self, W, b):
        if self._gram is not None:
            return self._gram_value_and_grad(W, b)[0]
        if self._task_gram is not None:
            return float(self._task_gram.task_losses(W, b)[0].sum())
        vals, _ = _pointwise(self.loss, self.Y, self.predict(W, b))
        return float(np.sum(self.A * vals))

    def value_and_grad(self, W, b):
        """Return ``(L, dL/dW (d, T), dL/db (T,))``."""
        if self._gram is not None:
            return self._gram_value_and_grad(W, b)
        if self._task_gram is not None:
            return self._task_gram.value_and_grad(W, b)
        vals, deriv = _pointwise(self.loss, self.Y, self.predict(W, b))
        R = self.A * deriv
        value = float(np.sum(self.A * vals))
        if self.shared:
            return value, self.X.T @ R, R.sum(axis=0)
        gW = np.empty((self.n_features, self.n_tasks))
        gb = np.empty(self.n_tasks)
        for t, s in enumerate(self.slices):
            gW[:, t] = self.X[s].T @ R[s]
            gb[t] = R[s].sum()
        return value, gW, gb

    def intercept_only(self):
        """Minimizer over ``b`` with ``W = 0`` (the start of a path)."""
        if self.shared:
            w = self.A.sum(axis=0)
            m = (self.A * self.Y).sum(axis=0) / w
        else:
            m = np.array([np.average(self.Y[s], weights=self.A[s]) for s in self.slices])
        if self.loss == "squared":
            return m
        # Logistic: b = logit of the weighted positive rate; m = 2 p - 1.
        p = np.clip(0.5 * (m + 1.0), 1e-12, 1 - 1e-12)
        return np.log(p / (1.0 - p))
