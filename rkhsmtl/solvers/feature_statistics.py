r"""Sufficient statistics of the squared loss in a finite feature space.

With an explicit feature map :math:`\varphi` (Nyström or random Fourier
features, :mod:`rkhsmtl.features`) every task function is
:math:`f_t(x) = \varphi(x)^\top w_t`, and the weighted squared loss of task t
depends on its rows only through

.. math::

    c_t = \sum_i w_i,\quad s_t = \sum_i w_i \varphi_i,\quad
    G_t = \sum_i w_i \varphi_i\varphi_i^\top,\quad
    b_t = \sum_i w_i y_i \varphi_i,\quad
    \bar y_t = \sum_i w_i y_i,\quad q_t = \sum_i w_i y_i^2,

so one pass over the data (in chunks, from an iterator, or on Dask workers)
gathers everything a solver needs, and no solver step touches the rows again.

Two layouts:

* **shared** (complete targets on shared inputs, one weight per row): one
  :math:`G` (m x m) and one :math:`B = \sum_i w_i \varphi_i y_i^\top`
  (m x T) serve every task;
* **tasks** (heterogeneous rows, or shared inputs with missing entries): per
  task either the m x m Gram :math:`G_t`, or, while the task has fewer rows
  than features, its rows themselves (cheaper to store and to multiply:
  :math:`G_t v = \Phi_t^\top (w \circ \Phi_t v)`).  A task switches to the
  Gram form once its rows outnumber the features.

Statistics of disjoint parts of the data add up (:meth:`FeatureStatistics.merge`),
which is what a chunked or distributed pass (a tree reduction) relies on.
"""
from dataclasses import dataclass, field
from typing import Any, Optional

import numpy as np

from .._backend import is_numpy

SHARED, TASKS = "shared", "tasks"


