r"""Fixed task matrices and the validation of user-given ones.

With the separable kernel :math:`\Gamma = k\,A`, the RKHS norm of
:math:`f = (f_1, \dots, f_T)` is :math:`\sum_{s,t} A^+_{st}\langle f_s, f_t\rangle`,
so each structure below is a prior on how tasks relate:

* independent, :math:`A = I`: :math:`\sum_t \|f_t\|^2`, T separate ridges;
* pooled, :math:`A = 11^\top`: a single function shared by all tasks;
* mean-regularized, :math:`A_\omega = (1-\omega) I + \omega\,11^\top/T`:
  :math:`T\|\bar f\|^2 + \frac{1}{1-\omega}\sum_t\|f_t - \bar f\|^2`;
* graph-regularized, :math:`A = (L + \varepsilon I)^{-1}` with the Laplacian
  :math:`L` of task-similarity weights :math:`M`:
  :math:`\sum_{s<t} M_{st}\|f_s - f_t\|^2 + \varepsilon\sum_t\|f_t\|^2`.
"""
import numpy as np

TASK_MATRICES = ("independent", "pooled", "mean", "graph")


def independent_task_matrix(n_tasks):
    """A = I: every task learned on its own.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> from rkhsmtl.tasks import independent_task_matrix
    >>> independent_task_matrix(2).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    return np.eye(n_tasks)


def pooled_task_matrix(n_tasks):
    """A = 11^T: one function shared by all tasks.

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> from rkhsmtl.tasks import pooled_task_matrix
    >>> pooled_task_matrix(2).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    return np.ones((n_tasks, n_tasks))


def mean_regularized_task_matrix(n_tasks, omega=0.5):
    """A = (1 - omega) I + omega 11^T / T, for omega in [0, 1].

    ``omega=0`` is independent learning; ``omega=1`` is one pooled function
    (with the regularization scaled by ``n_tasks``).

    Parameters
    ----------
    n_tasks : int
        Number of tasks T.
    omega : float in [0, 1], default=0.5
        Coupling strength.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> from rkhsmtl.tasks import mean_regularized_task_matrix
    >>> mean_regularized_task_matrix(2, omega=0.5).tolist()
    [[0.75, 0.25], [0.25, 0.75]]
    """
    omega = float(omega)
    if not 0.0 <= omega <= 1.0:
        raise ValueError(
            f"The 'omega' parameter must be in [0, 1]; got {omega!r}. 0 means "
            "independent tasks, 1 means one pooled function."
        )
    return (1.0 - omega) * np.eye(n_tasks) + omega * np.ones((n_tasks, n_tasks)) / n_tasks


def graph_task_matrix(adjacency, epsilon=1.0):
    """A = (L + epsilon I)^{-1} from symmetric non-negative task similarities.

    Parameters
    ----------
    adjacency : array-like of shape (n_tasks, n_tasks)
        Similarity weights M[s, t] >= 0 (the diagonal is ignored).
    epsilon : float, default=1.0
        Weight of the plain ridge term; must be > 0 so A is invertible.

    Examples
    --------
    >>> from rkhsmtl.tasks import graph_task_matrix
    >>> graph_task_matrix([[0.0, 1.0], [1.0, 0.0]], epsilon=1.0).round(3).tolist()
    [[0.667, 0.333], [0.333, 0.667]]
    """
    M = np.array(adjacency, dtype=float)  # copy: never touch the user's array
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(
            "The 'task_graph' parameter must be a square (n_tasks, n_tasks) "
            f"similarity matrix; got shape {M.shape}."
        )
    if not np.all(np.isfinite(M)) or np.any(M < 0):
        raise ValueError(
            "The 'task_graph' parameter must hold finite, non-negative "
            "similarity weights; found negative or non-finite entries."
        )
    if not np.allclose(M, M.T, rtol=1e-10, atol=1e-12):
        raise ValueError(
            "The 'task_graph' parameter must be symmetric; got a matrix with "
            f"max |M - M.T| = {np.abs(M - M.T).max():.3g}. Pass (M + M.T) / 2."
        )
    if not epsilon > 0:
        raise ValueError(
            f"The 'graph_epsilon' parameter must be > 0; got {epsilon!r}. It keeps "
            "(L + epsilon I) invertible; try 1e-2 to 1."
        )
    np.fill_diagonal(M, 0.0)
    L = np.diag(M.sum(axis=1)) - M
    A = np.linalg.inv(L + epsilon * np.eye(M.shape[0]))
    return (A + A.T) / 2.0


