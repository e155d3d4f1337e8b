"""UMAP as a transformer that a model file holds as plain arrays.

The ``'umap'``, ``'cnn-umap'`` and ``'ae-umap'`` features end in a UMAP fitted on all
the training rows. umap-learn's own ``transform`` needs the fitted object (its
neighbour graph, its search index, numba state), which only pickle can save.
:class:`UMAPEmbedding` fits umap-learn the same way and keeps, as two arrays, what
placing a new row needs: the training rows and their embedding. Its ``transform``
starts from the neighbours of a row as umap-learn's does, and stops there:

- a row equal to a training row (within float32 noise: at most :data:`SAME` times its
  norm away) gets exactly that row's embedding, as in umap-learn;
- another row is the weighted mean of the embeddings of its ``n_neighbors_`` nearest
  training rows (Euclidean), with umap-learn's weights for new points,
  ``exp(-d / sigma)``, ``sigma`` such that the weights of all but the nearest add up to
  ``log2(n_neighbors_)`` (its ``smooth_knn_dist``), which is where umap-learn's
  ``transform`` places a point before its optimisation epochs (not run here).

The neighbours are searched a block of rows at a time, so memory stays bounded (a few
tens of MB for 32,000 training rows of 1280 features). Loading a model file and
transforming need numpy alone: umap-learn is imported by :meth:`UMAPEmbedding.fit` only.
"""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["SAME", "UMAPEmbedding"]

#: fewer distinct training rows than this are placed on a line, without umap-learn
MIN_DISTINCT = 4
#: a row at most this times its norm (or the training row's) from a training row is
#: that row (float32 noise of extracting the same image again)
SAME = 1e-4
#: the search holds about this many float32 numbers per block (distances, differences)
_BLOCK = 2**22
#: candidates beyond k whose distances are computed exactly (the rest are ranked by the
#: faster |x|^2 - 2 x.t + |t|^2, which loses precision when x is close to t)
_MARGIN = 8


