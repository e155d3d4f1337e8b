"""``kmeanskit.distributed.KMeans``: Lloyd's k-means over a ``dask.array``.

Each iteration sends the centres to every block; a block assigns its rows with the
kernels of :mod:`kmeanskit._engine` and returns its per-cluster weighted sums and
weights, its objective and its farthest rows (for the empty-cluster rule); the client
adds them up and moves the centres. Seeding is k-means|| (Bahmani et al. 2012): a few
passes that each oversample about ``2 k`` candidates by squared distance, then a
weighted k-means++ and Lloyd on the candidates, in memory.
"""

from __future__ import annotations

import logging
import typing
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import _engine

logger = logging.getLogger(__name__)

__all__ = ["KMeans"]


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
        raise ImportError(
            "kmeanskit.distributed needs Dask: pip install 'kmeanskit[dask]'"
        ) from exc
    return dask, da


def _block_stats(X, w, centers, n_far):
    """One block's share of a Lloyd iteration (runs on a worker)."""
    X = np.ascontiguousarray(X, dtype=centers.dtype)
    w = np.ascontiguousarray(w, dtype=centers.dtype)
    k = centers.shape[0]
    labels, sqdist, objective = _engine.assign(X, centers, w)
    member = sp.csr_matrix((w.astype(np.float64), (labels, np.arange(len(labels)))),
                           shape=(k, len(labels)))  # fmt: skip
    sums = np.asarray(member @ X, dtype=np.float64)
    wsum = np.bincount(labels, weights=w, minlength=k).astype(np.float64)
    far = np.empty(0, dtype=np.intp)
    if n_far:  # the n_far largest only (argpartition), farthest first, ties by index
        top = np.argpartition(-sqdist, min(n_far, len(sqdist)) - 1)[:n_far]
        far = top[np.lexsort((top, -sqdist[top]))]
    return sums, wsum, objective, (sqdist[far], X[far], w[far], labels[far])


def _block_phi(X, w, centers):
    """One block's weighted squared distances to the nearest of ``centers``, summed."""
    X = np.ascontiguousarray(X, dtype=centers.dtype)
    return float(np.dot(np.asarray(w, np.float64), _engine.assign(X, centers)[1]))


def _block_sample(X, w, centers, ell, phi, seed):
    """k-means|| oversampling in one block: rows drawn with probability
    ``min(1, ell * w * d^2 / phi)``."""
    X = np.ascontiguousarray(X, dtype=centers.dtype)
    d2 = _engine.assign(X, centers)[1]
    p = np.minimum(1.0, ell * np.asarray(w, np.float64) * d2 / phi)
    keep = np.random.RandomState(seed).uniform(size=len(p)) < p
    return X[keep]


