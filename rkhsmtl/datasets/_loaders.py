"""Loaders for the classic multi-task benchmarks and for user tables.

The benchmarks are stored as ``.npz`` files (layout: long format ``X``,
``y``, ``task``, ``feature_names``, ``task_names``; see :func:`load_school`).
When a file is missing it is rebuilt from the original public ``.mat`` file:
downloaded, converted to the same arrays, checked against a SHA-256 digest
of those arrays, and saved in the data home.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.utils import Bunch

__all__ = [
    "DatasetNotFoundError",
    "DatasetChecksumError",
    "get_data_home",
    "load_school",
    "load_landmine",
    "load_sarcos",
    "load_table",
]

_ENV_VAR = "RKHSMTL_DATA"
_DOWNLOAD_TIMEOUT_S = 60


class DatasetNotFoundError(FileNotFoundError):
    """A data set file is absent locally and could not be downloaded.

    Examples
    --------
    >>> from rkhsmtl.datasets import DatasetNotFoundError
    >>> issubclass(DatasetNotFoundError, FileNotFoundError)
    True
    >>> try:
    ...     raise DatasetNotFoundError("school.npz not found")
    ... except FileNotFoundError as exc:
    ...     print(exc)
    school.npz not found
    """


class DatasetChecksumError(DatasetNotFoundError):
    """A downloaded data set does not match its recorded checksum.

    A subclass of :class:`DatasetNotFoundError` because, either way, no
    trustworthy copy of the file is available.

    Examples
    --------
    >>> from rkhsmtl.datasets import DatasetChecksumError, DatasetNotFoundError
    >>> issubclass(DatasetChecksumError, DatasetNotFoundError)
    True
    """


# ---------------------------------------------------------------------------
# Data home
# ---------------------------------------------------------------------------
def _default_cache_dir():
    """``$XDG_CACHE_HOME/rkhsmtl``, falling back to ``~/.cache/rkhsmtl``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(base).expanduser() / "rkhsmtl"


def get_data_home(data_home=None):
    """Return the folder where rkhsmtl looks for (and saves) data sets.

    Resolution order: the ``data_home`` argument, else the environment
    variable ``RKHSMTL_DATA``, else ``$XDG_CACHE_HOME/rkhsmtl`` (default
    ``~/.cache/rkhsmtl``). The folder is not created here; it is created
    only when a downloaded file is saved.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Explicit folder; ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        The data folder.

    Examples
    --------
    >>> from rkhsmtl.datasets import get_data_home
    >>> str(get_data_home("/tmp/mtl-data"))
    '/tmp/mtl-data'
    """
    if data_home is not None:
        return Path(os.fspath(data_home)).expanduser()
    env = os.environ.get(_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return _default_cache_dir()


def _search_dirs(data_home):
    """Folders searched for a data file, in order; the first one is where a
    downloaded file is saved.

    An explicit ``data_home`` is searched alone (the caller asked for that
    folder); otherwise both ``RKHSMTL_DATA`` (if set) and the user cache are
    searched, so a file put in either place is found.
    """
    if data_home is not None:
        return [get_data_home(data_home)]
    dirs = [get_data_home()]
    cache = _default_cache_dir()
    if cache not in dirs:
        dirs.append(cache)
    return dirs


# ---------------------------------------------------------------------------
# Canonical arrays, checksums, downloads
# ---------------------------------------------------------------------------
def _checksum(X, y, task):
    """SHA-256 of X, y (float64) and task (int64), little-endian, in order.

    Hashing the canonical arrays rather than the ``.mat`` bytes ties the
    digest to the content we use, independent of the container format.
    """
    digest = hashlib.sha256()
    for array, dtype in ((X, "<f8"), (y, "<f8"), (task, "<i8")):
        digest.update(np.ascontiguousarray(array, dtype=dtype).tobytes())
    return digest.hexdigest()


def _download_file(url, dest, timeout=_DOWNLOAD_TIMEOUT_S):
    """Download ``url`` to the path ``dest`` (raises ``OSError`` on failure).

    Kept as a small module-level function so tests can replace it and never
    touch the network.
    """
    with urllib.request.urlopen(url, timeout=timeout) as response, \
            open(dest, "wb") as out:
        shutil.copyfileobj(response, out)


def _load_mat(path):
    """Read a MATLAB v5 file; v7.3 (HDF5) files are not supported."""
    from scipy.io import loadmat

    try:
        return loadmat(path)
    except NotImplementedError as exc:  # v7.3 needs h5py
        raise ValueError(f"{path} is a MATLAB v7.3 file, which scipy cannot read.") from exc


def _cells(mat, key, n_cells):
    """List of the arrays of a 1 x n MATLAB cell array, with a layout check."""
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"expected a variable {key!r} in the .mat file; found {found}")
    cells = np.asarray(mat[key])
    if cells.dtype != object or cells.size != n_cells:
        raise ValueError(
            f"expected {key!r} to be a cell array of {n_cells} entries; got "
            f"dtype {cells.dtype} and shape {cells.shape}"
        )
    return [np.asarray(c) for c in cells.ravel()]