def check_task_matrix(A, n_tasks, tol=1e-8, name="task_matrix"):
    """Validate a user task matrix: square of size n_tasks, symmetric, PSD.

    Returns a symmetrized float64 copy with round-off negative eigenvalues
    clipped to zero.

    Parameters
    ----------
    A : array-like of shape (n_tasks, n_tasks)
    n_tasks : int
        Expected number of tasks.
    tol : float, default=1e-8
        Relative tolerance for symmetry and for negative eigenvalues.
    name : str, default="task_matrix"
        Parameter name used in error messages.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> from rkhsmtl.tasks import check_task_matrix
    >>> check_task_matrix([[1.0, 0.5], [0.5, 1.0]], n_tasks=2).tolist()
    [[1.0, 0.5], [0.5, 1.0]]
    >>> check_task_matrix([[1.0, 2.0], [2.0, 1.0]], n_tasks=2)
    Traceback (most recent call last):
        ...
    ValueError: The 'task_matrix' parameter must be positive ...
    """
    A = np.array(A, dtype=float)
    if A.ndim != 2 or A.shape != (n_tasks, n_tasks):
        raise ValueError(
            f"The '{name}' parameter must have shape ({n_tasks}, {n_tasks}) "
            f"(one row and column per task); got shape {A.shape}."
        )
    if not np.all(np.isfinite(A)):
        raise ValueError(f"The '{name}' parameter contains NaN or inf values.")
    scale = max(np.abs(A).max(), 1e-300)
    asym = np.abs(A - A.T).max()
    if asym > tol * scale:
        raise ValueError(
            f"The '{name}' parameter must be symmetric; got max |A - A.T| = "
            f"{asym:.3g}. Pass (A + A.T) / 2 if the asymmetry is round-off."
        )
    A = (A + A.T) / 2.0
    w, V = np.linalg.eigh(A)
    if w.min() < -tol * max(w.max(), 1e-300) * n_tasks:
        raise ValueError(
            f"The '{name}' parameter must be positive semi-definite; its "
            f"smallest eigenvalue is {w.min():.3g}. Project it onto the PSD cone "
            "(V @ diag(max(w, 0)) @ V.T) or add a multiple of the identity."
        )
    if w.min() < 0:
        A = (V * np.clip(w, 0, None)) @ V.T
        A = (A + A.T) / 2.0
    return A


def unit_diagonal(A):
    """A rescaled to unit diagonal (correlations from a task matrix or covariance).

    Zero diagonal entries are floored so the result stays finite.
    """
    A = np.asarray(A, dtype=float)
    d = np.sqrt(np.clip(np.diag(A), 1e-300, None))
    C = A / np.outer(d, d)
    return 0.5 * (C + C.T)


def resolve_task_matrix(task_matrix, n_tasks, omega=0.5, task_graph=None,
                        graph_epsilon=1.0):
    """Turn the estimator's ``task_matrix`` parameter into a numpy matrix.

    Parameters
    ----------
    task_matrix : {"independent", "pooled", "mean", "graph"} or array-like
    n_tasks : int
    omega : float, default=0.5
        Coupling of ``"mean"``.
    task_graph : array-like of shape (n_tasks, n_tasks), default=None
        Similarities of ``"graph"``.
    graph_epsilon : float, default=1.0
        Ridge weight of ``"graph"``.

    Returns
    -------
    A : ndarray of shape (n_tasks, n_tasks)

    Examples
    --------
    >>> from rkhsmtl.tasks import resolve_task_matrix
    >>> resolve_task_matrix("mean", 2, omega=1.0).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    >>> resolve_task_matrix([[2.0, 0.0], [0.0, 1.0]], 2).tolist()
    [[2.0, 0.0], [0.0, 1.0]]
    """
    if isinstance(task_matrix, str):
        if task_matrix == "independent":
            return independent_task_matrix(n_tasks)
        if task_matrix == "pooled":
            return pooled_task_matrix(n_tasks)
        if task_matrix == "mean":
            return mean_regularized_task_matrix(n_tasks, omega)
        if task_matrix == "graph":
            if task_graph is None:
                raise ValueError(
                    "task_matrix='graph' needs the 'task_graph' parameter: a "
                    f"({n_tasks}, {n_tasks}) matrix of task similarities."
                )
            G = np.asarray(task_graph, dtype=float)
            if G.shape != (n_tasks, n_tasks):
                raise ValueError(
                    f"The 'task_graph' parameter must have shape ({n_tasks}, "
                    f"{n_tasks}) (one row and column per task); got shape {G.shape}."
                )
            return graph_task_matrix(G, graph_epsilon)
        raise ValueError(
            "The 'task_matrix' parameter must be one of "
            f"{', '.join(map(repr, TASK_MATRICES))} or an array; got {task_matrix!r}."
        )
    return check_task_matrix(task_matrix, n_tasks)
