"""Numba kernels of the Lloyd pass: array arithmetic only, on buffers they are given.

Every pass walks the samples in fixed chunks of ``chunk`` rows. The chunks are
grouped into ``n_slots`` contiguous slots; a slot owns its partial sums and is
processed by one thread from start to end. The number of slots depends on the data
size only, never on the number of threads, and the caller reduces the slots in slot
order, so 1 thread and N threads give the same bits. When per-slot sums would take
too much memory, the pass only assigns, and :func:`cluster_sums_dense` sums each
cluster's rows in row order afterwards (also independent of threads).

Conventions: ``X`` is C-contiguous, float32 or float64, in the user's coordinates;
``centers`` has X's dtype. On the BLAS path the products are taken on rows shifted by
``shift`` (the data mean when centring pays, zeros otherwise) against ``ct``, the
shifted centres transposed, with ``csq`` their squared norms. Partial sums,
distances and objectives are accumulated in float64.
"""

import numba
import numpy as np
from numba import njit, prange

from ._simd import argmin_row, fast_min
from ._sums_kernels import (  # re-exported: the passes of every driver call them here
    SUM_RANGES,
    cluster_sums_csr,
    cluster_sums_dense,
    cluster_sums_ranged,
    cluster_sums_ranged_csr,
    group_by_label,
    reduce_slots,
)

__all__ = [
    "BLAS_PRODUCTS",
    "BLOCKED_PRODUCTS",
    "DIRECT_DISTANCES",
    "SUM_RANGES",
    "assigned_sqdist_csr",
    "assigned_sqdist_dense",
    "center_gaps",
    "cluster_sums_csr",
    "cluster_sums_dense",
    "cluster_sums_ranged",
    "cluster_sums_ranged_csr",
    "column_moments",
    "farthest_rows",
    "group_by_label",
    "lloyd_pass_csr",
    "lloyd_pass_dense",
    "reduce_slots",
    "sums_objective",
    "update_centers",
    "weighted_sqnorm_total",
]

# reassociation lets LLVM vectorise sums over features; the rounding of each row's
# sum is fixed by the compiled code, so it is the same on every thread
_FAST = {"reassoc", "contract"}

# ``mode`` of :func:`lloyd_pass_dense`: how a row's distances to the centres are taken
#: direct float64 sums over the features (few features)
DIRECT_DISTANCES = 0
#: BLAS products of the rows (shifted when asked) with the shifted centres ``ct``
BLAS_PRODUCTS = 1
#: products by :func:`_block_dots` of the unshifted rows (few centres, where a BLAS
#: product of that thin shape is slow)
BLOCKED_PRODUCTS = 2


