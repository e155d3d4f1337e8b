"""kmeanskit.distributed.KMeans: the in-memory result, over Dask blocks."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")  # the 'dask' extra; installed in CI
from sklearn.datasets import make_blobs  # noqa: E402

from kmeanskit import KMeans as LocalKMeans  # noqa: E402
from kmeanskit.distributed import KMeans  # noqa: E402
from kmeanskit.metrics import centroid_index  # noqa: E402


@pytest.fixture(scope="module")
def blobs():
    X, y, centers = make_blobs(6000, n_features=5, centers=12, cluster_std=0.8,
                               random_state=0, return_centers=True)  # fmt: skip
    return X, y, centers


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_as_in_memory_from_the_same_start(blobs, dtype):
    X, _, _ = blobs
    X = X.astype(dtype)
    init = X[::500][:12].copy()
    local = LocalKMeans(12, init=init, algorithm="lloyd").fit(X)
    dist = KMeans(12, init=init).fit(da.from_array(X, chunks=(700, 5)))
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_,
                               rtol=1e-5 if dtype == np.float32 else 1e-10)  # fmt: skip
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-5)
    assert (dist.labels_.compute() == local.labels_).all()
    assert dist.n_iter_ == local.n_iter_
    np.testing.assert_allclose(dist.transform(X[:50]).compute(), local.transform(X[:50]),
                               rtol=1e-5)  # fmt: skip


def test_kmeans_parallel_seeding_finds_the_clusters(blobs):
    X, _, centers = blobs
    Xd = da.from_array(X, chunks=(1000, 5))
    cis = [centroid_index(KMeans(12, random_state=s).fit(Xd).cluster_centers_, centers)
           for s in range(5)]  # fmt: skip
    local = [centroid_index(LocalKMeans(12, random_state=s).fit(X).cluster_centers_, centers)
             for s in range(5)]  # fmt: skip
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
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1,
                            dashboard_address=None):  # fmt: skip
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