def _stack_tasks(xs, ys):
    """Long format from per-task blocks, tasks in cell order."""
    X = np.vstack([np.asarray(x, dtype=np.float64) for x in xs])
    y = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in ys])
    task = np.repeat(np.arange(len(xs), dtype=np.int64), [len(x) for x in xs])
    return X, y, task


# ---------------------------------------------------------------------------
# Per-data-set conversions from the original .mat files
# ---------------------------------------------------------------------------
_SCHOOL_FEATURES = (
    ["year_1985", "year_1986", "year_1987", "pct_fsm", "pct_vr1_band",
     "gender_male", "gender_female", "vr_band_VR3", "vr_band_VR1", "vr_band_VR2"]
    + ["ethnic_" + e for e in ("ESWI", "African", "Arab", "Bangladeshi", "Caribbean",
                               "Greek", "Indian", "Pakistani", "SE_Asian", "Turkish",
                               "Other")]
    + ["school_gender_mixed", "school_gender_male", "school_gender_female",
       "school_denom_maintained", "school_denom_CofE", "school_denom_RC"]
)
_N_SCHOOLS = 139
_N_FIELDS = 29
_N_FOLIATED = 15
_N_JOINTS = 7


def _convert_school(mat):
    xs = _cells(mat, "X", _N_SCHOOLS)
    ys = _cells(mat, "Y", _N_SCHOOLS)
    X, y, task = _stack_tasks(xs, ys)
    # Column 28 (index 27) is the constant bias of ones: estimators add their
    # own intercept, and a constant column would only distort kernels.
    if X.shape[1] != 28 or not np.all(X[:, 27] == 1):
        raise ValueError("expected 28 columns in school.mat with a constant last column")
    return {
        "X": X[:, :27], "y": y, "task": task,
        "feature_names": np.array(_SCHOOL_FEATURES),
        "task_names": np.array([f"school_{t + 1:03d}" for t in range(_N_SCHOOLS)]),
    }


def _convert_landmine(mat):
    X, y, task = _stack_tasks(_cells(mat, "feature", _N_FIELDS),
                              _cells(mat, "label", _N_FIELDS))
    terrain = ["foliated"] * _N_FOLIATED + ["bare_or_desert"] * (_N_FIELDS - _N_FOLIATED)
    return {
        "X": X, "y": y, "task": task,
        "feature_names": np.array([f"f{j + 1}" for j in range(X.shape[1])]),
        "task_names": np.array([f"field_{t + 1:02d}" for t in range(_N_FIELDS)]),
        "terrain": np.array(terrain),
    }


def _convert_sarcos(mat):
    key = "sarcos_inv_test"
    if key not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise ValueError(f"expected a variable {key!r} in the .mat file; found {found}")
    M = np.asarray(mat[key], dtype=np.float64)
    if M.ndim != 2 or M.shape[1] != 3 * _N_JOINTS + _N_JOINTS:
        raise ValueError(f"expected {key!r} with 28 columns; got shape {M.shape}")
    X_test, Y_test = M[:, :3 * _N_JOINTS], M[:, 3 * _N_JOINTS:]
    n = X_test.shape[0]
    # Long format: one stacked copy of the shared inputs per torque.
    return {
        "X_test": X_test, "Y_test": Y_test,
        "X": np.tile(X_test, (_N_JOINTS, 1)),
        "y": Y_test.T.ravel(),
        "task": np.repeat(np.arange(_N_JOINTS, dtype=np.int64), n),
        "feature_names": np.array([f"{p}q{j}" for p in ("", "d", "dd")
                                   for j in range(1, _N_JOINTS + 1)]),
        "task_names": np.array([f"torque_{j}" for j in range(1, _N_JOINTS + 1)]),
    }


