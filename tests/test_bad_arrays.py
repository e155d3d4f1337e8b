"""The bad-array corpus: every estimator meets NaN, inf, huge values, one row, one feature,
constant columns, too few distinct rows, odd dtypes, odd sparse matrices and wrong shapes
with a clear error naming X (or the parameter), or with a documented behaviour.
No case may raise anything but these, from anywhere."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import kmeanskit as kk

K = 3
ESTIMATORS = {
    "KMeans": lambda: kk.KMeans(K, random_state=0),
    "MiniBatchKMeans": lambda: kk.MiniBatchKMeans(K, random_state=0),
    "SphericalKMeans": lambda: kk.SphericalKMeans(K, random_state=0),
    "BisectingKMeans": lambda: kk.BisectingKMeans(K, random_state=0),
    "KMedoids": lambda: kk.KMedoids(K, random_state=0),
    "KernelKMeans": lambda: kk.KernelKMeans(K, random_state=0),
    "KMeansConstrained": lambda: kk.KMeansConstrained(K, random_state=0),
    "XMeans": lambda: kk.XMeans(random_state=0),
    "GMeans": lambda: kk.GMeans(random_state=0),
    "KMeansFeatures": lambda: kk.KMeansFeatures([K], random_state=0),
}
SPARSE_OK = {"KMeans", "MiniBatchKMeans", "SphericalKMeans", "BisectingKMeans", "KMedoids"}


def _data():
    rs = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    return centres[np.arange(60) % 3] + rs.normal(scale=0.5, size=(60, 3))


X = _data()


def _bad(kind):
    x = X.copy()
    if kind == "nan":
        x[5, 1] = np.nan
    elif kind == "inf":
        x[7, 2] = -np.inf
    elif kind == "huge32":
        x = (x * 1e30).astype(np.float32)  # |x|^2 overflows float32
    elif kind == "huge64":
        x = x * 1e200  # |x|^2 overflows float64
    elif kind == "strings":
        x = np.array([["a", "b", "c"]] * 60, dtype=object)
    elif kind == "empty":
        x = x[:0]
    elif kind == "1d":
        x = x[:, 0]
    elif kind == "3d":
        x = x[:, :, None]
    return x


ERRORS = [
    ("nan", ValueError, "Input X contains NaN"),
    ("inf", ValueError, "Input X contains infinity"),
    (
        "huge32",
        ValueError,
        "X has values up to 7.12e\\+30 in absolute value: squared distances "
        "overflow float32|distances between the rows of X are not all finite",
    ),
    (
        "huge64",
        ValueError,
        "X has values up to 7.12e\\+200 in absolute value: squared distances "
        "overflow float64|distances between the rows of X are not all finite",
    ),
    ("strings", ValueError, "could not convert string to float: 'a'"),
    ("empty", ValueError, "Found array with 0 sample"),
    ("1d", ValueError, "Expected 2D array, got 1D array"),
    ("3d", ValueError, "Found array with dim 3"),
]


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("kind", "error", "match"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_values_give_a_clear_error(name, kind, error, match):
    with pytest.raises(error, match=match):
        ESTIMATORS[name]().fit(_bad(kind))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_values_at_predict_time(name):
    est = ESTIMATORS[name]().fit(X)
    use = est.transform if name == "KMeansFeatures" else est.predict
    with pytest.raises(ValueError, match=f"X has 2 features, but {name} is expecting 3"):
        use(X[:, :2])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        use(_bad("nan"))
    with pytest.raises(ValueError, match=r"overflow float64|not all finite"):
        use(_bad("huge64"))


@pytest.mark.parametrize("name", [n for n in ESTIMATORS if n not in ("XMeans", "GMeans")])
def test_a_single_row(name):
    with pytest.raises(ValueError, match=r"n_samples=1 should be >= (the largest )?n_clusters"):
        ESTIMATORS[name]().fit(X[:1])


@pytest.mark.parametrize("name", ["XMeans", "GMeans"])
def test_a_single_row_for_the_k_finders(name):
    """X-means and G-means start from k_min=1: one row is one cluster."""
    est = ESTIMATORS[name]().fit(X[:1])
    assert est.n_clusters_ == 1
    assert est.predict(X[:1]).tolist() == [0]


@pytest.mark.parametrize("name", ESTIMATORS)
def test_one_feature_and_constant_columns(name):
    """A single feature, or constant columns: fitted as any data (constants add nothing
    to any distance); the clusters are those of the varying feature."""
    groups = np.repeat([0.0, 10.0, 20.0], 20) + np.tile(np.linspace(-1, 1, 20), 3)
    truth = np.repeat([0, 1, 2], 20)
    for x in (groups[:, None], np.c_[np.full(60, 7.0), groups, np.full(60, -3.0)]):
        if name == "SphericalKMeans" and x.shape[1] == 1:
            # directions only: one feature has two directions, fewer than k
            with pytest.warns(ConvergenceWarning, match="distinct clusters \\(2\\)"):
                ESTIMATORS[name]().fit(x)
            continue
        est = ESTIMATORS[name]().fit(x)
        if name == "KMeansFeatures":
            assert np.isfinite(est.transform(x)).all()
            continue
        labels = est.predict(x)
        if name != "SphericalKMeans":  # its clusters are directions, not groups
            # each cluster within one group (X-means and G-means may split a group)
            assert all(np.unique(truth[labels == c]).size == 1 for c in np.unique(labels))
        if name not in ("XMeans", "GMeans", "SphericalKMeans"):
            assert np.unique(labels).size == 3


@pytest.mark.parametrize("name", ESTIMATORS)
def test_fewer_distinct_rows_than_clusters(name):
    """Two distinct rows, k = 3: a ConvergenceWarning saying so and two distinct clusters
    (scikit-learn's behaviour), or a clear error where a third cluster cannot exist."""
    x = np.repeat(X[:2], 30, axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est = ESTIMATORS[name]().fit(x)
        except ValueError as exc:
            assert name in ("BisectingKMeans", "KMeansConstrained", "KMedoids")
            assert "distinct" in str(exc)
            return
    if name in ("XMeans", "GMeans"):  # they choose k: two clusters, no warning needed
        assert est.n_clusters_ <= 2
        return
    if name == "KMeansFeatures":
        assert any(issubclass(w.category, ConvergenceWarning) for w in caught)
        return
    assert any(
        issubclass(w.category, ConvergenceWarning) and "distinct clusters (2)" in str(w.message)
        for w in caught
    )
    assert np.unique(est.predict(x)).size == 2


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("kind", ["int", "object", "float32"])
def test_other_dtypes_are_converted(name, kind):
    """Integers and numeric objects become float64, float32 stays float32: the same
    clustering as float64."""
    ref = ESTIMATORS[name]().fit(np.round(X * 10))
    x = {
        "int": np.round(X * 10).astype(np.int64),
        "object": np.round(X * 10).astype(object),
        "float32": np.round(X * 10).astype(np.float32),
    }[kind]
    est = ESTIMATORS[name]().fit(x)
    if name == "KMeansFeatures":
        np.testing.assert_allclose(
            est.transform(x), ref.transform(np.round(X * 10)), rtol=1e-4, atol=1e-6
        )
        return
    assert (est.predict(x) == ref.predict(np.round(X * 10))).all()


def _sparse_variants():
    dense = np.abs(X)
    explicit = sp.csr_matrix(dense)
    explicit.data[::4] = 0.0  # stored zeros
    dense_explicit = explicit.toarray()
    unsorted = sp.csr_matrix(dense_explicit)
    for i in range(unsorted.shape[0]):  # reverse each row's column order
        lo, hi = unsorted.indptr[i], unsorted.indptr[i + 1]
        unsorted.indices[lo:hi] = unsorted.indices[lo:hi][::-1].copy()
        unsorted.data[lo:hi] = unsorted.data[lo:hi][::-1].copy()
    unsorted.has_sorted_indices = False
    return dense_explicit, {"explicit zeros": explicit, "unsorted indices": unsorted}


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("variant", ["explicit zeros", "unsorted indices"])
def test_odd_sparse_matrices(name, variant):
    dense, variants = _sparse_variants()
    S = variants[variant]
    if name not in SPARSE_OK:
        with pytest.raises(TypeError, match="Sparse data was passed for X, but dense data"):
            ESTIMATORS[name]().fit(S)
        return
    est = ESTIMATORS[name]().fit(S)
    ref = ESTIMATORS[name]().fit(dense)
    assert (est.predict(S) == ref.predict(dense)).all()
    assert (est.predict(dense) == est.predict(S)).all()
