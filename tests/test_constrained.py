"""KMeansConstrained: bounds hold exactly, the assignment is optimal, demands fit."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from scipy.sparse import eye, kron, vstack
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, KMeansConstrained
from kmeanskit._engine.constrained import assign_bounded, assign_demands


def lp_optimum(C, lo, hi):
    """The transportation problem by scipy's HiGHS: the reference optimum."""
    n, k = C.shape
    a_eq = kron(eye(n), np.ones((1, k)))
    a_ub = vstack([kron(np.ones((1, n)), eye(k)), -kron(np.ones((1, n)), eye(k))])
    res = linprog(
        C.ravel(),
        A_ub=a_ub,
        b_ub=np.r_[hi, -lo],
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, 1),
        method="highs",
    )
    return res.fun


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 80), st.integers(2, 6))
def test_assignment_is_the_lp_optimum(seed, n, k):
    rng = np.random.RandomState(seed)
    C = rng.rand(n, k) * rng.uniform(0.1, 10, k)
    lo = rng.randint(0, n // k + 1, k)
    hi = lo + rng.randint(0, n, k)
    if lo.sum() > n or hi.sum() < n:
        hi = hi + (n - hi.sum()) if hi.sum() < n else hi
        lo = np.minimum(lo, n // k)
    labels, optimal = assign_bounded(C, lo, hi)
    sizes = np.bincount(labels, minlength=k)
    assert optimal and (sizes >= lo).all() and (sizes <= hi).all()
    assert C[np.arange(n), labels].sum() <= lp_optimum(C, lo, hi) + 1e-9


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 8), st.data())
def test_bounds_hold_on_every_fit(seed, k, data):
    rng = np.random.RandomState(seed)
    n = int(rng.randint(k * 3, 200))
    X = rng.randn(n, 2) * rng.uniform(0.2, 3, 2) + rng.randint(0, 3, (n, 1)) * 4
    lo = data.draw(st.integers(0, n // k))
    hi = data.draw(st.integers(max(lo, -(-n // k)), n))
    per = data.draw(st.booleans())
    if per:  # one bound per cluster, still feasible
        los = rng.randint(0, lo + 1, k)
        his = np.maximum(rng.randint(hi, n + 1, k), los)
        lo, hi = los, his
    km = KMeansConstrained(k, size_min=lo, size_max=hi, n_init=1, random_state=seed).fit(X)
    sizes = np.bincount(km.labels_, minlength=k)
    assert (sizes >= lo).all() and (sizes <= hi).all()
    assert km.exact_
    assert km.predict(X, constrained=True).shape == (n,)


def test_balanced_clusters_and_unconstrained_limit():
    X, _ = make_blobs(
        3000, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=[1, 2, 3], random_state=0
    )
    X = np.vstack([X[:2000], X[2000:2200]])  # groups of about 667, 667 and 866
    km = KMeansConstrained(3, size_min=700, size_max=700, random_state=0).fit(X[:2100])
    assert sorted(np.bincount(km.labels_)) == [700, 700, 700]
    free = KMeansConstrained(3, random_state=0, n_init=3).fit(X)
    plain = KMeans(3, random_state=0, n_init=3).fit(X)
    assert free.inertia_ == pytest.approx(plain.inertia_, rel=1e-4)  # the same optimum


def test_demands_respect_capacities():
    rng = np.random.RandomState(0)
    X = rng.rand(300, 2) * 100  # customers
    demand = rng.randint(1, 10, 300).astype(float)
    cap = 1.1 * demand.sum() / 6
    km = KMeansConstrained(6, size_max=cap, random_state=0).fit(X, sample_weight=demand)
    load = np.bincount(km.labels_, weights=demand, minlength=6)
    assert (load <= cap + 1e-9).all() and not km.exact_
    free = KMeans(6, random_state=0).fit(X, sample_weight=demand)
    assert km.inertia_ >= free.inertia_ * (1 - 1e-9)  # capacities cost something
    with pytest.raises(ValueError, match="cannot hold the total demand"):
        KMeansConstrained(6, size_max=cap / 2).fit(X, sample_weight=demand)
    with pytest.raises(ValueError, match="fits in no cluster"):
        assign_demands(np.zeros((2, 2)), np.array([5.0, 5.0]), np.array([4.0, 6.0]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size_min": 40}, "no assignment of 100 samples fits the bounds: size_min sums to 160"),
        ({"size_max": 10}, "size_max to 40"),
        ({"size_min": [10, 10, 10]}, "size_min must be a non-negative number or one per"),
        ({"size_min": 30, "size_max": 20}, "size_min > size_max for cluster 0: 30 > 20"),
        ({"size_min": 2.5}, "must be whole numbers without sample_weight"),
    ],
)
def test_bad_bounds(kwargs, message):
    X = np.random.RandomState(0).rand(100, 2)
    with pytest.raises(ValueError, match=re.escape(message)):
        KMeansConstrained(4, **kwargs).fit(X)
