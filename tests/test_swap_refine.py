"""KMeans(refine='swap'): out of the local optimum plain k-means gets stuck in."""

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from conftest import load_sipu
from kmeanskit import KMeans
from kmeanskit.metrics import centroid_index


def test_stuck_start_is_repaired():
    truth = np.array([[0, 0], [10, 0], [20, 0], [0, 10]], dtype=float)
    X, _ = make_blobs(800, centers=truth, cluster_std=0.5, random_state=0)
    stuck = np.array([[-0.5, 0], [0.5, 0], [15, 0], [0, 10]])  # 2 in one group, 1 between 2
    plain = KMeans(4, init=stuck).fit(X)
    assert centroid_index(plain.cluster_centers_, truth) == 1
    swapped = KMeans(4, init=stuck, refine="swap", random_state=0).fit(X)
    assert centroid_index(swapped.cluster_centers_, truth) == 0
    assert swapped.inertia_ < plain.inertia_ / 10
    assert (swapped.labels_ == swapped.predict(X)).all()


@pytest.mark.parametrize("name", ["s3", "a2"])
def test_every_cluster_found_on_franti_sets(shared_data, name):
    from sklearn.cluster import KMeans as SKKMeans

    X, _, truth = load_sipu(shared_data, name)
    for seed in range(3):
        km = KMeans(len(truth), refine="swap", random_state=seed).fit(X)
        assert centroid_index(km.cluster_centers_, truth) == 0, seed
        best_of_10 = SKKMeans(len(truth), n_init=10, random_state=seed).fit(X).inertia_
        assert km.inertia_ <= best_of_10 * (1 + 1e-9), seed


def test_never_worse_than_plain_and_sparse_works():
    import scipy.sparse as sp

    X, _ = make_blobs(600, centers=8, n_features=5, random_state=3)
    for seed in range(3):
        plain = KMeans(8, random_state=seed).fit(X)
        swapped = KMeans(8, random_state=seed, refine="swap").fit(X)
        assert swapped.inertia_ <= plain.inertia_ * (1 + 1e-12)
    Xs = sp.csr_matrix(np.abs(X))
    assert KMeans(8, random_state=0, refine="swap").fit(Xs).inertia_ <= (
        KMeans(8, random_state=0).fit(Xs).inertia_ * (1 + 1e-12)
    )
    with pytest.raises(ValueError, match="refine='swap' moves every centre"):
        KMeans(2, init=X[:2], frozen=[0], refine="swap").fit(X)
