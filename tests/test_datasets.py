"""Tests of rkhsmtl.datasets: synthetic generators, benchmark loaders, tables.

No test touches the network: an autouse fixture replaces the downloader.
"""
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from rkhsmtl.datasets import (
    DatasetChecksumError,
    DatasetNotFoundError,
    get_data_home,
    load_landmine,
    load_sarcos,
    load_school,
    load_table,
    make_multitask_classification,
    make_multitask_regression,
)
from rkhsmtl.datasets import _loaders

STRUCTURES = ["independent", "clustered", "graph", "low_rank", "negative",
              "covariate_shift"]


def _shared_data_dir():
    env = os.environ.get("RKHSMTL_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def _shared_file(name):
    path = _shared_data_dir() / name
    if not path.is_file():
        pytest.skip(f"{name} not found in {path.parent} (set RKHSMTL_DATA)")
    return path


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Make any download attempt fail, as if offline."""
    def offline(url, dest, timeout=None):
        raise OSError(f"network disabled in tests ({url})")

    monkeypatch.setattr(_loaders, "_download_file", offline)


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [make_multitask_regression,
                                  make_multitask_classification])
def test_long_format_shapes_and_dtypes(make):
    X, y, task, A = make(n_samples=30, n_tasks=4, n_features=3, random_state=0)
    assert X.shape == (120, 3) and X.dtype == np.float64
    assert y.shape == (120,)
    assert task.shape == (120,) and task.dtype == np.int64
    assert np.array_equal(np.bincount(task), [30] * 4)
    assert A.shape == (4, 4)


@pytest.mark.parametrize("make", [make_multitask_regression,
                                  make_multitask_classification])
def test_wide_format_shapes(make):
    X, Y, A = make(n_samples=25, n_tasks=3, n_features=2, shared_inputs=True,
                   random_state=0)
    assert X.shape == (25, 2) and Y.shape == (25, 3) and A.shape == (3, 3)


@pytest.mark.parametrize("make", [make_multitask_regression,
                                  make_multitask_classification])
def test_random_state_determinism(make):
    first = make(n_samples=20, n_tasks=3, random_state=42)
    second = make(n_samples=20, n_tasks=3, random_state=42)
    other = make(n_samples=20, n_tasks=3, random_state=43)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("structure", STRUCTURES)
def test_task_matrix_is_a_correlation_matrix(structure):
    *_, A = make_multitask_regression(n_samples=5, n_tasks=7, structure=structure,
                                      n_clusters=3, random_state=0)
    np.testing.assert_allclose(A, A.T)
    np.testing.assert_allclose(np.diag(A), 1.0)
    assert np.linalg.eigvalsh(A).min() > -1e-10


def test_clustered_and_negative_matrices():
    *_, A = make_multitask_regression(n_samples=5, n_tasks=7, structure="clustered",
                                      n_clusters=3, correlation=0.8, random_state=0)
    blocks = [[0, 1, 2], [3, 4], [5, 6]]  # as equal as possible, contiguous
    for b, members in enumerate(blocks):
        others = [t for t in range(7) if t not in members]
        sub = A[np.ix_(members, members)]
        assert np.allclose(sub[~np.eye(len(members), dtype=bool)], 0.8)
        assert np.allclose(A[np.ix_(members, others)], 0.0)
    *_, A = make_multitask_regression(n_samples=5, n_tasks=4, structure="negative",
                                      correlation=0.7, random_state=0)
    expected = np.array([[1, .7, -.7, -.7], [.7, 1, -.7, -.7],
                         [-.7, -.7, 1, .7], [-.7, -.7, .7, 1]])
    np.testing.assert_allclose(A, expected)


@pytest.mark.parametrize("structure", ["independent", "clustered", "graph",
                                       "low_rank", "negative"])
def test_planted_structure_matches_function_correlation(structure):
    # Noise-free functions at many shared inputs: their empirical correlation
    # must reproduce the planted task matrix, signs included.
    X, Y, A = make_multitask_regression(n_samples=4000, n_tasks=6, structure=structure,
                                        noise=0.0, shared_inputs=True, random_state=3)
    np.testing.assert_allclose(np.corrcoef(Y.T), A, atol=0.1)
    np.testing.assert_allclose(Y.var(axis=0), 1.0, atol=0.15)


def test_negative_structure_has_negative_empirical_correlation():
    _, Y, A = make_multitask_regression(n_samples=3000, n_tasks=4, structure="negative",
                                        correlation=0.9, noise=0.0, shared_inputs=True,
                                        random_state=1)
    C = np.corrcoef(Y.T)
    assert C[0, 1] > 0.8 and C[2, 3] > 0.8
    assert C[0, 2] < -0.8 and C[1, 3] < -0.8


def test_noise_level():
    # Same seed: identical functions and inputs, only the noise differs.
    X0, y0, _, _ = make_multitask_regression(n_samples=2000, n_tasks=2, noise=0.0,
                                             random_state=5)
    X1, y1, _, _ = make_multitask_regression(n_samples=2000, n_tasks=2, noise=0.5,
                                             random_state=5)
    np.testing.assert_array_equal(X0, X1)
    assert abs(np.std(y1 - y0) - 0.5) < 0.03


def test_covariate_shift_changes_inputs_not_function():
    X, y, task, A = make_multitask_regression(n_samples=500, n_tasks=4,
                                              structure="covariate_shift",
                                              random_state=0)
    np.testing.assert_allclose(A, np.ones((4, 4)))
    means = np.array([X[task == t].mean(axis=0) for t in range(4)])
    np.testing.assert_allclose(np.linalg.norm(means, axis=1), 1.5, atol=0.25)
    gaps = [np.linalg.norm(means[s] - means[t]) for s in range(4) for t in range(s)]
    assert min(gaps) > 0.5
    # Within each task the inputs stay unit-variance Gaussians.
    np.testing.assert_allclose(X[task == 0].std(axis=0), 1.0, atol=0.15)


def test_other_structures_share_the_input_distribution():
    X, _, task, _ = make_multitask_regression(n_samples=500, n_tasks=3,
                                              structure="clustered", random_state=0)
    for t in range(3):
        assert np.linalg.norm(X[task == t].mean(axis=0)) < 0.3


def test_imbalanced_tasks():
    X, y, task, A = make_multitask_regression(n_samples=[5, 10, 40], n_tasks=3,
                                              structure="low_rank", rank=1,
                                              random_state=0)
    assert np.array_equal(np.bincount(task), [5, 10, 40])
    assert X.shape == (55, 5) and y.shape == (55,)


def test_classification_labels_binary_and_balanced():
    _, y, task, _ = make_multitask_classification(n_samples=200, n_tasks=5,
                                                  flip_y=0.0, random_state=0)
    assert y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
    for t in range(5):
        assert y[task == t].mean() == pytest.approx(0.5)
    _, Y, _ = make_multitask_classification(n_samples=101, n_tasks=3,
                                            shared_inputs=True, flip_y=0.1,
                                            random_state=0)
    assert set(np.unique(Y)) <= {0, 1}
    assert np.all(np.abs(Y.mean(axis=0) - 0.5) < 0.1)


def test_classification_flip_fraction():
    clean = make_multitask_classification(n_samples=2000, n_tasks=2, flip_y=0.0,
                                          random_state=7)[1]
    noisy = make_multitask_classification(n_samples=2000, n_tasks=2, flip_y=0.2,
                                          random_state=7)[1]
    assert abs(np.mean(clean != noisy) - 0.2) < 0.03


def test_classification_covariate_shift_uses_one_threshold():
    _, y, task, _ = make_multitask_classification(n_samples=300, n_tasks=4,
                                                  structure="covariate_shift",
                                                  flip_y=0.0, random_state=0)
    assert y.mean() == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"structure": "banana"}, ValueError,
     r"structure must be one of .*'clustered'.*got 'banana'"),
    ({"n_clusters": 9, "n_tasks": 4}, ValueError,
     r"n_clusters must be <= n_tasks; got n_clusters=9 with n_tasks=4"),
    ({"n_samples": [10, 20], "n_tasks": 3}, ValueError,
     r"one sample count per task \(length n_tasks=3\); got shape \(2,\)"),
    ({"n_samples": [10, 0, 5], "n_tasks": 3}, ValueError, r"integers >= 1"),
    ({"n_samples": [10, 10], "n_tasks": 2, "shared_inputs": True}, TypeError,
     r"shared_inputs=True, n_samples must be an int"),
    ({"structure": "covariate_shift", "shared_inputs": True}, ValueError,
     r"covariate_shift.*shared_inputs=False"),
    ({"correlation": 1.5}, ValueError, r"correlation must lie in \[0.0, 1.0\]; got 1.5"),
    ({"noise": -1.0}, ValueError, r"noise must lie in"),
    ({"length_scale": 0.0}, ValueError, r"length_scale must lie in \(0.0"),
    ({"structure": "low_rank", "rank": 5, "n_tasks": 3}, ValueError,
     r"rank must be <= n_tasks"),
    ({"n_tasks": 0}, ValueError, r"n_tasks must be an integer >= 1; got 0"),
    ({"n_features": 2.5}, TypeError, r"n_features must be an integer"),
    ({"structure": "negative", "n_tasks": 1}, ValueError, r"n_tasks >= 2"),
])
def test_regression_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_multitask_regression(**kwargs)


def test_classification_bad_flip_y():
    with pytest.raises(ValueError, match=r"flip_y must lie in \[0.0, 1.0\]; got 2.0"):
        make_multitask_classification(flip_y=2.0)


# ---------------------------------------------------------------------------
# Data home
# ---------------------------------------------------------------------------
def test_get_data_home_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("RKHSMTL_DATA", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("RKHSMTL_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == tmp_path / "xdg" / "rkhsmtl"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / ".cache" / "rkhsmtl"


# ---------------------------------------------------------------------------
# Real benchmark files
# ---------------------------------------------------------------------------
def test_load_school_real():
    path = _shared_file("school.npz")
    bunch = load_school(path.parent, download_if_missing=False)
    assert bunch.data.shape == (15362, 27) and bunch.data.dtype == np.float64
    assert bunch.target.shape == (15362,) and bunch.task.dtype == np.int64
    assert len(bunch.feature_names) == 27 and len(bunch.task_names) == 139
    assert np.unique(bunch.task).size == 139
    assert "ILEA" in bunch.DESCR and "duplicate" in bunch.DESCR
    X, y, task = load_school(path.parent, return_X_y=True)
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(task, bunch.task)


def test_load_landmine_real():
    path = _shared_file("landmine.npz")
    bunch = load_landmine(path.parent, download_if_missing=False)
    assert bunch.data.shape == (14820, 9)
    assert np.unique(bunch.task).size == 29 and len(bunch.task_names) == 29
    assert set(np.unique(bunch.target)) == {0.0, 1.0}
    assert bunch.terrain.shape == (29,) and bunch.terrain[0] == "foliated"
    assert "imbalanced" in bunch.DESCR


def test_load_sarcos_real():
    path = _shared_file("sarcos_test_only.npz")
    bunch = load_sarcos(path.parent, download_if_missing=False)
    assert bunch.data_wide.shape == (4449, 21)
    assert bunch.target_wide.shape == (4449, 7)
    assert len(bunch.task_names) == 7 and bunch.data.shape == (7 * 4449, 21)
    np.testing.assert_array_equal(bunch.target[bunch.task == 2], bunch.target_wide[:, 2])
    assert "TEST" in bunch.DESCR


def test_env_variable_is_searched(monkeypatch):
    path = _shared_file("landmine.npz")
    monkeypatch.setenv("RKHSMTL_DATA", str(path.parent))
    X, y, task = load_landmine(return_X_y=True, download_if_missing=False)
    assert X.shape == (14820, 9)


# ---------------------------------------------------------------------------
# Missing files, downloads, conversion and checksums
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("loader, filename", [(load_school, "school.npz"),
                                              (load_landmine, "landmine.npz"),
                                              (load_sarcos, "sarcos_test_only.npz")])
def test_missing_file_offline_raises_with_fix(loader, filename, tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        loader(tmp_path)
    message = str(info.value)
    assert filename in message and str(tmp_path) in message
    assert "https://raw.githubusercontent.com/" in message
    assert f"set RKHSMTL_DATA to a folder holding {filename}" in message
    assert "network disabled" in message  # the download failure reason
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / filename).exists()


def test_missing_file_without_download(tmp_path):
    def forbidden(url, dest, timeout=None):
        raise AssertionError("no download expected")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_loaders, "_download_file", forbidden)
        with pytest.raises(DatasetNotFoundError, match="download_if_missing=False"):
            load_school(tmp_path, download_if_missing=False)


def test_default_dirs_are_listed(monkeypatch, tmp_path):
    monkeypatch.setenv("RKHSMTL_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_landmine()
    assert str(tmp_path / "env") in str(info.value)
    assert str(tmp_path / "xdg" / "rkhsmtl") in str(info.value)


def _cells(blocks):
    """A MATLAB 1 x T cell array as scipy.io.savemat expects it."""
    cells = np.empty((1, len(blocks)), dtype=object)
    for t, block in enumerate(blocks):
        cells[0, t] = block
    return cells


def _split(npz, key, dtype):
    task = npz["task"]
    values = npz[key]
    return [np.asarray(values[task == t], dtype=dtype).reshape(np.sum(task == t), -1)
            for t in range(task.max() + 1)]


def _fake_original(name, npz_path, dest, corrupt=False):
    """Rebuild the original .mat layout (see the shared data README)."""
    npz = np.load(npz_path)
    if name == "school":
        xs = [np.hstack([x, np.ones((len(x), 1))]).astype(np.uint8)
              for x in _split(npz, "X", np.float64)]
        ys = _split(npz, "y", np.uint8)
        if corrupt:
            ys[0][0, 0] += 1
        savemat(dest, {"X": _cells(xs), "Y": _cells(ys)})
    elif name == "landmine":
        labels = _split(npz, "y", np.uint8)
        if corrupt:
            labels[3][0, 0] = 1 - labels[3][0, 0]
        savemat(dest, {"feature": _cells(_split(npz, "X", np.float64)),
                       "label": _cells(labels)})
    else:
        M = np.hstack([npz["X_test"], npz["Y_test"]])
        if corrupt:
            M[0, -1] += 1.0
        savemat(dest, {"sarcos_inv_test": M})


CASES = [("school", load_school, "school.npz", "school.mat"),
         ("landmine", load_landmine, "landmine.npz", "LandmineData.mat"),
         ("sarcos", load_sarcos, "sarcos_test_only.npz", "sarcos_inv_test.mat")]


def _assert_same_bunch(a, b):
    assert set(a) == set(b)
    for key in a:
        if key in ("filename",):
            continue
        if isinstance(a[key], np.ndarray):
            np.testing.assert_array_equal(a[key], b[key])
        else:
            assert a[key] == b[key]


@pytest.mark.parametrize("name, loader, filename, original", CASES)
def test_download_conversion_and_checksum(name, loader, filename, original,
                                          tmp_path, monkeypatch):
    shared = _shared_file(filename)
    source = tmp_path / "upstream" / original
    source.parent.mkdir()
    _fake_original(name, shared, source)
    calls = []

    def fake_download(url, dest, timeout=None):
        calls.append(url)
        Path(dest).write_bytes(source.read_bytes())

    monkeypatch.setattr(_loaders, "_download_file", fake_download)
    home = tmp_path / "home"  # does not exist yet: must be created
    converted = loader(home)
    assert len(calls) == 1 and calls[0].endswith(original)
    assert (home / filename).is_file()
    assert not (home / original).exists()  # the download is not kept
    _assert_same_bunch(converted, loader(shared.parent))
    # A second call uses the saved file, with no new download.
    loader(home)
    assert len(calls) == 1


def test_local_original_is_converted_offline(tmp_path):
    shared = _shared_file("sarcos_test_only.npz")
    _fake_original("sarcos", shared, tmp_path / "sarcos_inv_test.mat")
    bunch = load_sarcos(tmp_path, download_if_missing=False)
    assert bunch.target_wide.shape == (4449, 7)
    assert (tmp_path / "sarcos_test_only.npz").is_file()


@pytest.mark.parametrize("name, loader, filename, original", CASES)
def test_checksum_mismatch_raises(name, loader, filename, original, tmp_path,
                                  monkeypatch):
    shared = _shared_file(filename)
    source = tmp_path / original
    _fake_original(name, shared, source, corrupt=True)
    monkeypatch.setattr(_loaders, "_download_file",
                        lambda url, dest, timeout=None:
                        Path(dest).write_bytes(source.read_bytes()))
    home = tmp_path / "home"
    with pytest.raises(DatasetChecksumError, match=r"Checksum mismatch for .*expected sha256"):
        loader(home)
    assert not (home / filename).exists()


def test_mirror_fallback(tmp_path, monkeypatch):
    shared = _shared_file("sarcos_test_only.npz")
    source = tmp_path / "sarcos_inv_test.mat"
    _fake_original("sarcos", shared, source)
    tried = []

    def flaky(url, dest, timeout=None):
        tried.append(url)
        if len(tried) == 1:
            raise OSError("HTTP 404")
        Path(dest).write_bytes(source.read_bytes())

    monkeypatch.setattr(_loaders, "_download_file", flaky)
    assert load_sarcos(tmp_path / "home").data_wide.shape == (4449, 21)
    assert len(tried) == 2 and "cogp" in tried[1]


def test_bad_original_layout_raises(tmp_path, monkeypatch):
    source = tmp_path / "school.mat"
    savemat(source, {"something_else": np.zeros((2, 2))})
    monkeypatch.setattr(_loaders, "_download_file",
                        lambda url, dest, timeout=None:
                        Path(dest).write_bytes(source.read_bytes()))
    with pytest.raises(DatasetNotFoundError, match=r"could not be converted.*'X'"):
        load_school(tmp_path / "home")


# ---------------------------------------------------------------------------
# User tables
# ---------------------------------------------------------------------------
def _write_csv(path):
    path.write_text("a,b,site,score\n"
                    "1.0,2.0,north,3.5\n"
                    "0.5,1.5,south,2.0\n"
                    "2.0,0.0,north,1.0\n")
    return path


def test_load_table_csv(tmp_path):
    bunch = load_table(_write_csv(tmp_path / "t.csv"), task_column="site", target="score")
    np.testing.assert_array_equal(bunch.data, [[1.0, 2.0], [0.5, 1.5], [2.0, 0.0]])
    np.testing.assert_array_equal(bunch.target, [3.5, 2.0, 1.0])
    assert bunch.task.dtype == np.int64 and bunch.task.tolist() == [0, 1, 0]
    assert bunch.feature_names == ["a", "b"] and bunch.task_names == ["north", "south"]


def test_load_table_csv_single_task(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("a,score\n1,2\n3,4\n")
    bunch = load_table(path, target="score")
    assert bunch.feature_names == ["a"] and bunch.task_names == ["task_0"]
    assert bunch.task.tolist() == [0, 0]
    # Without task_column, a text column is a (non-numeric) feature.
    with pytest.raises(ValueError, match=r"must be numeric; \['site'\]"):
        load_table(_write_csv(tmp_path / "t.csv"), target="score")


def test_load_table_csv_errors(tmp_path):
    path = _write_csv(tmp_path / "t.csv")
    with pytest.raises(ValueError, match=r"target='y' is not a column.*\['a', 'b', 'site', 'score'\]"):
        load_table(path, task_column="site", target="y")
    with pytest.raises(ValueError, match=r"task_column='school' is not a column.*available"):
        load_table(path, task_column="school", target="score")
    with pytest.raises(ValueError, match=r"target must name the target column"):
        load_table(path, task_column="site")


def test_load_table_npz_long_and_wide(tmp_path):
    long_path = tmp_path / "long.npz"
    np.savez(long_path, X=np.arange(8.0).reshape(4, 2), y=np.arange(4.0),
             task=np.array([10, 10, 30, 30]))
    bunch = load_table(long_path)
    assert bunch.task.tolist() == [0, 0, 1, 1] and bunch.task_names == ["10", "30"]
    assert bunch.feature_names == ["x0", "x1"]

    wide_path = tmp_path / "wide.npz"
    np.savez(wide_path, X_wide=np.ones((5, 3)), Y_wide=np.arange(10.0).reshape(5, 2))
    bunch = load_table(wide_path)
    assert bunch.data.shape == (10, 3) and bunch.task.tolist() == [0] * 5 + [1] * 5
    np.testing.assert_array_equal(bunch.target[5:], [1, 3, 5, 7, 9])
    assert bunch.target_wide.shape == (5, 2)


def test_load_table_npz_matches_benchmark_loader():
    path = _shared_file("landmine.npz")
    bunch = load_table(path)
    reference = load_landmine(path.parent, download_if_missing=False)
    np.testing.assert_array_equal(bunch.data, reference.data)
    assert bunch.task_names == reference.task_names


def test_load_table_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "absent.csv", target="y")
    bad = tmp_path / "bad.npz"
    np.savez(bad, features=np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"expected arrays X, y, task.*found \['features'\]"):
        load_table(bad)
    other = tmp_path / "data.txt"
    other.write_text("x")
    with pytest.raises(ValueError, match=r"Unsupported file type '.txt'"):
        load_table(other)
