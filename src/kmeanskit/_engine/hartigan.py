"""Hartigan's refinement: single-point moves that lower the objective exactly.

Moving x (weight w) from cluster A (weight W_A) to B (weight W_B) changes the objective
by ``w W_B / (W_B + w) |x - c_B|^2 - w W_A / (W_A - w) |x - c_A|^2`` (the centres move
with it). Lloyd only moves x when ``|x - c_B| < |x - c_A|``; Hartigan moves it whenever
the change is negative, so every Hartigan-stable partition is Lloyd-stable and many
Lloyd fixed points are not (Telgarsky and Vattani 2010): the refinement starts where
Lloyd stopped and only goes down. It pays most when clusters are small (few points per
centre), where Lloyd's fixed points are poorest.

The points are visited in order, a block of rows at a time: the block's distances to
the centres as they were at the start of the pass (one matrix product) propose the best
target of each point, and the move is then checked with exact distances to the current
centres, so each accepted move lowers the objective. A pass costs about one Lloyd
iteration; memory: one block x k matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _kernels
from ._common import CHUNK, assigned_objective, thread_limits

__all__ = ["hartigan"]


@njit(cache=True, nogil=True)
def _sqdist(x, c):
    acc = 0.0
    for f in range(x.shape[0]):
        u = np.float64(x[f]) - c[f]
        acc += u * u
    return acc


@njit(cache=True, nogil=True)
def hartigan_block(X, w, lo, dist, centers, weights, labels):
    """Hartigan moves for rows ``lo .. lo + len(dist)``; ``dist[r, j]``: squared
    distances of row ``lo + r`` to the centres as they were at the start of the pass,
    which only propose each row's target (the move is checked with exact distances to
    the current centres). Returns the number of moves.

    Parameters
    ----------
    X : IN (n, d)
    w : IN (n,) sample weights
    lo : IN int, the block's first row
    dist : IN (m, k) float64, as above
    centers : IN/OUT (k, d) float64, the clusters' weighted means
    weights : IN/OUT (k,) float64, the clusters' weights
    labels : IN/OUT (n,) int32
    """
    k = centers.shape[0]
    moves = 0
    for r in range(dist.shape[0]):
        i = lo + r
        wi = np.float64(w[i])
        a = labels[i]
        if wi <= 0.0 or weights[a] - wi <= 0.0:
            continue
        b = -1
        best = np.inf
        for j in range(k):
            if j != a:
                v = weights[j] / (weights[j] + wi) * dist[r, j]
                if v < best:
                    best = v
                    b = j
        if b < 0:
            continue
        x = X[i]
        remove = weights[a] / (weights[a] - wi) * _sqdist(x, centers[a])
        add = weights[b] / (weights[b] + wi) * _sqdist(x, centers[b])
        if add < remove * (1.0 - 1e-12):
            wa = weights[a]
            wb = weights[b]
            for f in range(x.shape[0]):
                xf = np.float64(x[f])
                centers[a, f] = (wa * centers[a, f] - wi * xf) / (wa - wi)
                centers[b, f] = (wb * centers[b, f] + wi * xf) / (wb + wi)
            weights[a] = wa - wi
            weights[b] = wb + wi
            labels[i] = b
            moves += 1
    return moves


def hartigan(
    X,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    labels: np.ndarray,
    max_passes: int = 20,
    n_threads: int | None = None,
):
    """Refine a partition of dense X by Hartigan moves until a pass moves nothing.

    Parameters
    ----------
    X : ndarray of shape (n, d), float32 or float64
    sample_weight : ndarray of shape (n,)
    centers : ndarray of shape (k, d)
        The weighted means of the clusters of ``labels`` (a converged k-means result).
    labels : ndarray of shape (n,)
    max_passes : int, default=20

    Returns
    -------
    centers : ndarray (k, d), X's dtype
    labels : ndarray (n,), int32
    objective : float
    n_moves : int
    converged : bool
        Whether the last pass moved nothing: the partition is then Hartigan-stable for
        the proposals (each row's best target by the pass-start distances), and every
        row sits at its nearest centre.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0]])
    >>> # a Lloyd fixed point: {0, 1, 2} and {10}; moving 2 to the other side is no good,
    >>> c, labels, obj, moves, done = hartigan(X, np.ones(4), np.array([[1.0], [10.0]]),
    ...                                  np.array([0, 0, 0, 1]))
    >>> labels.tolist(), obj
    ([0, 0, 0, 1], 2.0)
    """
    n = X.shape[0]
    k = centers.shape[0]
    labels = np.ascontiguousarray(labels, dtype=np.int32).copy()
    w = np.ascontiguousarray(sample_weight)
    order = np.empty(n, dtype=np.int32)
    starts = np.empty(k + 1, dtype=np.int64)
    sums = np.empty((k, X.shape[1]))
    weights = np.empty(k)
    _kernels.group_by_label(labels, k, order, starts)
    _kernels.cluster_sums_dense(X=X, w=w, order=order, starts=starts, sums=sums, wsum=weights)
    del order
    safe = np.where(weights > 0, weights, 1.0)
    c64 = np.where(weights[:, None] > 0, sums / safe[:, None], np.asarray(centers, np.float64))
    xsq = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    total = 0
    converged = False
    # the moves are sequential; the products use BLAS on its own threads
    for _ in range(max_passes):
        moves = 0
        cx = c64.astype(X.dtype)  # the pass's proposals use the centres at its start
        csq = np.einsum("ij,ij->i", c64, c64)
        for lo in range(0, n, CHUNK):
            hi = min(lo + CHUNK, n)
            dist = xsq[lo:hi, None] + csq[None, :] - 2.0 * (X[lo:hi] @ cx.T)
            moves += hartigan_block(
                X=X, w=w, lo=lo, dist=dist, centers=c64, weights=weights, labels=labels
            )
        total += moves
        if moves == 0:
            converged = True
            break
    out = np.ascontiguousarray(c64, dtype=X.dtype)
    with thread_limits(n_threads):
        objective = assigned_objective(X, w, out, labels)
    return out, labels, objective, total, converged
