r"""Predictions for tasks not seen in training.

Two ways to predict a task label that is not in ``tasks_``:

* **descriptors** (``task_matrix="descriptors"``): the new task's row of the
  task matrix, :math:`a_*[t] = \omega\,k_T(z_*, z_t)`, combines the fitted
  task-space coefficients (:mod:`rkhsmtl.tasks._descriptors`), and its
  intercept comes from a kernel ridge on the fitted intercepts;
* **the mean fallback** (``unknown_task="mean"``, any estimator): the average
  of the fitted task functions, :math:`\bar f(x) = \frac1T\sum_t (f_t(x) + b_t)`.
  Since every fitted model has :math:`B = V A` (B the prediction
  coefficients, V task-space coefficients), this is the prediction whose
  task-matrix row is the average of A's rows over the training tasks,
  :math:`\bar a = A 1 / T`, with the mean intercept.
"""
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from .._backend import asarray_on, to_numpy
from ..tasks._descriptors import (
    TASK_KERNELS,
    check_task_features,
    descriptor_task_matrix,
    task_space_coefficients,
    unseen_intercepts,
    unseen_task_rows,
)

UNKNOWN_TASK = ("raise", "mean")

#: Parameters of the estimators that take ``task_matrix="descriptors"``.
DESCRIPTOR_CONSTRAINTS = {
    "task_kernel": [StrOptions(set(TASK_KERNELS)), callable],
    "task_gamma": [Interval(Real, 0, None, closed="neither"), None],
    "task_kernel_params": [dict, None],
    "task_intercept_alpha": [Interval(Real, 0, None, closed="neither")],
}


def _key(label):
    return label.item() if hasattr(label, "item") else label


def _is_frame(obj):
    return hasattr(obj, "iloc") and hasattr(obj, "index")


