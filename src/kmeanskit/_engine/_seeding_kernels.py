"""Numba kernels of k-means++ seeding: array arithmetic only, on buffers they are given.

The dense kernels prune with the triangle inequality: a candidate ``c`` cannot be
closer to ``x`` than x's centre ``a`` when ``|c - a| >= 2 |x - a|``, so distances are
only computed for the points a candidate can reach. The pruning is exact: the same
candidates win as without it.
"""

import numpy as np
from numba import njit, prange

from ._kernels import _block_dots

__all__ = [
    "candidate_sqdist_csc",
    "center_distances",
    "kpp_potentials_dense",
    "kpp_sample",
    "kpp_update_dense",
    "kpp_update_kept",
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
def _dot(X, i, C, t):
    acc = X[i, 0] - X[i, 0]  # zero of X's dtype: float32 data is summed in float32
    for f in range(X.shape[1]):
        acc += X[i, f] * C[t, f]
    return np.float64(acc)


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _dot_sqdist(X, i, xsq, C, csq, t):
    return max(xsq[i] + csq[t] - 2.0 * _dot(X, i, C, t), 0.0)


@njit(cache=True, nogil=True, fastmath=_FAST, inline="always")
def _dist(X, i, xsq, C, csq, t, use_dot):
    if use_dot:
        return _dot_sqdist(X, i, xsq, C, csq, t)
    return _sqdist(X, i, C, t)


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def center_distances(cand, centers, n_centers, out, out_min):
    """``out[j, t] = |cand[t] - centers[j]|^2 / 4`` and ``out_min[j] = min_t out[j, t]``
    for ``j < n_centers``.

    A quarter of the squared distance: candidate t cannot beat centre j for a point
    at squared distance ``cl`` from j when ``out[j, t] >= cl``.
    """
    n_cand = cand.shape[0]
    for j in prange(n_centers):
        low = np.inf
        for t in range(n_cand):
            v = 0.25 * _sqdist(cand, t, centers, j)
            out[j, t] = v
            low = min(low, v)
        out_min[j] = low


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def kpp_potentials_dense(
    X, xsq, w, cand, csq, cc, cc_min, closest, nearest, use_dot, chunk, pot_chunks, keep
):  # fmt: skip
    """Per chunk, the potential each candidate would leave: ``sum w * min(closest, d^2)``.

    ``cc[j, t]`` is a quarter of the squared distance of candidate t to centre j and
    ``cc_min[j]`` its minimum over t (see :func:`center_distances`); ``nearest[i]`` is
    the centre of x_i and ``closest[i]`` the squared distance to it. With ``use_dot``
    distances are ``|x|^2 + |c|^2 - 2 x.c`` (``xsq``, ``csq``: squared norms), for all
    candidates at once; otherwise they are summed directly, for each candidate that
    the bound leaves. Writes ``pot_chunks[chunk, t]``, and when ``keep`` has a row per
    candidate, ``keep[t, i]`` the squared distance of every point the bound left (so that
    :func:`kpp_update_kept` need not read X again).
    """
    n = X.shape[0]
    n_cand = cand.shape[0]
    n_chunks = pot_chunks.shape[0]
    keeping = keep.shape[0] > 0
    for c in prange(n_chunks):
        base = 0.0  # the potential as it is
        gain = np.zeros(n_cand)  # what each candidate takes off it (<= 0)
        dist = np.empty(n_cand)
        dots = np.empty((1, n_cand), dtype=X.dtype)
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            cl = closest[i]
            wi = np.float64(w[i])
            base += wi * cl
            a = nearest[i]
            if cc_min[a] >= cl:
                continue  # no candidate can come closer than x's centre
            if use_dot:
                _block_dots(X, i, i + 1, cand, dots)
                for t in range(n_cand):
                    v = xsq[i] + csq[t] - 2.0 * np.float64(dots[0, t])
                    dist[t] = max(v, 0.0)
            else:
                for t in range(n_cand):
                    dist[t] = _sqdist(X, i, cand, t) if cc[a, t] < cl else np.inf
            for t in range(n_cand):
                gain[t] += wi * (min(cl, dist[t]) - cl)
                if keeping:
                    keep[t, i] = dist[t]
        for t in range(n_cand):
            pot_chunks[c, t] = base + gain[t]


@njit(parallel=True, cache=True, nogil=True, fastmath=_FAST)
def kpp_update_dense(
    X, xsq, w, cand, csq, t, new_id, cc, use_dot, closest, nearest, chunk, chunk_pot
):  # fmt: skip
    """Make candidate ``t`` centre ``new_id``: update ``closest``, ``nearest`` and the
    per-chunk potentials ``chunk_pot``."""
    n = X.shape[0]
    n_chunks = chunk_pot.shape[0]
    for c in prange(n_chunks):
        local = 0.0
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            cl = closest[i]
            if cc[nearest[i], t] < cl:
                dist = _dist(X, i, xsq, cand, csq, t, use_dot)
                if dist < cl:
                    closest[i] = dist
                    nearest[i] = new_id
            local += np.float64(w[i]) * closest[i]
        chunk_pot[c] = local


@njit(parallel=True, cache=True, nogil=True)
def kpp_update_kept(kept, cc_min, new_id, w, closest, nearest, chunk, chunk_pot):
    """:func:`kpp_update_dense` from the distances ``kept`` by the potentials pass (the
    chosen candidate's row): the same points, the same values, no pass over X."""
    n = closest.shape[0]
    for c in prange(chunk_pot.shape[0]):
        local = 0.0
        for i in range(c * chunk, min(c * chunk + chunk, n)):
            cl = closest[i]
            if cc_min[nearest[i]] < cl and kept[i] < cl:
                closest[i] = kept[i]
                nearest[i] = new_id
            local += np.float64(w[i]) * closest[i]
        chunk_pot[c] = local


@njit(cache=True, nogil=True)
def kpp_sample(targets, chunk_pot, w, closest, chunk, out):
    """Rows drawn at ``targets`` along the cumulative ``w * closest`` (two levels:
    chunk totals first, then the rows of one chunk). Same rule as
    ``searchsorted(cumsum(w * closest), targets)``, clipped to the last row."""
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
):  # fmt: skip
    """``out[t, i] = min(closest[i], |x_i - cand[t]|^2)`` for sparse X given by its CSC
    parts (``cdata``, ``crows``, ``cindptr``) and row norms ``xsq``, and sparse
    candidates given by their CSR parts: a candidate's dot products only visit the
    columns where it is non-zero."""
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
