"""``rkhsmtl compare --protocol new-tasks``: whole tasks held out, scored unseen."""
import csv

import numpy as np
import pytest
from sklearn.model_selection import GroupShuffleSplit
from sklearn.preprocessing import StandardScaler

from rkhsmtl import MultiTaskKernelClassifier, MultiTaskKernelRidge, metrics
from rkhsmtl.cli import main
from rkhsmtl.compare import load_dataset, register_method, unregister_method
from rkhsmtl.compare._protocols import leave_tasks_out, task_input_means


def _run(capsys, *args):
    status = main(["compare", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _table(tmp_path, n_tasks=10, per=25, seed=0):
    """Tasks whose inputs and targets shift with a task offset: the offset is
    visible in each task's input mean, so descriptors can predict new tasks."""
    rng = np.random.RandomState(seed)
    offset = rng.uniform(-2, 2, n_tasks)
    task = np.repeat(np.arange(n_tasks), per)
    x = offset[task][:, None] + 0.5 * rng.randn(task.size, 2)
    y = 2.0 * offset[task] + np.sin(x[:, 1]) + 0.1 * rng.randn(task.size)
    path = tmp_path / "shifted.csv"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("g,x1,x2,y\n")
        for t, (a, b), v in zip(task, x, y):
            fh.write(f"t{t},{a:.6f},{b:.6f},{v:.6f}\n")
    return str(path)


class _PredictOnly:
    """A plugin whose predict takes no unknown_task: the protocol averages
    the columns of predict(X) itself."""

    def __init__(self):
        self.model = MultiTaskKernelRidge(alpha=0.1, task_matrix="mean")

    def fit(self, X, y, task=None):
        self.model.fit(X, y, task=task)
        return self

    def predict(self, X, task=None):
        return self.model.predict(X, task=task)


@pytest.fixture
def methods():
    specs = {
        "descriptors": lambda ctx: MultiTaskKernelRidge(
            alpha=0.1, task_matrix="descriptors", omega=1.0, task_gamma=0.5,
            task_intercept_alpha=0.1),
        "fixed-mean": lambda ctx: MultiTaskKernelRidge(alpha=0.1, task_matrix="mean"),
        "plain-mean": lambda ctx: _PredictOnly(),
    }
    for name, factory in specs.items():
        register_method(name, factory, problem_types=("regression",))
    register_method("clf", lambda ctx: MultiTaskKernelClassifier(alpha=1.0),
                    problem_types=("classification",))
    yield
    for name in [*specs, "clf"]:
        unregister_method(name)


def test_new_tasks_scores_unseen_tasks_and_matches_a_manual_split(capsys, tmp_path,
                                                                 methods):
    path = _table(tmp_path)
    out_dir = tmp_path / "out"
    status, out, err = _run(capsys, "--dataset", path, "--task-column", "g",
                            "--target", "y", "--methods",
                            "fixed-mean,plain-mean,descriptors",
                            "--splits", "3", "--protocol", "new-tasks",
                            "--output", str(out_dir))
    assert status == 0, err
    assert "leave-tasks-out" in out and "held out entirely" in out
    assert "leave-tasks-out" in (out_dir / "report.md").read_text(encoding="utf-8")
    rows = _rows(out_dir / "results.csv")
    assert len(rows) == 9 and not any(r["error"] for r in rows)

    def ev(method):
        return np.array([float(r["ev_pooled"]) for r in rows if r["method"] == method])

    # The task offsets live in the input means: descriptors predict new tasks,
    # the average task function cannot.
    assert ev("descriptors").mean() > ev("fixed-mean").mean() + 0.3
    # unknown_task="mean" and the protocol's own column average agree.
    np.testing.assert_allclose(ev("plain-mean"), ev("fixed-mean"), rtol=1e-6)
    # Split 0 by hand: 0.2 of the 10 tasks held out, inputs standardized on
    # the training rows, the average task function.
    data = load_dataset(path, task_column="g", target="y")
    train, test = next(GroupShuffleSplit(3, test_size=2, random_state=0).split(
        data.X, data.y, groups=data.task))
    assert not set(data.task[train]) & set(data.task[test])
    scaler = StandardScaler().fit(data.X[train])
    X_tr, X_te = scaler.transform(data.X[train]), scaler.transform(data.X[test])
    est = MultiTaskKernelRidge(alpha=0.1, task_matrix="mean").fit(
        X_tr, data.y[train], task=data.task[train])
    pred = np.asarray(est.predict(X_te)).mean(axis=1)
    expected = metrics.explained_variance(data.y[test], pred, data.task[test],
                                          average="pooled")
    assert ev("fixed-mean")[0] == pytest.approx(expected, rel=1e-5)  # the CSV keeps 6 digits
    # And the descriptor model, fitted on the training tasks' input means.
    model = MultiTaskKernelRidge(alpha=0.1, task_matrix="descriptors", omega=1.0,
                                 task_gamma=0.5, task_intercept_alpha=0.1)
    model.fit(X_tr, data.y[train], task=data.task[train],
              task_features=task_input_means(X_tr, data.task[train])[1])
    pred = model.predict(X_te, task=data.task[test],
                         task_features=task_input_means(X_te, data.task[test])[1])
    expected = metrics.explained_variance(data.y[test], pred, data.task[test],
                                          average="pooled")
    assert ev("descriptors")[0] == pytest.approx(expected, rel=1e-5)  # the CSV keeps 6 digits


def test_every_split_holds_out_whole_tasks():
    data = leave_tasks_out(load_dataset("synthetic"))
    for train, test in data.splitter(4, random_state=1).split(data.X, data.y,
                                                              groups=data.task):
        assert not set(data.task[train]) & set(data.task[test])
        assert np.unique(data.task[test]).size == 4      # 0.2 of 20 tasks


def test_classification_new_tasks_runs(capsys, tmp_path, methods):
    status, out, err = _run(capsys, "--dataset", "synthetic-classification",
                            "--methods", "clf", "--splits", "1",
                            "--protocol", "new-tasks", "--output", str(tmp_path))
    assert status == 0, err
    row, = _rows(tmp_path / "results.csv")
    # Scored by the average decision function over the training tasks.
    assert 0.0 <= float(row["auc_task"]) <= 1.0
    assert 0.0 <= float(row["accuracy_task"]) <= 1.0


@pytest.mark.parametrize("args, message", [
    (["--protocol", "bogus"], "invalid choice: 'bogus'"),
    (["--protocol", "new-tasks", "--test-size", "0.99"], "holds out every task"),
])
def test_bad_protocol_input_exits_2_with_one_line(capsys, args, message):
    status, out, err = _run(capsys, "--methods", "independent", "--splits", "1", *args)
    assert status == 2
    assert message in err


def test_single_task_data_set_is_refused(capsys, tmp_path):
    path = tmp_path / "one.csv"
    rng = np.random.RandomState(0)
    path.write_text("g,x,y\n" + "".join(f"a,{v:.4f},{v:.4f}\n" for v in rng.randn(10)),
                    encoding="utf-8")
    status, out, err = _run(capsys, "--dataset", str(path), "--task-column", "g",
                            "--target", "y", "--methods", "independent",
                            "--protocol", "new-tasks")
    assert status == 2
    assert "new-tasks needs at least 2" in err and len(err.strip().splitlines()) == 1
