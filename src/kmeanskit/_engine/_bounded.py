"""What the bounded algorithms (Hamerly, Yinyang) share: the iteration loop, and
cluster sums kept up to date from label changes.

When only a few labels change per iteration (Hamerly, Yinyang), moving those rows'
weighted coordinates between clusters costs ``O(changed x d)`` instead of a pass over
the data. The objective then follows from the sums in ``O(k x d)``:
``sum_i w_i |x_i - c_a|^2 = sum_i w_i |x_i - m|^2 - sum_j (2 c'_j . S'_j - W_j |c'_j|^2)``
with ``c' = c - m`` and ``S' = S - W m`` for a fixed shift ``m``. Changes are applied
in row order by one thread, so the result does not depend on threads.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from numba import njit

from . import _kernels
from ._common import CHUNK, MAX_SLOTS, assigned_objective
from .lloyd import LloydResult, _relocate_empty, update

logger = logging.getLogger(__name__)


@njit(cache=True, nogil=True)
def apply_label_changes(X, w, labels, prev, sums, wsum, counts):
    """Move every row whose label differs from ``prev`` from its old cluster's sums to
    its new one, in row order; ``prev`` becomes ``labels``. Returns the count moved.

    Parameters
    ----------
    X : IN (n, d)
    w : IN (n,) sample weights
    labels : IN (n,) the new labels
    prev : IN/OUT (n,) the labels the sums follow; set to ``labels``
    sums : IN/OUT (k, d) float64, weighted sums of each cluster's rows
    wsum : IN/OUT (k,) float64, their weights
    counts : IN/OUT (k,) int64, member counts
    """
    n, d = X.shape
    moved = 0
    for i in range(n):
        a = labels[i]
        b = prev[i]
        if a == b:
            continue
        wi = np.float64(w[i])
        wsum[b] -= wi
        wsum[a] += wi
        counts[b] -= 1
        counts[a] += 1
        for f in range(d):
            x = wi * np.float64(X[i, f])
            sums[b, f] -= x
            sums[a, f] += x
        prev[i] = a
        moved += 1
    return moved


class ClusterSums:
    """Weighted sums, weights and member counts of each cluster, kept in step with the
    labels: recomputed in full when needed, else updated from the changes."""

    def __init__(self, X: np.ndarray, w: np.ndarray, n_clusters: int, shift: np.ndarray):
        n, d = X.shape
        self.X, self.w, self.k = X, w, n_clusters
        self.shift = np.asarray(shift, dtype=np.float64)
        self.sums = np.empty((n_clusters, d))
        self.wsum = np.empty(n_clusters)
        self.counts = np.empty(n_clusters, dtype=np.int64)
        self.prev = np.empty(n, dtype=np.int32)
        self.stale = True  # the sums do not follow prev: recompute in full
        self.started = False
        part = np.empty(int(min(max(1, -(-n // CHUNK)), MAX_SLOTS)))
        _kernels.weighted_sqnorm_total(X, w, self.shift.astype(X.dtype), CHUNK, part)
        self._total = float(part.sum())  # sum_i w_i |x_i - shift|^2

    def follow(self, labels: np.ndarray) -> int:
        """Bring the sums in step with ``labels``; return how many labels changed since
        the last call (all of them on the first)."""
        if self.stale:
            changed = int((labels != self.prev).sum()) if self.started else labels.shape[0]
            _kernels.cluster_sums_ranged(
                X=self.X,
                w=self.w,
                labels=labels,
                sums=self.sums,
                wsum=self.wsum,
                counts=self.counts,
            )
            self.prev[:] = labels
            self.stale = False
            self.started = True
        else:
            changed = apply_label_changes(
                X=self.X,
                w=self.w,
                labels=labels,
                prev=self.prev,
                sums=self.sums,
                wsum=self.wsum,
                counts=self.counts,
            )
        self.wsum[self.counts == 0] = 0.0  # exactly empty, whatever the rounding
        return changed

    def objective(self, centers: np.ndarray) -> float:
        """Weighted squared distances of the rows to the centres of their labels."""
        part = np.empty(self.k)
        _kernels.sums_objective(centers, self.sums, self.wsum, self.shift, part)
        return max(self._total - float(part.sum()), 0.0)


def iterate(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    labels: np.ndarray,
    shift: np.ndarray,
    step: Callable[[int, np.ndarray], None],
    *,
    max_iter: int,
    tol: float,
    frozen: np.ndarray | None = None,
    normalize: bool = False,
) -> LloydResult:
    """Lloyd's loop around an exact assignment ``step(n_iter, move)``.

    ``step`` assigns ``labels`` for ``centers`` (both updated in place), knowing how far
    each centre moved since its last call (``move``, zeros at first). Everything else
    is Lloyd's: the means, the relocation of empty clusters to the farthest points, the
    strict-convergence check before ``tol``, and a last assignment after a non-strict
    stop, so the labels are those of the returned centres; ``frozen`` and ``normalize``
    as in :func:`~kmeanskit._engine.lloyd.update`.
    """
    k = centers.shape[0]
    kept = ClusterSums(X, sample_weight, k, shift)
    move = np.zeros(k)
    history: list[float] = []
    converged = strict = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        step(n_iter, move)
        n_changed = kept.follow(labels)
        history.append(kept.objective(centers))
        sums, wsum = kept.sums, kept.wsum
        moved = 0
        if (wsum == 0).any():
            sums, wsum = sums.copy(), wsum.copy()  # the kept sums follow the labels
            moved = _relocate_empty(X, sample_weight, centers, labels, sums, wsum, frozen)
        update(sums, wsum, centers, move, frozen, normalize)
        logger.debug("iteration %d: %d labels changed", n_iter, n_changed)
        strict = n_iter > 1 and n_changed == 0 and not moved
        if strict or float((move**2).sum()) <= tol:
            converged = True
            break
    if not strict:
        step(n_iter + 1, move)  # the centres moved since the last assignment
    return LloydResult(
        labels=labels,
        inertia=assigned_objective(X, sample_weight, centers, labels),
        centers=centers,
        n_iter=n_iter,
        history=history,
        converged=converged,
    )
