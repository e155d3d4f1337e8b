"""What the review page asks of a run's feature rows: similar rows, near-duplicate groups,
and the split of one cluster by k-means.

The rows are the run's ``features.npy`` (what k-means ran on), read as untrusted input by
:func:`kmeanskit.runs.curated.read_features`.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["Neighbours", "split_rows"]

#: the neighbours of each row kept for the near-duplicate groups
N_NEAR = 5
#: the k a split chooses from when none is given
SPLIT_KS = range(2, 9)


class Neighbours:
    """Nearest rows in the feature space of a run.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.05]], dtype=np.float32)
    >>> nb = Neighbours(X)
    >>> [r for r, _ in nb.similar(0, 2)]
    [1, 2]
    >>> nb.groups(0.2)
    [[0, 1], [2, 3]]
    """

    def __init__(self, X: np.ndarray):
        self.X = X
        self.norms = np.einsum("ij,ij->i", X, X, dtype=np.float64)
        self._near: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def similar(self, row: int, n: int = 12) -> list[tuple[int, float]]:
        """The ``n`` rows nearest ``row`` (itself left out), nearest first, with their
        Euclidean distances."""
        X = self.X
        d2 = self.norms - 2.0 * (X @ X[row]).astype(np.float64) + self.norms[row]
        d2[row] = np.inf
        n = min(n, len(X) - 1)
        if n <= 0:
            return []
        idx = np.argpartition(d2, n - 1)[:n]
        exact = np.linalg.norm(X[idx] - X[row], axis=1)  # no cancellation error
        order = np.lexsort((idx, exact))
        return [(int(idx[j]), float(exact[j])) for j in order]

    def near(self) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices of each row's :data:`N_NEAR` nearest rows (computed once,
        by scikit-learn's NearestNeighbors)."""
        with self._lock:
            if self._near is None:
                from sklearn.neighbors import NearestNeighbors

                m = min(N_NEAR + 1, len(self.X))
                nn = NearestNeighbors(n_neighbors=m).fit(self.X)
                dist, idx = nn.kneighbors(self.X)
                self._near = dist[:, 1:], idx[:, 1:]
            return self._near

    def scale(self) -> dict:
        """The range of a sensible near-duplicate threshold: 0 to the 90th percentile of
        the distances to the nearest row, and a default of a tenth of their median."""
        dist, _ = self.near()
        first = dist[:, 0] if dist.shape[1] else np.zeros(1)
        top = float(np.quantile(first, 0.9)) or 1.0
        return {"min": 0.0, "max": top, "default": float(np.median(first)) / 10}

    def groups(self, threshold: float) -> list[list[int]]:
        """Groups of two rows or more joined by distances under ``threshold`` (among each
        row's nearest rows), largest first."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        dist, idx = self.near()
        n = len(self.X)
        keep = dist <= threshold
        rows = np.repeat(np.arange(n), dist.shape[1])[keep.ravel()]
        graph = coo_matrix((np.ones(rows.size), (rows, idx[keep])), shape=(n, n))
        _, comp = connected_components(graph, directed=False)
        sizes = np.bincount(comp)
        big = np.flatnonzero(sizes >= 2)
        order = big[np.lexsort((big, -sizes[big]))]
        members = np.argsort(comp, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        return [members[starts[c] : starts[c + 1]].tolist() for c in order]


def split_rows(X: np.ndarray, rows: np.ndarray, k: int | None, random_state=0) -> list:
    """The rows ``rows`` split into ``k`` parts by k-means on their feature rows ``X[rows]``
    (``k=None``: the k of :data:`SPLIT_KS` with the best silhouette); parts as lists of
    rows, the largest first.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1], [5.2]])
    >>> split_rows(X, np.arange(5), None)
    [[2, 3, 4], [0, 1]]
    """
    from sklearn.metrics import silhouette_score

    from ..estimators import KMeans

    rows = np.asarray(rows)
    Y = X[rows]
    n_distinct = len(np.unique(Y, axis=0))
    if k is not None and not 2 <= k <= n_distinct:
        raise ValueError(f"k={k} should be 2 to {n_distinct} (the distinct rows of the cluster)")
    if n_distinct < 2:
        raise ValueError("the cluster's rows are all the same: nothing to split")
    ks = [k] if k is not None else [j for j in SPLIT_KS if j < n_distinct] or [2]
    best, best_score = None, -np.inf
    for j in ks:
        labels = KMeans(j, random_state=random_state).fit(Y).labels_
        score = silhouette_score(Y, labels, sample_size=min(len(Y), 2000), random_state=0)
        if best is None or score > best_score:
            best, best_score = labels, score
    parts = [rows[best == j] for j in range(best.max() + 1)]
    parts = [p for p in parts if p.size]
    parts.sort(key=lambda p: (-p.size, p[0]))
    return [p.tolist() for p in parts]
