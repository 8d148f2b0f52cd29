"""Bad input gets an error naming the parameter, what was received and the fix."""
import numpy as np
import pytest

from rkhsmtl import MultiTaskKernelClassifier, MultiTaskKernelRidge


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 2)
    return X, rng.randn(30), np.repeat([0, 1, 2], 10)


def test_wrong_shapes():
    X, y, task = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of rows: X has 30, y has 29"):
        MultiTaskKernelRidge().fit(X, y[:-1], task=task)
    with pytest.raises(ValueError, match="one label per row of X"):
        MultiTaskKernelRidge().fit(X, y, task=task[:-1])
    with pytest.raises(ValueError, match="y must be 1-D"):
        MultiTaskKernelRidge().fit(X, y[:, None, None])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_x(bad):
    X, y, task = _data()
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="(NaN|infinity)"):
        MultiTaskKernelRidge().fit(X, y, task=task)


def test_nan_target_with_task_labels():
    X, y, task = _data()
    y = y.copy()
    y[0] = np.nan
    with pytest.raises(ValueError, match="drop the rows with a missing target"):
        MultiTaskKernelRidge().fit(X, y, task=task)


def test_unknown_task_at_predict():
    X, y, task = _data()
    m = MultiTaskKernelRidge().fit(X, y, task=task)
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) \['7'\].*fitted on"):
        m.predict(X[:2], task=[0, 7])


def test_task_with_one_sample():
    X, y, task = _data()
    task = task.copy()
    task[0] = 5
    with pytest.raises(ValueError, match="Task 5 has 1 sample.*at least 2"):
        MultiTaskKernelRidge().fit(X, y, task=task)
    Y = np.c_[y, y]
    Y[1:, 1] = np.nan
    with pytest.raises(ValueError, match="Task 1 has 1 sample"):
        MultiTaskKernelRidge().fit(X, Y)


def test_task_matrix_wrong_size_non_symmetric_non_psd():
    X, y, task = _data()
    with pytest.raises(ValueError, match=r"'task_matrix'.*shape \(3, 3\).*got shape \(2, 2\)"):
        MultiTaskKernelRidge(task_matrix=np.eye(2)).fit(X, y, task=task)
    with pytest.raises(ValueError, match="must be symmetric.*\\(A \\+ A.T\\) / 2"):
        MultiTaskKernelRidge(task_matrix=np.triu(np.ones((3, 3)))).fit(X, y, task=task)
    non_psd = np.array([[1, 2, 0], [2, 1, 0], [0, 0, 1.0]])
    with pytest.raises(ValueError, match="positive semi-definite; its smallest eigenvalue is -1"):
        MultiTaskKernelRidge(task_matrix=non_psd).fit(X, y, task=task)
    with pytest.raises(ValueError, match="'task_graph' parameter must have shape"):
        MultiTaskKernelRidge(task_matrix="graph", task_graph=np.ones((2, 2))).fit(
            X, y, task=task)


def test_negative_alpha_and_bad_options():
    X, y, task = _data()
    with pytest.raises(ValueError, match="'alpha' parameter of MultiTaskKernelRidge must be"
                                         ".*range \\[0.0, inf\\). Got -1"):
        MultiTaskKernelRidge(alpha=-1).fit(X, y, task=task)
    with pytest.raises(ValueError, match="'task_matrix' parameter"):
        MultiTaskKernelRidge(task_matrix="clusterd").fit(X, y, task=task)
    with pytest.raises(ValueError, match="solver='eigen' needs a complete Y.*solver='cg'"):
        MultiTaskKernelRidge(solver="eigen").fit(X, np.c_[y, np.r_[np.nan, y[1:]]])


def test_too_large_for_memory_fails_before_allocating():
    N = 300_000  # an N x N float64 matrix would take ~670 GiB
    X = np.zeros((N, 1))
    y = np.zeros(N)
    task = np.arange(N) % 2
    with pytest.raises(MemoryError, match=r"needs about \d+\.\d GiB.*"
                                          r"approximation='nystroem'.*solver='cg'"):
        MultiTaskKernelRidge(solver="cholesky").fit(X, y, task=task)
    with pytest.raises(MemoryError, match="approximation='nystroem'"):
        MultiTaskKernelRidge().fit(X, np.zeros((N, 2)))
    # ... and the fix it names works, in little memory.
    rng = np.random.RandomState(0)
    X = rng.randn(N, 1)
    fitted = MultiTaskKernelRidge(approximation="nystroem", n_components=50,
                                  random_state=0).fit(X, np.sin(X[:, 0]), task=task)
    assert fitted.predict(X[:5], task=task[:5]).shape == (5,)


