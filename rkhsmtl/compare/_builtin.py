"""The methods that ship with ``rkhsmtl compare``.

Every factory receives a :class:`~rkhsmtl.compare.MethodContext` and returns
an unfitted estimator.  Hyperparameters are either the published fixed values
of the data set's protocol (``context.fixed(name)``, e.g. School in
docs/results.md) or chosen by a small internal cross-validation that stays
cheap: :class:`~rkhsmtl.MultiTaskKernelRidgeCV` (one eigendecomposition per
fold and task matrix for the whole alpha path) for regression, a small
task-stratified grid for classification, both on at most ``_MAX_SELECT_ROWS``
rows of the training split.
"""
import numpy as np

from .. import MultiTaskKernelClassifier, MultiTaskKernelRidge, MultiTaskKernelRidgeCV
from ._selection import SelectOnSubsample, StructureOnSubsample, TaskGridSearch

# (name, factory, register_method options) in the order listed by the command.
# This module only declares the methods; the registry reads the list when it
# is first used, so imports go one way (registry -> built-ins).
BUILTIN_METHODS = []


def _builtin(name, **options):
    def decorator(factory):
        BUILTIN_METHODS.append((name, factory, options))
        return factory
    return decorator

_MAX_SELECT_ROWS = 2000
_ALPHAS = tuple(np.logspace(-3, 2, 6))
_OMEGAS = (0.25, 0.5, 0.75, 0.9)
_CLASSIFIER_ALPHAS = (1e-3, 1e-2, 1e-1, 1.0)
_CLASSIFIER_OMEGAS = (0.5, 0.9)  # every candidate costs 3 fits: keep the grid small


def _kernel_method(context, name, task_matrix):
    """Fixed-structure kernel model: published values, or a small selection."""
    common = context.kernel_params
    fixed = context.fixed(name)
    is_mean = task_matrix == "mean"
    if context.problem_type == "classification":
        model = MultiTaskKernelClassifier(task_matrix=task_matrix, **common)
        if fixed is not None:
            return model.set_params(**fixed)
        grid = {"alpha": list(_CLASSIFIER_ALPHAS)}
        if is_mean:
            grid["omega"] = list(_CLASSIFIER_OMEGAS)
        return TaskGridSearch(model, grid, cv=3, random_state=context.random_state)
    model = MultiTaskKernelRidge(task_matrix=task_matrix, **common)
    if fixed is not None:
        return model.set_params(**fixed)
    selector = MultiTaskKernelRidgeCV(alphas=_ALPHAS, omegas=_OMEGAS if is_mean else None,
                                      task_matrix=task_matrix, cv=3, **common)
    return SelectOnSubsample(selector, model, max_rows=_MAX_SELECT_ROWS,
                             random_state=context.random_state)


@_builtin("independent", description="kernel ridge / classifier per task "
                 "(task matrix I); alpha by 3-fold task-stratified CV")
def _independent(context):
    return _kernel_method(context, "independent", "independent")


@_builtin("pooled", description="one kernel model for all tasks (task matrix "
                 "11ᵀ); alpha by 3-fold task-stratified CV")
def _pooled(context):
    return _kernel_method(context, "pooled", "pooled")


@_builtin("mean", description="mean-regularized kernel MTL ((1-ω)I + ω11ᵀ/T); "
                 "alpha and ω by 3-fold task-stratified CV")
def _mean(context):
    return _kernel_method(context, "mean", "mean")


@_builtin("mean-cv", problem_types=("regression",),
                 description="MultiTaskKernelRidgeCV: alpha (13 values) and ω (6 values) "
                 "re-selected on every training split")
def _mean_cv(context):
    common = context.kernel_params
    large = context.n_train_rows > _MAX_SELECT_ROWS
    selector = MultiTaskKernelRidgeCV(task_matrix="mean", cv=3 if large else None,
                                      **common)
    return SelectOnSubsample(selector, MultiTaskKernelRidge(task_matrix="mean", **common),
                             max_rows=_MAX_SELECT_ROWS, random_state=context.random_state)


