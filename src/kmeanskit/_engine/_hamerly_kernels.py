"""Numba kernels of Hamerly's exact k-means with a tracked runner-up: arithmetic only.

Every point keeps its centre ``a``, its runner-up ``b`` (the second nearest at its
last full scan) and three distance bounds, float32 and rounded outwards: ``upper`` on
the distance to a, ``lower`` on the distance to every other centre (Hamerly's bound)
and ``rest`` on the distance to every centre but a and b.

A step first widens the bounds by how far the centres moved. A point is then skipped
when its upper bound is below ``max(lower, half the gap from a to its nearest other
centre)``; else its upper bound is tightened to the exact distance and tested again.
A point that still fails compares a and b exactly: when the nearer of the two is within
``rest``, no other centre can win and the point is settled with two distances (on
overlapping data most late failures are points on the border of two clusters). Only
the points left need a full scan; a chunk's full scans are gathered into a scratch
buffer and compared with every centre through one BLAS product, whose argmin and two
runners-up are found by vectorised passes (:mod:`._simd`).

A full step scans every point that way and resets the bounds; a labels-only step
scans every point for its label alone (a Lloyd pass, when the bounds no longer prune).
When no shift is needed, full steps multiply X's rows in place, without gathering.
Each point's work is its own, so the result does not depend on threads.

(Comparing a failing point only with the centres that moved, which keeps its stored
bound valid for the others, was tried: the stale bound then fails again at the next
step, and on overlapping data the partial scans cost more than the full ones they
replace.)
"""

import numba
import numpy as np
from numba import njit, prange

from ._simd import argmin_row, two_smallest_row

__all__ = ["BOUNDED", "FULL", "LABELS_ONLY", "hamerly_step_dense"]

_FAST = {"reassoc", "contract"}

# ``mode`` of :func:`hamerly_step_dense`: the kind of a step
#: test the bounds; scan in full only the rows they cannot settle
BOUNDED = 0
#: scan every row and set its bounds (which are not read)
FULL = 1
#: scan every row for its label only, as a Lloyd pass (the bounds are neither read nor
#: written)
LABELS_ONLY = 2


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _sqdist(X, i, C, j):
    """Squared distance summed in X's dtype (the bounds' margin covers the rounding)."""
    acc = X[i, 0] - X[i, 0]
    for f in range(X.shape[1]):
        u = X[i, f] - C[j, f]
        acc += u * u
    return acc


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _dist(X, i, C, j):
    return np.sqrt(np.float64(_sqdist(X, i, C, j)))


