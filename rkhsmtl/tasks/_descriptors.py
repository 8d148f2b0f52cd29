r"""Task matrices from task descriptors, and the rows of tasks never seen.

Each task t comes with a descriptor :math:`z_t \in \mathbb R^p` (a school's
denomination and intake, a patient's age and sex).  A task kernel
:math:`k_T` on descriptors gives the task matrix

.. math::

    A = (1 - \omega)\, I + \omega\, K_T, \qquad (K_T)_{st} = k_T(z_s, z_t),

the same convention as the mean-regularized matrix
:math:`(1-\omega) I + \omega\, 11^\top / T` (which is the case of a constant
task kernel :math:`1/T`): ``omega=0`` is independent learning, ``omega=1``
relates the tasks through their descriptors alone, and in between each seen
task keeps a private part.  The separable kernel becomes
:math:`k(x, x')\,A_{st}`, and since a task's row of :math:`\omega K_T` is
defined for any descriptor, a task :math:`*` never seen in training is
predicted through its descriptor (Bonilla, Chai & Williams, 2008):

.. math::

    f_*(x) = \sum_i k(x, x_i)\, a_*[t_i]\, c_i, \qquad
    a_*[t] = \omega\, k_T(z_*, z_t),

with the dual coefficients :math:`c` of the fit (the private part
:math:`(1-\omega) I` has no cross term: an unseen task shares nothing
private).  Its intercept is predicted by a kernel ridge on the fitted
intercepts with the same task covariance,
:math:`b_* = \bar b + a_*^\top (A + \lambda I)^{-1} (b - \bar b\, 1)`
(:func:`unseen_intercepts`).
"""
from numbers import Real

import numpy as np

from .._validation import repeated_values
from ..kernels import compute_kernel
from ._fixed import check_task_matrix

TASK_KERNELS = ("rbf", "laplacian", "linear", "polynomial", "poly")


def _key(label):
    return label.item() if hasattr(label, "item") else label


def _is_frame(obj):
    return hasattr(obj, "iloc") and hasattr(obj, "index")


def _finite_matrix(values, name, what):
    try:
        Z = np.array(values, dtype=np.float64)     # a copy: never the user's array
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"The '{name}' parameter must hold numbers (one row of descriptors "
            f"per task); {what} could not be converted to float: {exc}. Encode "
            "categorical descriptors as indicator columns first."
        ) from None
    if Z.ndim == 1:
        raise ValueError(
            f"The '{name}' parameter must be 2-D (one row per task, one column per "
            f"descriptor); got a 1-D array of shape {Z.shape}. Use "
            "task_features.reshape(-1, 1) for a single descriptor."
        )
    if Z.ndim != 2 or Z.shape[1] == 0:
        raise ValueError(
            f"The '{name}' parameter must be 2-D with at least one column; got "
            f"shape {Z.shape}."
        )
    bad = ~np.isfinite(Z)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"The '{name}' parameter contains NaN or infinity ({int(bad.sum())} "
            f"entries; first at row {row}, column {col}). Every task needs a "
            "complete descriptor: impute the missing values (e.g. with the "
            "column means of the training tasks) or drop that descriptor column."
        )
    return Z


