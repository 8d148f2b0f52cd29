"""Learning curves: test error against training rows per task (``--learning-curve``).

Protocol.  For every split, each task's rows are shuffled once; the last
``test_fraction`` of them (at least one row) are the task's test rows, and the
training set of size ``n`` is the first ``n`` of the remaining rows (nested:
the rows of a smaller size are part of every larger one).  A task with fewer
remaining rows than ``n`` gives all it has.  Inputs are standardized on the
training rows, as in :func:`~rkhsmtl.compare.run_comparison`, and every method
chooses its hyperparameters inside the training rows with its usual
selection (``rkhsmtl compare --list-methods``), at every size: a data set's
published hyperparameters (School's) are not used, only its kernel.  The headline metric (pooled
explained variance, or the per-task AUC) and the pooled MSE are measured on
the same test rows for every size, so the curves are paired.
"""
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ._evaluate import evaluate, headline_metric
from ._registry import MethodContext, get_method

DEFAULT_SIZES = (10, 20, 50, 100, 200, 500)
# Independent kernel ridge, the best fixed and a learned kernel MTL, the
# hard-sharing network and the same network per task.
DEFAULT_METHODS = ("independent", "mean", "trace", "neural", "single-task-net")
SINGLE_TASK_NET = "single-task-net"


@dataclass
class LearningCurveResult:
    """Rows of a learning-curve run.

    Parameters
    ----------
    dataset : Dataset
    methods : list of str
    sizes : list of int
        Training rows per task asked for.
    rows : list of dict
        One per method x size x split: ``method``, ``size``, ``split``,
        ``n_train``, the headline metric, ``mse_pooled`` (regression),
        ``fit_time_s`` and ``error``.
    metric : str
        The headline metric column.
    n_splits, random_state
        Protocol options.
    elapsed_s : float
        Wall time.
    notes : list of str

    Examples
    --------
    >>> from rkhsmtl.compare import load_dataset
    >>> from rkhsmtl.compare._learning_curve import run_learning_curve
    >>> curve = run_learning_curve(load_dataset("synthetic"), ["independent"],
    ...                            sizes=(5, 10), n_splits=1)
    >>> curve.table()[0]
    ['method', 'rows/task', 'explained variance (pooled)', 'fit time (s)']
    """

    dataset: object
    methods: list
    sizes: list
    rows: list
    metric: str
    n_splits: int
    random_state: int
    elapsed_s: float = 0.0
    notes: list = field(default_factory=list)

    def mean(self, method, size, column):
        """Mean of ``column`` over the splits (NaN when every split failed)."""
        values = np.array([r[column] for r in self.rows
                           if r["method"] == method and r["size"] == size], dtype=float)
        values = values[np.isfinite(values)]
        return float(values.mean()) if values.size else np.nan

    def table(self):
        """Header and rows of the mean-over-splits table (lists of str)."""
        label = ("explained variance (pooled)" if self.metric == "ev_pooled"
                 else "AUC (per task)")
        out = [["method", "rows/task", label, "fit time (s)"]]
        for method in self.methods:
            for size in self.sizes:
                value = self.mean(method, size, self.metric)
                shown = (f"{100 * value:.1f}%" if self.metric == "ev_pooled"
                         else f"{value:.3f}") if np.isfinite(value) else "failed"
                out.append([method, str(size), shown,
                            f"{self.mean(method, size, 'fit_time_s'):.2f}"])
        return out


def _nested_splits(task, n_splits, test_fraction, random_state):
    """Per split: (test rows, per-task training order) with a fixed test set."""
    rng = np.random.RandomState(random_state)
    out = []
    for _ in range(n_splits):
        test, orders = [], []
        for t in np.unique(task):
            rows = rng.permutation(np.flatnonzero(task == t))
            n_test = max(1, int(round(test_fraction * rows.size)))
            test.append(rows[rows.size - n_test:])
            orders.append(rows[:rows.size - n_test])
        out.append((np.sort(np.concatenate(test)), orders))
    return out


def _factory(name):
    if name == SINGLE_TASK_NET:
        from ._builtin import single_task_net

        return single_task_net
    return get_method(name).factory


