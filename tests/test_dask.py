"""Feature statistics gathered on Dask arrays.

Parity with the in-memory accumulator (1e-10) under the threaded and the
synchronous schedulers and on a 2-worker LocalCluster with processes; the
layouts, weights, tasks absent from some blocks, a single block; the error
of each bad input (unknown chunks, misaligned chunks, non-finite values and
bad task codes inside one block).
"""
from functools import partial

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

from rkhsmtl.features import NystroemFeatures, RandomFourierFeatures  # noqa: E402
from rkhsmtl.kernels import compute_kernel  # noqa: E402
from rkhsmtl.solvers._dask_statistics import (  # noqa: E402
    gather_statistics_dask,
    task_codes_dask,
)
from rkhsmtl.solvers._feature_problem import raw_features  # noqa: E402
from rkhsmtl.solvers.feature_statistics import StatisticsAccumulator  # noqa: E402

N, D, T, CHUNK = 240, 4, 3, 70


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.randn(N, D)
    return dict(X=X, y=rng.randn(N), Y=rng.randn(N, T), codes=rng.randint(0, T, N),
                w=rng.rand(N) + 0.1)


@pytest.fixture(scope="module")
def nystroem(data):
    kernel = partial(compute_kernel, kernel="rbf", gamma=0.5)
    return NystroemFeatures(kernel, 20, random_state=0).fit(data["X"])


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        yield c


def in_memory(fmap, X, y, layout, codes=None, w=None):
    raw, projection = raw_features(fmap)
    width = fmap.n_components_ if projection is None else projection.shape[0]
    acc = StatisticsAccumulator(np, width, T, layout, projection=projection)
    acc.add(raw(X), y, codes=codes, weights=w)
    return acc.result()


def assert_same(got, ref):
    assert (got.layout, got.n_features, got.n_tasks) == \
        (ref.layout, ref.n_features, ref.n_tasks)
    close = partial(np.testing.assert_allclose, rtol=1e-10, atol=1e-10)
    for name in ("count", "phi_sum", "phi_y", "y_sum", "y_sq"):
        close(np.asarray(getattr(got, name)), np.asarray(getattr(ref, name)),
              err_msg=name)
    for t in range(T):
        close(got.task_gram_dense(t), ref.task_gram_dense(t), err_msg=f"gram {t}")
    close(got.pooled_gram(), ref.pooled_gram())


def chunked(a, chunks=CHUNK):
    return da.from_array(a, chunks=(chunks,) + a.shape[1:])


def tasks_args(data, chunks=CHUNK):
    return (chunked(data["X"], chunks), chunked(data["y"], chunks),
            chunked(data["codes"], chunks))


# ------------------------------------------------------------------ parity
@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_tasks_layout_with_weights(data, nystroem, scheduler):
    ref = in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"], data["w"])
    with dask.config.set(scheduler=scheduler):
        got = gather_statistics_dask(*tasks_args(data), nystroem, T,
                                     sample_weight=chunked(data["w"]))
    assert_same(got, ref)
    assert isinstance(got.phi_y, np.ndarray)


@pytest.mark.parametrize("scheduler", ["threads", "synchronous"])
def test_shared_layout(data, nystroem, scheduler):
    ref = in_memory(nystroem, data["X"], data["Y"], "shared")
    with dask.config.set(scheduler=scheduler):
        got = gather_statistics_dask(chunked(data["X"]), chunked(data["Y"]), None,
                                     nystroem, T, layout="shared")
    assert_same(got, ref)
    np.testing.assert_allclose(got.gram, ref.gram, rtol=1e-10, atol=1e-10)


def test_local_cluster_with_processes(data, nystroem, client):
    ref_tasks = in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"],
                          data["w"])
    ref_shared = in_memory(nystroem, data["X"], data["Y"], "shared", w=data["w"])
    from distributed import get_task_stream

    with dask.config.set(scheduler=client), get_task_stream(client) as stream:
        got = gather_statistics_dask(*tasks_args(data), nystroem, T,
                                     sample_weight=chunked(data["w"]))
        shared = gather_statistics_dask(chunked(data["X"]), chunked(data["Y"]), None,
                                        nystroem, T, layout="shared",
                                        sample_weight=chunked(data["w"]))
        bad = data["X"].copy()
        bad[150, 2] = np.nan
        # A worker's error reaches the client with its message.
        with pytest.raises(ValueError, match="rows 140 to 209 .*first at row 150"):
            gather_statistics_dask(chunked(bad), *tasks_args(data)[1:], nystroem, T)
    # The blocks ran on the workers, not in this process.
    names = {task["key"][0] if isinstance(task["key"], tuple) else task["key"]
             for task in stream.data}
    assert any(str(k).startswith("_block_statistics") for k in names), names
    assert_same(got, ref_tasks)
    assert_same(shared, ref_shared)