def check_task_features(task_features, tasks, *, name="task_features",
                        n_features=None):
    """Validate task descriptors against task labels.

    Parameters
    ----------
    task_features : array-like of shape (n_tasks, n_descriptors) or DataFrame
        An array has one row per label of ``tasks``, in that order.  A pandas
        DataFrame is indexed by task label: it must hold a row for every
        label of ``tasks`` and may hold more (rows of tasks without training
        data, kept so that they can be predicted later).
    tasks : array-like of shape (n_tasks,)
        The labels the rows must cover (``tasks_`` at fit; the distinct
        labels of ``task``, sorted, at predict).
    name : str, default="task_features"
        Parameter name used in error messages.
    n_features : int, default=None
        Required number of descriptor columns (the fitted one at predict).

    Returns
    -------
    labels : ndarray of shape (n_rows,), dtype object
        The labels of the returned rows: ``tasks`` first, then any extra rows
        of a DataFrame.
    Z : ndarray of shape (n_rows, n_descriptors)
        Float64 copy of the descriptors.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks import check_task_features
    >>> labels, Z = check_task_features([[0.0, 1.0], [1.0, 0.0]], ["a", "b"])
    >>> labels.tolist(), Z.shape
    (['a', 'b'], (2, 2))
    """
    tasks = [_key(t) for t in np.asarray(tasks, dtype=object).ravel()]
    if task_features is None:
        raise ValueError(
            f"The '{name}' parameter is required here; got None. Pass one row of "
            f"descriptors per task ({len(tasks)} tasks), or a DataFrame indexed by "
            "task label."
        )
    if _is_frame(task_features):
        index = [_key(t) for t in task_features.index]
        seen, repeated = set(index), repeated_values(index)
        if repeated:
            raise ValueError(
                f"The '{name}' DataFrame index names the tasks, but the label(s) "
                f"{[str(t) for t in repeated[:10]]} appear more than once. Give "
                "each task one row (e.g. task_features.groupby(level=0).first(), "
                "after checking the duplicates agree)."
            )
        missing = [t for t in tasks if t not in seen]
        if missing:
            raise ValueError(
                f"The '{name}' DataFrame has no row for task(s) "
                f"{[str(t) for t in missing[:10]]} ({len(missing)} in all); its "
                f"index holds {[str(t) for t in index[:10]]}"
                f"{' ...' if len(index) > 10 else ''}. Index the DataFrame by task "
                "label and give every task a row."
            )
        Z_all = _finite_matrix(task_features.to_numpy(), name, "the DataFrame")
        position = {t: i for i, t in enumerate(index)}
        wanted = set(tasks)
        extra = [t for t in index if t not in wanted]
        order = [position[t] for t in tasks + extra]
        labels = np.empty(len(order), dtype=object)
        labels[:] = tasks + extra
        Z = Z_all[order, :]
    else:
        Z = _finite_matrix(task_features, name, "the array")
        if Z.shape[0] != len(tasks):
            raise ValueError(
                f"The '{name}' parameter must have one row per task: {len(tasks)} "
                f"rows (tasks {[str(t) for t in tasks[:10]]}"
                f"{' ...' if len(tasks) > 10 else ''}, in that order); got "
                f"{Z.shape[0]} rows. Pass a DataFrame indexed by task label to "
                "match rows by label instead of by position."
            )
        labels = np.empty(len(tasks), dtype=object)
        labels[:] = tasks
    if n_features is not None and Z.shape[1] != n_features:
        raise ValueError(
            f"The '{name}' parameter has {Z.shape[1]} descriptor column(s), but the "
            f"model was fitted with {n_features}. Pass the same descriptor columns, "
            "in the same order, as at fit."
        )
    return labels, Z


