"""Instance-based multi-task learning by distribution matching (Bickel et al., 2008).

Each task's model is trained on the whole pool of examples, reweighted so that
the pool is distributed like the task:

* :class:`DistributionMatchingWeights` estimates the weights
  :math:`r_t(i) = \\hat p(t \\mid x_i[, y_i]) / \\pi_t` from a task-membership
  classifier;
* :class:`DistributionMatchingRegressor` and
  :class:`DistributionMatchingClassifier` fit one weighted kernel ridge per
  task, all tasks in one shared-input solve;
* :func:`plot_borrowing` shows how much each task borrows from the others.
"""
from ._estimators import DistributionMatchingClassifier, DistributionMatchingRegressor
from ._plotting import plot_borrowing
from ._weights import DistributionMatchingWeights, borrowing_matrix, effective_sample_size

__all__ = [
    "DistributionMatchingWeights",
    "DistributionMatchingRegressor",
    "DistributionMatchingClassifier",
    "plot_borrowing",
    "effective_sample_size",
    "borrowing_matrix",
]
