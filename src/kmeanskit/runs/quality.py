"""How good each cluster of a run is: its size, how coherent it is (without labels) and,
with true labels, its majority class and purity.

Written into ``summary.json`` (key ``cluster_quality``) by the runs, and shown by the
report (:mod:`kmeanskit.report`), which ranks the clusters to look at first.

Coherence is the cluster's mean silhouette (Rousseeuw 1987): for each member, ``a`` its
mean distance to the other members, ``b`` its mean distance to the members of the
nearest other cluster (the cluster's *neighbour* is the one most of its members are
nearest to), ``s = (b - a) / max(a, b)`` in [-1, 1]: near 1 a tight cluster far from
the others, near 0 one that overlaps its neighbour, below 0 one whose members lie closer
to another cluster. A member alone in its cluster scores 0 (as in scikit-learn).

With many rows the silhouette is computed on a stratified sample (up to
``max(sample // k, 10)`` members of each cluster, the same for every cluster, drawn with
``random_state``): each member's mean distances to a cluster are then estimated from that
cluster's sample, which is unbiased, and the cost stays near ``sample ** 2`` distances
whatever the number of rows (32,000 rows of 512 features in 500 clusters: about 2 s on
two cores). Without sampling (``n <= sample``, or ``sample=None``) the scores equal
:func:`sklearn.metrics.silhouette_samples` averaged per cluster.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_SAMPLE", "cluster_quality"]

#: rows the silhouette is computed on, at most about (stratified by cluster)
DEFAULT_SAMPLE = 5000
#: rows of the sample whose distances are computed at once
_BLOCK = 1024


def _stratified(labels: np.ndarray, k: int, per_cluster: int, rng) -> np.ndarray:
    """Row indices: up to ``per_cluster`` members of each cluster, drawn without
    replacement, in increasing order."""
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(k + 1))
    picked = []
    for j in range(k):
        members = order[bounds[j] : bounds[j + 1]]
        if members.size > per_cluster:
            members = rng.choice(members, per_cluster, replace=False)
        picked.append(members)
    return np.sort(np.concatenate(picked)) if picked else np.empty(0, dtype=np.int64)


def _silhouettes(X: np.ndarray, labels: np.ndarray, k: int):
    """Each row's silhouette and its nearest other cluster (-1 when there is none),
    computed blockwise (``_BLOCK`` rows against all at a time, Euclidean distances;
    a row's summed distances to each cluster are differences of running sums over the
    rows sorted by cluster)."""
    order = np.argsort(labels, kind="stable")
    X, labels = X[order], labels[order]
    n = X.shape[0]
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    bounds = np.searchsorted(labels, np.arange(k + 1))
    sq = np.einsum("ij,ij->i", X, X)
    s = np.zeros(n)
    nearest = np.full(n, -1, dtype=np.int64)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        rows = np.arange(stop - start)
        d2 = sq[start:stop, None] + sq[None, :] - 2.0 * (X[start:stop] @ X.T)
        d = np.sqrt(np.maximum(d2, 0.0))
        d[rows, np.arange(start, stop)] = 0.0
        running = np.zeros((stop - start, n + 1))
        np.cumsum(d, axis=1, out=running[:, 1:])
        sums = running[:, bounds[1:]] - running[:, bounds[:-1]]  # (block, k)
        own = labels[start:stop]
        own_n = counts[own] - 1.0
        a = np.where(own_n > 0, sums[rows, own] / np.maximum(own_n, 1.0), 0.0)
        means = sums / np.maximum(counts, 1.0)
        means[rows, own] = np.inf
        means[:, counts == 0] = np.inf
        b = means.min(axis=1)
        near = np.where(np.isfinite(b), means.argmin(axis=1), -1)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = (b - a) / np.maximum(a, b)
        ok = (own_n > 0) & np.isfinite(b) & np.isfinite(value)
        s[start:stop] = np.where(ok, value, 0.0)
        nearest[start:stop] = near
    back = np.empty_like(order)
    back[order] = np.arange(n)
    return s[back], nearest[back]


def _majority(values) -> tuple[str, int]:
    """The most common value (as text; ties: the smallest text) and its count."""
    found, counts = np.unique(np.asarray([str(v) for v in values]), return_counts=True)
    best = int(np.argmax(counts))  # np.unique sorts: the first of the largest counts
    return str(found[best]), int(counts[best])


def cluster_quality(
    X, labels, k: int, true_labels=None, random_state=0, sample: int | None = DEFAULT_SAMPLE
) -> list[dict]:
    """Per cluster of a clustering: its size, mean silhouette and neighbour cluster, and
    with ``true_labels`` its majority class, that class's count and the purity.

    Parameters
    ----------
    X : array-like of shape (n, d)
        The rows k-means ran on (a run's ``features.npy``; memory-mapped, only the
        sampled rows are read).
    labels : array-like of int, shape (n,)
        Each row's cluster, in ``range(k)``.
    k : int
        The number of clusters (some may be empty).
    true_labels : sequence, optional
        Each row's class (compared as text).
    random_state : int, optional
        Seed of the stratified sample.
    sample : int or None, optional
        About how many rows the silhouette is computed on (stratified: up to
        ``max(sample // k, 10)`` of each cluster); None: all of them.

    Returns
    -------
    list of dict
        One per cluster ``j`` in order: ``cluster`` (j), ``size``, ``silhouette`` (the
        mean over its sampled members, rounded to 4 digits; None for an empty cluster
        or when there is a single non-empty cluster), ``neighbour`` (the other cluster
        most of its members lie nearest to, or None), ``sampled`` (members the
        silhouette was computed on); with ``true_labels`` also ``majority``,
        ``majority_count`` and ``purity`` (their ratio to the size, 4 digits; None for
        an empty cluster).

    Examples
    --------
    >>> X = np.array([[0.0], [0.1], [5.0], [5.2], [9.0]])
    >>> q = cluster_quality(X, [0, 0, 1, 1, 1], 2, true_labels=["a", "a", "b", "b", "c"])
    >>> [(c["size"], c["silhouette"], c["neighbour"], c["majority"], c["purity"]) for c in q]
    [(2, 0.9843, 1, 'a', 1.0), (3, 0.5839, 0, 'b', 0.6667)]
    """
    if not hasattr(X, "shape"):  # an array (a memory-mapped one: only the sample is read)
        X = np.asarray(X, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if len(X.shape) != 2 or labels.shape != (X.shape[0],):
        raise ValueError(f"X of shape {X.shape} and labels of shape {labels.shape} disagree")
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must lie in range({k})")
    if true_labels is not None and len(true_labels) != labels.size:
        raise ValueError(f"{len(true_labels)} true labels for {labels.size} rows")
    sizes = np.bincount(labels, minlength=k)
    rng = np.random.RandomState(random_state)
    if sample is None or labels.size <= sample:
        rows = np.arange(labels.size)
    else:
        rows = _stratified(labels, k, max(int(sample) // max(k, 1), 10), rng)
    scores = np.zeros(rows.size)
    nearest = np.full(rows.size, -1, dtype=np.int64)
    if np.count_nonzero(sizes) > 1:
        scores, nearest = _silhouettes(np.asarray(X[rows], dtype=np.float64), labels[rows], k)
    sampled_labels = labels[rows]
    out = []
    for j in range(k):
        mine = sampled_labels == j
        entry = {"cluster": j, "size": int(sizes[j]), "silhouette": None, "neighbour": None}
        entry["sampled"] = int(mine.sum())
        if mine.any() and np.count_nonzero(sizes) > 1:
            entry["silhouette"] = round(float(scores[mine].mean()), 4)
            near = nearest[mine]
            near = near[near >= 0]
            if near.size:
                entry["neighbour"] = int(np.bincount(near, minlength=k).argmax())
        if true_labels is not None:
            members = [true_labels[i] for i in np.flatnonzero(labels == j)]
            name, count = _majority(members) if members else (None, 0)
            entry.update(
                majority=name,
                majority_count=count,
                purity=round(count / len(members), 4) if members else None,
            )
        out.append(entry)
    return out
