"""Hostile arrays, round two (issue 20): malformed CSR matrices, odd containers and
dtypes, values out of float range, bad weights. Each case gets a one-line ValueError
or TypeError naming ``X`` (or ``sample_weight``, or ``data``), or the documented
behaviour; never a crash, nor an error from inside the kernels.

A malformed CSR matrix can corrupt the heap of a process that reads it unchecked, so
those cases run in a subprocess: a crash fails the test instead of killing pytest."""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SkKMeans

import kmeanskit as kk
from kmeanskit import vq

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
SPARSE_OK = ["KMeans", "MiniBatchKMeans", "SphericalKMeans", "BisectingKMeans", "KMedoids"]


def _data():
    rs = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    return centres[np.arange(60) % 3] + rs.normal(scale=0.5, size=(60, 3))


X = _data()


def _sparse():
    x = np.abs(X)
    x[x < 1.0] = 0.0
    return sp.csr_matrix(x)


# -- malformed CSR matrices, in a subprocess ----------------------------------------------

CSR_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    # a 64-bit matrix must not be densified: a MemoryError then, not a swapping machine
    resource.setrlimit(resource.RLIMIT_AS, (24 << 30, resource.RLIM_INFINITY))
    import numpy as np, scipy.sparse as sp, kmeanskit as kk

    kind = sys.argv[1]
    rs = np.random.RandomState(0)
    dense = np.abs(rs.normal(size=(40, 5)))
    dense[dense < 0.4] = 0.0
    dense[:, 0] += 0.1  # every row has entries
    good = sp.csr_matrix(dense)

    def bad():
        m = good.copy()
        if kind == "negative index":
            m.indices[3] = -1
        elif kind == "index = n_features":
            m.indices[3] = 5
        elif kind == "far index":
            m.indices[-2] = 10**6
        elif kind == "decreasing indptr":
            m.indptr[10], m.indptr[11] = m.indptr[11], m.indptr[10]
        elif kind == "indptr past the entries":
            m.indptr[-1] += 7
        elif kind == "indptr not from 0":
            m.indptr[0] = 1
        elif kind == "64-bit columns":
            m = sp.csr_matrix(
                (m.data, m.indices.astype(np.int64) * 2**30, m.indptr.astype(np.int64)),
                shape=(40, 2**32 + 1),
            )
        return m

    fitted = {
        "KMeans": kk.KMeans(2, n_init=1, random_state=0).fit(good),
        "MiniBatchKMeans": kk.MiniBatchKMeans(2, random_state=0).fit(good),
        "BisectingKMeans": kk.BisectingKMeans(3, random_state=0).fit(good),
        "KMedoids": kk.KMedoids(2, random_state=0).fit(good),
    }
    calls = {
        "KMeans.fit": lambda: kk.KMeans(2, n_init=1, random_state=0).fit(bad()),
        "KMeans.fit(random)": lambda: kk.KMeans(2, init="random").fit(bad()),
        "MiniBatchKMeans.fit": lambda: kk.MiniBatchKMeans(2, random_state=0).fit(bad()),
        "MiniBatchKMeans.partial_fit(new)": lambda: kk.MiniBatchKMeans(2).partial_fit(bad()),
        "SphericalKMeans.fit": lambda: kk.SphericalKMeans(2, random_state=0).fit(bad()),
        "BisectingKMeans.fit": lambda: kk.BisectingKMeans(3, random_state=0).fit(bad()),
        "KMedoids.fit": lambda: kk.KMedoids(2, random_state=0).fit(bad()),
        "KMeans.predict": lambda: fitted["KMeans"].predict(bad()),
        "KMeans.transform": lambda: fitted["KMeans"].transform(bad()),
        "KMeans.score": lambda: fitted["KMeans"].score(bad()),
        "MiniBatchKMeans.partial_fit": lambda: fitted["MiniBatchKMeans"].partial_fit(bad()),
        "BisectingKMeans.predict": lambda: fitted["BisectingKMeans"].predict(bad()),
        "KMedoids.predict": lambda: fitted["KMedoids"].predict(bad()),
        "sweep": lambda: kk.sweep(bad(), [2, 3], random_state=0),
    }
    for name, call in calls.items():
        try:
            call()
        except ValueError as exc:
            print("refused", name, "|", str(exc).splitlines()[0], flush=True)
        except Exception as exc:
            print("failed", name, "|", type(exc).__name__, exc, flush=True)
        else:
            print("accepted", name, flush=True)
    """
)
CSR_KINDS = [
    "negative index",
    "index = n_features",
    "far index",
    "decreasing indptr",
    "indptr past the entries",
    "indptr not from 0",
    "64-bit columns",
]


@pytest.mark.parametrize("kind", CSR_KINDS)
def test_malformed_csr_is_refused_before_any_kernel(kind):
    """indices out of [0, n_features) (heap corruption, 'free(): invalid next size',
    before), an indptr that decreases, does not start at 0 or runs past the stored
    entries, 64-bit indices beyond int32: a ValueError naming X, at fit and at predict,
    transform, score and partial_fit."""
    done = subprocess.run(
        [sys.executable, "-c", CSR_SCRIPT, kind], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    lines = done.stdout.splitlines()
    assert len(lines) == 14, done.stdout
    want = ["| X is a malformed CSR matrix: "]
    if kind == "64-bit columns":  # refused as too wide at fit, as not 5 features after
        want = ["| X is a sparse matrix of 4294967297 columns", "| X has 4294967297 features"]
    for line in lines:
        assert line.startswith("refused") and any(w in line for w in want), line


def _duplicated(m):
    """m with every stored entry split in two halves, in reverse column order, and a
    flag that says (wrongly) that it is canonical."""
    rows = []
    for i in range(m.shape[0]):
        lo, hi = m.indptr[i], m.indptr[i + 1]
        rows.append((np.repeat(m.indices[lo:hi][::-1], 2), np.repeat(m.data[lo:hi][::-1] / 2, 2)))
    indptr = np.r_[0, np.cumsum([len(r[0]) for r in rows])].astype(np.int32)
    out = sp.csr_matrix(
        (np.concatenate([r[1] for r in rows]), np.concatenate([r[0] for r in rows]), indptr),
        shape=m.shape,
    )
    out.has_canonical_format = True  # a lie: kmeanskit must not trust it
    return out


@pytest.mark.parametrize("name", SPARSE_OK)
def test_duplicate_and_unsorted_entries_are_summed(name):
    """Duplicate entries count as their sum (scipy's meaning), whatever the flags say:
    the same fit as on the dense matrix, inertia included."""
    S = _sparse()
    D = _duplicated(S)
    assert D.nnz == 2 * S.nnz
    ref = ESTIMATORS[name]().fit(S)
    est = ESTIMATORS[name]().fit(D)
    assert (est.labels_ == ref.labels_).all()
    assert est.inertia_ == pytest.approx(ref.inertia_, rel=1e-12)
    assert (est.predict(D) == ref.predict(S)).all()
    assert (est.predict(S.toarray()) == ref.predict(S)).all()
    if hasattr(est, "score"):
        assert est.score(D) == pytest.approx(ref.score(S), rel=1e-12)
    assert D.nnz == 2 * S.nnz  # the caller's matrix is left as it was


def test_64_bit_indices_that_fit_in_32_bits_are_taken():
    """A CSR matrix with int64 indices of small values (scikit-learn's 'csr_64') is the
    same matrix: the same fit (it was refused before)."""
    S = _sparse()
    S64 = S.copy()
    S64.indices = S64.indices.astype(np.int64)
    S64.indptr = S64.indptr.astype(np.int64)
    ref = kk.KMeans(K, random_state=0).fit(S)
    est = kk.KMeans(K, random_state=0).fit(S64)
    assert (est.labels_ == ref.labels_).all()
    assert est.inertia_ == ref.inertia_
    assert (est.predict(S64) == ref.labels_).all()
    assert S64.indices.dtype == np.int64  # not changed in place


# -- odd containers and dtypes -------------------------------------------------------------


def test_float16_becomes_float64_as_in_scikit_learn():
    x16 = X.astype(np.float16)
    ours = kk.KMeans(K, random_state=0, n_init=1).fit(x16)
    theirs = SkKMeans(K, random_state=0, n_init=1).fit(x16)
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype == np.float64
    ref = kk.KMeans(K, random_state=0, n_init=1).fit(x16.astype(np.float64))
    assert (ours.labels_ == ref.labels_).all()


def test_bool_input_is_numbers():
    xb = X > 3.0
    ours = kk.KMeans(2, random_state=0).fit(xb)
    assert ours.cluster_centers_.dtype == np.float64
    ref = kk.KMeans(2, random_state=0).fit(xb.astype(np.float64))
    assert (ours.labels_ == ref.labels_).all()


def test_object_arrays():
    with pytest.raises(ValueError, match="Input X contains NaN"):
        kk.KMeans(K).fit(np.array([[1.0, None]] * 10 + [[2.0, 3.0]] * 10, dtype=object))
    with pytest.raises(ValueError, match="could not convert string to float: 'a'"):
        kk.KMeans(K).fit(np.array([[1.0, "a"]] * 10, dtype=object))
    ours = kk.KMeans(K, random_state=0).fit(X.astype(object))
    assert (ours.labels_ == kk.KMeans(K, random_state=0).fit(X).labels_).all()


def test_pandas_nullable_and_categorical_columns():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": pd.array([1, 2, None, 4] * 5, dtype="Int64"), "b": np.arange(20.0)})
    with pytest.raises(ValueError, match="Input X contains NaN"):
        kk.KMeans(2).fit(df)
    km = kk.KMeans(2, random_state=0).fit(df.fillna(0))
    assert km.n_features_in_ == 2
    cats = pd.DataFrame({"a": pd.Categorical(["x", "y"] * 10), "b": np.arange(20.0)})
    with pytest.raises(ValueError, match="could not convert string to float"):
        kk.KMeans(2).fit(cats)
    nums = pd.DataFrame({"a": pd.Categorical([1.0, 5.0] * 10), "b": np.arange(20.0)})
    km = kk.KMeans(2, random_state=0).fit(nums)
    assert np.isfinite(km.cluster_centers_).all()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_complex_and_featureless_input(name):
    with pytest.raises(ValueError, match="Complex data not supported"):
        ESTIMATORS[name]().fit(X + 1j)
    with pytest.raises(ValueError, match=r"0 feature\(s\) \(shape=\(60, 0\)\)"):
        ESTIMATORS[name]().fit(X[:, :0])
    with pytest.raises(ValueError, match=r"0 sample\(s\) \(shape=\(0, 3\)\)"):
        ESTIMATORS[name]().fit(X[:0])


TINY = [
    (1e-200, np.float64, r"X has values of at most \d\.\d+e-200 in absolute value: squared "),
    (1e-25, np.float32, r"underflow float32 .* or pass it as float64"),
]


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(("scale", "dtype", "match"), TINY, ids=["float64", "float32"])
def test_values_too_small_to_cluster(name, scale, dtype, match):
    """Squares below the smallest normal number: every distance loses its digits (or
    is 0), the labels would be noise. Refused at fit, naming X and the largest value;
    small rows are fine to predict (their distances are the centres')."""
    x = (X * scale).astype(dtype)
    with pytest.raises(ValueError, match=match):
        ESTIMATORS[name]().fit(x)
    est = ESTIMATORS[name]().fit(X.astype(dtype))
    use = est.transform if name == "KMeansFeatures" else est.predict
    assert np.isfinite(use(x)).all()


def test_all_zero_data_is_not_too_small():
    with pytest.warns(Warning, match="distinct clusters"):
        km = kk.KMeans(2, random_state=0).fit(np.zeros((10, 3)))
    assert km.inertia_ == 0.0


def test_read_only_memmap(tmp_path):
    np.save(tmp_path / "x.npy", X)
    xm = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert not xm.flags.writeable
    for name, make in ESTIMATORS.items():
        est = make().fit(xm)
        ref = make().fit(X)
        if name == "KMeansFeatures":
            np.testing.assert_allclose(est.transform(xm), ref.transform(X))
        else:
            assert (est.predict(xm) == ref.predict(X)).all(), name


# -- sample_weight -----------------------------------------------------------------------------

WEIGHTS = [
    (np.nan, r"sample_weight must be finite; got NaN or infinity \(nan at index 0\)"),
    (-1.0, r"sample_weight must be non-negative; got min -1\.0 \(index 0\)"),
    (0.0, "sample_weight must have at least one positive weight; all are zero"),
    (np.r_[np.ones(59), 1e39], r"got NaN or infinity \(1e\+39 beyond the float32 range at"),
    (np.ones(60) + 0j, "sample_weight must be real; got complex dtype complex128"),
    (np.r_[np.ones(59), -np.inf], r"sample_weight must be finite; .*\(-inf at index 59\)"),
]


WEIGHTED = [n for n in ESTIMATORS if n not in ("KMedoids", "KMeansFeatures")]


@pytest.mark.parametrize("name", WEIGHTED)
@pytest.mark.parametrize(("weights", "match"), WEIGHTS, ids=[str(i) for i in range(len(WEIGHTS))])
def test_bad_sample_weight(name, weights, match):
    """Scalar weights go through the same checks as arrays (a NaN or negative scalar
    was taken before), and weights are checked in X's dtype (1e39 is inf in float32)."""
    with pytest.raises(ValueError, match=match):
        ESTIMATORS[name]().fit(X.astype(np.float32), sample_weight=weights)


# -- kmeanskit.vq --------------------------------------------------------------------------


@pytest.mark.parametrize("minit", ["random", "points", "++"])
def test_kmeans2_refuses_what_it_cannot_cluster(minit):
    with pytest.raises(ValueError, match=r"data has values up to \d\.\d+e\+200 .* overflow"):
        vq.kmeans2(X * 1e200, 3, minit=minit, rng=0)
    with pytest.raises(ValueError, match=r"data has values of at most 7\.\d+e-200 .* underflow"):
        vq.kmeans2(X * 1e-200, 3, minit=minit, rng=0)
    with pytest.raises(ValueError, match=r"obs has values up to 7\.\d+e\+200"):
        vq.kmeans(X * 1e200, 3, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning from an initialisation first
        with pytest.raises(TypeError, match="type other than float or double not supported"):
            vq.kmeans2(X + 1j, 3, minit=minit, rng=0)
