"""Numba kernels of k-means++ seeding: array arithmetic only, on buffers they are given.

A round compares every point with the round's candidates and sums, per chunk of rows,
the potential each candidate would leave. Two things keep that near one read of X:

- pruning with the triangle inequality: a candidate ``c`` cannot be closer to ``x``
  than x's centre ``a`` when ``|c - a| >= 2 |x - a|``, so a point is only compared with
  the candidates that can reach it (exact: the same candidates win as without it);
- the points a chunk still has to compare are gathered and compared with all the
  candidates through one BLAS product (``|x|^2 + |c|^2 - 2 x.c`` on rows shifted by the
  data's mean when that matters), not one distance at a time.

Each point records which candidates came closer than its centre in a bit mask, so once
the round's winner is known, only the points it captures are visited again (one
distance each): no second pass over X and no candidates x points table.
"""

import numba
import numpy as np
from numba import njit, prange

from ._simd import fast_max, fast_min

__all__ = [
    "candidate_sqdist_csc",
    "center_distances",
    "kpp_first",
    "kpp_potentials",
    "kpp_sample",
    "kpp_update",
    "row_sqnorms_csr",
]

# reassociation lets LLVM vectorise the sums over features; nothing else is relaxed,
# so infinities (the "no centre yet" distance) compare as usual
_FAST = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _sqdist(X, i, C, t):
    """Exact squared distance of ``X[i]`` and ``C[t]``, summed in float64."""
    acc = 0.0
    for f in range(X.shape[1]):
        u = np.float64(X[i, f]) - np.float64(C[t, f])
        acc += u * u
    return acc


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _dot_sqdist(X, i, shift, C, csq, t):
    """``|x - s|^2 + |c - s|^2 - 2 (x - s).(c - s)`` for row i and (shifted) row t of C,
    the norm and product summed in X's dtype as :func:`_dots_2x4` forms them (clipped
    at 0). All IN: X (n, d), i, shift (d,), C (shifted rows), csq (their squared
    norms), t."""
    acc = X[i, 0] - X[i, 0]
    sq = acc
    for f in range(X.shape[1]):
        u = X[i, f] - shift[f]
        acc += u * C[t, f]
        sq += u * u
    return max(np.float64(sq) + csq[t] - 2.0 * np.float64(acc), 0.0)


@njit(cache=True, nogil=True, fastmath=_FAST)
def _dots_2x4(X, idx, m, shift, cand, out, xsq):
    """``out[t, q] = (X[idx[q]] - shift) . cand[t]`` and ``xsq[q] = |X[idx[q]] - shift|^2``,
    summed in X's dtype, for ``q < m``: two rows against four candidates per pass over
    the features (``cand`` has a multiple of 4 rows), the squared norms taken in the
    first pass. For few candidates and many features, where a BLAS product of that
    thin shape runs at a fraction of its speed; no copy of the rows is made.

    Parameters
    ----------
    X : IN (n, d)
    idx : IN (>= m,) int64, the rows to take
    m : IN int, how many
    shift : IN (d,) subtracted from the rows
    cand : IN (T, d), T a multiple of 4, X's dtype
    out : OUT (T, >= m), X's dtype
    xsq : OUT (>= m,) float64
    """
    d = X.shape[1]
    z = X.dtype.type(0.0)
    for q in range(0, m, 2):
        i0 = idx[q]
        q1 = q + 1 if q + 1 < m else q
        i1 = idx[q1]
        for t in range(0, cand.shape[0], 4):
            a0 = z
            a1 = z
            a2 = z
            a3 = z
            b0 = z
            b1 = z
            b2 = z
            b3 = z
            s0 = z
            s1 = z
            if t == 0:
                for f in range(d):
                    x0 = X[i0, f] - shift[f]
                    x1 = X[i1, f] - shift[f]
                    a0 += x0 * cand[0, f]
                    a1 += x0 * cand[1, f]
                    a2 += x0 * cand[2, f]
                    a3 += x0 * cand[3, f]
                    b0 += x1 * cand[0, f]
                    b1 += x1 * cand[1, f]
                    b2 += x1 * cand[2, f]
                    b3 += x1 * cand[3, f]
                    s0 += x0 * x0
                    s1 += x1 * x1
                xsq[q] = np.float64(s0)
                xsq[q1] = np.float64(s1)
            else:
                for f in range(d):
                    x0 = X[i0, f] - shift[f]
                    x1 = X[i1, f] - shift[f]
                    a0 += x0 * cand[t, f]
                    a1 += x0 * cand[t + 1, f]
                    a2 += x0 * cand[t + 2, f]
                    a3 += x0 * cand[t + 3, f]
                    b0 += x1 * cand[t, f]
                    b1 += x1 * cand[t + 1, f]
                    b2 += x1 * cand[t + 2, f]
                    b3 += x1 * cand[t + 3, f]
            out[t, q] = a0
            out[t + 1, q] = a1
            out[t + 2, q] = a2
            out[t + 3, q] = a3
            out[t, q1] = b0
            out[t + 1, q1] = b1
            out[t + 2, q1] = b2
            out[t + 3, q1] = b3