_SINGLE_TASK_GRID = {"weight_decay": [1e-3, 1e-2, 1e-1],
                     "hidden_layer_sizes": [(32, 4), (32, 16)], "max_epochs": [300]}


@_builtin("neural", description="hard-parameter-sharing network (shared tanh "
                 "trunk, one linear head per task; Adam); weight decay, width and "
                 "epochs by 3-fold task-stratified CV (18 candidates; above 2,000 rows, "
                 "early stopping picks the epochs)")
def _neural(context, single_task=False):
    # Imported here: the network code is only needed when the method runs.
    from ..neural import (
        HardSharingNetClassifier,
        HardSharingNetClassifierCV,
        HardSharingNetRegressor,
        HardSharingNetRegressorCV,
    )

    regression = context.problem_type == "regression"
    net = HardSharingNetRegressor if regression else HardSharingNetClassifier
    search = HardSharingNetRegressorCV if regression else HardSharingNetClassifierCV
    fixed = context.fixed("neural")
    if fixed is not None:
        return net(random_state=context.random_state, single_task=single_task, **fixed)
    if context.n_train_rows <= _MAX_SELECT_ROWS:
        # Weight decay x width x epochs on all training rows, each candidate
        # trained for exactly its number of epochs (rkhsmtl.neural._cv).
        base = search(random_state=context.random_state)._base().set_params(
            single_task=single_task, random_state=context.random_state)
        # One network per task costs T times more per candidate: a third of
        # the grid (no epoch dimension) keeps the no-sharing baseline affordable.
        grid = _SINGLE_TASK_GRID if single_task else None
        return search(base, grid, cv=3, random_state=context.random_state)
    # Large data: mini-batches with early stopping on a per-task validation
    # split choose the epochs; weight decay and width are searched on a
    # per-task subsample, then refitted on all rows.
    base = net(activation="tanh", max_epochs=200, n_iter_no_change=10,
               single_task=single_task, random_state=context.random_state)
    grid = {"weight_decay": [1e-4, 1e-3, 1e-2], "hidden_layer_sizes": [(64, 8), (64, 64)]}
    return SelectOnSubsample(search(base, grid, cv=3, refit=False,
                                    random_state=context.random_state),
                             base, max_rows=_MAX_SELECT_ROWS,
                             random_state=context.random_state)


def single_task_net(context):
    """The network of ``neural`` trained separately per task (no sharing).

    Not a registered method (it would double the default run's time); the
    learning-curve protocol uses it as the no-sharing neural baseline.
    """
    return _neural(context, single_task=True)


# ---------------------------------------------------------------------------
# Learned task structure (issue 3).  Estimators are imported inside the
# factories, so a broken optional module skips its method with a note.  Each
# alternating fit is capped at 50 structure steps; the small grids are searched
# on at most _MAX_SELECT_ROWS rows, then the model is refitted on all rows.
_STRUCTURE = dict(max_iter=50, tol=1e-4)
_MAX_STRUCTURE_ROWS = 4000


def _learned(context, name, regressor, classifier, grid):
    cls = regressor if context.problem_type == "regression" else classifier
    model = cls(**context.kernel_params, **_STRUCTURE)
    if "random_state" in model.get_params():
        model.set_params(random_state=context.random_state)
    fixed = context.fixed(name)
    if fixed is not None:
        model.set_params(**fixed)
    else:
        model = SelectOnSubsample(
            TaskGridSearch(model, grid, cv=3, random_state=context.random_state), model,
            max_rows=_MAX_SELECT_ROWS, random_state=context.random_state)
    if context.n_train_rows > _MAX_STRUCTURE_ROWS:
        # Learn A on a subsample, refit it fixed on all rows (the protocol of
        # benchmarks/results_school.py).
        return StructureOnSubsample(model, max_rows=_MAX_STRUCTURE_ROWS,
                                    random_state=context.random_state)
    return model


@_builtin("trace", learns_task_matrix=True,
                 description="task matrix learned with a trace penalty (Ciliberto et "
                 "al. 2015); alpha x penalty strength by 3-fold CV")
