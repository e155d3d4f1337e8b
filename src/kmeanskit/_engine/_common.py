"""What every engine driver shares: data views for the kernels, threads, buffers."""

from __future__ import annotations

import os
from contextlib import contextmanager

import numba
import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from . import _kernels

#: rows per chunk: one BLAS call, and the unit of work of a thread
CHUNK = 256
#: at most this many partial-sum slots (the parallelism of one pass)
MAX_SLOTS = 32
#: memory the partial sums of one pass may take, in bytes
SLOT_BUDGET = 64 * 2**20
#: from this many features on, distances go through BLAS (x.c) instead of direct loops
GEMM_MIN_FEATURES = 16


def n_slots_for(n_samples: int, n_clusters: int, n_features: int) -> int:
    """How many slots a pass over ``n_samples`` rows uses; never depends on threads."""
    n_chunks = max(1, -(-n_samples // CHUNK))
    by_memory = SLOT_BUDGET // max(1, 8 * n_clusters * n_features)
    return int(max(1, min(n_chunks, MAX_SLOTS, by_memory)))


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
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        numba.set_num_threads(old)


def tolerance(X, tol: float) -> float:
    """``tol`` scaled by the mean variance of the features of ``X`` (dense or CSR)."""
    if tol == 0:
        return 0.0
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
        mean_sq = np.asarray(X.multiply(X).mean(axis=0), dtype=np.float64).ravel()
        variances = mean_sq - mean**2
    else:
        variances = np.var(X, axis=0, dtype=np.float64)
    return float(np.mean(variances) * tol)


class Pass:
    """Runs the assignment pass of one data set against changing centres.

    Buffers are allocated once; :meth:`run` fills ``labels``, ``mind`` and,
    when ``update`` is true, returns the slot-reduced weighted sums and weights.
    """

    def __init__(self, X, sample_weight: np.ndarray, n_clusters: int):
        self.sparse = sp.issparse(X)
        self.X = X
        self.dtype = X.dtype
        n, d = X.shape
        self.n_samples, self.n_features, self.n_clusters = n, d, n_clusters
        self.w = sample_weight
        self.use_gemm = d >= GEMM_MIN_FEATURES
        slots = n_slots_for(n, n_clusters, d)
        self.labels = np.empty(n, dtype=np.int32)
        self.mind = np.empty(n, dtype=np.float64)
        self.sums = np.empty((slots, n_clusters, d), dtype=np.float64)
        self.wsum = np.empty((slots, n_clusters), dtype=np.float64)
        self.inert = np.empty(slots, dtype=np.float64)
        self._no_sums = np.empty((slots, 0, 0), dtype=np.float64)
        self._no_wsum = np.empty((slots, 0), dtype=np.float64)

    def run(self, centers: np.ndarray, update: bool):
        """Assign against ``centers``; return ``(sums, wsum, objective)``.

        ``sums`` and ``wsum`` are None unless ``update``; ``objective`` is the sum of
        weighted squared distances to the assigned centres.
        """
        centers = np.ascontiguousarray(centers, dtype=self.dtype)
        ct = np.ascontiguousarray(centers.T)
        c_sqnorm = np.einsum("ij,ij->i", centers, centers, dtype=np.float64).astype(self.dtype)
        sums = self.sums if update else self._no_sums
        wsum = self.wsum if update else self._no_wsum
        if self.sparse:
            X = self.X
            _kernels.lloyd_pass_csr(
                X.data, X.indices, X.indptr, self.w, ct, c_sqnorm, CHUNK, update,
                self.labels, self.mind, sums, wsum, self.inert,
            )  # fmt: skip
        else:
            _kernels.lloyd_pass_dense(
                self.X, self.w, centers, ct, c_sqnorm, self.use_gemm, CHUNK, update,
                self.labels, self.mind, sums, wsum, self.inert,
            )  # fmt: skip
        objective = float(self.inert.sum())
        if not update:
            return None, None, objective
        return self.sums.sum(axis=0), self.wsum.sum(axis=0), objective


def row(X, i: int) -> np.ndarray:
    """Row ``i`` of dense or CSR ``X`` as a dense float64 vector."""
    if sp.issparse(X):
        out = np.zeros(X.shape[1], dtype=np.float64)
        lo, hi = X.indptr[i], X.indptr[i + 1]
        out[X.indices[lo:hi]] = X.data[lo:hi]
        return out
    return np.asarray(X[i], dtype=np.float64)


def assign(X, centers: np.ndarray, sample_weight: np.ndarray | None = None, n_threads=None):
    """Nearest centre of every row and the squared distance to it.

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
        _, _, objective = p.run(centers, update=False)
    return p.labels, p.mind, objective
