"""Train/test splits and cross-validators for multi-task data."""
from ._split import (
    PerTaskShuffleSplit,
    TaskStratifiedKFold,
    landmine_protocol,
    malsar_protocol,
    multitask_train_test_split,
    sarcos_protocol,
    school_protocol,
)

__all__ = [
    "PerTaskShuffleSplit",
    "TaskStratifiedKFold",
    "landmine_protocol",
    "malsar_protocol",
    "multitask_train_test_split",
    "sarcos_protocol",
    "school_protocol",
]