def _trace(context):
    from .. import TaskStructureLearning, TaskStructureLearningClassifier

    # With the trace penalty only the product alpha * structure_alpha shapes
    # the functions (the minimizing A is sqrt(alpha / structure_alpha) M^1/2,
    # leaving 2 sqrt(alpha * structure_alpha) tr M^1/2), so a grid over both
    # spends 9 fits on 5 distinct models.  One axis of 9 products from 1e-4
    # to 1e4 covers what data sets need: School selects 1000 (docs/results.md),
    # beyond the old grid's largest product, 1, where the learning curve at
    # 10 rows per school scored below zero.
    return _learned(context, "trace", TaskStructureLearning,
                    TaskStructureLearningClassifier,
                    {"alpha": [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0, 1e3, 1e4],
                     "structure_alpha": [1.0]})


@_builtin("mtrl", learns_task_matrix=True,
                 description="task-relation learning (Zhang & Yeung 2010); "
                 "lambda_1, lambda_2 by 3-fold CV")
def _mtrl(context):
    from .. import TaskRelationLearning, TaskRelationLearningClassifier

    return _learned(context, "mtrl", TaskRelationLearning, TaskRelationLearningClassifier,
                    {"lambda_1": [1e-2, 1e-1], "lambda_2": [1e-2, 1e-1, 1.0]})


@_builtin("cmtl", learns_task_matrix=True,
                 description="convex clustered MTL (Zhou et al. 2011), 2 clusters; "
                 "rho_1, rho_2 by 3-fold CV")
def _cmtl(context):
    from .. import ClusteredMultiTaskLearning, ClusteredMultiTaskLearningClassifier

    return _learned(context, "cmtl", ClusteredMultiTaskLearning,
                    ClusteredMultiTaskLearningClassifier,
                    {"rho_1": [1e-1, 1.0, 10.0], "rho_2": [1e-2, 1e-1]})


# Distribution matching (issue 4).  Every task gets a fit on the whole pool:
# one block-PCG solve whose iterations cost N^2 T flops each.  School
# (N = 11,505, T = 139: 1.8e10) fits in about 40 s on two cores
# (docs/benchmarks.md); much more is refused with the way out.
_MAX_POOL_COST = 2.5e10      # training rows^2 x tasks


@_builtin("dm", description="distribution matching (Bickel et al. 2008): each "
                 "task's kernel ridge on the whole pool, reweighted to match its own "
                 "joint distribution of (x, y), alpha by 3-fold CV; on School the "
                 "published setting (x only, alpha=10)")
def _distribution_matching(context):
    from ..weighting import (
        DistributionMatchingClassifier,
        DistributionMatchingRegressor,
        DistributionMatchingWeights,
    )

    if float(context.n_train_rows) ** 2 * context.n_tasks > _MAX_POOL_COST:
        raise ValueError(
            f"distribution matching fits every task on the whole pool: "
            f"{context.n_tasks} fits on {context.n_train_rows} rows is too large for "
            "this comparison; leave 'dm' out of --methods on this data set.")
    cls = (DistributionMatchingRegressor if context.problem_type == "regression"
           else DistributionMatchingClassifier)
    params = {k: v for k, v in context.kernel_params.items() if k != "task_weighting"}
    # Matching the joint distribution of (x, y), as Bickel et al. do: with
    # x alone, tasks that share inputs but differ in their functions (the
    # default synthetic data) would borrow from each other indiscriminately.
    weighting = DistributionMatchingWeights(condition_on="xy", features="rbf",
                                            random_state=context.random_state)
    model = cls(weighting=weighting, **params)
    fixed = context.fixed("dm")
    if fixed is not None:
        return model.set_params(**fixed)
    search = TaskGridSearch(model, {"alpha": [1e-2, 1e-1, 1.0, 10.0]}, cv=3,
                            random_state=context.random_state)
    return SelectOnSubsample(search, model, max_rows=_MAX_SELECT_ROWS,
                             random_state=context.random_state)
