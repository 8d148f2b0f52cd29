"""Synthetic multi-task data sets with a planted, known task structure.

Every generator draws the task functions from a Gaussian process whose
*task* covariance is a known correlation matrix ``A`` (returned as
``task_matrix``), so a method that learns the task structure can be scored
against the truth.

How the functions are built
---------------------------
``f_t(x) = phi(x) @ W[:, t]`` with ``phi`` a map of ``m = 300`` random Fourier
features approximating an RBF kernel of width ``length_scale``.  The rows of
``W`` are ``N(0, A)`` draws (``W = Z @ L.T`` with ``L @ L.T = A``).  A plain
Gaussian draw only has the covariance ``A`` *on average over draws*: for one
draw the correlation of two functions over the inputs fluctuates by about
``1 / sqrt(effective dimension of the feature covariance)``, which for an RBF
kernel is easily 0.2.  So we additionally whiten ``Z`` in the metric of the
exact population feature covariance ``Sigma_phi = Cov_{x ~ N(0, I)}(phi(x))``
(available in closed form for random Fourier features).  After that,
``Cov_x(f(x)) = A`` holds exactly for the drawn functions, which also makes
``Var(f_t) = 1``.
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_multitask_regression", "make_multitask_classification"]

STRUCTURES = (
    "independent",
    "clustered",
    "graph",
    "low_rank",
    "negative",
    "covariate_shift",
)

# Number of random Fourier features.  300 is enough for the functions to look
# like GP draws in a handful of dimensions while keeping generation ~ms.
_N_RFF = 300
# Ridge added to the chain-graph Laplacian before inverting.  0.1 gives a
# correlation that decays smoothly along the chain (neighbours ~0.8, tasks
# five steps apart ~0.3) instead of near-one everywhere (small eps) or
# near-independent tasks (large eps).
_GRAPH_EPS = 0.1
# Ridge of the "low_rank" structure, as asked: keeps A full rank.
_LOW_RANK_RIDGE = 1e-2
# Distance of the task input means from the origin for "covariate_shift":
# far enough for the marginals to differ clearly, close enough that the
# task distributions still overlap (a unit-variance Gaussian).
_SHIFT_RADIUS = 1.5
# Relative eigenvalue threshold: below it a direction counts as numerically
# zero (for square roots of PSD matrices).
_EIG_RTOL = 1e-10


# ---------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------
def _check_int(value, name, minimum):
    """Return ``value`` as an int >= ``minimum`` or raise a helpful error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer >= {minimum}; got {value!r} of type "
            f"{type(value).__name__}. Pass e.g. {name}={max(minimum, 2)}."
        )
    if value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}; got {value}. "
            f"Pass e.g. {name}={max(minimum, 2)}."
        )
    return int(value)


