"""Where code written for scikit-learn's or scipy's k-means would break on kmeanskit
(issue 22): each test failed before its fix."""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from kmeanskit import BisectingKMeans, KMeans, MiniBatchKMeans
from kmeanskit import vq as kvq


@pytest.fixture
def X():
    rs = np.random.RandomState(0)
    centres = rs.uniform(-10, 10, size=(4, 3))
    return np.vstack([c + rs.normal(size=(60, 3)) for c in centres])


# -- 1. algorithm='elkan' -------------------------------------------------------------
def test_kmeans_elkan_equals_lloyd_dense(X):
    C = X[[0, 70, 130, 200]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn warns nothing with elkan on dense X
        elkan = KMeans(4, algorithm="elkan", init=C, n_init=1).fit(X)
    lloyd = KMeans(4, algorithm="lloyd", init=C, n_init=1).fit(X)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, rtol=1e-12)
    assert elkan.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-12)


def test_kmeans_elkan_equals_lloyd_sparse(X):
    Xs = sp.csr_matrix(np.where(np.abs(X) > 3, X, 0.0))
    C = Xs[[0, 70, 130, 200]].toarray()
    elkan = KMeans(4, algorithm="elkan", init=C, n_init=1).fit(Xs)
    lloyd = KMeans(4, algorithm="lloyd", init=C, n_init=1).fit(Xs)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_, rtol=1e-12)
    assert elkan.inertia_ == pytest.approx(lloyd.inertia_, rel=1e-12)


def test_kmeans_elkan_single_cluster_warns_like_sklearn(X):
    message = "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd'"
    with pytest.warns(RuntimeWarning, match=re.escape(message)):
        km = KMeans(1, algorithm="elkan", n_init=1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_[0], X.mean(axis=0))


def test_bisecting_elkan_equals_lloyd(X):
    elkan = BisectingKMeans(4, algorithm="elkan", random_state=0).fit(X)
    lloyd = BisectingKMeans(4, algorithm="lloyd", random_state=0).fit(X)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)
    np.testing.assert_allclose(elkan.cluster_centers_, lloyd.cluster_centers_)


# -- 2. MiniBatchKMeans' step count -----------------------------------------------------
def test_minibatch_max_iter_one_is_one_pass(X):
    mbk = MiniBatchKMeans(4, max_iter=1, batch_size=100, random_state=0, tol=0.0)
    mbk.max_no_improvement = None
    mbk.fit(X)
    assert mbk.n_steps_ == 240 // 100  # the floor, as scikit-learn
    assert mbk.n_iter_ == 1


# -- 3. MiniBatchKMeans' warnings -------------------------------------------------------
def test_minibatch_explicit_init_with_n_init_warns(X):
    C = X[[0, 70, 130, 200]]
    message = (
        "Explicit initial center position passed: performing only one init in "
        "MiniBatchKMeans instead of n_init=3."
    )
    with pytest.warns(RuntimeWarning, match=re.escape(message)):
        warned = MiniBatchKMeans(4, init=C, n_init=3, random_state=0).fit(X)
    one = MiniBatchKMeans(4, init=C, n_init=1, random_state=0).fit(X)
    np.testing.assert_array_equal(warned.cluster_centers_, one.cluster_centers_)


