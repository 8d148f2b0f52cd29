"""``verbose``: progress lines of the iterative estimators (issue 14, item 9)."""
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from rkhsmtl import (
    ClusteredMultiTaskLearning,
    ClusteredMultiTaskLearningClassifier,
    MultiTaskKernelRidgeCV,
    OutputKernelLearning,
    OutputKernelLearningClassifier,
    TaskRelationLearning,
    TaskRelationLearningClassifier,
    TaskStructureLearning,
    TaskStructureLearningClassifier,
)
from rkhsmtl.linear import (
    LinearMultiTaskClassifier,
    LinearMultiTaskClassifierCV,
    LinearMultiTaskRegressor,
    LinearMultiTaskRegressorCV,
    make_linear_multitask,
)

STRUCTURE = [TaskStructureLearning, TaskStructureLearningClassifier,
             OutputKernelLearning, OutputKernelLearningClassifier,
             TaskRelationLearning, TaskRelationLearningClassifier,
             ClusteredMultiTaskLearning, ClusteredMultiTaskLearningClassifier]
LINEAR = [LinearMultiTaskRegressor, LinearMultiTaskClassifier,
          LinearMultiTaskRegressorCV, LinearMultiTaskClassifierCV]
ITERATION = re.compile(r"^Iteration (\d+): objective = (\S+?),.* elapsed = [\d.]+ s$")
NUMBER = r"(-?\d\.\d+e[+-]\d+)"


def _kernel_data():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 2)
    Y = np.c_[X[:, 0], X[:, 0] + 0.1 * rng.randn(30), -X[:, 1], X[:, 1]]
    return X, Y


def _targets(cls, Y):
    return (Y > 0).astype(int) if "Classifier" in cls.__name__ else Y


def _iterations(out):
    return [(int(m.group(1)), float(m.group(2)))
            for m in map(ITERATION.match, out.splitlines()) if m]


@pytest.mark.parametrize("cls", STRUCTURE, ids=lambda c: c.__name__)
def test_structure_verbose_prints_objective_history(cls, capsys):
    X, Y = _kernel_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(max_iter=4, verbose=1).fit(X, _targets(cls, Y))
    out = capsys.readouterr().out
    lines = _iterations(out)
    # One line for the first coefficient step and one per structure step.
    assert [k for k, _ in lines] == list(range(model.n_iter_ + 1))
    assert [J for _, J in lines] == pytest.approx(model.objective_history_, rel=1e-9)
    final = out.strip().splitlines()[-1]
    assert final.startswith("Alternating minimization") and "elapsed" in final


@pytest.mark.parametrize("cls", [TaskStructureLearning, ClusteredMultiTaskLearningClassifier],
                         ids=lambda c: c.__name__)
def test_structure_silent_by_default(cls, capsys):
    X, Y = _kernel_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cls(max_iter=3).fit(X, _targets(cls, Y))
        cls(max_iter=3, verbose=0).fit(X, _targets(cls, Y))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("cls", STRUCTURE + [MultiTaskKernelRidgeCV] + LINEAR,
                         ids=lambda c: c.__name__)
def test_negative_verbose_refused(cls):
    X, Y = _kernel_data()
    with pytest.raises(InvalidParameterError, match="'verbose' parameter"):
        cls(verbose=-1).fit(X, _targets(cls, Y))


