"""The engine's resumable blocks: exact whatever a block missed."""

import copy

import numpy as np
import pytest

from kmeanskit._engine import blockwise, hamerly
from kmeanskit._engine._common import column_stats, gemm_shift


def _nearest(X, centers):
    d2 = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    return d2.argmin(1), d2.min(1)


@pytest.mark.parametrize("d", [3, 20])
def test_blocks_driven_like_hamerly_give_hamerly(d):
    rs = np.random.RandomState(0)
    X = rs.normal(size=(3000, d)) + rs.randint(0, 4, size=(3000, 1)) * 4.0
    w = rs.uniform(0.5, 2, 3000)
    init = X[:6].copy()
    ref = hamerly(X, w, init, max_iter=50)
    shift = gemm_shift(column_stats(X))
    blocks = [
        blockwise.Block(X[lo:hi], w[lo:hi]) for lo, hi in [(0, 700), (700, 2999), (2999, 3000)]
    ]
    centers = init.copy()
    for _ in range(ref.n_iter):
        parts = [b.step(centers, blockwise.half_gaps(centers), shift) for b in blocks]
        sums, wsum = sum(p[0] for p in parts), sum(p[1] for p in parts)
        centers = sums / wsum[:, None]
    inertia = sum(b.inertia(centers, blockwise.half_gaps(centers), shift) for b in blocks)
    np.testing.assert_allclose(centers, ref.centers, rtol=1e-10)
    assert inertia == pytest.approx(ref.inertia, rel=1e-10)
    assert (np.concatenate([b.labels for b in blocks]) == ref.labels).all()


def test_a_stale_or_fresh_copy_still_assigns_exactly():
    rs = np.random.RandomState(1)
    X = rs.normal(size=(2000, 4)) * 3
    block = blockwise.Block(X, np.ones(2000))
    c1, c2, c3 = (X[i : i + 5] + 0.1 * k for k, i in enumerate((0, 10, 20)))
    block.step(c1, blockwise.half_gaps(c1), None)
    stale = copy.deepcopy(block)  # misses the next step
    block.step(c2, blockwise.half_gaps(c2), None)
    fresh = blockwise.Block(X, np.ones(2000))  # rebuilt after a lost worker
    for b in (block, stale, fresh):
        _, wsum, objective, _ = b.step(c3, blockwise.half_gaps(c3), None)
        labels, d2 = _nearest(X, c3)
        assert (b.labels == labels).all()
        assert objective == pytest.approx(d2.sum())
        np.testing.assert_allclose(wsum, np.bincount(labels, minlength=5))
    far, idx, rows, _, _ = fresh.farthest(3, c3, blockwise.half_gaps(c3), None)
    assert idx.tolist() == np.argsort(-d2, kind="stable")[:3].tolist()
    np.testing.assert_allclose(far, d2[idx])
    np.testing.assert_array_equal(rows, X[idx])


def test_kmeans_parallel_state_catches_up():
    rs = np.random.RandomState(2)
    X = rs.normal(size=(500, 3))
    cand = X[[0, 5, 9, 40]]
    a, b = blockwise.Block(X, np.ones(500)), blockwise.Block(X, np.ones(500))
    a.seed_distances(cand[:1])
    a.seed_distances(cand[:3])
    phi = a.seed_distances(cand)  # incremental
    assert b.seed_distances(cand) == pytest.approx(phi)  # all at once
    labels, d2 = _nearest(X, cand)
    assert phi == pytest.approx(d2.sum())
    np.testing.assert_array_equal(a.seed_weights(cand), np.bincount(labels, minlength=4))
