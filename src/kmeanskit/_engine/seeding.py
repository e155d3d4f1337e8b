"""Seeding: greedy k-means++ and k distinct random rows.

``random_state`` is a :class:`numpy.random.RandomState` (or Generator-like object with
``choice`` and ``uniform``) that the caller owns; the order of draws follows
scikit-learn's ``kmeans_plusplus``, so the same state picks the same seeds wherever
the distances agree.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from . import _kernels
from ._common import CHUNK, GEMM_MIN_FEATURES, thread_limits


def _rows(X, idx: np.ndarray) -> np.ndarray:
    sub = X[idx]
    return np.ascontiguousarray(sub.toarray() if sp.issparse(sub) else sub)


def _sqdist_to_candidates(X, x_sqnorm, cand: np.ndarray, closest: np.ndarray) -> np.ndarray:
    """``min(closest, squared distance to each candidate row)``, shape (n_cand, n)."""
    cand = np.ascontiguousarray(cand, dtype=X.dtype)
    ct = np.ascontiguousarray(cand.T)
    c_sqnorm = np.einsum("ij,ij->i", cand, cand, dtype=np.float64)
    out = np.empty((cand.shape[0], X.shape[0]), dtype=np.float64)
    if sp.issparse(X):
        _kernels.candidate_sqdist_csr(
            X.data, X.indices, X.indptr, ct, c_sqnorm, CHUNK, closest, out
        )
    else:
        use_gemm = X.shape[1] >= GEMM_MIN_FEATURES
        _kernels.candidate_sqdist_dense(
            X, cand, ct, c_sqnorm, x_sqnorm, use_gemm, CHUNK, closest, out
        )
    return out


def _row_sqnorms(X) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def kmeans_plusplus(
    X,
    n_clusters: int,
    sample_weight: np.ndarray,
    random_state,
    n_local_trials: int | None = None,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeding.

    The first centre is drawn with probability proportional to the weights; each next
    one is the best of ``n_local_trials`` candidates (default ``2 + int(log k)``)
    drawn proportionally to weight times squared distance to the nearest centre,
    "best" meaning the lowest resulting potential.

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
    n = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(math.log(n_clusters))
    w = np.asarray(sample_weight, dtype=np.float64)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    x_sqnorm = _row_sqnorms(X)
    with thread_limits(n_threads):
        first = random_state.choice(n, p=w / w.sum())
        indices[0] = first
        closest = _sqdist_to_candidates(X, x_sqnorm, _rows(X, [first]), np.full(n, np.inf))[0]
        potential = float((w * closest).sum())
        for c in range(1, n_clusters):
            targets = random_state.uniform(size=n_local_trials) * potential
            cand = np.searchsorted(np.cumsum(w * closest), targets)
            np.clip(cand, None, n - 1, out=cand)
            dist = _sqdist_to_candidates(X, x_sqnorm, _rows(X, cand), closest)
            potentials = (dist * w).sum(axis=1)
            best = int(np.argmin(potentials))
            potential = float(potentials[best])
            closest = dist[best]
            indices[c] = cand[best]
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