@njit(cache=True, nogil=True, inline="always")
def _largest_except(top_v, top_id, a, b):
    """The largest move among the centres other than a and b, from the three largest
    moves (``top_v``, decreasing) and their centres (``top_id``)."""
    for t in range(3):
        if top_id[t] != a and top_id[t] != b:
            return top_v[t]
    return 0.0


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _gather(X, i, shift, subtract_shift, buf, slot, xsq):
    """Row i (less ``shift`` when ``subtract_shift``) into ``buf[slot]``, its squared norm
    into ``xsq[slot]``: IN X, i, shift, subtract_shift, slot; OUT buf, xsq."""
    d = X.shape[1]
    if subtract_shift:
        for f in range(d):
            buf[slot, f] = X[i, f] - shift[f]
    else:
        for f in range(d):
            buf[slot, f] = X[i, f]
    acc = 0.0
    for f in range(d):
        acc += np.float64(buf[slot, f]) * np.float64(buf[slot, f])
    xsq[slot] = acc


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def hamerly_step_dense(
    X,
    centers,
    ct,
    csq,
    cmax,
    shift,
    subtract_shift,
    use_gemm,
    half_gap,
    move,
    top_v,
    top_id,
    chunk,
    margin,
    err_scale,
    mode,
    bufs,
    idxbufs,
    xsqbufs,
    labels,
    second,
    upper,
    lower,
    rest,
    work,
):
    """One assignment step over dense ``X``.

    ``second`` and ``rest`` may be empty: no runner-up is kept (Hamerly's original).

    Parameters
    ----------
    X : IN (n, d) float32/float64
    centers : IN (k, d), X's dtype
    ct : IN (d, k) the centres less ``shift``, transposed, X's dtype
    csq : IN (k,) squared norms of the columns of ``ct``, X's dtype
    cmax : IN float, the largest of ``csq``
    shift : IN (d,) subtracted from the gathered rows when ``subtract_shift``
    subtract_shift : IN bool, rows less ``shift`` before the product
    use_gemm : IN bool, full scans through products (else direct distances, for few
        features)
    half_gap : IN (k,) half the distance from each centre to its nearest other one
    move : IN (k,) how far each centre moved since the last step
    top_v, top_id : IN (3,) the three largest moves, decreasing, and their centres (-1)
    chunk : IN int, rows per chunk
    margin : IN float, relative rounding of the float32 bounds
    err_scale : IN float, rounding of ``|x|^2 + |c|^2 - 2 x.c`` relative to
        ``|x|^2 + max |c|^2``
    mode : IN int, BOUNDED, FULL or LABELS_ONLY
    bufs, idxbufs, xsqbufs : scratch (threads, chunk, d), (threads, chunk) int64 and
        (threads, chunk)
    labels : IN/OUT (n,) int32, each row's centre
    second : IN/OUT (n,) or (0,) int32, its runner-up
    upper : IN/OUT (n,) float32, bound on the distance to the row's centre
    lower : IN/OUT (n,) float32, bound on the distance to every other centre
    rest : IN/OUT (n,) or (0,) float32, bound on every centre but the two
    work : OUT (n_chunks,) int64, the rows of each chunk scanned in full
    """
    n, d = X.shape
    k = centers.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    up = 1.0 + margin
    down = 1.0 - margin
    two = X.dtype.type(2.0)
    inf32 = np.float32(np.inf)
    runner_up = second.shape[0] > 0
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        tid = numba.get_thread_id()
        buf = bufs[tid]
        idx = idxbufs[tid]
        xsq = xsqbufs[tid]
        m = 0
        # a full scan of a chunk that needs no shift multiplies X's rows in place
        in_place = mode != BOUNDED and use_gemm and not subtract_shift
        for i in range(lo, hi):
            if mode == BOUNDED:
                a = labels[i]
                b = second[i] if runner_up else -1
                u = (np.float64(upper[i]) + move[a]) * up
                other = top_v[1] if top_id[0] == a else top_v[0]
                low = max(np.float64(lower[i]) - other, 0.0) * down
                r = 0.0
                if runner_up:
                    r = max(np.float64(rest[i]) - _largest_except(top_v, top_id, a, b), 0.0)
                    r *= down
                bound = max(np.float64(half_gap[a]), low)
                settled = u <= bound
                if not settled:
                    da = _dist(X, i, centers, a)
                    u = da * up
                    settled = u <= bound
                    if not settled and b >= 0:
                        db = _dist(X, i, centers, b)
                        if db < da or (db == da and b < a):
                            w, wd, o, od = b, db, a, da
                        else:
                            w, wd, o, od = a, da, b, db
                        # a clear winner (a near tie is left to the full scan, whose
                        # products decide as Lloyd's do), and no other centre can come
                        # nearer than it
                        if wd * up <= od * down and wd * up <= r:
                            labels[i] = w
                            second[i] = o
                            u = wd * up
                            low = min(od * down, r)
                            settled = True
                if settled:
                    upper[i] = np.float32(u)
                    lower[i] = np.float32(low)
                    if runner_up:
                        rest[i] = np.float32(r)
                    continue
            idx[m] = i
            if in_place:
                if mode == FULL:
                    acc = 0.0
                    for f in range(d):
                        acc += np.float64(X[i, f]) * np.float64(X[i, f])
                    xsq[m] = acc
            elif use_gemm:
                _gather(
                    X=X, i=i, shift=shift, subtract_shift=subtract_shift, buf=buf, slot=m, xsq=xsq
                )
            m += 1
        work[c] = m
        if m == 0:
            continue
        if in_place:
            dots = np.dot(X[lo:hi], ct)
        elif use_gemm:
            dots = np.dot(buf[:m], ct)
        else:
            dots = np.empty((m, k), dtype=X.dtype)
        for q in range(m):
            i = idx[q]
            row = dots[q]
            if mode == LABELS_ONLY:
                if use_gemm:
                    for j in range(k):
                        row[j] = csq[j] - two * row[j]
                else:
                    for j in range(k):
                        row[j] = _sqdist(X, i, centers, j)
                labels[i] = argmin_row(row, k)[0]
                continue
            if use_gemm:
                for j in range(k):
                    row[j] = csq[j] - two * row[j]
                base = xsq[q]
                err = err_scale * (xsq[q] + cmax)
            else:  # direct distances: their rounding is within the margin
                for j in range(k):
                    row[j] = _sqdist(X, i, centers, j)
                base = 0.0
                err = 0.0
            a, _, b, vb, vc = two_smallest_row(row, k)
            labels[i] = a
            if runner_up:
                second[i] = b
            upper[i] = np.float32(_dist(X, i, centers, a) * up)
            if b >= 0:
                lower[i] = np.float32(np.sqrt(max(base + vb - err, 0.0)) * down)
            else:
                lower[i] = inf32
            if runner_up:
                if vc < np.inf:
                    rest[i] = np.float32(np.sqrt(max(base + vc - err, 0.0)) * down)
                else:
                    rest[i] = inf32