@dataclass
class FeatureStatistics:
    """Weighted per-task sufficient statistics (see the module docstring).

    Parameters
    ----------
    xp : module
        Array namespace of the statistics.
    layout : {"shared", "tasks"}
    n_features : int
        Dimension m of the feature map.
    n_tasks : int
    count : array (T,)
        :math:`c_t`, the total weight of each task.
    phi_sum : array (T, m)
        :math:`s_t` (one row repeated for the shared layout).
    phi_y : array (m, T)
        :math:`b_t` as columns.
    y_sum, y_sq : arrays (T,)
        :math:`\\bar y_t` and :math:`q_t`.
    gram : array (m, m) or None
        The shared layout's single Gram.
    task_gram : dict
        Task code -> Gram (m, m) (tasks layout, tasks with many rows).
    task_rows : dict
        Task code -> (rows (n_t, m), weights (n_t,)) (tasks layout, tasks with
        fewer rows than features).

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.solvers.feature_statistics import StatisticsAccumulator
    >>> Phi = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> acc = StatisticsAccumulator(np, n_features=2, n_tasks=2, layout="tasks")
    >>> acc.add(Phi, np.array([1.0, 2.0, 3.0]), codes=np.array([0, 1, 1]))
    >>> stats = acc.result()
    >>> stats.count.tolist(), stats.task_matmul(np.ones((2, 2)))[:, 1].tolist()
    ([1.0, 2.0], [2.0, 3.0])
    """

    xp: Any
    layout: str
    n_features: int
    n_tasks: int
    count: Any
    phi_sum: Any
    phi_y: Any
    y_sum: Any
    y_sq: Any
    gram: Optional[Any] = None
    task_gram: dict = field(default_factory=dict)
    task_rows: dict = field(default_factory=dict)

    # --------------------------------------------------------------- algebra
    def scaled(self, factors):
        """Statistics with task t's weights multiplied by ``factors[t]``.

        Used for ``task_weighting="uniform"``: scaling every weight of a task
        scales each of its statistics by the same factor, so the rescaling
        needs no second pass.
        """
        xp = self.xp
        f = xp.asarray(factors, dtype=self.count.dtype)
        if self.layout == SHARED:
            raise ValueError("Per-task scaling needs the tasks layout.")
        return FeatureStatistics(
            xp, TASKS, self.n_features, self.n_tasks, self.count * f,
            self.phi_sum * f[:, None], self.phi_y * f[None, :], self.y_sum * f,
            self.y_sq * f, None,
            {t: G * float(f[t]) for t, G in self.task_gram.items()},
            {t: (R, w * float(f[t])) for t, (R, w) in self.task_rows.items()})

    def projected(self, P):
        """Statistics of the features ``phi @ P`` (P of shape (n_features, m')).

        Every statistic is linear or quadratic in the features, so statistics
        gathered on raw features (Nyström's kernel features) and merged can be
        projected once, at the end.
        """
        xp = self.xp
        Pt = xp.matrix_transpose(P)
        m = int(P.shape[1])
        if self.layout == SHARED:
            s = self.phi_sum[0, :] @ P
            return FeatureStatistics(
                xp, SHARED, m, self.n_tasks, self.count,
                xp.broadcast_to(s[None, :], (self.n_tasks, m)), Pt @ self.phi_y,
                self.y_sum, self.y_sq, gram=Pt @ self.gram @ P)
        return FeatureStatistics(
            xp, TASKS, m, self.n_tasks, self.count, self.phi_sum @ P, Pt @ self.phi_y,
            self.y_sum, self.y_sq, None,
            {t: Pt @ G @ P for t, G in self.task_gram.items()},
            {t: (R @ P, w) for t, (R, w) in self.task_rows.items()})

    def merge(self, other):
        """Statistics of the union of two disjoint parts of the data."""
        if (other.layout, other.n_features, other.n_tasks) != \
                (self.layout, self.n_features, self.n_tasks):
            raise ValueError(
                "Cannot merge feature statistics of different shapes "
                f"({self.layout}, m={self.n_features}, T={self.n_tasks}) and "
                f"({other.layout}, m={other.n_features}, T={other.n_tasks}); "
                "every part must use the same feature map and task labels.")
        acc = StatisticsAccumulator(self.xp, self.n_features, self.n_tasks, self.layout)
        acc._absorb(self)
        acc._absorb(other)
        return acc.result()

    # ---------------------------------------------------------------- access
    def task_matmul(self, V):
        """Column t of the result is :math:`G_t v_t` for V of shape (m, T)."""
        xp = self.xp
        if self.layout == SHARED:
            return self.gram @ V
        cols = []
        for t in range(self.n_tasks):
            v = V[:, t]
            if t in self.task_gram:
                cols.append(self.task_gram[t] @ v)
            elif t in self.task_rows:
                R, w = self.task_rows[t]
                cols.append(xp.matrix_transpose(R) @ (w * (R @ v)))
            else:                     # a task without rows
                cols.append(xp.zeros_like(v))
        return xp.stack(cols, axis=1)

    def task_gram_dense(self, t):
        """The m x m Gram of task t (formed from its rows if stored as rows)."""
        xp = self.xp
        if self.layout == SHARED:
            return self.gram
        if t in self.task_gram:
            return self.task_gram[t]
        if t in self.task_rows:
            R, w = self.task_rows[t]
            return xp.matrix_transpose(R) @ (R * w[:, None])
        return xp.zeros((self.n_features, self.n_features), dtype=self.count.dtype)

    def pooled_gram(self):
        """:math:`\\sum_t G_t` (the shared layout's Gram times T's weight)."""
        xp = self.xp
        if self.layout == SHARED:
            return self.gram
        total = xp.zeros((self.n_features, self.n_features), dtype=self.count.dtype)
        for G in self.task_gram.values():
            total = total + G
        for R, w in self.task_rows.values():
            total = total + xp.matrix_transpose(R) @ (R * w[:, None])
        return total

    def nbytes(self):
        """Memory held by the statistics, in bytes."""
        m, T = self.n_features, self.n_tasks
        total = 8 * (T * (2 * m + 3) + m * T)
        if self.gram is not None:
            total += 8 * m * m
        total += 8 * m * m * len(self.task_gram)
        total += sum(8 * R.shape[0] * (m + 1) for R, _ in self.task_rows.values())
        return total


