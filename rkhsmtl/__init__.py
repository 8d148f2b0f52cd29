"""rkhsmtl: multi-task learning with kernel methods in vector-valued RKHSs.

Estimators fit several related prediction tasks jointly through separable
(matrix-valued) kernels k(x, x') A[s, t], solved by eigendecompositions that
are computed once and reused.
"""
from .estimators import (
    ClusteredMultiTaskLearning,
    ClusteredMultiTaskLearningClassifier,
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    MultiTaskKernelRidgeCV,
    OutputKernelLearning,
    OutputKernelLearningClassifier,
    TaskRelationLearning,
    TaskRelationLearningClassifier,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)

__version__ = "0.1.0.dev0"

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
    "__version__",
]