def test_random_fourier_features(data):
    fmap = RandomFourierFeatures(n_components=32, random_state=0).fit(data["X"])
    assert raw_features(fmap)[1] is None
    ref = in_memory(fmap, data["X"], data["y"], "tasks", data["codes"], data["w"])
    got = gather_statistics_dask(*tasks_args(data), fmap, T,
                                 sample_weight=chunked(data["w"]))
    assert_same(got, ref)


def test_task_missing_from_some_blocks(data, nystroem):
    # Sorted codes: each block holds one or two tasks only.
    codes = np.sort(data["codes"])
    ref = in_memory(nystroem, data["X"], data["y"], "tasks", codes)
    got = gather_statistics_dask(chunked(data["X"], 50), chunked(data["y"], 50),
                                 chunked(codes, 50), nystroem, T, split_every=2)
    assert_same(got, ref)


def test_task_absent_everywhere_and_empty_block(data, nystroem):
    codes = np.where(data["codes"] == 1, 0, data["codes"])     # no row of task 1
    chunks = (100, 0, 140)
    args = [da.from_array(a, chunks=(chunks,) + a.shape[1:])
            for a in (data["X"], data["y"], codes)]
    got = gather_statistics_dask(*args, nystroem, T)
    assert_same(got, in_memory(nystroem, data["X"], data["y"], "tasks", codes))
    assert got.count[1] == 0


def test_one_block_and_column_chunks(data, nystroem):
    ref = in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"])
    X = da.from_array(data["X"], chunks=(N, 2))                  # two column chunks
    got = gather_statistics_dask(X, chunked(data["y"], N), chunked(data["codes"], N),
                                 nystroem, T)
    assert_same(got, ref)


def test_in_memory_weights_follow_x_blocks(data, nystroem):
    ref = in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"], data["w"])
    got = gather_statistics_dask(*tasks_args(data), nystroem, T, sample_weight=data["w"])
    assert_same(got, ref)


