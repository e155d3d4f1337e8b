"""kmeanskit.vq against scipy.cluster.vq: same outputs, dtypes, warnings, errors."""

import inspect
import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.cluster import vq as scipy_vq

from kmeanskit import vq as our_vq


@pytest.fixture(scope="module")
def obs():
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0], [5.0, 0.0, 5.0]])
    return np.vstack([c + rng.randn(60, 3) for c in centres])


def _same(a, b, rtol=1e-7):
    assert type(a) is type(b) or (np.isscalar(a) and np.isscalar(b))
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    if np.issubdtype(a.dtype, np.integer):
        assert_array_equal(a, b)
    else:
        assert_allclose(a, b, rtol=rtol, atol=1e-12)


def _outcome(fn, *args, **kwargs):
    """(result, warnings) or (exception type, message)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # compared with scipy's, type and message
            return ("raised", type(exc), str(exc)), []
    return result, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("name", ["whiten", "vq", "kmeans", "kmeans2"])
def test_signatures_match_scipy(name):
    ours = inspect.signature(getattr(our_vq, name)).parameters
    theirs = inspect.signature(getattr(scipy_vq, name)).parameters
    for pname, param in theirs.items():
        assert pname in ours
        assert param.kind == ours[pname].kind
        assert repr(param.default) == repr(ours[pname].default)
    assert list(ours)[: len(theirs)] == list(theirs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whiten_and_unwhiten(obs, dtype):
    x = obs.astype(dtype)
    _same(our_vq.whiten(x), scipy_vq.whiten(x))
    white, std = our_vq.whiten(x, return_std=True)
    assert_allclose(our_vq.unwhiten(white, std), x, rtol=1e-6)


def test_whiten_constant_column_warns_like_scipy():
    x = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    ours, our_w = _outcome(our_vq.whiten, x)
    theirs, their_w = _outcome(scipy_vq.whiten, x)
    _same(ours, theirs)
    assert our_w == their_w
    white, std = our_vq.whiten(x, return_std=True, check_finite=False)
    assert std[1] == 1.0
    assert_allclose(our_vq.unwhiten(white, std), x)


def test_unwhiten_checks_shape():
    with pytest.raises(ValueError, match=re.escape("std must have shape (2,), one scale per")):
        our_vq.unwhiten(np.ones((3, 2)), np.ones(3))


@pytest.mark.parametrize(
    "obs_dtype, book_dtype",
    [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64), (int, int)],
)
def test_vq_matches_scipy(obs, obs_dtype, book_dtype):
    x = (obs * 10).astype(obs_dtype)
    book = x[[0, 70, 130, 200]].astype(book_dtype)
    ours = our_vq.vq(x, book)
    theirs = scipy_vq.vq(x, book)
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1], rtol=1e-6)


def test_vq_one_dimensional():
    x = np.array([0.0, 1.0, 9.0, 10.0])
    book = np.array([0.5, 9.5])
    for a, b in zip(our_vq.vq(x, book), scipy_vq.vq(x, book), strict=True):
        _same(a, b)


@pytest.mark.parametrize(
    "args",
    [
        (np.ones((4, 2)), np.ones((2, 3))),
        (np.ones(4), np.ones((2, 2))),
        (np.ones((4, 2), dtype=np.float16), np.ones((2, 2), dtype=np.float16)),
        (np.array([[np.nan, 1.0]]), np.ones((2, 2))),
        (np.array([[1.0, 2.0]]), np.array([[np.inf, 2.0]])),
    ],
)
def test_vq_errors_match_scipy(args):
    ours, _ = _outcome(our_vq.vq, *args)
    theirs, _ = _outcome(scipy_vq.vq, *args)
    assert ours[0] == theirs[0] == "raised"
    assert ours[1:] == theirs[1:]


def test_vq_empty_code_book_is_a_clear_error():
    # scipy returns uninitialised memory here; we refuse instead
    with pytest.raises(ValueError, match=re.escape("code_book must hold at least one code")):
        our_vq.vq(np.ones((3, 2)), np.ones((0, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "seed_kw",
    [
        lambda: {"rng": 3},
        lambda: {"seed": 3},
        lambda: {"rng": np.random.default_rng(3)},
        lambda: {"seed": np.random.RandomState(3)},
    ],
)
def test_kmeans_matches_scipy(obs, dtype, seed_kw):
    x = our_vq.whiten(obs).astype(dtype)
    ours = our_vq.kmeans(x, 4, **seed_kw())
    theirs = scipy_vq.kmeans(x, 4, **seed_kw())
    _same(ours[0], theirs[0], rtol=1e-5)
    _same(ours[1], theirs[1], rtol=1e-5)


def test_kmeans_with_guess_and_dropped_centroid(obs):
    guess = np.vstack([obs[[0, 70, 130, 200]], [[100.0, 100.0, 100.0]]])
    ours = our_vq.kmeans(obs, guess)
    theirs = scipy_vq.kmeans(obs, guess)
    assert ours[0].shape == theirs[0].shape == (4, 3)  # the far centroid lost everyone
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


def test_kmeans_iter_means_restarts(obs):
    ours = our_vq.kmeans(obs, 4, iter=1, thresh=1e-8, rng=11)
    theirs = scipy_vq.kmeans(obs, 4, iter=1, thresh=1e-8, rng=11)
    _same(ours[1], theirs[1])


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((2,), {"iter": 0}),
        ((2.5,), {}),
        ((0,), {}),
        ((500,), {"rng": 0}),
        ((np.zeros((0, 3)),), {}),
        ((2,), {"rng": 0, "seed": 0}),
    ],
)
def test_kmeans_errors_match_scipy(obs, args, kwargs):
    ours, _ = _outcome(our_vq.kmeans, obs, *args, **kwargs)
    theirs, _ = _outcome(scipy_vq.kmeans, obs, *args, **kwargs)
    assert ours[0] == theirs[0] == "raised"
    assert ours[1:] == theirs[1:]


def test_kmeans_integer_data_errors_like_scipy():
    x = np.array([[1, 2], [3, 4], [5, 6], [0, 1]])
    ours, _ = _outcome(our_vq.kmeans, x, 2, rng=0)
    theirs, _ = _outcome(scipy_vq.kmeans, x, 2, rng=0)
    assert ours == theirs


@pytest.mark.parametrize("minit", ["random", "points", "++"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kmeans2_matches_scipy(obs, minit, dtype):
    x = obs.astype(dtype)
    ours = our_vq.kmeans2(x, 4, iter=15, minit=minit, rng=7)
    theirs = scipy_vq.kmeans2(x, 4, iter=15, minit=minit, rng=7)
    _same(ours[0], theirs[0], rtol=1e-5)
    _same(ours[1], theirs[1])


@pytest.mark.parametrize("minit", ["random", "points", "++"])
def test_kmeans2_one_dimensional_and_wide(minit):
    rng = np.random.RandomState(4)
    flat = np.concatenate([rng.randn(30), rng.randn(30) + 8])
    wide = rng.rand(6, 10)  # more features than observations
    for data, k in [(flat, 2), (wide, 2)]:
        ours = our_vq.kmeans2(data, k, minit=minit, seed=1)
        theirs = scipy_vq.kmeans2(data, k, minit=minit, seed=1)
        _same(ours[0], theirs[0])
        _same(ours[1], theirs[1])


def test_kmeans2_matrix_init(obs):
    book = obs[[0, 70, 130, 200]]
    ours = our_vq.kmeans2(obs, book, minit="matrix")
    theirs = scipy_vq.kmeans2(obs, book, minit="matrix")
    _same(ours[0], theirs[0])
    _same(ours[1], theirs[1])


def test_kmeans2_missing_warn_and_raise(obs):
    book = np.vstack([obs[[0, 70]], [[100.0, 100.0, 100.0]]])
    ours, our_w = _outcome(our_vq.kmeans2, obs, book, minit="matrix")
    theirs, their_w = _outcome(scipy_vq.kmeans2, obs, book, minit="matrix")
    assert our_w == their_w and len(our_w) == 10
    _same(ours[0], theirs[0])
    assert_allclose(ours[0][2], [100.0, 100.0, 100.0])  # the empty one stayed put
    with pytest.raises(scipy_vq.ClusterError, match="One of the clusters is empty"):
        our_vq.kmeans2(obs, book, minit="matrix", missing="raise")


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((4,), {"iter": 0}),
        ((4,), {"missing": "ignore"}),
        ((4,), {"minit": "kmeans++"}),
        ((0,), {}),
        ((np.ones((2, 2)),), {"minit": "matrix"}),
        ((np.ones(2),), {"minit": "matrix"}),
        ((np.ones((0, 3)),), {}),
        ((500,), {"minit": "points", "rng": 0}),
    ],
)
def test_kmeans2_errors_match_scipy(obs, args, kwargs):
    ours, _ = _outcome(our_vq.kmeans2, obs, *args, **kwargs)
    theirs, _ = _outcome(scipy_vq.kmeans2, obs, *args, **kwargs)
    assert ours[0] == theirs[0] == "raised"
    assert ours[1:] == theirs[1:]


def test_kmeans2_rank_three_and_non_integer_k(obs):
    ours, _ = _outcome(our_vq.kmeans2, np.ones((2, 2, 2)), 2)
    theirs, _ = _outcome(scipy_vq.kmeans2, np.ones((2, 2, 2)), 2)
    assert ours == theirs
    ours, our_w = _outcome(our_vq.kmeans2, obs, 2.5, minit="points", rng=0)
    theirs, their_w = _outcome(scipy_vq.kmeans2, obs, 2.5, minit="points", rng=0)
    assert our_w == their_w
    _same(ours[0], theirs[0])


def test_unseeded_calls_have_scipys_shapes_and_dtypes(obs):
    x = obs.astype(np.float32)
    for ours, theirs in [
        (our_vq.kmeans(x, 3), scipy_vq.kmeans(x, 3)),
        (our_vq.kmeans2(x, 3, minit="++"), scipy_vq.kmeans2(x, 3, minit="++")),
    ]:
        for a, b in zip(ours, theirs, strict=True):
            assert np.shape(a) == np.shape(b)
            assert np.asarray(a).dtype == np.asarray(b).dtype


def test_global_numpy_seed_is_used_without_rng(obs):
    np.random.seed(5)
    ours = our_vq.kmeans2(obs, 4, minit="points")
    np.random.seed(5)
    theirs = scipy_vq.kmeans2(obs, 4, minit="points")
    _same(ours[0], theirs[0])