@pytest.mark.parametrize("cv", [None, 3])
def test_ridge_cv_verbose(cv, capsys):
    X, Y = _kernel_data()
    model = MultiTaskKernelRidgeCV(alphas=[0.01, 0.1, 1.0], omegas=[0.0, 0.5],
                                   cv=cv, verbose=1).fit(X, Y)
    lines = capsys.readouterr().out.strip().splitlines()
    what = "Task matrix" if model.cv_method_ == "loo" else "Fold"
    n = 2 if model.cv_method_ == "loo" else 3
    assert [line.split(":")[0] for line in lines[:-1]] == \
        [f"{what} {k}/{n}" for k in range(1, n + 1)]
    best = [float(re.search(f"best score so far = {NUMBER}", line).group(1))
            for line in lines[:-1]]
    assert all("elapsed" in line for line in lines)
    if model.cv_method_ == "loo":  # the running best over whole candidates
        assert best == sorted(best)
    assert best[-1] == pytest.approx(model.best_score_, rel=1e-9)
    assert lines[-1].startswith("Selected alpha=")
    capsys.readouterr()
    MultiTaskKernelRidgeCV(alphas=[0.1, 1.0], cv=cv).fit(X, Y)
    assert capsys.readouterr().out == ""


def _linear_data():
    X, y, task, _ = make_linear_multitask("l21", n_tasks=3, n_features=8,
                                          n_samples=40, random_state=0)
    return X, y, task


@pytest.mark.parametrize("cls", [LinearMultiTaskRegressor, LinearMultiTaskClassifier],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("max_iter", [15, 200])
def test_linear_fista_verbose(cls, max_iter, capsys):
    X, y, task = _linear_data()
    y = y > 0 if cls is LinearMultiTaskClassifier else y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(lambda1=0.05, solver="fista", max_iter=max_iter,
                    verbose=1).fit(X, y, task=task)
        out = capsys.readouterr().out
        cls(lambda1=0.05, solver="fista", max_iter=max_iter).fit(X, y, task=task)
    assert capsys.readouterr().out == ""
    lines = _iterations(out)
    every = max(1, max_iter // 20)
    expected = [k for k in range(model.n_iter_ + 1) if k % every == 0]
    assert [k for k, _ in lines] == expected
    assert [J for _, J in lines] == pytest.approx(
        list(model.objective_history_[expected]), rel=1e-9)
    assert out.strip().splitlines()[-1].startswith("FISTA ")


def test_linear_bcd_verbose(capsys):
    X, y, task = _linear_data()
    model = LinearMultiTaskRegressor(lambda1=0.05, solver="bcd", verbose=1).fit(
        X, y, task=task)
    lines = capsys.readouterr().out.strip().splitlines()
    epochs = [re.match(rf"^Epoch (\d+): objective = {NUMBER}, duality gap = ", line)
              for line in lines[:-1]]
    assert all(epochs) and int(epochs[0].group(1)) == 0
    assert int(epochs[-1].group(1)) == model.n_iter_
    assert float(epochs[0].group(2)) == pytest.approx(model.objective_history_[0], rel=1e-9)
    assert lines[-1].startswith("Coordinate descent converged")
    final = float(re.search(f"objective = {NUMBER}", lines[-1]).group(1))
    assert final == pytest.approx(model.objective_history_[-1], rel=1e-9)
    LinearMultiTaskRegressor(lambda1=0.05, solver="bcd").fit(X, y, task=task)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("cls", [LinearMultiTaskRegressorCV, LinearMultiTaskClassifierCV],
                         ids=lambda c: c.__name__)
def test_linear_cv_verbose(cls, capsys):
    X, y, task = _linear_data()
    y = y > 0 if cls is LinearMultiTaskClassifierCV else y
    model = cls(n_lambdas=3, cv=3, verbose=1).fit(X, y, task=task)
    lines = capsys.readouterr().out.strip().splitlines()
    folds = [line for line in lines if line.startswith("Fold ")]
    assert [line.split(":")[0] for line in folds] == ["Fold 1/3", "Fold 2/3", "Fold 3/3"]
    last = float(re.search(f"so far = {NUMBER}", folds[-1]).group(1))
    assert last == pytest.approx(model.best_score_, rel=1e-9)
    assert any(line.startswith("Selected lambda1=") for line in lines)
    cls(n_lambdas=3, cv=3).fit(X, y, task=task)
    assert capsys.readouterr().out == ""