class UMAPEmbedding(TransformerMixin, BaseEstimator):
    """umap-learn's UMAP, fitted on the training rows; ``transform`` places rows from
    their nearest training rows (see the module's docstring).

    Parameters
    ----------
    n_components : int, default=10
        Dimensions of the embedding (at most ``n - 2`` for ``n`` training rows).
    n_neighbors : int, default=15
        UMAP's neighbours, and the neighbours a new row is placed from (at most
        ``n - 1``).
    min_dist : float, default=0.0
    random_state : int or None, default=None
        umap-learn's (an int makes the fit repeatable, single-threaded).

    Attributes
    ----------
    train_rows_ : ndarray of float32, shape (n, n_features_in_)
    embedding_ : ndarray of float32, shape (n, n_components_)
    n_neighbors_, n_components_ : int
        The values used, clipped for a small ``n``.
    n_features_in_ : int

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 1, (30, 5)), rng.normal(8, 1, (30, 5))])
    >>> umap = UMAPEmbedding(n_components=2, random_state=0).fit(X)
    >>> bool(np.array_equal(umap.transform(X[:3]), umap.embedding_[:3]))
    True
    >>> umap.transform(X[:2] + 0.01).shape
    (2, 2)
    """

    #: what a model file may hold for each parameter (see
    #: :func:`kmeanskit.images.features.check_params`)
    param_schema: ClassVar[dict] = {
        "n_components": (int, 1, 2**16),
        "n_neighbors": (int, 1, 2**16),
        "min_dist": (float, 0.0, 1e6),
        "random_state": ((int, None), -(2**63), 2**63 - 1),
    }

    def __init__(self, n_components=10, n_neighbors=15, min_dist=0.0, random_state=None):
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit umap-learn on the rows of X and keep them with their embedding."""
        try:
            with warnings.catch_warnings():  # its ImportWarning: no TensorFlow (unused)
                warnings.simplefilter("ignore")
                import umap
        except ImportError as exc:  # pragma: no cover - the umap extra is installed in CI
            raise ImportError(
                "UMAP features need umap-learn: pip install 'kmeanskit[umap]'"
            ) from exc
        X = check_array(X, dtype=np.float32)
        n = len(X)
        k = max(1, min(self.n_neighbors, n - 1))
        c = min(self.n_components, max(1, n - 2))
        _, groups = np.unique(X, axis=0, return_inverse=True)
        groups = groups.ravel()
        if groups.max(initial=0) < MIN_DISTINCT - 1:
            # too few distinct rows for a neighbour graph (one image, identical ones):
            # each distinct row at its own point of a line, identical rows together
            embedding = np.zeros((n, c), np.float32)
            embedding[:, 0] = groups
        else:
            reducer = umap.UMAP(
                n_components=c,
                n_neighbors=max(2, k),
                min_dist=self.min_dist,
                random_state=self.random_state,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # umap's notes on n_jobs with a random_state
                embedding = reducer.fit_transform(X)
        self.train_rows_ = np.ascontiguousarray(X)
        self.embedding_ = np.ascontiguousarray(embedding, dtype=np.float32)
        self.n_neighbors_ = k
        self.n_components_ = self.embedding_.shape[1]
        self.n_features_in_ = X.shape[1]
        return self

    def fit_transform(self, X, y=None):
        """The embedding of the training rows (umap-learn's, as fitted)."""
        return self.fit(X).embedding_.copy()

    def transform(self, X):
        """The embedding of rows: a training row's own, else placed from its
        ``n_neighbors_`` nearest training rows (float32, ``(len(X), n_components_)``)."""
        check_is_fitted(self, "embedding_")
        X = check_array(X, dtype=np.float32)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but the UMAP was fitted on {self.n_features_in_}"
            )
        out = np.empty((len(X), self.embedding_.shape[1]), dtype=np.float32)
        k = max(1, min(self.n_neighbors_, len(self.train_rows_)))
        for lo, idx, dist in self._neighbours(X, k):
            rows = X[lo : lo + len(idx)]
            out[lo : lo + len(idx)] = self._place(rows, idx, dist)
        return out

    def _place(self, rows, idx, dist) -> np.ndarray:
        """The embedding of ``rows`` from their neighbours (indices and distances,
        nearest first)."""
        # exp(-d / sigma), each row scaled by exp(d_nearest / sigma): the same weights
        # once normalised, and the nearest one is 1, so none underflows to 0 / 0
        weights = np.exp(-(dist - dist[:, :1]) / _sigmas(dist)[:, None])
        weights /= weights.sum(axis=1, keepdims=True)
        placed = np.einsum("ij,ijc->ic", weights, self.embedding_[idx].astype(np.float64))
        nearest = idx[:, 0]
        scale = np.maximum(
            np.linalg.norm(rows, axis=1), np.linalg.norm(self.train_rows_[nearest], axis=1)
        )
        same = dist[:, 0] <= SAME * scale
        placed[same] = self.embedding_[nearest[same]]
        return placed.astype(np.float32)

    def _neighbours(self, X, k: int):
        """``(start, indices, distances)`` of the ``k`` nearest training rows of each row
        of X, a block at a time, nearest first (ties: the lower index)."""
        T = self.train_rows_
        n, d = T.shape
        m = min(n, k + _MARGIN)
        t2 = np.einsum("ij,ij->i", T, T)
        block = max(1, min(1024, _BLOCK // max(n, m * d)))
        for lo in range(0, len(X), block):
            Q = X[lo : lo + block]
            if m < n:
                approx = Q @ T.T
                approx *= -2
                approx += t2
                approx += np.einsum("ij,ij->i", Q, Q)[:, None]
                cand = np.sort(np.argpartition(approx, m - 1, axis=1)[:, :m], axis=1)
            else:
                cand = np.broadcast_to(np.arange(n), (len(Q), n))
            diff = Q[:, None, :] - T[cand]
            exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff, dtype=np.float64))
            order = np.argsort(exact, axis=1, kind="stable")[:, :k]
            yield (
                lo,
                np.take_along_axis(cand, order, axis=1),
                np.take_along_axis(exact, order, axis=1),
            )


def _sigmas(dist: np.ndarray, n_iter: int = 64) -> np.ndarray:
    """umap-learn's ``smooth_knn_dist`` for new points (local connectivity 0, so rho 0):
    per row of sorted neighbour distances, the ``sigma`` for which
    ``sum(exp(-d / sigma))`` over all but the nearest is ``log2(k)``, by bisection; at
    least 1e-3 times the row's mean distance (umap-learn takes the mean of the batch).

    Examples
    --------
    >>> d = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> s = _sigmas(d)
    >>> round(float(np.exp(-d[0, 1:] / s[0]).sum()), 4) == round(float(np.log2(4)), 4)
    True
    """
    rows, k = dist.shape
    target = np.log2(k)
    lo = np.zeros(rows)
    hi = np.full(rows, np.inf)
    mid = np.ones(rows)
    active = np.ones(rows, dtype=bool)
    rest = dist[:, 1:]
    for _ in range(n_iter):
        psum = np.exp(-rest / mid[:, None]).sum(axis=1)
        active &= np.abs(psum - target) >= 1e-5
        if not active.any():
            break
        above = active & (psum > target)
        below = active & ~(psum > target)
        hi = np.where(above, mid, hi)
        lo = np.where(below, mid, lo)
        mid = np.where(active, np.where(np.isinf(hi), mid * 2, (lo + hi) / 2), mid)
    floor = 1e-3 * dist.mean(axis=1)
    return np.maximum(mid, np.where(floor > 0, floor, np.finfo(np.float64).tiny))