def descriptor_kernel(Z1, Z2=None, kernel="rbf", gamma=None, kernel_params=None):
    """Task kernel values k_T(z, z') between two sets of descriptors.

    Parameters
    ----------
    Z1 : ndarray of shape (n1, n_descriptors)
    Z2 : ndarray of shape (n2, n_descriptors), default=None
        None means ``Z1``.
    kernel : {"rbf", "laplacian", "linear", "polynomial"} or callable, default="rbf"
        The input-kernel family of :func:`rkhsmtl.kernels.compute_kernel`.
    gamma : float, default=None
        Kernel coefficient; None means ``1 / n_descriptors``.
    kernel_params : dict, default=None
        ``degree`` and ``coef0`` of the polynomial kernel, or the keyword
        arguments of a callable kernel.

    Returns
    -------
    K : ndarray of shape (n1, n2)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks import descriptor_kernel
    >>> descriptor_kernel(np.eye(2), kernel="linear").tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    Z2 = Z1 if Z2 is None else Z2
    params = dict(kernel_params or {})
    if callable(kernel):
        return np.asarray(compute_kernel(Z1, Z2, kernel=kernel, kernel_params=params),
                          dtype=np.float64)
    if kernel not in TASK_KERNELS:
        raise ValueError(
            f"The 'task_kernel' parameter must be one of {list(TASK_KERNELS)} or a "
            f"callable; got {kernel!r}."
        )
    degree, coef0 = params.pop("degree", 3), params.pop("coef0", 1.0)
    if params:
        raise ValueError(
            f"The 'task_kernel_params' keys {sorted(params)} do not apply to "
            f"task_kernel={kernel!r}; a named task kernel takes only 'degree' and "
            "'coef0' (polynomial)."
        )
    return np.asarray(compute_kernel(Z1, Z2, kernel=kernel, gamma=gamma,
                                     degree=degree, coef0=coef0), dtype=np.float64)


def descriptor_task_matrix(Z, kernel="rbf", gamma=None, kernel_params=None,
                           omega=0.5):
    """A = (1 - omega) I + omega K_T from descriptors of the seen tasks.

    Parameters
    ----------
    Z : ndarray of shape (n_tasks, n_descriptors)
    kernel, gamma, kernel_params
        As in :func:`descriptor_kernel`.
    omega : float in [0, 1], default=0.5
        Weight of the descriptor kernel; ``1 - omega`` goes to the identity.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks import descriptor_task_matrix
    >>> descriptor_task_matrix(np.array([[1.0], [1.0]]), kernel="linear",
    ...                        omega=0.5).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    """
    omega = float(omega)
    if not 0.0 <= omega <= 1.0:
        raise ValueError(
            f"The 'omega' parameter must be in [0, 1]; got {omega!r}. 0 means "
            "independent tasks, 1 the descriptor kernel alone."
        )
    K = check_task_matrix(descriptor_kernel(Z, Z, kernel, gamma, kernel_params),
                          Z.shape[0], name="task_kernel")
    return (1.0 - omega) * np.eye(Z.shape[0]) + omega * K


def unseen_task_rows(Z_new, Z_seen, kernel="rbf", gamma=None, kernel_params=None,
                     omega=0.5):
    """Compute the rows of the task matrix between new tasks and the seen ones.

    ``omega * k_T(z_new, z_t)``: the identity part of A is private to each
    seen task and has no cross term.

    Parameters
    ----------
    Z_new : ndarray of shape (n_new, n_descriptors)
    Z_seen : ndarray of shape (n_tasks, n_descriptors)
    kernel, gamma, kernel_params, omega
        As in :func:`descriptor_task_matrix`.

    Returns
    -------
    rows : ndarray of shape (n_new, n_tasks)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks import unseen_task_rows
    >>> unseen_task_rows(np.array([[2.0]]), np.array([[1.0], [0.5]]),
    ...                  kernel="linear", omega=0.5).tolist()
    [[1.0, 0.5]]
    """
    return float(omega) * descriptor_kernel(Z_new, Z_seen, kernel, gamma, kernel_params)


def unseen_intercepts(A, rows, intercepts, alpha=1.0):
    r"""Predict the intercepts of new tasks by a kernel ridge on the fitted ones.

    .. math::

        b_* = \bar b + a_*^\top (A + \lambda I)^{-1} (b - \bar b\,1),

    the posterior mean of intercepts that vary over tasks with covariance
    A around their mean :math:`\bar b` (noise variance :math:`\lambda`):
    ``alpha`` large gives :math:`\bar b` to every new task.

    Parameters
    ----------
    A : ndarray of shape (n_tasks, n_tasks)
        Task matrix of the seen tasks.
    rows : ndarray of shape (n_new, n_tasks)
        From :func:`unseen_task_rows`.
    intercepts : ndarray of shape (n_tasks,)
        Fitted intercepts b.
    alpha : float, default=1.0
        Ridge weight :math:`\lambda` > 0.

    Returns
    -------
    b_new : ndarray of shape (n_new,)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.tasks import unseen_intercepts
    >>> unseen_intercepts(np.eye(2), np.zeros((1, 2)), np.array([1.0, 3.0])).tolist()
    [2.0]
    """
    if not (isinstance(alpha, Real) and alpha > 0):
        raise ValueError(
            f"The 'task_intercept_alpha' parameter must be a float > 0; got {alpha!r}."
        )
    b = np.asarray(intercepts, dtype=np.float64)
    mean = b.mean()
    weights = np.linalg.solve(A + alpha * np.eye(A.shape[0]), b - mean)
    return mean + rows @ weights


def task_space_coefficients(W, A, rtol=1e-12):
    r"""``W A^+``: feature weights of an approximate fit, back in task space.

    An approximate fit stores :math:`W = \tilde W A` (its columns are the
    task functions' weights); a new task with task-matrix row :math:`a_*`
    gets :math:`w_* = \tilde W a_* = W A^+ a_*` (exact whenever :math:`a_*`
    lies in the range of A, as a row of a PSD kernel does).  Eigenvalues
    below ``rtol`` times the largest are dropped, as the solvers drop them.

    Parameters
    ----------
    W : ndarray of shape (n_components, n_tasks)
    A : ndarray of shape (n_tasks, n_tasks)
    rtol : float, default=1e-12

    Returns
    -------
    V : ndarray of shape (n_components, n_tasks)
    """
    w, Q = np.linalg.eigh(0.5 * (A + A.T))
    keep = w > rtol * max(float(w.max()), 1e-300)
    Qk = Q[:, keep]
    return ((W @ Qk) / w[keep][None, :]) @ Qk.T
