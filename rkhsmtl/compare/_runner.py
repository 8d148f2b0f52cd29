"""Run registered methods over repeated per-task splits and collect metrics."""
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .._backend import to_numpy
from ._evaluate import evaluate, headline_metric, metric_table
from ._registry import MethodContext, get_method, list_methods, load_notes
from ._datasets import DatasetError
from ._protocols import PROTOCOLS, fit_params, leave_tasks_out, protocol_of, scored


_SMALL_PROBLEM_ROWS = 3000


class MethodError(ValueError):
    """Methods that do not exist or do not apply; the message says what to do.

    Examples
    --------
    >>> from rkhsmtl.compare import MethodError
    >>> issubclass(MethodError, ValueError)
    True
    """


@dataclass
class ComparisonResult:
    """Everything a comparison produced.

    Parameters
    ----------
    dataset : Dataset
    methods : list of MethodSpec
        Methods that ran (in the order asked for).
    rows : list of dict
        One row per method x split: ``method``, ``split``, ``n_train``,
        ``n_test``, every metric column, ``fit_time_s``, ``predict_time_s``,
        ``selected`` (chosen hyperparameters) and ``error``.
    skipped : dict of str to str
        Methods that could not be built, with the reason.
    notes : list of str
        Warnings and failures worth telling the user about.
    task_matrices : dict of str to ndarray
        Learned task matrices (first split) of methods that learn one.
    n_splits, test_size, random_state
        The protocol options used.
    elapsed_s : float, default=0.0
        Wall time of the whole run.
    metric_columns : list of str
        Metric columns of ``rows``, in table order.

    Examples
    --------
    >>> from rkhsmtl.compare import load_dataset, run_comparison
    >>> result = run_comparison(load_dataset("synthetic"), ["independent"], n_splits=1)
    >>> type(result).__name__, len(result.rows), result.rows[0]["method"]
    ('ComparisonResult', 1, 'independent')
    """

    dataset: object
    methods: list
    rows: list
    skipped: dict
    notes: list
    task_matrices: dict
    n_splits: int
    test_size: Optional[float]
    random_state: int
    elapsed_s: float = 0.0
    metric_columns: list = field(default_factory=list)

    def summary(self):
        """``{method: {column: (mean, std)}}`` over splits (NaN-aware, std with ddof=0)."""
        out = {}
        for spec in self.methods:
            rows = [r for r in self.rows if r["method"] == spec.name]
            stats = {}
            for column in self.metric_columns + ["fit_time_s"]:
                values = np.array([r[column] for r in rows], dtype=float)
                finite = values[np.isfinite(values)]
                stats[column] = ((float(finite.mean()), float(finite.std()))
                                 if finite.size else (np.nan, np.nan))
            out[spec.name] = stats
        return out


def resolve_methods(names, problem_type):
    """Method specs for ``--methods`` (None: every method that applies)."""
    if names is None:
        return list_methods(problem_type)
    specs = []
    for name in names:
        try:
            spec = get_method(name)
        except KeyError:
            known = ", ".join(s.name for s in list_methods(problem_type))
            raise MethodError(
                f"unknown method {name!r} in --methods; methods for {problem_type}: "
                f"{known} (see 'rkhsmtl compare --list-methods')."
            ) from None
        if not spec.applies_to(problem_type):
            raise MethodError(
                f"method {name!r} does not apply to {problem_type} (it handles "
                f"{', '.join(spec.problem_types)}); drop it from --methods."
            )
        if spec not in specs:
            specs.append(spec)
    if not specs:
        raise MethodError("--methods is empty; name at least one method.")
    return specs


def _selected_hyperparameters(estimator):
    """Short text of what a fitted selector chose (empty if nothing was selected)."""
    chosen = getattr(estimator, "best_params_", None)
    if chosen is None and hasattr(estimator, "alpha_"):
        chosen = {"alpha": estimator.alpha_}
        if getattr(estimator, "omega_", None) is not None:
            chosen["omega"] = estimator.omega_
    if not chosen:
        return ""
    # integers (a network's max_epochs) stay integers: 1000, not 1e+03
    return " ".join(f"{k}={int(v)}" if isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                    else f"{k}={float(v):.3g}" if isinstance(v, (float, np.floating))
                    else f"{k}={v}" for k, v in sorted(chosen.items()))


def _fit_and_score(spec, context, dataset, X_tr, y_tr, t_tr, X_te, y_te, t_te):
    estimator = spec.factory(context)
    protocol = protocol_of(dataset)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        estimator.fit(X_tr, y_tr, task=t_tr, **fit_params(protocol, estimator, X_tr, t_tr))
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        scores = evaluate(dataset.problem_type,
                          scored(protocol, estimator, X_te, t_te, dataset.problem_type),
                          X_te, y_te, t_te)
        predict_time = time.perf_counter() - start
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return estimator, scores, fit_time, predict_time, messages


