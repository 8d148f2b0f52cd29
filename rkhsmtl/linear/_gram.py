r"""Per-task Gram statistics of the weighted squared loss.

For task ``t`` with rows ``X_t``, targets ``y_t`` and observation weights
``a_t`` (the scaled weights of :class:`~._losses.MultiTaskDatafit`), the loss

.. math::

    L(W, b) = \sum_t \tfrac12 \sum_{i \in t} a_i (y_i - x_i^\top w_t - b_t)^2

depends on the data only through

* ``G_t = X_t^T A_t X_t`` (d, d), the weighted Gram matrix,
* ``c_t = X_t^T A_t y_t`` (d,), ``s_t = X_t^T a_t`` (d,),
* ``n_t = sum a_t``, ``m_t = sum a_t y_t``, ``q_t = sum a_t y_t^2``,

so that once they are accumulated (one O(N d^2) pass) a loss value and
gradient cost O(d^2 T) instead of O(N d).  ``gram`` is stored as an array of
shape (d, d, T) with ``gram[j, :, t] = G_t[:, j]``, so that ``gram[j]`` is the
contiguous (d, T) block a coordinate-descent update of feature row ``j``
needs.  When every task has the same Gram matrix up to a factor (complete
shared targets without sample weights) only that (d, d) matrix and the
per-task factors ``scale`` are kept.

:meth:`TaskGram.centered` profiles the intercepts out: ``b_t`` minimizing the
loss for fixed ``w_t`` is ``(m_t - s_t^T w_t) / n_t``, and substituting it
leaves the same quadratic form with ``G_t - s_t s_t^T / n_t`` and
``c_t - s_t m_t / n_t``.

The per-task products run on one BLAS thread when they are small (fewer
than ``SMALL_PRODUCT`` multiply-adds on average): threads give little on
products this small and cost much on a busy machine (T = 20 tasks of 100
rows, d = 500: 47 ms on one thread, 330 ms on two, one run on the 2-core
machine shared with other jobs).  numpy and threadpoolctl.
"""
from contextlib import nullcontext

import numpy as np

from .._backend.linalg import one_blas_thread

#: average per-task Gram product (rows x d^2 multiply-adds) below which the
#: statistics are accumulated on one BLAS thread
SMALL_PRODUCT = 1 << 27


def check_finite_statistics(gram, X):
    """Refuse a Gram matrix that overflowed; the cure is the input scale."""
    if np.all(np.isfinite(gram)):
        return
    scale = float(np.max(np.abs(X))) if X.size else 0.0
    raise ValueError(
        "The Gram matrix X^T X of the squared loss is not finite: the features "
        f"reach max |X| = {scale:.3g}, whose products overflow float64. "
        "Standardize X (e.g. sklearn.preprocessing.StandardScaler) or divide it by "
        "a constant before fitting.")


