"""Learned-structure estimators: one alternating engine, four task-matrix steps."""
import warnings
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from .._backend import to_numpy
from ..tasks._fixed import unit_diagonal
from ..tasks.learned import (
    STRUCTURE_PENALTIES,
    ClusterNormStep,
    ConvexClusterStep,
    RelationStep,
    SparseStep,
    SpectralStep,
    cluster_labels,
)
from ..tasks.learned._okl import okl_l_step
from ._structure_base import (
    LOSS_CONSTRAINT,
    _StructureClassifierMixin,
    _StructureLearningBase,
    _StructureRegressorMixin,
)
from ._structure_docs import classifier_doc, regressor_doc


def _common_init(self, kwargs):
    for name, value in kwargs.items():
        setattr(self, name, value)


def _check_clusters(n_clusters, n_tasks):
    """Clusters actually used: at most one per task (clipped with a warning)."""
    if n_clusters > n_tasks:
        warnings.warn(
            f"n_clusters={n_clusters} is more than the {n_tasks} task(s); using "
            f"{n_tasks} cluster(s) (every task its own). Lower 'n_clusters' to "
            "silence this.", UserWarning, stacklevel=4)
        return n_tasks
    return n_clusters


# --------------------------------------------------------------- structure
class _TaskStructure(_StructureLearningBase):
    _parameter_constraints = {
        **_StructureLearningBase._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "penalty": [StrOptions(set(STRUCTURE_PENALTIES))],
        "structure_alpha": [Interval(Real, 0, None, closed="neither")],
        "frobenius_ratio": [Interval(Real, 0, 1, closed="both")],
        "sparsity": [Interval(Real, 0, None, closed="left")],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "cluster_ratio": [Interval(Real, 0, 1, closed="right")],
    }

    def __init__(self, alpha=1.0, *, penalty="trace", structure_alpha=1.0,
                 frobenius_ratio=0.5, sparsity=1.0, rank=None, n_clusters=2,
                 cluster_ratio=0.1, epsilon=1e-8, kernel="rbf", gamma=None, degree=3,
                 coef0=1.0, kernel_params=None, task_weighting="samples",
                 fit_intercept=True, solver="auto", max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False,
                 random_state=None, task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})

    def _make_step(self, n_tasks):
        p = self.penalty
        if p == "cluster":
            self._n_clusters = _check_clusters(self.n_clusters, n_tasks)
            return ClusterNormStep(self._n_clusters, self.cluster_ratio)
        if p == "sparse":
            return SparseStep(self.alpha, self.structure_alpha, self.sparsity)
        if p == "low_rank":
            if self.rank is None or self.rank > n_tasks:
                raise ValueError(
                    "penalty='low_rank' needs the 'rank' parameter between 1 and the "
                    f"number of tasks ({n_tasks}); got rank={self.rank}."
                )
        return SpectralStep(p, self.alpha, self.structure_alpha,
                            frobenius_ratio=self.frobenius_ratio, rank=self.rank)

    def _store_structure(self, step, state, A, to_fit_device):
        if self.penalty == "cluster":
            self.cluster_labels_ = cluster_labels(A, self._n_clusters, self.random_state)


