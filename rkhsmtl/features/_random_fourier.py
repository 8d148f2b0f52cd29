r"""Random Fourier features for shift-invariant kernels (Rahimi & Recht 2007).

By Bochner's theorem a shift-invariant kernel with :math:`k(0) = 1` is the
characteristic function of a probability density p (its spectral density):
:math:`k(x - x') = \mathbb E_{w \sim p}[\cos(w^\top (x - x'))]`.  With
:math:`W = (w_1, \dots, w_D)` drawn from p and offsets :math:`b_j \sim U[0, 2\pi)`,

.. math::

    \varphi(x) = \sqrt{2 / D}\, \cos(W^\top x + b),\qquad
    \mathbb E[\varphi(x)^\top \varphi(x')] = k(x, x'),

with an error of order :math:`1/\sqrt D` for every pair.  The densities are
known in closed form for the two kernels supported here:

* rbf :math:`\exp(-\gamma \|x - x'\|_2^2)`: :math:`w \sim N(0, 2\gamma I)`;
* laplacian :math:`\exp(-\gamma \|x - x'\|_1)`: each coordinate of w is
  Cauchy with location 0 and scale :math:`\gamma`.

Unlike Nyström, the features do not depend on the data (only on its number of
columns), so fitting costs nothing, but D must be much larger than a Nyström
rank for the same accuracy.
"""
import math

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state

from .._backend import asarray_on
from ._landmarks import (
    check_fitted,
    check_input,
    check_int,
    check_n_features,
    check_same_namespace,
    concat_rows,
    row_blocks,
)

SPECTRAL_KERNELS = ("rbf", "laplacian")


def check_spectral_kernel(kernel, owner="RandomFourierFeatures"):
    """Random Fourier features need a kernel with a known spectral density."""
    if isinstance(kernel, str) and kernel in SPECTRAL_KERNELS:
        return kernel
    got = "a callable" if callable(kernel) else repr(kernel)
    raise ValueError(
        f"The 'kernel' parameter of {owner} must be one of "
        f"{', '.join(map(repr, SPECTRAL_KERNELS))} (the kernels whose spectral "
        f"density is known). Got {got} instead. Use approximation='nystroem' "
        "for any other kernel, including callables."
    )


class RandomFourierFeatures(TransformerMixin, BaseEstimator):
    r"""Random Fourier feature map for the rbf and laplacian kernels.

    :math:`\varphi(x) = \sqrt{2/D} \cos(x W + b)` with frequencies W drawn
    from the spectral density of the kernel and offsets b uniform on
    :math:`[0, 2\pi)`, so that :math:`\varphi(x)^\top \varphi(x')` is an
    unbiased estimate of :math:`k(x, x')` with error of order
    :math:`1/\sqrt{D}`.

    Parameters
    ----------
    kernel : {"rbf", "laplacian"}, default="rbf"
        ``"rbf"`` is :math:`\exp(-\gamma \|x - x'\|_2^2)` (frequencies
        :math:`N(0, 2\gamma)`), ``"laplacian"`` is
        :math:`\exp(-\gamma \|x - x'\|_1)` (frequencies Cauchy with scale
        :math:`\gamma`, per coordinate).
    gamma : float or None, default=None
        Kernel parameter; ``None`` means ``1 / n_features``, resolved at
        ``fit`` (the convention of :func:`rkhsmtl.kernels.compute_kernel` and
        scikit-learn).
    n_components : int, default=100
        Number of features D.
    random_state : int, RandomState instance or None, default=None
        Seeds the frequencies and offsets, drawn on the host (numpy) so a
        seed gives the same features on every array backend.

    Attributes
    ----------
    random_weights_ : array of shape (n_features, n_components)
        Frequencies W, in the namespace and on the device of the X given to
        ``fit``.
    random_offset_ : array of shape (n_components,)
        Offsets b.
    n_components_ : int
        Feature dimension D.
    n_features_in_ : int
        Number of columns of X at fit.

    See Also
    --------
    NystroemFeatures : Data-dependent features for any kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.features import RandomFourierFeatures
    >>> from rkhsmtl.kernels import rbf_kernel
    >>> X = np.random.RandomState(0).randn(20, 3)
    >>> rff = RandomFourierFeatures(gamma=0.2, n_components=20000, random_state=0)
    >>> Phi = rff.fit(X).transform(X)
    >>> Phi.shape
    (20, 20000)
    >>> bool(np.abs(Phi @ Phi.T - rbf_kernel(X, gamma=0.2)).mean() < 0.02)
    True
    """

    def __init__(self, kernel="rbf", gamma=None, n_components=100, random_state=None):
        self.kernel = kernel
        self.gamma = gamma
        self.n_components = n_components
        self.random_state = random_state

    def _validate_params(self):
        owner = type(self).__name__
        check_spectral_kernel(self.kernel, owner)
        D = check_int(self.n_components, "n_components", owner)
        gamma = self.gamma
        if gamma is not None and (isinstance(gamma, bool) or not isinstance(gamma, (int, float))
                                  or not (0.0 < gamma < math.inf)):
            raise ValueError(
                f"The 'gamma' parameter of {owner} must be None or a float > 0. "
                f"Got {gamma!r} instead."
            )
        return D

    def fit(self, X, y=None):
        """Draw the frequencies and offsets for the number of columns of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs; only their number of columns, namespace and
            device are used.
        y : None
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        self : RandomFourierFeatures
            The fitted map.
        """
        D = self._validate_params()
        xp, X = check_input(X, type(self).__name__)
        d = X.shape[1]
        gamma = 1.0 / d if self.gamma is None else float(self.gamma)
        rng = check_random_state(self.random_state)
        # Drawn on the host in float64 and then moved: the same seed gives the
        # same features on numpy, CuPy and any array-API backend.
        if self.kernel == "rbf":
            W = math.sqrt(2.0 * gamma) * rng.standard_normal(size=(d, D))
        else:
            W = gamma * rng.standard_cauchy(size=(d, D))
        b = rng.uniform(0.0, 2.0 * math.pi, size=D)
        self.random_weights_ = asarray_on(W, xp, like=X)
        self.random_offset_ = asarray_on(b, xp, like=X)
        self.n_components_ = D
        self.n_features_in_ = d
        return self

    def transform(self, X):
        r"""Map X to its random Fourier features, in row blocks.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs in the same array namespace (and on the same device) as
            the X given to ``fit``.  Not modified.

        Returns
        -------
        Phi : array of shape (n_samples, n_components)
            :math:`\sqrt{2/D} \cos(X W + b)`, in X's namespace.
        """
        check_fitted(self, "random_weights_")
        owner = type(self).__name__
        xp, X = check_input(X, owner, min_rows=0)
        check_same_namespace(xp, X, self.random_weights_, owner)
        check_n_features(self, X)
        scale = math.sqrt(2.0 / self.n_components_)
        blocks = []
        for start, stop in row_blocks(X.shape[0], 8 * 2 * self.n_components_):
            Phi = X[start:stop, :] @ self.random_weights_ + self.random_offset_[None, :]
            blocks.append(scale * xp.cos(Phi))
        return concat_rows(xp, blocks, self.n_components_, X)