# ---------------------------------------------------------------------------
# Data set registry
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _RemoteDataset:
    """Where a benchmark comes from and how to rebuild its ``.npz``."""

    filename: str
    original: str
    urls: tuple
    sha256: str
    convert: Callable = field(repr=False)
    descr: str = field(repr=False)


_SCHOOL_DESCR = """\
School (ILEA) multi-task regression
-----------------------------------
Exam scores (integers 1..70) of 15362 students in 139 London secondary
schools, 1985-87 (Inner London Education Authority; Goldstein 1991). One
task per school; 27 features. Used in MTL by Evgeniou & Pontil (2004) and
Argyriou et al. (2008). Source: MALSAR (jiayuzhou/MALSAR, data/school.mat).

Caveats: the constant bias column of the .mat file was dropped. Features
are raw (one-hot categoricals plus two integer school-level percentages),
not standardized. The feature names are inferred from the ILEA codebook,
assuming the one-hot blocks follow its code order: unverified. 1855 rows
are exact duplicates (distinct students with identical profile and score).
There is no official split; papers use random per-task splits (e.g. 75/25
repeated 10 times).
"""

_LANDMINE_DESCR = """\
Landmine detection multi-task classification
--------------------------------------------
14820 radar measurements from 29 landmine fields (Xue, Liao, Carin &
Krishnapuram, JMLR 2007). One task per field; 9 features; target 1 =
landmine, 0 = clutter. Source: daizhongxiang/Federated_Bayesian_Optimization
(LandmineData.mat).

Caveats: labels are strongly imbalanced (about 6% positives); use e.g.
AUC. Features already look standardized (global mean about 0). ``terrain``
follows the original paper: fields 1-15 foliated, 16-29 bare earth or
desert. One feature row is duplicated. No official split.
"""

_SARCOS_DESCR = """\
SARCOS inverse dynamics (official test file only)
-------------------------------------------------
4449 states of a 7-DoF SARCOS robot arm (Vijayakumar & Schaal 2000;
Rasmussen & Williams 2006). Inputs: 7 joint positions, 7 velocities,
7 accelerations (21 features); targets: the 7 joint torques, one task
each. All tasks share the inputs: ``data_wide`` (4449, 21) and
``target_wide`` (4449, 7); the long format stacks 7 copies of the inputs
(31143 rows). Source: probml/pmtkdata (sarcos_inv_test.mat).

Caveats: only the official TEST file; the 44484-row training file could not
be obtained, so results are not comparable to published SARCOS numbers.
Values are raw (not standardized).
"""

_DATASETS = {
    "school": _RemoteDataset(
        filename="school.npz",
        original="school.mat",
        urls=("https://raw.githubusercontent.com/jiayuzhou/MALSAR/master/data/school.mat",),
        sha256="08f03eaa8e67eceff2c7c324332e0b9a89af92ad91d3f4503e6d8990c3a333c8",
        convert=_convert_school,
        descr=_SCHOOL_DESCR,
    ),
    "landmine": _RemoteDataset(
        filename="landmine.npz",
        original="LandmineData.mat",
        urls=("https://raw.githubusercontent.com/daizhongxiang/"
              "Federated_Bayesian_Optimization/master/LandmineData.mat",),
        sha256="faca8cc91fe80b1bf9a8fed815a5887cf66246951ae83efa7cf4d919ea9203c6",
        convert=_convert_landmine,
        descr=_LANDMINE_DESCR,
    ),
    "sarcos": _RemoteDataset(
        filename="sarcos_test_only.npz",
        original="sarcos_inv_test.mat",
        # The same blob is mirrored in trungngv/cogp; try it if pmtkdata fails.
        urls=("https://raw.githubusercontent.com/probml/pmtkdata/master/sarcos_inv_test.mat",
              "https://raw.githubusercontent.com/trungngv/cogp/master/data/sarcos/"
              "sarcos_inv_test.mat"),
        sha256="65f0e4080b28a7d2b4073789f762b00e4e1b5727d8252c994fb04115a0275f42",
        convert=_convert_sarcos,
        descr=_SARCOS_DESCR,
    ),
}