_TSL_DOC = r"""Multi-task kernel learning with a learned, penalized task matrix.

    Minimizes, jointly over the task functions and the task matrix
    (Ciliberto et al., ICML 2015),

    .. math::

        \sum_i w_i\,\big(y_i - f_{t_i}(x_i) - b_{t_i}\big)^2
        + \alpha\,\mathrm{tr}\big(A^{-1}(B^\top K B + \varepsilon I)\big) + F(A),
        \qquad f = K B,

    which is jointly convex, by alternating an exact coefficient step (the
    separable ridge of :class:`~rkhsmtl.MultiTaskKernelRidge`, reusing one
    eigendecomposition of K) with an exact task-matrix step. The penalty F:

    * ``"trace"``: :math:`\beta\,\mathrm{tr}A` (square-root step);
    * ``"frobenius"``: :math:`\beta\|A\|_F^2` (cube-root step);
    * ``"trace_frobenius"``: :math:`\beta((1-\rho)\mathrm{tr}A + \rho\|A\|_F^2)`;
    * ``"cluster"``: Jacob et al.'s cluster norm for ``n_clusters`` groups (a
      set constraint; ``structure_alpha`` is not used);
    * ``"sparse"``: :math:`\beta(\mathrm{tr}A + \lambda_s\sum_{s\ne t}|A_{st}|)`
      (proximal-gradient step);
    * ``"low_rank"``: :math:`\beta\,\mathrm{tr}A` with :math:`\mathrm{rank}A \le r`.

    Parameters
    ----------
    alpha : float, default=1.0
        Weight of the function norm, > 0.
%(loss)s    penalty : {"trace", "frobenius", "trace_frobenius", "cluster", "sparse", "low_rank"}, default="trace"
        Penalty on the task matrix.
    structure_alpha : float, default=1.0
        Penalty strength beta, > 0.
    frobenius_ratio : float in [0, 1], default=0.5
        rho of ``"trace_frobenius"``.
    sparsity : float, default=1.0
        lambda_s of ``"sparse"``: weight of the off-diagonal l1 term relative
        to the trace.
    rank : int, default=None
        Rank bound of ``"low_rank"`` (required there).
    n_clusters : int, default=2
        Number of task clusters of ``"cluster"``.
    cluster_ratio : float in (0, 1], default=0.1
        Within-cluster over between-cluster variance of ``"cluster"``.
%(common_parameters)s

    Attributes
    ----------
%(common_attributes)s
    cluster_labels_ : ndarray of shape (n_tasks,)
        Task clusters (``penalty="cluster"`` only).
%(extra_attributes)s
    See Also
    --------
    TaskRelationLearning : the trace penalty with a unit-trace covariance.
    OutputKernelLearning : the Frobenius penalty, Dinuzzo et al.'s algorithm.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import %(name)s
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.c_[X[:, 0], X[:, 0] + 0.1 * rng.randn(40), -X[:, 1]]
    >>> Y = %(target)s
    >>> model = %(name)s(alpha=0.1, penalty="trace").fit(X, Y)
    >>> model.task_matrix_.shape
    (3, 3)
"""


class TaskStructureLearning(_StructureRegressorMixin, _TaskStructure):
    __doc__ = regressor_doc(_TSL_DOC, "TaskStructureLearning")


class TaskStructureLearningClassifier(_StructureClassifierMixin, _TaskStructure):
    __doc__ = classifier_doc(_TSL_DOC, "TaskStructureLearningClassifier",
                             ("Multi-task kernel learning",
                              "Binary multi-task kernel classification"))
    _parameter_constraints = {**_TaskStructure._parameter_constraints, **LOSS_CONSTRAINT}

    def __init__(self, alpha=1.0, *, loss="squared", penalty="trace", structure_alpha=1.0,
                 frobenius_ratio=0.5, sparsity=1.0, rank=None, n_clusters=2,
                 cluster_ratio=0.1, epsilon=1e-8, kernel="rbf", gamma=None, degree=3,
                 coef0=1.0, kernel_params=None, task_weighting="samples",
                 fit_intercept=True, solver="auto", max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False,
                 random_state=None, task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})