def run_comparison(dataset, methods=None, *, n_splits=5, test_size=None, random_state=0,
                   progress: Optional[Callable[[str], None]] = None, protocol="per-task"):
    """Fit and score methods on repeated per-task splits of a data set.

    Parameters
    ----------
    dataset : Dataset
        From :func:`load_dataset`.
    methods : list of str, default=None
        Registered method names; None runs every method for the problem type.
    n_splits : int, default=5
        Number of random splits.
    test_size : float, default=None
        Per-task test fraction; None follows the data set's protocol.
    random_state : int, default=0
        Seed of the splits and of the methods.
    progress : callable, default=None
        Called with one line of text per method x split.
    protocol : {"per-task", "new-tasks"}, default="per-task"
        ``"new-tasks"``: whole tasks held out (``test_size`` is then the
        fraction of tasks, default 0.2) and scored as tasks never seen in
        training (:mod:`rkhsmtl.compare._protocols`).

    Returns
    -------
    result : ComparisonResult

    Examples
    --------
    >>> from rkhsmtl.compare import load_dataset, run_comparison
    >>> result = run_comparison(load_dataset("synthetic"), ["independent", "mean"],
    ...                         n_splits=1)
    >>> sorted(result.summary())
    ['independent', 'mean']
    """
    specs = resolve_methods(methods, dataset.problem_type)
    if protocol not in PROTOCOLS:
        raise MethodError(f"unknown protocol {protocol!r}; use one of {list(PROTOCOLS)}.")
    if protocol == "new-tasks":
        dataset = leave_tasks_out(dataset)
    X, y, task = dataset.X, dataset.y, dataset.task
    try:
        splits = list(dataset.splitter(n_splits, random_state, test_size)
                      .split(X, y, groups=task))
    except ValueError as exc:
        raise DatasetError(f"cannot split data set {dataset.name!r}: {exc}") from None
    context = MethodContext(dataset.name, dataset.problem_type, dataset.n_tasks,
                            dataset.n_features, len(splits[0][0]), int(random_state),
                            dataset.hyperparameters)
    skipped, notes, ran = {}, load_notes(), []
    for spec in specs:
        try:
            spec.factory(context)
        except ImportError as exc:
            skipped[spec.name] = f"an optional module is missing ({exc})"
        except Exception as exc:  # a broken plugin must not stop the others
            skipped[spec.name] = f"its factory failed ({type(exc).__name__}: {exc})"
        else:
            ran.append(spec)
    for name, reason in skipped.items():
        notes.append(f"skipped method {name!r}: {reason}")
    if progress is not None:
        progress(f"data set: {dataset.description}")
        progress(f"methods: {', '.join(s.name for s in ran) or 'none'}; "
                 f"{dataset.protocol_text(n_splits, test_size)}")
    headline = headline_metric(dataset.problem_type)
    columns = [c[0] for c in metric_table(dataset.problem_type)]
    rows, task_matrices = [], {}
    # Small problems gain nothing from threaded BLAS, and on a loaded machine
    # its threads spinning on tiny matrices made fits 10x slower (measured).
    blas_threads = 1 if context.n_train_rows <= _SMALL_PROBLEM_ROWS else None
    start = time.perf_counter()
    with threadpool_limits(limits=blas_threads):
        _run_splits(splits, ran, context, dataset, columns, headline, rows, notes,
                    task_matrices, progress, start)
    return ComparisonResult(dataset, ran, rows, skipped, notes, task_matrices,
                            n_splits, test_size, int(random_state),
                            elapsed_s=time.perf_counter() - start, metric_columns=columns)


def _run_splits(splits, ran, context, dataset, columns, headline, rows, notes,
                task_matrices, progress, start):
    X, y, task = dataset.X, dataset.y, dataset.task
    for k, (train, test) in enumerate(splits):
        scaler = StandardScaler().fit(X[train])
        X_tr, X_te = scaler.transform(X[train]), scaler.transform(X[test])
        for spec in ran:
            row = {"method": spec.name, "split": k, "n_train": len(train),
                   "n_test": len(test), **{c: np.nan for c in columns},
                   "fit_time_s": np.nan, "predict_time_s": np.nan, "selected": "",
                   "error": ""}
            try:
                est, scores, fit_time, pred_time, messages = _fit_and_score(
                    spec, context, dataset, X_tr, y[train], task[train], X_te, y[test],
                    task[test])
            except Exception as exc:  # one failing method leaves the others running
                row["error"] = f"{type(exc).__name__}: {exc}".replace("\n", " ")
                notes.append(f"{spec.name} failed on split {k}: {row['error']}")
                status = "FAILED"
            else:
                row.update(scores, fit_time_s=fit_time, predict_time_s=pred_time,
                           selected=_selected_hyperparameters(est))
                notes.extend(f"{spec.name}: {m}" for m in messages
                             if f"{spec.name}: {m}" not in notes)
                if spec.learns_task_matrix and spec.name not in task_matrices:
                    A = getattr(est, "task_matrix_", None)
                    if A is None:   # a selection wrapper: look at the refitted model
                        A = getattr(getattr(est, "estimator_", None), "task_matrix_", None)
                    if A is not None:
                        task_matrices[spec.name] = np.asarray(to_numpy(A), dtype=float)
                status = f"{headline}={scores[headline]:.3f}  fit {fit_time:.2f}s"
            rows.append(row)
            if progress is not None:
                progress(f"[{time.perf_counter() - start:7.1f}s] split {k + 1}/"
                         f"{len(splits)}  {spec.name:<14} {status}")
