"""Escaping a local optimum of k-means by moving one centre: the targeted swap.

The usual defect of a converged k-means solution is one centre too many in one true
group and one too few in another (two groups share a centre). A swap removes the
centre whose removal costs least (its points' extra squared distance to their second
nearest centre) and puts it at the farthest point of the cluster with the largest sum
of squared distances; a few Lloyd iterations follow, and the swap is kept only if the
objective fell (Fränti's random swap, with the removed and the target cluster chosen by
these costs instead of at random).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .lloyd import LloydResult, lloyd


def _two_nearest(X, centers):
    """Squared distances to the nearest and second nearest centre, and the nearest."""
    if sp.issparse(X):
        xsq = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        cross = np.asarray(X @ centers.T)
    else:
        xsq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        cross = X @ centers.T
    d = xsq[:, None] - 2.0 * cross + np.einsum("ij,ij->i", centers, centers)[None, :]
    np.maximum(d, 0, out=d)
    part = np.argpartition(d, 1, axis=1)[:, :2]
    rows = np.arange(X.shape[0])
    d01 = d[rows[:, None], part]
    swap = d01[:, 1] < d01[:, 0]
    nearest = np.where(swap, part[:, 1], part[:, 0])
    d1 = np.where(swap, d01[:, 1], d01[:, 0])
    d2 = np.where(swap, d01[:, 0], d01[:, 1])
    return d1, d2, nearest


def targeted_swaps(
    X,
    sample_weight: np.ndarray,
    result: LloydResult,
    *,
    max_trials: int = 10,
    n_targets: int = 3,
    max_iter: int = 30,
    n_threads: int | None = None,
) -> tuple[LloydResult, int]:
    """Improve a converged Lloyd ``result`` by targeted swaps (see the module's note).

    Each round tries the ``n_targets`` clusters of largest squared-distance sum in turn
    and keeps the first swap that lowers the objective; it stops after ``max_trials``
    Lloyd runs or when a round keeps nothing. Meant for samples (each trial computes
    all n x k distances). Returns the improved result and the number of swaps kept.

    Examples
    --------
    >>> X = np.array([[0.0], [0.2], [0.4], [10.0], [10.2], [20.0], [20.2]])
    >>> stuck = lloyd(X, np.ones(7), np.array([[0.0], [0.4], [15.1]]))
    >>> stuck.inertia > 40
    True
    >>> better, kept = targeted_swaps(X, np.ones(7), stuck)
    >>> round(better.inertia, 6), kept
    (0.12, 1)
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    k = result.centers.shape[0]
    best, kept, trials = result, 0, 0
    if k < 2:
        return best, 0
    while trials < max_trials:
        centers = np.asarray(best.centers, dtype=np.float64)
        d1, d2, nearest = _two_nearest(X, centers)
        removal = np.bincount(nearest, weights=w * (d2 - d1), minlength=k)
        sse = np.bincount(nearest, weights=w * d1, minlength=k)
        src = int(np.argmin(removal))
        improved = False
        for dst in np.argsort(-sse)[:n_targets]:
            if dst == src or trials >= max_trials:
                continue
            members = np.flatnonzero(nearest == dst)
            if members.size < 2:
                continue
            far = members[np.argmax(w[members] * d1[members])]
            row = X[far]
            cand = np.array(best.centers, copy=True)
            cand[src] = row.toarray().ravel() if sp.issparse(row) else row
            trials += 1
            res = lloyd(X, sample_weight, cand, max_iter=max_iter, n_threads=n_threads)
            if res.inertia < best.inertia * (1 - 1e-9):
                best, kept, improved = res, kept + 1, True
                break
        if not improved:
            break
    return best, kept
