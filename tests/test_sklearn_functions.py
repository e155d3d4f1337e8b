"""``kmeanskit.k_means`` and ``kmeanskit.kmeans_plusplus`` called as scikit-learn's
own tests call ``sklearn.cluster.k_means`` and ``kmeans_plusplus``
(sklearn/cluster/tests/test_k_means.py: test_k_means_function, test_kmeans_plusplus_*),
and against scikit-learn's results (issue 22)."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import k_means as sk_k_means
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs
from sklearn.metrics.cluster import v_measure_score
from sklearn.utils.extmath import row_norms

import kmeanskit
from kmeanskit import k_means, kmeans_plusplus

# the data of scikit-learn's tests: non centred, sparse centres
centers = np.array(
    [
        [0.0, 5.0, 0.0, 0.0, 0.0],
        [1.0, 1.0, 4.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 5.0, 1.0],
    ]
)
n_samples = 100
n_clusters, n_features = centers.shape
X, true_labels = make_blobs(n_samples=n_samples, centers=centers, cluster_std=1.0, random_state=42)
X_csr = sp.csr_matrix(X)
SEEDS = [0, 1, 42]


def test_exported():
    assert kmeanskit.k_means is k_means and kmeanskit.kmeans_plusplus is kmeans_plusplus
    assert {"k_means", "kmeans_plusplus"} <= set(kmeanskit.__all__)


@pytest.mark.parametrize("seed", SEEDS)
def test_k_means_function(seed):
    cluster_centers, labels, inertia = k_means(
        X, n_clusters=n_clusters, sample_weight=None, random_state=seed
    )
    assert cluster_centers.shape == (n_clusters, n_features)
    assert np.unique(labels).shape[0] == n_clusters
    assert_allclose(v_measure_score(true_labels, labels), 1.0)
    assert inertia > 0.0


def test_k_means_function_return_n_iter_and_matches_sklearn():
    ours = k_means(X, n_clusters, random_state=0, return_n_iter=True)
    theirs = sk_k_means(X, n_clusters, random_state=0, return_n_iter=True)
    assert len(ours) == len(theirs) == 4
    assert_array_equal(ours[1], theirs[1])
    assert_allclose(ours[0], theirs[0], rtol=1e-10)
    assert ours[2] == pytest.approx(theirs[2], rel=1e-10)
    assert ours[3] == theirs[3]
    assert len(k_means(X, n_clusters, random_state=0)) == 3


def test_k_means_function_passes_parameters():
    init = X[[0, 1, 2]]
    c, labels, inertia, n_iter = k_means(
        X, 3, init=init, n_init=1, max_iter=1, algorithm="elkan", return_n_iter=True
    )
    km = kmeanskit.KMeans(3, init=init, n_init=1, max_iter=1, algorithm="lloyd").fit(X)
    assert n_iter == km.n_iter_ == 1
    assert_array_equal(labels, km.labels_)
    assert_allclose(c, km.cluster_centers_)
    assert inertia == km.inertia_
    w = np.ones(n_samples)
    w[:10] = 0
    _, _, weighted = k_means(X, 3, sample_weight=w, random_state=0)
    _, _, unweighted = k_means(X[10:], 3, random_state=0)
    assert weighted == pytest.approx(unweighted, rel=1e-6)


def test_k_means_function_validates():
    with pytest.raises(ValueError, match="return_n_iter"):
        k_means(X, 3, return_n_iter="yes")
    with pytest.raises(ValueError, match="n_clusters"):
        k_means(X, 0)
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=101"):
        k_means(X, 101)


def test_kmeans_plusplus_wrong_params():
    match = r"The length of x_squared_norms .* should be equal to the length of n_samples"
    with pytest.raises(ValueError, match=match):
        kmeans_plusplus(X, n_clusters, x_squared_norms=X[:2])


@pytest.mark.parametrize(
    "param, match",
    [
        ({"n_local_trials": 0}, "n_local_trials"),
        ({"sample_weight": np.ones(3)}, "sample_weight"),
    ],
)
def test_kmeans_plusplus_bad_values(param, match):
    with pytest.raises(ValueError, match=match):
        kmeans_plusplus(X, n_clusters, **param)
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_plusplus(X, 0)
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=101"):
        kmeans_plusplus(X, 101)


@pytest.mark.parametrize("input_data", [X, X_csr], ids=["dense", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", SEEDS)
def test_kmeans_plusplus_output(input_data, dtype, seed):
    data = input_data.astype(dtype)
    centers, indices = kmeans_plusplus(data, n_clusters, random_state=seed)
    assert indices.shape[0] == n_clusters
    assert (indices >= 0).all()
    assert (indices <= data.shape[0]).all()
    assert centers.shape[0] == n_clusters
    assert (centers.max(axis=0) <= data.max(axis=0)).all()
    assert (centers.min(axis=0) >= data.min(axis=0)).all()
    assert_allclose(X[indices].astype(dtype), centers)
    assert centers.dtype == dtype


@pytest.mark.parametrize("x_squared_norms", [row_norms(X, squared=True), None])
def test_kmeans_plusplus_norms(x_squared_norms):
    centers, indices = kmeans_plusplus(X, n_clusters, x_squared_norms=x_squared_norms)
    assert_allclose(X[indices], centers)


@pytest.mark.parametrize("seed", SEEDS)
def test_kmeans_plusplus_dataorder(seed):
    centers_c, _ = kmeans_plusplus(X, n_clusters, random_state=seed)
    centers_fortran, _ = kmeans_plusplus(np.asfortranarray(X), n_clusters, random_state=seed)
    assert_allclose(centers_c, centers_fortran)


@pytest.mark.parametrize("seed", SEEDS)
def test_kmeans_plusplus_same_seeds_as_sklearn(seed):
    ours, our_idx = kmeans_plusplus(X, n_clusters, random_state=seed)
    theirs, their_idx = sk_kmeans_plusplus(X, n_clusters, random_state=seed)
    assert_array_equal(our_idx, their_idx)
    assert_allclose(ours, theirs)
