"""Figures of a comparison (matplotlib is optional: ``pip install "rkhsmtl[plot]"``)."""
import os

import numpy as np

from ._evaluate import headline_metric, metric_table


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def plot_metric_by_method(result, path):
    """Headline metric of every split, one column of points per method."""
    plt = _pyplot()
    column = headline_metric(result.dataset.problem_type)
    label = dict((c[0], c[1]) for c in metric_table(result.dataset.problem_type))[column]
    names = [spec.name for spec in result.methods]
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 2.5, 3.8))
    for i, name in enumerate(names):
        values = np.array([r[column] for r in result.rows if r["method"] == name],
                          dtype=float)
        jitter = np.linspace(-0.12, 0.12, values.size) if values.size > 1 else [0.0]
        ax.plot(i + np.asarray(jitter), values, "o", alpha=0.6)
        if np.isfinite(values).any():
            ax.errorbar(i + 0.25, np.nanmean(values), yerr=np.nanstd(values), fmt="s",
                        color="black", capsize=4)
    ax.set_xticks(range(len(names)), names, rotation=20)
    ax.set_ylabel(label)
    ax.set_title(f"{result.dataset.name}: {label} over {result.n_splits} split(s)")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_task_matrix(matrix, path, title, task_names=None):
    """Heatmap of a task matrix, scaled to a correlation (unit diagonal) when possible.

    ``task_names`` label the axes (the data's task labels; default 0..T-1).
    """
    from ..plotting import label_task_axes

    plt = _pyplot()
    A = np.asarray(matrix, dtype=float)
    d = np.sqrt(np.clip(np.diag(A), 0, None))
    if np.all(d > 0):
        A = A / np.outer(d, d)
    bound = max(float(np.abs(A).max()), 1e-12)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    image = ax.imshow(A, cmap="RdBu_r", vmin=-bound, vmax=bound)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_title(title)
    label_task_axes(ax, list(range(A.shape[0])) if task_names is None else task_names)
    ax.set_xlabel("task")
    ax.set_ylabel("task")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_plots(result, out_dir):
    """Write every figure; returns the file names written (relative to ``out_dir``).

    Raises ImportError when matplotlib is missing.

    Parameters
    ----------
    result : ComparisonResult
    out_dir : str or path-like
        Folder for the PNG files.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> import tempfile
    >>> from rkhsmtl.compare import load_dataset, run_comparison, write_plots
    >>> result = run_comparison(load_dataset("synthetic"), ["independent"], n_splits=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     names = write_plots(result, tmp)
    >>> names
    ['metric_by_method.png']
    """
    _pyplot()
    written = ["metric_by_method.png"]
    plot_metric_by_method(result, os.path.join(out_dir, written[0]))
    matrices = dict(result.task_matrices)
    if matrices and result.dataset.true_task_matrix is not None:
        matrices = {"true": result.dataset.true_task_matrix, **matrices}
    for name, A in matrices.items():
        filename = f"task_matrix_{name}.png"
        title = ("planted task correlation" if name == "true"
                 else f"{name}: learned task matrix (split 0)")
        plot_task_matrix(A, os.path.join(out_dir, filename), title,
                         task_names=result.dataset.task_names)
        written.append(filename)
    return written


def plot_learning_curve(result, path):
    """Headline metric and fit time against training rows per task (log x axes).

    Parameters
    ----------
    result : LearningCurveResult
        From :func:`rkhsmtl.compare._learning_curve.run_learning_curve`.
    path : str or path-like
        The PNG file to write.
    """
    plt = _pyplot()
    label = dict((c[0], c[1]) for c in metric_table(result.dataset.problem_type))[
        result.metric]
    fig, (ax, ax_time) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name in result.methods:
        sizes = np.array(result.sizes)
        values = np.array([result.mean(name, s, result.metric) for s in sizes])
        times = np.array([result.mean(name, s, "fit_time_s") for s in sizes])
        style = "--" if "net" in name or name == "neural" else "-"
        ax.plot(sizes, values, style, marker="o", label=name)
        ax_time.plot(sizes, times, style, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("training rows per task")
    ax.set_ylabel(label)
    ax.set_title(f"{result.dataset.name}: mean over {result.n_splits} split(s)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax_time.set_xscale("log")
    ax_time.set_yscale("log")
    ax_time.set_xlabel("training rows per task")
    ax_time.set_ylabel("fit time (s), selection included")
    ax_time.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
