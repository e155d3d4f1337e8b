"""Numba kernels of Yinyang k-means (Ding et al. 2015): array arithmetic only.

The centres are split into groups. Every point keeps an upper bound on the distance
to its centre and, per group, a lower bound on the distance to the group's other
centres (float32, rounded outwards). When the centres move, the bounds widen by the
move of the point's centre and by the largest move in each group. A point whose upper
bound is below every group bound keeps its centre without a single distance; else
only the groups whose bound is below the best distance so far are searched. Each
point's work is its own, so the result does not depend on threads.
"""

import numba
import numpy as np
from numba import njit, prange

from ._simd import min_row

__all__ = ["yinyang_assign_dense", "yinyang_first_dense", "yinyang_pass_share"]

_FAST = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _dist(X, i, C, j):
    """Distance summed in X's dtype (float32 data: twice the SIMD width; the bounds'
    margin covers the rounding)."""
    acc = X[i, 0] - X[i, 0]
    for f in range(X.shape[1]):
        u = X[i, f] - C[j, f]
        acc += u * u
    return np.sqrt(np.float64(acc))


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def yinyang_first_dense(
    X,
    centers,
    ct,
    csq,
    gorder,
    gstart,
    shift,
    subtract_shift,
    chunk,
    err_scale,
    margin,
    bufs,
    labels,
    upper,
    lower,
):
    """Full assignment through BLAS products that also sets the bounds.

    The centres are taken in group order: ``ct`` (d, k) and ``csq`` (k,) are the shifted
    centres ``gorder`` of X's dtype, transposed, and their squared norms, so group g is
    the columns ``gstart[g]:gstart[g + 1]`` and its minimum is one vectorised pass.
    ``lower[i, g]`` becomes the smallest distance to a centre of group g other than the
    chosen one, from ``|x|^2 + |c|^2 - 2 x.c`` less its rounding error
    (``err_scale * (|x|^2 + max |c|^2)``); ``upper[i]`` the exact distance to the
    chosen one.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    centers : IN (k, d), X's dtype
    ct : IN (d, k) the centres ``gorder`` less ``shift``, transposed, X's dtype
    csq : IN (k,) squared norms of the columns of ``ct``, X's dtype
    gorder : IN (k,) int32, the centres in group order
    gstart : IN (G + 1,) int64, where each group starts in ``gorder``
    shift : IN (d,) subtracted from the rows when ``subtract_shift``
    subtract_shift : IN bool, rows less ``shift`` before the product
    chunk : IN int, rows per chunk
    err_scale : IN float, relative rounding of the products (see above)
    margin : IN float, relative rounding of the float32 bounds
    bufs : scratch (threads, chunk, d), the shifted rows (may be empty without a shift)
    labels : OUT (n,) int32
    upper : OUT (n,) float32
    lower : OUT (n, G) float32
    """
    n, d = X.shape
    k = centers.shape[0]
    n_groups = gstart.shape[0] - 1
    n_chunks = (n + chunk - 1) // chunk
    down = 1.0 - margin
    two = X.dtype.type(2.0)
    inf = X.dtype.type(np.inf)
    cmax = 0.0
    for j in range(k):
        cmax = max(cmax, np.float64(csq[j]))
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        if subtract_shift:
            buf = bufs[numba.get_thread_id()]
            for i in range(lo, hi):
                for f in range(d):
                    buf[i - lo, f] = X[i, f] - shift[f]
            rows = buf[: hi - lo]
        else:
            rows = X[lo:hi]
        dots = np.dot(rows, ct)
        for i in range(lo, hi):
            xsq = 0.0
            for f in range(d):
                u = np.float64(rows[i - lo, f])
                xsq += u * u
            row = dots[i - lo]
            for p in range(k):
                row[p] = csq[p] - two * row[p]
            m = min_row(row, k)
            best = np.int32(k)  # the lowest centre index on ties, as Lloyd's argmin
            for p in range(k):
                j = gorder[p] if row[p] == m else np.int32(k)
                best = j if j < best else best
            p_best = 0
            while gorder[p_best] != best:
                p_best += 1
            labels[i] = best
            upper[i] = np.float32(_dist(X, i, centers, best) * (1.0 + margin))
            row[p_best] = inf
            err = err_scale * (xsq + cmax)
            for g in range(n_groups):
                low = min_row(row[gstart[g] : gstart[g + 1]], gstart[g + 1] - gstart[g])
                if low < inf:
                    lower[i, g] = np.float32(np.sqrt(max(xsq + low - err, 0.0)) * down)
                else:
                    lower[i, g] = np.float32(np.inf)


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def yinyang_assign_dense(
    X,
    centers,
    group_of,
    gorder,
    gstart,
    move,
    gmove,
    chunk,
    margin,
    labels,
    upper,
    lower,
    work,
):
    """One Yinyang assignment step after the centres moved by ``move`` (``gmove``:
    the largest move in each group). Updates labels and bounds; ``work[c]`` counts the
    distances computed in chunk c.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    centers : IN (k, d), X's dtype
    group_of : IN (k,) int32, each centre's group
    gorder, gstart : IN the centres in group order and where each group starts
    move : IN (k,) how far each centre moved since the last step
    gmove : IN (G,) the largest move in each group
    chunk : IN int, rows per chunk
    margin : IN float, relative rounding of the float32 bounds
    labels : IN/OUT (n,) int32
    upper : IN/OUT (n,) float32, bound on the distance to the row's centre
    lower : IN/OUT (n, G) float32, bound on the distance to each group's other centres
    work : OUT (n_chunks,) int64
    """
    n = X.shape[0]
    n_groups = gstart.shape[0] - 1
    n_chunks = (n + chunk - 1) // chunk
    up = 1.0 + margin
    down = 1.0 - margin
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        g_min1 = np.empty(n_groups)
        g_min2 = np.empty(n_groups)
        g_arg1 = np.empty(n_groups, dtype=np.int64)
        searched = np.zeros(n_groups, dtype=np.bool_)
        n_dist = 0
        for i in range(lo, hi):
            a = labels[i]
            ub = np.float64(upper[i]) + move[a]
            glob = np.inf
            for g in range(n_groups):
                lg = max(np.float64(lower[i, g]) - gmove[g], 0.0)
                lower[i, g] = np.float32(lg * down)
                glob = min(glob, np.float64(lower[i, g]))
            if ub <= glob:
                upper[i] = np.float32(ub * up)
                continue
            ub = _dist(X, i, centers, a)
            n_dist += 1
            if ub <= glob:
                upper[i] = np.float32(ub * up)
                continue
            best = a
            best_d = ub
            for g in range(n_groups):
                searched[g] = False
                if np.float64(lower[i, g]) >= best_d:
                    continue
                searched[g] = True
                n_dist += gstart[g + 1] - gstart[g]
                m1 = np.inf
                m2 = np.inf
                a1 = -1
                for p in range(gstart[g], gstart[g + 1]):
                    j = gorder[p]
                    dj = ub if j == a else _dist(X, i, centers, j)
                    if dj < m1:
                        m2 = m1
                        m1 = dj
                        a1 = j
                    elif dj < m2:
                        m2 = dj
                g_min1[g] = m1
                g_min2[g] = m2
                g_arg1[g] = a1
                if m1 < best_d:
                    best_d = m1
                    best = a1
            for g in range(n_groups):
                if searched[g]:
                    low = g_min2[g] if g_arg1[g] == best else g_min1[g]
                    lower[i, g] = np.float32(low * down)
            if best != a:
                # the old centre is now one of the others of its group
                ga = group_of[a]
                if not searched[ga]:
                    lower[i, ga] = np.float32(min(np.float64(lower[i, ga]), ub * down))
            labels[i] = best
            upper[i] = np.float32(best_d * up)
        work[c] = n_dist


@njit(parallel=True, cache=True, nogil=True)
def yinyang_pass_share(labels, upper, lower, move, gmove, chunk, out):
    """``out[c]``: how many points of chunk c pass Yinyang's global test after the
    centres moved (``move``; ``gmove`` the largest move of each group): their upper
    bound plus their centre's move is below every group bound less the group's move.
    Reads the bounds only (no distances): the share tells whether a step would prune.

    Parameters
    ----------
    labels, upper, lower : IN the state, as in :func:`yinyang_assign_dense`
    move, gmove : IN (k,) and (G,) as in :func:`yinyang_assign_dense`
    chunk : IN int, rows per chunk
    out : OUT (n_chunks,) int64
    """
    n = labels.shape[0]
    n_groups = gmove.shape[0]
    for c in prange(out.shape[0]):
        passed = 0
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            ub = np.float64(upper[i]) + move[labels[i]]
            glob = np.inf
            for g in range(n_groups):
                glob = min(glob, np.float64(lower[i, g]) - gmove[g])
            if ub <= glob:
                passed += 1
        out[c] = passed
