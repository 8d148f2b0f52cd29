"""Scikit-learn estimators assembled from kernel x task structure x solver."""
from ._classifier import MultiTaskKernelClassifier
from ._ridge import MultiTaskKernelRidge
from ._ridge_cv import MultiTaskKernelRidgeCV
from ._structure import (
    ClusteredMultiTaskLearning,
    ClusteredMultiTaskLearningClassifier,
    OutputKernelLearning,
    OutputKernelLearningClassifier,
    TaskRelationLearning,
    TaskRelationLearningClassifier,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)

__all__ = [
    "MultiTaskKernelRidge",
    "MultiTaskKernelRidgeCV",
    "MultiTaskKernelClassifier",
    "TaskStructureLearning",
    "TaskStructureLearningClassifier",
    "OutputKernelLearning",
    "OutputKernelLearningClassifier",
    "TaskRelationLearning",
    "TaskRelationLearningClassifier",
    "ClusteredMultiTaskLearning",
    "ClusteredMultiTaskLearningClassifier",
]
