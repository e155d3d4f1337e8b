"""Property-based tests of the engine (hypothesis): what must hold for any data.

Data sets are drawn as (seed, size, shape, scale, offset, duplicated rows) and made by
numpy from the seed, so that exact ties between distances, which would make two correct
answers differ, have probability zero; hypothesis explores the sizes, shapes, scales and
offsets, and shrinks a failure to the smallest such case.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kmeanskit import KMeans, KMeansConstrained
from kmeanskit._engine import hamerly, lloyd, yinyang

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALGORITHMS = {"lloyd": lloyd, "hamerly": hamerly, "yinyang": yinyang}
#: repeated rows may leave fewer distinct clusters than k: KMeans then warns, as it should
FEW_CLUSTERS_OK = pytest.mark.filterwarnings(
    "ignore:Number of distinct clusters:sklearn.exceptions.ConvergenceWarning"
)


@st.composite
def problems(draw, max_n=80, max_d=6, max_k=6, duplicates=True):
    seed = draw(st.integers(0, 2**31 - 1))
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(k, max_n))
    d = draw(st.integers(1, max_d))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    offset = draw(st.sampled_from([0.0, 1.0, -1e4]))
    n_dup = draw(st.integers(0, n // 4)) if duplicates else 0
    rs = np.random.RandomState(seed)
    X = rs.normal(size=(n, d)) * scale + offset
    if n_dup:  # some rows repeated: duplicates are common in real data
        X[rs.choice(n, n_dup)] = X[rs.choice(n, n_dup)]
    w = rs.uniform(0.5, 2.0, n) if draw(st.booleans()) else np.ones(n)
    distinct = np.unique(X, axis=0)
    assume(len(distinct) >= k)  # k distinct starting centres
    init = distinct[rs.choice(len(distinct), k, replace=False)].copy()
    return X, w, init


def _brute(X, centers):
    return ((X[:, None, :] - centers[None]) ** 2).sum(-1)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@SETTINGS
@given(problem=problems())
def test_the_objective_never_increases(algorithm, problem):
    X, w, init = problem
    res = ALGORITHMS[algorithm](X, w, init, max_iter=50)
    history = np.asarray(res.history)
    # up to rounding: the objective is summed from terms of the size of w |x|^2
    slack = 1e-12 * float(w @ (X * X).sum(axis=1)) + 1e-9 * float(history.max())
    assert (np.diff(history) <= slack).all()
    assert res.inertia <= history[-1] + slack


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@SETTINGS
@given(problem=problems())
def test_labels_are_the_nearest_centres(algorithm, problem):
    X, w, init = problem
    res = ALGORITHMS[algorithm](X, w, init, max_iter=50)
    d2 = _brute(X, res.centers)
    own = d2[np.arange(len(X)), res.labels]
    assert (own <= d2.min(axis=1) * (1 + 1e-9) + 1e-12 * (1 + d2.max())).all()
    inertia = float((w * own).sum())
    assert res.inertia == pytest.approx(inertia, rel=1e-9, abs=1e-12 * (1 + d2.max()))


@SETTINGS
@given(problem=problems(duplicates=False), data=st.data())
def test_invariant_under_row_permutation(problem, data):
    """(Without repeated rows: which of two equal rows moves to an empty cluster
    follows the row order, by the empty-cluster rule.)"""
    X, w, init = problem
    perm = np.random.RandomState(data.draw(st.integers(0, 1000))).permutation(len(X))
    a = KMeans(len(init), init=init, algorithm="lloyd").fit(X, sample_weight=w)
    b = KMeans(len(init), init=init, algorithm="lloyd").fit(X[perm], sample_weight=w[perm])
    scale = float(np.abs(X).max()) + 1.0
    np.testing.assert_allclose(b.cluster_centers_, a.cluster_centers_, rtol=1e-9, atol=1e-9 * scale)
    assert (b.labels_ == a.labels_[perm]).all()
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-9, abs=1e-12 * scale**2)


@FEW_CLUSTERS_OK
@SETTINGS
@given(problem=problems(), shift=st.sampled_from([-50.0, 0.25, 1e3]))
def test_invariant_under_translation(problem, shift):
    X, w, init = problem
    a = KMeans(len(init), init=init, algorithm="lloyd").fit(X, sample_weight=w)
    b = KMeans(len(init), init=init + shift, algorithm="lloyd").fit(X + shift, sample_weight=w)
    scale = float(np.abs(X).max()) + abs(shift)
    np.testing.assert_allclose(
        b.cluster_centers_ - shift, a.cluster_centers_, rtol=1e-7, atol=1e-7 * scale
    )
    assert (b.labels_ == a.labels_).all()
    assert b.inertia_ == pytest.approx(a.inertia_, rel=1e-6, abs=1e-12 * scale**2 * len(X))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@SETTINGS
@given(problem=problems(max_k=5), data=st.data())
def test_frozen_centres_never_move(algorithm, problem, data):
    X, w, init = problem
    k = len(init)
    frozen = np.array(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    res = ALGORITHMS[algorithm](X, w, init, max_iter=30, frozen=frozen)
    assert np.array_equal(res.centers[frozen], init[frozen])  # bit for bit


@FEW_CLUSTERS_OK
@SETTINGS
@given(problem=problems(max_n=40, max_k=4), data=st.data())
def test_size_bounds_always_hold(problem, data):
    X, _, init = problem
    n, k = len(X), len(init)
    size_min = data.draw(st.integers(0, n // k))
    size_max = data.draw(st.integers(max(size_min, -(-n // k)), n))
    km = KMeansConstrained(k, size_min=size_min, size_max=size_max, init=init).fit(X)
    sizes = np.bincount(km.labels_, minlength=k)
    assert sizes.min() >= size_min and sizes.max() <= size_max
    assert sizes.sum() == n
