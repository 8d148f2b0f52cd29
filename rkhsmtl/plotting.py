"""Plots of learned task structure (matplotlib is optional: ``pip install rkhsmtl[plot]``)."""
import numpy as np

from ._backend import to_numpy
from .tasks._fixed import unit_diagonal


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Plotting needs matplotlib; install it with pip install 'rkhsmtl[plot]'."
        ) from exc
    return plt


MAX_TICK_LABELS = 40


def label_task_axes(ax, names, max_labels=MAX_TICK_LABELS):
    """Task names on both axes of a T x T heatmap, thinned to ``max_labels``.

    With more tasks than fit legibly every k-th task is labelled (k =
    ceil(T / max_labels)), so the names stay readable instead of vanishing.
    """
    T = len(names)
    step = max(1, -(-T // max_labels))
    ticks = list(range(0, T, step))
    ax.set_xticks(ticks, [str(names[i]) for i in ticks], rotation=90)
    ax.set_yticks(ticks, [str(names[i]) for i in ticks])
    return ticks


def task_order(matrix):
    """Order tasks so that related ones sit together (average-linkage tree).

    Parameters
    ----------
    matrix : array-like of shape (n_tasks, n_tasks)
        Task correlations or a task matrix (normalized to unit diagonal here).

    Returns
    -------
    order : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.plotting import task_order
    >>> C = np.array([[1, 0, .9], [0, 1, 0], [.9, 0, 1]])
    >>> task_order(C).tolist()
    [1, 0, 2]
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    C = unit_diagonal(to_numpy(matrix))
    if C.shape[0] < 3:
        return np.arange(C.shape[0])
    # Strongly negative relations are relations too: distance 1 - |corr|.
    D = np.clip(1.0 - np.abs(C), 0.0, None)
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0.0)
    return leaves_list(linkage(squareform(D, checks=False), method="average"))


def plot_task_relations(estimator_or_matrix, task_names=None, *, order="cluster",
                        ax=None, cmap="RdBu_r"):
    """Heatmap of task correlations, ordered so that clusters show as blocks.

    Parameters
    ----------
    estimator_or_matrix : fitted estimator or array-like of shape (n_tasks, n_tasks)
        An estimator with ``task_correlation_`` (and ``tasks_``), or a matrix.
    task_names : sequence of str, default=None
        Labels; default the estimator's ``tasks_`` or 0..T-1.
    order : {"cluster", "given"} or array-like, default="cluster"
        Task order: by average-linkage clustering, as given, or explicit.
    ax : matplotlib Axes, default=None
    cmap : str, default="RdBu_r"

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.plotting import plot_task_relations
    >>> ax = plot_task_relations(np.eye(3), task_names=["a", "b", "c"])
    """
    plt = _pyplot()
    if hasattr(estimator_or_matrix, "task_correlation_"):
        C = to_numpy(estimator_or_matrix.task_correlation_)
        if task_names is None:
            task_names = [str(t) for t in estimator_or_matrix.tasks_]
    else:
        C = unit_diagonal(to_numpy(estimator_or_matrix))
    T = C.shape[0]
    names = [str(t) for t in (task_names if task_names is not None else range(T))]
    if len(names) != T:
        raise ValueError(
            f"The 'task_names' parameter has {len(names)} entries for {T} tasks; "
            "pass one name per row of the matrix."
        )
    if isinstance(order, str):
        if order not in ("cluster", "given"):
            raise ValueError(f"The 'order' parameter must be 'cluster', 'given' or an "
                             f"array of task indices; got {order!r}.")
        idx = task_order(C) if order == "cluster" else np.arange(T)
    else:
        idx = np.asarray(order)
    if ax is None:
        # Grows with T up to the thinned label count, then stays a page wide.
        side = min(T, MAX_TICK_LABELS)
        _, ax = plt.subplots(figsize=(1.0 + 0.25 * side, 0.8 + 0.25 * side) if T > 12
                             else (4.5, 4))
    im = ax.imshow(C[np.ix_(idx, idx)], cmap=cmap, vmin=-1, vmax=1)
    label_task_axes(ax, [names[i] for i in idx])
    ax.set_title("task correlation")
    ax.figure.colorbar(im, ax=ax, fraction=0.046)
    return ax


def plot_objective(estimator, *, ax=None):
    """Objective against iteration of an alternating fit (log scale of the gap).

    Parameters
    ----------
    estimator : fitted estimator with ``objective_history_``
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    plt = _pyplot()
    h = np.asarray(estimator.objective_history_, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    gap = h - h.min()
    ax.semilogy(np.arange(h.size), np.where(gap > 0, gap, np.nan), marker=".")
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective - final objective")
    ax.set_title(f"{type(estimator).__name__}: {h.size - 1} structure steps")
    return ax