class DescriptorMixin:
    """Fit-time descriptors and the prediction of unseen tasks."""

    def _uses_descriptors(self, fitted=False):
        if fitted:
            return getattr(self, "task_features_", None) is not None
        tm = getattr(self, "task_matrix", None)
        return isinstance(tm, str) and tm == "descriptors"

    # ------------------------------------------------------------------ fit
    def _set_task_features(self, data, task_features):
        """Validate the fit parameter ``task_features`` against ``data.tasks``.

        Ignored (and nothing stored) unless ``task_matrix="descriptors"``, so
        that a grid over ``task_matrix`` can route the same fit parameters.
        """
        self.task_features_ = None
        self._extra_task_features = None
        if not self._uses_descriptors():
            return
        if task_features is None:
            raise ValueError(
                "task_matrix='descriptors' needs the 'task_features' fit parameter: "
                f"one row of descriptors per task ({data.n_tasks} tasks, in the "
                "order of the sorted task labels / the columns of Y), or a pandas "
                "DataFrame indexed by task label. Call fit(X, y, task=labels, "
                "task_features=Z); in scikit-learn tools route it with "
                "set_fit_request(task_features=True)."
            )
        labels, Z = check_task_features(task_features, data.tasks)
        T = data.n_tasks
        self.task_features_ = Z[:T]
        # Rows of tasks without training data (a DataFrame may carry them):
        # kept so predict can serve those tasks without task_features.
        self._extra_task_features = (labels[T:], Z[T:])

    def _descriptor_matrix(self, omega):
        Z = getattr(self, "task_features_", None)
        if Z is None or not hasattr(self, "task_kernel"):
            raise ValueError(
                f"task_matrix='descriptors' is not available in {type(self).__name__}"
                " without the 'task_features' fit parameter. Use "
                "MultiTaskKernelRidge or MultiTaskKernelClassifier with "
                "fit(X, y, task=labels, task_features=Z) (GridSearchCV selects "
                "alpha and omega with task_features routed)."
            )
        self._descriptor_omega = float(omega)
        return descriptor_task_matrix(Z, self.task_kernel, self.task_gamma,
                                      self.task_kernel_params, omega)

    def _store_unseen_coef(self, problem, A, solution):
        """Task-space coefficients V (B = V A) that new tasks' rows combine."""
        self._unseen_coef, self._unseen_codes = None, None
        if not self._uses_descriptors(fitted=True):
            return
        if problem.solver == "features":
            W = solution.dual_coef
            V = task_space_coefficients(to_numpy(W), to_numpy(A))
            self._unseen_coef = asarray_on(V, problem.xp, like=W)
        elif problem.layout == "shared":
            self._unseen_coef = solution.coef                 # C (n, T)
        else:
            self._unseen_coef = solution.coef                 # c (N,), task-sorted
            self._unseen_codes = np.asarray(problem.codes)

    # -------------------------------------------------------------- predict
    def _check_unseen_request(self, task_features, unknown_task):
        if not (isinstance(unknown_task, str) and unknown_task in UNKNOWN_TASK):
            raise ValueError(
                "The 'unknown_task' parameter of predict must be 'raise' (an "
                "unknown task label is an error) or 'mean' (the average of the "
                f"fitted task functions); got {unknown_task!r}."
            )
        if task_features is not None and not self._uses_descriptors(fitted=True):
            raise ValueError(
                "The 'task_features' parameter of predict needs a model fitted with "
                f"task_matrix='descriptors'; this {type(self).__name__} was fitted "
                f"with task_matrix={getattr(self, 'task_matrix', None)!r}. Refit "
                "with task_matrix='descriptors' and task_features, or drop "
                "task_features (unknown_task='mean' predicts new tasks by the "
                "average task function)."
            )

    def _given_descriptors(self, task_features, new_labels):
        """``{label: descriptor}`` from predict's ``task_features``, checked
        against the stored descriptors of the same labels."""
        p = self.task_features_.shape[1]
        if _is_frame(task_features):
            labels, Z = check_task_features(task_features, [], n_features=p)
        else:
            if len(new_labels) == 0:
                raise ValueError(
                    "The 'task_features' array of predict gives the descriptors of "
                    "the new tasks in 'task' (one row per new label, sorted), but "
                    "every label in 'task' was seen in training and uses its "
                    "stored descriptors. Drop task_features, or pass a DataFrame "
                    "indexed by task label."
                )
            labels, Z = check_task_features(task_features, new_labels, n_features=p)
        stored = self._stored_descriptors()
        given = {}
        for label, z in zip(labels, Z):
            known = stored.get(label)
            if known is not None and not np.allclose(z, known, rtol=1e-9, atol=1e-12):
                raise ValueError(
                    f"The 'task_features' row of task {label!r} disagrees with the "
                    f"descriptors stored at fit ({np.round(known, 6).tolist()[:8]} "
                    f"against {np.round(z, 6).tolist()[:8]}). A seen task keeps "
                    "its fit descriptors: drop its row from task_features, or refit "
                    "with the new descriptors."
                )
            given[label] = z
        return given

    def _stored_descriptors(self):
        table = {_key(t): z for t, z in zip(self.tasks_, self.task_features_)}
        extra = getattr(self, "_extra_task_features", None)
        if extra is not None:
            table.update({_key(t): z for t, z in zip(*extra)})
        return table

    def _with_unseen_tasks(self, xp, X, F, new_labels, task_features, unknown_task):
        """Append one column per new label to the seen tasks' scores F."""
        descriptors = self._uses_descriptors(fitted=True)
        given = (self._given_descriptors(task_features, new_labels)
                 if task_features is not None else {})
        if len(new_labels) == 0:
            return F
        table = {**self._stored_descriptors(), **given} if descriptors else {}
        found = [lab for lab in new_labels if lab in table]
        missing = [lab for lab in new_labels if lab not in table]
        if missing and unknown_task == "raise":
            raise ValueError(
                f"Unknown task label(s) {[str(t) for t in missing[:10]]} in 'task': "
                f"the model was fitted on tasks {list(map(str, self.tasks_))[:20]} "
                "and has no descriptors for these. Pass their descriptors with "
                "predict(X, task=labels, task_features=Z) (a DataFrame indexed by "
                "task label, or an array with one row per new label in sorted "
                "order), or unknown_task='mean' to predict them by the average of "
                "the fitted task functions."
            )
        columns = {}
        if found:
            Z = np.stack([table[lab] for lab in found])
            new = self._descriptor_scores(xp, X, Z, like=F)
            columns.update({lab: new[:, j] for j, lab in enumerate(found)})
        if missing:
            mean = xp.mean(F, axis=1)
            columns.update({lab: mean for lab in missing})
        return xp.concat([F, xp.stack([columns[lab] for lab in new_labels], axis=1)],
                         axis=1)

    def _descriptor_scores(self, xp, X, Z, like):
        """f_*(x) + b_* for new tasks with descriptors Z (rows)."""
        rows = unseen_task_rows(Z, self.task_features_, self.task_kernel,
                                self.task_gamma, self.task_kernel_params,
                                self._descriptor_omega)
        b_new = unseen_intercepts(to_numpy(self.task_matrix_), rows,
                                  to_numpy(self.intercept_), self.task_intercept_alpha)
        R = asarray_on(rows.T, xp, like=like)                    # (T, U)
        b_new = asarray_on(b_new, xp, like=like)
        V = self._unseen_coef
        if getattr(self, "feature_map_", None) is not None:
            return self._scores(xp, X, None, V @ R, b_new)
        if self._unseen_codes is None:
            dual = V @ R                                         # shared: C a_*
        else:
            codes = self._unseen_codes
            idx = codes if isinstance(V, np.ndarray) else xp.asarray(codes)
            dual = V[:, None] * xp.take(R, idx, axis=0)          # c_i a_*[t_i]
        return self._scores(xp, X, dual, None, b_new)
