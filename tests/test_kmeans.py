"""kmeanskit.KMeans: agreement with scikit-learn, invariances, errors."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import adjusted_rand_score

from kmeanskit import KMeans


def _first_rows(X, k, seed=0):
    idx = np.random.RandomState(seed).choice(X.shape[0], k, replace=False)
    init = X[idx]
    return init.toarray() if sp.issparse(init) else np.array(init)


@pytest.mark.parametrize("data", ["digits", "blobs", "sparse_data"])
@pytest.mark.parametrize("weighted", [False, True])
def test_same_as_sklearn_from_same_init(data, weighted, request):
    X = request.getfixturevalue(data)
    k = 10 if data == "digits" else 6
    init = _first_rows(X, k)
    w = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    ours = KMeans(k, init=init, n_init=1, max_iter=300).fit(X, sample_weight=w)
    ref = SkKMeans(k, init=init, n_init=1, max_iter=300, algorithm="lloyd").fit(X, sample_weight=w)
    assert_array_equal(ours.labels_, ref.labels_)
    assert abs(ours.inertia_ - ref.inertia_) / ref.inertia_ < 1e-6
    assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6, atol=1e-9)
    assert ours.n_iter_ == ref.n_iter_


def test_tiny_case_by_hand():
    X = np.array([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 4.0]])
    km = KMeans(2, init=np.array([[1.0, 1.0], [9.0, 1.0]]), n_init=1).fit(X)
    assert_array_equal(km.labels_, [0, 0, 1, 1])
    assert_allclose(km.cluster_centers_, [[0.0, 1.0], [10.0, 2.0]])
    # (1 + 1) + (4 + 4)
    assert km.inertia_ == pytest.approx(10.0)
    # iteration 1 assigns to the initial centres: 2 + 2 + 2 + 10
    assert km.inertia_history_[0] == pytest.approx(16.0)
    assert km.n_iter_ == 2  # the second iteration changes no label
    assert_allclose(km.transform([[0.0, 1.0]]), [[0.0, np.hypot(10.0, 1.0)]])
    assert km.score(X) == pytest.approx(-10.0)


def test_dense_equals_sparse(sparse_data):
    init = _first_rows(sparse_data, 5)
    a = KMeans(5, init=init, n_init=1).fit(sparse_data)
    b = KMeans(5, init=init, n_init=1).fit(sparse_data.toarray())
    assert_array_equal(a.labels_, b.labels_)
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-10, atol=1e-12)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-10)
    assert_array_equal(a.predict(sparse_data), b.predict(sparse_data.toarray()))


@pytest.mark.parametrize("n_features", [3, 40])  # direct distances and the BLAS path
def test_float32_equals_float64_on_separated_data(n_features):
    X, _ = make_blobs(800, n_features=n_features, centers=5, cluster_std=0.5, random_state=3)
    k32 = KMeans(5, random_state=0).fit(X.astype(np.float32))
    k64 = KMeans(5, random_state=0).fit(X)
    assert k32.cluster_centers_.dtype == np.float32
    assert k64.cluster_centers_.dtype == np.float64
    assert k32.transform(X.astype(np.float32)).dtype == np.float32
    assert_array_equal(k32.labels_, k64.labels_)
    assert_allclose(k32.cluster_centers_, k64.cluster_centers_, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_one_thread_equals_two_bit_for_bit(digits, sparse, init):
    X = sp.csr_matrix(digits) if sparse else digits
    one = KMeans(10, init=init, n_init=2, random_state=0, n_threads=1).fit(X)
    two = KMeans(10, init=init, n_init=2, random_state=0, n_threads=2).fit(X)
    assert_array_equal(one.labels_, two.labels_)
    assert one.cluster_centers_.tobytes() == two.cluster_centers_.tobytes()
    assert one.inertia_ == two.inertia_
    assert one.inertia_history_.tobytes() == two.inertia_history_.tobytes()


def test_weight_two_equals_duplicated_row(blobs):
    X = blobs[:300]
    w = np.ones(300)
    w[:40] = 2.0
    X_dup = np.vstack([X, X[:40]])
    init = X[[0, 50, 100, 150, 200, 250]]
    a = KMeans(6, init=init, n_init=1).fit(X, sample_weight=w)
    b = KMeans(6, init=init, n_init=1).fit(X_dup)
    assert_array_equal(a.labels_, b.labels_[:300])
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-12)
    assert a.inertia_ == pytest.approx(b.inertia_, rel=1e-12)


def test_scaling_all_weights_changes_nothing(blobs):
    init = blobs[:6]
    a = KMeans(6, init=init, n_init=1).fit(blobs)
    b = KMeans(6, init=init, n_init=1).fit(blobs, sample_weight=np.full(len(blobs), 3.5))
    assert_array_equal(a.labels_, b.labels_)
    assert_allclose(a.cluster_centers_, b.cluster_centers_)


@pytest.mark.parametrize("max_iter", [2, 300])  # a non-strict stop needs the last assignment
@pytest.mark.parametrize("sparse", [False, True])
def test_predict_equals_labels(digits, max_iter, sparse):
    X = sp.csr_matrix(digits) if sparse else digits
    km = KMeans(10, max_iter=max_iter, random_state=0).fit(X)
    assert_array_equal(km.predict(X), km.labels_)
    assert_array_equal(km.fit_predict(X), km.labels_)
    assert km.inertia_ == pytest.approx(-km.score(X), rel=1e-9)


def test_more_n_init_never_raises_inertia(digits):
    inertia = [KMeans(10, n_init=n, random_state=7).fit(digits).inertia_ for n in (1, 3, 6)]
    assert inertia[0] >= inertia[1] >= inertia[2]


def test_inertia_history_does_not_increase(digits):
    km = KMeans(10, init="random", n_init=1, random_state=1, tol=0).fit(digits)
    history = km.inertia_history_
    assert history.shape == (km.n_iter_,)
    assert np.all(np.diff(history) <= 1e-9 * history[0])
    assert km.inertia_ <= history[-1] * (1 + 1e-12)


def test_transform_and_fit_transform(blobs):
    km = KMeans(4, random_state=0)
    D = km.fit_transform(blobs)
    assert D.shape == (len(blobs), 4)
    expected = np.linalg.norm(blobs[:, None, :] - km.cluster_centers_[None], axis=2)
    assert_allclose(D, expected, rtol=1e-7)
    assert_array_equal(D.argmin(axis=1), km.labels_)


def test_random_init_picks_distinct_rows(blobs):
    km = KMeans(6, init="random", n_init=1, max_iter=1, random_state=0, tol=0)
    km.fit(blobs)
    assert np.unique(km.labels_).size == 6


def test_callable_init_sees_original_units(blobs):
    seen = {}

    def init(X, k, random_state):
        seen["mean"] = X.mean(axis=0)
        return X[:k]

    km = KMeans(3, init=init, n_init=1).fit(blobs)
    assert_allclose(seen["mean"], blobs.mean(axis=0))
    ref = KMeans(3, init=blobs[:3], n_init=1).fit(blobs)
    assert_array_equal(km.labels_, ref.labels_)


def test_copy_x_false_restores_data(blobs):
    X = blobs.copy()
    KMeans(3, random_state=0, copy_x=False).fit(X)
    assert_allclose(X, blobs, rtol=0, atol=1e-12)


def test_n_init_auto():
    X, _ = make_blobs(200, centers=3, random_state=0)
    assert KMeans(3, init="random", n_init="auto", random_state=0).fit(X)._resolve_n_init() == 10
    assert KMeans(3, n_init="auto", random_state=0).fit(X)._resolve_n_init() == 1


# -- stable cluster ids ----------------------------------------------------------
def test_cluster_order_size_is_stable_across_seeds():
    X, _ = make_blobs(
        [400, 250, 100], centers=[[0, 0], [10, 0], [0, 10]], cluster_std=0.5, random_state=0
    )
    runs = [KMeans(3, random_state=s, cluster_order="size").fit(X) for s in range(4)]
    for km in runs:
        assert_array_equal(np.bincount(km.labels_), [400, 250, 100])
        assert_array_equal(km.labels_, runs[0].labels_)
        assert_allclose(km.cluster_centers_, runs[0].cluster_centers_)
        assert_array_equal(km.predict(X), km.labels_)


def test_cluster_order_coordinates():
    X = np.array([[5.0], [5.1], [0.0], [0.1], [9.0]])
    km = KMeans(3, random_state=0, cluster_order="coordinates").fit(X)
    assert np.all(np.diff(km.cluster_centers_[:, 0]) > 0)
    assert_array_equal(km.labels_, [1, 1, 0, 0, 2])


# -- bad input ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_clusters": 0}, "'n_clusters' parameter of KMeans must be an int in the range"),
        ({"n_init": 0}, "'n_init' parameter of KMeans must be"),
        ({"init": "kmeans"}, "'init' parameter of KMeans must be"),
        ({"tol": -1.0}, "'tol' parameter of KMeans must be a float in the range"),
        ({"max_iter": 0}, "'max_iter' parameter of KMeans must be an int"),
        ({"n_threads": 0}, "'n_threads' parameter of KMeans must be"),
        ({"cluster_order": "colour"}, "'cluster_order' parameter of KMeans must be"),
        ({"algorithm": "full"}, "'algorithm' parameter of KMeans must be"),
        ({"algorithm": "elkan"}, None),
        ({"algorithm": "hamerly"}, None),
        ({"algorithm": "yinyang"}, None),
    ],
)
def test_bad_parameters(params, message):
    if message is None:  # a valid value: fits
        KMeans(2, **params).fit(np.random.RandomState(0).rand(10, 2))
        return
    with pytest.raises(ValueError, match=re.escape(message)):
        KMeans(**params).fit(np.zeros((10, 2)))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_is_refused(bad):
    X = np.ones((10, 2))
    X[3, 1] = bad
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        KMeans(2).fit(X)


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\)"):
        KMeans(2).fit(np.empty((0, 3)))


def test_more_clusters_than_samples():
    with pytest.raises(ValueError, match=re.escape("n_samples=3 should be >= n_clusters=5.")):
        KMeans(5).fit(np.arange(6.0).reshape(3, 2))


def test_predict_with_wrong_number_of_features(blobs):
    km = KMeans(3, random_state=0).fit(blobs)
    with pytest.raises(ValueError, match="X has 2 features, but KMeans is expecting 5 features"):
        km.predict(blobs[:, :2])
    with pytest.raises(NotFittedError, match="This KMeans instance is not fitted yet"):
        KMeans(3).predict(blobs)


@pytest.mark.parametrize(
    "init, message",
    [
        (
            np.zeros((4, 5)),
            re.escape(
                "The shape of the initial centers (4, 5) does not match the number of "
                "clusters 3. (kmeanskit takes 1 to n_clusters=3 rows"
            ),
        ),
        (
            np.zeros((0, 5)),
            re.escape("The shape of the initial centers (0, 5) does not match the number of"),
        ),
        (
            np.zeros((3, 2)),
            re.escape(
                "The shape of the initial centers (3, 2) does not match the number of "
                "features of the data 5."
            ),
        ),
        (np.zeros(3), re.escape("init must be a 2-D array of centres; got shape (3,)")),
        (np.full((3, 5), np.nan), "init row 0 is all NaN: leave it out"),
        (np.full((3, 5), np.inf), "init must not hold infinity; NaN marks a coordinate"),
    ],
)
def test_bad_init_array(blobs, init, message):
    with pytest.raises(ValueError, match=message):
        KMeans(3, init=init).fit(blobs)


def test_bad_callable_init(blobs):
    message = "The shape of the initial centers (2, 5) does not match the number of clusters 3."
    with pytest.raises(ValueError, match=re.escape(message)):
        KMeans(3, init=lambda X, k, random_state: X[:2]).fit(blobs)


def test_explicit_init_with_n_init_warns(blobs):
    with pytest.warns(RuntimeWarning, match="performing only one init in KMeans instead of"):
        KMeans(3, init=blobs[:3], n_init=5).fit(blobs)


@pytest.mark.parametrize(
    "weights, message",
    [
        (np.ones(5), re.escape("sample_weight must have shape (20,), one weight per sample; got")),
        (-np.ones(20), re.escape("sample_weight must be non-negative; got min -1.0")),
        (np.full(20, np.nan), "sample_weight must be finite; got NaN or infinity"),
        (np.zeros(20), "sample_weight must have at least one positive weight; all are zero"),
        (["a"] * 20, "sample_weight must be numeric; got"),
    ],
)
def test_bad_sample_weight(weights, message):
    X = np.random.RandomState(0).rand(20, 2)
    with pytest.raises(ValueError, match=message):
        KMeans(2).fit(X, sample_weight=weights)


def test_fewer_distinct_points_than_clusters_warns_and_works():
    X = np.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
    with pytest.warns(ConvergenceWarning, match=r"Number of distinct clusters \(2\) found smaller"):
        km = KMeans(4, random_state=0).fit(X)
    assert km.cluster_centers_.shape == (4, 2)
    assert np.isfinite(km.cluster_centers_).all()
    assert km.inertia_ == 0.0
    assert_array_equal(km.predict(X), km.labels_)
    assert adjusted_rand_score([0] * 5 + [1] * 5, km.labels_) == 1.0


# -- accelerated iterations -----------------------------------------------------
@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_features", [5, 40])  # direct distances and the BLAS path
def test_accelerated_equals_lloyd(algorithm, dtype, n_features):
    X, _ = make_blobs(3000, n_features=n_features, centers=40, cluster_std=2.0, random_state=1)
    X = X.astype(dtype)
    init = X[np.random.RandomState(0).choice(3000, 40, replace=False)]
    a = KMeans(40, init=init, n_init=1, algorithm="lloyd").fit(X)
    b = KMeans(40, init=init, n_init=1, algorithm=algorithm).fit(X)
    assert a.n_iter_ == b.n_iter_
    assert_array_equal(a.labels_, b.labels_)
    assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-6, atol=1e-6)
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-6)
    assert_allclose(b.inertia_history_, a.inertia_history_, rtol=1e-5)
    assert_array_equal(b.predict(X), b.labels_)


@pytest.mark.parametrize("algorithm", ["hamerly", "yinyang"])
def test_accelerated_one_thread_equals_two_and_relocates(blobs, algorithm):
    init = np.vstack([blobs[:5], [[1e3] * 5]])  # the last centre attracts nobody
    runs = [
        KMeans(6, init=init, n_init=1, algorithm=algorithm, n_threads=t).fit(blobs) for t in (1, 2)
    ]
    assert runs[0].cluster_centers_.tobytes() == runs[1].cluster_centers_.tobytes()
    assert_array_equal(runs[0].labels_, runs[1].labels_)
    assert np.unique(runs[0].labels_).size == 6
    ref = KMeans(6, init=init, n_init=1, algorithm="lloyd").fit(blobs)
    assert_array_equal(runs[0].labels_, ref.labels_)


def test_algorithms_need_dense_data(sparse_data):
    for algorithm in ("hamerly", "yinyang"):
        with pytest.raises(ValueError, match=f"algorithm='{algorithm}' needs dense X; got"):
            KMeans(3, algorithm=algorithm).fit(sparse_data)
