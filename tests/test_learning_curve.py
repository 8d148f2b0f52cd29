"""Tests of the learning-curve protocol (rkhsmtl compare --learning-curve)."""
import csv

import numpy as np
import pytest

from rkhsmtl.cli import main
from rkhsmtl.compare import Dataset
from rkhsmtl.compare._learning_curve import (
    _nested_splits,
    crossover,
    run_learning_curve,
    synthetic_with_sizes,
)
from rkhsmtl.neural import _cv


@pytest.fixture
def tiny_neural_grid(monkeypatch):
    # the default search trains up to 1000 epochs per candidate
    monkeypatch.setattr(_cv, "DEFAULT_PARAM_GRID",
                        {"weight_decay": [1e-3], "max_epochs": [3]})


def test_nested_splits_keep_the_test_rows_and_nest_the_training_rows():
    task = np.repeat([0, 1, 2], 20)
    for test, orders in _nested_splits(task, 2, 0.3, 0):
        assert all(np.bincount(task[test]) == 6)
        train = np.concatenate(orders)
        assert np.intersect1d(train, test).size == 0 and train.size + test.size == 60
        for t, order in enumerate(orders):
            assert np.all(task[order] == t)


def test_cli_learning_curve_writes_one_row_per_method_size_and_split(
        capsys, tmp_path, tiny_neural_grid):
    status = main(["compare", "--learning-curve", "--methods",
                   "independent,neural,single-task-net", "--sizes", "4,8",
                   "--splits", "1", "--output", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert status == 0
    with open(tmp_path / "learning_curve.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 2 * 1
    assert {(r["method"], r["size"]) for r in rows} == {
        (m, s) for m in ("independent", "neural", "single-task-net") for s in ("4", "8")}
    assert all(r["error"] == "" and np.isfinite(float(r["ev_pooled"])) for r in rows)
    # nested sizes: 20 tasks x size rows per task
    assert {int(r["n_train"]) for r in rows if r["size"] == "8"} == {160}
    assert "rows/task" in out and "single-task-net" in out
    report = (tmp_path / "learning_curve.md").read_text(encoding="utf-8")
    assert "--learning-curve" in report and "Machine:" in report


def test_more_rows_help_and_crossover_reads_the_curves():
    data = synthetic_with_sizes([40])
    result = run_learning_curve(data, ["independent", "pooled"], sizes=(5, 40), n_splits=1)
    assert result.mean("independent", 40, "ev_pooled") > result.mean(
        "independent", 5, "ev_pooled") + 0.2
    assert crossover(result, "independent", "independent") == 5
    header, *rows = result.table()
    assert len(rows) == 4 and header[1] == "rows/task"


def test_bad_sizes_and_methods_are_clear_errors(capsys):
    assert main(["compare", "--learning-curve", "--sizes", "1,x"]) == 2
    assert "--sizes" in capsys.readouterr().err
    data = Dataset("toy", "toy", "regression", X=np.zeros((8, 1)), y=np.arange(8.0),
                   task=np.repeat([0, 1], 4), task_names=[0, 1])
    with pytest.raises(ValueError, match="single-task-net"):
        run_learning_curve(data, ["no-such-method"], sizes=(2,), n_splits=1)
