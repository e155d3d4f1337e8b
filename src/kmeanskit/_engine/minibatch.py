"""Mini-batch k-means (Sculley 2010): the step on one batch and the reassignment of
clusters that starve.

Each centre moves toward the mean of its batch members with a per-centre learning rate
``w_batch / count`` (the count of weight it has seen), so every centre is the running
mean of what it received. A ``decay`` below one shrinks the counts before each step,
which forgets old batches geometrically and lets the centres follow data that drifts.
"""

from __future__ import annotations

import numpy as np

from ._common import ColumnStats, Pass, assigned_sqdist, thread_limits


def minibatch_step(
    X,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    counts: np.ndarray,
    *,
    decay: float = 1.0,
    n_threads: int | None = None,
    stats: ColumnStats | None = None,
) -> tuple[np.ndarray, float, float]:
    """Assign one batch and move the centres, in place (``centers`` and ``counts``).

    Parameters
    ----------
    X : ndarray of shape (b, d) or CSR matrix, float32 or float64
        The batch.
    sample_weight : ndarray of shape (b,), X's dtype
    centers : ndarray of shape (k, d), X's dtype
    counts : ndarray of shape (k,), float64
        The weight each centre has absorbed so far (zero for a new centre).
    decay : float
        Factor applied to ``counts`` first (1: remember everything).

    Returns
    -------
    labels : ndarray of shape (b,), int32
        The batch's nearest centres before the move.
    objective : float
        The batch's weighted squared distances to those centres, before the move.
    shift : float
        Sum over centres of the squared distance each moved.

    Examples
    --------
    >>> X = np.array([[0.0], [2.0], [10.0]])
    >>> centers, counts = np.array([[1.0], [9.0]]), np.array([2.0, 0.0])
    >>> labels, objective, shift = minibatch_step(X, np.ones(3), centers, counts)
    >>> labels.tolist(), objective, centers.ravel().tolist(), counts.tolist()
    ([0, 0, 1], 3.0, [1.0, 10.0], [4.0, 1.0])
    """
    k = centers.shape[0]
    with thread_limits(n_threads):
        p = Pass(X, sample_weight, k, stats)
        sums, wsum, objective = p.run(centers, update=True)
    if decay < 1.0:
        counts *= decay
    has = np.flatnonzero(wsum > 0)
    counts[has] += wsum[has]
    old = centers[has].astype(np.float64)
    new = old + (sums[has] - wsum[has, None] * old) / counts[has, None]
    centers[has] = new
    shift = float(((centers[has] - old) ** 2).sum())
    return p.labels.copy(), float(objective), shift


def reassign_starved(
    X,
    sample_weight: np.ndarray,
    centers: np.ndarray,
    counts: np.ndarray,
    labels: np.ndarray,
    ratio: float,
    random_state,
) -> int:
    """Move the centres whose count is below ``ratio`` times the largest (empty ones
    included) onto batch rows drawn with probability proportional to their weighted
    squared distance to their centre (where k-means++ would put a new centre); each
    moved centre starts with the smallest count of the others. In place; returns how
    many moved.

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [9.0]])
    >>> centers, counts = np.array([[0.05], [50.0]]), np.array([100.0, 0.0])
    >>> reassign_starved(X, np.ones(3), centers, counts, np.zeros(3, np.int32), 0.01,
    ...                  np.random.RandomState(0))
    1
    >>> centers.ravel().tolist()
    [0.05, 9.0]
    """
    starved = np.flatnonzero(counts < ratio * counts.max())
    if starved.size == 0 or starved.size == counts.size:
        return 0
    p = sample_weight * assigned_sqdist(X, centers, labels)
    n_take = min(starved.size, int(np.count_nonzero(p)))
    if n_take == 0:
        return 0
    rows = random_state.choice(X.shape[0], size=n_take, replace=False, p=p / p.sum())
    new = X[rows]
    new = new.toarray() if hasattr(new, "toarray") else new
    fed = np.setdiff1d(np.arange(counts.size), starved)
    centers[starved[:n_take]] = new
    counts[starved[:n_take]] = counts[fed].min()
    return n_take
