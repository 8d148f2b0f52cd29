"""Issue 14: no silent wrong answer in the neural models, the metrics, the
splitters and the plots (non-finite kernels and the fit gate are in
test_bad_input.py, DataFrame Y in test_pandas.py, the command in
test_cli_bad_data.py)."""
import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

from rkhsmtl import metrics
from rkhsmtl.neural import HardSharingNetClassifier, HardSharingNetRegressor

PACKAGE = Path(__file__).resolve().parents[1] / "rkhsmtl"
_FAST = dict(hidden_layer_sizes=(8,), max_epochs=15, random_state=0)


# ------------------------------------------------------------------ neural
@pytest.mark.parametrize("cls", [HardSharingNetRegressor, HardSharingNetClassifier])
@pytest.mark.parametrize("early_stopping", [True, False])
def test_object_task_labels_with_a_small_task(cls, early_stopping):
    # The pandas task_column workflow gives object labels; a task below 10
    # rows used to crash on 'str'.tolist() while warning about validation rows.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    task = np.array(["big"] * 34 + ["small"] * 6, dtype=object)
    y = np.tile([0, 1], 20) if cls is HardSharingNetClassifier else X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = cls(early_stopping=early_stopping, **_FAST).fit(X, y, task=task)
    assert list(model.tasks_) == ["big", "small"]
    lonely = task.copy()
    lonely[-6:-1] = "big"
    with pytest.raises(ValueError, match="Task 'small' has 1 sample"):
        cls(**_FAST).fit(X, y, task=lonely)


@pytest.mark.parametrize("layout", ["shared", "heterogeneous"])
def test_regressor_predictions_scale_with_the_targets(layout):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 2))
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] + 5.0] + 0.05 * rng.normal(size=(60, 2))
    if layout == "shared":
        Y[::7, 1] = np.nan   # missing entries are standardized around
        fit = dict()
    else:
        Y, fit = Y[:, 0], dict(task=np.arange(60) % 3)
    model = HardSharingNetRegressor(**_FAST, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = model.fit(X, Y, **fit).predict(X)
        large = HardSharingNetRegressor(**_FAST, early_stopping=False).fit(
            X, Y * 1e8, **fit).predict(X)
    np.testing.assert_allclose(large, unit * 1e8, rtol=1e-6)
    assert np.all(np.isfinite(unit))


def test_regressor_fits_targets_at_scale_1e8():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(200, 2))
    y = 1e8 * (X[:, 0] + 0.5 * X[:, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = HardSharingNetRegressor(random_state=0).fit(X, y)   # default settings
    assert model.score(X, y) > 0.95


def test_regressor_warns_about_unscaled_features():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2)) * 1e8
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        HardSharingNetRegressor(hidden_layer_sizes=(4,), max_epochs=2,
                                early_stopping=False).fit(X, rng.normal(size=40))
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    assert any("standard deviations up to 1" in m and "e+08" in m
               and "StandardScaler" in m for m in messages), messages


# ----------------------------------------------------------------- metrics
_REGRESSION = [metrics.mean_squared_error, metrics.normalized_mean_squared_error,
               metrics.explained_variance, metrics.r2_score]


@pytest.mark.parametrize("metric", _REGRESSION)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_prediction_names_the_task(metric, bad):
    y = np.arange(6.0)
    task = ["a", "a", "a", "b", "b", "b"]
    pred = np.r_[y[:-1] + 1, bad]
    with pytest.raises(ValueError, match="y_pred contains NaN or infinity for task 'b'"):
        metric(y, pred, task)
    with pytest.raises(ValueError, match="for task 'b'"):
        metric(y, pred, task, average=None)
    Y = np.c_[y, y]
    with pytest.raises(ValueError, match="y_pred contains NaN or infinity for column 1"):
        metric(Y, np.c_[y, pred])


def test_non_finite_scores_and_targets():
    with pytest.raises(ValueError, match="y_pred contains NaN or infinity for task 1"):
        metrics.roc_auc_score([0, 1, 0, 1], [0.1, 0.2, np.nan, 0.4], task=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="y_true contains NaN.*for task 'b'.*drop the rows"):
        metrics.mean_squared_error([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], ["a", "b", "b"])
    with pytest.raises(ValueError, match="y_true contains NaN or infinity for column 0"):
        metrics.r2_score(np.array([[1.0], [np.inf]]), np.array([[1.0], [2.0]]))
    # NaN in a wide Y_true stays a missing entry
    Y = np.array([[0.0, 1.0], [2.0, np.nan], [4.0, 3.0]])
    assert np.isfinite(metrics.mean_squared_error(Y, np.nan_to_num(Y)))


@pytest.mark.parametrize("metric", _REGRESSION + [metrics.accuracy_score,
                                                  metrics.roc_auc_score])
@pytest.mark.parametrize("task", [None, []])
def test_empty_input(metric, task):
    with pytest.raises(ValueError, match="y_true is empty.*at least one row"):
        metric([], [], task)


@pytest.mark.parametrize("metric", _REGRESSION)
def test_string_targets_in_a_regression_metric(metric):
    with pytest.raises(ValueError, match="needs numeric y_true.*accuracy_score"):
        metric(np.array(["no", "yes"]), [0.0, 1.0])
    with pytest.raises(ValueError, match="needs numeric y_pred"):
        metric([0.0, 1.0], np.array(["no", "yes"]))
    # labels stay labels for accuracy
    assert metrics.accuracy_score(["no", "yes"], ["no", "no"]) == 0.5


# ------------------------------------------------------------------- plots
@pytest.mark.parametrize("T, shown", [(12, 12), (40, 40), (41, 21), (100, 34)])
def test_task_relations_thin_tick_labels(T, shown):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rkhsmtl.plotting import plot_task_relations

    names = [f"task-{i}" for i in range(T)]
    ax = plot_task_relations(np.eye(T), task_names=names, order="given")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == shown and labels[0] == "task-0"
    assert all(label in names for label in labels)
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="'task_names' parameter has 2 entries"):
        plot_task_relations(np.eye(T), task_names=["a", "b"])


# ---------------------------------------------------------- package layout
def _imports_of(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.add(node.module or "")
            found.update(alias.name for alias in node.names if node.module is None)
    return found


def test_compare_builtins_do_not_import_the_registry():
    # The registry reads the built-in list; the built-ins never import back.
    assert "_registry" not in _imports_of(PACKAGE / "compare" / "_builtin.py")
    from rkhsmtl.compare import get_method, list_methods

    assert {"independent", "mean", "dm"} <= {s.name for s in list_methods()}
    assert get_method("trace").learns_task_matrix
