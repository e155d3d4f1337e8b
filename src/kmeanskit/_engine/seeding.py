"""Seeding: greedy k-means++ and k distinct random rows.

``random_state`` is a :class:`numpy.random.RandomState` (or Generator-like object with
``choice`` and ``uniform``) that the caller owns; the order of draws follows
scikit-learn's ``kmeans_plusplus``, so the same state picks the same seeds wherever
the distances agree.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import scipy.sparse as sp

from . import _seeding_kernels as _k
from ._common import CHUNK, ColumnStats, column_stats, gemm_shift, thread_limits
from .hamerly import err_scale

#: from this many features on, seeding distances go through products (a
#: register-blocked kernel: BLAS is slow for a product with 4 to 10 columns)
DOT_MIN_FEATURES = 16


def _rows(X, idx: np.ndarray) -> np.ndarray:
    sub = X[idx]
    return np.ascontiguousarray(sub.toarray() if sp.issparse(sub) else sub)


def _kpp_csr(X, n_clusters, w, random_state, n_local_trials):
    n = X.shape[0]
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    Xc = X.tocsc()  # a candidate's dot products only visit its own non-zero columns
    xsq = np.empty(n)
    _k.row_sqnorms_csr(X.data, X.indptr, xsq)
    out = np.empty((n_local_trials, n))

    def sqdist(cand, closest):
        rows = X[cand]
        c_sqnorm = np.empty(len(cand))
        _k.row_sqnorms_csr(rows.data, rows.indptr, c_sqnorm)
        dist = out[: len(cand)]
        _k.candidate_sqdist_csc(
            cdata=Xc.data,
            crows=Xc.indices,
            cindptr=Xc.indptr,
            xsq=xsq,
            cand_data=rows.data,
            cand_cols=rows.indices,
            cand_ptr=rows.indptr,
            c_sqnorm=c_sqnorm,
            closest=closest,
            out=dist,
        )
        return dist

    indices = np.full(n_clusters, -1, dtype=np.intp)
    first = random_state.choice(n, p=w / w.sum())
    indices[0] = first
    closest = sqdist([first], np.full(n, np.inf))[0].copy()
    potential = float((w * closest).sum())
    for c in range(1, n_clusters):
        targets = random_state.uniform(size=n_local_trials) * potential
        cand = np.searchsorted(np.cumsum(w * closest), targets)
        np.clip(cand, None, n - 1, out=cand)
        dist = sqdist(cand, closest)
        potentials = dist @ w
        best = int(np.argmin(potentials))
        potential = float(potentials[best])
        closest[:] = dist[best]
        indices[c] = cand[best]
    return indices


def _kpp_dense(X, n_clusters, w, random_state, n_local_trials, stats):
    n, d = X.shape
    t = n_local_trials
    n_chunks = max(1, -(-n // CHUNK))
    use_dot = d >= DOT_MIN_FEATURES
    shift = gemm_shift(column_stats(X) if stats is None else stats) if use_dot else None
    shift = np.zeros(d, dtype=X.dtype) if shift is None else shift.astype(X.dtype)
    centers = np.empty((n_clusters, d), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    closest = np.empty(n)  # squared distance to the nearest centre so far
    # 12 bytes a row in all when k < 32768 and t <= 16 (the usual case)
    nearest = np.empty(n, dtype=np.int16 if n_clusters <= 32767 else np.int32)
    mask = np.empty(n, dtype=np.uint16 if t <= 16 else np.uint32)
    chunk_pot = np.empty(n_chunks)
    pot_chunks = np.empty((n_chunks, t))
    cc = np.zeros((n_clusters, t))
    cc_min = np.zeros(n_clusters)
    cand_idx = np.empty(t, dtype=np.intp)
    threads = numba.get_num_threads()
    idxbufs = np.empty((threads, CHUNK), dtype=np.int64)
    rowbufs = np.empty((threads, 3, CHUNK))
    # the candidates as the products take them: shifted, in blocks of 4 rows
    padded = np.zeros((-(-t // 4) * 4, d), dtype=X.dtype)
    err = err_scale(X.dtype, d)

    def prepared(rows):
        """The rows as the kernels compare them: shifted (by zeros off the product path)."""
        rows = np.ascontiguousarray(rows - shift)
        return rows, _norms(rows)

    first = _draw_first(w, random_state)
    indices[0] = first
    centers[0] = X[first]
    rows, csq = prepared(centers[:1])
    _k.kpp_first(
        X=X,
        shift=shift,
        w=w,
        first=rows,
        csq0=csq,
        use_dot=use_dot,
        closest=closest,
        nearest=nearest,
        chunk=CHUNK,
        chunk_pot=chunk_pot,
    )
    for c in range(1, n_clusters):
        targets = random_state.uniform(size=t) * chunk_pot.sum()
        _k.kpp_sample(
            targets=targets,
            chunk_pot=chunk_pot,
            w=w,
            closest=closest,
            chunk=CHUNK,
            out=cand_idx,
        )
        cand = X[cand_idx]
        rows, csq = prepared(cand)
        padded[:t] = rows
        _k.center_distances(
            cand=padded,
            csq=csq,
            centers=centers,
            n_centers=c,
            shift=shift,
            err=err,
            out=cc,
            out_min=cc_min,
        )
        _k.kpp_potentials(
            X=X,
            shift=shift,
            w=w,
            cand=padded,
            csq=csq,
            cc=cc,
            cc_min=cc_min,
            closest=closest,
            nearest=nearest,
            use_dot=use_dot,
            chunk=CHUNK,
            idxbufs=idxbufs,
            rowbufs=rowbufs,
            pot_chunks=pot_chunks,
            mask=mask,
        )
        best = int(np.argmin(pot_chunks.sum(axis=0)))
        _k.kpp_update(
            X=X,
            shift=shift,
            w=w,
            cand=rows,
            csq=csq,
            t=best,
            new_id=c,
            use_dot=use_dot,
            mask=mask,
            closest=closest,
            nearest=nearest,
            chunk=CHUNK,
            chunk_pot=chunk_pot,
        )
        centers[c] = cand[best]
        indices[c] = cand_idx[best]
    return indices


def _draw_first(w: np.ndarray, random_state, block: int = 8192) -> int:
    """A row drawn with probability proportional to its weight, as
    ``choice(n, p=w / w.sum())`` draws it, a block of rows at a time (no n-sized copy)."""
    target = random_state.uniform() * float(w.sum(dtype=np.float64))
    run = 0.0
    for lo in range(0, w.shape[0], block):
        cum = np.cumsum(w[lo : lo + block], dtype=np.float64) + run
        if cum[-1] > target:
            return lo + int(np.searchsorted(cum, target, side="right"))
        run = float(cum[-1])
    return int(np.flatnonzero(w)[-1])


def _norms(rows):
    return np.einsum("ij,ij->i", rows, rows, dtype=np.float64)


def _kpp_given(X, given, n_clusters, w, random_state, n_local_trials):
    """Greedy k-means++ for the centres after the ``given`` ones, each candidate's
    distances by one exact pass over X (for the few centres a user leaves open)."""
    from ._common import assigned_sqdist

    n = X.shape[0]
    zeros = np.zeros(n, dtype=np.int32)
    closest = np.full(n, np.inf)
    for c in given:
        np.minimum(closest, assigned_sqdist(X, c[None, :], zeros), out=closest)
    w64 = w.astype(np.float64)
    indices = np.full(n_clusters - len(given), -1, dtype=np.intp)
    for c in range(len(indices)):
        cum = np.cumsum(w64 * closest)
        if cum[-1] <= 0:  # every row sits on a centre: any row will do
            cand = random_state.choice(n, size=n_local_trials, p=w64 / w64.sum())
        else:
            targets = random_state.uniform(size=n_local_trials) * cum[-1]
            cand = np.clip(np.searchsorted(cum, targets), None, n - 1)
        best, best_pot, best_d = -1, np.inf, None
        for i in cand:
            d = np.minimum(closest, assigned_sqdist(X, _rows(X, np.array([i])), zeros))
            pot = float(w64 @ d)
            if pot < best_pot:
                best, best_pot, best_d = int(i), pot, d
        indices[c], closest = best, best_d
    return indices


def kmeans_plusplus(
    X,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state,
    n_local_trials: int | None = None,
    n_threads: int | None = None,
    given: np.ndarray | None = None,
    stats: ColumnStats | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeding.

    The first centre is drawn with probability proportional to the weights; each next
    one is the best of ``n_local_trials`` candidates (default ``2 + int(log k)``)
    drawn proportionally to weight times squared distance to the nearest centre,
    "best" meaning the lowest resulting potential. On dense data the distances are
    pruned with the triangle inequality (exact: the same candidates win). With
    ``given`` centres (m rows), seeding goes on from them: the first m centres
    returned are ``given`` and the rest are drawn against their distances (the
    returned indices are -1 for the given ones).

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), X's dtype
    indices : ndarray of shape (n_clusters,), the rows chosen

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [9.0, 9.0], [9.1, 9.0]])
    >>> centers, idx = kmeans_plusplus(X, 2, np.ones(4), np.random.RandomState(0))
    >>> sorted(int(i) // 2 for i in idx)
    [0, 1]
    """
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(n_clusters))
    w = np.ascontiguousarray(sample_weight)
    if given is not None and len(given):
        given = np.ascontiguousarray(given, dtype=X.dtype)
        with thread_limits(n_threads):
            new = _kpp_given(X, given, n_clusters, w, random_state, n_local_trials)
        centers = np.concatenate([given, _rows(X, new)]) if new.size else given.copy()
        return centers, np.concatenate([np.full(len(given), -1, dtype=np.intp), new])
    with thread_limits(n_threads):
        if sp.issparse(X):
            w = w.astype(np.float64)
            indices = _kpp_csr(X, n_clusters, w, random_state, n_local_trials)
        else:
            indices = _kpp_dense(X, n_clusters, w, random_state, n_local_trials, stats)
    return _rows(X, indices), indices


def random_rows(
    X, n_clusters: int, sample_weight: np.ndarray, random_state
) -> tuple[np.ndarray, np.ndarray]:
    """``n_clusters`` distinct rows drawn with probability proportional to the weights.

    Examples
    --------
    >>> import numpy as np
    >>> centers, idx = random_rows(np.eye(4), 2, np.ones(4), np.random.RandomState(0))
    >>> centers.shape, len(set(idx.tolist()))
    ((2, 4), 2)
    """
    w = np.asarray(sample_weight, dtype=np.float64)
    idx = random_state.choice(X.shape[0], size=n_clusters, replace=False, p=w / w.sum())
    return _rows(X, idx), idx