# ---------------------------------------------------------------------------
# Fetching
# ---------------------------------------------------------------------------
def _not_found_message(spec, dirs, reason):
    """One message: what is missing, where we looked, why, and the fix."""
    searched = ", ".join(str(d) for d in dirs)
    urls = " or ".join(spec.urls)
    return (
        f"Data set file {spec.filename!r} not found (searched: {searched}). "
        f"{reason} Source URL: {urls}. To fix: put {spec.filename} in "
        f"{dirs[0]}, or set {_ENV_VAR} to a folder holding {spec.filename} "
        f"(or pass data_home=<that folder>); alternatively download "
        f"{spec.original} from the URL by hand into {dirs[0]}, and it is "
        f"converted on the next call."
    )


def _fetch_original(spec, work_dir):
    """Download the original file into ``work_dir``; return (path, url).

    Tries every mirror; raises ``OSError`` listing all failure reasons.
    """
    reasons = []
    for url in spec.urls:
        dest = Path(work_dir) / spec.original
        try:
            _download_file(url, dest)
            return dest, url
        except Exception as exc:  # any failure means "try the next mirror"
            reasons.append(f"{url}: {type(exc).__name__}: {exc}")
    raise OSError("; ".join(reasons))


def _save_npz(arrays, path):
    """Write ``arrays`` to ``path`` atomically (no half-written file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.part")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _convert_original(spec, mat_path, source, dirs):
    """Convert an original ``.mat`` file, verify it, save the ``.npz``.

    ``source`` (a URL or a local path) only serves the error messages.
    """
    try:
        arrays = spec.convert(_load_mat(mat_path))
    except Exception as exc:
        raise DatasetNotFoundError(_not_found_message(
            spec, dirs, f"The original file from {source} could not be "
            f"converted ({exc}); its layout may have changed.")) from exc
    digest = _checksum(arrays["X"], arrays["y"], arrays["task"])
    if digest != spec.sha256:
        raise DatasetChecksumError(
            f"Checksum mismatch for {spec.filename} rebuilt from {source}: "
            f"expected sha256 {spec.sha256}, got {digest}. The file changed "
            f"upstream or is corrupt, so nothing was saved. To fix: obtain a "
            f"trusted copy of {spec.filename} and put it in {dirs[0]} (or set "
            f"{_ENV_VAR} to a folder holding it)."
        )
    target = dirs[0] / spec.filename
    try:
        _save_npz(arrays, target)
    except OSError as exc:
        raise DatasetNotFoundError(_not_found_message(
            spec, dirs, f"It was converted but could not be saved to "
            f"{target} ({exc}).")) from exc
    return target


def _download_and_convert(spec, dirs):
    """Rebuild ``spec.filename`` from its original source; return its path."""
    with tempfile.TemporaryDirectory() as work_dir:
        try:
            mat_path, url = _fetch_original(spec, work_dir)
        except OSError as exc:
            raise DatasetNotFoundError(_not_found_message(
                spec, dirs, f"Downloading it failed ({exc}).")) from exc
        return _convert_original(spec, mat_path, url, dirs)


def _find_first(dirs, filename):
    for folder in dirs:
        candidate = folder / filename
        if candidate.is_file():
            return candidate
    return None


def _locate(name, data_home, download_if_missing):
    """Path of a benchmark ``.npz``: found, converted from a local original
    ``.mat`` (for offline machines), or downloaded and converted."""
    spec = _DATASETS[name]
    dirs = _search_dirs(data_home)
    found = _find_first(dirs, spec.filename)
    if found is not None:
        return found, spec
    original = _find_first(dirs, spec.original)
    if original is not None:
        return _convert_original(spec, original, original, dirs), spec
    if not download_if_missing:
        raise DatasetNotFoundError(_not_found_message(
            spec, dirs, "download_if_missing=False, so no download was tried."))
    return _download_and_convert(spec, dirs), spec


def _str_list(array):
    return [str(v) for v in np.asarray(array).tolist()]


def _bunch_from_npz(path, descr):
    """Common Bunch of a long-format ``.npz`` (benchmark layout)."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    bunch = Bunch(
        data=np.asarray(arrays.pop("X"), dtype=np.float64),
        target=np.asarray(arrays.pop("y"), dtype=np.float64),
        task=np.asarray(arrays.pop("task"), dtype=np.int64),
        feature_names=_str_list(arrays.pop("feature_names")),
        task_names=_str_list(arrays.pop("task_names")),
        DESCR=descr,
        filename=str(path),
    )
    return bunch, arrays