# ------------------------------------------------------------------ OKL
class _OutputKernel(_StructureLearningBase):
    _parameter_constraints = {
        **_StructureLearningBase._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "output_kernel_alpha": [Interval(Real, 0, None, closed="neither"), None],
        "algorithm": [StrOptions({"alternating", "bcd"})],
    }

    def __init__(self, alpha=1.0, *, output_kernel_alpha=None, algorithm="alternating",
                 epsilon=1e-8, kernel="rbf", gamma=None, degree=3, coef0=1.0,
                 kernel_params=None, task_weighting="samples", fit_intercept=True,
                 solver="auto", max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False,
                 random_state=None, task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})

    def _mu(self):
        return self.alpha if self.output_kernel_alpha is None else self.output_kernel_alpha

    def _make_step(self, n_tasks):
        return SpectralStep("frobenius", self.alpha, self._mu())

    def _block_update(self, problem, weights):
        if self.algorithm != "bcd":
            return None
        if getattr(self, "loss", "squared") != "squared":
            raise ValueError(
                f"algorithm='bcd' solves the squared loss in closed form; got "
                f"loss={self.loss!r}. Use algorithm='alternating' with "
                "loss='logistic'.")
        if problem.layout != "shared" or not problem.complete or \
                problem.sample_weight is not None:
            raise ValueError(
                "algorithm='bcd' (Dinuzzo et al.'s block coordinate descent) needs "
                "shared inputs with a complete Y and no sample_weight; got "
                f"layout={problem.layout!r}, complete={problem.complete}, "
                f"sample_weight={'given' if problem.sample_weight is not None else None}. "
                "Use algorithm='alternating', which reaches the same minimizer on "
                "every layout."
            )
        alpha, mu = self.alpha, self._mu()

        def update(solution, L, state):
            E = to_numpy(problem.kernel() @ solution.coef)
            return okl_l_step(L, E, to_numpy(solution.coef), alpha, mu)

        return update


_OKL_DOC = r"""Output-kernel learning (Dinuzzo, Ong, Gehler & Pillonetto, ICML 2011).

    Learns the output kernel L (the task matrix) with a Frobenius penalty,

    .. math::

        \sum_i w_i\,\big(y_i - f_{t_i}(x_i) - b_{t_i}\big)^2
        + \alpha\,\mathrm{tr}(C^\top K C L) + \mu\,\|L\|_F^2,
        \qquad f = K C L,\ L \succeq 0 .

    ``algorithm="bcd"`` is Dinuzzo et al.'s block coordinate descent over
    (C, L) with the exact symmetric L block (shared inputs, complete Y);
    ``algorithm="alternating"`` (default) solves the same problem in its
    convex form B = C L (:class:`TaskStructureLearning` with
    ``penalty="frobenius"``, ``structure_alpha=mu``), on every data layout.
    Both reach the same minimizer (the problem is invex).

    Parameters
    ----------
    alpha : float, default=1.0
        Weight of the function norm, > 0.
%(loss)s    output_kernel_alpha : float, default=None
        mu, the Frobenius weight on L; None uses ``alpha`` (Dinuzzo's choice).
    algorithm : {"alternating", "bcd"}, default="alternating"
%(common_parameters)s

    Attributes
    ----------
%(common_attributes)s
%(extra_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import %(name)s
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.c_[X[:, 0], X[:, 0] + 0.1 * rng.randn(40), -X[:, 1]]
    >>> Y = %(target)s
    >>> model = %(name)s(alpha=0.1).fit(X, Y)
    >>> model.task_matrix_.shape
    (3, 3)
"""


class OutputKernelLearning(_StructureRegressorMixin, _OutputKernel):
    __doc__ = regressor_doc(_OKL_DOC, "OutputKernelLearning")


class OutputKernelLearningClassifier(_StructureClassifierMixin, _OutputKernel):
    __doc__ = classifier_doc(_OKL_DOC, "OutputKernelLearningClassifier",
                             ("Output-kernel learning",
                              "Output-kernel learning for binary tasks"))
    _parameter_constraints = {**_OutputKernel._parameter_constraints, **LOSS_CONSTRAINT}

    def __init__(self, alpha=1.0, *, loss="squared", output_kernel_alpha=None,
                 algorithm="alternating", epsilon=1e-8, kernel="rbf", gamma=None,
                 degree=3, coef0=1.0, kernel_params=None, task_weighting="samples",
                 fit_intercept=True, solver="auto", max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False,
                 random_state=None, task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})


