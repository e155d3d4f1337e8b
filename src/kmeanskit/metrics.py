"""Judging clusters against known classes or known centres.

scikit-learn computes the information-theoretic and pair-counting scores; this module
adds what it lacks: clustering accuracy (the best one-to-one mapping of clusters to
classes), purity, a cluster-to-class mapper for new predictions, and the centroid index
of Fränti, Rezaei and Zhao (2014) for ground-truth centres.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.base import BaseEstimator
from sklearn.metrics import (
    adjusted_mutual_info_score,
    adjusted_rand_score,
    completeness_score,
    homogeneity_score,
    normalized_mutual_info_score,
    v_measure_score,
)
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "ClusterLabelMapper",
    "centroid_index",
    "cluster_accuracy",
    "evaluate",
    "purity",
]


def _labels(name: str, values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    return arr


def _table(y_true, y_pred):
    """Contingency table (classes x clusters) with the classes and clusters it indexes."""
    y_true = _labels("y_true", y_true)
    y_pred = _labels("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same length; got {len(y_true)} and {len(y_pred)}"
        )
    if y_true.size == 0:
        raise ValueError("y_true and y_pred are empty")
    classes, ti = np.unique(y_true, return_inverse=True)
    clusters, pi = np.unique(y_pred, return_inverse=True)
    table = np.zeros((classes.size, clusters.size), dtype=np.int64)
    np.add.at(table, (ti, pi), 1)
    return table, classes, clusters


def cluster_accuracy(y_true, y_pred) -> float:
    """Accuracy after mapping clusters to classes one to one (Hungarian method).

    With more clusters than classes, the clusters left without a class count as wrong.

    Examples
    --------
    >>> cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table, _, _ = _table(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def purity(y_true, y_pred) -> float:
    """Share of points in their cluster's majority class.

    Examples
    --------
    >>> purity([0, 0, 1, 1], [0, 0, 0, 1])
    0.75
    """
    table, _, _ = _table(y_true, y_pred)
    return float(table.max(axis=0).sum() / table.sum())


def evaluate(y_true, y_pred) -> dict[str, float]:
    """Every external score of a clustering at once.

    Returns a dict with ``accuracy`` (Hungarian), ``purity`` and scikit-learn's
    ``ari``, ``ami``, ``nmi``, ``homogeneity``, ``completeness`` and ``v_measure``,
    plus ``n_classes`` and ``n_clusters``.

    Examples
    --------
    >>> scores = evaluate(["a", "a", "b", "b"], [1, 1, 0, 0])
    >>> scores["accuracy"], scores["ari"], scores["n_clusters"]
    (1.0, 1.0, 2)
    """
    table, classes, clusters = _table(y_true, y_pred)
    return {
        "accuracy": cluster_accuracy(y_true, y_pred),
        "purity": float(table.max(axis=0).sum() / table.sum()),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "ami": float(adjusted_mutual_info_score(y_true, y_pred)),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "homogeneity": float(homogeneity_score(y_true, y_pred)),
        "completeness": float(completeness_score(y_true, y_pred)),
        "v_measure": float(v_measure_score(y_true, y_pred)),
        "n_classes": int(classes.size),
        "n_clusters": int(clusters.size),
    }


def centroid_index(centers, true_centers) -> int:
    """Centroid index (CI) of Fränti, Rezaei and Zhao (2014): how many clusters were
    not found.

    Each centre is mapped to its nearest centre of the other set; centres that nothing
    maps to are orphans. CI is the larger orphan count of the two directions; 0 means
    every true cluster has exactly one centre.

    Examples
    --------
    >>> centroid_index([[0, 0], [0, 1], [9, 9]], [[0, 0], [5, 5], [9, 9]])
    1
    """
    a = np.asarray(centers, dtype=np.float64)
    b = np.asarray(true_centers, dtype=np.float64)
    for name, arr in (("centers", a), ("true_centers", b)):
        if arr.ndim != 2 or arr.shape[0] == 0:
            raise ValueError(f"{name} must be a non-empty 2-d array; got shape {arr.shape}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"centers have {a.shape[1]} features but true_centers have {b.shape[1]}")
    dist = cdist(a, b, "sqeuclidean")

    def orphans(nearest, size):
        return int(size - np.unique(nearest).size)

    return max(orphans(dist.argmin(axis=1), b.shape[0]), orphans(dist.argmin(axis=0), a.shape[0]))


class ClusterLabelMapper(BaseEstimator):
    """Learns which class each cluster stands for, and applies it to new predictions.

    Parameters
    ----------
    mapping : {'auto', 'hungarian', 'majority'}, default='auto'
        ``'hungarian'``: one cluster per class, maximising the matched points (clusters
        beyond the number of classes then take their majority class); ``'majority'``:
        each cluster takes its majority class, so several clusters may share a class;
        ``'auto'``: Hungarian when there are no more clusters than classes, majority
        otherwise.

    Attributes
    ----------
    classes_ : ndarray
        The classes seen in ``fit`` (any labels: ints, strings).
    clusters_ : ndarray
        The cluster ids seen in ``fit``.
    mapping_ : dict
        Cluster id -> class.

    Examples
    --------
    >>> mapper = ClusterLabelMapper().fit([2, 2, 0, 0, 1], ["cat", "cat", "dog", "dog", "dog"])
    >>> mapper.predict([0, 2, 1]).tolist()
    ['dog', 'cat', 'dog']
    """

    def __init__(self, mapping: str = "auto"):
        self.mapping = mapping

    def fit(self, y_cluster, y_true):
        """Learn the mapping from cluster ids ``y_cluster`` and classes ``y_true``."""
        if self.mapping not in ("auto", "hungarian", "majority"):
            raise ValueError(
                f"mapping must be 'auto', 'hungarian' or 'majority'; got {self.mapping!r}"
            )
        table, classes, clusters = _table(y_true, y_cluster)
        owner = table.argmax(axis=0)  # majority class of every cluster
        hungarian = self.mapping == "hungarian" or (
            self.mapping == "auto" and clusters.size <= classes.size
        )
        if hungarian:
            rows, cols = linear_sum_assignment(table, maximize=True)
            owner[cols] = rows
        self.classes_ = classes
        self.clusters_ = clusters
        self.mapping_ = {c.item(): classes[o].item() for c, o in zip(clusters, owner, strict=True)}
        return self

    def predict(self, y_cluster) -> np.ndarray:
        """The classes of cluster ids ``y_cluster``; unknown ids are an error."""
        check_is_fitted(self, "mapping_")
        y_cluster = _labels("y_cluster", y_cluster)
        pos = np.searchsorted(self.clusters_, y_cluster)
        pos = np.clip(pos, 0, self.clusters_.size - 1)
        unseen = self.clusters_[pos] != y_cluster
        if unseen.any():
            raise ValueError(
                f"cluster ids {np.unique(y_cluster[unseen]).tolist()} were not seen in fit "
                f"(known: {self.clusters_.tolist()})"
            )
        owner = np.array([self.mapping_[c.item()] for c in self.clusters_])
        return owner[pos]

    def fit_predict(self, y_cluster, y_true) -> np.ndarray:
        """:meth:`fit`, then :meth:`predict` on the same cluster ids."""
        return self.fit(y_cluster, y_true).predict(y_cluster)

    def score(self, y_cluster, y_true) -> float:
        """Accuracy of the mapped predictions; classes unseen in ``fit`` are an error."""
        check_is_fitted(self, "mapping_")
        y_true = _labels("y_true", y_true)
        unseen = ~np.isin(y_true, self.classes_)
        if unseen.any():
            raise ValueError(
                f"classes {np.unique(y_true[unseen]).tolist()} were not seen in fit "
                f"(known: {self.classes_.tolist()})"
            )
        return float(np.mean(self.predict(y_cluster) == y_true))
