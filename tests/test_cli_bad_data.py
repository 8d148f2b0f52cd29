"""``rkhsmtl compare`` on malformed data: one line on stderr naming the file or
column and the fix, exit 2; a run where every method fails exits non-zero; the
table drops the duplicate column, shows no spread for one split and marks the
best method."""
import re

import numpy as np
import pytest

from rkhsmtl import MultiTaskKernelRidge
from rkhsmtl.cli import main
from rkhsmtl.compare import register_method, unregister_method

_FAST = ("--splits", "1", "--methods", "independent,pooled")


def _run(capsys, *args):
    status = main(["compare", *args])
    out, err = capsys.readouterr()
    return status, out, err


def _write_csv(path, X, y, task):
    lines = ["f1,f2,group,target"]
    lines += [f"{a},{b},{t},{v}" for (a, b), t, v in zip(X, task, y)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _table():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 2))
    return X, (X[:, 0] + 0.1 * rng.normal(size=40)).astype(object), np.repeat(["a", "b"], 20)


@pytest.mark.parametrize("case, match", [
    ("inf_feature", r"feature column 'f2' of .*bad\.csv has 1 infinite value\(s\).*drop or impute"),
    ("nan_feature", r"feature column 'f1' of .*bad\.csv has 1 missing \(NaN\) value\(s\)"),
    ("nan_target", r"target column 'target' of .*bad\.csv has 1 missing \(NaN\)"),
    ("string_target", r"target column 'target' of .*bad\.csv is not numeric.*encode it"),
    ("header_only", r"bad\.csv has a header but no data rows"),
])
@pytest.mark.parametrize("quiet", [False, True])
def test_bad_csv(capsys, tmp_path, case, match, quiet):
    X, y, task = _table()
    if case == "inf_feature":
        X[3, 1] = np.inf
    elif case == "nan_feature":
        X[3, 0] = np.nan
    elif case == "nan_target":
        y[5] = np.nan
    elif case == "string_target":
        y[:] = np.where(X[:, 0] > 0, "yes", "no")
    path = tmp_path / "bad.csv"
    if case == "header_only":
        path.write_text("f1,f2,group,target\n", encoding="utf-8")
    else:
        _write_csv(path, X, y, task)
    args = ["--dataset", str(path), "--task-column", "group", "--target", "target", *_FAST]
    status, out, err = _run(capsys, *args, *(["--quiet"] if quiet else []))
    assert status == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rkhsmtl compare: error: ")
    assert re.search(match, lines[0]), lines[0]


@pytest.mark.parametrize("case", ["text", "inf"])
def test_bad_npz(capsys, tmp_path, case):
    path = tmp_path / "data.npz"
    if case == "text":
        path.write_text("not an archive\n", encoding="utf-8")
        match = "is not a numpy .npz archive.*np.savez"
    else:
        X, y, task = _table()
        X[0, 0] = -np.inf
        np.savez(path, X=X, y=y.astype(float), task=task)
        match = "feature column 'x0' of .*data.npz has 1 infinite"
    status, out, err = _run(capsys, "--dataset", str(path), *_FAST, "--quiet")
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert re.search(match, err), err


class _Broken(MultiTaskKernelRidge):
    def fit(self, X, y, task=None, sample_weight=None):
        raise RuntimeError("deliberately broken")


@pytest.mark.parametrize("quiet", [False, True])
def test_every_method_failing_exits_non_zero(capsys, quiet):
    register_method("broken-1", lambda context: _Broken())
    register_method("broken-2", lambda context: _Broken())
    try:
        status, _, err = _run(capsys, "--splits", "1", "--methods", "broken-1,broken-2",
                              *(["--quiet"] if quiet else []))
    finally:
        unregister_method("broken-1")
        unregister_method("broken-2")
    assert status == 1
    assert "every method failed on every split" in err
    assert "deliberately broken" in err


def test_table_one_split_no_duplicate_column_best_marked(capsys):
    status, out, _ = _run(capsys, *_FAST, "--quiet")
    assert status == 0
    assert "±" not in out.split("mean ± std over splits", 1)[1]
    assert "R² (per task)" not in out            # equal to explained variance per task
    assert "explained variance (per task)" in out
    body = [line for line in out.splitlines() if line.startswith(("independent", "pooled"))]
    assert len(body) == 2 and sum(line.count("*") for line in body) >= 4
    assert "* best value in its column" in out
    status, out, _ = _run(capsys, "--splits", "2", "--methods", "independent,pooled",
                          "--quiet")
    assert status == 0 and "±" in out.split("mean ± std over splits", 1)[1]
