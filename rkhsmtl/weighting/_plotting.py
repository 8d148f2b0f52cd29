"""Borrowing diagnostics of distribution matching (matplotlib, optional)."""
import numpy as np

from ..plotting import _pyplot


def plot_borrowing(estimator_or_matrix, task_names=None, ax=None):
    """Heat map of the borrowing matrix: row t shows where task t's weight sits.

    Parameters
    ----------
    estimator_or_matrix : fitted estimator or array-like of shape (n_tasks, n_tasks)
        Anything with a ``borrowing_`` attribute (the weights, regressor or
        classifier of :mod:`rkhsmtl.weighting`), or the matrix itself.
    task_names : sequence of str, default=None
        Axis labels; default the estimator's ``tasks_`` (or 0..T-1).
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.weighting import plot_borrowing
    >>> ax = plot_borrowing(np.array([[0.8, 0.2], [0.1, 0.9]]), task_names=["a", "b"])
    >>> ax.get_xlabel()
    'examples of task s'
    """
    B = getattr(estimator_or_matrix, "borrowing_", estimator_or_matrix)
    B = np.asarray(B, dtype=np.float64)
    if B.ndim != 2 or B.shape[0] != B.shape[1]:
        raise ValueError(
            "plot_borrowing needs a fitted distribution-matching estimator or a "
            f"square (n_tasks, n_tasks) matrix; got shape {B.shape}.")
    T = B.shape[0]
    if task_names is None:
        task_names = getattr(estimator_or_matrix, "tasks_", np.arange(T))
    task_names = [str(t) for t in task_names]
    if len(task_names) != T:
        raise ValueError(
            f"'task_names' has {len(task_names)} entries but the matrix has {T} tasks; "
            "pass one name per task.")
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(B, vmin=0.0, vmax=max(1e-12, float(B.max())), cmap="viridis")
    ax.figure.colorbar(image, ax=ax, label="share of task t's weight")
    ax.set_xticks(range(T), task_names, rotation=90 if T > 8 else 0)
    ax.set_yticks(range(T), task_names)
    ax.set_xlabel("examples of task s")
    ax.set_ylabel("task t")
    ax.set_title("Borrowing between tasks")
    return ax
