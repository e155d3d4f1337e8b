"""SphericalKMeans: cosine k-means on dense and sparse data."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SKKMeans
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import cosine_distances
from sklearn.preprocessing import normalize

from kmeanskit import KMeans, SphericalKMeans


@pytest.fixture(scope="module")
def directions():
    """Six directions in 20-d, samples at random lengths around them."""
    rng = np.random.RandomState(0)
    axes = normalize(rng.randn(6, 20))
    y = rng.randint(6, size=3000)
    X = (axes[y] + 0.15 * rng.randn(3000, 20)) * rng.uniform(0.5, 20, (3000, 1))
    return X, y


def tfidf_like(n=4000, d=3000, k=8, seed=0):
    """Sparse non-negative rows: each topic draws its words from its own vocabulary."""
    rng = np.random.RandomState(seed)
    topic = rng.randint(k, size=n)
    rows, cols, vals = [], [], []
    for i, t in enumerate(topic):
        words = np.unique(
            np.concatenate(
                [rng.randint(t * d // k, (t + 1) * d // k, size=25), rng.randint(0, d, size=5)]
            )
        )
        rows += [i] * len(words)
        cols += words.tolist()
        vals += (rng.exponential(1.0, len(words)) + 0.1).tolist()
    return sp.csr_matrix((vals, (rows, cols)), shape=(n, d)), topic


def test_unit_centres_and_cosine_transform(directions):
    X, y = directions
    skm = SphericalKMeans(6, random_state=0).fit(X)
    np.testing.assert_allclose(np.linalg.norm(skm.cluster_centers_, axis=1), 1.0, rtol=1e-12)
    assert adjusted_rand_score(y, skm.labels_) > 0.99
    np.testing.assert_allclose(
        skm.transform(X), cosine_distances(X, skm.cluster_centers_), atol=1e-12
    )
    assert (skm.predict(X) == skm.labels_).all()
    assert (skm.predict(X * 7.0) == skm.labels_).all()  # lengths do not matter
    cos = 1 - cosine_distances(X, skm.cluster_centers_)[np.arange(len(X)), skm.labels_]
    assert skm.inertia_ == pytest.approx(2 * (1 - cos).sum())


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
def test_same_partition_as_kmeans_on_normalised_data(directions, algorithm):
    # the two differ only where a point is nearly as close to two centres (k-means
    # centres of unit rows are shorter than 1): none are, with these separated groups
    X, y = directions
    Xn = normalize(X)
    init = Xn[[np.flatnonzero(y == j)[0] for j in range(6)]]
    skm = SphericalKMeans(6, init=init, algorithm=algorithm).fit(X)
    km = KMeans(6, init=init, algorithm=algorithm).fit(Xn)
    assert adjusted_rand_score(km.labels_, skm.labels_) == 1.0


def test_sparse_equals_dense(directions):
    X, y = directions
    X = np.abs(X)  # sparse-ish, non-negative like tf-idf
    X[X < 1] = 0
    keep = X.any(axis=1)  # a zero row is as near to every centre: ties break either way
    X, y = X[keep], y[keep]
    assert (X == 0).mean() > 0.3
    init = normalize(X[[np.flatnonzero(y == j)[0] for j in range(6)]])
    dense = SphericalKMeans(6, init=init).fit(X)
    sparse = SphericalKMeans(6, init=init).fit(sp.csr_matrix(X))
    assert (dense.labels_ == sparse.labels_).all()
    np.testing.assert_allclose(dense.cluster_centers_, sparse.cluster_centers_, atol=1e-10)
    assert dense.inertia_ == pytest.approx(sparse.inertia_, rel=1e-9)


def test_float32_agrees_with_float64(directions):
    X, _ = directions
    init = normalize(X[:6])
    a = SphericalKMeans(6, init=init).fit(X)
    b = SphericalKMeans(6, init=init.astype(np.float32)).fit(X.astype(np.float32))
    assert b.cluster_centers_.dtype == np.float32
    assert adjusted_rand_score(a.labels_, b.labels_) == 1.0


def test_tfidf_like_topics():
    X, topic = tfidf_like()
    skm = SphericalKMeans(8, n_init=3, random_state=0).fit(X)
    assert adjusted_rand_score(topic, skm.labels_) > 0.95
    # what a user would do with scikit-learn: normalise, then k-means; its partition,
    # scored by the cosine objective (unit centres), is no better
    Xn = normalize(X)
    sk = SKKMeans(8, n_init=3, random_state=0).fit(Xn)
    assert adjusted_rand_score(topic, sk.labels_) <= adjusted_rand_score(topic, skm.labels_)
    units = normalize(sk.cluster_centers_)
    sk_objective = 2 * (1 - np.asarray(Xn.multiply(units[sk.labels_]).sum(axis=1))).sum()
    assert skm.inertia_ <= sk_objective * (1 + 1e-6)


def test_given_centres_are_scaled_to_unit_length(directions):
    X, _ = directions
    init = normalize(X[:6]) * 5.0
    skm = SphericalKMeans(6, init=init, max_iter=1).fit(X)
    np.testing.assert_allclose(np.linalg.norm(skm.init_centers_, axis=1), 1.0)


def test_refine_is_refused(directions):
    X, _ = directions
    for refine in ("hartigan", "swap"):
        with pytest.raises(ValueError, match=f"refine='{refine}' moves centres off the unit"):
            SphericalKMeans(3, refine=refine).fit(X)
