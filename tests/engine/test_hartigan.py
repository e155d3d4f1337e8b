"""Hartigan's refinement against a plain-numpy statement of its rule."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from kmeanskit import KMeans
from kmeanskit._engine import hartigan
from kmeanskit._engine.hartigan import hartigan_block


def hartigan_gains(X, w, labels, k):
    """For every point and cluster: the change of the objective if the point moved
    there (numpy, from the definition)."""
    W = np.bincount(labels, weights=w, minlength=k)
    C = np.array([np.average(X[labels == j], axis=0, weights=w[labels == j]) for j in range(k)])
    d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
    own = W[labels]
    alone = own <= w * (1 + 1e-12)  # a point alone in its cluster cannot leave it
    remove = w * own / np.where(alone, 1.0, own - w) * d[np.arange(len(X)), labels]
    remove[alone] = -np.inf  # so that no move of it gains
    add = w[:, None] * W[None, :] / (W[None, :] + w[:, None]) * d
    gain = add - remove[:, None]
    gain[np.arange(len(X)), labels] = 0.0
    return gain, C


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_result_is_hartigan_stable_and_never_worse(weighted, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5)).astype(dtype)
    w = rng.uniform(0.5, 2.0, 300) if weighted else np.ones(300)
    w = w.astype(dtype)
    km = KMeans(40, n_init=1, random_state=0).fit(X, sample_weight=w)
    centers, labels, objective, moves, done = hartigan(X, w, km.cluster_centers_, km.labels_)
    assert done
    assert moves > 0  # small clusters: Lloyd's fixed point is not Hartigan-stable
    assert objective < km.inertia_
    gain, means = hartigan_gains(X.astype(np.float64), w.astype(np.float64), labels, 40)
    assert gain.min() > -1e-6 * objective
    assert_allclose(centers, means, rtol=1e-4 if dtype == np.float32 else 1e-9, atol=1e-5)
    d = ((X[:, None, :] - centers[None]) ** 2).sum(axis=2)
    assert_allclose(objective, (w * d[np.arange(300), labels]).sum(), rtol=1e-5)


def test_block_kernel_equals_its_python_source():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3))
    labels = (np.arange(60) % 6).astype(np.int32)
    w = np.ones(60)
    C = np.array([X[labels == j].mean(axis=0) for j in range(6)])
    dist = ((X[:, None] - C[None]) ** 2).sum(axis=2)
    outs = []
    for fn in (hartigan_block, hartigan_block.py_func):
        c, W, lab = C.copy(), np.bincount(labels, minlength=6).astype(float), labels.copy()
        moves = fn(X, w, 0, dist, c, W, lab)
        outs.append((moves, c, W, lab))
    assert outs[0][0] == outs[1][0] > 0
    for a, b in zip(outs[0][1:], outs[1][1:], strict=True):
        assert_allclose(a, b, rtol=1e-12)


def test_kmeans_refine_option():
    rng = np.random.RandomState(2)
    X = rng.normal(size=(400, 8))
    plain = KMeans(60, n_init=1, random_state=0).fit(X)
    refined = KMeans(60, n_init=1, random_state=0, refine="hartigan").fit(X)
    assert refined.inertia_ < plain.inertia_
    assert (refined.predict(X) == refined.labels_).all()  # settled: nearest centres
    import scipy.sparse as sp

    with pytest.raises(ValueError, match="refine='hartigan' needs dense X"):
        KMeans(3, refine="hartigan").fit(sp.csr_matrix(X))
