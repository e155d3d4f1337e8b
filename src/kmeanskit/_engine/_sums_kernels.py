"""Numba kernels that sum the rows of each cluster (in row order, whatever the thread
count) and reduce per-slot partial sums; see :mod:`._kernels` for the conventions.
"""

import numpy as np
from numba import njit, prange

__all__ = [
    "SUM_RANGES",
    "cluster_sums_csr",
    "cluster_sums_dense",
    "cluster_sums_ranged",
    "cluster_sums_ranged_csr",
    "group_by_label",
    "reduce_slots",
]


@njit(cache=True, nogil=True)
def group_by_label(labels, n_clusters, order, starts):
    """Counting sort: ``order[starts[j]:starts[j + 1]]`` are the rows of cluster j,
    in increasing row order."""
    starts[:] = 0
    for i in range(labels.shape[0]):
        starts[labels[i] + 1] += 1
    for j in range(n_clusters):
        starts[j + 1] += starts[j]
    fill = starts[:-1].copy()
    for i in range(labels.shape[0]):
        j = labels[i]
        order[fill[j]] = i
        fill[j] += 1


@njit(parallel=True, cache=True, nogil=True)
def cluster_sums_dense(X, w, order, starts, sums, wsum):
    """Weighted sums of each cluster's rows, cluster by cluster in row order (the
    result does not depend on threads).

    Parameters
    ----------
    X : IN (n, d)
    w : IN (n,) sample weights
    order, starts : IN the rows grouped by cluster (:func:`group_by_label`)
    sums : OUT (k, d) float64
    wsum : OUT (k,) float64
    """
    d = X.shape[1]
    for j in prange(sums.shape[0]):
        sums[j, :] = 0.0
        wsum[j] = 0.0
        for p in range(starts[j], starts[j + 1]):
            i = order[p]
            wi = np.float64(w[i])
            wsum[j] += wi
            for f in range(d):
                sums[j, f] += wi * np.float64(X[i, f])


#: clusters are summed in this many ranges, one task each (fixed: results never depend
#: on the number of threads)
SUM_RANGES = 16


@njit(parallel=True, cache=True, nogil=True)
def cluster_sums_ranged(X, w, labels, sums, wsum, counts):
    """Weighted sums, weights and member counts of each cluster of dense X, each
    cluster's rows added in row order; the clusters are split into ``SUM_RANGES``
    ranges, each range's task reading all labels and only its own rows (no n-sized
    scratch, and the same bits for any number of threads).

    Parameters
    ----------
    X : IN (n, d)
    w : IN (n,) sample weights
    labels : IN (n,) each row's cluster
    sums : OUT (k, d) float64
    wsum : OUT (k,) float64
    counts : OUT (k,) int64, member counts
    """
    n, d = X.shape
    k = sums.shape[0]
    for r in prange(SUM_RANGES):
        lo = r * k // SUM_RANGES
        hi = (r + 1) * k // SUM_RANGES
        for j in range(lo, hi):
            sums[j, :] = 0.0
            wsum[j] = 0.0
            counts[j] = 0
        for i in range(n):
            j = labels[i]
            if j < lo or j >= hi:
                continue
            wi = np.float64(w[i])
            wsum[j] += wi
            counts[j] += 1
            for f in range(d):
                sums[j, f] += wi * np.float64(X[i, f])


@njit(parallel=True, cache=True, nogil=True)
def cluster_sums_ranged_csr(data, indices, indptr, w, labels, sums, wsum, counts):
    """The same as :func:`cluster_sums_ranged` for a CSR matrix given by its parts.

    Parameters
    ----------
    data, indices, indptr : IN the CSR parts of X (n rows)
    w, labels : IN (n,)
    sums, wsum, counts : OUT as in :func:`cluster_sums_ranged`
    """
    n = indptr.shape[0] - 1
    k = sums.shape[0]
    for r in prange(SUM_RANGES):
        lo = r * k // SUM_RANGES
        hi = (r + 1) * k // SUM_RANGES
        for j in range(lo, hi):
            sums[j, :] = 0.0
            wsum[j] = 0.0
            counts[j] = 0
        for i in range(n):
            j = labels[i]
            if j < lo or j >= hi:
                continue
            wi = np.float64(w[i])
            wsum[j] += wi
            counts[j] += 1
            for q in range(indptr[i], indptr[i + 1]):
                sums[j, indices[q]] += wi * np.float64(data[q])


@njit(parallel=True, cache=True, nogil=True)
def cluster_sums_csr(data, indices, indptr, w, order, starts, sums, wsum):
    """The same as :func:`cluster_sums_dense` for a CSR matrix given by its parts.

    Parameters
    ----------
    data, indices, indptr : IN the CSR parts of X (n rows)
    w, order, starts : IN as in :func:`cluster_sums_dense`
    sums, wsum : OUT as in :func:`cluster_sums_dense`
    """
    for j in prange(sums.shape[0]):
        sums[j, :] = 0.0
        wsum[j] = 0.0
        for p in range(starts[j], starts[j + 1]):
            i = order[p]
            wi = np.float64(w[i])
            wsum[j] += wi
            for q in range(indptr[i], indptr[i + 1]):
                sums[j, indices[q]] += wi * np.float64(data[q])


@njit(parallel=True, cache=True, nogil=True)
def reduce_slots(sums, wsum, out_sums, out_wsum):
    """Add the per-slot sums up, slot after slot for every entry (parallel over the
    clusters, so the order of the additions never depends on threads)."""
    n_slots, k, d = sums.shape
    for j in prange(k):
        out_wsum[j] = 0.0
        for f in range(d):
            out_sums[j, f] = 0.0
        for s in range(n_slots):
            out_wsum[j] += wsum[s, j]
            for f in range(d):
                out_sums[j, f] += sums[s, j, f]