def _check_real(value, name, low, high, *, low_open=False, high_open=False):
    """Return ``value`` as a float within the given interval or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r}.")
    value = float(value)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if not np.isfinite(value) or too_low or too_high:
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise ValueError(
            f"{name} must lie in {lb}{low}, {high}{rb}; got {value}. "
            f"Pass a value in that range."
        )
    return value


def _check_structure(structure):
    if structure not in STRUCTURES:
        raise ValueError(
            f"structure must be one of {', '.join(map(repr, STRUCTURES))}; "
            f"got {structure!r}. Pick one of the listed values."
        )
    return structure


def _check_n_samples(n_samples, n_tasks, shared_inputs):
    """Return per-task sample counts (int array of length ``n_tasks``)."""
    if shared_inputs:
        if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
            raise TypeError(
                "With shared_inputs=True, n_samples must be an int (the number "
                f"of input rows shared by all tasks); got {n_samples!r}. Pass "
                "an int, or use shared_inputs=False for per-task sizes."
            )
        return np.full(n_tasks, _check_int(n_samples, "n_samples", 1), dtype=np.int64)
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        return np.full(n_tasks, _check_int(n_samples, "n_samples", 1), dtype=np.int64)
    counts = np.asarray(n_samples)
    if counts.ndim != 1 or counts.shape[0] != n_tasks:
        raise ValueError(
            "n_samples must be an int or a 1-D array with one sample count per "
            f"task (length n_tasks={n_tasks}); got shape {counts.shape}. Pass "
            f"an array of length {n_tasks}, or change n_tasks."
        )
    if not np.issubdtype(counts.dtype, np.integer) or np.any(counts < 1):
        raise ValueError(
            "n_samples must hold integers >= 1 (samples per task); got "
            f"{counts.tolist()}. Give every task at least one sample."
        )
    return counts.astype(np.int64)


def _check_common(n_samples, n_tasks, n_features, structure, n_clusters, rank,
                  correlation, length_scale, shared_inputs):
    """Validate the arguments shared by both generators."""
    n_tasks = _check_int(n_tasks, "n_tasks", 1)
    n_features = _check_int(n_features, "n_features", 1)
    structure = _check_structure(structure)
    correlation = _check_real(correlation, "correlation", 0.0, 1.0)
    length_scale = _check_real(length_scale, "length_scale", 0.0, np.inf,
                               low_open=True, high_open=True)
    if structure == "clustered":
        n_clusters = _check_int(n_clusters, "n_clusters", 1)
        if n_clusters > n_tasks:
            raise ValueError(
                f"n_clusters must be <= n_tasks; got n_clusters={n_clusters} "
                f"with n_tasks={n_tasks}. Lower n_clusters or raise n_tasks."
            )
    if structure == "low_rank":
        rank = _check_int(rank, "rank", 1)
        if rank > n_tasks:
            raise ValueError(
                f"rank must be <= n_tasks; got rank={rank} with "
                f"n_tasks={n_tasks}. Lower rank or raise n_tasks."
            )
    if structure == "negative" and n_tasks < 2:
        raise ValueError(
            "structure='negative' needs two groups of tasks, so n_tasks >= 2; "
            f"got n_tasks={n_tasks}. Raise n_tasks."
        )
    if structure == "covariate_shift" and shared_inputs:
        raise ValueError(
            "structure='covariate_shift' gives each task its own input "
            "distribution, which contradicts shared_inputs=True. Use "
            "shared_inputs=False, or another structure."
        )
    counts = _check_n_samples(n_samples, n_tasks, bool(shared_inputs))
    return counts, n_tasks, n_features, structure, n_clusters, rank, correlation, length_scale


# ---------------------------------------------------------------------------
# Task correlation matrices
# ---------------------------------------------------------------------------
def _to_correlation(cov):
    """Rescale a covariance matrix to unit diagonal (exactly symmetric)."""
    d = np.sqrt(np.diag(cov))
    corr = cov / np.outer(d, d)
    corr = 0.5 * (corr + corr.T)
    np.fill_diagonal(corr, 1.0)
    return corr


def _group_signs(n_tasks):
    """+1 for the first half of the tasks, -1 for the rest."""
    signs = np.ones(n_tasks)
    signs[(n_tasks + 1) // 2:] = -1.0
    return signs


def _task_matrix(structure, n_tasks, n_clusters, rank, correlation, rng):
    """Return the true (T, T) task correlation matrix of a structure."""
    if structure == "independent":
        return np.eye(n_tasks)
    if structure == "clustered":
        A = np.eye(n_tasks)
        for members in np.array_split(np.arange(n_tasks), n_clusters):
            A[np.ix_(members, members)] = correlation
        np.fill_diagonal(A, 1.0)
        return A
    if structure == "graph":
        # Chain t -- t+1; (L + eps I)^{-1} is the covariance of a GMRF on the
        # graph, so correlation decays with graph distance.
        adj = np.diag(np.ones(n_tasks - 1), 1)
        adj = adj + adj.T
        laplacian = np.diag(adj.sum(axis=1)) - adj
        return _to_correlation(np.linalg.inv(laplacian + _GRAPH_EPS * np.eye(n_tasks)))
    if structure == "low_rank":
        G = rng.standard_normal((n_tasks, rank))
        return _to_correlation(G @ G.T + _LOW_RANK_RIDGE * np.eye(n_tasks))
    if structure == "negative":
        # c v v^T + (1 - c) I is PSD for c in [0, 1] by construction.
        v = _group_signs(n_tasks)
        return correlation * np.outer(v, v) + (1.0 - correlation) * np.eye(n_tasks)
    # covariate_shift: one function shared by all tasks.
    return np.ones((n_tasks, n_tasks))


def _psd_factor(A):
    """Return ``L`` (T, r) with ``L @ L.T == A``, dropping null directions.

    Dropping zero eigenvalues keeps ``r`` = numerical rank, so e.g. the
    all-ones matrix of "covariate_shift" yields literally identical columns
    of ``W`` (one shared function) rather than almost-identical ones.
    """
    evals, evecs = np.linalg.eigh(A)
    keep = evals > _EIG_RTOL * evals.max()
    return evecs[:, keep] * np.sqrt(evals[keep])


# ---------------------------------------------------------------------------
# Random Fourier features and the function draw
# ---------------------------------------------------------------------------
def _draw_rff(n_features, length_scale, rng):
    """Frequencies (d, m) and phases (m,) of an RBF random Fourier map."""
    omega = rng.standard_normal((n_features, _N_RFF)) / length_scale
    phase = rng.uniform(0.0, 2.0 * np.pi, size=_N_RFF)
    return omega, phase


def _rff(X, omega, phase):
    """phi(x) = sqrt(2/m) cos(x omega + b), so phi(x).phi(x') ~ k(x, x')."""
    return np.sqrt(2.0 / omega.shape[1]) * np.cos(X @ omega + phase)


def _rff_population_cov(omega, phase):
    """Exact ``Cov(phi(x))`` for ``x ~ N(0, I)``.

    Uses ``E[cos(a.x + c)] = cos(c) exp(-|a|^2 / 2)`` and the product-to-sum
    identity, so no Monte Carlo sample (and no extra randomness) is needed.
    """
    m = omega.shape[1]
    sq = np.sum(omega**2, axis=0)
    gram = omega.T @ omega
    minus = np.exp(-0.5 * np.maximum(sq[:, None] + sq[None, :] - 2.0 * gram, 0.0))
    plus = np.exp(-0.5 * (sq[:, None] + sq[None, :] + 2.0 * gram))
    second = (np.cos(phase[:, None] - phase[None, :]) * minus
              + np.cos(phase[:, None] + phase[None, :]) * plus) / m
    mean = np.sqrt(2.0 / m) * np.cos(phase) * np.exp(-0.5 * sq)
    return second - np.outer(mean, mean)


def _inv_sqrt_psd(S):
    """Inverse square root of a PSD matrix, flooring tiny eigenvalues."""
    evals, evecs = np.linalg.eigh(S)
    evals = np.maximum(evals, _EIG_RTOL * max(evals.max(), np.finfo(float).tiny))
    return (evecs / np.sqrt(evals)) @ evecs.T


def _draw_weights(A, omega, phase, rng):
    """Weights W (m, T) with ``Cov_x(phi(x) @ W) = A`` for this very draw."""
    L = _psd_factor(A)
    Z = rng.standard_normal((omega.shape[1], L.shape[1]))
    sigma = _rff_population_cov(omega, phase)
    # Whiten Z in the Sigma_phi metric: Z'^T Sigma Z' = I, hence
    # Cov(f) = L Z'^T Sigma Z' L^T = A exactly (see module docstring).
    Z = Z @ _inv_sqrt_psd(Z.T @ sigma @ Z)
    W = Z @ L.T
    # Guard for the rare cases where whitening cannot be exact (rank of A
    # above m, degenerate features): still enforce Var(f_t) = 1.
    var = np.einsum("it,ij,jt->t", W, sigma, W)
    return W / np.sqrt(np.maximum(var, np.finfo(float).tiny))


def _draw_task_means(n_tasks, n_features, rng):
    """Task input means on a sphere of radius ``_SHIFT_RADIUS``."""
    directions = rng.standard_normal((n_tasks, n_features))
    norms = np.linalg.norm(directions, axis=1, keepdims=True)
    return _SHIFT_RADIUS * directions / np.maximum(norms, np.finfo(float).tiny)


def _latent(n_samples, n_tasks, n_features, structure, n_clusters, rank,
            correlation, length_scale, shared_inputs, random_state):
    """Validate, then draw inputs and noiseless task functions.

    Returns ``(X, F, task, A, rng)``: long format (``F`` of shape (N,)) or,
    with ``shared_inputs``, ``X`` (n, d), ``F`` (n, T) and ``task=None``.
    The functions are drawn before the inputs so that, for a fixed
    ``random_state``, they do not depend on ``n_samples``.
    """
    (counts, n_tasks, n_features, structure, n_clusters, rank, correlation,
     length_scale) = _check_common(n_samples, n_tasks, n_features, structure,
                                   n_clusters, rank, correlation, length_scale,
                                   shared_inputs)
    rng = check_random_state(random_state)
    A = _task_matrix(structure, n_tasks, n_clusters, rank, correlation, rng)
    omega, phase = _draw_rff(n_features, length_scale, rng)
    W = _draw_weights(A, omega, phase, rng)

    if shared_inputs:
        X = rng.standard_normal((int(counts[0]), n_features))
        return X, _rff(X, omega, phase) @ W, None, A, rng

    task = np.repeat(np.arange(n_tasks, dtype=np.int64), counts)
    X = rng.standard_normal((task.shape[0], n_features))
    if structure == "covariate_shift":
        X += _draw_task_means(n_tasks, n_features, rng)[task]
    Phi = _rff(X, omega, phase)
    # Each row only needs its own task's function value.
    F = np.einsum("nm,mn->n", Phi, W[:, task])
    return X, F, task, A, rng


# ---------------------------------------------------------------------------
# Public generators
# ---------------------------------------------------------------------------
_COMMON_PARAMS_DOC = """\
    n_samples : int or array-like of int, default=50
        Samples per task. An array of length ``n_tasks`` gives imbalanced
        tasks. With ``shared_inputs=True`` it must be an int: the number of
        input rows shared by all tasks.
    n_tasks : int, default=8
        Number of tasks ``T``.
    n_features : int, default=5
        Input dimension ``d``.
    structure : {"independent", "clustered", "graph", "low_rank", \
"negative", "covariate_shift"}, default="clustered"
        Planted task structure, i.e. the true task correlation matrix ``A``:

        - ``"independent"``: ``A = I``.
        - ``"clustered"``: ``n_clusters`` contiguous groups of tasks (sizes as
          equal as possible); correlation ``correlation`` within a group,
          0 across groups.
        - ``"graph"``: chain graph ``0 - 1 - ... - T-1`` over the tasks;
          ``A = (L + 0.1 I)^{-1}`` (``L`` the graph Laplacian) rescaled to
          unit diagonal, so correlation decays with graph distance.
        - ``"low_rank"``: ``A = G G^T + 0.01 I`` with ``G`` a random
          ``(T, rank)`` Gaussian matrix, rescaled to unit diagonal.
        - ``"negative"``: two groups (first and second half of the tasks);
          correlation ``correlation`` within a group and ``-correlation``
          across, i.e. ``A = correlation v v^T + (1 - correlation) I`` with
          ``v`` the +-1 group signs.
        - ``"covariate_shift"``: ``A`` is all ones: every task uses the *same*
          function, but task ``t`` draws its inputs from
          ``N(mu_t, I)`` with ``mu_t`` = 1.5 times a random unit vector. Only
          the input marginals differ between tasks.
    n_clusters : int, default=2
        Number of clusters (``structure="clustered"`` only).
    rank : int, default=2
        Rank of ``G`` (``structure="low_rank"`` only).
    correlation : float in [0, 1], default=0.9
        Within-group correlation (``"clustered"`` and ``"negative"``).
