"""The BIC of a clustering under identical spherical Gaussians (X-means)."""

from __future__ import annotations

import numpy as np


def bic_score(X, labels, centers, sample_weight=None) -> float:
    """BIC of a clustering under identical spherical Gaussians (Pelleg and Moore 2000),
    to maximise.

    The log-likelihood is ``sum_j n_j log(n_j / n) - n d / 2 log(2 pi s2) - d (n - k) / 2``
    with the pooled variance ``s2 = inertia / (d (n - k))``; the model has
    ``k - 1 + k d + 1`` parameters. A clustering with no spread left (or ``n <= k``)
    scores ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [0.3], [10.0], [10.1], [10.2], [10.3]])
    >>> one = bic_score(X, np.zeros(8, int), X.mean(axis=0, keepdims=True))
    >>> two = bic_score(X, np.repeat([0, 1], 4), np.array([[0.15], [10.15]]))
    >>> bool(two > one)
    True
    """
    X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels)
    centers = np.asarray(centers, dtype=np.float64)
    w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    n, d = float(w.sum()), X.shape[1]
    k = centers.shape[0]
    inertia = float((w * ((X - centers[labels]) ** 2).sum(axis=1)).sum())
    if n <= k or inertia <= 0:
        return -np.inf
    s2 = inertia / (d * (n - k))
    sizes = np.bincount(labels, weights=w, minlength=k)
    sizes = sizes[sizes > 0]
    loglik = (sizes * np.log(sizes / n)).sum() - n * d / 2 * np.log(2 * np.pi * s2)
    loglik -= d * (n - k) / 2
    n_params = k - 1 + k * d + 1
    return float(loglik - n_params / 2 * np.log(n))
