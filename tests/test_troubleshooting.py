"""The Troubleshooting page quotes the errors the library actually raises.

Each case triggers one error and names a stable fragment of its message: the
fragment must be in the raised message *and* on
docs/user_guide/troubleshooting.rst, so a reworded message fails here until
the page follows.
"""
from pathlib import Path

import numpy as np
import pytest

from rkhsmtl import (
    MultiTaskKernelClassifier,
    MultiTaskKernelRidge,
    TaskStructureLearning,
)

PAGE = Path(__file__).resolve().parents[1] / "docs" / "user_guide" / "troubleshooting.rst"


def _flat(text):
    # The page wraps long lines; compare with all whitespace runs collapsed.
    return " ".join(text.split())


@pytest.fixture(scope="module")
def page():
    return _flat(PAGE.read_text(encoding="utf-8"))


rng = np.random.default_rng(0)
X = rng.normal(size=(12, 2))
y = rng.normal(size=12)
t = np.arange(12) % 3
Y = rng.normal(size=(12, 3))
y01 = (y > 0).astype(int)


def _with_nan(a, value=np.nan):
    a = np.array(a, dtype=float)
    a.flat[0] = value
    return a


def _missing_column():
    Ym = Y.copy()
    Ym[:, 1] = np.nan
    return Ym


def _frame():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["a", "b"])
    df["g"] = t
    return df


def _duplicate_columns():
    pd = pytest.importorskip("pandas")
    MultiTaskKernelRidge().fit(X, pd.DataFrame(Y, columns=["u", "u", "v"]))


def _nan_kernel(A, B):
    return np.full((A.shape[0], B.shape[0]), np.nan)


def _wrong_shape_kernel(A, B):
    return np.ones((2, 2))


R = MultiTaskKernelRidge
A_ = np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
NOT_PSD = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

