"""``kmeanskit.KernelKMeans``: k-means in the feature space of a kernel."""

from __future__ import annotations

import typing
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.metrics.pairwise import PAIRWISE_KERNEL_FUNCTIONS, pairwise_kernels
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._validation import check_sample_weight, check_values, warn_if_few_clusters

__all__ = ["KernelKMeans"]

#: rows of kernel values computed at a time when only the diagonal is needed
DIAG_CHUNK = 256


class KernelKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Kernel k-means (Dhillon, Guan and Kulis 2004): Lloyd's algorithm on the images
    of the samples in a kernel's feature space, where clusters need not be convex.

    The squared distance of sample i to the mean of cluster c is
    ``K[i, i] - 2 / s_c * sum_{j in c} w_j K[i, j] + 1 / s_c^2 * sum_{j, l in c}
    w_j w_l K[j, l]`` (``s_c`` the weight of c); each iteration costs one product of the
    n x n kernel matrix with the n x k membership matrix. With a linear kernel it is
    k-means.

    Parameters
    ----------
    n_clusters : int, default=8
    kernel : str or callable, default='rbf'
        Any kernel of :func:`sklearn.metrics.pairwise.pairwise_kernels` ('rbf',
        'linear', 'poly', 'polynomial', 'sigmoid', 'cosine', 'laplacian', 'chi2',
        'additive_chi2'), a callable of two rows, or 'precomputed' (``X`` in :meth:`fit`
        is the n x n kernel matrix; in :meth:`predict`, the kernel of the new samples
        with the training samples).
    gamma, degree, coef0 : float, default=None, 3, 1
        Parameters of the named kernels (scikit-learn's meaning and defaults).
    kernel_params : dict, default=None
        More keyword arguments for the kernel (a callable's, say).
    init : {'k-means++', 'random'} or array-like of int of shape (n_samples,)
        'k-means++': seeds drawn by squared feature-space distance, each sample then
        starting in the cluster of its nearest seed; 'random': distinct random seeds;
        or the initial labels themselves.
    n_init : int, default=10
        Runs from different seeds; the lowest objective is kept (1 for given labels).
    max_iter : int, default=300
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
    inertia_ : float
        Weighted sum of the squared feature-space distances to the cluster means.
    n_iter_ : int
    X_fit_ : ndarray of shape (n_samples, n_features)
        The training samples (needed to place new ones; the kernel matrix with
        'precomputed').
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_circles
    >>> X, y = make_circles(200, factor=0.3, noise=0.05, random_state=0)
    >>> kk = KernelKMeans(2, kernel="rbf", gamma=5.0, random_state=0).fit(X)
    >>> from sklearn.metrics import adjusted_rand_score
    >>> adjusted_rand_score(y, kk.labels_)
    1.0
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions(set(PAIRWISE_KERNEL_FUNCTIONS) | {"precomputed"}), callable],
        "gamma": [Interval(Real, 0, None, closed="left"), None],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Real],
        "kernel_params": [dict, None],
        "init": [StrOptions({"k-means++", "random"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        kernel_params=None,
        init="k-means++",
        n_init=10,
        max_iter=300,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    # -- kernels ----------------------------------------------------------------
    def _kernel(self, X, Y=None):
        if self.kernel == "precomputed":
            return np.asarray(X, dtype=np.float64)
        params = dict(self.kernel_params or {})
        if isinstance(self.kernel, str):
            named = {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0}
            accepted = {
                "rbf": ("gamma",),
                "laplacian": ("gamma",),
                "chi2": ("gamma",),
                "poly": ("gamma", "degree", "coef0"),
                "polynomial": ("gamma", "degree", "coef0"),
                "sigmoid": ("gamma", "coef0"),
            }.get(self.kernel, ())
            params.update({p: named[p] for p in accepted})
        return np.asarray(
            pairwise_kernels(X, Y, metric=self.kernel, filter_params=False, **params),
            dtype=np.float64,
        )

    def _diag(self, X) -> np.ndarray:
        """``K(x, x)`` of every row, a chunk of rows at a time."""
        return np.concatenate(
            [np.diag(self._kernel(X[i : i + DIAG_CHUNK])) for i in range(0, X.shape[0], DIAG_CHUNK)]
        )

    # -- fit ----------------------------------------------------------------------
    def _seed_labels(self, K, diag, rs) -> np.ndarray:
        n, k = K.shape[0], self.n_clusters
        if self.init == "random":
            seeds = rs.choice(n, size=k, replace=False)
        else:
            seeds = [int(rs.randint(n))]
            near = np.maximum(diag + diag[seeds[0]] - 2 * K[:, seeds[0]], 0)
            for _ in range(1, k):
                total = near.sum()
                nxt = int(rs.choice(n, p=near / total)) if total > 0 else int(rs.randint(n))
                seeds.append(nxt)
                np.minimum(near, np.maximum(diag + diag[nxt] - 2 * K[:, nxt], 0), out=near)
        d = diag[:, None] + diag[seeds][None, :] - 2 * K[:, seeds]
        return np.argmin(d, axis=1)

    def _run(self, K, diag, w, labels):
        n, k = K.shape[0], self.n_clusters
        n_iter = 0
        while n_iter < self.max_iter:
            n_iter += 1
            dist = self._distances(K, diag, w, labels)
            new = np.argmin(dist, axis=1)
            empty = np.setdiff1d(np.arange(k), new)
            if empty.size:  # each empty cluster takes the sample farthest from its mean
                own = dist[np.arange(n), new]
                for c, i in zip(empty, np.argsort(-own)[: empty.size], strict=False):
                    new[i] = c
            if np.array_equal(new, labels):
                break
            labels = new
        dist = self._distances(K, diag, w, labels)
        return labels, float(w @ dist[np.arange(n), labels]), n_iter

    def _distances(self, K, diag, w, labels):
        """Squared feature-space distances of the samples to the means of ``labels``."""
        M = np.zeros((w.shape[0], self.n_clusters))
        M[np.arange(labels.shape[0]), labels] = w
        size = M.sum(axis=0)
        safe = np.where(size > 0, size, 1.0)
        S = K @ M
        within = np.einsum("ic,ic->c", M, S) / safe**2
        return np.maximum(diag[:, None] - 2 * S / safe + within, 0)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Cluster X (or, with ``kernel='precomputed'``, the samples of the kernel
        matrix X).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : KernelKMeans
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        X = check_values(X, fit=True)
        n, k = X.shape[0], self.n_clusters
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(f"kernel='precomputed' needs a square matrix; got shape {X.shape}")
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        w = check_sample_weight(sample_weight, X).astype(np.float64)
        K = self._kernel(X)
        diag = np.diag(K).copy()
        rs = check_random_state(self.random_state)
        given = None
        if not isinstance(self.init, str):
            given = np.asarray(self.init)
            if (
                given.shape != (n,)
                or not np.issubdtype(given.dtype, np.integer)
                or (given.size and (given.min() < 0 or given.max() >= k))
            ):
                raise ValueError(
                    f"init as labels needs {n} integers in [0, {k}); got {self.init!r:.80}"
                )
        best = None
        for _ in range(1 if given is not None else self.n_init):
            start = given.astype(np.intp) if given is not None else self._seed_labels(K, diag, rs)
            labels, objective, n_iter = self._run(K, diag, w, start)
            if best is None or objective < best[1]:
                best = (labels, objective, n_iter)
        self.labels_ = best[0].astype(np.int32)
        # identical rows may be split between clusters here: count distinct rows
        warn_if_few_clusters(np.unique(X, axis=0, return_inverse=True)[1], self.n_clusters)
        self.inertia_ = best[1]
        self.n_iter_ = best[2]
        self.X_fit_ = X
        M = np.zeros((n, k))
        M[np.arange(n), self.labels_] = w
        size = M.sum(axis=0)
        self._size = np.where(size > 0, size, 1.0)
        self._within = np.einsum("ic,ic->c", M, K @ M) / self._size**2
        self._M = M
        self._n_features_out = k
        return self

    # -- use ----------------------------------------------------------------------
    def _cross(self, X):
        check_is_fitted(self)
        if self.kernel == "precomputed":
            Kx = np.asarray(X, dtype=np.float64)
            if Kx.ndim != 2 or Kx.shape[1] != self.X_fit_.shape[0]:
                raise ValueError(
                    f"kernel='precomputed': X must be the kernel of the new samples with the "
                    f"{self.X_fit_.shape[0]} training samples; got shape {Kx.shape}"
                )
            return Kx
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        X = check_values(X)
        return self._kernel(X, self.X_fit_), X

    def predict(self, X):
        """The cluster whose feature-space mean is nearest to each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or with
            ``kernel='precomputed'`` the kernel of the samples with the training samples

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        cross = self._cross(X)
        Kx = cross[0] if isinstance(cross, tuple) else cross
        score = -2 * (Kx @ self._M) / self._size + self._within  # K(x, x) is the same for all
        return np.argmin(score, axis=1).astype(np.int32)

    def transform(self, X):
        """Squared feature-space distances of each sample to every cluster mean (needs
        ``K(x, x)``, so not with ``kernel='precomputed'``)."""
        if self.kernel == "precomputed":
            raise ValueError(
                "transform with kernel='precomputed' needs K(x, x) of the new samples; use predict"
            )
        Kx, X = self._cross(X)
        d = self._diag(X)[:, None] - 2 * (Kx @ self._M) / self._size + self._within
        return np.maximum(d, 0)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_``."""
        return self.fit(X, sample_weight=sample_weight).labels_
