"""Cluster sums kept up to date from label changes, for the bounded algorithms.

When only a few labels change per iteration (Hamerly, Yinyang), moving those rows'
weighted coordinates between clusters costs ``O(changed x d)`` instead of a pass over
the data. The objective then follows from the sums in ``O(k x d)``:
``sum_i w_i |x_i - c_a|^2 = sum_i w_i |x_i - m|^2 - sum_j (2 c'_j . S'_j - W_j |c'_j|^2)``
with ``c' = c - m`` and ``S' = S - W m`` for a fixed shift ``m``. Changes are applied
in row order by one thread, so the result does not depend on threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _kernels
from ._common import CHUNK, MAX_SLOTS


@njit(cache=True, nogil=True)
def apply_label_changes(X, w, labels, prev, sums, wsum, counts):
    """Move every row whose label differs from ``prev`` from its old cluster's sums to
    its new one, in row order; ``prev`` becomes ``labels``. Returns the count moved."""
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
        self._order = np.empty(n, dtype=np.int32)
        self._starts = np.empty(n_clusters + 1, dtype=np.int64)
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
            _kernels.group_by_label(labels, self.k, self._order, self._starts)
            _kernels.cluster_sums_dense(
                self.X, self.w, self._order, self._starts, self.sums, self.wsum
            )
            self.counts[:] = np.diff(self._starts)
            self.prev[:] = labels
            self.stale = False
            self.started = True
        else:
            changed = apply_label_changes(
                self.X, self.w, labels, self.prev, self.sums, self.wsum, self.counts
            )
        self.wsum[self.counts == 0] = 0.0  # exactly empty, whatever the rounding
        return changed

    def objective(self, centers: np.ndarray) -> float:
        """Weighted squared distances of the rows to the centres of their labels."""
        shifted = centers.astype(np.float64) - self.shift
        sums = self.sums - self.wsum[:, None] * self.shift
        cross = np.einsum("ij,ij->", shifted, sums)
        norms = float(self.wsum @ np.einsum("ij,ij->i", shifted, shifted))
        return max(self._total - 2.0 * float(cross) + norms, 0.0)