def _load_benchmark(name, data_home, return_X_y, download_if_missing):
    path, spec = _locate(name, data_home, download_if_missing)
    bunch, extra = _bunch_from_npz(path, spec.descr)
    if return_X_y:
        return bunch.data, bunch.target, bunch.task
    return bunch, extra


_LOADER_PARAMS_DOC = """\
    data_home : str or path-like, default=None
        Folder holding the file. Default: ``RKHSMTL_DATA`` if set, then
        ``$XDG_CACHE_HOME/rkhsmtl`` (``~/.cache/rkhsmtl``); see
        :func:`get_data_home`.
    return_X_y : bool, default=False
        If True, return ``(X, y, task)`` instead of a Bunch.
    download_if_missing : bool, default=True
        If the file is absent, download the original ``.mat`` file, convert
        it, verify its checksum and save the ``.npz`` in the data home. An
        original ``.mat`` already present in the data home is converted
        without downloading.
"""

_RAISES_DOC = """\
    Raises
    ------
    DatasetNotFoundError
        If the file is absent and cannot be downloaded (offline, or
        ``download_if_missing=False``); the message says where to put it.
    DatasetChecksumError
        If a downloaded file does not match the recorded checksum.
"""


def load_school(data_home=None, *, return_X_y=False, download_if_missing=True):
    """Load the School (ILEA exam scores) multi-task regression data set.

    139 tasks (schools), 15362 students, 27 features, target = exam score.
    File: ``school.npz``.

    Parameters
    ----------
{params}
    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (15362, 27) float64, ``target`` (15362,) float64, ``task``
        (15362,) int64 in 0..138, ``feature_names`` (27 str),
        ``task_names`` (139 str), ``DESCR`` (provenance and caveats) and
        ``filename``.
    (X, y, task) : tuple of ndarray
        If ``return_X_y`` is True.

{raises}
    Examples
    --------
    >>> from rkhsmtl.datasets import load_school
    >>> school = load_school()  # doctest: +SKIP
    >>> school.data.shape, len(school.task_names)  # doctest: +SKIP
    ((15362, 27), 139)
    """
    if return_X_y:
        return _load_benchmark("school", data_home, True, download_if_missing)
    bunch, _ = _load_benchmark("school", data_home, False, download_if_missing)
    return bunch


def load_landmine(data_home=None, *, return_X_y=False, download_if_missing=True):
    """Load the Landmine detection multi-task classification data set.

    29 tasks (landmine fields), 14820 samples, 9 features, binary target
    (1 = landmine, about 6% positives). File: ``landmine.npz``.

    Parameters
    ----------
{params}
    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (14820, 9) float64, ``target`` (14820,) float64 in {{0, 1}},
        ``task`` (14820,) int64 in 0..28, ``feature_names``, ``task_names``,
        ``terrain`` (29,) str array (``"foliated"`` or ``"bare_or_desert"``
        per field), ``DESCR`` and ``filename``.
    (X, y, task) : tuple of ndarray
        If ``return_X_y`` is True.

{raises}
    Examples
    --------
    >>> from rkhsmtl.datasets import load_landmine
    >>> mines = load_landmine()  # doctest: +SKIP
    >>> mines.data.shape, mines.terrain[0]  # doctest: +SKIP
    ((14820, 9), 'foliated')
    """
    if return_X_y:
        return _load_benchmark("landmine", data_home, True, download_if_missing)
    bunch, extra = _load_benchmark("landmine", data_home, False, download_if_missing)
    bunch.terrain = extra["terrain"].astype(str)
    return bunch