class LazyGram:
    """``X^T X`` of a fixed design, computed a block of columns at a time.

    Coordinate descent with working sets touches the Gram columns of the
    rows it updates and of the support (the gradient of a sparse iterate),
    often a few percent of all of them: on MultiTaskLasso's small problems
    the eager ``d x d`` product cost more than the whole solve.  Columns are
    computed on first use (``X^T X[:, cols]``, O(n d k) for k columns) and
    kept; anything that needs the whole matrix (``np.asarray``, ``@`` with a
    dense operand, ``.T``) computes the rest once.  Reads as a symmetric
    (d, d) float64 array for indexing with ``[:, cols]``, ``[np.ix_(r, c)]``
    and ``[:, j]``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Read, never copied or written.
    mean : ndarray of shape (d,), default=None
        With a mean, the Gram of the column-centred design,
        ``X^T X - n mean mean^T`` (the rank-one correction the eager
        :meth:`TaskGram.centered` applies), without a centred copy of X.
    """

    ndim = 2
    dtype = np.dtype(np.float64)

    def __init__(self, X, mean=None):
        self.X = X
        self.mean = mean
        d = X.shape[1]
        self.shape = (d, d)
        self._G = None
        self._have = np.zeros(d, dtype=bool)
        with np.errstate(over="ignore", invalid="ignore"):  # checked by the caller
            self._diag = np.einsum("ij,ij->j", X, X)
            if mean is not None:
                self._diag = self._diag - X.shape[0] * mean * mean

    @property
    def nbytes(self):
        return 8 * self.shape[0] * self.shape[1]

    @property
    def n_computed(self):
        """Number of columns computed so far."""
        return int(self._have.sum())

    def diagonal(self):
        return self._diag

    def centered(self):
        """The Gram of the column-centred design (``X^T X - n mean mean^T``)."""
        return LazyGram(self.X, self.X.mean(axis=0))

    def _ensure(self, cols):
        d = self.shape[0]
        if self._G is None:
            self._G = np.empty((d, d), order="F")
        if cols is None:
            missing = np.flatnonzero(~self._have)
        else:
            cols = np.asarray(cols, dtype=np.intp).ravel()
            have = self._have[cols]
            if have.all():
                return
            missing = np.unique(cols[~have])
        if missing.size == 0:
            return
        X, mean, n = self.X, self.mean, self.X.shape[0]
        with np.errstate(over="ignore", invalid="ignore"):
            if 2 * missing.size >= d:
                # Most of it: one symmetric product (syrk) is cheaper.
                G = X.T @ X
                if mean is not None:
                    G -= n * np.multiply.outer(mean, mean)
                self._G[...] = G
                self._have[:] = True
                return
            block = X.T @ X[:, missing]
            if mean is not None:
                block -= n * np.multiply.outer(mean, mean[missing])
            self._G[:, missing] = block
        self._have[missing] = True

    def dense(self):
        """The whole (d, d) matrix (computed once)."""
        self._ensure(None)
        return self._G

    def __array__(self, dtype=None, copy=None):
        G = self.dense()
        return G if dtype is None else G.astype(dtype)

    @property
    def T(self):
        return self.dense().T

    def __getitem__(self, key):
        cols = None
        if isinstance(key, tuple) and len(key) == 2:
            c = key[1]
            if isinstance(c, (int, np.integer)):
                cols = [int(c)]
            elif isinstance(c, np.ndarray) and c.dtype != bool:
                cols = c
        if cols is None:
            return self.dense()[key]
        self._ensure(cols)
        return self._G[key]

    def __matmul__(self, W):
        W = np.asarray(W)
        rows = np.flatnonzero(np.any(W != 0, axis=1)) if W.ndim == 2 \
            else np.flatnonzero(W)
        if rows.size == 0:
            return np.zeros((self.shape[0],) + W.shape[1:])
        self._ensure(rows)
        return self._G[:, rows] @ W[rows]


