"""``kmeanskit.KMedoids``: clustering around medoids, for any dissimilarity."""

from __future__ import annotations

import typing
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import _VALID_METRICS
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._engine import kmedoids as _km
from ._validation import check_csr, check_magnitude, warn_if_few_clusters

__all__ = ["KMedoids"]


class KMedoids(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """k-medoids: k samples (the medoids) minimising the sum of dissimilarities of every
    sample to its nearest medoid. Works from any metric scikit-learn's
    :func:`~sklearn.metrics.pairwise_distances` knows (euclidean, manhattan, cosine,
    correlation, mahalanobis with ``metric_params={'VI': ...}``, ...), a callable, or a
    precomputed dissimilarity matrix (which need not be symmetric nor metric).

    Parameters
    ----------
    n_clusters : int, default=8
    metric : str or callable, default='euclidean'
        ``'precomputed'``: ``X`` in :meth:`fit` is the n x n dissimilarity matrix
        (``X[i, j]``: from sample i to sample j).
    metric_params : dict, default=None
        Keyword arguments of the metric.
    method : {'fasterpam', 'pam', 'alternate', 'clara'}, default='fasterpam'
        'fasterpam' (Schubert and Rousseeuw 2021): eager swaps, candidates visited in a
        random order, the fastest way to a swap-local optimum (no exchange of one
        medoid with one other sample lowers the loss). 'pam': the best swap each time
        (the same kind of optimum, O(n^2) per swap). 'alternate': assign, then
        re-centre each cluster on its best member, like k-means (faster, weaker).
        'clara': FasterPAM on ``n_sampling`` samples of ``sample_size`` rows, keeping
        the medoids of lowest loss on all the data (for large n: never builds the
        n x n matrix).
    init : {'k-medoids++', 'build', 'random'} or array-like of int, default='k-medoids++'
        'build': PAM's greedy BUILD (O(n^2 k), better starts); 'k-medoids++': drawn by
        distance to the medoids so far; or the indices of the initial medoids.
    max_iter : int, default=100
        Swap cycles over the data (fasterpam), swaps (pam) or iterations (alternate).
    sample_size : int, default=None
        CLARA's sample: ``min(n, 40 + 2 * n_clusters)`` when None.
    n_sampling : int, default=5
        CLARA's samples.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    medoid_indices_ : ndarray of shape (n_clusters,)
        The rows of the training data that are medoids.
    cluster_centers_ : ndarray of shape (n_clusters, n_features) or None
        The medoids' features (None for a precomputed matrix).
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Sum of the dissimilarities of the samples to their medoids.
    n_iter_ : int
        Swaps (fasterpam, pam, clara: of the kept sample) or iterations (alternate).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
    >>> km = KMedoids(2, metric="manhattan", random_state=0).fit(X)
    >>> sorted(km.medoid_indices_.tolist()), km.inertia_
    ([1, 4], 4.0)
    >>> D = np.abs(X - X.T)  # a precomputed matrix gives the same medoids
    >>> sorted(KMedoids(2, metric="precomputed", init="build").fit(D).medoid_indices_.tolist())
    [1, 4]
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "metric_params": [dict, None],
        "method": [StrOptions({"fasterpam", "pam", "alternate", "clara"})],
        "init": [StrOptions({"k-medoids++", "build", "random"}), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "sample_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_sampling": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        metric="euclidean",
        metric_params=None,
        method="fasterpam",
        init="k-medoids++",
        max_iter=100,
        sample_size=None,
        n_sampling=5,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.metric = metric
        self.metric_params = metric_params
        self.method = method
        self.init = init
        self.max_iter = max_iter
        self.sample_size = sample_size
        self.n_sampling = n_sampling
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self.metric != "precomputed"
        tags.input_tags.pairwise = self.metric == "precomputed"
        return tags

    def _distances(self, X, Y=None):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            D = pairwise_distances(X, Y, metric=self.metric, **(self.metric_params or {}))
        if not np.isfinite(D).all():  # e.g. euclidean distances of values near 1e200
            raise ValueError(
                f"the {self.metric!r} distances between the rows of X are not all finite "
                f"(X's values reach {float(np.abs(X).max()):.3g}): rescale X"
            )
        return D

    def _start(self, D, DT, rs) -> np.ndarray:
        k, n = self.n_clusters, D.shape[0]
        if isinstance(self.init, str):
            if self.init == "build":
                return _km.build(D, k, DT=DT)
            if self.init == "random":
                return rs.choice(n, size=k, replace=False).astype(np.int64)
            return _km.kmedoids_plusplus(D, k, rs)
        med = np.asarray(self.init)
        if med.shape != (k,) or not np.issubdtype(med.dtype, np.integer):
            raise ValueError(f"init as medoid indices needs {k} integers; got {self.init!r:.80}")
        if med.min() < 0 or med.max() >= n or np.unique(med).size != k:
            raise ValueError(
                f"init: medoid indices must be distinct and in [0, {n}); got {med.tolist()!r:.80}"
            )
        return med.astype(np.int64)

    def _search(self, D, rs):
        D = np.ascontiguousarray(D, dtype=np.float64)
        # the transposed matrix once, for BUILD and the swaps (the alternating method
        # reads D's rows only)
        DT = _km.transposed(D) if self.method != "alternate" or self.init == "build" else None
        med = self._start(D, DT, rs)
        if self.method == "pam":
            med, n_iter, _ = _km.pam(D, med, max_swaps=self.max_iter * D.shape[0], DT=DT)
        elif self.method == "alternate":
            med, n_iter, _ = _km.alternate(D, med, max_iter=self.max_iter)
        else:
            med, n_iter, _ = _km.fasterpam(D, med, max_cycles=self.max_iter, random_state=rs, DT=DT)
        return med, n_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the medoids.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            with ``metric='precomputed'``
        y : Ignored

        Returns
        -------
        self : KMedoids
        """
        precomputed = self.metric == "precomputed"
        X = validate_data(
            self, X, accept_sparse=False if precomputed else "csr", dtype=[np.float64, np.float32]
        )
        X = check_csr(X)
        if isinstance(self.metric, str) and self.metric in ("euclidean", "l2", "sqeuclidean"):
            X = check_magnitude(X, fit=True)  # squares that overflow or underflow
        n, k = X.shape[0], self.n_clusters
        if precomputed and X.shape[0] != X.shape[1]:
            raise ValueError(f"metric='precomputed' needs a square matrix; got shape {X.shape}")
        if precomputed and (X < 0).any():
            raise ValueError("metric='precomputed': dissimilarities must be non-negative")
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        rs = check_random_state(self.random_state)
        if self.method == "clara":
            med, n_iter, to_medoids = self._clara(X, rs, precomputed)
        else:
            D = np.asarray(X, dtype=np.float64) if precomputed else self._distances(X)
            med, n_iter = self._search(D, rs)
            to_medoids = D[:, med]
        self.medoid_indices_ = np.asarray(med, dtype=np.intp)
        self.cluster_centers_ = None if precomputed else X[self.medoid_indices_]
        if hasattr(self.cluster_centers_, "toarray"):
            self.cluster_centers_ = self.cluster_centers_.toarray()
        self.labels_ = np.argmin(to_medoids, axis=1).astype(np.int32)
        warn_if_few_clusters(self.labels_, k)
        self.inertia_ = float(to_medoids.min(axis=1).sum())
        self.n_iter_ = n_iter
        self._n_features_out = k
        return self

    def _clara(self, X, rs, precomputed):
        n, k = X.shape[0], self.n_clusters
        size = min(n, self.sample_size or 40 + 2 * k)
        if size < k:
            raise ValueError(f"sample_size={size} should be >= n_clusters={k}")
        best = None
        for _ in range(self.n_sampling):
            rows = np.sort(rs.choice(n, size=size, replace=False))
            if precomputed:
                D = np.asarray(X[np.ix_(rows, rows)], dtype=np.float64)
            else:
                D = self._distances(X[rows])
            med, n_iter = self._search(D, rs)
            med = rows[med]
            to_medoids = (
                np.asarray(X[:, med], dtype=np.float64)
                if precomputed
                else self._distances(X, X[med])
            )
            total = float(to_medoids.min(axis=1).sum())
            if best is None or total < best[0]:
                best = (total, med, n_iter, to_medoids)
        return best[1], best[2], best[3]

    def transform(self, X):
        """Dissimilarities of X to the medoids, shape (n_samples, n_clusters).

        With ``metric='precomputed'``, X holds the dissimilarities of the new samples
        to the training samples (n_new x n_train; the medoids' columns are taken) or to
        the medoids themselves (n_new x n_clusters).
        """
        check_is_fitted(self)
        if self.metric == "precomputed":
            X = np.asarray(X, dtype=np.float64)
            n_train = self.labels_.shape[0]
            if X.ndim == 2 and X.shape[1] == n_train:
                return X[:, self.medoid_indices_]
            if X.ndim == 2 and X.shape[1] == self.n_clusters:
                return X
            raise ValueError(
                f"metric='precomputed': X must have {n_train} columns (to the training "
                f"samples) or {self.n_clusters} (to the medoids); got shape {X.shape}"
            )
        X = validate_data(self, X, reset=False, accept_sparse="csr", dtype=[np.float64, np.float32])
        X = check_csr(X)
        return self._distances(X, self.cluster_centers_)

    def predict(self, X):
        """The nearest medoid of each sample (X as for :meth:`transform`)."""
        return np.argmin(self.transform(X), axis=1).astype(np.int32)

    def fit_predict(self, X, y=None):
        """Fit, then return ``labels_``."""
        return self.fit(X).labels_
