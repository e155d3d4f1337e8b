"""Targeted swaps repair the classic local optimum of k-means."""

import numpy as np
from sklearn.datasets import make_blobs

from kmeanskit._engine import lloyd, targeted_swaps


def test_two_centres_in_one_group_one_between_two():
    centres = np.array([[0, 0], [10, 0], [20, 0], [0, 10]], dtype=float)
    X, y = make_blobs(800, centers=centres, cluster_std=0.5, random_state=0)
    w = np.ones(len(X))
    # two centres inside group 0, one between groups 1 and 2, one on group 3
    stuck = lloyd(X, w, np.array([[-0.5, 0], [0.5, 0], [15, 0], [0, 10]]))
    assert np.unique(stuck.labels[y == 1]).tolist() == np.unique(stuck.labels[y == 2]).tolist()
    fixed, kept = targeted_swaps(X, w, stuck)
    assert kept >= 1 and fixed.inertia < stuck.inertia / 10
    # every group has its own centre now
    assert sorted(np.unique(fixed.labels[y == j]).size for j in range(4)) == [1, 1, 1, 1]
    assert len({int(np.unique(fixed.labels[y == j])[0]) for j in range(4)}) == 4
    again, kept_again = targeted_swaps(X, w, fixed)
    assert kept_again == 0 and again.inertia == fixed.inertia  # nothing left to repair


def test_never_worse_and_sparse_agrees():
    import scipy.sparse as sp

    X, _ = make_blobs(300, centers=5, n_features=4, random_state=1)
    X = np.abs(X)
    w = np.ones(len(X))
    start = lloyd(X, w, X[:5].copy())
    dense, _ = targeted_swaps(X, w, start)
    assert dense.inertia <= start.inertia
    sparse, _ = targeted_swaps(sp.csr_matrix(X), w, lloyd(sp.csr_matrix(X), w, X[:5].copy()))
    assert np.isclose(sparse.inertia, dense.inertia, rtol=1e-9)
