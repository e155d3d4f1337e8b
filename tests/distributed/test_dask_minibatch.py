"""kmeanskit.distributed.MiniBatchKMeans: the in-memory steps, fed from Dask blocks."""

import threading

import numpy as np
import pytest

da = pytest.importorskip("dask.array")  # the 'dask' extra; installed in CI
import dask  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402

from kmeanskit import KMeans as LocalKMeans  # noqa: E402
from kmeanskit import MiniBatchKMeans as LocalMiniBatchKMeans  # noqa: E402
from kmeanskit.distributed import MiniBatchKMeans  # noqa: E402
from kmeanskit.distributed.minibatch import _computed  # noqa: E402
from kmeanskit.metrics import centroid_index  # noqa: E402

UNEVEN = (7000, 13000, 1, 24999, 15000)


@pytest.fixture(scope="module")
def blobs():
    X, _, centers = make_blobs(60000, n_features=8, centers=12, random_state=0, return_centers=True)
    return X, centers


@pytest.fixture(scope="module")
def small():
    X, _ = make_blobs(6000, n_features=5, centers=6, cluster_std=1.5, random_state=1)
    return X


def test_close_to_exact_kmeans_and_finds_every_centre(blobs):
    X, centers = blobs
    exact = LocalKMeans(n_clusters=12, n_init=3, random_state=0).fit(X).inertia_
    Xd = da.from_array(X, chunks=(UNEVEN, (8,)))
    mbk = MiniBatchKMeans(12, init_sample=3000, random_state=0).fit(Xd)
    assert mbk.inertia_ <= exact * 1.02
    assert centroid_index(mbk.cluster_centers_, centers) == 0
    assert mbk.n_steps_ > 0 and mbk.n_iter_ >= 1 and mbk.counts_.sum() > 3000
    assert mbk.inertia_ == pytest.approx(-mbk.score(Xd), rel=1e-6)