@njit(cache=True, nogil=True, inline="always")
def _bit(t, mask):
    """Candidate t's bit in a mask array of 16 or 32 bits (the last bit shared)."""
    width = mask.itemsize * 8
    return mask.dtype.type(1) << mask.dtype.type(min(t, width - 1))


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def center_distances(cand, csq, centers, n_centers, shift, err, out, out_min):
    """``out[j, t]``: a lower bound on ``|cand[t] - centers[j]|^2 / 4`` and ``out_min[j]``
    its minimum over t, for ``j < n_centers``.

    ``cand``: the candidates shifted by ``shift`` in X's dtype, padded with zero rows to
    a multiple of 4, ``csq`` their squared norms; ``centers`` in X's coordinates. The
    products are taken by :func:`_dots_2x4` in X's dtype, blocks of centres in parallel
    (no copies), and each squared distance is lowered by ``err * (|c - s|^2 +
    |cand - s|^2)`` for its rounding. Candidate t cannot beat centre j for a point at
    squared distance ``cl`` from j when ``out[j, t] >= cl``.

    Parameters
    ----------
    cand : IN (T, d), X's dtype, T a multiple of 4
    csq : IN (t,) float64, squared norms of the t candidates
    centers : IN (>= n_centers, d), X's dtype
    n_centers : IN int, the centres chosen so far
    shift : IN (d,)
    err : IN float, relative rounding of the products
    out : OUT (>= n_centers, t) float64
    out_min : OUT (>= n_centers,) float64
    """
    n_cand = csq.shape[0]
    block = 64
    for blk in prange((n_centers + block - 1) // block):
        lo = blk * block
        hi = min(lo + block, n_centers)
        idx = np.arange(lo, hi)
        dots = np.empty((cand.shape[0], hi - lo), dtype=centers.dtype)
        jsq = np.empty(hi - lo)
        _dots_2x4(X=centers, idx=idx, m=hi - lo, shift=shift, cand=cand, out=dots, xsq=jsq)
        for j in range(lo, hi):
            low = np.inf
            for t in range(n_cand):
                sq = jsq[j - lo] + csq[t]
                v = 0.25 * max(sq - 2.0 * np.float64(dots[t, j - lo]) - err * sq, 0.0)
                out[j, t] = v
                low = min(low, v)
            out_min[j] = low


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def kpp_potentials(
    X,
    shift,
    w,
    cand,
    csq,
    cc,
    cc_min,
    closest,
    nearest,
    use_dot,
    chunk,
    idxbufs,
    rowbufs,
    pot_chunks,
    mask,
):
    """Per chunk, the potential each candidate would leave: ``sum w * min(closest, d^2)``.

    ``cc[j, t]`` bounds a quarter of the squared distance of candidate t to centre j
    and ``cc_min[j]`` is its minimum over t (see :func:`center_distances`); ``nearest[i]``
    is the centre of x_i and ``closest[i]`` the squared distance to it. The points that
    a candidate can reach are listed per chunk; with ``use_dot`` their distances are
    ``|x - s|^2 + |c - s|^2 - 2 (x - s).(c - s)`` (``cand``: the candidates shifted by
    ``shift``, in X's dtype, padded with zero rows to a multiple of 4; ``csq``: their
    squared norms), the products taken for all candidates at once by
    :func:`_dots_2x4`; otherwise the distances are summed directly. ``rowbufs[thread]``
    (3, chunk) holds the listed rows' ``|x - s|^2``, closest and weight. Writes
    ``pot_chunks[chunk, t]`` and, per point, ``mask[i]`` (16 or 32 bits): bit t set
    when candidate t comes closer than the point's centre (candidates past the width
    share the last bit: their points are compared again, which is exact, only slower).

    Parameters
    ----------
    X : IN (n, d)
    shift : IN (d,)
    w : IN (n,) sample weights
    cand : IN (T, d) the shifted candidates, padded; X's dtype
    csq : IN (t,) float64, their squared norms
    cc, cc_min : IN (k, t) and (k,) float64, from :func:`center_distances`
    closest : IN (n,) float64, squared distance to the nearest centre
    nearest : IN (n,) the nearest centre
    use_dot : IN bool, distances through products (else summed directly)
    chunk : IN int, rows per chunk
    idxbufs : scratch (threads, chunk) int64
    rowbufs : scratch (threads, 3, chunk) float64
    pot_chunks : OUT (n_chunks, t) float64
    mask : OUT (n,) uint16/uint32
    """
    n_cand = csq.shape[0]
    n_chunks = pot_chunks.shape[0]
    n = X.shape[0]
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        base = 0.0  # the potential as it is
        tid = numba.get_thread_id()
        idx = idxbufs[tid]
        xsq = rowbufs[tid, 0]
        cls = rowbufs[tid, 1]
        wts = rowbufs[tid, 2]
        m = 0
        for i in range(lo, hi):
            cl = closest[i]
            wi = np.float64(w[i])
            base += wi * cl
            mask[i] = 0
            if cc_min[nearest[i]] >= cl:
                continue  # no candidate can come closer than x's centre
            idx[m] = i
            cls[m] = cl
            wts[m] = wi
            m += 1
        dots = np.empty((cand.shape[0] if use_dot else 0, m), dtype=X.dtype)
        if use_dot and m > 0:
            _dots_2x4(X=X, idx=idx, m=m, shift=shift, cand=cand, out=dots, xsq=xsq)
        bits = np.zeros(m, dtype=mask.dtype)
        zero = mask.dtype.type(0)
        for t in range(n_cand):
            bit = _bit(t, mask)
            gain = 0.0  # what candidate t takes off the potential (<= 0)
            if use_dot:  # branch-free, so that it vectorises
                for q in range(m):
                    v = fast_max(xsq[q] + csq[t] - 2.0 * np.float64(dots[t, q]), 0.0)
                    gain += wts[q] * fast_min(v - cls[q], 0.0)
                    bits[q] |= bit if v < cls[q] else zero
            else:
                for q in range(m):
                    i = idx[q]
                    if cc[nearest[i], t] < cls[q]:
                        v = _sqdist(X, i, cand, t)
                        if v < cls[q]:
                            gain += wts[q] * (v - cls[q])
                            bits[q] |= bit
            pot_chunks[c, t] = base + gain
        for q in range(m):
            mask[idx[q]] = bits[q]


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def kpp_update(
    X, shift, w, cand, csq, t, new_id, use_dot, mask, closest, nearest, chunk, chunk_pot
):
    """Make candidate ``t`` centre ``new_id``: the points whose mask has t's bit are
    compared with it again (the same arithmetic as :func:`kpp_potentials`, up to the
    rounding of a product summed in another order), ``closest``/``nearest`` updated and
    each chunk's potential ``chunk_pot`` moved by the change.

    Parameters
    ----------
    X, shift, w, cand, csq, use_dot, chunk : IN as in :func:`kpp_potentials`
    t : IN int, the winning candidate
    new_id : IN int, its centre id
    mask : IN (n,) from :func:`kpp_potentials`
    closest, nearest : IN/OUT (n,)
    chunk_pot : IN/OUT (n_chunks,) float64, each chunk's potential
    """
    n = X.shape[0]
    bit = _bit(t, mask)
    for c in prange(chunk_pot.shape[0]):
        delta = 0.0
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            if mask[i] & bit:
                if use_dot:
                    v = _dot_sqdist(X=X, i=i, shift=shift, C=cand, csq=csq, t=t)
                else:
                    v = _sqdist(X, i, cand, t)
                cl = closest[i]
                if v < cl:
                    delta += np.float64(w[i]) * (v - cl)
                    closest[i] = v
                    nearest[i] = new_id
        chunk_pot[c] += delta


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def kpp_first(X, shift, w, first, csq0, use_dot, closest, nearest, chunk, chunk_pot):
    """The first centre (``first``: its row of X, shifted when ``use_dot``, with its
    squared norm ``csq0``): every point's distance to it and each chunk's potential.

    Parameters
    ----------
    X, shift, w, use_dot, chunk : IN as in :func:`kpp_potentials`
    first : IN (1, d), X's dtype
    csq0 : IN (1,) float64
    closest : OUT (n,) float64
    nearest : OUT (n,)
    chunk_pot : OUT (n_chunks,) float64
    """
    n = X.shape[0]
    for c in prange(chunk_pot.shape[0]):
        local = 0.0
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            if use_dot:
                v = _dot_sqdist(X=X, i=i, shift=shift, C=first, csq=csq0, t=0)
            else:
                v = _sqdist(X, i, first, 0)
            closest[i] = v
            nearest[i] = 0
            local += np.float64(w[i]) * v
        chunk_pot[c] = local


@njit(cache=True, nogil=True)
def kpp_sample(targets, chunk_pot, w, closest, chunk, out):
    """Rows drawn at ``targets`` along the cumulative ``w * closest`` (two levels:
    chunk totals first, then the rows of one chunk). Same rule as
    ``searchsorted(cumsum(w * closest), targets)``, clipped to the last row.

    Parameters
    ----------
    targets : IN (q,) float64
    chunk_pot : IN (n_chunks,) float64
    w, closest : IN (n,)
    chunk : IN int, rows per chunk
    out : OUT (q,) the rows drawn
    """
    n = closest.shape[0]
    cum = np.cumsum(chunk_pot)
    for q in range(targets.shape[0]):
        c = min(np.searchsorted(cum, targets[q]), cum.shape[0] - 1)
        remaining = targets[q] - (cum[c - 1] if c > 0 else 0.0)
        lo = c * chunk
        hi = min(lo + chunk, n)
        run = 0.0
        pick = hi - 1
        for i in range(lo, hi):
            run += np.float64(w[i]) * closest[i]
            if run >= remaining:
                pick = i
                break
        out[q] = pick


@njit(parallel=True, cache=True, nogil=True)
def candidate_sqdist_csc(
    cdata, crows, cindptr, xsq, cand_data, cand_cols, cand_ptr, c_sqnorm, closest, out
):
    """``out[t, i] = min(closest[i], |x_i - cand[t]|^2)`` for sparse X given by its CSC
    parts (``cdata``, ``crows``, ``cindptr``) and row norms ``xsq``, and sparse
    candidates given by their CSR parts: a candidate's dot products only visit the
    columns where it is non-zero.

    Parameters
    ----------
    cdata, crows, cindptr : IN the CSC parts of X (n rows)
    xsq : IN (n,) float64, X's squared row norms
    cand_data, cand_cols, cand_ptr : IN the CSR parts of the t candidates
    c_sqnorm : IN (t,) float64, their squared norms
    closest : IN (n,) float64
    out : OUT (>= t, n) float64
    """
    n = xsq.shape[0]
    for t in prange(cand_ptr.shape[0] - 1):
        out[t, :] = 0.0
        for p in range(cand_ptr[t], cand_ptr[t + 1]):
            col = cand_cols[p]
            v = np.float64(cand_data[p])
            for q in range(cindptr[col], cindptr[col + 1]):
                out[t, crows[q]] += v * np.float64(cdata[q])
        csq = c_sqnorm[t]
        for i in range(n):
            out[t, i] = min(closest[i], max(xsq[i] - 2.0 * out[t, i] + csq, 0.0))


@njit(parallel=True, cache=True, nogil=True)
def row_sqnorms_csr(data, indptr, out):
    """``out[i] = |x_i|^2`` in float64 for a CSR matrix with summed duplicates."""
    for i in prange(indptr.shape[0] - 1):
        acc = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            acc += np.float64(data[p]) * np.float64(data[p])
        out[i] = acc
