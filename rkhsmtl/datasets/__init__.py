"""Multi-task data sets: synthetic generators with a planted task structure,
loaders for the classic benchmarks (School, Landmine, SARCOS), and a loader
for user tables.

All loaders return long format: ``X`` (N, d), ``y`` (N,) and an integer
``task`` (N,) in ``0..T-1``.
"""
from ._generators import make_multitask_classification, make_multitask_regression
from ._loaders import (
    DatasetChecksumError,
    DatasetNotFoundError,
    get_data_home,
    load_landmine,
    load_sarcos,
    load_school,
    load_table,
)

__all__ = [
    "make_multitask_regression",
    "make_multitask_classification",
    "get_data_home",
    "load_school",
    "load_landmine",
    "load_sarcos",
    "load_table",
    "DatasetNotFoundError",
    "DatasetChecksumError",
]
