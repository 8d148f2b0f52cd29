"""Estimators on Dask inputs: the approximate path, statistics on the workers."""
import warnings

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

from rkhsmtl import MultiTaskKernelRidge, TaskRelationLearning  # noqa: E402


def _hetero(N=240, T=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(N, 3)
    task = np.arange(N) % T
    y = np.sin(X[:, 0]) + 0.1 * rng.randn(N) + 0.2 * task
    return X, y, task


def _dask(*arrays, chunk=70):
    return [da.from_array(a, chunks=(chunk,) + a.shape[1:]) for a in arrays]


@pytest.mark.parametrize("make", [
    lambda n: MultiTaskKernelRidge(alpha=0.3, approximation="nystroem", n_components=n),
    # run to convergence (a barrier of 1e-3 lets it converge; tol=1e-15 stops on
    # a rounding-level decrease): both paths reach the same optimum, whatever
    # the tolerances of their inexact steps along the way
    lambda n: TaskRelationLearning(approximation="nystroem", n_components=n,
                                   epsilon=1e-3, max_iter=3000, tol=1e-15),
], ids=["ridge", "mtrl"])
def test_dask_fit_with_all_landmarks_equals_exact_fit(make):
    X, y, task = _hetero()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exact = make(len(y)).set_params(approximation=None).fit(X, y, task=task)
        model = make(len(y)).fit(*_dask(X, y), task=_dask(task)[0])
    lazy = model.predict(_dask(X)[0], task=_dask(task)[0])
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(lazy.compute(), exact.predict(X, task=task), rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(model.predict(_dask(X)[0]).compute(), model.predict(X),
                               rtol=1e-12)


def test_dask_shared_layout_and_dataframe_task_column():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, task = _hetero()
    Y = np.c_[y, np.cos(X[:, 1])]
    exact = MultiTaskKernelRidge(alpha=0.3).fit(X, Y)
    model = MultiTaskKernelRidge(alpha=0.3, approximation="nystroem",
                                 n_components=len(y)).fit(*_dask(X, Y))
    np.testing.assert_allclose(model.predict(X), exact.predict(X), rtol=1e-6, atol=1e-8)
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(school=task)
    ddf = dd.from_pandas(frame, npartitions=3)
    by_frame = MultiTaskKernelRidge(alpha=0.3, approximation="nystroem",
                                    n_components=len(y)).fit(
        ddf, da.from_array(y, chunks=ddf.to_dask_array(lengths=True).chunks[0]),
        task="school")
    ref = MultiTaskKernelRidge(alpha=0.3).fit(X, y, task=task)
    np.testing.assert_allclose(by_frame.predict(X, task=task), ref.predict(X, task=task),
                               rtol=1e-6, atol=1e-8)


def test_dask_local_cluster_fit_equals_threaded_fit():
    distributed = pytest.importorskip("dask.distributed")
    import dask

    X, y, task = _hetero(N=400)
    make = lambda: MultiTaskKernelRidge(approximation="nystroem", n_components=50,  # noqa
                                        random_state=0)
    threaded = make().fit(*_dask(X, y), task=_dask(task)[0])
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            dask.config.set(scheduler=client):
        on_cluster = make().fit(*_dask(X, y), task=_dask(task)[0])
        lazy = on_cluster.predict(_dask(X)[0], task=_dask(task)[0]).compute()
    np.testing.assert_allclose(lazy, threaded.predict(X, task=task), rtol=1e-10)


def test_dask_needs_approximation():
    X, y, task = _hetero()
    with pytest.raises(ValueError, match="approximation='nystroem'"):
        MultiTaskKernelRidge().fit(*_dask(X, y), task=_dask(task)[0])


def test_dask_array_of_cupy_blocks_is_refused_with_the_fix():
    # Built without CuPy: a Dask array whose blocks claim to be CuPy arrays
    # (as da.from_array(cupy_array) makes) must be refused before any compute.
    ndarray = type("ndarray", (), {"__module__": "cupy._core.core"})
    X, y, task = _hetero()
    Xd, yd, td = _dask(X, y, task)
    Xd._meta = ndarray()
    model = MultiTaskKernelRidge(approximation="nystroem", n_components=20)
    with pytest.raises(TypeError, match=r"X holds cupy\._core\.core\.ndarray blocks.*"
                                        r"map_blocks\(cupy\.asnumpy\)"):
        model.fit(Xd, yd, task=td)
    Xd, yd, td = _dask(X, y, task)
    td._meta = ndarray()
    with pytest.raises(TypeError, match="task holds cupy"):
        model.fit(Xd, yd, task=td)
