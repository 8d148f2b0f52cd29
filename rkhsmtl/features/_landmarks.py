"""Row-level helpers of the feature maps: input checks, row blocks, landmarks.

Both feature maps read X in row blocks of bounded memory, so a map fitted on a
sample can transform data sets whose kernel against the landmarks would not fit
in memory at once.  Randomness is drawn on the host (numpy) and only the result
is moved to the namespace of X, so a seed gives the same features on every
backend.
"""
import numpy as np
from sklearn.exceptions import NotFittedError

from .._backend import asarray_on, device_of, get_namespace, same_device
from ..solvers._pivoted_cholesky import pivoted_cholesky

# Bytes of the temporaries of one row block (kernel block plus its features).
BLOCK_BYTES = 256 * 1024**2
# Side of the square kernel blocks whose diagonals give the kernel diagonal.
# The work is n * block * n_features, so small blocks (512 KiB) are cheaper;
# below ~100 rows the per-call overhead would dominate.
_DIAGONAL_BLOCK = 256


def check_int(value, name, owner):
    """Validate an integer parameter >= 1 (bools are not integers here)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"The '{name}' parameter of {owner} must be an int >= 1. "
            f"Got {value!r} instead."
        )
    return int(value)


def check_input(X, owner, min_rows=1):
    """Return ``(xp, X)`` with X a finite 2-D float64 array.

    X is never modified: a float64 array is used as is, anything else is
    converted to a new array.  ``transform`` passes ``min_rows=0``: an empty
    chunk of a stream maps to an empty feature block.
    """
    xp = get_namespace(X)
    if not hasattr(X, "__array_namespace__"):  # lists, pandas objects
        X = asarray_on(np.asarray(X, dtype=np.float64), xp)
    if X.dtype != xp.float64:
        X = xp.astype(X, xp.float64)
    if X.ndim != 2:
        raise ValueError(
            f"{owner} expects a 2-D array X of shape (n_samples, n_features); "
            f"got an array of shape {tuple(X.shape)}. Reshape a single feature "
            "with X.reshape(-1, 1) or a single sample with X.reshape(1, -1)."
        )
    if X.shape[0] < min_rows or X.shape[1] < 1:
        raise ValueError(
            f"{owner} needs at least {min_rows} sample(s) and one feature; got X "
            f"of shape {tuple(X.shape)}."
        )
    if not bool(xp.all(xp.isfinite(X))):
        raise ValueError(
            f"Input X of {owner} contains NaN or infinity. Remove or impute "
            "those rows first."
        )
    return xp, X


def check_same_namespace(xp, X, fitted, owner):
    """Fitted state stays where it was fitted: a mismatch is an error."""
    xp_fit = get_namespace(fitted)
    if xp is not xp_fit or not same_device(X, fitted):
        raise ValueError(
            f"{owner} was fitted on {xp_fit.__name__} arrays on device "
            f"{_device_name(fitted)}, but transform received "
            f"{xp.__name__} arrays on device {_device_name(X)}. Move X to the "
            "array library and device used at fit (or refit on X's)."
        )


def _device_name(x):
    return str(device_of(x))


def check_fitted(estimator, attribute):
    """Raise NotFittedError unless ``fit`` has set ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} instance is not fitted yet. Call "
            "'fit' with the training inputs before 'transform'."
        )


def check_n_features(estimator, X):
    """X must have the number of columns seen at fit."""
    if X.shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} was "
            f"fitted with {estimator.n_features_in_} features."
        )


def concat_rows(xp, blocks, n_columns, like):
    """Stack row blocks; zero blocks (an empty X) give a (0, n_columns) array."""
    if not blocks:
        return xp.zeros((0, n_columns), dtype=xp.float64, device=device_of(like))
    return blocks[0] if len(blocks) == 1 else xp.concat(blocks, axis=0)


def row_blocks(n_rows, bytes_per_row):
    """``(start, stop)`` pairs covering ``range(n_rows)``, BLOCK_BYTES each."""
    rows = max(1, int(BLOCK_BYTES // max(1, bytes_per_row)))
    return [(start, min(start + rows, n_rows)) for start in range(0, n_rows, rows)]


def take_rows(xp, X, indices):
    """Copy of the rows ``indices`` (host integers) of X, in X's namespace."""
    idx = asarray_on(np.asarray(indices, dtype=np.int64), xp, like=X)
    return xp.take(X, idx, axis=0)


def uniform_landmarks(n_rows, m, rng):
    """m distinct row indices drawn uniformly, in increasing order."""
    # Sorted so the landmarks keep the order of X (reproducible, easier to read).
    return np.sort(rng.choice(n_rows, size=m, replace=False)).astype(np.intp)


def kernel_diagonal(xp, kernel_block, X):
    """``k(x_i, x_i)`` for every row, from square diagonal blocks only."""
    n = X.shape[0]
    parts = []
    for start in range(0, n, _DIAGONAL_BLOCK):
        Xb = X[start:min(start + _DIAGONAL_BLOCK, n), :]
        parts.append(xp.linalg.diagonal(kernel_block(Xb, Xb)))
    return parts[0] if len(parts) == 1 else xp.concat(parts)


def greedy_landmarks(xp, kernel_block, X, m):
    """Pivots of a greedy pivoted Cholesky of k(X, X), at most m of them.

    Each pivot is the row worst explained by the pivots before it (largest
    residual diagonal), so duplicates and near-duplicates of chosen rows are
    never picked, and only m kernel columns (n x 1 each) are ever evaluated.
    Fewer than m pivots come back when the kernel matrix has rank below m.
    """
    diagonal = kernel_diagonal(xp, kernel_block, X)

    def column(p):
        return kernel_block(X, X[p:p + 1, :])[:, 0]

    _, pivots, _ = pivoted_cholesky(xp, column, diagonal, m, atol=0.0)
    return np.asarray(pivots, dtype=np.intp)