# (id, trigger, fragment of the message)
CASES = [
    # shapes and layouts
    ("X-1d", lambda: R().fit(X[:, 0], y, task=t), "Expected 2D array, got 1D array"),
    ("rows", lambda: R().fit(X, y[:-1], task=t),
     "X and y have inconsistent numbers of rows"),
    ("task-length", lambda: R().fit(X, y, task=t[:-1]),
     "labels must be 1-D with one label per row of X"),
    ("y-3d", lambda: R().fit(X, Y[:, :, None]),
     "y must be 1-D (one task) or 2-D (n_samples, n_tasks)"),
    ("y-2d-with-task", lambda: R().fit(X, Y, task=t),
     "With task labels, y must be 1-D (one target per row)"),
    ("y-no-column", lambda: R().fit(X, Y[:, :0]),
     "a 2-D y needs one column per task"),
    ("predict-features", lambda: R().fit(X, y, task=t).predict(X[:, :1], task=t),
     "features as input"),
    ("not-fitted", lambda: R().predict(X, task=t), "is not fitted yet"),
    # missing and non-finite values
    ("X-nan", lambda: R().fit(_with_nan(X), y, task=t), "Input X contains NaN"),
    ("X-inf", lambda: R().fit(_with_nan(X, np.inf), y, task=t),
     "Input X contains infinity"),
    ("y-inf", lambda: R().fit(X, _with_nan(y, np.inf), task=t),
     "Input y contains infinity"),
    ("y-nan-with-task", lambda: R().fit(X, _with_nan(y), task=t),
     "With task labels every row needs a target"),
    ("empty-task-column", lambda: R().fit(X, _missing_column()),
     "has no observed value; drop the column or give it data"),
    ("task-nan", lambda: R().fit(X, y, task=_with_nan(t)),
     "labels contain NaN or None"),
    # task labels
    ("unknown-task", lambda: R().fit(X, y, task=t).predict(X, task=np.full(12, 7)),
     "Predict only for fitted tasks, or refit with data for the new task"),
    ("one-sample-task", lambda: R().fit(X, y, task=np.r_[t[:-1], 9]),
     "every task needs at least 2"),
    ("structure-one-task", lambda: TaskStructureLearning().fit(X, y, task=np.zeros(12)),
     "learns relations between tasks and needs at least 2 tasks"),
    ("mixed-labels",
     lambda: R().fit(X, y, task=np.array([1, "a", 2] * 4, dtype=object)),
     "must be of one comparable type (all ints or all strings)"),
    ("task-twice", lambda: R(task_column=0).fit(X, y, task=t),
     "Task labels were given twice"),
    ("task-column-missing", lambda: R(task_column="h").fit(_frame(), y),
     "is not a column of X; available columns"),
    ("task-column-name-on-array", lambda: R(task_column="g").fit(X, y),
     "which needs X to be a pandas DataFrame"),
    ("duplicate-task-columns", _duplicate_columns, "appear more than once"),
    # task matrix
    ("task-matrix-not-symmetric", lambda: R(task_matrix=A_).fit(X, y, task=t),
     "parameter must be symmetric"),
    ("task-matrix-not-psd", lambda: R(task_matrix=NOT_PSD).fit(X, y, task=t),
     "must be positive semi-definite; its smallest eigenvalue is"),
    ("task-matrix-shape", lambda: R(task_matrix=np.eye(2)).fit(X, y, task=t),
     "(one row and column per task)"),
    ("task-matrix-nan", lambda: R(task_matrix=np.full((3, 3), np.nan)).fit(X, y, task=t),
     "parameter contains NaN or inf values"),
    ("graph-missing", lambda: R(task_matrix="graph").fit(X, y, task=t),
     "task_matrix='graph' needs the 'task_graph' parameter"),
    ("graph-negative",
     lambda: R(task_matrix="graph", task_graph=-np.ones((3, 3))).fit(X, y, task=t),
     "must hold finite, non-negative similarity weights"),
    ("graph-not-symmetric",
     lambda: R(task_matrix="graph", task_graph=np.triu(np.ones((3, 3)), 1)).fit(
         X, y, task=t),
     "The 'task_graph' parameter must be symmetric"),
    # hyperparameters and weights
    ("negative-alpha", lambda: R(alpha=-1).fit(X, y, task=t),
     "must be a float in the range [0.0, inf)"),
    ("negative-weight", lambda: R().fit(X, y, task=t, sample_weight=-np.ones(12)),
     "The 'sample_weight' values must be non-negative"),
    # kernel
    ("kernel-overflow-rbf", lambda: R().fit(X * 1e200, y, task=t),
     "the kernel overflows at the scale of the inputs"),
    ("kernel-overflow-polynomial",
     lambda: R(kernel="polynomial", degree=30).fit(X * 1e6, y, task=t),
     "lower 'degree' or 'gamma'"),
    ("callable-kernel-nan", lambda: R(kernel=_nan_kernel).fit(X, y, task=t),
     "returned a kernel matrix containing NaN or infinity for finite inputs"),
    ("callable-kernel-shape", lambda: R(kernel=_wrong_shape_kernel).fit(X, y, task=t),
     "must return a Gram matrix of shape"),
    ("precomputed-not-square", lambda: R(kernel="precomputed").fit(X, y, task=t),
     "X must be the square training kernel matrix"),
    # solvers
    ("cholesky-shared", lambda: R(solver="cholesky").fit(X, Y),
     "solver='cholesky' is for heterogeneous tasks"),
    ("eigen-incomplete", lambda: R(solver="eigen").fit(X, _with_nan(Y)),
     "solver='eigen' needs a complete Y"),
    # approximation
    ("precomputed-approximation",
     lambda: R(kernel="precomputed", approximation="nystroem").fit(X @ X.T, y, task=t),
     "approximation needs the raw inputs X"),
    ("random-fourier-kernel",
     lambda: R(kernel="polynomial", approximation="random_fourier").fit(X, y, task=t),
     "the kernels whose spectral density is known"),
]


# The overflow cases warn from numpy before the library's check refuses them.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
@pytest.mark.parametrize("trigger, fragment",
                         [pytest.param(f, s, id=i) for i, f, s in CASES])
def test_documented_error(page, trigger, fragment):
    with pytest.raises(ValueError) as info:
        trigger()
    assert not isinstance(info.value, np.linalg.LinAlgError)
    assert _flat(fragment) in _flat(str(info.value))
    assert _flat(fragment) in page, f"{fragment!r} is not on the Troubleshooting page"