class TaskGram:
    """Sufficient statistics of the weighted squared loss, per task.

    Parameters
    ----------
    gram : ndarray of shape (d, d, T), or (d, d) with ``scale``
    xty, xsum : ndarray of shape (d, T)
    wsum, ysum, yy : ndarray of shape (T,)
    scale : ndarray of shape (T,), default=None
        Per-task factors of a shared (d, d) ``gram``.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.linear._gram import TaskGram
    >>> X = np.array([[1.0, 0.0], [0.0, 2.0]]); y = np.array([1.0, 2.0])
    >>> stats = TaskGram.from_rows([X], [y], [np.ones(2)])
    >>> stats.value_and_grad(np.array([[1.0], [1.0]]), np.zeros(1))[0]
    0.0
    """

    def __init__(self, gram, xty, xsum, wsum, ysum, yy, scale=None):
        self.gram = gram
        self.scale = scale
        self.xty, self.xsum = xty, xsum
        self.wsum, self.ysum, self.yy = wsum, ysum, yy
        self.n_features, self.n_tasks = xty.shape

    @classmethod
    def from_rows(cls, X_blocks, y_blocks, a_blocks):
        """Accumulate the statistics from one (X_t, y_t, a_t) block per task."""
        d, T = X_blocks[0].shape[1], len(X_blocks)
        gram = np.empty((d, d, T))
        xty, xsum = np.empty((d, T)), np.empty((d, T))
        wsum, ysum, yy = np.empty(T), np.empty(T), np.empty(T)
        # Overflow is checked once afterwards (check_finite_statistics) with a
        # message that names the cure; numpy's own warnings would only add noise.
        rows = sum(X.shape[0] for X in X_blocks) / T
        small = rows * d * d < SMALL_PRODUCT
        with np.errstate(over="ignore", invalid="ignore"), \
                (one_blas_thread() if small else nullcontext()):
            cls._accumulate(X_blocks, y_blocks, a_blocks, gram, xty, xsum, wsum, ysum, yy)
        return cls(gram, xty, xsum, wsum, ysum, yy)

    @staticmethod
    def _accumulate(X_blocks, y_blocks, a_blocks, gram, xty, xsum, wsum, ysum, yy):
        for t, (X, y, a) in enumerate(zip(X_blocks, y_blocks, a_blocks)):
            Xa = X * a[:, None]
            gram[:, :, t] = Xa.T @ X
            xty[:, t] = Xa.T @ y
            xsum[:, t] = Xa.sum(axis=0)
            wsum[t] = a.sum()
            ysum[t] = a @ y
            yy[t] = a @ (y * y)

    @property
    def shared(self):
        return self.scale is not None

    def nbytes(self):
        return self.gram.nbytes

    def matvec(self, W):
        """``G_t w_t`` for every task, shape (d, T)."""
        if self.shared:
            return (self.gram @ W) * self.scale
        return np.einsum("jit,jt->it", self.gram, W, optimize=False)

    def column(self, j):
        """``G_t[:, j]`` for every task, shape (d, T)."""
        if self.shared:
            return np.outer(self.gram[:, j], self.scale)
        return self.gram[j]

    def diag(self):
        """``G_t[j, j]``, shape (d, T)."""
        if self.shared:
            return np.outer(np.diag(self.gram), self.scale)
        d = self.n_features
        return self.gram[np.arange(d), np.arange(d), :]

    def task_losses(self, W, b, GW=None):
        """Per-task loss ``0.5 sum_i a_i r_i^2`` (T,) and ``G_t w_t`` (d, T)."""
        if GW is None:
            GW = self.matvec(W)
        sw = np.einsum("jt,jt->t", self.xsum, W)
        quad = np.einsum("jt,jt->t", W, GW) + 2.0 * b * sw + self.wsum * b * b
        lin = np.einsum("jt,jt->t", W, self.xty) + b * self.ysum
        return 0.5 * quad - lin + 0.5 * self.yy, GW, sw

    def value_and_grad(self, W, b):
        """``(L, dL/dW (d, T), dL/db (T,))``."""
        losses, GW, sw = self.task_losses(W, b)
        gW = GW + self.xsum * b - self.xty
        gb = sw + self.wsum * b - self.ysum
        return float(losses.sum()), gW, gb

    def centered(self):
        """Statistics of the loss with the intercepts minimized out."""
        n = self.wsum
        mean_x = self.xsum / n  # (d, T)
        ymean = self.ysum / n
        if isinstance(self.gram, LazyGram):
            # Complete shared targets, one weight per task: the centred Gram
            # is that of the centred design, again computed on demand.
            gram, scale = self.gram.centered(), self.scale
        elif self.shared and (np.array_equal(mean_x, np.repeat(mean_x[:, :1], len(n), 1))
                            or np.allclose(mean_x, mean_x[:, :1], rtol=1e-13, atol=0)):
            # Same weights in every task: the centred Gram stays shared.
            # (One (d, d) temporary: on large d this step is a memory pass.)
            xs = self.xsum[:, 0] / self.scale[0]
            gram = np.multiply.outer(xs, xs)  # (exactly symmetric)
            gram /= n[0] / self.scale[0]
            np.subtract(self.gram, gram, out=gram)
            scale = self.scale
        else:
            # gram[j, i, t] -= mean_x[j, t] xsum[i, t], in one (d, d, T)
            # buffer: two memory passes, the same numbers as einsum's loop,
            # which took 17x as long (d = 500, T = 20).
            gram = np.multiply(mean_x[:, None, :], self.xsum[None, :, :])
            np.subtract(self.full_gram(), gram, out=gram)
            scale = None
        xty = self.xty - self.xsum * ymean
        yy = self.yy - self.ysum * ymean
        zeros = np.zeros_like(self.xsum)
        return TaskGram(gram, xty, zeros, n.copy(), np.zeros_like(n), yy, scale=scale)

    def full_gram(self):
        """The (d, d, T) array, expanding a shared Gram matrix."""
        if self.shared:
            return self.gram[:, :, None] * self.scale
        return self.gram

    def intercepts(self, W):
        """Intercepts minimizing the loss for fixed ``W``."""
        return (self.ysum - np.einsum("jt,jt->t", self.xsum, W)) / self.wsum