def _in_memory(X, seed, batch_size, max_iter, init_sample, w=None):
    """The documented procedure, by hand: the in-memory fit on the sample (its counts
    reset to the sample's weight per cluster), then every epoch one shuffle of the one
    block, fed in batches to partial_fit."""
    n = len(X)
    w = np.ones(n, X.dtype) if w is None else w
    rs = np.random.RandomState(seed)
    rows = np.sort(rs.choice(n, size=init_sample, replace=False))
    ref = LocalMiniBatchKMeans(
        6,
        batch_size=batch_size,
        max_iter=max_iter,
        max_no_improvement=None,
        random_state=rs.randint(2**31 - 1),
    )
    ref.fit(X[rows], sample_weight=w[rows])
    ref.counts_ = np.bincount(ref.labels_, weights=w[rows], minlength=6).astype(np.float64)
    ref.set_params(compute_labels=False)
    rs.randint(2**31 - 1)  # the seed of the blocks' order: one block, nothing to order
    shuffle = np.random.RandomState(rs.randint(2**31 - 1))
    for _ in range(max_iter):
        perm = shuffle.permutation(n)
        for piece in np.array_split(perm, -(-n // batch_size)):
            ref.partial_fit(X[piece], sample_weight=w[piece])
    return ref


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_chunk_equals_in_memory_partial_fits(small, dtype, weighted):
    X = small.astype(dtype)
    w = np.random.RandomState(2).uniform(0.5, 2.0, len(X)) if weighted else None
    ref = _in_memory(X, 3, 500, 2, 1500, None if w is None else w.astype(dtype))
    mbk = MiniBatchKMeans(
        6, batch_size=500, max_iter=2, max_no_improvement=None, init_sample=1500, random_state=3
    )
    mbk.fit(da.from_array(X, chunks=-1), sample_weight=w)
    assert mbk.cluster_centers_.dtype == dtype
    np.testing.assert_array_equal(mbk.cluster_centers_, ref.cluster_centers_)
    np.testing.assert_array_equal(mbk.counts_, ref.counts_)
    assert mbk.n_iter_ == 2 and mbk.n_steps_ == 2 * 12
    want = -ref.score(X, sample_weight=w)
    assert mbk.inertia_ == pytest.approx(want, rel=1e-6 if dtype == np.float64 else 1e-5)


def test_the_batches_do_not_depend_on_prefetch(small):
    Xd = da.from_array(small, chunks=((700, 0, 2000, 3300), (5,)))  # an empty block too
    fits = [
        MiniBatchKMeans(
            6, batch_size=200, max_iter=3, init_sample=1000, prefetch=p, random_state=0
        ).fit(Xd)
        for p in (0, 1, 4)
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.cluster_centers_, fits[0].cluster_centers_)
        assert other.n_steps_ == fits[0].n_steps_


_STARTED: list = []  # the blocks whose computation began (module-level: picklable tasks)
_LOCK = threading.Lock()


def _block(i):
    with _LOCK:
        _STARTED.append(i)
    return np.full((3, 2), float(i)), None


def _counting_parts(n_blocks):
    _STARTED.clear()
    return [dask.delayed(_block, pure=False)(i) for i in range(n_blocks)]


@pytest.mark.parametrize("prefetch", [0, 2])
def test_prefetch_computes_at_most_that_many_blocks_ahead(prefetch):
    parts = _counting_parts(8)
    seen = []
    for tag, (x, _) in _computed(parts, [(i, (5 * i) % 8) for i in range(8)], prefetch):
        seen.append(int(x[0, 0]))
        assert len(_STARTED) <= len(seen) + prefetch
        assert tag == len(seen) - 1
    assert seen == [(5 * i) % 8 for i in range(8)]


def test_on_a_local_cluster(small):
    distributed = pytest.importorskip("distributed")
    Xd = da.from_array(small, chunks=(1100, 5))
    threaded = MiniBatchKMeans(6, batch_size=300, max_iter=2, init_sample=1000, random_state=0).fit(
        Xd
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        with distributed.Client(cluster):
            parts = _counting_parts(6)
            for j, _ in _computed(parts, [(i, i) for i in range(6)], 1):
                assert len(_STARTED) <= j + 2  # the client holds 2 blocks at most
            mbk = MiniBatchKMeans(
                6, batch_size=300, max_iter=2, init_sample=1000, random_state=0
            ).fit(Xd)
            labels = mbk.labels_.compute()
            assert (mbk.predict(Xd).compute() == labels).all()
    assert np.unique(labels).size == 6
    # the client computes the same blocks: the same batches, the same result
    np.testing.assert_array_equal(mbk.cluster_centers_, threaded.cluster_centers_)
    assert mbk.inertia_ == pytest.approx(threaded.inertia_)


def test_partial_fit_over_the_blocks_of_a_stream(small):
    X = np.random.RandomState(0).permutation(small)
    Xd = da.from_array(X, chunks=(1000, 5))
    online = MiniBatchKMeans(6, random_state=0).partial_fit(Xd)
    assert online.n_steps_ == 5  # the first block starts the centres
    ref = LocalMiniBatchKMeans(
        6, random_state=np.random.RandomState(0).randint(2**31 - 1), compute_labels=False
    )
    for block in np.split(X, 6):
        ref.partial_fit(block)
    np.testing.assert_array_equal(online.cluster_centers_, ref.cluster_centers_)
    online.partial_fit(X[:500])  # a numpy block: one more step
    assert online.n_steps_ == 6
    labels = online.predict(Xd).compute()
    assert labels.shape == (6000,) and np.unique(labels).size == 6
    fitted = MiniBatchKMeans(6, init_sample=1000, random_state=0).fit(Xd)
    assert hasattr(fitted, "inertia_")
    fitted.partial_fit(Xd[:2000])
    assert not hasattr(fitted, "inertia_") and not hasattr(fitted, "labels_")


def test_warm_start_goes_on_from_a_fitted_model(small):
    Xd = da.from_array(small, chunks=(1000, 5))
    first = MiniBatchKMeans(6, init_sample=1000, random_state=0).fit(Xd)
    more = MiniBatchKMeans(6, init=first, max_iter=1, random_state=1).fit(Xd)
    assert more.counts_.sum() > first.counts_.sum()  # the counts went on
    gaps = np.linalg.norm(more.cluster_centers_ - first.cluster_centers_, axis=1)
    assert gaps.max() < 0.5


def test_bad_input(small):
    Xd = da.from_array(small, chunks=(1000, 5))
    mbk = MiniBatchKMeans(3, init_sample=500, random_state=0).fit(Xd)
    with pytest.raises(ValueError, match="X has 2 features, but MiniBatchKMeans is expecting 5"):
        mbk.predict(small[:10, :2])
    with pytest.raises(ValueError, match="X has 2 features, but MiniBatchKMeans is expecting 5"):
        mbk.partial_fit(Xd[:, :2])
    with pytest.raises(ValueError, match=r"'batch_size' parameter .* range \[1, inf\)\. Got 0"):
        MiniBatchKMeans(3, batch_size=0).fit(Xd)
    with pytest.raises(ValueError, match=r"'prefetch' parameter .* Got -1"):
        MiniBatchKMeans(3, prefetch=-1).partial_fit(Xd)
    with pytest.raises(ValueError, match="init_sample=2 should be >= n_clusters=3"):
        MiniBatchKMeans(3, init_sample=2).fit(Xd)
    with pytest.raises(ValueError, match="n_samples=2 should be >= n_clusters=3"):
        MiniBatchKMeans(3).fit(small[:2])
    with pytest.raises(ValueError, match=r"sample_weight must have shape \(6000,\).*\(10,\)"):
        MiniBatchKMeans(3).fit(Xd, sample_weight=np.ones(10))
    with pytest.raises(ValueError, match="sample_weight must be non-negative"):
        MiniBatchKMeans(3, init_sample=500).fit(Xd, sample_weight=-np.ones(6000))
    with pytest.raises(ValueError, match="X must be 2-D"):
        MiniBatchKMeans(3).fit(small[:, 0])
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        MiniBatchKMeans(3).fit(Xd[Xd[:, 0] > 0])
