"""Stable cluster ids: a canonical order, and renumbering to match a reference.

k-means numbers its clusters by the order the seeds were drawn, so the same
clustering found twice can carry other ids (and other plot colours). These functions
only permute ids; they never change which points are clustered together.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist

__all__ = ["align_clusters", "canonical_order", "permute_clusters"]

ORDERS = ("size", "coordinates")


def canonical_order(centers, labels, sample_weight=None, by: str = "size") -> np.ndarray:
    """The order of clusters that makes their ids canonical.

    Parameters
    ----------
    centers : array-like of shape (k, d)
    labels : array-like of shape (n,), ids in ``range(k)``
    sample_weight : array-like of shape (n,), optional
        Sizes are summed weights when given.
    by : {'size', 'coordinates'}
        ``'size'``: largest cluster first, ties broken by the centre's coordinates
        (lexicographically, smallest first). ``'coordinates'``: by the centre's
        coordinates alone.

    Returns
    -------
    order : ndarray of shape (k,)
        ``order[new_id] == old_id``; pass it to :func:`permute_clusters`.

    Examples
    --------
    >>> canonical_order([[5.0], [1.0]], [0, 1, 1]).tolist()
    [1, 0]
    >>> canonical_order([[5.0], [1.0]], [0, 1, 1], by="coordinates").tolist()
    [1, 0]
    """
    centers = np.asarray(centers, dtype=np.float64)
    if by not in ORDERS:
        raise ValueError(f"by must be one of {ORDERS}; got {by!r}")
    keys = [centers[:, j] for j in range(centers.shape[1] - 1, -1, -1)]
    if by == "size":
        sizes = np.bincount(np.asarray(labels), weights=sample_weight, minlength=centers.shape[0])
        keys.append(-sizes)
    return np.lexsort(keys)


def permute_clusters(order, centers, labels=None):
    """Renumber clusters so that new id ``i`` is old id ``order[i]``.

    Returns ``(centers, labels)`` renumbered (``labels`` is None when not given).

    Examples
    --------
    >>> c, l = permute_clusters([1, 0], [[5.0], [1.0]], [0, 1, 1])
    >>> c.ravel().tolist(), l.tolist()
    ([1.0, 5.0], [1, 0, 0])
    """
    order = np.asarray(order)
    centers = np.asarray(centers)[order]
    if labels is None:
        return centers, None
    new_id = np.empty_like(order)
    new_id[order] = np.arange(order.size)
    return centers, new_id[np.asarray(labels)].astype(np.asarray(labels).dtype, copy=False)


def align_clusters(centers, reference_centers, labels=None):
    """Renumber a result so that its ids match a reference result.

    The centres are matched to the reference centres one to one, minimising the
    total squared distance (Hungarian method, :func:`scipy.optimize.linear_sum_assignment`).
    A matched cluster takes its reference's id; when the two have different numbers
    of clusters, the clusters left over take the free ids in order, so the ids stay
    ``0..k-1``.

    Parameters
    ----------
    centers : array-like of shape (k, d)
    reference_centers : array-like of shape (k_ref, d)
    labels : array-like of shape (n,), optional

    Returns
    -------
    centers : ndarray of shape (k, d), renumbered
    labels : ndarray of shape (n,) or None, renumbered
    order : ndarray of shape (k,), ``order[new_id] == old_id``

    Examples
    --------
    >>> c, l, order = align_clusters([[9.0], [0.0]], [[0.1], [8.0]], [0, 1])
    >>> c.ravel().tolist(), l.tolist(), order.tolist()
    ([0.0, 9.0], [1, 0], [1, 0])
    """
    centers = np.asarray(centers)
    reference = np.asarray(reference_centers)
    if centers.ndim != 2 or reference.ndim != 2 or centers.shape[1] != reference.shape[1]:
        raise ValueError(
            "centers and reference_centers must be 2-D with the same number of features; "
            f"got shapes {centers.shape} and {reference.shape}"
        )
    k = centers.shape[0]
    rows, cols = linear_sum_assignment(cdist(centers, reference, "sqeuclidean"))
    new_id = np.full(k, -1, dtype=np.intp)
    keep = cols < k
    new_id[rows[keep]] = cols[keep]
    free = np.setdiff1d(np.arange(k), new_id[new_id >= 0])
    left = np.flatnonzero(new_id < 0)
    new_id[left] = free[: left.size]
    order = np.empty(k, dtype=np.intp)
    order[new_id] = np.arange(k)
    centers_out, labels_out = permute_clusters(order, centers, labels)
    return centers_out, labels_out, order
