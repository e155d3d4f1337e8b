"""What every engine driver shares: data views for the kernels, threads, buffers."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController

from . import _kernels
from ._kernels import BLAS_PRODUCTS, BLOCKED_PRODUCTS, DIRECT_DISTANCES

#: rows per chunk: one BLAS call, and the unit of work of a thread
CHUNK = 256
#: a chunk's products with the centres (chunk x k) stay under this many entries a
#: thread: with many centres, chunks get shorter (but no shorter than 32 rows)
GEMM_CELLS = 2**18
#: at most this many partial-sum slots (the parallelism of one pass)
MAX_SLOTS = 32
#: the partial sums of a pass may take this share of the input's bytes (or 1 MiB)
SLOT_SHARE = 8
#: from this many features on, distances go through products (x.c), not direct loops
GEMM_MIN_FEATURES = 16
#: below this many clusters the products are taken by our blocked kernel, not BLAS
BLOCK_MAX_CLUSTERS = 32


def rows_per_chunk(n_clusters: int, n_samples: int | None = None) -> int:
    """The rows of a chunk of the product passes against ``n_clusters`` centres: fewer
    with many centres (the chunk's products stay under ``GEMM_CELLS``) and for small
    data (at least 32 chunks, so that per-thread scratch stays small next to X). A
    function of the shapes alone: the results never depend on threads.

    Examples
    --------
    >>> rows_per_chunk(100), rows_per_chunk(4096), rows_per_chunk(10, 1440)
    (256, 64, 45)
    """
    rows = min(CHUNK, GEMM_CELLS // max(n_clusters, 1))
    if n_samples is not None:
        rows = min(rows, n_samples // 32)
    return int(max(32, rows))


def n_slots_for(n_samples: int, n_clusters: int, n_features: int, nbytes: int = 0):
    """``(slots, fused)`` of a pass over ``n_samples`` rows; never depends on threads.

    ``fused``: the pass also accumulates per-slot sums, which then stay under
    1/SLOT_SHARE of the input's ``nbytes`` (or 1 MiB for small inputs); otherwise the
    sums are taken in a second, cluster-parallel step.
    """
    n_chunks = max(1, -(-n_samples // CHUNK))
    slots = int(min(n_chunks, MAX_SLOTS))
    budget = max(nbytes // SLOT_SHARE, 2**20)
    fused = slots * 8 * n_clusters * n_features <= budget
    return slots, fused


def max_threads() -> int:
    """The number of threads numba may use on this machine."""
    return int(numba.config.NUMBA_NUM_THREADS)


def resolve_n_threads(n_threads: int | None) -> int:
    """Turn ``None`` (all cores) or a negative count (joblib-style) into 1..max_threads."""
    top = max_threads()
    if n_threads is None:
        return top
    if n_threads < 0:
        n_threads = (os.cpu_count() or 1) + 1 + n_threads
    return int(min(max(1, n_threads), top))


@contextmanager
def thread_limits(n_threads: int | None):
    """Run numba kernels on ``n_threads`` threads, with BLAS kept to one thread.

    BLAS is called from inside the parallel kernels, one chunk at a time; a
    single-threaded BLAS there keeps every chunk's result independent of the
    thread count and avoids oversubscription.
    """
    old = numba.get_num_threads()
    numba.set_num_threads(resolve_n_threads(n_threads))
    try:
        with _controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(old)


@dataclass(frozen=True)
class ColumnStats:
    """Mean and variance of each feature, in float64."""

    mean: np.ndarray
    var: np.ndarray


def column_stats(X) -> ColumnStats:
    """Mean and variance of each feature of dense or CSR ``X`` in one pass, without a
    float64 copy of X (dense: sums of ``x - x0`` by fixed slots, x0 the first row)."""
    n = X.shape[0]
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
        sq = np.zeros(X.shape[1])
        np.add.at(sq, X.indices, np.asarray(X.data, dtype=np.float64) ** 2)
        return ColumnStats(mean, np.maximum(sq / n - mean**2, 0.0))
    x0 = np.asarray(X[0], dtype=np.float64)
    slots = int(min(max(1, -(-n // CHUNK)), MAX_SLOTS))
    part_sum = np.empty((slots, X.shape[1]))
    part_sq = np.empty((slots, X.shape[1]))
    _kernels.column_moments(X, x0, CHUNK, part_sum, part_sq)
    mean_u = part_sum.sum(axis=0) / n
    var = np.maximum(part_sq.sum(axis=0) / n - mean_u**2, 0.0)
    return ColumnStats(x0 + mean_u, var)


@cache
def _controller() -> ThreadpoolController:
    """One scan of the loaded native libraries, reused by every call."""
    return ThreadpoolController()


def tolerance(X, tol: float, stats: ColumnStats | None = None) -> float:
    """``tol`` scaled by the mean variance of the features of ``X`` (dense or CSR)."""
    if tol == 0:
        return 0.0
    stats = column_stats(X) if stats is None else stats
    return float(np.mean(stats.var) * tol)


def nbytes(X) -> int:
    """Bytes held by dense or CSR ``X``."""
    if sp.issparse(X):
        return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
    return int(X.nbytes)


def gemm_shift(stats: ColumnStats) -> np.ndarray | None:
    """The mean to subtract from rows before ``x.c`` products, or None when the data's
    offset is smaller than its spread (then centring changes nothing that matters)."""
    return stats.mean if float(stats.mean @ stats.mean) > float(stats.var.sum()) else None


class Pass:
    """Runs the assignment pass of one data set against changing centres.

    Buffers are allocated once; :meth:`run` fills ``labels`` and, when ``update`` is
    true, returns the slot-reduced weighted sums and weights.
    """

    def __init__(
        self, X, sample_weight: np.ndarray, n_clusters: int, stats: ColumnStats | None = None
    ):
        self.sparse = sp.issparse(X)
        self.X = X
        self.dtype = X.dtype
        n, d = X.shape
        self.n_samples, self.n_features, self.n_clusters = n, d, n_clusters
        self.w = sample_weight
        self.use_gemm = not self.sparse and d >= GEMM_MIN_FEATURES
        shift = None
        if self.use_gemm:
            shift = gemm_shift(column_stats(X) if stats is None else stats)
        self.subtract_shift = shift is not None
        # direct distances for few features; else products, by our blocked kernel
        # (faster than BLAS for few centres: a thin product) when no shift is needed
        self.mode = DIRECT_DISTANCES
        if self.use_gemm:
            blocked = n_clusters < BLOCK_MAX_CLUSTERS and not self.subtract_shift
            self.mode = BLOCKED_PRODUCTS if blocked else BLAS_PRODUCTS
        self.shift = np.zeros(d, dtype=self.dtype) if shift is None else shift.astype(self.dtype)
        self.chunk = rows_per_chunk(n_clusters, n)
        slots, self.fused = n_slots_for(n, n_clusters, d, nbytes(X))
        self.labels = np.empty(n, dtype=np.int32)
        self.inert = np.empty(slots, dtype=np.float64)
        if self.fused:
            self.sums = np.empty((slots, n_clusters, d), dtype=np.float64)
            self.wsum = np.empty((slots, n_clusters), dtype=np.float64)
            self._total_sums = np.empty((n_clusters, d), dtype=np.float64)
            self._total_wsum = np.empty(n_clusters, dtype=np.float64)
        else:  # assign first, then sum each cluster: no per-slot copies of the sums
            self.sums = np.empty((1, n_clusters, d), dtype=np.float64)
            self.wsum = np.empty((1, n_clusters), dtype=np.float64)
            self._counts = np.empty(n_clusters, dtype=np.int64)
        self._no_sums = np.empty((slots, 0, 0), dtype=np.float64)
        self._no_wsum = np.empty((slots, 0), dtype=np.float64)
        self._bufs = np.empty((0, CHUNK, d), dtype=self.dtype)
        self._xsq_total = None  # sum of w |x - shift|^2, for the BLAS path's objective

    def run(self, centers: np.ndarray, update: bool):
        """Assign against ``centers``; return ``(sums, wsum, objective)``.

        ``sums`` and ``wsum`` are None unless ``update``; ``objective`` is the sum of
        weighted squared distances to the assigned centres.
        """
        centers = np.ascontiguousarray(centers, dtype=self.dtype)
        in_pass = update and self.fused
        sums = self.sums if in_pass else self._no_sums
        wsum = self.wsum if in_pass else self._no_wsum
        if self.sparse:
            X = self.X
            ct = np.ascontiguousarray(centers.T)
            csq = np.einsum("ij,ij->i", centers, centers, dtype=np.float64)
            _kernels.lloyd_pass_csr(
                data=X.data,
                indices=X.indices,
                indptr=X.indptr,
                w=self.w,
                ct=ct,
                c_sqnorm=csq,
                chunk=CHUNK,
                accumulate_sums=in_pass,
                labels=self.labels,
                sums=sums,
                wsum=wsum,
                inert=self.inert,
            )
        else:
            shifted = centers - self.shift
            ct = shifted.T  # a transposed view: BLAS takes it as it is, no copy
            csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64).astype(self.dtype)
            if self.subtract_shift and self._bufs.shape[0] < numba.get_num_threads():
                self._bufs = np.empty(
                    (numba.get_num_threads(), self.chunk, self.n_features), dtype=self.dtype
                )
            _kernels.lloyd_pass_dense(
                X=self.X,
                w=self.w,
                centers=centers,
                ct=ct,
                csq=csq,
                shift=self.shift,
                subtract_shift=self.subtract_shift,
                mode=self.mode,
                chunk=self.chunk,
                accumulate_sums=in_pass,
                bufs=self._bufs,
                labels=self.labels,
                sums=sums,
                wsum=wsum,
                inert=self.inert,
            )
        objective = float(self.inert.sum())
        if self.use_gemm:
            if self._xsq_total is None:
                part = np.empty(len(self.inert))
                _kernels.weighted_sqnorm_total(self.X, self.w, self.shift, CHUNK, part)
                self._xsq_total = float(part.sum())
            objective += self._xsq_total
        if not update:
            return None, None, objective
        if not self.fused:
            if self.sparse:
                X = self.X
                _kernels.cluster_sums_ranged_csr(
                    data=X.data,
                    indices=X.indices,
                    indptr=X.indptr,
                    w=self.w,
                    labels=self.labels,
                    sums=self.sums[0],
                    wsum=self.wsum[0],
                    counts=self._counts,
                )
            else:
                _kernels.cluster_sums_ranged(
                    X=self.X,
                    w=self.w,
                    labels=self.labels,
                    sums=self.sums[0],
                    wsum=self.wsum[0],
                    counts=self._counts,
                )
            return self.sums[0], self.wsum[0], objective
        _kernels.reduce_slots(self.sums, self.wsum, self._total_sums, self._total_wsum)
        return self._total_sums, self._total_wsum, objective


def assigned_sqdist(X, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Exact squared distance of every row to its assigned centre (float64)."""
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    out = np.empty(X.shape[0], dtype=np.float64)
    if sp.issparse(X):
        csq = np.einsum("ij,ij->i", centers, centers, dtype=np.float64)
        _kernels.assigned_sqdist_csr(
            data=X.data,
            indices=X.indices,
            indptr=X.indptr,
            centers=centers,
            c_sqnorm=csq,
            labels=labels,
            out=out,
        )
    else:
        _kernels.assigned_sqdist_dense(X, centers, labels, out)
    return out


def assigned_objective(X, w: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> float:
    """``sum_i w_i |x_i - centers[labels[i]]|^2``, exact, in fixed slots (no per-row array
    for dense X)."""
    centers = np.ascontiguousarray(centers, dtype=X.dtype)
    if sp.issparse(X):
        return float((w * assigned_sqdist(X, centers, labels)).sum())
    part = np.empty(int(min(max(1, -(-X.shape[0] // CHUNK)), MAX_SLOTS)))
    _kernels.assigned_objective_dense(
        X=X, w=w, centers=centers, labels=labels, chunk=CHUNK, part=part
    )
    return float(part.sum())


def row(X, i: int) -> np.ndarray:
    """Row ``i`` of dense or CSR ``X`` as a dense float64 vector."""
    if sp.issparse(X):
        out = np.zeros(X.shape[1], dtype=np.float64)
        lo, hi = X.indptr[i], X.indptr[i + 1]
        out[X.indices[lo:hi]] = X.data[lo:hi]
        return out
    return np.asarray(X[i], dtype=np.float64)


def assign(X, centers: np.ndarray, sample_weight: np.ndarray | None = None, n_threads=None):
    """Nearest centre of every row and the exact squared distance to it.

    Parameters
    ----------
    X : ndarray of shape (n, d) or CSR matrix, float32 or float64
    centers : ndarray of shape (k, d)
    sample_weight : ndarray of shape (n,), optional
    n_threads : int, optional

    Returns
    -------
    labels : ndarray of int32, shape (n,)
    sqdist : ndarray of float64, shape (n,)
    objective : float, the weighted sum of ``sqdist``

    Examples
    --------
    >>> import numpy as np
    >>> labels, sqdist, obj = assign(np.array([[0.0], [3.0]]), np.array([[1.0], [3.0]]))
    >>> labels.tolist(), sqdist.tolist(), obj
    ([0, 1], [1.0, 0.0], 1.0)
    """
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0], dtype=X.dtype)
    p = Pass(X, sample_weight, centers.shape[0])
    with thread_limits(n_threads):
        p.run(centers, update=False)
        sqdist = assigned_sqdist(X, centers, p.labels)
    objective = float((sample_weight * sqdist).sum())
    return p.labels, sqdist, objective
