r"""Finite feature maps with :math:`k(x, x') \approx \varphi(x)^\top \varphi(x')`.

The approximate fitting path replaces the n x n kernel matrix by features
:math:`\Phi = \varphi(X)` of width m << n.  A map is fitted once
(``fit(X)``) and then applied to any number of row blocks
(``transform(X_block)``), so training statistics can be accumulated in one
pass over data that do not fit in memory.

* :class:`NystroemFeatures`: landmarks (uniform or greedy pivoted Cholesky)
  and a truncated pseudo-inverse of their kernel matrix; any kernel.
* :class:`RandomFourierFeatures`: random frequencies from the spectral
  density; rbf and laplacian kernels only, no data needed to fit.
"""
from functools import partial

from ..kernels import KERNELS, compute_kernel
from ._nystroem import NystroemFeatures
from ._random_fourier import RandomFourierFeatures, check_spectral_kernel

APPROXIMATIONS = ("nystroem", "random_fourier")

__all__ = [
    "APPROXIMATIONS",
    "NystroemFeatures",
    "RandomFourierFeatures",
    "make_feature_map",
]


def make_feature_map(approximation, *, kernel="rbf", gamma=None, degree=3, coef0=1.0,
                     kernel_params=None, n_components=100, random_state=None,
                     landmarks="uniform"):
    """Build the (not yet fitted) feature map of an estimator's kernel.

    Parameters
    ----------
    approximation : {"nystroem", "random_fourier"}
        ``"nystroem"`` works with every kernel of
        :func:`rkhsmtl.kernels.compute_kernel`, callables included;
        ``"random_fourier"`` with ``"rbf"`` and ``"laplacian"`` only.
    kernel : str or callable, default="rbf"
        As in :func:`rkhsmtl.kernels.compute_kernel`, except
        ``"precomputed"``: a feature map needs the raw inputs X.
    gamma : float or None, default=None
        Kernel parameter; ``None`` means ``1 / n_features`` of the X given to
        ``fit``.
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1.0
        Offset of the polynomial kernel.
    kernel_params : dict or None, default=None
        Extra keyword arguments of a callable kernel.
    n_components : int, default=100
        Number of landmarks (Nyström) or of random features.
    random_state : int, RandomState instance or None, default=None
        Seeds the landmarks or the frequencies.
    landmarks : {"uniform", "greedy"}, default="uniform"
        Landmark choice of the Nyström map (ignored by random Fourier).

    Returns
    -------
    feature_map : NystroemFeatures or RandomFourierFeatures
        Call ``fit(X)`` then ``transform(X_block)``.

    Raises
    ------
    ValueError
        For an unknown approximation or kernel, a precomputed kernel, or a
        kernel that random Fourier features cannot represent.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl.features import make_feature_map
    >>> X = np.random.RandomState(0).randn(50, 4)
    >>> fmap = make_feature_map("nystroem", kernel="laplacian", n_components=20,
    ...                         random_state=0)
    >>> fmap.fit(X).transform(X).shape
    (50, 20)
    >>> make_feature_map("random_fourier", n_components=64).fit(X).transform(X).shape
    (50, 64)
    """
    if isinstance(kernel, str) and kernel == "precomputed":
        raise ValueError(
            "approximation needs raw features X, not a precomputed kernel: "
            f"approximation={approximation!r} cannot be used with "
            "kernel='precomputed'. Pass the inputs X with a named or callable "
            "kernel, or set approximation=None."
        )
    if approximation == "nystroem":
        if not callable(kernel) and kernel not in KERNELS:
            raise ValueError(
                "The 'kernel' parameter must be a callable or one of "
                f"{', '.join(map(repr, sorted(KERNELS)))}. Got {kernel!r} instead."
            )
        kernel_fn = partial(compute_kernel, kernel=kernel, gamma=gamma, degree=degree,
                            coef0=coef0, kernel_params=kernel_params)
        return NystroemFeatures(kernel_fn, n_components, landmarks=landmarks,
                                random_state=random_state)
    if approximation == "random_fourier":
        check_spectral_kernel(kernel, owner="approximation='random_fourier'")
        return RandomFourierFeatures(kernel=kernel, gamma=gamma, n_components=n_components,
                                     random_state=random_state)
    raise ValueError(
        "The 'approximation' parameter must be one of "
        f"{', '.join(map(repr, APPROXIMATIONS))}. Got {approximation!r} instead."
    )
