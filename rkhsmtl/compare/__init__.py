"""Side-by-side comparison of multi-task methods (the ``rkhsmtl compare`` command).

The pieces, in the order data flows through them:

* :func:`load_dataset`: built-in synthetic data, School / Landmine / SARCOS,
  or a user ``.npz`` / ``.csv`` table, with the data set's split protocol;
* the method registry: :func:`register_method` maps a name to a factory that
  builds an unfitted estimator from a :class:`MethodContext`;
* :func:`run_comparison`: repeated per-task splits, one fit per method and
  split, per-task and pooled metrics, fit times;
* reports: :func:`write_report` (``report.md``), :func:`write_csv`
  (``results.csv``) and :func:`write_plots` (figures, needs matplotlib).

Examples
--------
>>> from rkhsmtl import MultiTaskKernelRidge
>>> from rkhsmtl.compare import (load_dataset, register_method, run_comparison,
...                              unregister_method)
>>> @register_method("mean-0.5", problem_types=("regression",),
...                  description="mean-regularized, omega=0.5, alpha=0.1")
... def mean_half(context):
...     return MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", omega=0.5)
>>> result = run_comparison(load_dataset("synthetic"), ["independent", "mean-0.5"],
...                         n_splits=1)
>>> [spec.name for spec in result.methods]
['independent', 'mean-0.5']
>>> unregister_method("mean-0.5")
"""
from ._datasets import BUILTIN_DATASETS, Dataset, DatasetError, load_dataset
from ._plots import write_plots
from ._registry import (
    PROBLEM_TYPES,
    MethodContext,
    MethodSpec,
    get_method,
    list_methods,
    register_method,
    unregister_method,
)
from ._report import write_csv, write_report
from ._runner import ComparisonResult, MethodError, run_comparison
from ._selection import SelectOnSubsample, StructureOnSubsample, TaskGridSearch

__all__ = [
    "BUILTIN_DATASETS",
    "PROBLEM_TYPES",
    "ComparisonResult",
    "Dataset",
    "DatasetError",
    "MethodContext",
    "MethodError",
    "MethodSpec",
    "SelectOnSubsample",
    "StructureOnSubsample",
    "TaskGridSearch",
    "get_method",
    "list_methods",
    "load_dataset",
    "register_method",
    "run_comparison",
    "unregister_method",
    "write_csv",
    "write_plots",
    "write_report",
]
