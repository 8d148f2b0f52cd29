r"""Nyström features: an explicit map whose inner products are k projected on landmarks.

With landmarks :math:`Z` (m rows of X) and :math:`K_{ZZ} = U \Lambda U^\top`,

.. math::

    \varphi(x) = \Lambda_r^{-1/2} U_r^\top k(Z, x),\qquad
    \varphi(x)^\top \varphi(x') = k(x, Z)\, K_{ZZ}^{+}\, k(Z, x'),

the kernel of the orthogonal projection of the RKHS onto the span of the
:math:`k(z_j, \cdot)` (Williams & Seeger 2001).  It is exact on the landmarks
and equals k everywhere when Z spans the data.  Only the r eigenvalues above
``rcond`` times the largest are kept: a truncated pseudo-inverse, so duplicate
or near-duplicate landmarks shrink the feature dimension instead of blowing up
the features.
"""
from functools import partial

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from .._backend import linalg
from ._landmarks import (
    check_fitted,
    check_input,
    check_int,
    check_n_features,
    check_same_namespace,
    concat_rows,
    greedy_landmarks,
    row_blocks,
    take_rows,
    uniform_landmarks,
)

LANDMARKS = ("uniform", "greedy")


class NystroemFeatures(TransformerMixin, BaseEstimator):
    r"""Nyström feature map with :math:`k(x, x') \approx \varphi(x)^\top \varphi(x')`.

    ``fit`` picks m landmark rows Z of X and factors :math:`K_{ZZ}` once;
    ``transform`` maps any X to :math:`\varphi(X) = k(X, Z) U_r \Lambda_r^{-1/2}`,
    in row blocks of bounded memory.

    Parameters
    ----------
    kernel_fn : callable
        ``kernel_fn(X1, X2)`` returns the kernel matrix of shape
        ``(len(X1), len(X2))`` in the namespace of its inputs, e.g.
        ``functools.partial(rkhsmtl.kernels.compute_kernel, kernel="rbf",
        gamma=0.1)``.  Must be picklable for the map to pickle.
    n_components : int
        Number of landmarks m (capped at the number of rows of X).  The
        feature dimension ``n_components_`` is at most m.
    landmarks : {"uniform", "greedy"}, default="uniform"
        ``"uniform"`` draws m distinct rows at random (O(n) kernel work at
        fit).  ``"greedy"`` takes the pivots of a greedy pivoted Cholesky of
        k(X, X): each landmark is the row worst explained by the previous ones,
        which never repeats a duplicate and adapts to clustered data, at the
        cost of m kernel columns (O(n m d + n m^2)).  It stops early, with fewer
        than m landmarks, when k(X, X) has rank below m.
    random_state : int, RandomState instance or None, default=None
        Seeds the uniform draw of landmarks (unused by ``"greedy"``).
    rcond : float or None, default=None
        Eigenvalues of :math:`K_{ZZ}` at most ``rcond`` times the largest are
        dropped.  ``None`` means ``10 * m * eps`` (eps of float64, about
        2.2e-15 m): the round-off level of an eigendecomposition of an m x m
        matrix, so what is dropped is numerically zero (duplicate landmarks,
        a low-rank kernel) and what is kept is resolved.

    Attributes
    ----------
    landmarks_ : array of shape (n_landmarks, n_features)
        The landmark rows Z (a copy, in the namespace and on the device of
        the X given to ``fit``).
    landmark_indices_ : numpy.ndarray of shape (n_landmarks,)
        Row indices of the landmarks in that X (greedy order for
        ``"greedy"``, increasing for ``"uniform"``).
    n_landmarks_ : int
        Number of landmarks m.
    n_components_ : int
        Feature dimension r: eigenvalues of :math:`K_{ZZ}` kept.  Below
        ``n_landmarks_`` when the landmark kernel is rank deficient
        (recorded, not warned: the features are still exact on the span).
    projection_ : array of shape (n_landmarks, n_components)
        :math:`U_r \Lambda_r^{-1/2}`, columns by decreasing eigenvalue, so
        that ``transform(X) = kernel_fn(X, landmarks_) @ projection_``.
    eigenvalues_ : array of shape (n_components,)
        The kept eigenvalues of :math:`K_{ZZ}`, decreasing.
    n_features_in_ : int
        Number of columns of X at fit.

    See Also
    --------
    RandomFourierFeatures : Data-independent features for rbf and laplacian.

    Examples
    --------
    >>> from functools import partial
    >>> import numpy as np
    >>> from rkhsmtl.kernels import compute_kernel
    >>> from rkhsmtl.features import NystroemFeatures
    >>> X = np.random.RandomState(0).randn(30, 3)
    >>> kernel_fn = partial(compute_kernel, kernel="rbf", gamma=0.5)
    >>> phi = NystroemFeatures(kernel_fn, n_components=30, random_state=0).fit(X)
    >>> Phi = phi.transform(X)
    >>> Phi.shape
    (30, 30)
    >>> bool(np.allclose(Phi @ Phi.T, kernel_fn(X, X)))
    True
    """

    def __init__(self, kernel_fn, n_components, *, landmarks="uniform",
                 random_state=None, rcond=None):
        self.kernel_fn = kernel_fn
        self.n_components = n_components
        self.landmarks = landmarks
        self.random_state = random_state
        self.rcond = rcond

    def _validate_params(self):
        owner = type(self).__name__
        if not callable(self.kernel_fn):
            raise ValueError(
                f"The 'kernel_fn' parameter of {owner} must be a callable "
                f"kernel_fn(X1, X2) returning the kernel matrix. Got "
                f"{self.kernel_fn!r} instead."
            )
        m = check_int(self.n_components, "n_components", owner)
        if self.landmarks not in LANDMARKS:
            raise ValueError(
                f"The 'landmarks' parameter of {owner} must be one of "
                f"{', '.join(map(repr, LANDMARKS))}. Got {self.landmarks!r} instead."
            )
        rcond = self.rcond
        if rcond is not None and (isinstance(rcond, bool) or not isinstance(rcond, (int, float))
                                  or not 0.0 <= rcond < 1.0):
            raise ValueError(
                f"The 'rcond' parameter of {owner} must be None or a float in "
                f"[0, 1). Got {rcond!r} instead."
            )
        return m

    def _kernel(self, xp, X1, X2):
        """One float64 kernel block, with a loud error if it is not finite."""
        K = self.kernel_fn(X1, X2)
        if K.dtype != xp.float64:
            K = xp.astype(K, xp.float64)
        # A finite sum needs no block-sized temporary; only when it is not
        # finite do we look entry by entry (huge finite entries may overflow it).
        if not bool(xp.isfinite(xp.sum(K))) and not bool(xp.all(xp.isfinite(K))):
            scale = max(float(xp.max(xp.abs(X1))), float(xp.max(xp.abs(X2))))
            raise ValueError(
                f"The kernel {_describe(self.kernel_fn)} returned NaN or infinity "
                f"on finite inputs (largest |X| = {scale:.3g}). Standardize X "
                "(e.g. sklearn.preprocessing.StandardScaler), set a smaller "
                "'gamma' (rbf, laplacian, polynomial) or 'degree' (polynomial), "
                "or make the kernel callable return finite values."
            )
        return K

    def fit(self, X, y=None):
        """Choose the landmarks and factor their kernel matrix.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs (numpy, CuPy or any array-API array).  Not modified.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self : NystroemFeatures
            The fitted map.
        """
        m = self._validate_params()
        xp, X = check_input(X, type(self).__name__)
        n = X.shape[0]
        m = min(m, n)
        kernel = partial(self._kernel, xp)
        if self.landmarks == "greedy":
            indices = greedy_landmarks(xp, kernel, X, m)
        else:
            indices = uniform_landmarks(n, m, check_random_state(self.random_state))
        Z = take_rows(xp, X, indices)
        K_zz = kernel(Z, Z)
        # eigh reads one triangle; symmetrizing first makes the result
        # independent of which one for callables that are not exactly symmetric.
        K_zz = 0.5 * (K_zz + xp.matrix_transpose(K_zz))
        lam, U = linalg.eigh(xp, K_zz)
        m = Z.shape[0]
        top = float(lam[m - 1])
        if not top > 0.0:
            raise ValueError(
                f"The kernel {_describe(self.kernel_fn)} is zero (or negative) "
                f"on all {m} landmarks (largest eigenvalue {top:.3g}), so there "
                "is no feature to build. For a linear or polynomial kernel, "
                "check that X is not all zeros; otherwise check the kernel."
            )
        rcond = 10.0 * m * xp.finfo(xp.float64).eps if self.rcond is None else float(self.rcond)
        # Ascending eigenvalues: the kept ones are a suffix; flip it so the
        # first feature carries the largest eigenvalue.  Negative eigenvalues
        # (round-off, or an indefinite callable) fall below the cut as well.
        r = int(xp.sum(xp.astype(lam > rcond * top, xp.int64)))
        lam_r = xp.flip(lam[m - r:])
        U_r = xp.flip(U[:, m - r:], axis=1)
        # Eigenvector signs are arbitrary and differ between LAPACK drivers;
        # making each column's largest entry positive gives the same features
        # on every backend (for distinct eigenvalues).
        flip = xp.max(U_r, axis=0) < -xp.min(U_r, axis=0)
        U_r = xp.where(flip[None, :], -U_r, U_r)
        self.landmarks_ = Z
        self.landmark_indices_ = indices
        self.n_landmarks_ = m
        self.n_components_ = r
        self.eigenvalues_ = lam_r
        self.projection_ = U_r / xp.sqrt(lam_r)[None, :]
        self.n_features_in_ = X.shape[1]
        return self

    def kernel_features(self, X):
        """``kernel_fn(X, landmarks_)``: the features before ``projection_``.

        ``transform(X) == kernel_features(X) @ projection_``.  Statistics that
        are linear or quadratic in the features (sums, Gram matrices) can be
        gathered on these and projected once at the end, which saves one
        n x m x m product per row block.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        K : array of shape (n_samples, n_landmarks)
        """
        check_fitted(self, "projection_")
        owner = type(self).__name__
        xp, X = check_input(X, owner, min_rows=0)
        check_same_namespace(xp, X, self.landmarks_, owner)
        check_n_features(self, X)
        return self._kernel(xp, X, self.landmarks_)

    def transform(self, X):
        """Map X to its Nyström features, in row blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs in the same array namespace (and on the same device) as
            the X given to ``fit``.  Not modified.

        Returns
        -------
        Phi : array of shape (n_samples, n_components)
            ``kernel_fn(X, landmarks_) @ projection_``, in X's namespace.
        """
        check_fitted(self, "projection_")
        owner = type(self).__name__
        xp, X = check_input(X, owner, min_rows=0)
        check_same_namespace(xp, X, self.landmarks_, owner)
        check_n_features(self, X)
        # Per row: one kernel row (m floats), its features (r floats), and
        # room for one temporary of the kernel itself.
        per_row = 8 * (2 * self.n_landmarks_ + self.n_components_)
        blocks = [
            self._kernel(xp, X[start:stop, :], self.landmarks_) @ self.projection_
            for start, stop in row_blocks(X.shape[0], per_row)
        ]
        return concat_rows(xp, blocks, self.n_components_, X)


def _describe(kernel_fn):
    """``kernel='rbf', gamma=0.1`` for a partial of compute_kernel, else a name."""
    if isinstance(kernel_fn, partial):
        keywords = kernel_fn.keywords
        kernel = keywords.get("kernel")
        if isinstance(kernel, str):
            relevant = {"rbf": ("gamma",), "laplacian": ("gamma",),
                        "polynomial": ("gamma", "degree", "coef0"),
                        "poly": ("gamma", "degree", "coef0")}.get(kernel, ())
            shown = [f"kernel={kernel!r}"] + [
                f"{k}={keywords.get(k)!r}" for k in relevant]
            return "(" + ", ".join(shown) + ")"
        kernel_fn = kernel if callable(kernel) else kernel_fn.func
    return repr(getattr(kernel_fn, "__name__", type(kernel_fn).__name__))