class StatisticsAccumulator:
    """Gathers :class:`FeatureStatistics` chunk by chunk (one pass).

    Parameters
    ----------
    xp : module
        Namespace of the feature chunks.
    n_features : int
        Width of the chunks given to :meth:`add`.
    n_tasks : int
    layout : {"shared", "tasks"}
    rows_limit : int, default=None
        A task keeps its rows (instead of a Gram) while it has at most this
        many; default the final feature dimension, where both forms cost the
        same.
    projection : array (n_features, m), default=None
        Fixed linear map applied to every chunk's rows (Nyström's
        :math:`U_r \\Lambda_r^{-1/2}`).  Every statistic is linear or
        quadratic in the rows, so it is applied once to the sums in
        :meth:`result` instead of to every row: one n x m x m product per
        chunk saved.
    """

    def __init__(self, xp, n_features, n_tasks, layout, rows_limit=None, projection=None):
        if layout not in (SHARED, TASKS):
            raise ValueError(f"layout must be 'shared' or 'tasks'; got {layout!r}.")
        self.xp, self.raw_m, self.T, self.layout = xp, int(n_features), int(n_tasks), layout
        self.projection = projection
        self.m = self.raw_m if projection is None else int(projection.shape[1])
        self.rows_limit = self.m if rows_limit is None else int(rows_limit)
        self._count = np.zeros(self.T)
        self._y_sum = np.zeros(self.T)
        self._y_sq = np.zeros(self.T)
        self._phi_sum = None        # (T, raw_m) or (raw_m,) on xp
        self._phi_y = None          # (raw_m, T) on xp
        self._gram = None
        self._task_gram = {}
        self._task_rows = {}        # t -> list of (rows, weights)
        self._task_nrows = {}

    def _zeros(self, *shape, like):
        return self.xp.zeros(shape, dtype=like.dtype)

    # ------------------------------------------------------------------ add
    def add(self, Phi, y, *, codes=None, weights=None):
        """Add one chunk.

        Parameters
        ----------
        Phi : array (n, n_features)
            Features of the chunk's rows (namespace ``xp``).
        y : array (n,) or (n, T)
            Targets: one per row (tasks layout, with ``codes``), or one column
            per task (shared layout).
        codes : array-like of int (n,), default=None
            Task code of each row (tasks layout).
        weights : array (n,), default=None
            Row weights (ones if None).
        """
        xp = self.xp
        n = Phi.shape[0]
        if Phi.shape[1] != self.raw_m:
            raise ValueError(
                f"Feature chunk has {Phi.shape[1]} columns; the statistics were set up "
                f"for {self.raw_m} features. Transform every chunk with the same fitted "
                "feature map.")
        if n == 0:
            return
        w = xp.ones((n,), dtype=Phi.dtype) if weights is None else weights
        if self.layout == SHARED:
            self._add_shared(Phi, y, w)
        else:
            self._add_tasks(Phi, y, np.asarray(codes), w)

    def _add_shared(self, Phi, Y, w):
        xp = self.xp
        if Y.ndim != 2 or Y.shape[1] != self.T:
            raise ValueError(f"Shared-layout targets must be (n, {self.T}); got "
                             f"{tuple(Y.shape)}.")
        if self._gram is None:
            self._gram = self._zeros(self.raw_m, self.raw_m, like=Phi)
            self._phi_y = self._zeros(self.raw_m, self.T, like=Phi)
            self._phi_sum = self._zeros(self.raw_m, like=Phi)
        Ps = Phi * xp.sqrt(w)[:, None]
        self._gram += _gram(xp, Ps)
        Pw = Phi * w[:, None]
        self._phi_y += xp.matrix_transpose(Pw) @ Y
        self._phi_sum += xp.sum(Pw, axis=0)
        self._count += float(xp.sum(w))
        self._y_sum += _host(xp.sum(Y * w[:, None], axis=0))
        self._y_sq += _host(xp.sum(Y * Y * w[:, None], axis=0))

    def _add_tasks(self, Phi, y, codes, w):
        xp = self.xp
        if y.ndim != 1 or codes.shape[0] != Phi.shape[0]:
            raise ValueError("Tasks-layout chunks need 1-D targets and one task code "
                             "per row.")
        if self._phi_sum is None:
            self._phi_sum = self._zeros(self.T, self.raw_m, like=Phi)
            self._phi_y = self._zeros(self.raw_m, self.T, like=Phi)
        if np.any(codes[1:] < codes[:-1]):
            order = np.argsort(codes, kind="stable")
            codes = codes[order]
            idx = order if is_numpy(xp) else xp.asarray(order)
            Phi, y, w = (xp.take(a, idx, axis=0) for a in (Phi, y, w))
        bounds = np.searchsorted(codes, np.arange(self.T + 1))
        # Each task's rows are one contiguous slice: its sums cost O(n_t m),
        # not the O(n T m) of a one-hot product.
        for t in np.flatnonzero(np.diff(bounds)):
            lo, hi = int(bounds[t]), int(bounds[t + 1])
            R, wt, yt = Phi[lo:hi, :], w[lo:hi], y[lo:hi]
            wy = wt * yt
            self._phi_sum[int(t), :] = self._phi_sum[int(t), :] + xp.sum(R * wt[:, None], axis=0)
            self._phi_y[:, int(t)] = self._phi_y[:, int(t)] + xp.matrix_transpose(R) @ wy
            sums = _host(xp.stack([xp.sum(wt), xp.sum(wy), xp.sum(wy * yt)]))
            self._count[t] += sums[0]
            self._y_sum[t] += sums[1]
            self._y_sq[t] += sums[2]
            self._add_task_rows(int(t), R, wt)

    def _add_task_rows(self, t, R, w):
        # Rows are buffered per task and folded into its Gram in blocks of at
        # least m rows: one large product instead of many thin ones (a thin
        # update would read and write all m x m entries for a few rows).
        self._task_rows.setdefault(t, []).append((R, w))
        self._task_nrows[t] = self._task_nrows.get(t, 0) + R.shape[0]
        if self._task_nrows[t] > self.rows_limit:
            self._flush(t)

    def _flush(self, t):
        """Fold task t's buffered rows into its Gram (created on first use)."""
        xp = self.xp
        parts = self._task_rows.pop(t, [])
        self._task_nrows.pop(t, None)
        if not parts:
            return
        R = parts[0][0] if len(parts) == 1 else xp.concat([p[0] for p in parts], axis=0)
        w = parts[0][1] if len(parts) == 1 else xp.concat([p[1] for p in parts], axis=0)
        update = _gram(xp, R * xp.sqrt(w)[:, None])
        if t in self._task_gram:
            self._task_gram[t] += update
        else:
            self._task_gram[t] = update

    def _absorb(self, stats):
        """Add finished (projected) statistics: a merge."""
        xp = self.xp
        if self.projection is not None:
            raise ValueError("Merging needs accumulators without a pending projection.")
        if self._phi_sum is None:
            self._phi_sum = xp.zeros_like(stats.phi_sum[0] if self.layout == SHARED
                                          else stats.phi_sum)
            self._phi_y = xp.zeros_like(stats.phi_y)
        self._count += _host(stats.count)
        self._y_sum += _host(stats.y_sum)
        self._y_sq += _host(stats.y_sq)
        self._phi_y = self._phi_y + stats.phi_y
        if self.layout == SHARED:
            self._phi_sum = self._phi_sum + stats.phi_sum[0]
            self._gram = (xp.asarray(stats.gram, copy=True) if self._gram is None
                          else self._gram + stats.gram)
            return
        self._phi_sum = self._phi_sum + stats.phi_sum
        for t, G in stats.task_gram.items():
            if t in self._task_gram:
                self._task_gram[t] += G
            else:
                self._task_gram[t] = xp.asarray(G, copy=True)
            self._flush(t)
        for t, (R, w) in stats.task_rows.items():
            self._add_task_rows(t, R, w)

    # --------------------------------------------------------------- result
    def result(self):
        """The gathered :class:`FeatureStatistics` (projected, if a projection was given).

        Raises
        ------
        ValueError
            If a statistic is not finite: targets or features whose squares
            overflow float64 would otherwise give a silent NaN fit.
        """
        xp = self.xp
        if self._phi_sum is None:
            raise ValueError("No rows were added to the feature statistics: the data "
                             "source was empty.")
        like = self._phi_y
        count = xp.asarray(self._count, dtype=like.dtype)
        y_sum = xp.asarray(self._y_sum, dtype=like.dtype)
        y_sq = xp.asarray(self._y_sq, dtype=like.dtype)
        if self.layout == SHARED:
            phi_sum = xp.broadcast_to(self._phi_sum[None, :], (self.T, self.raw_m))
            stats = FeatureStatistics(xp, SHARED, self.raw_m, self.T, count, phi_sum,
                                      self._phi_y, y_sum, y_sq, gram=self._gram)
        else:
            for t in [t for t in self._task_rows if t in self._task_gram]:
                self._flush(t)          # a Gram task's last buffered rows
            rows = {}
            for t, parts in self._task_rows.items():
                rows[t] = tuple(parts[0][k] if len(parts) == 1 else
                                xp.concat([p[k] for p in parts], axis=0) for k in (0, 1))
            stats = FeatureStatistics(xp, TASKS, self.raw_m, self.T, count,
                                      self._phi_sum, self._phi_y, y_sum, y_sq, None,
                                      dict(self._task_gram), rows)
        if self.projection is not None:
            stats = stats.projected(self.projection)
        _check_finite(stats)
        return stats


def _check_finite(stats):
    xp = stats.xp
    parts = [stats.phi_y, stats.y_sq, stats.phi_sum]
    parts += [] if stats.gram is None else [stats.gram]
    parts += list(stats.task_gram.values())
    finite = all(bool(xp.isfinite(xp.sum(a))) for a in parts)
    if not finite:
        raise ValueError(
            "The feature statistics are not finite: the targets (or features) are so "
            "large that their squares overflow float64 when summed. Standardize y "
            "(e.g. divide it by its standard deviation) and X before fitting.")


def _gram(xp, R):
    """R^T R (symmetric rank-k update: numpy hands ``a.T @ a`` to BLAS syrk)."""
    return xp.matrix_transpose(R) @ R


def _host(a):
    from .._backend import to_numpy

    return np.asarray(to_numpy(a), dtype=float)
