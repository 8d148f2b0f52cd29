"""The ``approximation`` parameter: low-rank input features, exact task structure.

Shared by every separable-kernel estimator: with ``approximation=None``
(the default) nothing here runs.  Otherwise the input kernel is replaced by
an explicit feature map (:mod:`rkhsmtl.features`) fitted on the training
inputs, one pass gathers the sufficient statistics
(:mod:`rkhsmtl.solvers.feature_statistics`), and the estimator solves the
same objective, with the task matrix untouched, on a
:class:`~rkhsmtl.solvers._feature_problem.FeatureProblem`.
"""
from numbers import Integral

from sklearn.utils._param_validation import Interval, StrOptions

from ..features import APPROXIMATIONS, make_feature_map
from .._memory import check_memory
from ..solvers._feature_problem import FeatureProblem, FeatureRowsProblem, gather_statistics
from ._dask_input import DaskData, fit_map_on_sample, gather_dask_statistics

APPROXIMATION_CONSTRAINTS = {
    "approximation": [StrOptions(set(APPROXIMATIONS)), None],
    "n_components": [Interval(Integral, 1, None, closed="left")],
}

APPROXIMATION_PARAMETERS = """\
    approximation : {"nystroem", "random_fourier"}, default=None
        None solves exactly in the n x n (or N x N) kernel matrix.
        ``"nystroem"`` (any kernel) or ``"random_fourier"`` (rbf, laplacian)
        replace the input kernel by ``n_components`` explicit features and
        keep the task matrix exact: one pass over the data gathers m x m
        statistics per task, and the fit's cost no longer grows with the
        number of rows beyond that pass.  With as many Nyström landmarks as
        rows the fit equals the exact one.
    n_components : int, default=1000
        Number of Nyström landmarks (drawn uniformly from the training rows;
        clipped to the number of rows) or of random Fourier features.  Used
        only with ``approximation``."""

APPROXIMATION_ATTRIBUTES = """\
    feature_map_ : NystroemFeatures or RandomFourierFeatures or None
        The fitted feature map (None for an exact fit).
    coef_ : array of shape (n_components, n_tasks) or None
        Feature weights W of an approximate fit: ``f_t(x) = phi(x) @ W[:, t]``.
    n_components_ : int or None
        Feature dimension actually used (Nyström drops directions of a
        rank-deficient landmark set)."""


def uses_approximation(estimator):
    return getattr(estimator, "approximation", None) is not None


def make_feature_problem(estimator, data, *, seed=None):
    """Fit the feature map on the training inputs and gather the statistics.

    Parameters
    ----------
    estimator : the estimator being fitted (its kernel parameters, the
        ``approximation``, ``n_components`` and ``random_state``).
    data : rkhsmtl._validation.MultiTaskData

    Returns
    -------
    problem : FeatureProblem
    feature_map : fitted feature map
    """
    logistic = getattr(estimator, "loss", "squared") == "logistic"
    if logistic and isinstance(data, DaskData):
        raise ValueError(
            "loss='logistic' reweights every row at each Newton step, which needs "
            "the feature rows in memory; with Dask inputs use loss='squared', or "
            "pass in-memory arrays.")
    if estimator._precomputed:
        raise ValueError(
            "approximation needs the raw inputs X, but kernel='precomputed' gives "
            "a kernel matrix. Pass the features with a named or callable kernel, "
            "or set approximation=None.")
    random_state = getattr(estimator, "random_state", None) if seed is None else seed
    fmap = make_feature_map(
        estimator.approximation, kernel=estimator.kernel, gamma=estimator.gamma,
        degree=estimator.degree, coef0=estimator.coef0,
        kernel_params=estimator.kernel_params, n_components=estimator.n_components,
        random_state=random_state)
    if isinstance(data, DaskData):
        fit_map_on_sample(fmap, data.X, estimator.n_components, random_state)
        stats = gather_dask_statistics(data, fmap)
    elif logistic:
        # Newton steps change every row's weight: keep the feature rows.
        fmap.fit(data.X)
        check_memory(8.0 * data.X.shape[0] * fmap.n_components_ * 2, data.xp,
                     what=f"loss='logistic' with approximation keeps the {data.X.shape[0]}"
                          f" x {fmap.n_components_} feature rows, which",
                     instead="Lower 'n_components', or use loss='squared' (one pass).")
        problem = FeatureRowsProblem(data, fmap.transform(data.X), tol=1e-10,
                                     max_iter=max(getattr(estimator, "max_iter", 1000),
                                                  1000))
        return problem, fmap
    else:
        fmap.fit(data.X)
        stats = gather_statistics(data, fmap)
    problem = FeatureProblem(stats, data.layout, tol=min(estimator.tol, 1e-10)
                             if estimator.tol else 1e-10,
                             max_iter=max(getattr(estimator, "max_iter", 1000), 1000))
    return problem, fmap


def store_feature_solution(estimator, fmap, solution):
    """Fitted state of an approximate fit.

    Nyström predictions are kernel expansions over the landmarks, so
    ``X_fit_`` / ``dual_coef_`` keep their meaning (``f_t(x) = k(x, X_fit_) @
    dual_coef_[:, t]``); random Fourier features have no such form and set
    both to None.
    """
    W = solution.dual_coef
    estimator.feature_map_ = fmap
    estimator.coef_ = W
    estimator.n_components_ = fmap.n_components_
    projection = getattr(fmap, "projection_", None)
    if projection is not None:
        estimator.X_fit_ = fmap.landmarks_
        estimator.dual_coef_ = projection @ W
    else:
        estimator.X_fit_ = None
        estimator.dual_coef_ = None
    estimator._train_order = None


def clear_feature_solution(estimator):
    estimator.feature_map_ = None
    estimator.coef_ = None
    estimator.n_components_ = None


def predict_features(xp, fmap, X, W, intercept, block_bytes=256 * 1024**2):
    """phi(X) @ W + b in row blocks of bounded memory."""
    m = W.shape[0]
    rows = max(1, int(block_bytes // (8 * max(m, 1))))
    out = []
    for start in range(0, X.shape[0], rows):
        Phi = fmap.transform(X[start:min(start + rows, X.shape[0]), ...])
        out.append(Phi @ W + intercept[None, :])
    return out[0] if len(out) == 1 else xp.concat(out, axis=0)