def _block_weights(X, w, centers):
    X = np.ascontiguousarray(X, dtype=centers.dtype)
    labels = _engine.assign(X, centers)[0]
    return np.bincount(labels, weights=w, minlength=centers.shape[0]).astype(np.float64)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Exact Lloyd k-means over a Dask array (rows in blocks), as
    :class:`kmeanskit.KMeans` computes it in memory: the same parameters' meaning, the
    same tolerance rule, empty-cluster rule and inertia, from k-means|| seeding.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means||', 'k-means++'} or array-like of shape (n_clusters, n_features)
        'k-means||': ``init_rounds`` oversampling passes over the blocks;
        'k-means++': the in-memory seeding on a sample of ``init_sample`` rows; or the
        centres.
    n_init : int, default=1
    max_iter : int, default=300
    tol : float, default=1e-4
        As in :class:`kmeanskit.KMeans`: stop when the summed squared centre shift falls
        to ``tol`` times the mean feature variance.
    init_rounds : int, default=5
    oversampling : float, default=2.0
        k-means|| draws about ``oversampling * n_clusters`` candidates per round.
    init_sample : int, default=100000
    persist : bool, default=True
        Keep X in (distributed) memory during the fit instead of recomputing it from its
        source (a zarr store, say) at every pass.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : dask array of shape (n_samples,)
        Lazy: the nearest centre of every row, computed block by block on demand.
    inertia_ : float
    n_iter_ : int
    inertia_history_ : ndarray

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> X = da.from_array(np.array([[0.0], [1.0], [10.0], [11.0]] * 25), chunks=(30, 1))
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.ravel().tolist()), km.inertia_
    ([0.5, 10.5], 25.0)
    >>> km.predict(X).compute()[:4].tolist() == km.labels_[:4].compute().tolist()
    True
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means||", "k-means++"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init_rounds": [Interval(Integral, 1, None, closed="left")],
        "oversampling": [Interval(Real, 0, None, closed="neither")],
        "init_sample": [Interval(Integral, 1, None, closed="left")],
        "persist": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_clusters=8, *, init="k-means||", n_init=1, max_iter=300, tol=1e-4,
                 init_rounds=5, oversampling=2.0, init_sample=100000, persist=True,
                 random_state=None):  # fmt: skip
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.init_rounds = init_rounds
        self.oversampling = oversampling
        self.init_sample = init_sample
        self.persist = persist
        self.random_state = random_state

    # -- input ------------------------------------------------------------------
    def _dask_input(self, X, reset: bool):
        _, da = _require_dask()
        if not isinstance(X, da.Array):
            X = da.from_array(np.asarray(X), chunks=(max(1, min(len(X), 100_000)), -1))
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (samples x features); got shape {X.shape}")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = X.rechunk({1: -1})
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return X

    def _blocks(self, X, w):
        xs = X.to_delayed().ravel().tolist()
        ws = w.rechunk((X.chunks[0],)).to_delayed().ravel().tolist()
        return list(zip(xs, ws, strict=True))

    # -- seeding -------------------------------------------------------------------
    def _seed(self, X, w, blocks, rs, dtype):
        dask, _ = _require_dask()
        k = self.n_clusters
        if not isinstance(self.init, str):
            centers = np.asarray(self.init, dtype=dtype)
            if centers.shape != (k, X.shape[1]):
                raise ValueError(f"init must have shape ({k}, {X.shape[1]}); got {centers.shape}")
            return np.ascontiguousarray(centers)
        n = X.shape[0]
        if self.init == "k-means++":
            rows = np.sort(rs.choice(n, size=min(n, self.init_sample), replace=False))
            sample = np.ascontiguousarray(X[rows].compute(), dtype=dtype)
            ws = np.ascontiguousarray(w[rows].compute(), dtype=dtype)
            return _engine.kmeans_plusplus(sample, k, ws, rs)[0]
        first = int(rs.randint(n))
        cand = np.ascontiguousarray(X[first : first + 1].compute(), dtype=dtype)
        ell = self.oversampling * k
        for _ in range(self.init_rounds):
            phi = sum(dask.compute(*[dask.delayed(_block_phi)(b, wb, cand)
                                     for b, wb in blocks]))  # fmt: skip
            if phi <= 0:
                break
            seeds = rs.randint(0, 2**31 - 1, size=len(blocks))
            new = dask.compute(*[dask.delayed(_block_sample)(b, wb, cand, ell, phi, int(s))
                                 for (b, wb), s in zip(blocks, seeds, strict=True)])  # fmt: skip
            cand = np.ascontiguousarray(np.vstack([cand, *new]), dtype=dtype)
        weights = sum(dask.compute(*[dask.delayed(_block_weights)(b, wb, cand)
                                     for b, wb in blocks]))  # fmt: skip
        if len(cand) <= k:
            extra = X[np.sort(rs.choice(n, size=k - len(cand) + 1, replace=False))].compute()
            cand = np.vstack([cand, extra]).astype(dtype)
            weights = np.r_[weights, np.ones(len(extra))]
        cw = np.ascontiguousarray(np.maximum(weights, 1e-12), dtype=dtype)
        centers = _engine.kmeans_plusplus(cand, k, cw, rs)[0]
        return _engine.lloyd(cand, cw, centers, max_iter=100).centers

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means over the blocks of X.

        Parameters
        ----------
        X : dask array or array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask array or array-like of shape (n_samples,), optional

        Returns
        -------
        self : KMeans
        """
        dask, da = _require_dask()
        X = self._dask_input(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        w = da.ones(n, chunks=(X.chunks[0],), dtype=X.dtype) if sample_weight is None else (
            da.asarray(sample_weight).astype(X.dtype).rechunk((X.chunks[0],)))  # fmt: skip
        if w.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},); got {w.shape}")
        if self.persist:
            X, w = dask.persist(X, w)
        variance = float(X.var(axis=0).mean().compute())
        tol = self.tol * variance
        rs = check_random_state(self.random_state)
        blocks = self._blocks(X, w)
        best = None
        for _ in range(self.n_init):
            centers = self._seed(X, w, blocks, rs, X.dtype)
            run = self._lloyd(blocks, centers, tol)
            if best is None or run[1] < best[1]:
                best = run
        self.cluster_centers_, self.inertia_, self.n_iter_, history = best
        self.inertia_history_ = np.asarray(history)
        self.labels_ = self.predict(X)
        self._n_features_out = k
        return self

    def _lloyd(self, blocks, centers, tol):
        dask, _ = _require_dask()
        k = self.n_clusters
        history = []
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            parts = dask.compute(*[dask.delayed(_block_stats)(b, wb, centers, k)
                                   for b, wb in blocks])  # fmt: skip
            sums = sum(p[0] for p in parts)
            wsum = sum(p[1] for p in parts)
            history.append(float(sum(p[2] for p in parts)))
            empty = np.flatnonzero(wsum == 0)
            if empty.size:  # the farthest rows of all blocks, farthest first
                far = [f for p in parts for f in zip(*p[3], strict=True)]
                far.sort(key=lambda f: -f[0])
                for j, (_, row, wt, lab) in zip(empty, far, strict=False):
                    sums[lab] -= row * wt
                    wsum[lab] -= wt
                    sums[j] = row * wt
                    wsum[j] = wt
            new = centers.copy()
            has = wsum > 0
            new[has] = (sums[has] / wsum[has, None]).astype(centers.dtype)
            move = ((new.astype(np.float64) - centers) ** 2).sum()
            centers = new
            if move <= tol:
                break
        parts = dask.compute(*[dask.delayed(_block_stats)(b, wb, centers, 0)
                               for b, wb in blocks])  # fmt: skip
        inertia = float(sum(p[2] for p in parts))
        return centers, inertia, n_iter, history

    # -- use ------------------------------------------------------------------------
    def predict(self, X):
        """The nearest centre of every row, as a lazy dask array (computed block by
        block)."""
        check_is_fitted(self)
        X = self._dask_input(X, reset=False)
        centers = self.cluster_centers_

        def nearest(block):
            block = np.ascontiguousarray(block, dtype=centers.dtype)
            return _engine.assign(block, centers)[0]

        return X.map_blocks(nearest, drop_axis=1, dtype=np.int32)

    def transform(self, X):
        """Euclidean distances of every row to every centre, as a lazy dask array."""
        check_is_fitted(self)
        X = self._dask_input(X, reset=False)
        centers = self.cluster_centers_.astype(np.float64)

        def distances(block):
            b = np.asarray(block, dtype=np.float64)
            d2 = (b * b).sum(1)[:, None] - 2 * b @ centers.T + (centers * centers).sum(1)
            return np.sqrt(np.maximum(d2, 0))

        return X.map_blocks(distances, chunks=(X.chunks[0], (self.n_clusters,)),
                            dtype=np.float64)  # fmt: skip

    def score(self, X, y=None):
        """Opposite of the sum of squared distances of X to the nearest centres."""
        return -float((self.transform(X).min(axis=1) ** 2).sum().compute())
