"""Simulated linear multi-task data with a known coefficient matrix
(in the spirit of RMTL's ``Create_simulated_data``)."""
import numpy as np
from sklearn.utils import check_random_state

STRUCTURES = ("l21", "lasso", "trace", "graph", "cluster", "dirty", "robust")


def _true_coef(structure, d, T, rng, n_informative, rank, n_clusters, n_outliers):
    k = n_informative if n_informative is not None else max(1, d // 4)
    if not 1 <= k <= d:
        raise ValueError(f"n_informative must be in [1, n_features={d}]; got {k}.")
    W = np.zeros((d, T))
    if structure == "l21":
        rows = rng.choice(d, k, replace=False)
        W[rows] = rng.standard_normal((k, T))
    elif structure == "lasso":
        for t in range(T):
            W[rng.choice(d, k, replace=False), t] = rng.standard_normal(k)
    elif structure == "trace":
        if not 1 <= rank <= min(d, T):
            raise ValueError(f"rank must be in [1, min(n_features, n_tasks)="
                             f"{min(d, T)}]; got {rank}.")
        W = rng.standard_normal((d, rank)) @ rng.standard_normal((rank, T)) / np.sqrt(rank)
    elif structure == "graph":
        # A random walk along the chain 0 - 1 - ... - T-1: neighbours are close.
        W[:, 0] = rng.standard_normal(d)
        for t in range(1, T):
            W[:, t] = W[:, t - 1] + 0.2 * rng.standard_normal(d)
    elif structure == "cluster":
        if not 1 <= n_clusters <= T:
            raise ValueError(f"n_clusters must be in [1, n_tasks={T}]; got {n_clusters}.")
        centers = rng.standard_normal((d, n_clusters))
        W = centers[:, np.arange(T) % n_clusters] + 0.1 * rng.standard_normal((d, T))
    elif structure == "dirty":
        rows = rng.choice(d, k, replace=False)
        W[rows] = rng.standard_normal((k, T))
        # A few task-specific features outside the shared support.
        for t in range(T):
            j = rng.randint(d)
            W[j, t] += rng.standard_normal()
    elif structure == "robust":
        if not 1 <= n_outliers < T:
            raise ValueError(f"n_outliers must be in [1, n_tasks - 1={T - 1}]; got "
                             f"{n_outliers}.")
        r = min(rank, d, T)
        W = rng.standard_normal((d, r)) @ rng.standard_normal((r, T)) / np.sqrt(r)
        outliers = rng.choice(T, n_outliers, replace=False)
        W[:, outliers] = 3.0 * rng.standard_normal((d, n_outliers))
    else:
        raise ValueError(f"Unknown structure {structure!r}; choose one of {STRUCTURES}.")
    return W


def make_linear_multitask(structure="l21", n_tasks=5, n_features=20, n_samples=50,
                          noise=0.1, random_state=None, *, n_informative=None,
                          rank=2, n_clusters=2, n_outliers=1, shared_inputs=False):
    r"""Linear multi-task data whose true coefficients have a given structure.

    .. math:: y_i = x_i^\top w_{t(i)} + \varepsilon_i,\quad
              x_i \sim \mathcal N(0, I_d),\ \varepsilon_i \sim \mathcal N(0, \sigma^2)

    Parameters
    ----------
    structure : {"l21", "lasso", "trace", "graph", "cluster", "dirty", "robust"}
        ``"l21"``: ``n_informative`` rows shared by all tasks; ``"lasso"``:
        ``n_informative`` features per task, drawn independently;
        ``"trace"``: rank ``rank``; ``"graph"``: a random walk along the chain
        of tasks; ``"cluster"``: ``n_clusters`` groups of near-identical
        tasks; ``"dirty"``: shared rows plus one task-specific feature per
        task; ``"robust"``: rank ``rank`` plus ``n_outliers`` outlier tasks.
    n_tasks : int, default=5
    n_features : int, default=20
    n_samples : int, default=50
        Rows per task (or shared rows with ``shared_inputs=True``).
    noise : float, default=0.1
        Standard deviation ``sigma`` of the noise.
    random_state : int, RandomState instance or None
    n_informative : int, default=None
        Support size (``n_features // 4`` when None).
    rank, n_clusters, n_outliers : int
        Parameters of the ``"trace"``/``"robust"``, ``"cluster"`` and
        ``"robust"`` structures.
    shared_inputs : bool, default=False
        Return one ``X`` shared by all tasks and ``Y`` (n_samples, n_tasks).

    Returns
    -------
    X : ndarray of shape (n_samples * n_tasks, n_features) or (n_samples, n_features)
    y : ndarray of shape (n_samples * n_tasks,) or (n_samples, n_tasks)
    task : ndarray of shape (n_samples * n_tasks,) or None
        Task index of each row (None with ``shared_inputs``).
    W : ndarray of shape (n_features, n_tasks)
        The true coefficients.

    Examples
    --------
    >>> from rkhsmtl.linear import make_linear_multitask
    >>> X, y, task, W = make_linear_multitask("trace", n_tasks=4, n_features=6,
    ...                                       rank=2, random_state=0)
    >>> X.shape, y.shape, W.shape, int(__import__("numpy").linalg.matrix_rank(W))
    ((200, 6), (200,), (6, 4), 2)
    """
    rng = check_random_state(random_state)
    W = _true_coef(structure, n_features, n_tasks, rng, n_informative, rank,
                   n_clusters, n_outliers)
    if shared_inputs:
        X = rng.standard_normal((n_samples, n_features))
        Y = X @ W + noise * rng.standard_normal((n_samples, n_tasks))
        return X, Y, None, W
    task = np.repeat(np.arange(n_tasks), n_samples)
    X = rng.standard_normal((n_samples * n_tasks, n_features))
    y = np.einsum("ij,ji->i", X, W[:, task]) + noise * rng.standard_normal(len(task))
    return X, y, task, W
