"""``k_means`` and ``kmeans_plusplus``: scikit-learn's function interface to k-means,
on kmeanskit's :class:`KMeans` and its engine's k-means++ seeding."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .. import _engine
from ._validation import check_n_samples, check_sample_weight, check_values
from .kmeans import KMeans

__all__ = ["k_means", "kmeans_plusplus"]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(
    X,
    n_clusters,
    *,
    sample_weight=None,
    x_squared_norms=None,
    random_state=None,
    n_local_trials=None,
):
    """Pick ``n_clusters`` seeds from X by greedy k-means++.

    Same as :func:`sklearn.cluster.kmeans_plusplus` (the first seed drawn in
    proportion to the weights, each next one the best of ``n_local_trials``
    candidates, default ``2 + int(log(n_clusters))``), on kmeanskit's engine.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for compatibility with scikit-learn (its length is checked); the
        engine computes the distances itself.
    random_state : int, RandomState instance or None, default=None
    n_local_trials : int, default=None

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), X's dtype (float32 or 64)
    indices : ndarray of shape (n_clusters,), the rows of X chosen:
        ``X[indices] == centers``

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> np.array_equal(X[indices], centers)
    True
    """
    X = check_array(
        X,
        accept_sparse="csr",
        dtype=[np.float64, np.float32],
        order="C",
        accept_large_sparse=True,
    )
    X = check_values(X, fit=True)
    sample_weight = check_sample_weight(sample_weight, X)
    check_n_samples(X, n_clusters)
    if x_squared_norms is not None:
        x_squared_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False)
        if x_squared_norms.shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {x_squared_norms.shape[0]} should "
                f"be equal to the length of n_samples {X.shape[0]}."
            )
    random_state = check_random_state(random_state)
    centers, indices = _engine.kmeans_plusplus(
        X, int(n_clusters), sample_weight, random_state, n_local_trials=n_local_trials
    )
    centers = np.ascontiguousarray(
        centers.toarray() if hasattr(centers, "toarray") else centers, dtype=X.dtype
    )
    return centers, np.asarray(indices, dtype=np.intp)


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "sample_weight": ["array-like", None],
        "return_n_iter": [bool],
    },
    prefer_skip_nested_validation=False,
)
def k_means(
    X,
    n_clusters,
    *,
    sample_weight=None,
    init="k-means++",
    n_init="auto",
    max_iter=300,
    verbose=False,
    tol=1e-4,
    random_state=None,
    copy_x=True,
    algorithm="lloyd",
    return_n_iter=False,
):
    """Fit k-means and return the centres, the labels and the inertia.

    Same as :func:`sklearn.cluster.k_means`: a :class:`kmeanskit.KMeans` with these
    parameters, fitted on X.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,), int32
    inertia : float
    best_n_iter : int, only with ``return_n_iter=True``

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> centroid, label, inertia = k_means(X, n_clusters=2, n_init="auto", random_state=0)
    >>> sorted(centroid.tolist()), float(inertia)
    ([[1.0, 2.0], [10.0, 2.0]], 16.0)
    """
    est = KMeans(
        n_clusters=n_clusters,
        init=init,
        n_init=n_init,
        max_iter=max_iter,
        verbose=verbose,
        tol=tol,
        random_state=random_state,
        copy_x=copy_x,
        algorithm=algorithm,
    ).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_
