"""The ``rkhsmtl compare`` command: default run, registry, reports, bad input."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.cli import main
from rkhsmtl.compare import get_method, register_method, unregister_method

REPO = Path(__file__).resolve().parents[1]


def _run(capsys, *args):
    status = main(["compare", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _csv_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def temporary_method():
    """Register methods for one test and remove them afterwards."""
    names = []

    def register(name, factory, **kwargs):
        register_method(name, factory, **kwargs)
        names.append(name)

    yield register
    for name in names:
        unregister_method(name)


def test_default_run_writes_report_and_mtl_beats_independent(capsys, tmp_path):
    # The default command with 2 splits instead of 5 (same data and methods).
    status, out, err = _run(capsys, "--splits", "2", "--output", str(tmp_path))
    assert status == 0, err
    methods = ("independent", "pooled", "mean", "mean-cv", "neural", "trace", "mtrl",
               "cmtl", "dm")
    for name in methods:
        assert name in out
    assert "explained variance (pooled)" in out and "±" in out
    assert "split 2/2" in err  # progress lines go to stderr
    rows = _csv_rows(tmp_path / "results.csv")
    assert len(rows) == len(methods) * 2
    assert {"ev_pooled", "r2_task", "mse_pooled", "nmse_task", "fit_time_s"} <= set(rows[0])

    def mean_ev(method):
        return np.mean([float(r["ev_pooled"]) for r in rows if r["method"] == method])

    assert mean_ev("mean-cv") > mean_ev("independent") + 0.03
    assert mean_ev("mean") > mean_ev("independent") + 0.03
    for learned in ("trace", "mtrl", "cmtl"):
        assert mean_ev(learned) > mean_ev("independent") + 0.03
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    for needle in ("rkhsmtl compare --splits 2", "Machine:", "CPU(s)", "Date:",
                   "| mean-cv |", "make_multitask_regression"):
        assert needle in report
    try:
        import matplotlib  # noqa: F401
    except ImportError:  # plots are optional
        return
    assert (tmp_path / "metric_by_method.png").stat().st_size > 0


def test_list_methods(capsys):
    status, out, _ = _run(capsys, "--list-methods")
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names[:5] == ["independent", "pooled", "mean", "mean-cv", "neural"]


def test_registered_method_runs_and_its_task_matrix_is_drawn(capsys, tmp_path,
                                                             temporary_method):
    pytest.importorskip("matplotlib")
    temporary_method(
        "toy-structure",
        lambda ctx: MultiTaskKernelRidge(alpha=0.1, task_matrix="mean", omega=0.8),
        problem_types=("regression",), description="toy", learns_task_matrix=True)
    assert get_method("toy-structure").learns_task_matrix
    status, out, err = _run(capsys, "--methods", "independent,toy-structure",
                            "--splits", "1", "--output", str(tmp_path), "--quiet")
    assert status == 0, err
    assert "toy-structure" in out and err == ""
    assert (tmp_path / "task_matrix_toy-structure.png").is_file()
    assert (tmp_path / "task_matrix_true.png").is_file()
    assert {r["method"] for r in _csv_rows(tmp_path / "results.csv")} == {
        "independent", "toy-structure"}


def test_method_with_missing_optional_module_is_skipped(capsys, temporary_method):
    def needs_missing_module(ctx):
        import rkhsmtl_module_that_does_not_exist  # noqa: F401

    temporary_method("needs-extra", needs_missing_module)
    status, out, err = _run(capsys, "--methods", "needs-extra,independent",
                            "--splits", "1")
    assert status == 0, err
    assert "skipped method 'needs-extra'" in err
    assert "independent" in out and "needs-extra" not in out


def test_method_failing_to_fit_is_reported_not_fatal(capsys, temporary_method):
    class Broken(MultiTaskKernelRidge):
        def fit(self, X, y, task=None, sample_weight=None):
            raise RuntimeError("solver exploded")

    temporary_method("broken", lambda ctx: Broken(), problem_types=("regression",))
    status, out, err = _run(capsys, "--methods", "independent,broken", "--splits", "1")
    assert status == 0
    assert "failed (see notes)" in out
    assert "broken failed on split 0: RuntimeError: solver exploded" in err


def test_register_method_rejects_duplicates_and_bad_names():
    with pytest.raises(ValueError, match="already registered"):
        register_method("mean", lambda ctx: None)
    with pytest.raises(ValueError, match="without commas"):
        register_method("a,b", lambda ctx: None)
    with pytest.raises(ValueError, match="problem_types"):
        register_method("x", lambda ctx: None, problem_types=("ranking",))


def test_classification_and_csv_table(capsys, tmp_path):
    status, out, err = _run(capsys, "--dataset", "synthetic-classification",
                            "--methods", "independent,pooled", "--splits", "1")
    assert status == 0, err
    assert "AUC (per task)" in out and "accuracy (per task)" in out

    rng = np.random.RandomState(0)
    path = tmp_path / "scores.csv"
    school = np.repeat(["s1", "s2", "s3"], 20)
    x = rng.randn(60, 2)
    lines = ["school,x0,x1,score"] + [f"{s},{a},{b},{a + 0.1 * b}"
                                      for s, (a, b) in zip(school, x)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out, err = _run(capsys, "--dataset", str(path), "--task-column", "school",
                            "--target", "score", "--methods", "independent,mean",
                            "--splits", "2", "--quiet")
    assert status == 0, err
    assert "scores.csv" in out and "mean" in out


def test_missing_matplotlib_skips_plots_with_one_note(capsys, tmp_path, monkeypatch):
    import rkhsmtl.compare._plots as plots

    def no_pyplot():
        raise ImportError("No module named 'matplotlib'")

    monkeypatch.setattr(plots, "_pyplot", no_pyplot)
    status, _, err = _run(capsys, "--methods", "independent", "--splits", "1",
                          "--output", str(tmp_path))
    assert status == 0
    assert err.count("matplotlib is not installed") == 1
    assert (tmp_path / "report.md").is_file() and (tmp_path / "results.csv").is_file()
    assert not (tmp_path / "metric_by_method.png").exists()


def _bad_csv(tmp_path, one_sample=False):
    path = tmp_path / "table.csv"
    rows = ["group,x,y", "a,0.0,1.0", "a,1.0,2.0", "a,2.0,2.5", "b,0.5,1.5", "b,1.5,0.5"]
    if one_sample:
        rows.append("c,3.0,1.0")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("case", ["missing-benchmark", "missing-file", "no-task-column",
                                  "one-sample-task", "unknown-method", "unknown-dataset",
                                  "method-wrong-problem"])
def test_bad_input_exits_2_with_one_line(case, capsys, tmp_path, monkeypatch):
    if case == "missing-benchmark":
        import rkhsmtl.datasets._loaders as loaders

        def offline(url, dest, **kwargs):
            raise OSError("network unreachable")

        monkeypatch.setattr(loaders, "_download_file", offline)
        args, hint = ["--dataset", "school", "--data-home", str(tmp_path)], "school.npz"
    elif case == "missing-file":
        args, hint = ["--dataset", str(tmp_path / "absent.npz")], "No such data file"
    elif case == "no-task-column":
        args = ["--dataset", str(_bad_csv(tmp_path)), "--task-column", "school",
                "--target", "y"]
        hint = "task_column='school' is not a column"
    elif case == "one-sample-task":
        args = ["--dataset", str(_bad_csv(tmp_path, one_sample=True)), "--task-column",
                "group", "--target", "y"]
        hint = "fewer than 2 rows"
    elif case == "unknown-method":
        args, hint = ["--methods", "independent,nope"], "unknown method 'nope'"
    elif case == "unknown-dataset":
        args, hint = ["--dataset", "mnist"], "unknown --dataset 'mnist'"
    else:
        args = ["--dataset", "synthetic-classification", "--methods", "mean-cv"]
        hint = "does not apply to classification"
    status, out, err = _run(capsys, *args)
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rkhsmtl compare: error:")
    assert hint in lines[0]
    assert "Traceback" not in err


def test_python_m_rkhsmtl_compare_help():
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get(
        "PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", "rkhsmtl", "compare", "--help"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    for option in ("--dataset", "--methods", "--splits", "--test-size", "--output",
                   "--list-methods", "--quiet"):
        assert option in proc.stdout


def test_plugins_from_entry_points(capsys, monkeypatch):
    import importlib.metadata

    import rkhsmtl.compare._registry as registry

    class FakeEntryPoint:
        def __init__(self, name, load):
            self.name, self.value, self.load = name, f"fake_pkg:{name}", load

    def load_good():
        register_method("plugin-method",
                        lambda ctx: MultiTaskKernelRidge(alpha=0.1, task_matrix="pooled"),
                        problem_types=("regression",), description="from a plugin")

    def load_broken():
        raise ImportError("No module named 'fake_dependency'")

    def fake_entry_points(group):
        assert group == registry.ENTRY_POINT_GROUP
        return [FakeEntryPoint("good", load_good), FakeEntryPoint("broken", load_broken)]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    monkeypatch.setattr(registry, "_loaded", False)
    monkeypatch.setattr(registry, "_LOAD_NOTES", [])
    try:
        status, out, err = _run(capsys, "--methods", "plugin-method", "--splits", "1")
        assert status == 0, err
        assert "plugin-method" in out
        assert "skipped plugin 'broken'" in err
    finally:
        unregister_method("plugin-method")


def test_structure_on_subsample_learns_on_a_subsample_and_refits_fixed():
    from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning
    from rkhsmtl.compare import StructureOnSubsample

    rng = np.random.RandomState(0)
    X = rng.randn(300, 2)
    task = np.repeat([0, 1, 2], 100)
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(300)
    model = StructureOnSubsample(TaskRelationLearning(), max_rows=120).fit(X, y, task=task)
    assert model.learner_.dual_coef_.shape[0] == 120
    ref = MultiTaskKernelRidge(alpha=1.0, task_matrix=model.learner_.task_matrix_).fit(
        X, y, task=task)
    np.testing.assert_allclose(model.predict(X, task=task), ref.predict(X, task=task))
    np.testing.assert_allclose(model.task_matrix_, model.learner_.task_matrix_)