def load_sarcos(data_home=None, *, return_X_y=False, download_if_missing=True):
    """Load the SARCOS inverse-dynamics data set (official test file only).

    7 tasks (joint torques) sharing 4449 inputs of 21 features. The long
    format stacks 7 copies of the inputs (31143 rows); the wide format is in
    ``data_wide`` / ``target_wide``. File: ``sarcos_test_only.npz``.

    Parameters
    ----------
{params}
    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (31143, 21), ``target`` (31143,), ``task`` (31143,) int64
        in 0..6, ``data_wide`` (4449, 21), ``target_wide`` (4449, 7),
        ``feature_names`` (q1..q7, dq1..dq7, ddq1..ddq7), ``task_names``
        (torque_1..torque_7), ``DESCR`` and ``filename``.
    (X, y, task) : tuple of ndarray
        Long format, if ``return_X_y`` is True.

{raises}
    Notes
    -----
    The official 44484-row training file is not included (it could not be
    obtained), so scores are not comparable with published SARCOS results;
    split this file yourself.

    Examples
    --------
    >>> from rkhsmtl.datasets import load_sarcos
    >>> sarcos = load_sarcos()  # doctest: +SKIP
    >>> sarcos.data_wide.shape, sarcos.target_wide.shape  # doctest: +SKIP
    ((4449, 21), (4449, 7))
    """
    if return_X_y:
        return _load_benchmark("sarcos", data_home, True, download_if_missing)
    bunch, extra = _load_benchmark("sarcos", data_home, False, download_if_missing)
    # The shared inputs are stored as X_test/Y_test (the official test file);
    # accept X_wide/Y_wide too, the generic wide-format names.
    for wide, stored in (("data_wide", ("X_wide", "X_test")),
                         ("target_wide", ("Y_wide", "Y_test"))):
        key = next((k for k in stored if k in extra), None)
        if key is None:
            raise ValueError(
                f"{bunch.filename} lacks the wide-format arrays {' or '.join(stored)}; "
                f"delete it so that it is rebuilt from the original source."
            )
        bunch[wide] = np.asarray(extra[key], dtype=np.float64)
    return bunch


# ---------------------------------------------------------------------------
# User tables
# ---------------------------------------------------------------------------
def _encode_tasks(labels):
    """Task labels -> (int64 codes in 0..T-1, sorted label names as str)."""
    labels = np.asarray(labels)
    try:
        uniques, codes = np.unique(labels, return_inverse=True)
    except TypeError:
        # Mixed label types (e.g. ints and strings) cannot be sorted
        # together; compare them as text instead.
        uniques, codes = np.unique(labels.astype(str), return_inverse=True)
    return codes.astype(np.int64).ravel(), [str(u) for u in uniques.tolist()]


def _wide_to_long(X_wide, Y_wide):
    n, n_tasks = Y_wide.shape
    X = np.tile(X_wide, (n_tasks, 1))
    y = Y_wide.T.ravel()
    task = np.repeat(np.arange(n_tasks, dtype=np.int64), n)
    return X, y, task


