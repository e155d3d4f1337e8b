"""Exact Lloyd iteration: the single-run driver.

The driver owns the loop; the kernels in :mod:`._kernels` do the arithmetic. No
input checking happens here: the caller gives C-contiguous float32/float64 data
(dense or CSR), weights of the same dtype and initial centres.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import _kernels
from ._common import (
    CHUNK,
    MAX_SLOTS,
    ColumnStats,
    Pass,
    assigned_objective,
    assigned_sqdist,
    row,
    thread_limits,
)

logger = logging.getLogger(__name__)


@dataclass
class LloydResult:
    """What one Lloyd run returns."""

    labels: np.ndarray
    inertia: float
    centers: np.ndarray
    n_iter: int
    history: list[float] = field(default_factory=list)
    converged: bool = False


def farthest(X, centers: np.ndarray, labels: np.ndarray, m: int) -> np.ndarray:
    """The ``m`` rows farthest from their centres, farthest first, equal distances in
    index order (dense X: without an n-sized array)."""
    if sp.issparse(X):
        mind = assigned_sqdist(X, centers, labels)
        m = min(m, mind.shape[0])
        top = np.argpartition(mind, mind.shape[0] - m)[mind.shape[0] - m :]
        return top[np.lexsort((top, -mind[top]))]
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    slots = int(min(max(1, -(-X.shape[0] // CHUNK)), MAX_SLOTS))
    ids = np.empty((slots, m), dtype=np.int64)
    dist = np.empty((slots, m))
    _kernels.farthest_rows(
        X=X, centers=centers, labels=labels, chunk=CHUNK, out_idx=ids, out_dist=dist
    )
    ids, dist = ids.ravel(), dist.ravel()
    keep = ids >= 0
    ids, dist = ids[keep], dist[keep]
    return ids[np.lexsort((ids, -dist))][:m]


def _relocate_empty(X, w, centers, labels, sums, wsum, frozen=None) -> int:
    """Give every empty cluster one of the points farthest from their centres.

    Works on the sums of the iteration (as scikit-learn does): the point's weighted
    coordinates move from its cluster to the empty one. Farthest first; equal
    distances are taken in index order. Frozen clusters (a boolean mask) keep their
    centre even when empty; none is relocated when every point sits on its centre.
    Returns the number of clusters relocated.
    """
    empty = np.flatnonzero((wsum == 0) if frozen is None else (wsum == 0) & ~frozen)
    if empty.size == 0:
        return 0
    far = farthest(X, centers, labels, min(empty.size, X.shape[0]))
    if far.size:
        gap = np.asarray(row(X, far[0]), dtype=np.float64) - centers[labels[far[0]]]
        if not np.dot(gap, gap) > 0:
            # every point sits on its centre (more clusters than distinct points):
            # relocating is pointless, as in scikit-learn (its issue 28055)
            return 0
    n_take = far.size
    for new_id, i in zip(empty[:n_take], far, strict=True):
        x = row(X, i) * float(w[i])
        old_id = labels[i]
        sums[old_id] -= x
        wsum[old_id] -= w[i]
        sums[new_id] = x
        wsum[new_id] = w[i]
    return n_take


def update(sums, wsum, centers, move, frozen=None, normalize: bool = False) -> None:
    """The update step, in place: each centre with weight to the mean of its cluster
    (empty ones stay put), then frozen centres (a boolean mask) back where they were,
    bit for bit, and with ``normalize`` every moved centre scaled to unit length (the
    spherical k-means update). ``move[j]``: how far centre j moved."""
    if frozen is None and not normalize:
        _kernels.update_centers(sums, wsum, centers, move)
        return
    old = centers.copy()
    _kernels.update_centers(sums, wsum, centers, move)
    if normalize:
        norms = np.sqrt(np.einsum("ij,ij->i", centers, centers, dtype=np.float64))
        ok = norms > 0
        centers[ok] /= norms[ok, None].astype(centers.dtype)
    if frozen is not None:
        centers[frozen] = old[frozen]
    diff = centers.astype(np.float64) - old
    move[:] = np.sqrt(np.einsum("ij,ij->i", diff, diff))


def lloyd(
    X,
    sample_weight: np.ndarray,
    centers_init: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 0.0,
    n_threads: int | None = None,
    stats: ColumnStats | None = None,
    frozen: np.ndarray | None = None,
    normalize: bool = False,
) -> LloydResult:
    """Run exact Lloyd k-means from ``centers_init``.

    Parameters
    ----------
    X : ndarray of shape (n, d) or CSR matrix, float32 or float64, C-contiguous
    sample_weight : ndarray of shape (n,), X's dtype
    centers_init : ndarray of shape (k, d)
    max_iter : int
        Iterations at most.
    tol : float
        Absolute tolerance on the sum of squared centre shifts (already scaled by the
        data's variance, see :func:`tolerance`). Strict convergence (no label changed)
        is checked first.
    n_threads : int, optional
        Threads for the kernels; the result does not depend on it.
    stats : ColumnStats, optional
        X's column statistics, when the caller has them already.
    frozen : ndarray of bool, shape (k,), optional
        Centres that never move (nor are relocated when empty).
    normalize : bool
        Scale each updated centre to unit length (spherical k-means, for rows of unit
        length: the nearest centre is then the one of highest cosine similarity).

    Returns
    -------
    LloydResult
        ``history[i]`` is the objective of iteration ``i``: the weighted sum of squared
        distances of the labels assigned in that iteration to the centres they were
        assigned to. ``inertia`` is that of the returned ``labels`` and ``centers``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = lloyd(X, np.ones(4), np.array([[0.0], [10.0]]))
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    k = centers_init.shape[0]
    dtype = X.dtype
    centers = np.array(centers_init, dtype=dtype, order="C", copy=True)
    p = Pass(X, sample_weight, k, stats)
    labels_old = np.full(X.shape[0], -1, dtype=np.int32)
    move = np.empty(k)
    history: list[float] = []
    converged = strict = False
    n_iter = 0
    with thread_limits(n_threads):
        for n_iter in range(1, max_iter + 1):
            sums, wsum, objective = p.run(centers, update=True)
            history.append(objective)
            moved = 0
            if (wsum == 0).any():
                moved = _relocate_empty(X, sample_weight, centers, p.labels, sums, wsum, frozen)
                logger.debug("iteration %d: relocated %d empty clusters", n_iter, moved)
            update(sums, wsum, centers, move, frozen, normalize)
            shift = float((move**2).sum())
            logger.debug("iteration %d: objective %.6g, shift %.3g", n_iter, objective, shift)
            strict = not moved and np.array_equal(p.labels, labels_old)
            if strict or shift <= tol:
                converged = True
                break
            labels_old[:] = p.labels
        if not strict:
            # the centres moved since the last assignment: assign once more, so that
            # the labels are those that predict() gives for the returned centres
            p.run(centers, update=False)
        inertia = assigned_objective(X, sample_weight, centers, p.labels)
    return LloydResult(
        labels=p.labels.copy(),
        inertia=inertia,
        centers=centers,
        n_iter=n_iter,
        history=history,
        converged=converged,
    )
