"""Numba kernels of the Lloyd pass: array arithmetic only, on buffers they are given.

Every kernel walks the samples in fixed chunks of ``chunk`` rows. The chunks are
grouped into ``n_slots`` contiguous slots; a slot owns its partial sums and
is processed by one thread from start to end. The number of slots depends on the
data size only, never on the number of threads, and the caller reduces the slots
in slot order, so 1 thread and N threads give the same bits.

Conventions: ``X`` is C-contiguous, float32 or float64; ``centers`` has X's dtype;
``ct`` is ``centers.T`` made contiguous; ``c_sqnorm`` holds the squared norms of the
centres. Partial sums and distances are accumulated in float64.
"""

import numpy as np
from numba import njit, prange

__all__ = ["lloyd_pass_csr", "lloyd_pass_dense"]


@njit(parallel=True, cache=True, nogil=True)
def lloyd_pass_dense(
    X, w, centers, ct, c_sqnorm, use_gemm, chunk, update,
    labels, mind, sums, wsum, inert,
):  # fmt: skip
    """Assign every row of dense ``X`` to its nearest centre; optionally accumulate.

    Inputs: X (n, d), w (n,), centers (k, d), ct (d, k), c_sqnorm (k,), use_gemm,
    chunk, update. Outputs: labels (n,) int32, mind (n,) float64 exact squared
    distance to the chosen centre, and per slot: sums (S, k, d) weighted sums,
    wsum (S, k) weights, inert (S,) weighted squared distances. ``sums`` and
    ``wsum`` are only written when ``update`` is true.
    """
    n, d = X.shape
    k = centers.shape[0]
    n_slots = inert.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        inert[s] = 0.0
        if update:
            sums[s, :, :] = 0.0
            wsum[s, :] = 0.0
        dots = np.empty((0, 0), dtype=X.dtype)
        for c in range(s * n_chunks // n_slots, (s + 1) * n_chunks // n_slots):
            lo = c * chunk
            hi = min(lo + chunk, n)
            if use_gemm:
                dots = np.dot(X[lo:hi], ct)
            for i in range(lo, hi):
                best = 0
                best_v = np.inf
                for j in range(k):
                    if use_gemm:
                        v = np.float64(c_sqnorm[j]) - 2.0 * np.float64(dots[i - lo, j])
                    else:
                        v = 0.0
                        for f in range(d):
                            t = np.float64(X[i, f]) - np.float64(centers[j, f])
                            v += t * t
                    if v < best_v:
                        best_v = v
                        best = j
                dd = 0.0
                for f in range(d):
                    t = np.float64(X[i, f]) - np.float64(centers[best, f])
                    dd += t * t
                labels[i] = best
                mind[i] = dd
                wi = np.float64(w[i])
                inert[s] += wi * dd
                if update:
                    wsum[s, best] += wi
                    for f in range(d):
                        sums[s, best, f] += wi * np.float64(X[i, f])


@njit(parallel=True, cache=True, nogil=True)
def lloyd_pass_csr(
    data, indices, indptr, w, ct, c_sqnorm, chunk, update,
    labels, mind, sums, wsum, inert,
):  # fmt: skip
    """The same as :func:`lloyd_pass_dense` for a CSR matrix given by its parts."""
    n = indptr.shape[0] - 1
    k = ct.shape[1]
    n_slots = inert.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for s in prange(n_slots):
        inert[s] = 0.0
        if update:
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
                dd = max(xsq + best_v, 0.0)
                labels[i] = best
                mind[i] = dd
                wi = np.float64(w[i])
                inert[s] += wi * dd
                if update:
                    wsum[s, best] += wi
                    for p in range(indptr[i], indptr[i + 1]):
                        sums[s, best, indices[p]] += wi * np.float64(data[p])
