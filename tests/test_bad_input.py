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
    with pytest.raises(MemoryError, match=r"needs about \d+\.\d GiB.*solver='cg'"):
        MultiTaskKernelRidge(solver="cholesky").fit(X, y, task=task)
    with pytest.raises(MemoryError, match="Subsample"):
        MultiTaskKernelRidge().fit(X, np.zeros((N, 2)))


def test_classifier_label_errors():
    X, y, task = _data()
    with pytest.raises(ValueError, match="Only binary classification is supported.*3 class"):
        MultiTaskKernelClassifier().fit(X, np.arange(30) % 3, task=task)
    with pytest.raises(ValueError, match="continuous"):
        MultiTaskKernelClassifier().fit(X, y, task=task)
