"""Scikit-learn estimators assembled from kernel x task structure x solver."""
from ._ridge import MultiTaskKernelRidge

__all__ = ["MultiTaskKernelRidge"]