def test_classifier_label_errors():
    X, y, task = _data()
    with pytest.raises(ValueError, match="Only binary classification is supported.*3 class"):
        MultiTaskKernelClassifier().fit(X, np.arange(30) % 3, task=task)
    with pytest.raises(ValueError, match="continuous"):
        MultiTaskKernelClassifier().fit(X, y, task=task)


# ------------------------------------------------- non-finite kernel matrices
# One gate (rkhsmtl.kernels.compute_kernel) checks every kernel block; every
# estimator and distribution matching take their kernels from it.
def _nan_kernel(A, B):
    return np.full((A.shape[0], B.shape[0]), np.nan)


_OVERFLOWING = [
    pytest.param({"kernel": "rbf"}, 1e200, r"kernel='rbf', gamma=None.*Standardize",
                 id="rbf-1e200"),
    pytest.param({"kernel": "polynomial", "degree": 30}, 1e6,
                 r"kernel='polynomial'.*degree=30.*lower 'degree'", id="poly30-1e6"),
    pytest.param({"kernel": "linear"}, 1e200, r"kernel='linear'\).*rescale the inputs",
                 id="linear-1e200"),
    pytest.param({"kernel": _nan_kernel}, 1.0, r"callable kernel '_nan_kernel'",
                 id="callable-nan"),
]


def _kernel_estimators():
    from rkhsmtl import MultiTaskKernelRidgeCV, TaskRelationLearning
    from rkhsmtl.weighting import DistributionMatchingRegressor

    return [
        pytest.param(MultiTaskKernelRidge, {}, id="ridge"),
        pytest.param(MultiTaskKernelRidgeCV, {"alphas": [1.0]}, id="ridge-cv"),
        pytest.param(MultiTaskKernelClassifier, {}, id="classifier"),
        pytest.param(TaskRelationLearning, {"max_iter": 3}, id="structure"),
        pytest.param(DistributionMatchingRegressor, {}, id="distribution-matching"),
    ]


@pytest.mark.parametrize("cls, extra", _kernel_estimators())
@pytest.mark.parametrize("params, scale, match", _OVERFLOWING)
def test_non_finite_kernel_is_an_error_naming_the_kernel(cls, extra, params, scale, match):
    X, y, task = _data()
    if cls is MultiTaskKernelClassifier:
        y = np.where(np.arange(30) % 2 == 0, 1, -1)
    Xs = X * scale
    before = Xs.copy()
    with pytest.raises(ValueError, match=match):
        cls(**params, **extra).fit(Xs, y, task=task)
    np.testing.assert_array_equal(Xs, before)  # the input is left as it was


def test_non_finite_kernel_at_predict():
    X, y, task = _data()
    model = MultiTaskKernelRidge(kernel="polynomial", degree=30).fit(X, y, task=task)
    with pytest.raises(ValueError, match="kernel='polynomial'.*largest \\|X\\| = 1e\\+20"):
        model.predict(np.full((2, 2), 1e20), task=[0, 1])


def test_distribution_matching_does_not_blame_finite_x():
    # Finite X at a huge scale used to reach the membership model as NaN
    # ("Input X contains NaN"); the weights alone now work at any scale.
    from rkhsmtl.weighting import DistributionMatchingWeights

    X, _, task = _data()
    small = DistributionMatchingWeights(random_state=0).fit(X, task=task).weights_
    huge = DistributionMatchingWeights(random_state=0).fit(X * 1e200, task=task).weights_
    np.testing.assert_allclose(huge, small, rtol=1e-8)


