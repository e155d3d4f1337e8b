"""MiniBatchKMeans: quality, partial_fit, warm start, starved clusters, drifting data."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, MiniBatchKMeans
from kmeanskit._engine import minibatch_step


@pytest.fixture(scope="module")
def many():
    X, y = make_blobs(20000, n_features=16, centers=30, cluster_std=1.0, random_state=3)
    return X, y


@pytest.fixture(scope="module")
def exact(many):
    return KMeans(30, n_init=3, random_state=0).fit(many[0]).inertia_


def test_step_against_numpy():
    rng = np.random.RandomState(0)
    X, w = rng.randn(300, 5), rng.uniform(0.5, 2, 300)
    centers, counts = rng.randn(4, 5), rng.uniform(0, 50, 4)
    c0, n0 = centers.copy(), counts.copy()
    labels, objective, _ = minibatch_step(X, w, centers, counts, decay=0.9)
    d2 = ((X[:, None] - c0[None]) ** 2).sum(-1)
    assert (labels == d2.argmin(1)).all()
    assert objective == pytest.approx((w * d2.min(1)).sum())
    n1 = n0 * 0.9 + np.bincount(labels, w, 4)
    np.testing.assert_allclose(counts, n1)
    for j in range(4):
        m = labels == j
        want = (c0[j] * n0[j] * 0.9 + (w[m, None] * X[m]).sum(0)) / n1[j]
        np.testing.assert_allclose(centers[j], want)


def test_close_to_exact(many, exact):
    for seed in range(3):
        mbk = MiniBatchKMeans(30, batch_size=512, random_state=seed).fit(many[0])
        assert mbk.inertia_ <= exact * 1.02
        assert (mbk.labels_ == mbk.predict(many[0])).all()
        assert mbk.counts_.sum() > 0 and mbk.n_steps_ > 0


def test_partial_fit_over_ten_batches_equals_a_fit(many, exact):
    X = many[0]
    whole = MiniBatchKMeans(30, random_state=0).fit(X)
    online = MiniBatchKMeans(30, random_state=0)
    for batch in np.array_split(np.random.RandomState(1).permutation(X), 10):
        online.partial_fit(batch)
    assert online.n_steps_ == 9  # the first call initialises from its batch
    inertia = online.score(X) * -1
    assert inertia <= whole.inertia_ * 1.01
    assert inertia <= exact * 1.01


def test_warm_start_goes_on(many):
    X = many[0]
    first = MiniBatchKMeans(30, random_state=0).fit(X[:10000])
    more = MiniBatchKMeans(30, init=first, max_iter=1, random_state=0).fit(X[10000:])
    assert more.counts_.sum() > first.counts_.sum() * 0.9  # counts carried over
    gaps = np.linalg.norm(first.cluster_centers_ - more.cluster_centers_, axis=1)
    assert gaps.max() < 0.5  # the same clusters, refined, not a new clustering
    online = MiniBatchKMeans(30, init=first).partial_fit(X[10000:11000])
    assert online.n_steps_ == 1
    centers = MiniBatchKMeans(30, init=first.cluster_centers_).fit(X)
    assert centers.inertia_ <= first.score(X) * -1.0 * 1.001


def test_starved_clusters_are_reseeded():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(2000, 2), rng.randn(2000, 2) + 30])
    bad = np.array([[0.0, 0.0], [1.0, 0.0], [1000.0, 1000.0]])  # one dead, one missing
    mbk = MiniBatchKMeans(
        3, init=bad, batch_size=200, random_state=0, max_no_improvement=None, max_iter=2
    ).fit(X)
    near_far_group = np.linalg.norm(mbk.cluster_centers_ - 30, axis=1).min()
    assert near_far_group < 1.0


def test_half_life_follows_a_drifting_stream():
    rng = np.random.RandomState(0)
    start = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])
    velocity = np.array([[0.1, 0.0], [0.0, 0.1], [-0.1, 0.0]])

    def batch(t):
        y = rng.randint(3, size=500)
        return start[y] + velocity[y] * t + 0.5 * rng.randn(500, 2)

    models = {
        h: MiniBatchKMeans(3, half_life=h, random_state=0, cluster_order="coordinates")
        for h in (None, 1000.0)
    }
    for t in range(100):
        X = batch(t)
        for m in models.values():
            m.partial_fit(X)
    truth = start + velocity * 99

    def error(m):
        return np.linalg.norm(m.cluster_centers_[:, None] - truth[None], axis=2).min(0).max()

    assert error(models[1000.0]) < 0.5  # follows the groups (they moved by 10)
    assert error(models[None]) > 3.0  # remembers everything: lags behind
    assert models[1000.0].counts_.sum() < 2 * 1000 / np.log(2)  # old weight forgotten


def test_sparse_and_float32(many):
    X = many[0]
    X32 = X.astype(np.float32)
    a = MiniBatchKMeans(30, random_state=0).fit(X32)
    assert a.cluster_centers_.dtype == np.float32
    nonneg = np.abs(X[:5000])
    nonneg[nonneg < 2] = 0
    s = MiniBatchKMeans(5, random_state=0).fit(sp.csr_matrix(nonneg))
    d = MiniBatchKMeans(5, random_state=0).fit(nonneg)
    assert s.inertia_ == pytest.approx(d.inertia_, rel=0.02)


def test_bad_input(many):
    with pytest.raises(ValueError, match="n_samples=5 should be >= n_clusters=30 in the first"):
        MiniBatchKMeans(30).partial_fit(many[0][:5])
    with pytest.raises(ValueError, match="'half_life' parameter of MiniBatchKMeans must be"):
        MiniBatchKMeans(3, half_life=0).fit(many[0])
    m = MiniBatchKMeans(3).partial_fit(many[0])
    with pytest.raises(ValueError, match="X has 3 features, but MiniBatchKMeans is expecting 16"):
        m.partial_fit(many[0][:, :3])