def test_minibatch_explicit_init_auto_does_not_warn(X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        MiniBatchKMeans(4, init=X[[0, 70, 130, 200]], random_state=0).fit(X)


def test_minibatch_small_init_size_warns(X):
    message = (
        "init_size=2 should be larger than n_clusters=4. Setting it to min(3*n_clusters, n_samples)"
    )
    with pytest.warns(RuntimeWarning, match=re.escape(message)):
        MiniBatchKMeans(4, init_size=2, random_state=0).fit(X)


# -- 4. init arrays of the wrong shape: scikit-learn's words ----------------------------
@pytest.mark.parametrize("Estimator", [KMeans, MiniBatchKMeans])
def test_init_too_many_rows_sklearn_message(X, Estimator):
    message = "The shape of the initial centers (5, 3) does not match the number of clusters 4"
    with pytest.raises(ValueError, match=re.escape(message)):
        Estimator(4, init=X[:5], n_init=1).fit(X)


@pytest.mark.parametrize("Estimator", [KMeans, MiniBatchKMeans])
def test_init_wrong_features_sklearn_message(X, Estimator):
    message = (
        "The shape of the initial centers (4, 2) does not match the number of features "
        "of the data 3"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        Estimator(4, init=X[:4, :2], n_init=1).fit(X)


def test_minibatch_init_too_few_rows_sklearn_message(X):
    message = "The shape of the initial centers (3, 3) does not match the number of clusters 4"
    with pytest.raises(ValueError, match=re.escape(message)):
        MiniBatchKMeans(4, init=X[:3], n_init=1).fit(X)


def test_kmeans_partial_init_still_accepted(X):
    km = KMeans(4, init=X[[0, 70]], n_init=1, random_state=0).fit(X)
    np.testing.assert_array_equal(km.init_centers_[:2], X[[0, 70]])


# -- 5. bisecting_strategy='largest_cluster' counts points ------------------------------
def test_largest_cluster_counts_points_not_weight():
    rs = np.random.RandomState(1)
    many = rs.normal(0, 1, size=(40, 2))  # many light points
    few = rs.normal(100, 1, size=(10, 2))  # few heavy points
    X = np.vstack([many, few])
    w = np.r_[np.ones(40), np.full(10, 100.0)]
    km = BisectingKMeans(3, bisecting_strategy="largest_cluster", random_state=0)
    km.fit(X, sample_weight=w)
    # the first split separates the groups; the second splits the 40 light points
    heavy = np.unique(km.labels_[40:])
    assert heavy.size == 1 and np.count_nonzero(km.labels_ == heavy[0]) == 10
    assert np.unique(km.labels_[:40]).size == 2


# -- 6. scipy's refusals ----------------------------------------------------------------
def test_vq_kmeans_rank_three_raises_like_scipy():
    obs = np.random.RandomState(0).rand(10, 2, 3)
    with pytest.raises(ValueError, match="ndim different than 1 or 2 are not supported"):
        kvq.kmeans(obs, 2)
    with pytest.raises(ValueError, match="ndim different than 1 or 2 are not supported"):
        kvq.kmeans(obs, obs[:2])


def test_vq_complex_raises_like_scipy():
    rs = np.random.RandomState(0)
    with pytest.raises(ValueError, match="Unsupported dtype complex128"):
        kvq.vq(rs.rand(5, 2) + 1j, rs.rand(2, 2))
    with pytest.raises(ValueError, match="Unsupported dtype complex64"):
        kvq.vq(rs.rand(5, 2).astype(np.complex64), rs.rand(2, 2).astype(np.float32))


@pytest.mark.parametrize(
    "algorithm,sparse",
    [
        ("lloyd", False),
        ("lloyd", True),
        ("elkan", False),
        ("elkan", True),
        ("hamerly", False),
        ("yinyang", False),
    ],
)
def test_more_clusters_than_distinct_points_stops_after_one_iteration(algorithm, sparse):
    """Every point sits on its centre: relocating the empty cluster is pointless, and
    scikit-learn stops after one iteration (its issue 28055); kmeanskit moved the duplicate
    centre onto another point and ran a second iteration."""
    from sklearn.exceptions import ConvergenceWarning

    X = np.array([[0, 0], [1, 1], [1, 1], [1, 0], [0, 1]], dtype=float)
    km = KMeans(n_clusters=5, init=X, algorithm=algorithm)
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(4\)"):
        km.fit(sp.csr_matrix(X) if sparse else X)
    assert km.n_iter_ == 1
    np.testing.assert_array_equal(km.cluster_centers_, X)
