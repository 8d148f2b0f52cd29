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
        out = xp.zeros_like(V)
        cols = []
        for t, G in self.task_gram.items():
            cols.append((t, G @ V[:, t]))
        for t, (R, w) in self.task_rows.items():
            cols.append((t, xp.matrix_transpose(R) @ (w * (R @ V[:, t]))))
        if not cols:
            return out
        idx = [t for t, _ in cols]
        stacked = xp.stack([c for _, c in cols], axis=1)
        if is_numpy(xp):
            out[:, idx] = stacked
            return out
        order = np.argsort(idx)
        full = xp.zeros_like(V)
        present = np.zeros(self.n_tasks, dtype=bool)
        present[idx] = True
        # Scatter without fancy assignment (not in the array API standard):
        # build the columns in task order, zeros for tasks with no rows.
        stacked = xp.take(stacked, xp.asarray(order), axis=1)
        pieces, k = [], 0
        for t in range(self.n_tasks):
            if present[t]:
                pieces.append(stacked[:, k:k + 1])
                k += 1
            else:
                pieces.append(full[:, t:t + 1])
        return xp.concat(pieces, axis=1)

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
        m, the feature dimension.
    n_tasks : int
    layout : {"shared", "tasks"}
    rows_limit : int, default=None
        A task keeps its rows (instead of an m x m Gram) while it has at most
        this many; default ``n_features``, where the two forms cost the same.
    """

    def __init__(self, xp, n_features, n_tasks, layout, rows_limit=None):
        if layout not in (SHARED, TASKS):
            raise ValueError(f"layout must be 'shared' or 'tasks'; got {layout!r}.")
        self.xp, self.m, self.T, self.layout = xp, int(n_features), int(n_tasks), layout
        self.rows_limit = self.m if rows_limit is None else int(rows_limit)
        self._count = np.zeros(self.T)
        self._y_sum = np.zeros(self.T)
        self._y_sq = np.zeros(self.T)
        self._phi_sum = None        # (T, m) or (m,) on xp
        self._phi_y = None          # (m, T) on xp
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
        Phi : array (n, m)
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
        if Phi.shape[1] != self.m:
            raise ValueError(
                f"Feature chunk has {Phi.shape[1]} columns; the statistics were set up "
                f"for {self.m} features. Transform every chunk with the same fitted "
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
        Pw = Phi * w[:, None]
        if self._gram is None:
            self._gram = self._zeros(self.m, self.m, like=Phi)
            self._phi_y = self._zeros(self.m, self.T, like=Phi)
            self._phi_sum = self._zeros(self.m, like=Phi)
        self._gram = self._gram + xp.matrix_transpose(Pw) @ Phi
        self._phi_y = self._phi_y + xp.matrix_transpose(Pw) @ Y
        self._phi_sum = self._phi_sum + xp.sum(Pw, axis=0)
        self._count += float(xp.sum(w))
        self._y_sum += _host(xp.sum(Y * w[:, None], axis=0))
        self._y_sq += _host(xp.sum(Y * Y * w[:, None], axis=0))

    def _add_tasks(self, Phi, y, codes, w):
        xp = self.xp
        if y.ndim != 1 or codes.shape[0] != Phi.shape[0]:
            raise ValueError("Tasks-layout chunks need 1-D targets and one task code "
                             "per row.")
        if self._phi_sum is None:
            self._phi_sum = self._zeros(self.T, self.m, like=Phi)
            self._phi_y = self._zeros(self.m, self.T, like=Phi)
        E = _one_hot(xp, codes, self.T, like=Phi)              # (n, T)
        Ew = E * w[:, None]
        self._phi_sum = self._phi_sum + xp.matrix_transpose(Ew) @ Phi
        self._phi_y = self._phi_y + xp.matrix_transpose(Phi) @ (Ew * y[:, None])
        self._count += _host(xp.sum(Ew, axis=0))
        self._y_sum += _host(xp.matrix_transpose(Ew) @ y)
        self._y_sq += _host(xp.matrix_transpose(Ew) @ (y * y))
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        bounds = np.searchsorted(sorted_codes, np.arange(self.T + 1))
        for t in np.flatnonzero(np.diff(bounds)):
            rows = order[bounds[t]:bounds[t + 1]]
            idx = rows if is_numpy(xp) else xp.asarray(rows)
            self._add_task_rows(int(t), xp.take(Phi, idx, axis=0), xp.take(w, idx, axis=0))

    def _add_task_rows(self, t, R, w):
        xp = self.xp
        if t in self._task_gram:
            self._task_gram[t] = self._task_gram[t] + xp.matrix_transpose(R * w[:, None]) @ R
            return
        self._task_rows.setdefault(t, []).append((R, w))
        self._task_nrows[t] = self._task_nrows.get(t, 0) + R.shape[0]
        if self._task_nrows[t] > self.rows_limit:
            # More rows than features: the Gram is now the smaller form.
            G = self._zeros(self.m, self.m, like=R)
            for Rb, wb in self._task_rows.pop(t):
                G = G + xp.matrix_transpose(Rb * wb[:, None]) @ Rb
            self._task_gram[t] = G
            del self._task_nrows[t]

    def _absorb(self, stats):
        """Add finished statistics (a merge)."""
        xp = self.xp
        if stats.phi_sum is None:
            return
        if self._phi_sum is None:
            self._phi_sum = xp.zeros_like(stats.phi_sum)
            self._phi_y = xp.zeros_like(stats.phi_y)
        self._count += _host(stats.count)
        self._y_sum += _host(stats.y_sum)
        self._y_sq += _host(stats.y_sq)
        self._phi_y = self._phi_y + stats.phi_y
        if self.layout == SHARED:
            self._phi_sum = self._phi_sum + stats.phi_sum[0]
            self._gram = stats.gram if self._gram is None else self._gram + stats.gram
            return
        self._phi_sum = self._phi_sum + stats.phi_sum
        for t, G in stats.task_gram.items():
            if t in self._task_gram:
                self._task_gram[t] = self._task_gram[t] + G
            else:
                rows = self._task_rows.pop(t, [])
                self._task_nrows.pop(t, None)
                G = xp.asarray(G, copy=True)
                for Rb, wb in rows:
                    G = G + xp.matrix_transpose(Rb * wb[:, None]) @ Rb
                self._task_gram[t] = G
        for t, (R, w) in stats.task_rows.items():
            self._add_task_rows(t, R, w)

    # --------------------------------------------------------------- result
    def result(self):
        """The gathered :class:`FeatureStatistics`."""
        xp = self.xp
        if self._phi_sum is None:
            raise ValueError("No rows were added to the feature statistics: the data "
                             "source was empty.")
        like = self._phi_y
        count = xp.asarray(self._count, dtype=like.dtype)
        y_sum = xp.asarray(self._y_sum, dtype=like.dtype)
        y_sq = xp.asarray(self._y_sq, dtype=like.dtype)
        if self.layout == SHARED:
            phi_sum = xp.broadcast_to(self._phi_sum[None, :], (self.T, self.m))
            return FeatureStatistics(xp, SHARED, self.m, self.T, count, phi_sum,
                                     self._phi_y, y_sum, y_sq, gram=self._gram)
        rows = {t: (parts[0][0], parts[0][1]) if len(parts) == 1 else
                (xp.concat([p[0] for p in parts], axis=0),
                 xp.concat([p[1] for p in parts], axis=0))
                for t, parts in self._task_rows.items()}
        return FeatureStatistics(xp, TASKS, self.m, self.T, count, self._phi_sum,
                                 self._phi_y, y_sum, y_sq, None, dict(self._task_gram),
                                 rows)


def _host(a):
    from .._backend import to_numpy

    return np.asarray(to_numpy(a), dtype=float)


def _one_hot(xp, codes, n_tasks, like):
    from ._hadamard import one_hot

    return one_hot(xp, codes, n_tasks, like=like)
