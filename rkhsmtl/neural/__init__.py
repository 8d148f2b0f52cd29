"""Hard-parameter-sharing neural networks for multi-task learning.

A shared multi-layer trunk with one head per task, trained by analytic
backpropagation and Adam on the library's array backends (numpy, CuPy), with
loss balancing by equal weights, uncertainty weighting, GradNorm or PCGrad.
"""
from ._classifier import HardSharingNetClassifier
from ._regressor import HardSharingNetRegressor

__all__ = ["HardSharingNetClassifier", "HardSharingNetRegressor"]