"""

_TAIL_PARAMS_DOC = """\
    length_scale : float > 0, default=1.0
        Length scale of the RBF kernel that the random Fourier features
        approximate; smaller values give wigglier functions.
    shared_inputs : bool, default=False
        If True, all tasks are observed at the same inputs and the targets
        are returned in wide format (not allowed for ``"covariate_shift"``).
"""

_RETURNS_DOC = """\
    X : ndarray of shape (N, d) or (n, d), float64
        Inputs. Long format: rows grouped by task (task 0 first).
        Except for ``"covariate_shift"`` they are ``N(0, I_d)`` draws.
    y : ndarray of shape (N,)
        Targets of each row (long format only).
    task : ndarray of shape (N,), int64
        Task index in ``0..T-1`` of each row (long format only).
    Y : ndarray of shape (n, T)
        Targets of every task at every shared input
        (``shared_inputs=True`` only; replaces ``y`` and ``task``).
    task_matrix : ndarray of shape (T, T)
        The true task correlation matrix ``A`` (symmetric PSD, unit
        diagonal): ``Cov_x(f_s(x), f_t(x)) = A[s, t]`` for
        ``x ~ N(0, I_d)``.
"""


def make_multitask_regression(n_samples=50, n_tasks=8, n_features=5,
                              structure="clustered", n_clusters=2, rank=2,
                              correlation=0.9, noise=0.1, length_scale=1.0,
                              shared_inputs=False, random_state=None):
    """Generate a multi-task regression problem with a known task structure.

    The task functions are a joint Gaussian-process-like draw
    ``f_t(x) = phi(x) @ W[:, t]`` where ``phi`` are 300 random Fourier
    features of an RBF kernel and the task covariance of the functions is
    exactly ``task_matrix`` (so ``Var(f_t) = 1`` under ``N(0, I)`` inputs).
    Targets are ``y = f_t(x) + noise * N(0, 1)``.

    Returns ``(X, y, task, task_matrix)`` in long format, or
    ``(X, Y, task_matrix)`` with ``shared_inputs=True``.

    Parameters
    ----------
{common}    noise : float >= 0, default=0.1
        Standard deviation of the Gaussian noise added to the targets
        (the signal has unit variance, so this is a noise-to-signal ratio).
{tail}    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
{returns}
    See Also
    --------
    make_multitask_classification : Binary labels from the same functions.

    Notes
    -----
    The weights are whitened against the exact feature covariance, so the
    planted correlations hold for the drawn functions themselves, not only
    on average over draws. The functions are drawn before the inputs: for a
    fixed ``random_state`` they do not depend on ``n_samples``.

    Examples
    --------
    >>> from rkhsmtl.datasets import make_multitask_regression
    >>> X, y, task, A = make_multitask_regression(
    ...     n_samples=20, n_tasks=4, structure="clustered", random_state=0)
    >>> X.shape, y.shape, task.shape, A.shape
    ((80, 5), (80,), (80,), (4, 4))
    >>> A[0, 1], A[0, 3]
    (np.float64(0.9), np.float64(0.0))
    >>> X, Y, A = make_multitask_regression(
    ...     n_samples=30, n_tasks=3, shared_inputs=True, random_state=0)
    >>> Y.shape
    (30, 3)
    """
    noise = _check_real(noise, "noise", 0.0, np.inf, high_open=True)
    X, F, task, A, rng = _latent(n_samples, n_tasks, n_features, structure,
                                 n_clusters, rank, correlation, length_scale,
                                 shared_inputs, random_state)
    Y = F + noise * rng.standard_normal(F.shape)
    if task is None:
        return X, Y, A
    return X, Y, task, A


def _median_labels(F, groups):
    """1 where ``F`` exceeds the median of its group, else 0 (int64)."""
    labels = np.zeros(F.shape, dtype=np.int64)
    for g in np.unique(groups):
        mask = groups == g
        labels[mask] = F[mask] > np.median(F[mask])
    return labels


def make_multitask_classification(n_samples=50, n_tasks=8, n_features=5,
                                  structure="clustered", n_clusters=2, rank=2,
                                  correlation=0.9, flip_y=0.05,
                                  length_scale=1.0, shared_inputs=False,
                                  random_state=None):
    """Generate a multi-task binary classification problem.

    The latent task functions are drawn exactly as in
    :func:`make_multitask_regression`; the label of a sample is 1 when its
    latent function value is above the per-task median (so classes are
    balanced), else 0. A fraction ``flip_y`` of labels is then flipped.

    Returns ``(X, y, task, task_matrix)`` in long format, or
    ``(X, Y, task_matrix)`` with ``shared_inputs=True``; labels are int64 in
    {{0, 1}}.

    Parameters
    ----------
{common}    flip_y : float in [0, 1], default=0.05
        Probability that a label is flipped (independently per sample), to
        make the problem noisy.
{tail}    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
{returns}
    See Also
    --------
    make_multitask_regression : The underlying latent functions.

    Notes
    -----
    For ``structure="covariate_shift"`` the threshold is the median of the
    latent function over *all* samples, not per task: a per-task threshold
    would give each task its own labelling rule and break the premise that
    only the input distributions differ. Classes are then balanced overall
    but not necessarily within each task. ``task_matrix`` is the correlation
    of the latent functions, not of the labels.

    Examples
    --------
    >>> from rkhsmtl.datasets import make_multitask_classification
    >>> X, y, task, A = make_multitask_classification(
    ...     n_samples=40, n_tasks=4, structure="negative", random_state=0)
    >>> sorted(set(y.tolist()))
    [0, 1]
    >>> A[0, 3] < 0
    np.True_
    """
    flip_y = _check_real(flip_y, "flip_y", 0.0, 1.0)
    X, F, task, A, rng = _latent(n_samples, n_tasks, n_features, structure,
                                 n_clusters, rank, correlation, length_scale,
                                 shared_inputs, random_state)
    if task is None:
        labels = (F > np.median(F, axis=0)).astype(np.int64)
    elif structure == "covariate_shift":
        labels = _median_labels(F, np.zeros_like(task))
    else:
        labels = _median_labels(F, task)
    flip = rng.uniform(size=labels.shape) < flip_y
    labels = np.where(flip, 1 - labels, labels)
    if task is None:
        return X, labels, A
    return X, labels, task, A


# The two generators share most parameters; fill them in once.  Docstrings
# are absent under ``python -OO``, hence the guard.
for _func in (make_multitask_regression, make_multitask_classification):
    if _func.__doc__:
        _func.__doc__ = _func.__doc__.format(common=_COMMON_PARAMS_DOC,
                                             tail=_TAIL_PARAMS_DOC,
                                             returns=_RETURNS_DOC)
del _func