def test_one_pass_over_shared_source(data, nystroem):
    # X and y cut from one loaded block each: every block is loaded once.
    calls = []
    table = np.column_stack([data["X"], data["y"], data["codes"]])

    def load(i):
        calls.append(i)
        return table[i * 80:(i + 1) * 80]

    parts = [da.from_delayed(dask.delayed(load)(i), shape=(80, D + 2), dtype=float)
             for i in range(3)]
    Z = da.concatenate(parts)
    with dask.config.set(scheduler="synchronous"):
        got = gather_statistics_dask(Z[:, :D], Z[:, D], Z[:, D + 1].astype(int),
                                     nystroem, T)
    assert sorted(calls) == [0, 1, 2]
    assert_same(got, in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"]))


# ------------------------------------------------------------- task codes
def test_task_codes_dask(data, nystroem):
    names = np.array(["school-%02d" % c for c in data["codes"]])
    codes, tasks = task_codes_dask(chunked(names))
    assert tasks.tolist() == ["school-00", "school-01", "school-02"]
    np.testing.assert_array_equal(codes.compute(), data["codes"])
    assert codes.chunks == chunked(names).chunks
    got = gather_statistics_dask(chunked(data["X"]), chunked(data["y"]), codes,
                                 nystroem, len(tasks))
    assert_same(got, in_memory(nystroem, data["X"], data["y"], "tasks", data["codes"]))
    known, _ = task_codes_dask(chunked(np.array(["school-01", "x"])), tasks=tasks)
    with pytest.raises(ValueError, match=r"Unknown task label\(s\) \['x'\]"):
        known.compute()


def test_task_codes_dask_refuses_missing_labels():
    with pytest.raises(ValueError, match="NaN or None"):
        task_codes_dask(da.from_array(np.array([1.0, np.nan, 2.0]), chunks=2))


# -------------------------------------------------------------- bad input
def test_unknown_chunk_sizes(data, nystroem):
    X, y, codes = tasks_args(data)
    keep = X[:, 0] > -10                      # boolean indexing: NaN chunk sizes
    with pytest.raises(ValueError, match=r"'X' has unknown chunk sizes.*"
                       r"to_dask_array\(lengths=True\).*compute_chunk_sizes"):
        gather_statistics_dask(X[keep], y, codes, nystroem, T)
    with pytest.raises(ValueError, match="'y' has unknown chunk sizes"):
        gather_statistics_dask(X, y[keep], codes, nystroem, T)


def test_unknown_chunk_sizes_from_dataframe(data, nystroem):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    frame = dd.from_pandas(pd.DataFrame(data["X"]), npartitions=3)
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        gather_statistics_dask(frame.values, chunked(data["y"]), chunked(data["codes"]),
                               nystroem, T)


@pytest.mark.parametrize("name", ["y", "task_codes", "sample_weight"])
def test_mismatched_row_chunks(data, nystroem, name):
    X, y, codes = tasks_args(data)
    kwargs = dict(y=y, task_codes=codes, sample_weight=chunked(data["w"]))
    kwargs[name] = kwargs[name].rechunk(50)
    with pytest.raises(ValueError, match=rf"row chunks of '{name}' .* differ from "
                       rf"those of X .*{name} = {name}\.rechunk\(\{{0: X\.chunks\[0\]\}}\)"):
        gather_statistics_dask(X, feature_map=nystroem, n_tasks=T, **kwargs)
    # The suggested fix works.
    kwargs[name] = kwargs[name].rechunk({0: X.chunks[0]})
    gather_statistics_dask(X, feature_map=nystroem, n_tasks=T, **kwargs)


def test_non_finite_features_in_one_block(data, nystroem):
    X = data["X"].copy()
    X[75, 1] = np.inf
    with pytest.raises(ValueError, match=r"'X' holds NaN or infinity in rows 70 to "
                       r"139 \(block 1\), first at row 75\. Remove or impute"):
        gather_statistics_dask(chunked(X), *tasks_args(data)[1:], nystroem, T)


def test_missing_target_in_shared_layout(data, nystroem):
    Y = data["Y"].copy()
    Y[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"'y' holds NaN .*rows 0 to 69.*"
                       "layout='tasks'"):
        gather_statistics_dask(chunked(data["X"]), chunked(Y), None, nystroem, T,
                               layout="shared")


def test_task_code_out_of_range(data, nystroem):
    codes = data["codes"].copy()
    codes[200] = T
    with pytest.raises(ValueError, match=r"'task_codes' holds 3 at row 200, in rows "
                       r"140 to 209 \(block 2\); codes must be integers in 0\.\.2.*"
                       r"task_codes_dask"):
        gather_statistics_dask(chunked(data["X"]), chunked(data["y"]), chunked(codes),
                               nystroem, T)


def test_other_bad_arguments(data, nystroem):
    X, y, codes = tasks_args(data)
    with pytest.raises(ValueError, match="'task_codes' parameter is required"):
        gather_statistics_dask(X, y, None, nystroem, T)
    with pytest.raises(ValueError, match="integer codes"):
        gather_statistics_dask(X, y, codes.astype(float), nystroem, T)
    with pytest.raises(ValueError, match="'y' has 239 rows but X has 240"):
        gather_statistics_dask(X, y[1:], codes, nystroem, T)
    with pytest.raises(ValueError, match="one column per task: 3 tasks, but y has 2"):
        gather_statistics_dask(X, chunked(data["Y"][:, :2]), None, nystroem, T,
                               layout="shared")
    with pytest.raises(ValueError, match="non-negative"):
        gather_statistics_dask(X, y, codes, nystroem, T,
                               sample_weight=chunked(-data["w"]))
    with pytest.raises(ValueError, match="must be fitted"):
        gather_statistics_dask(X, y, codes, RandomFourierFeatures(), T)
    with pytest.raises(ValueError, match="'layout' parameter"):
        gather_statistics_dask(X, y, codes, nystroem, T, layout="rows")
