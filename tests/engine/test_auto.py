"""algorithm='auto': the choice by shape and the hand-over measured during the run."""

import logging

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal

from kmeanskit import KMeans
from kmeanskit._engine import auto, kmeans_plusplus, lloyd
from kmeanskit._engine.auto import choose


def test_choice_by_shape():
    X = np.zeros((1, 1), dtype=np.float32)
    assert choose(sp.csr_matrix((100_000, 50)), 100) == "lloyd"
    assert choose(np.zeros((2000, 64)), 10) == "lloyd"  # 1.3M multiply-adds a pass
    # Yinyang's 26 group bounds need 104 bytes a row: more than an eighth of 32 floats
    assert choose(np.broadcast_to(X, (100_000, 32)), 256) == "hamerly"
    assert choose(np.broadcast_to(X, (10_000, 784)), 256) == "yinyang"
    assert choose(np.broadcast_to(X, (10_000, 784)), 20) == "hamerly"  # too few groups
    assert choose(np.broadcast_to(X, (1000, 4096)), 400) == "hamerly"  # 2.5 rows a centre


def _mixture(n, d, k, spread, seed=0):
    rng = np.random.RandomState(seed)
    centres = rng.randn(k, d) * 3
    return (centres[rng.randint(k, size=n)] + spread * rng.randn(n, d)).astype(np.float32)


@pytest.mark.parametrize(("spread", "hands_over"), [(0.3, False), (6.0, True)])
def test_yinyang_hands_over_to_hamerly_when_it_does_not_prune(spread, hands_over, caplog):
    """Separated clusters: the groups prune and Yinyang runs to the end. Clusters drowned
    in noise: its third step computes most distances and Hamerly takes over. Either way
    the result is Lloyd's."""
    X = _mixture(6000, 128, 64, spread)
    w = np.ones(len(X), dtype=X.dtype)
    assert choose(X, 64) == "yinyang"
    init, _ = kmeans_plusplus(X, 64, w, np.random.RandomState(0))
    with caplog.at_level(logging.DEBUG, logger="kmeanskit._engine.auto"):
        got = auto(X, w, init, max_iter=100, tol=1e-6)
    assert ("Hamerly goes on" in caplog.text) == hands_over
    ref = lloyd(X, w, init, max_iter=100, tol=1e-6)
    assert_array_equal(got.labels, ref.labels)
    assert got.n_iter == ref.n_iter
    assert got.inertia == pytest.approx(ref.inertia, rel=1e-6)


@pytest.mark.parametrize("shape", [(3000, 8, 5), (20_000, 32, 40), (4000, 300, 64)])
def test_auto_gives_lloyds_result(shape):
    n, d, k = shape
    X = _mixture(n, d, k, 2.0, seed=1)
    km = KMeans(k, random_state=0).fit(X)
    ref = KMeans(k, init=km.init_centers_, n_init=1, algorithm="lloyd").fit(X)
    assert_array_equal(km.labels_, ref.labels_)
    assert km.n_iter_ == ref.n_iter_
    assert km.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