def run_learning_curve(dataset, methods=None, *, sizes=DEFAULT_SIZES, n_splits=3,
                       test_fraction=0.3, random_state=0, progress=None):
    """Fit every method on growing training sets and score it on fixed test rows.

    Parameters
    ----------
    dataset : Dataset
        From :func:`~rkhsmtl.compare.load_dataset`.
    methods : list of str, default=None
        Registered method names, plus ``"single-task-net"`` (the ``neural``
        network trained per task); None: ``DEFAULT_METHODS``.
    sizes : sequence of int, default=(10, 20, 50, 100, 200, 500)
        Training rows per task.  Sizes that no task can give are dropped.
    n_splits : int, default=3
        Repeats with different test rows and training orders.
    test_fraction : float, default=0.3
        Share of each task's rows kept for testing.
    random_state : int, default=0
        Seed of the splits and of the methods.
    progress : callable, default=None
        Called with one line per fit.

    Returns
    -------
    result : LearningCurveResult
    """
    methods = list(DEFAULT_METHODS if methods is None else methods)
    factories = {}
    for name in methods:
        try:
            factories[name] = _factory(name)
        except KeyError:
            raise ValueError(
                f"unknown method {name!r} for the learning curve; use registered "
                f"methods (rkhsmtl compare --list-methods) or {SINGLE_TASK_NET!r}."
            ) from None
    X, y, task = dataset.X, dataset.y, dataset.task
    splits = _nested_splits(task, n_splits, test_fraction, random_state)
    largest = max(len(o) for o in splits[0][1])
    kept = sorted({int(s) for s in sizes if int(s) >= 2})
    notes = []
    dropped = [s for s in kept if s > largest and s != kept[0]]
    kept = [s for s in kept if s not in dropped]
    if dropped:
        notes.append(f"sizes {dropped} dropped: no task has more than {largest} "
                     "training rows")
    metric = headline_metric(dataset.problem_type)
    # Published hyperparameters were chosen on the full training set; at 10
    # rows per task they would be wrong, so every method selects its own at
    # every size.  The kernel (e.g. School's RBF gamma) is kept.
    kernel_only = {k: v for k, v in dataset.hyperparameters.items() if k == "kernel"}
    rows, start = [], time.perf_counter()
    with threadpool_limits(limits=1):   # small fits: threads cost more than they give
        for k, (test, orders) in enumerate(splits):
            for size in kept:
                train = np.sort(np.concatenate([o[:size] for o in orders]))
                scaler = StandardScaler().fit(X[train])
                X_tr, X_te = scaler.transform(X[train]), scaler.transform(X[test])
                context = MethodContext(dataset.name, dataset.problem_type,
                                        dataset.n_tasks, dataset.n_features, len(train),
                                        int(random_state), kernel_only)
                for name in methods:
                    row = {"method": name, "size": size, "split": k,
                           "n_train": len(train), metric: np.nan,
                           "mse_pooled": np.nan, "fit_time_s": np.nan, "error": ""}
                    try:
                        model = factories[name](context)
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            t0 = time.perf_counter()
                            model.fit(X_tr, y[train], task=task[train])
                            row["fit_time_s"] = time.perf_counter() - t0
                            scores = evaluate(dataset.problem_type, model, X_te, y[test],
                                              task[test])
                        row[metric] = scores[metric]
                        row["mse_pooled"] = scores.get("mse_pooled", np.nan)
                        status = f"{metric}={scores[metric]:.3f}  fit {row['fit_time_s']:.2f}s"
                    except Exception as exc:  # one failing fit leaves the curve running
                        row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
                        notes.append(f"{name} failed at {size} rows/task, split {k}: "
                                     f"{row['error']}")
                        status = "FAILED"
                    rows.append(row)
                    if progress is not None:
                        progress(f"[{time.perf_counter() - start:7.1f}s] split {k + 1}/"
                                 f"{n_splits}  {size:>4} rows/task  {name:<16} {status}")
    return LearningCurveResult(dataset, methods, kept, rows, metric, n_splits,
                               int(random_state), time.perf_counter() - start, notes)