def _table_from_npz(path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    extra = {}
    if {"X", "y", "task"} <= arrays.keys():
        X, y = arrays["X"], arrays["y"]
        task, labels = _encode_tasks(arrays["task"])
    elif {"X_wide", "Y_wide"} <= arrays.keys():
        X_wide = np.asarray(arrays["X_wide"], dtype=np.float64)
        Y_wide = np.asarray(arrays["Y_wide"], dtype=np.float64)
        if Y_wide.ndim != 2 or X_wide.ndim != 2 or len(X_wide) != len(Y_wide):
            raise ValueError(
                f"{path}: X_wide must be (n, d) and Y_wide (n, T) with the same "
                f"n; got {X_wide.shape} and {Y_wide.shape}."
            )
        X, y, task = _wide_to_long(X_wide, Y_wide)
        labels = [f"task_{t}" for t in range(Y_wide.shape[1])]
        extra = {"data_wide": X_wide, "target_wide": Y_wide}
    else:
        raise ValueError(
            f"{path}: expected arrays X, y, task (long format) or X_wide, "
            f"Y_wide (wide format); found {sorted(arrays)}. Save the file "
            f"with np.savez(path, X=..., y=..., task=...)."
        )
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{path}: X must be 2-D (n_samples, n_features); got shape {X.shape}.")
    feature_names = (_str_list(arrays["feature_names"]) if "feature_names" in arrays
                     else [f"x{j}" for j in range(X.shape[1])])
    # Names stored with the file win over the raw labels, when they fit.
    if "task_names" in arrays and len(arrays["task_names"]) == len(labels):
        labels = _str_list(arrays["task_names"])
    return X, np.asarray(y, dtype=np.float64).ravel(), task, feature_names, labels, extra


def _check_column(name, role, columns):
    if name not in columns:
        raise ValueError(
            f"{role}={name!r} is not a column of the table; available "
            f"columns: {list(columns)}. Pass one of them."
        )


def _table_from_csv(path, task_column, target):
    try:
        import pandas as pd
    except ImportError as exc:  # pandas is an optional dependency
        raise ImportError("load_table needs pandas to read .csv files: pip install pandas") from exc
    frame = pd.read_csv(path)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if target is None:
        raise ValueError(
            f"target must name the target column of {path}; available "
            f"columns: {columns}. Pass e.g. target={columns[-1]!r}."
        )
    _check_column(target, "target", columns)
    if task_column is not None:
        _check_column(task_column, "task_column", columns)
        if task_column == target:
            raise ValueError(f"task_column and target are both {target!r}; they must differ.")
        if frame[task_column].isna().any():
            raise ValueError(f"task_column {task_column!r} has missing values; fill or drop them.")
        task, labels = _encode_tasks(frame[task_column].to_numpy())
    else:
        # No task column: the whole table is one task.
        task, labels = np.zeros(len(frame), dtype=np.int64), ["task_0"]
    features = [c for c in columns if c not in (target, task_column)]
    non_numeric = [c for c in features if not pd.api.types.is_numeric_dtype(frame[c])]
    if non_numeric:
        raise ValueError(
            f"feature columns must be numeric; {non_numeric} are not. Encode "
            f"them (e.g. pandas.get_dummies) before saving the table."
        )
    X = frame[features].to_numpy(dtype=np.float64)
    y = frame[target].to_numpy(dtype=np.float64)
    return X, y, task, features, labels, {}


def load_table(path, *, task_column=None, target=None):
    """Load a user multi-task data set from a ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file with long-format arrays ``X`` (n, d), ``y`` (n,) and
        ``task`` (n,) (optionally ``feature_names`` and ``task_names``, as in
        the benchmark files), or wide-format ``X_wide`` (n, d) and
        ``Y_wide`` (n, T) (converted to long format by stacking ``T`` copies
        of the inputs). Or a ``.csv`` file with a header row.
    task_column : str, default=None
        CSV only: the column holding the task label of each row. If None,
        the whole table is a single task.
    target : str, default=None
        CSV only (required there): the target column. All other columns
        (except ``task_column``) are features and must be numeric.

    Returns
    -------
    data : sklearn.utils.Bunch
        ``data`` (N, d) float64, ``target`` (N,) float64, ``task`` (N,)
        int64 in 0..T-1, ``feature_names``, ``task_names`` (the sorted
        unique task labels as str; ``task == t`` means label
        ``task_names[t]``), ``DESCR`` and ``filename``; plus ``data_wide``
        and ``target_wide`` for a wide ``.npz``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        For an unsupported extension, missing arrays or columns (the message
        lists the available ones), or non-numeric features.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from rkhsmtl.datasets import load_table
    >>> path = os.path.join(tempfile.mkdtemp(), "toy.npz")
    >>> np.savez(path, X=np.zeros((4, 2)), y=np.arange(4.0),
    ...          task=np.array(["a", "a", "b", "b"]))
    >>> toy = load_table(path)
    >>> toy.task.tolist(), toy.task_names
    ([0, 0, 1, 1], ['a', 'b'])
    """
    path = Path(os.fspath(path)).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"No such data file: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        if task_column is not None or target is not None:
            raise ValueError(
                "task_column and target apply to .csv files only; a .npz file "
                "names its arrays X, y, task (or X_wide, Y_wide). Drop them."
            )
        X, y, task, features, labels, extra = _table_from_npz(path)
    elif suffix == ".csv":
        X, y, task, features, labels, extra = _table_from_csv(path, task_column, target)
    else:
        raise ValueError(f"Unsupported file type {suffix!r} for {path}; use .npz or .csv.")
    if not (len(X) == len(y) == len(task)):
        raise ValueError(
            f"{path}: X, y and task must have the same number of rows; got "
            f"{len(X)}, {len(y)} and {len(task)}."
        )
    return Bunch(data=X, target=y, task=task, feature_names=features,
                 task_names=labels, DESCR=f"User data set loaded from {path}.",
                 filename=str(path), **extra)


# Shared parameter/raises sections of the three benchmark loaders; guarded
# because docstrings are stripped under ``python -OO``.
for _func in (load_school, load_landmine, load_sarcos):
    if _func.__doc__:
        _func.__doc__ = _func.__doc__.format(params=_LOADER_PARAMS_DOC, raises=_RAISES_DOC)
del _func
