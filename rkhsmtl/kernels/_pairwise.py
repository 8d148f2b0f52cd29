"""Pairwise kernels written against the array API.

Rows are processed in blocks where a kernel needs a temporary larger than the
output (the Laplacian's |x - x'| tensor), so memory stays proportional to the
kernel matrix itself.
"""
from .._backend import asarray_on, get_namespace, is_cupy, is_numpy

_BLOCK_BYTES = 128 * 1024**2


def _gamma(gamma, X):
    return 1.0 / X.shape[1] if gamma is None else float(gamma)


def linear_kernel(X, Y=None):
    """k(x, y) = <x, y>.

    Parameters
    ----------
    X : array of shape (n_samples_X, n_features)
    Y : array of shape (n_samples_Y, n_features), default=None
        None means X.

    Returns
    -------
    K : array of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.kernels import linear_kernel
    >>> X = np.array([[1.0, 0.0], [1.0, 2.0]])
    >>> linear_kernel(X).tolist()
    [[1.0, 1.0], [1.0, 5.0]]
    """
    Y = X if Y is None else Y
    xp = get_namespace(X, Y)
    return X @ xp.matrix_transpose(Y)


def polynomial_kernel(X, Y=None, gamma=None, degree=3, coef0=1.0):
    """k(x, y) = (gamma <x, y> + coef0) ** degree; gamma=None is 1/n_features.

    Parameters
    ----------
    X : array of shape (n_samples_X, n_features)
    Y : array of shape (n_samples_Y, n_features), default=None
        None means X.
    gamma : float, default=None
        None means ``1 / n_features``.
    degree : float, default=3
    coef0 : float, default=1.0

    Returns
    -------
    K : array of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.kernels import polynomial_kernel
    >>> X = np.array([[1.0, 0.0], [1.0, 2.0]])
    >>> polynomial_kernel(X, degree=2, gamma=1.0).tolist()
    [[4.0, 4.0], [4.0, 36.0]]
    """
    K = linear_kernel(X, Y)
    return (_gamma(gamma, X) * K + coef0) ** degree


def _squared_distances(xp, X, Y):
    xx = xp.sum(X * X, axis=1)
    yy = xp.sum(Y * Y, axis=1)
    D = X @ xp.matrix_transpose(Y)
    D = -2.0 * D + xx[:, None] + yy[None, :]
    # Cancellation can make tiny distances slightly negative.
    return xp.clip(D, 0.0, None)


def rbf_kernel(X, Y=None, gamma=None):
    """k(x, y) = exp(-gamma ||x - y||^2); gamma=None is 1/n_features.

    Parameters
    ----------
    X : array of shape (n_samples_X, n_features)
    Y : array of shape (n_samples_Y, n_features), default=None
        None means X.
    gamma : float, default=None
        None means ``1 / n_features``.

    Returns
    -------
    K : array of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.kernels import rbf_kernel
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> rbf_kernel(X, gamma=0.5).round(3).tolist()
    [[1.0, 0.368], [0.368, 1.0]]
    """
    Y = X if Y is None else Y
    xp = get_namespace(X, Y)
    g = _gamma(gamma, X)
    if is_numpy(xp) or is_cupy(xp):
        return _rbf_in_place(xp, X, Y, g)
    D = _squared_distances(xp, X, Y)
    return xp.exp(-g * D)


