"""Partly known starts: fewer init rows than clusters, NaN coordinates, frozen centres."""

import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from kmeanskit import KMeans
from kmeanskit._engine import hamerly, lloyd, yinyang


@pytest.fixture(scope="module")
def seven():
    """The seed user's case: 7 measured features, 4 groups."""
    centers = np.array(
        [
            [1.0, 5.0, 2.0, 8.0, 0.0, 3.0, 6.0],
            [6.0, 1.0, 7.0, 2.0, 5.0, 8.0, 1.0],
            [9.0, 9.0, 0.0, 5.0, 9.0, 1.0, 4.0],
            [3.0, 2.0, 9.0, 9.0, 2.0, 6.0, 9.0],
        ]
    )
    X, y = make_blobs(2000, centers=centers, cluster_std=0.6, random_state=0)
    return X, y, centers


def test_nan_coordinates_are_estimated(seven):
    X, y, centers = seven
    init = centers + 0.3
    init[0, 6] = np.nan  # knows 6 of 7 coordinates of the first centre
    init[2, [1, 4]] = np.nan
    km = KMeans(4, init=init, max_iter=1).fit(X)
    start = km.init_centers_
    assert np.isfinite(start).all()
    # each filled value is the mean of its true group on that coordinate (close to it)
    assert abs(start[0, 6] - X[y == 0, 6].mean()) < 0.05
    assert np.allclose(start[2, [1, 4]], X[y == 2][:, [1, 4]].mean(axis=0), atol=0.05)
    known = ~np.isnan(init)
    assert np.array_equal(start[known], init[known])  # given values kept
    full = KMeans(4, init=init).fit(X)
    assert np.allclose(np.sort(full.cluster_centers_, axis=0), np.sort(centers, axis=0), atol=0.1)


def test_fewer_rows_are_seeded_around_the_given_ones(seven):
    X, _y, centers = seven
    km = KMeans(4, init=centers[:2], random_state=0).fit(X)
    assert np.array_equal(km.init_centers_[:2], centers[:2])
    # every true group found: each true centre has a fitted centre near it
    gaps = np.linalg.norm(centers[:, None] - km.cluster_centers_[None], axis=2).min(axis=1)
    assert gaps.max() < 0.1
    # several runs with a partial start are allowed (the seeded rows differ)
    again = KMeans(4, init=centers[:3], n_init=3, random_state=1).fit(X)
    assert np.array_equal(again.init_centers_[:3], centers[:3])


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "yinyang"])
def test_frozen_centres_do_not_move(seven, algorithm):
    X, _y, centers = seven
    fixed = np.array([centers[0] - 0.5, centers[1] + 0.5])
    init = np.vstack([fixed, centers[2:] + 0.2])
    km = KMeans(4, init=init, frozen=[0, 1], algorithm=algorithm).fit(X)
    assert np.array_equal(km.cluster_centers_[:2], fixed)  # bit-identical
    assert not np.array_equal(km.cluster_centers_[2:], init[2:])
    assert (km.labels_ == km.predict(X)).all()
    mask = KMeans(4, init=init, frozen=[True, False, False, False], algorithm=algorithm).fit(X)
    assert np.array_equal(mask.cluster_centers_[0], fixed[0])
    assert not np.array_equal(mask.cluster_centers_[1], fixed[1])


def test_frozen_in_float32_and_sparse(seven):
    import scipy.sparse as sp

    X, _y, centers = seven
    init = (centers + 0.25).astype(np.float32)
    km = KMeans(4, init=init, frozen=[3]).fit(X.astype(np.float32))
    assert km.cluster_centers_.dtype == np.float32
    assert np.array_equal(km.cluster_centers_[3], init[3])
    sparse = KMeans(4, init=centers + 0.25, frozen=[3]).fit(sp.csr_matrix(X))
    assert np.array_equal(sparse.cluster_centers_[3], centers[3] + 0.25)


def test_a_frozen_centre_far_from_the_data_warns(seven):
    X, _y, centers = seven
    init = np.vstack([centers[:3], np.full(7, 100.0)])
    with pytest.warns(ConvergenceWarning, match=re.escape("frozen centres [3] hold no samples")):
        km = KMeans(4, init=init, frozen=[3]).fit(X)
    assert np.array_equal(km.cluster_centers_[3], np.full(7, 100.0))


def test_engine_frozen_empty_cluster_stays():
    X = np.array([[0.0], [1.0], [10.0], [11.0]])
    init = np.array([[0.5], [10.5], [100.0]])
    frozen = np.array([False, False, True])
    for run in (lloyd, hamerly, yinyang):
        res = run(X, np.ones(4), init, frozen=frozen)
        assert res.centers[2, 0] == 100.0  # empty but frozen: not relocated
        assert res.labels.tolist() == [0, 0, 1, 1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"frozen": [0]}, re.escape("frozen centre 0 is not given in init (it has 0 rows)")),
        ({"init": np.zeros((2, 7)), "frozen": [2]}, "frozen centre 2 is not given in init"),
        ({"init": np.zeros((4, 7)), "frozen": [4]}, re.escape("frozen indices must be in [0, 4)")),
        ({"init": np.zeros((4, 7)), "frozen": [True]}, re.escape("needs shape (4,)")),
        ({"init": np.zeros((4, 7)), "frozen": ["a"]}, "frozen must be centre indices or a"),
        (
            {"init": np.zeros((4, 7)), "frozen": [0], "refine": "hartigan"},
            "refine='hartigan' moves every centre",
        ),
    ],
)
def test_bad_frozen(seven, kwargs, message):
    with pytest.raises(ValueError, match=message):
        KMeans(4, **kwargs).fit(seven[0])


def test_nan_init_needs_dense(seven):
    import scipy.sparse as sp

    init = seven[2].copy()
    init[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"init with NaN .* needs dense X"):
        KMeans(4, init=init).fit(sp.csr_matrix(seven[0]))