# ------------------------------------------------------------------ MTRL
class _TaskRelation(_StructureLearningBase):
    _parameter_constraints = {
        **_StructureLearningBase._parameter_constraints,
        "lambda_1": [Interval(Real, 0, None, closed="left")],
        "lambda_2": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, lambda_1=0.1, lambda_2=0.1, *, epsilon=1e-8, kernel="rbf",
                 gamma=None, degree=3, coef0=1.0, kernel_params=None,
                 task_weighting="samples", fit_intercept=True, solver="auto",
                 max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False, random_state=None,
                 task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})

    def _function_alpha(self):
        return 1.0

    def _make_step(self, n_tasks):
        return RelationStep(self.lambda_1, self.lambda_2)

    def _store_structure(self, step, state, A, to_fit_device):
        self.task_covariance_ = to_fit_device(state)
        # MTRL's task correlations are those of the covariance Omega.
        self.task_correlation_ = to_fit_device(unit_diagonal(state))


_MTRL_DOC = r"""Multi-task relationship learning (MTRL; Zhang & Yeung, UAI 2010), kernelized.

    Learns a task covariance :math:`\Omega` whose correlations may be
    positive, zero or negative:

    .. math::

        \sum_i w_i\,\big(y_i - f_{t_i}(x_i) - b_{t_i}\big)^2
        + \lambda_1 \sum_t \|f_t\|^2
        + \lambda_2\,\mathrm{tr}\big(\Omega^{-1}(B^\top K B + \varepsilon I)\big),
        \qquad \Omega \succeq 0,\ \mathrm{tr}\,\Omega = 1,

    a separable kernel with :math:`A = \Omega(\lambda_1\Omega + \lambda_2 I)^{-1}`.
    The Ω step is :math:`(B^\top K B)^{1/2}` renormalized to unit trace.

    Parameters
    ----------
    lambda_1 : float, default=0.1
        Plain ridge weight, >= 0 (0 gives squared-trace-norm MTL).
    lambda_2 : float, default=0.1
        Weight of the task-relation term, > 0.
%(loss)s%(common_parameters)s

    Attributes
    ----------
%(common_attributes)s
    task_covariance_ : array of shape (n_tasks, n_tasks)
        The learned Ω (unit trace).
%(extra_attributes)s
    Notes
    -----
    Here ``task_correlation_`` is Ω normalized to unit diagonal (the task
    correlations of the paper), not A normalized.

    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import %(name)s
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.c_[X[:, 0], X[:, 0] + 0.1 * rng.randn(40), -X[:, 0]]
    >>> Y = %(target)s
    >>> model = %(name)s(lambda_1=0.01, lambda_2=0.1).fit(X, Y)
    >>> bool(model.task_correlation_[0, 2] < 0)
    True
"""


class TaskRelationLearning(_StructureRegressorMixin, _TaskRelation):
    __doc__ = regressor_doc(_MTRL_DOC, "TaskRelationLearning")


class TaskRelationLearningClassifier(_StructureClassifierMixin, _TaskRelation):
    __doc__ = classifier_doc(_MTRL_DOC, "TaskRelationLearningClassifier",
                             ("Multi-task relationship learning",
                              "Multi-task relationship learning for binary tasks"))
    _parameter_constraints = {**_TaskRelation._parameter_constraints, **LOSS_CONSTRAINT}

    def __init__(self, lambda_1=0.1, lambda_2=0.1, *, loss="squared", epsilon=1e-8,
                 kernel="rbf", gamma=None, degree=3, coef0=1.0, kernel_params=None,
                 task_weighting="samples", fit_intercept=True, solver="auto",
                 max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False, random_state=None,
                 task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})


