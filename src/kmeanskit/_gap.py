"""The gap statistic (Tibshirani, Walther and Hastie, JRSS B 2001).

``gap(k) = E*[log W_k] - log W_k``: the within-cluster sum of squares of the data
against its expectation on reference data sets without clusters. The references are
uniform in the box of the data's principal axes (the paper's method (b), the default)
or in its bounding box (method (a), ``reference='box'``), with
``s = sd * sqrt(1 + 1 / B)`` over the B references. Two rules pick k (the names of R's
``cluster::maxSE``):

- ``'firstSEmax'`` (the default, as in R's ``clusGap``): the smallest k whose gap is
  within one ``s`` of the global maximum;
- ``'Tibs2001SEmax'`` (the paper's rule): the smallest k with ``gap(k) >= gap(k') - s(k')``
  for the next k' of the sweep. It stops at the first local plateau, so with many
  clusters it often answers a small k.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["gap_statistic", "reference_data"]


def reference_data(X, random_state, reference: str = "pca") -> np.ndarray:
    """One reference data set: uniform in the box of X's principal axes (``'pca'``) or
    of its features (``'box'``).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.RandomState(0).normal(size=(50, 2))
    >>> reference_data(X, np.random.RandomState(1)).shape
    (50, 2)
    """
    if reference not in ("pca", "box"):
        raise ValueError(f"reference must be 'pca' or 'box'; got {reference!r}")
    X = np.asarray(X, dtype=np.float64)
    if reference == "box":
        return random_state.uniform(X.min(axis=0), X.max(axis=0), size=X.shape)
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    proj = (X - mean) @ vt.T
    z = random_state.uniform(proj.min(axis=0), proj.max(axis=0), size=proj.shape)
    return z @ vt + mean


RULES = ("firstSEmax", "Tibs2001SEmax")


def gap_statistic(
    X,
    result,
    n_refs: int = 10,
    reference: str = "pca",
    rule: str = "firstSEmax",
    random_state=None,
    progress=None,
):
    """Gap, its standard error, and the chosen k for the fits of a sweep.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    result : SweepResult
        The sweep of X; the references are swept over the same k.
    n_refs : int, default=10
    reference : {'pca', 'box'}, default='pca'
    rule : {'firstSEmax', 'Tibs2001SEmax'}, default='firstSEmax'
    random_state : int, RandomState instance or None
    progress : callable, optional
        Called after each reference sweep as ``progress(done, n_refs)``.

    Returns
    -------
    gap : ndarray, one value per k
    s : ndarray, ``sd * sqrt(1 + 1 / n_refs)``
    k : int, the chosen k

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from kmeanskit import sweep
    >>> X, _ = make_blobs(300, centers=3, cluster_std=0.5, random_state=0)
    >>> gap_statistic(X, sweep(X, range(1, 6), random_state=0), random_state=0)[2]
    3
    """
    from .sweep import sweep  # the sweep imports nothing from here

    if not (isinstance(n_refs, int | np.integer) and n_refs >= 1):
        raise ValueError(f"n_refs must be an integer >= 1; got {n_refs!r}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}; got {rule!r}")
    rs = check_random_state(random_state)
    X = np.asarray(X, dtype=np.float64)
    ks = result.k
    log_w = np.log(np.maximum(result.inertia, np.finfo(float).tiny))
    ref_log_w = np.empty((n_refs, ks.size))
    for b in range(n_refs):
        Z = reference_data(X, rs, reference)
        ref = sweep(Z, ks, random_state=rs)
        ref_log_w[b] = np.log(np.maximum(ref.inertia, np.finfo(float).tiny))
        if progress is not None:
            progress(b + 1, n_refs)
    gap = ref_log_w.mean(axis=0) - log_w
    s = ref_log_w.std(axis=0) * np.sqrt(1.0 + 1.0 / n_refs)
    top = int(np.argmax(gap))
    if rule == "firstSEmax":
        return gap, s, int(ks[np.flatnonzero(gap >= gap[top] - s[top])[0]])
    for i in range(ks.size - 1):
        if gap[i] >= gap[i + 1] - s[i + 1]:
            return gap, s, int(ks[i])
    return gap, s, int(ks[top])
