"""Linear multi-task learning: the MALSAR / RMTL family of structured penalties.

A model is a data-fitting term (squared or logistic, per-task intercepts) x a
penalty (one module per proximal operator in :mod:`rkhsmtl.linear.penalties`)
x one FISTA engine.  numpy only.
"""
from ._cv import LinearMultiTaskClassifierCV, LinearMultiTaskRegressorCV
from ._estimators import LinearMultiTaskClassifier, LinearMultiTaskRegressor
from ._fista import fista
from ._losses import MultiTaskDatafit
from ._regularization_path import regularization_path
from ._plotting import plot_cv_curve, plot_objective
from ._simulate import make_linear_multitask
from .penalties import chain_graph

__all__ = [
    "LinearMultiTaskRegressor",
    "LinearMultiTaskClassifier",
    "LinearMultiTaskRegressorCV",
    "LinearMultiTaskClassifierCV",
    "regularization_path",
    "make_linear_multitask",
    "chain_graph",
    "plot_cv_curve",
    "plot_objective",
    "fista",
    "MultiTaskDatafit",
]