@njit(cache=True, nogil=True, fastmath=_FAST)
def _block_dots(X, lo, hi, C, out):
    """``out[i - lo, j] = X[i] . C[j]`` in X's dtype, four centres per pass over a row
    (for few centres, where a BLAS product of that thin shape is slow)."""
    k = C.shape[0]
    d = X.shape[1]
    for i in range(lo, hi):
        j = 0
        while j + 4 <= k:
            a0 = X[i, 0] - X[i, 0]
            a1 = a0
            a2 = a0
            a3 = a0
            for f in range(d):
                x = X[i, f]
                a0 += x * C[j, f]
                a1 += x * C[j + 1, f]
                a2 += x * C[j + 2, f]
                a3 += x * C[j + 3, f]
            out[i - lo, j] = a0
            out[i - lo, j + 1] = a1
            out[i - lo, j + 2] = a2
            out[i - lo, j + 3] = a3
            j += 4
        while j < k:
            a0 = X[i, 0] - X[i, 0]
            for f in range(d):
                a0 += X[i, f] * C[j, f]
            out[i - lo, j] = a0
            j += 1


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def lloyd_pass_dense(
    X,
    w,
    centers,
    ct,
    csq,
    shift,
    subtract_shift,
    mode,
    chunk,
    accumulate_sums,
    bufs,
    labels,
    sums,
    wsum,
    inert,
):
    """Assign every row of dense ``X`` to its nearest centre; optionally accumulate.

    On the product paths the row's ``|c|^2 - 2 x.c`` are formed in X's dtype (as
    scikit-learn does) and their argmin is taken by vectorised passes (:mod:`._simd`).
    The S slots are ``inert.shape[0]``.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    w : IN (n,) sample weights
    centers : IN (k, d), X's dtype
    ct : IN (d, k) the centres less ``shift``, transposed (product paths)
    csq : IN (k,) squared norms of the columns of ``ct``, X's dtype
    shift : IN (d,) subtracted from the rows when ``subtract_shift``
    subtract_shift : IN bool, rows less ``shift`` before the BLAS product
    mode : IN int, DIRECT_DISTANCES, BLAS_PRODUCTS or BLOCKED_PRODUCTS
    chunk : IN int, rows per chunk
    accumulate_sums : IN bool, also fill ``sums`` and ``wsum``
    bufs : scratch (threads, chunk, d), the shifted rows
    labels : OUT (n,) int32, the nearest centres
    sums : OUT (S, k, d) weighted sums of each slot's rows per cluster
    wsum : OUT (S, k) their weights
    inert : OUT (S,) weighted squared distances (on the BLAS path less the constant
        ``sum w |x - shift|^2``, which the caller adds)
    """
    n, d = X.shape
    k = centers.shape[0]
    n_slots = inert.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    two = X.dtype.type(2.0)
    for s in prange(n_slots):
        inert[s] = 0.0
        if accumulate_sums:
            sums[s, :, :] = 0.0
            wsum[s, :] = 0.0
        dots = np.empty((chunk if mode == BLOCKED_PRODUCTS else 0, k), dtype=X.dtype)
        dist = np.empty(k if mode == DIRECT_DISTANCES else 0)
        for c in range(s * n_chunks // n_slots, (s + 1) * n_chunks // n_slots):
            lo = c * chunk
            hi = min(lo + chunk, n)
            if mode == BLOCKED_PRODUCTS:
                _block_dots(X, lo, hi, centers, dots)
            elif mode == BLAS_PRODUCTS:
                if subtract_shift:
                    buf = bufs[numba.get_thread_id()]
                    for i in range(lo, hi):
                        for f in range(d):
                            buf[i - lo, f] = X[i, f] - shift[f]
                    dots = np.dot(buf[: hi - lo], ct)
                else:
                    dots = np.dot(X[lo:hi], ct)
            for i in range(lo, hi):
                if mode != DIRECT_DISTANCES:
                    row = dots[i - lo]
                    for j in range(k):
                        row[j] = csq[j] - two * row[j]
                    best, best_v = argmin_row(row, k)
                    dd = np.float64(best_v)  # |x - shift|^2 is added by the caller
                else:
                    for j in range(k):
                        v = 0.0
                        for f in range(d):
                            t = np.float64(X[i, f]) - np.float64(centers[j, f])
                            v += t * t
                        dist[j] = v
                    best, dd = argmin_row(dist, k)
                labels[i] = best
                wi = np.float64(w[i])
                inert[s] += wi * dd
                if accumulate_sums:
                    wsum[s, best] += wi
                    for f in range(d):
                        sums[s, best, f] += wi * np.float64(X[i, f])


@njit(parallel=True, cache=True, nogil=True)
def lloyd_pass_csr(
    data,
    indices,
    indptr,
    w,
    ct,
    c_sqnorm,
    chunk,
    accumulate_sums,
    labels,
    sums,
    wsum,
    inert,
):
    """The same as :func:`lloyd_pass_dense` for a CSR matrix given by its parts.

    Parameters
    ----------
    data, indices, indptr : IN the CSR parts of X (n rows)
    w : IN (n,) sample weights
    ct : IN (d, k) the centres transposed, unshifted
    c_sqnorm : IN (k,) their squared norms
    chunk : IN int, rows per chunk
    accumulate_sums : IN bool, also fill ``sums`` and ``wsum``
    labels : OUT (n,) int32
    sums, wsum, inert : OUT per slot, as in :func:`lloyd_pass_dense` (``inert`` exact)
    """
    n = indptr.shape[0] - 1
    k = ct.shape[1]
    n_slots = inert.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        inert[s] = 0.0
        if accumulate_sums:
            sums[s, :, :] = 0.0
            wsum[s, :] = 0.0
        dots = np.empty(k, dtype=np.float64)
        for c in range(s * n_chunks // n_slots, (s + 1) * n_chunks // n_slots):
            lo = c * chunk
            hi = min(lo + chunk, n)
            for i in range(lo, hi):
                dots[:] = 0.0
                xsq = 0.0
                for p in range(indptr[i], indptr[i + 1]):
                    col = indices[p]
                    v = np.float64(data[p])
                    xsq += v * v
                    for j in range(k):
                        dots[j] += v * np.float64(ct[col, j])
                best = 0
                best_v = np.inf
                for j in range(k):
                    v = np.float64(c_sqnorm[j]) - 2.0 * dots[j]
                    if v < best_v:
                        best_v = v
                        best = j
                labels[i] = best
                wi = np.float64(w[i])
                inert[s] += wi * max(xsq + best_v, 0.0)
                if accumulate_sums:
                    wsum[s, best] += wi
                    for p in range(indptr[i], indptr[i + 1]):
                        sums[s, best, indices[p]] += wi * np.float64(data[p])


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def assigned_sqdist_dense(X, centers, labels, out):
    """``out[i] = |X[i] - centers[labels[i]]|^2``, summed directly in float64."""
    n, d = X.shape
    for i in prange(n):
        j = labels[i]
        acc = 0.0
        for f in range(d):
            u = np.float64(X[i, f]) - np.float64(centers[j, f])
            acc += u * u
        out[i] = acc


@njit(parallel=True, cache=True, nogil=True)
def assigned_sqdist_csr(data, indices, indptr, centers, c_sqnorm, labels, out):
    """``out[i] = |x_i - centers[labels[i]]|^2`` for a CSR matrix given by its parts:
    only x_i's non-zeros are visited.

    Parameters
    ----------
    data, indices, indptr : IN the CSR parts of X (n rows)
    centers : IN (k, d)
    c_sqnorm : IN (k,) the centres' squared norms
    labels : IN (n,) each row's centre
    out : OUT (n,) float64
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        j = labels[i]
        acc = c_sqnorm[j]
        for p in range(indptr[i], indptr[i + 1]):
            v = np.float64(data[p])
            c = np.float64(centers[j, indices[p]])
            acc += v * v - 2.0 * v * c
        out[i] = max(acc, 0.0)


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def weighted_sqnorm_total(X, w, shift, chunk, part):
    """``part[s] = sum_i w_i |X[i] - shift|^2`` over the rows of slot s.

    The caller adds the slots up: an array reduction here would be split by thread.
    """
    n, d = X.shape
    n_slots = part.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        acc = 0.0
        for i in range(
            s * n_chunks // n_slots * chunk, min((s + 1) * n_chunks // n_slots * chunk, n)
        ):
            row = 0.0
            for f in range(d):
                u = np.float64(X[i, f]) - np.float64(shift[f])
                row += u * u
            acc += np.float64(w[i]) * row
        part[s] = acc


@njit(parallel=True, cache=True, nogil=True)
def column_moments(X, x0, chunk, part_sum, part_sq):
    """Per slot s and feature f: ``part_sum[s, f] = sum (X[i, f] - x0[f])`` and
    ``part_sq[s, f] = sum (X[i, f] - x0[f])^2`` over the rows of slot s."""
    n, d = X.shape
    n_slots = part_sum.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        for f in range(d):
            part_sum[s, f] = 0.0
            part_sq[s, f] = 0.0
        lo = s * n_chunks // n_slots * chunk
        hi = min((s + 1) * n_chunks // n_slots * chunk, n)
        for i in range(lo, hi):
            for f in range(d):
                u = np.float64(X[i, f]) - x0[f]
                part_sum[s, f] += u
                part_sq[s, f] += u * u


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def center_gaps(centers, block, err, out):
    """``out[j]``: distance from centre j to its nearest other centre (inf if k = 1);
    no k x k matrix.

    The centres are centred on their mean (in their dtype) and multiplied in blocks of
    ``block`` rows against all of them, in parallel; each squared gap is lowered by
    ``err * (|c_i|^2 + |c_j|^2)`` for the rounding of the product, so that it never
    exceeds the true one (bounds built on it stay bounds).
    """
    k, d = centers.shape
    mean = np.zeros(d)
    for j in range(k):
        for f in range(d):
            mean[f] += np.float64(centers[j, f]) / k
    C = np.empty((k, d), dtype=centers.dtype)
    csq = np.empty(k)
    for j in range(k):
        acc = 0.0
        for f in range(d):
            u = centers[j, f] - centers.dtype.type(mean[f])
            C[j, f] = u
            acc += np.float64(u) * np.float64(u)
        csq[j] = acc
    ct = C.T
    for blk in prange((k + block - 1) // block):
        lo = blk * block
        hi = min(lo + block, k)
        g = np.dot(C[lo:hi], ct)
        for j in range(lo, hi):
            best = np.inf
            for m in range(k):
                sq = csq[j] + csq[m]
                v = sq - 2.0 * np.float64(g[j - lo, m]) - err * sq
                v = np.inf if m == j else v
                best = fast_min(v, best)
            out[j] = np.sqrt(max(best, 0.0))


@njit(parallel=True, cache=True, nogil=True)
def update_centers(sums, wsum, centers, move):
    """Move each centre with weight to the mean of its cluster (in place, centres in
    X's dtype); ``move[j]`` gets the distance it moved. Empty clusters stay put."""
    k, d = centers.shape
    for j in prange(k):
        acc = 0.0
        if wsum[j] > 0:
            for f in range(d):
                new = centers.dtype.type(sums[j, f] / wsum[j])
                u = np.float64(new) - np.float64(centers[j, f])
                acc += u * u
                centers[j, f] = new
        move[j] = np.sqrt(acc)


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def farthest_rows(X, centers, labels, chunk, out_idx, out_dist):
    """The ``m = out_idx.shape[1]`` rows of each slot farthest from their centres (the
    squared distance summed directly in float64), farthest first, ties by row index;
    ``out_idx[s]``/``out_dist[s]`` for slot s (-1 / -inf past the slot's rows). No
    n-sized array: the caller merges the slots.

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d)
    labels : IN (n,) each row's centre
    chunk : IN int, rows per chunk
    out_idx : OUT (S, m) int64, row ids
    out_dist : OUT (S, m) float64, their squared distances
    """
    n, d = X.shape
    n_slots, m = out_idx.shape
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        ids = out_idx[s]
        dist = out_dist[s]
        ids[:] = -1
        dist[:] = -np.inf
        lo = s * n_chunks // n_slots * chunk
        hi = min((s + 1) * n_chunks // n_slots * chunk, n)
        for i in range(lo, hi):
            j = labels[i]
            acc = 0.0
            for f in range(d):
                u = np.float64(X[i, f]) - np.float64(centers[j, f])
                acc += u * u
            if acc <= dist[m - 1]:
                continue  # rows come in index order: a tie keeps the earlier one
            p = m - 1
            while p > 0 and acc > dist[p - 1]:
                dist[p] = dist[p - 1]
                ids[p] = ids[p - 1]
                p -= 1
            dist[p] = acc
            ids[p] = i


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def assigned_objective_dense(X, w, centers, labels, chunk, part):
    """``part[s]``: weighted squared distances of slot s's rows to their centres,
    summed directly in float64 (no per-row array).

    Parameters
    ----------
    X : IN (n, d)
    w : IN (n,) sample weights
    centers : IN (k, d)
    labels : IN (n,) each row's centre
    chunk : IN int, rows per chunk
    part : OUT (S,) float64
    """
    n, d = X.shape
    n_slots = part.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        acc = 0.0
        lo = s * n_chunks // n_slots * chunk
        hi = min((s + 1) * n_chunks // n_slots * chunk, n)
        for i in range(lo, hi):
            j = labels[i]
            row = 0.0
            for f in range(d):
                u = np.float64(X[i, f]) - np.float64(centers[j, f])
                row += u * u
            acc += np.float64(w[i]) * row
        part[s] = acc


@njit(parallel=True, cache=True, nogil=True)
def sums_objective(centers, sums, wsum, shift, part):
    """``part[j] = 2 c'_j . S'_j - W_j |c'_j|^2`` with ``c' = c - shift`` and
    ``S' = S - W shift``, in float64: what cluster j takes off ``sum w |x - shift|^2``
    to give the objective (no k x d temporaries)."""
    k, d = centers.shape
    for j in prange(k):
        cross = 0.0
        norm = 0.0
        for f in range(d):
            c = np.float64(centers[j, f]) - shift[f]
            cross += c * (sums[j, f] - wsum[j] * shift[f])
            norm += c * c
        part[j] = 2.0 * cross - wsum[j] * norm