def crossover(result, method, reference):
    """Smallest size from which ``method`` stays at least as good as ``reference``.

    Returns None when it never catches up (or is better at every size: then
    the smallest size).
    """
    better = [result.mean(method, s, result.metric) >= result.mean(reference, s, result.metric)
              for s in result.sizes]
    for i in range(len(better)):
        if all(better[i:]):
            return result.sizes[i]
    return None


def write_learning_curve(result, output, command_line):
    """``learning_curve.csv``, ``learning_curve.md`` and (with matplotlib) the figure.

    Returns the names of the files written in ``output``.
    """
    import csv
    import os

    from ._report import format_markdown_table, machine_description

    os.makedirs(output, exist_ok=True)
    fields = ["method", "size", "split", "n_train", result.metric, "mse_pooled",
              "fit_time_s", "error"]
    with open(os.path.join(output, "learning_curve.csv"), "w", newline="",
              encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in result.rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, (float, np.floating)) else v)
                             for k, v in row.items()})
    table = result.table()
    lines = [f"# rkhsmtl learning curve: {result.dataset.name}", "",
             f"- Command: `{command_line}`",
             f"- Machine: {machine_description()}",
             f"- Data set: {result.dataset.description}",
             f"- Protocol: {result.n_splits} split(s); per task a fixed test share, "
             "nested training sets of the given rows per task; hyperparameters "
             f"selected inside each training set; random_state={result.random_state}",
             f"- Wall time: {result.elapsed_s:.1f} s", "",
             format_markdown_table(table[0], table[1:])]
    if result.notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result.notes]
    written = ["learning_curve.csv", "learning_curve.md"]
    try:
        from ._plots import plot_learning_curve

        plot_learning_curve(result, os.path.join(output, "learning_curve.png"))
        written.append("learning_curve.png")
        lines += ["", "![learning curve](learning_curve.png)"]
    except ImportError:
        pass
    with open(os.path.join(output, "learning_curve.md"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return written


def synthetic_with_sizes(sizes, test_fraction=0.3):
    """The built-in synthetic regression tasks with enough rows for ``sizes``.

    The same task functions as ``load_dataset("synthetic")`` (its generator
    parameters), with more rows per task so that the largest size still
    leaves ``test_fraction`` of each task for testing.
    """
    from ..datasets import make_multitask_regression
    from ._datasets import _SYNTHETIC, Dataset

    n = int(np.ceil(max(sizes) / (1 - test_fraction))) + 1
    params = dict(_SYNTHETIC, n_samples=n)
    X, y, task, A = make_multitask_regression(noise=0.2, **params)
    description = (f"built-in synthetic regression (make_multitask_regression, the "
                   f"default compare tasks): {params['n_tasks']} tasks in "
                   f"{params['n_clusters']} planted clusters, {n} rows per task, "
                   f"{params['n_features']} features")
    return Dataset("synthetic", description, "regression", X, y.astype(float), task,
                   list(range(params["n_tasks"])), test_size=test_fraction,
                   true_task_matrix=A)


def run_from_cli(args, argv, dataset, say, error):
    """``rkhsmtl compare --learning-curve``: run, print the table, write files."""
    import shlex

    from ._report import format_text_table

    sizes = args.sizes or list(DEFAULT_SIZES)
    if dataset.name == "synthetic":
        dataset = synthetic_with_sizes(sizes)
    say(f"data set: {dataset.description}")
    try:
        result = run_learning_curve(dataset, args.methods, sizes=sizes,
                                    n_splits=args.splits, random_state=args.random_state,
                                    progress=say)
    except ValueError as exc:
        return error(exc)
    for note in result.notes:
        say(f"note: {note}")
    table = result.table()
    print(f"\n{dataset.name}: learning curve, {result.n_splits} split(s); mean over "
          "splits\n")
    print(format_text_table(table[0], table[1:]))
    if args.output:
        written = write_learning_curve(result, args.output,
                                       "rkhsmtl " + shlex.join(argv))
        say(f"wrote {', '.join(written)} to {args.output}")
    return 0
