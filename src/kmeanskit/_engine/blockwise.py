"""Exact k-means over rows held in blocks: one block's resumable share of the work.

A :class:`Block` holds one slice of the rows (or is handed it at each call) with its
Hamerly bounds, labels and cluster sums, and the centres it was last assigned against.
Each call is self-contained: it names the centres (or the k-means|| candidates) it is
about, and the bounds are widened by how far the centres moved since *this block's*
last assignment, so a block that missed iterations (a copy on another worker), or was
rebuilt from scratch after a lost worker, still gives the exact answer. A driver (in
memory, or on Dask workers) adds the blocks' sums, weights and objectives and moves the
centres, as :func:`~kmeanskit._engine.hamerly.hamerly` does for one array. k-means||
seeding keeps each row's distance to the nearest candidate so far, so a round only
compares the rows with the candidates that round added.
"""

from __future__ import annotations

import numpy as np

from . import _kernels
from ._bounded import ClusterSums
from ._common import (
    CHUNK,
    MAX_SLOTS,
    assign,
    assigned_objective,
    assigned_sqdist,
    thread_limits,
)
from .hamerly import HamerlyState, _half_gaps

__all__ = ["Block", "half_gaps"]


def half_gaps(centers: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to its nearest other centre (what every
    block's Hamerly step needs; computed once per iteration by the driver)."""
    return _half_gaps(np.ascontiguousarray(centers))


class Block:
    """One block of rows: Hamerly state for Lloyd iterations, k-means|| state for
    seeding.

    Parameters
    ----------
    X : ndarray of shape (m, d), float32 or float64, or None
        The rows, kept by the block; None when every call passes them (``X=``), so that
        only the per-row state (24 bytes a row: labels, bounds, runner-up, the labels the
        sums follow; 16 below about 20 float32 features) stays in memory.
    sample_weight : ndarray of shape (m,)
    n_threads : int, default=1
        numba threads of each call (a scheduler runs blocks side by side).

    Examples
    --------
    >>> import numpy as np
    >>> b = Block(np.array([[0.0], [1.0], [10.0], [11.0]]), np.ones(4))
    >>> c = np.array([[0.0], [10.0]])
    >>> sums, wsum, obj, changed = b.step(c, half_gaps(c), np.zeros(1))
    >>> sums.ravel().tolist(), wsum.tolist(), obj, changed
    ([1.0, 21.0], [2.0, 2.0], 2.0, 4)
    """

    def __init__(self, X, sample_weight, n_threads: int = 1):
        self.X = None if X is None else np.ascontiguousarray(X)
        self.w = np.ascontiguousarray(sample_weight)
        self.n_threads = n_threads
        self.n_samples = len(self.w)
        self.labels = self.centers = self.kept = self.hamerly = self.shift = None
        self.mind = self.nearest = None
        self.seen = 0

    def _rows(self, X):
        X = self.X if X is None else np.ascontiguousarray(X)
        if X is None or X.shape[0] != self.n_samples:
            raise ValueError(
                f"the block has {self.n_samples} rows; got {None if X is None else X.shape}"
            )
        if self.w.dtype != X.dtype:
            self.w = self.w.astype(X.dtype)
        return X

    # -- statistics ---------------------------------------------------------------
    def moments(self, x0: np.ndarray, X=None):
        """``(rows, sum of (x - x0), sum of (x - x0)^2)`` per feature, in float64."""
        X = self._rows(X)
        slots = int(min(max(1, -(-X.shape[0] // CHUNK)), MAX_SLOTS))
        part_sum = np.empty((slots, X.shape[1]))
        part_sq = np.empty((slots, X.shape[1]))
        with thread_limits(self.n_threads):
            _kernels.column_moments(X, np.asarray(x0, np.float64), CHUNK, part_sum, part_sq)
        return X.shape[0], part_sum.sum(axis=0), part_sq.sum(axis=0)

    # -- k-means|| seeding --------------------------------------------------------
    def seed_distances(self, candidates: np.ndarray, X=None) -> float:
        """Compare the rows with the candidates this block has not seen yet (all of
        them after a restart), keeping each row's nearest candidate so far. Returns
        the weighted sum of the squared distances to the nearest candidates."""
        X = self._rows(X)
        if self.mind is None:
            self.seen = 0
        new = np.ascontiguousarray(candidates[self.seen :], dtype=X.dtype)
        if len(new):
            with thread_limits(self.n_threads):
                idx, d2, _ = assign(X, new)
            if self.seen == 0:
                self.mind, self.nearest = d2, idx.astype(np.int32)
            else:
                closer = d2 < self.mind
                self.mind[closer] = d2[closer]
                self.nearest[closer] = idx[closer] + self.seen
            self.seen = len(candidates)
        return float(np.dot(self.w.astype(np.float64), self.mind))

    def seed_sample(self, ell: float, phi: float, candidates, seed: int, X=None):
        """The rows drawn with probability ``min(1, ell w d^2 / phi)`` (k-means||)."""
        self.seed_distances(candidates, X)
        X = self._rows(X)
        p = np.minimum(1.0, ell * self.w.astype(np.float64) * self.mind / phi)
        return X[np.random.RandomState(seed).uniform(size=len(p)) < p]

    def seed_weights(self, candidates: np.ndarray, X=None) -> np.ndarray:
        """The weight of the rows nearest each candidate; forgets the seeding state."""
        self.seed_distances(candidates, X)
        out = np.bincount(self.nearest, weights=self.w, minlength=len(candidates))
        self.mind = self.nearest = None
        return out.astype(np.float64)

    # -- Lloyd iterations ---------------------------------------------------------
    def step(self, centers: np.ndarray, half_gap: np.ndarray, shift, X=None):
        """Assign every row to its nearest centre (Hamerly's bounds skip most rows).

        ``shift``: the data's mean when the products are to be centred (the driver's
        :func:`~kmeanskit._engine._common.gemm_shift`), else None.

        Returns ``(sums, wsum, objective, changed)``: the weighted sums (k, d) and
        weights (k,) of the clusters, float64; the weighted squared distances to the
        assigned centres; how many labels changed since this block's last step.
        """
        X = self._rows(X)
        k = centers.shape[0]
        centers = np.ascontiguousarray(centers, dtype=X.dtype)
        shift = None if shift is None else np.asarray(shift, dtype=X.dtype)
        same_shift = self.hamerly is not None and (
            (shift is None) == (self.shift is None)
            and (shift is None or np.array_equal(shift, self.shift))
        )
        if not same_shift or self.centers.shape != centers.shape:
            self.hamerly = HamerlyState(X, shift, k)
            self.shift = shift
            self.labels = self.hamerly.labels
            self.kept = ClusterSums(X, self.w, k, self.hamerly.shift)
            move = np.zeros(k)
        else:
            diff = centers.astype(np.float64) - self.centers
            move = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        self.hamerly.X = self.kept.X = X  # the rows may be handed in anew at every call
        with thread_limits(self.n_threads):
            self.hamerly.step(centers, move, half_gap)
            changed = self.kept.follow(self.labels)
        self.centers = centers.copy()
        self.hamerly.X = self.kept.X = None
        return self.kept.sums.copy(), self.kept.wsum.copy(), self.kept.objective(centers), changed

    def _at(self, centers, half_gap, shift, X):
        """Assigned against ``centers`` (a copy of the block that missed the last step,
        or one rebuilt after a lost worker, catches up first)."""
        if self.centers is None or not np.array_equal(self.centers, centers):
            self.step(centers, half_gap, shift, X)

    def farthest(self, m: int, centers, half_gap, shift, X=None):
        """The ``m`` rows farthest from their nearest ``centers``:
        ``(sqdist, local index, rows, weights, labels)``, farthest first, ties by index."""
        self._at(centers, half_gap, shift, X)
        X = self._rows(X)
        with thread_limits(self.n_threads):
            mind = assigned_sqdist(X, self.centers, self.labels)
        m = min(m, len(mind))
        top = np.argpartition(mind, len(mind) - m)[len(mind) - m :]
        top = top[np.lexsort((top, -mind[top]))]
        return mind[top], top, np.asarray(X[top], np.float64), self.w[top], self.labels[top]

    def inertia(self, centers, half_gap, shift, X=None) -> float:
        """The exact weighted squared distances to the nearest ``centers``, summed."""
        self._at(centers, half_gap, shift, X)
        X = self._rows(X)
        with thread_limits(self.n_threads):
            return assigned_objective(X, self.w, self.centers, self.labels)
