"""BisectingKMeans: the tree, cuts at any k, agreement with scikit-learn's."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import BisectingKMeans as SKBisecting
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score

from kmeanskit import BisectingKMeans, KMeans


@pytest.fixture(scope="module")
def nested():
    """Four groups, in two pairs far apart: the first split separates the pairs."""
    centres = np.array([[0, 0], [0, 6], [60, 0], [60, 6]], dtype=float)
    X, y = make_blobs(2000, centers=centres, cluster_std=1.0, random_state=0)
    return X, y


@pytest.mark.parametrize("strategy", ["biggest_inertia", "largest_cluster"])
def test_cut_at_every_k_without_refitting(nested, strategy):
    X, y = nested
    bkm = BisectingKMeans(6, bisecting_strategy=strategy, random_state=0).fit(X)
    assert len(bkm.split_nodes_) == 5 and bkm.tree_parent_.shape == (11,)
    previous = np.inf
    for k in range(1, 7):
        cut = bkm.cut(k)
        assert np.unique(cut.labels).size == k and cut.centers.shape == (k, 2)
        assert (bkm.predict(X, k=k) == cut.labels).all()
        # the inertia of a cut is that of its labels and centres, and falls with k
        direct = ((X - cut.centers[cut.labels]) ** 2).sum()
        assert cut.inertia == pytest.approx(direct)
        assert cut.inertia < previous
        previous = cut.inertia
        # each cluster at k is a union of clusters at k + 1 (a tree)
        if k < 6:
            finer = bkm.cut(k + 1).labels
            assert all(np.unique(cut.labels[finer == j]).size == 1 for j in range(k + 1))
    assert adjusted_rand_score(y, bkm.cut(4).labels) > 0.99  # a few points overlap
    assert adjusted_rand_score(np.array([0, 0, 1, 1])[y], bkm.cut(2).labels) == 1.0
    full = bkm.cut(6)
    assert (full.labels == bkm.labels_).all() and full.inertia == bkm.inertia_
    assert (bkm.predict(X) == bkm.labels_).all()
    assert bkm.score(X) == pytest.approx(-bkm.inertia_)


def test_close_to_sklearn(nested):
    X, _ = make_blobs(3000, centers=8, n_features=5, random_state=2)
    ours = BisectingKMeans(8, random_state=0).fit(X)
    theirs = SKBisecting(8, random_state=0).fit(X)
    assert ours.inertia_ <= theirs.inertia_ * 1.05
    assert ours.inertia_ >= KMeans(8, n_init=5, random_state=0).fit(X).inertia_ * 0.999


def test_sparse_equals_dense():
    X, _ = make_blobs(600, centers=4, n_features=6, random_state=1)
    X = np.abs(X)
    X[X < 3] = 0
    dense = BisectingKMeans(4, random_state=0, init="k-means++").fit(X)
    sparse = BisectingKMeans(4, random_state=0, init="k-means++").fit(sp.csr_matrix(X))
    assert (dense.labels_ == sparse.labels_).all()
    np.testing.assert_allclose(dense.cluster_centers_, sparse.cluster_centers_, atol=1e-10)


def test_duplicates_and_bad_k():
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    bkm = BisectingKMeans(2, random_state=0).fit(X)
    assert sorted(np.bincount(bkm.labels_).tolist()) == [5, 5]
    with pytest.raises(ValueError, match="cannot make 3 clusters: X has only 2 distinct"):
        BisectingKMeans(3, random_state=0).fit(X)
    with pytest.raises(ValueError, match=r"k must be an integer in \[1, n_clusters=2\]; got 3"):
        bkm.cut(3)
