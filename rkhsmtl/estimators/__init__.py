"""Scikit-learn estimators assembled from kernel x task structure x solver."""
from ._classifier import MultiTaskKernelClassifier
from ._ridge import MultiTaskKernelRidge
from ._ridge_cv import MultiTaskKernelRidgeCV

__all__ = ["MultiTaskKernelRidge", "MultiTaskKernelRidgeCV", "MultiTaskKernelClassifier"]
