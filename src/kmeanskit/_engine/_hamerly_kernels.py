"""Numba kernels of Hamerly's exact k-means: array arithmetic only.

Every point keeps an upper bound on the distance to its centre and a lower bound on
the distance to every other centre (float32, rounded outwards). A point is skipped
when its upper bound is below ``max(lower bound, half the gap from its centre to the
nearest other centre)``; otherwise its upper bound is tightened, and if that is not
enough, the point is compared with every centre. The points of a chunk that need the
full comparison are gathered into a scratch buffer and compared through one BLAS
product. Each point's work is its own, so the result does not depend on threads.
"""

import numba
import numpy as np
from numba import njit, prange

__all__ = ["hamerly_assign_dense", "hamerly_move_bounds"]

_FAST = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _sqdist(X, i, C, j):
    """Squared distance summed in X's dtype (the bounds' margin covers the rounding)."""
    acc = X[i, 0] - X[i, 0]
    for f in range(X.shape[1]):
        u = X[i, f] - C[j, f]
        acc += u * u
    return np.float64(acc)


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def hamerly_assign_dense(
    X, centers, ct, csq, shift, centre, use_gemm, half_gap, chunk, margin, bufs, idxbufs,
    labels, upper, lower,
):  # fmt: skip
    """One Hamerly assignment step over dense ``X``.

    Inputs: centers (k, d), ct/csq/shift/centre as in the Lloyd pass, half_gap (k,)
    half the distance from each centre to its nearest other centre, margin (relative
    rounding of the float32 bounds), bufs (threads, chunk, d) and idxbufs (threads,
    chunk) scratch. In/out: labels, upper, lower (how many labels changed is counted by
    the caller, from the labels).
    """
    n, d = X.shape
    k = centers.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    up = 1.0 + margin
    down = 1.0 - margin
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        tid = numba.get_thread_id()
        buf = bufs[tid]
        idx = idxbufs[tid]
        m = 0
        for i in range(lo, hi):
            a = labels[i]
            bound = max(np.float64(half_gap[a]), np.float64(lower[i]))
            if np.float64(upper[i]) <= bound:
                continue
            u = np.sqrt(_sqdist(X, i, centers, a)) * up
            upper[i] = np.float32(u)
            if u <= bound:
                continue
            idx[m] = i
            if use_gemm:
                for f in range(d):
                    buf[m, f] = X[i, f] - shift[f] if centre else X[i, f]
            m += 1
        dots = np.empty((0, 0), dtype=X.dtype)
        if use_gemm and m > 0:
            dots = np.dot(buf[:m], ct)
        for q in range(m):
            i = idx[q]
            best = 0
            second = -1
            best_v = np.inf
            second_v = np.inf
            for j in range(k):
                if use_gemm:
                    v = csq[j] - 2.0 * np.float64(dots[q, j])
                else:
                    v = _sqdist(X, i, centers, j)
                if v < best_v:
                    second_v = best_v
                    second = best if best_v < np.inf else -1
                    best_v = v
                    best = j
                elif v < second_v:
                    second_v = v
                    second = j
            labels[i] = best
            upper[i] = np.float32(np.sqrt(_sqdist(X, i, centers, best)) * up)
            if second >= 0:
                lower[i] = np.float32(np.sqrt(_sqdist(X, i, centers, second)) * down)
            else:
                lower[i] = np.float32(np.inf)


@njit(parallel=True, cache=True, nogil=True)
def hamerly_move_bounds(labels, upper, lower, move, move_other, margin):
    """After the centres moved by ``move[j]``: widen every point's bounds.
    ``move_other[j]`` is the largest move among the centres other than j."""
    up = 1.0 + margin
    down = 1.0 - margin
    for i in prange(labels.shape[0]):
        a = labels[i]
        upper[i] = np.float32((np.float64(upper[i]) + move[a]) * up)
        lower[i] = np.float32(max(np.float64(lower[i]) - move_other[a], 0.0) * down)
