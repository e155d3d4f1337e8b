"""The engine's driver registry: one list of the exact algorithms, for every caller."""

import inspect

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError, StrOptions

from kmeanskit import KMeans
from kmeanskit._engine import DENSE_ONLY, DRIVERS, driver, lloyd

#: the values ``KMeans(algorithm=...)`` accepted before the registry
ACCEPTED_BEFORE = {"auto", "lloyd", "hamerly", "yinyang"}


def _blobs(n=900, d=5, k=12, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.uniform(-10, 10, (k, d))
    X = centres[rng.randint(k, size=n)] + rng.normal(size=(n, d))
    return X, X[rng.choice(n, k, replace=False)]


@pytest.mark.parametrize("name", sorted(DRIVERS))
@pytest.mark.parametrize("n_features", [5, 20])  # 20: the product paths
def test_every_driver_reaches_lloyds_labels(name, n_features):
    X, init = _blobs(d=n_features)
    w = np.ones(X.shape[0])
    ref = lloyd(X, w, init, max_iter=100)
    got = driver(name)(X, w, init, max_iter=100, tol=0.0, n_threads=2)
    assert_array_equal(got.labels, ref.labels)
    assert got.inertia == pytest.approx(ref.inertia, rel=1e-9)


def test_drivers_share_one_signature():
    keywords = {"max_iter", "tol", "n_threads", "stats", "frozen", "normalize"}
    for name, fn in DRIVERS.items():
        params = inspect.signature(fn).parameters
        kw_only = {p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY}
        assert kw_only == keywords, name
        assert len(params) == 3 + len(keywords), name


@pytest.mark.parametrize("bad", ["nope", "elkan", "", None, ["lloyd"]])
def test_an_unknown_name_is_a_value_error_naming_it(bad):
    with pytest.raises(ValueError, match=repr(bad).replace("[", r"\[").replace("]", r"\]")):
        driver(bad)


def test_unknown_driver_message():
    with pytest.raises(ValueError, match="'nope'") as err:
        driver("nope")
    for name in DRIVERS:
        assert name in str(err.value)


def test_kmeans_accepts_exactly_the_registry():
    (option,) = KMeans._parameter_constraints["algorithm"]
    assert isinstance(option, StrOptions)
    # and scikit-learn's 'elkan', an alias of 'auto' (issue 22)
    assert set(option.options) == set(DRIVERS) | {"elkan"}
    assert set(DRIVERS) == ACCEPTED_BEFORE
    X, init = _blobs(n=200, k=4)
    labels = {
        name: KMeans(4, init=init, n_init=1, algorithm=name).fit(X).labels_
        for name in [*DRIVERS, "elkan"]
    }
    for got in labels.values():
        assert_array_equal(got, labels["lloyd"])
    for bad in ("full", "nope"):
        with pytest.raises(InvalidParameterError, match="algorithm"):
            KMeans(4, algorithm=bad).fit(X)


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_dense_only_drivers_refuse_sparse_input(name):
    X, init = _blobs(n=200, k=4)
    km = KMeans(4, init=init, n_init=1, algorithm=name)
    if name in DENSE_ONLY:
        with pytest.raises(ValueError, match="needs dense X"):
            km.fit(sp.csr_matrix(X))
    else:
        assert_array_equal(km.fit(sp.csr_matrix(X)).labels_, km.fit(X).labels_)