# ------------------------------------------------------------------ CMTL
class _ConvexClusters(_StructureLearningBase):
    _parameter_constraints = {
        **_StructureLearningBase._parameter_constraints,
        "rho_1": [Interval(Real, 0, None, closed="neither")],
        "rho_2": [Interval(Real, 0, None, closed="neither")],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, rho_1=1.0, rho_2=0.1, *, n_clusters=2, epsilon=1e-8,
                 kernel="rbf", gamma=None, degree=3, coef0=1.0, kernel_params=None,
                 task_weighting="samples", fit_intercept=True, solver="auto",
                 max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False, random_state=None,
                 task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})

    def _function_alpha(self):
        return 1.0

    def _make_step(self, n_tasks):
        self._n_clusters = _check_clusters(self.n_clusters, n_tasks)
        return ConvexClusterStep(self.rho_1, self.rho_2, self._n_clusters)

    def _store_structure(self, step, state, A, to_fit_device):
        self.cluster_matrix_ = to_fit_device(state)
        self.cluster_labels_ = cluster_labels(A, self._n_clusters, self.random_state)


_CMTL_DOC = r"""Convex clustered multi-task learning (Zhou, Chen & Ye, NIPS 2011), kernelized.

    MALSAR's CMTL with the linear map replaced by an RKHS:

    .. math::

        \sum_i w_i\,\big(y_i - f_{t_i}(x_i) - b_{t_i}\big)^2
        + c\,\mathrm{tr}\big((\eta I + M)^{-1}(B^\top K B + \varepsilon I)\big),
        \qquad c = \rho_1\eta(1+\eta),\ \eta = \rho_2/\rho_1,

    over :math:`0 \preceq M \preceq I`, :math:`\mathrm{tr}\,M = k` (M relaxes
    the cluster-assignment product :math:`FF^\top`), i.e. a separable kernel
    with :math:`A = (\eta I + M)/c`.  With ``kernel="linear"`` this is the
    linear CMTL of :class:`rkhsmtl.linear.LinearMultiTaskRegressor`
    (``penalty="cluster"``).

    Parameters
    ----------
    rho_1 : float, default=1.0
        Cluster-structure weight, > 0.
    rho_2 : float, default=0.1
        Plain ridge weight, > 0.
%(loss)s    n_clusters : int, default=2
        k, the number of task clusters (at most the number of tasks).
%(common_parameters)s

    Attributes
    ----------
%(common_attributes)s
    cluster_matrix_ : array of shape (n_tasks, n_tasks)
        The relaxed assignment M.
    cluster_labels_ : ndarray of shape (n_tasks,)
        Task clusters (k-means on the leading directions of A).
%(extra_attributes)s
    Examples
    --------
    >>> import numpy as np
    >>> from rkhsmtl import %(name)s
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(40, 2)
    >>> Y = np.c_[X[:, 0], X[:, 0], X[:, 1], X[:, 1]] + 0.05 * rng.randn(40, 4)
    >>> Y = %(target)s
    >>> model = %(name)s(n_clusters=2, random_state=0).fit(X, Y)
    >>> model.cluster_labels_.shape
    (4,)
"""


class ClusteredMultiTaskLearning(_StructureRegressorMixin, _ConvexClusters):
    __doc__ = regressor_doc(_CMTL_DOC, "ClusteredMultiTaskLearning")


class ClusteredMultiTaskLearningClassifier(_StructureClassifierMixin, _ConvexClusters):
    __doc__ = classifier_doc(_CMTL_DOC, "ClusteredMultiTaskLearningClassifier",
                             ("Convex clustered multi-task learning",
                              "Convex clustered multi-task classification"))
    _parameter_constraints = {**_ConvexClusters._parameter_constraints,
                              **LOSS_CONSTRAINT}

    def __init__(self, rho_1=1.0, rho_2=0.1, *, loss="squared", n_clusters=2,
                 epsilon=1e-8, kernel="rbf", gamma=None, degree=3, coef0=1.0,
                 kernel_params=None, task_weighting="samples", fit_intercept=True,
                 solver="auto", max_iter=100, tol=1e-6, verbose=0,
                 approximation=None, n_components=1000, warm_start=False,
                 random_state=None, task_column=None, device=None):
        _common_init(self, {k: v for k, v in locals().items() if k != "self"})