def test_compute_kernel_gate_directly():
    from rkhsmtl.kernels import compute_kernel

    X = np.array([[1e200, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="kernel='linear'.*rescale the inputs"):
        compute_kernel(X, kernel="linear")
    with pytest.raises(ValueError, match="Input X contains NaN"):
        compute_kernel(np.array([[np.nan, 0.0]]), kernel="rbf")
    K = compute_kernel(np.eye(3), kernel="rbf")   # the ordinary case is untouched
    assert np.all(np.isfinite(K))


# ------------------------------------------ one fit validation for everyone
def test_distribution_matching_weights_use_the_shared_gate():
    from rkhsmtl.weighting import DistributionMatchingWeights

    X, y, task = _data()
    with pytest.raises(ValueError, match="'sample_weight' values must be non-negative"):
        DistributionMatchingWeights().fit(X, task=task, sample_weight=-np.ones(30))
    with pytest.raises(ValueError, match="inconsistent numbers of rows: X has 30, y has 29"):
        DistributionMatchingWeights(condition_on="xy").fit(X, y[:-1], task=task)
    lonely = task.copy()
    lonely[0] = 9
    with pytest.raises(ValueError, match="Task 9 has 1 sample.*at least 2"):
        DistributionMatchingWeights().fit(X, task=lonely)
    with pytest.raises(ValueError, match="one label per row of X"):
        DistributionMatchingWeights().fit(X, task=task[:-1])
    with pytest.raises(ValueError, match="NaN or None"):
        DistributionMatchingWeights().fit(X, task=np.r_[task[:-1], np.nan])


@pytest.mark.parametrize("Y", [np.empty((30, 0)), np.empty((30, 0), dtype=object)],
                         ids=["float", "object"])
def test_y_without_columns(Y):
    from rkhsmtl.weighting import DistributionMatchingRegressor

    X, _, _ = _data()
    for model in (MultiTaskKernelRidge(), DistributionMatchingRegressor()):
        with pytest.raises(ValueError, match=r"y has no task column \(shape \(30, 0\)\)"):
            model.fit(X, Y)
    with pytest.raises(ValueError, match="y has no task column"):
        MultiTaskKernelClassifier().fit(X, Y)


@pytest.mark.parametrize("bad", [np.nan, None])
def test_missing_task_labels_refused_everywhere(bad):
    from rkhsmtl.metrics import mean_squared_error
    from rkhsmtl.model_selection import TaskStratifiedKFold, multitask_train_test_split

    X, y, task = _data()
    labels = task.astype(object)
    labels[4] = bad
    match = "'task' labels contain NaN or None at 1 row.*row 4"
    with pytest.raises(ValueError, match=match):
        MultiTaskKernelRidge().fit(X, y, task=labels)
    with pytest.raises(ValueError, match=match):
        mean_squared_error(y, y, labels)
    with pytest.raises(ValueError, match=match):
        multitask_train_test_split(X, task=labels)
    with pytest.raises(ValueError, match="'groups' labels contain NaN or None"):
        list(TaskStratifiedKFold(2).split(X, groups=labels))


def test_string_targets_for_a_regressor_say_so():
    X, _, task = _data()
    for y in (np.array(["a"] * len(task)), np.array([["a", "b"]] * len(task))):
        with pytest.raises(ValueError, match="y must be numeric for a regressor.*'a'"
                                             ".*classifier"):
            if y.ndim == 1:
                MultiTaskKernelRidge().fit(X, y, task=task)
            else:
                MultiTaskKernelRidge().fit(X, y)
    # Numeric strings are numbers.
    MultiTaskKernelRidge().fit(X, np.array(["1.5"] * len(task)), task=task)


def test_more_clusters_than_tasks_is_clipped_with_a_warning():
    from rkhsmtl import ClusteredMultiTaskLearning

    X, y, task = _data()
    n_tasks = len(np.unique(task))
    with pytest.warns(UserWarning, match=f"n_clusters=9 is more than the {n_tasks}"):
        model = ClusteredMultiTaskLearning(n_clusters=9, max_iter=5).fit(X, y, task=task)
    assert len(np.unique(model.cluster_labels_)) <= n_tasks


def test_a_cv_fold_that_misses_a_task_names_task_stratified_kfold():
    from sklearn.model_selection import GridSearchCV

    from rkhsmtl.model_selection import TaskStratifiedKFold

    rng = np.random.RandomState(0)
    X = rng.randn(60, 2)
    t = np.repeat([0, 1, 2], 20)                      # task-sorted rows
    y = rng.randn(60)
    Xt = np.c_[X, t]
    search = GridSearchCV(MultiTaskKernelRidge(task_column=2), {"alpha": [0.1, 1.0]},
                          cv=3, error_score="raise")
    with pytest.raises(ValueError, match="a fold missed this task.*TaskStratifiedKFold"):
        search.fit(Xt, y)
    # The fix it names works, taking the labels from the same column.
    cv = TaskStratifiedKFold(3, random_state=0, task_column=2)
    assert [list(test) for _, test in cv.split(Xt, y)] == \
        [list(test) for _, test in TaskStratifiedKFold(3, random_state=0).split(
            Xt, y, groups=t)]
    GridSearchCV(MultiTaskKernelRidge(task_column=2), {"alpha": [0.1, 1.0]},
                 cv=cv).fit(Xt, y)

