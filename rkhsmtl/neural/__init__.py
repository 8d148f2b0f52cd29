"""Hard-parameter-sharing neural networks for multi-task learning.

A shared multi-layer trunk with one head per task, trained by analytic
backpropagation and Adam on the library's array backends (numpy, CuPy), with
loss balancing by equal weights, uncertainty weighting, GradNorm or PCGrad.
:class:`HardSharingNetRegressorCV` and :class:`HardSharingNetClassifierCV`
choose weight decay, width and epochs by task-stratified K-fold.
"""
from ._classifier import HardSharingNetClassifier
from ._cv import HardSharingNetClassifierCV, HardSharingNetRegressorCV
from ._regressor import HardSharingNetRegressor

__all__ = ["HardSharingNetClassifier", "HardSharingNetClassifierCV",
           "HardSharingNetRegressor", "HardSharingNetRegressorCV"]
