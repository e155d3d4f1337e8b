"""kmeanskit.distributed.KMeans: the in-memory result, over Dask blocks."""

import logging
import os
import signal

import numpy as np
import pytest

da = pytest.importorskip("dask.array")  # the 'dask' extra; installed in CI
from sklearn.datasets import make_blobs  # noqa: E402

from kmeanskit import KMeans as LocalKMeans  # noqa: E402
from kmeanskit.distributed import KMeans  # noqa: E402
from kmeanskit.metrics import centroid_index  # noqa: E402


@pytest.fixture(scope="module")
def blobs():
    X, y, centers = make_blobs(
        6000, n_features=5, centers=12, cluster_std=0.8, random_state=0, return_centers=True
    )
    return X, y, centers


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_in_memory_from_the_same_start(blobs, dtype):
    X, _, _ = blobs
    X = X.astype(dtype)
    init = X[::500][:12].copy()
    local = LocalKMeans(12, init=init, algorithm="lloyd").fit(X)
    dist = KMeans(12, init=init).fit(da.from_array(X, chunks=(700, 5)))
    np.testing.assert_allclose(
        dist.cluster_centers_, local.cluster_centers_, rtol=1e-5 if dtype == np.float32 else 1e-10
    )
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-5)
    assert (dist.labels_.compute() == local.labels_).all()
    assert dist.n_iter_ == local.n_iter_
    np.testing.assert_allclose(dist.transform(X[:50]).compute(), local.transform(X[:50]), rtol=1e-5)


def test_kmeans_parallel_seeding_finds_the_clusters(blobs):
    X, _, centers = blobs
    Xd = da.from_array(X, chunks=(1000, 5))
    cis = [
        centroid_index(KMeans(12, random_state=s).fit(Xd).cluster_centers_, centers)
        for s in range(5)
    ]
    local = [
        centroid_index(LocalKMeans(12, random_state=s).fit(X).cluster_centers_, centers)
        for s in range(5)
    ]
    assert np.mean(cis) <= np.mean(local) + 0.4  # as good as in-memory k-means++


def test_weights_and_empty_cluster_rule():
    X = np.array([[0.0], [0.1], [10.0], [10.1], [50.0]] * 4)
    w = np.tile([1.0, 1.0, 1.0, 1.0, 5.0], 4)
    init = np.array([[0.05], [10.05], [1000.0]])  # the third starts empty
    local = LocalKMeans(3, init=init, algorithm="lloyd").fit(X, sample_weight=w)
    dist = KMeans(3, init=init).fit(da.from_array(X, chunks=(7, 1)), sample_weight=w)
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_)
    assert dist.inertia_ == pytest.approx(local.inertia_)


def test_on_a_distributed_client(blobs):
    distributed = pytest.importorskip("distributed")
    X, _, _ = blobs
    with distributed.Client(
        processes=False, n_workers=2, threads_per_worker=1, dashboard_address=":0"
    ):
        km = KMeans(12, random_state=0).fit(da.from_array(X, chunks=(1500, 5)))
        labels = km.predict(X).compute()
    assert labels.shape == (6000,) and np.unique(labels).size == 12


def test_bad_input(blobs):
    X, _, _ = blobs
    km = KMeans(3, random_state=0).fit(X[:300])
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 5"):
        km.predict(X[:10, :2])
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).fit(X[:2])


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes on loopback, as a user's LocalCluster would run them."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as lc:
        with distributed.Client(lc) as client:
            yield client


@pytest.mark.parametrize("weighted", [False, True])
def test_local_cluster_equals_in_memory_on_uneven_chunks(cluster, blobs, weighted):
    X, _, _ = blobs
    w = np.random.RandomState(1).uniform(0.5, 3.0, len(X)) if weighted else None
    init = X[::500][:12].copy()
    local = LocalKMeans(12, init=init).fit(X, sample_weight=w)
    Xd = da.from_array(X, chunks=((700, 1300, 2500, 1, 1499), (5,)))
    dist = KMeans(12, init=init).fit(Xd, sample_weight=None if w is None else da.from_array(w))
    assert (dist.labels_.compute() == local.labels_).all()
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-6)
    assert dist.n_iter_ == local.n_iter_
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-9)


class _KillAt(logging.Handler):
    """Kills one worker process when the fit logs iteration ``at``."""

    def __init__(self, client, at: int):
        super().__init__(logging.DEBUG)
        self.client, self.at, self.killed, self.messages = client, at, None, []

    def emit(self, record):
        self.messages.append(record.getMessage())
        if self.killed is None and record.getMessage().startswith(f"iteration {self.at}:"):
            addr, pid = sorted(self.client.run(os.getpid).items())[0]
            os.kill(pid, signal.SIGKILL)
            self.killed = addr, pid


def test_a_worker_killed_in_the_middle_of_a_fit(cluster):
    X, _ = make_blobs(40000, n_features=6, centers=15, cluster_std=2.0, random_state=3)
    init = X[:15].copy()  # a poor start: many iterations
    local = LocalKMeans(15, init=init).fit(X)
    assert local.n_iter_ >= 8
    logger = logging.getLogger("kmeanskit.distributed.kmeans")
    handler, level = _KillAt(cluster, at=4), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        dist = KMeans(15, init=init).fit(da.from_array(X, chunks=(5000, 6)))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert handler.killed is not None  # a worker did die in the middle of the fit
    assert any(m.startswith("block calls through tasks") for m in handler.messages)
    assert handler.killed[1] not in cluster.run(os.getpid).values()
    assert dist.n_iter_ == local.n_iter_
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-6)
    assert (dist.labels_.compute() == local.labels_).all()


def test_rows_read_from_their_source_at_every_pass(blobs):
    """persist=False: the blocks keep only their per-row state; same result."""
    X, _, _ = blobs
    init = X[::500][:12].copy()
    local = LocalKMeans(12, init=init).fit(X)
    dist = KMeans(12, init=init, persist=False).fit(da.from_array(X, chunks=(1000, 5)))
    assert (dist.labels_.compute() == local.labels_).all()
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-9)
    seeded = KMeans(12, persist=False, random_state=0).fit(da.from_array(X, chunks=(1000, 5)))
    assert np.unique(seeded.labels_.compute()).size == 12


def test_pickles_and_scores_with_weights(blobs):
    import pickle

    X, _, _ = blobs
    km = KMeans(12, random_state=0).fit(da.from_array(X, chunks=(1000, 5)))
    again = pickle.loads(pickle.dumps(km))
    assert (again.predict(X).compute() == km.labels_.compute()).all()
    assert km.score(X) == pytest.approx(-km.inertia_)
    w = np.full(len(X), 2.0)
    assert km.score(X, sample_weight=w) == pytest.approx(-2 * km.inertia_)


def test_from_a_zarr_store_read_at_every_pass(blobs, tmp_path):
    pytest.importorskip("zarr")
    X, _, _ = blobs
    da.from_array(X, chunks=(1200, 5)).to_zarr(str(tmp_path / "x.zarr"))
    Xz = da.from_zarr(str(tmp_path / "x.zarr"))
    init = X[::500][:12].copy()
    local = LocalKMeans(12, init=init).fit(X)
    dist = KMeans(12, init=init, persist=False).fit(Xz)
    assert (dist.predict(Xz).compute() == local.labels_).all()
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-9)
