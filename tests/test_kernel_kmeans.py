"""KernelKMeans: k-means with a linear kernel, circles with an RBF kernel."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_circles
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import rbf_kernel

from kmeanskit import KernelKMeans, KMeans


def test_linear_kernel_is_kmeans_from_the_same_start():
    X, _ = make_blobs(600, centers=5, n_features=4, cluster_std=2.5, random_state=0)
    centers = X[[0, 100, 200, 300, 400]]
    start = np.argmin(((X[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    kk = KernelKMeans(5, kernel="linear", init=start).fit(X)
    km = KMeans(5, init=centers, algorithm="lloyd", tol=0).fit(X)
    assert (kk.labels_ == km.labels_).all()
    assert kk.inertia_ == pytest.approx(km.inertia_, rel=1e-9)
    np.testing.assert_allclose(kk.transform(X), km.transform(X) ** 2, atol=1e-6)
    assert (kk.predict(X) == km.predict(X)).all()


@pytest.mark.parametrize("seed", range(3))
def test_rbf_separates_concentric_circles(seed):
    X, y = make_circles(400, factor=0.3, noise=0.05, random_state=seed)
    kk = KernelKMeans(2, kernel="rbf", gamma=5.0, random_state=seed).fit(X)
    assert adjusted_rand_score(y, kk.labels_) == 1.0
    assert adjusted_rand_score(y, KMeans(2, random_state=seed).fit(X).labels_) < 0.1
    new, y_new = make_circles(100, factor=0.3, noise=0.05, random_state=seed + 10)
    assert adjusted_rand_score(y_new, kk.predict(new)) == 1.0


def test_precomputed_kernel_and_callable():
    X, y = make_circles(300, factor=0.3, noise=0.05, random_state=0)
    K = rbf_kernel(X, gamma=5.0)
    pre = KernelKMeans(2, kernel="precomputed", random_state=0).fit(K)
    named = KernelKMeans(2, kernel="rbf", gamma=5.0, random_state=0).fit(X)
    assert (pre.labels_ == named.labels_).all()
    assert (pre.predict(K[:50]) == named.predict(X[:50])).all()

    def rbf(a, b):
        return np.exp(-5.0 * ((a - b) ** 2).sum())

    call = KernelKMeans(2, kernel=rbf, random_state=0).fit(X[:120])
    assert adjusted_rand_score(y[:120], call.labels_) == 1.0
    with pytest.raises(ValueError, match="transform with kernel='precomputed'"):
        pre.transform(K[:5])
    with pytest.raises(ValueError, match="kernel of the new samples with the 300 training"):
        pre.predict(K[:5, :10])


def test_weights_equal_repeated_rows():
    X, _ = make_blobs(60, centers=3, random_state=1)
    start = np.arange(60) % 3
    w = np.ones(60)
    w[:10] = 2
    weighted = KernelKMeans(3, kernel="linear", init=start).fit(X, sample_weight=w)
    repeated = KernelKMeans(3, kernel="linear", init=np.r_[start, start[:10]]).fit(
        np.vstack([X, X[:10]])
    )
    assert (weighted.labels_ == repeated.labels_[:60]).all()
    assert weighted.inertia_ == pytest.approx(repeated.inertia_)


def test_bad_init():
    X = np.random.RandomState(0).rand(10, 2)
    with pytest.raises(ValueError, match=r"init as labels needs 10 integers in \[0, 3\)"):
        KernelKMeans(3, init=np.zeros(9, int)).fit(X)
    with pytest.raises(ValueError, match="needs a square matrix"):
        KernelKMeans(3, kernel="precomputed").fit(X)