def _rbf_in_place(xp, X, Y, g):
    """The same kernel with every elementwise step done in place.

    For N in the tens of thousands the Gram matrix is GBs; the textbook
    expression allocates five temporaries of that size and is memory bound,
    costing a sizeable fraction of a Cholesky.  Here the only N x M array is
    the output of the matrix product, updated in row blocks that stay in cache.
    """
    gx = g * xp.sum(X * X, axis=1)
    gy = g * xp.sum(Y * Y, axis=1)
    K = X @ xp.matrix_transpose(Y)
    rows = max(1, int(_BLOCK_BYTES // 16 // max(1, 8 * K.shape[1])))
    for start in range(0, K.shape[0], rows):
        B = K[start:start + rows]
        B *= 2.0 * g
        B -= gx[start:start + rows, None]
        B -= gy[None, :]
        # -g * squared distance is <= 0; cancellation can make it slightly positive.
        xp.minimum(B, 0.0, out=B)
        xp.exp(B, out=B)
    return K


def laplacian_kernel(X, Y=None, gamma=None):
    """k(x, y) = exp(-gamma ||x - y||_1); gamma=None is 1/n_features.

    Parameters
    ----------
    X : array of shape (n_samples_X, n_features)
    Y : array of shape (n_samples_Y, n_features), default=None
        None means X.
    gamma : float, default=None
        None means ``1 / n_features``.

    Returns
    -------
    K : array of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.kernels import laplacian_kernel
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0]])
    >>> laplacian_kernel(X, gamma=0.5).round(3).tolist()
    [[1.0, 0.368], [0.368, 1.0]]
    """
    Y = X if Y is None else Y
    xp = get_namespace(X, Y)
    g = _gamma(gamma, X)
    n, m, d = X.shape[0], Y.shape[0], X.shape[1]
    rows = max(1, int(_BLOCK_BYTES // max(1, 8 * m * d)))
    blocks = []
    for start in range(0, n, rows):
        Xb = X[start : min(start + rows, n), :]
        dist = xp.sum(xp.abs(Xb[:, None, :] - Y[None, :, :]), axis=2)
        blocks.append(xp.exp(-g * dist))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)


KERNELS = {
    "rbf": (rbf_kernel, {"gamma"}),
    "laplacian": (laplacian_kernel, {"gamma"}),
    "linear": (linear_kernel, set()),
    "polynomial": (polynomial_kernel, {"gamma", "degree", "coef0"}),
    "poly": (polynomial_kernel, {"gamma", "degree", "coef0"}),
}


def compute_kernel(X, Y=None, kernel="rbf", gamma=None, degree=3, coef0=1.0,
                   kernel_params=None):
    """Gram matrix k(X, Y) for a named, precomputed or callable kernel.

    Parameters
    ----------
    X : array of shape (n_samples_X, n_features)
        For ``kernel="precomputed"``, X is already the kernel matrix and is
        returned as is.
    Y : array of shape (n_samples_Y, n_features), default=None
        ``None`` means ``Y = X``.
    kernel : str or callable, default="rbf"
        One of ``"rbf"``, ``"laplacian"``, ``"linear"``, ``"polynomial"``
        (alias ``"poly"``), ``"precomputed"``, or a callable
        ``kernel(X, Y, **kernel_params)`` returning the Gram matrix.
    gamma, degree, coef0 : float
        Parameters of the named kernels (ignored where they do not apply).
    kernel_params : dict, default=None
        Extra keyword arguments for a callable kernel.

    Returns
    -------
    K : array of shape (n_samples_X, n_samples_Y)

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.kernels import compute_kernel
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    >>> compute_kernel(X, X[:2], kernel="linear").tolist()
    [[0.0, 0.0], [0.0, 2.0], [0.0, 2.0]]
    >>> compute_kernel(X, kernel="rbf", gamma=0.5).shape
    (3, 3)
    """
    if kernel == "precomputed":
        return X
    Y = X if Y is None else Y
    xp = get_namespace(X, Y)
    if callable(kernel):
        K = kernel(X, Y, **(kernel_params or {}))
        K = asarray_on(K, xp, like=X, dtype=None)
        if tuple(K.shape) != (X.shape[0], Y.shape[0]):
            raise ValueError(
                "The callable 'kernel' must return a Gram matrix of shape "
                f"{(X.shape[0], Y.shape[0])}; got shape {tuple(K.shape)}. It is "
                "called as kernel(X, Y) on two 2-D arrays."
            )
    else:
        func, accepted = KERNELS[kernel]
        values = {"gamma": gamma, "degree": degree, "coef0": coef0}
        K = func(X, Y, **{k: v for k, v in values.items() if k in accepted})
    check_kernel_finite(xp, K, X, Y, kernel, gamma=gamma, degree=degree, coef0=coef0)
    return K


def check_kernel_finite(xp, K, X, Y, kernel, gamma=None, degree=3, coef0=1.0):
    """Raise a ValueError naming the kernel and its parameters if K is not finite.

    Every estimator and distribution matching take their kernel blocks from
    :func:`compute_kernel`, so this is the one place where an overflowing
    kernel (inputs at a huge scale, a high polynomial degree, a callable that
    returns NaN) is caught, instead of surfacing later as all-NaN predictions
    or a non-converging eigensolver.
    """
    # A finite sum implies finite entries and needs no N x M temporary; only
    # when it is not finite do we look entry by entry (an overflowing sum of
    # finite, huge entries is let through: those entries are still numbers).
    if K.shape[0] == 0 or K.shape[1] == 0 or bool(xp.isfinite(xp.sum(K))):
        return
    if bool(xp.all(xp.isfinite(K))):
        return
    if not (bool(xp.all(xp.isfinite(X))) and bool(xp.all(xp.isfinite(Y)))):
        raise ValueError(
            "Input X contains NaN or infinity, so the kernel matrix does too. "
            "Remove or impute those rows first."
        )
    scale = float(xp.max(xp.abs(X))) if X.shape[0] and X.shape[1] else 0.0
    if callable(kernel):
        name = getattr(kernel, "__name__", type(kernel).__name__)
        raise ValueError(
            f"The callable kernel {name!r} returned a kernel matrix containing NaN "
            f"or infinity for finite inputs (largest |X| = {scale:.3g}). Make it "
            "return finite values, or standardize the inputs (e.g. "
            "sklearn.preprocessing.StandardScaler) if it overflows at their scale."
        )
    shown = {"gamma": "None (1 / n_features)" if gamma is None else repr(gamma)}
    if kernel in ("polynomial", "poly"):
        shown.update(degree=repr(degree), coef0=repr(coef0))
    elif kernel == "linear":
        shown = {}
    params = "".join(f", {k}={v}" for k, v in shown.items())
    fix = {"polynomial": "lower 'degree' or 'gamma'", "poly": "lower 'degree' or 'gamma'",
           "linear": "rescale the inputs"}.get(kernel, "set a smaller 'gamma'")
    raise ValueError(
        f"The kernel matrix (kernel={kernel!r}{params}) contains NaN or infinity "
        f"although X is finite: the kernel overflows at the scale of the inputs "
        f"(largest |X| = {scale:.3g}). Standardize the features (e.g. "
        f"sklearn.preprocessing.StandardScaler) or {fix}."
    )


def kernel_names():
    """Names accepted by the 'kernel' parameter besides callables."""
    return sorted(KERNELS) + ["precomputed"]