@pytest.mark.parametrize("fit, fragment", [
    pytest.param(lambda: R(solver="cholesky").fit(X, y, task=t),
                 "Set approximation='nystroem'", id="heterogeneous"),
    pytest.param(lambda: R().fit(X, Y), "Shared-input fitting with n=", id="shared"),
])
def test_memory_guard_error(page, monkeypatch, fit, fragment):
    monkeypatch.setenv("RKHSMTL_MAX_MEMORY_GB", "1e-9")
    with pytest.raises(MemoryError) as info:
        fit()
    message = _flat(str(info.value))
    assert fragment in message and fragment in page
    assert "GiB is available" in message and "GiB is available" in page


def test_predict_proba_with_squared_loss(page):
    clf = MultiTaskKernelClassifier().fit(X, y01, task=t)
    with pytest.raises(AttributeError) as info:
        clf.predict_proba(X, task=t)
    # available_if chains the reason as the cause of its "has no attribute".
    cause = info.value.__cause__
    assert cause is not None
    for fragment, message in [("has no attribute 'predict_proba'", str(info.value)),
                              ("predict_proba needs loss='logistic'", str(cause))]:
        assert fragment in message and fragment in page


# ---- Dask


@pytest.fixture(scope="module")
def dask_data():
    da = pytest.importorskip("dask.array")
    pytest.importorskip("dask.dataframe")
    Xb = rng.normal(size=(40, 2))
    yb = rng.normal(size=40)
    tb = np.arange(40) % 3
    return da, Xb, yb, tb


def _approx():
    return R(approximation="nystroem", n_components=10, random_state=0)


def _dask_cases(da, Xb, yb, tb):
    import dask.dataframe as dd
    import pandas as pd

    Xd, yd, td = (da.from_array(a, chunks=10) for a in (Xb, yb, tb))
    frame = dd.from_pandas(pd.DataFrame(Xb, columns=["a", "b"]), npartitions=4)
    y_unknown = dd.from_pandas(pd.Series(yb), npartitions=4).values
    X_nan = da.from_array(_with_nan(Xb), chunks=10)
    return {
        "exact": (lambda: R().fit(Xd, yd, task=td),
                  "Dask inputs are fitted on the approximate path only"),
        "chunks": (lambda: _approx().fit(Xd, da.from_array(yb, chunks=15), task=td),
                   "Rechunk them alike"),
        "unknown-chunks": (lambda: _approx().fit(Xd, y_unknown, task=td),
                           "has unknown chunk sizes (NaN)"),
        "task-column": (lambda: R(task_column=0, approximation="nystroem",
                                  n_components=10).fit(Xd, yd),
                        "With Dask inputs pass the task labels as task="),
        "task-not-a-column": (lambda: _approx().fit(frame, yd, task="zz"),
                              "is not a column of the Dask DataFrame X"),
        "nan": (lambda: _approx().fit(X_nan, yd, task=td),
                "contains NaN or infinity. Remove or impute those rows first"),
    }


@pytest.mark.parametrize("case", ["exact", "chunks", "unknown-chunks", "task-column",
                                  "task-not-a-column", "nan"])
def test_documented_dask_error(page, dask_data, case):
    trigger, fragment = _dask_cases(*dask_data)[case]
    with pytest.raises(ValueError) as info:
        trigger()
    assert fragment in _flat(str(info.value))
    assert fragment in page


def test_dask_X_with_unknown_chunks_says_so(dask_data):
    import dask.dataframe as dd
    import pandas as pd

    da, Xb, yb, tb = dask_data
    X_unknown = dd.from_pandas(pd.DataFrame(Xb), npartitions=4).values
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        _approx().fit(X_unknown, da.from_array(yb, chunks=10),
                      task=da.from_array(tb, chunks=10))


def test_logistic_on_dask_says_so():
    da = pytest.importorskip("dask.array")
    rng = np.random.RandomState(0)
    X = rng.randn(40, 2)
    y = (X[:, 0] > 0).astype(float)
    t = np.arange(40) % 2
    with pytest.raises(ValueError) as info:
        MultiTaskKernelClassifier(loss="logistic", approximation="nystroem").fit(
            da.from_array(X, chunks=(20, 2)), da.from_array(y, chunks=20),
            task=da.from_array(t, chunks=20))
    fragment = "which needs the feature rows in memory"
    assert fragment in str(info.value)
    assert fragment in " ".join(PAGE.read_text().split())

