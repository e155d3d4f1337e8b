"""Judging clusters against known classes or known centres.

scikit-learn computes the information-theoretic and pair-counting scores; this module
adds what it lacks: clustering accuracy (the best one-to-one mapping of clusters to
classes), purity, a cluster-to-class mapper for new predictions, and the centroid index
of Fränti, Rezaei and Zhao (2014) for ground-truth centres.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "SCORES",
    "ClusterLabelMapper",
    "ScoreInfo",
    "centroid_index",
    "cluster_accuracy",
    "describe_score",
    "evaluate",
    "purity",
]


@dataclass(frozen=True)
class ScoreInfo:
    """What a score means, for people: a one-line meaning, which direction is good
    (``"higher"``, ``"lower"`` or ``None`` for a count) and its usual range."""

    meaning: str
    better: str | None
    range: str


#: every score kmeanskit writes (the summary's ``scores``, the k-selection curves):
#: the one registry the report and the figures read
SCORES = {
    "silhouette": ScoreInfo(
        "how much closer each item is to its own cluster than to the next one (mean)",
        "higher",
        "-1 to 1; above 0.5 clear clusters, 0.25 to 0.5 weak, below 0.25 little structure",
    ),
    "calinski_harabasz": ScoreInfo(
        "spread between the clusters over the spread within them, for the counts",
        "higher",
        "0 and up; compare between k on the same data only",
    ),
    "davies_bouldin": ScoreInfo(
        "how alike each cluster is to its most alike neighbour (mean)",
        "lower",
        "0 and up; below 1 is good",
    ),
    "elbow": ScoreInfo(
        "inertia: the sum of squared distances to the centres; the bend is chosen",
        "lower",
        "falls as k grows; look for the bend, not the lowest",
    ),
    "inertia": ScoreInfo(
        "the sum of squared distances of the items to their centres",
        "lower",
        "0 and up; falls as k grows",
    ),
    "gap": ScoreInfo(
        "how much tighter the clusters are than those of uniform random data",
        "higher",
        "the smallest k within one error of the next k's gap is chosen",
    ),
    "bic": ScoreInfo(
        "fit of spherical Gaussians around the centres, less a penalty per parameter",
        "higher",
        "compare between k on the same data only",
    ),
    "accuracy": ScoreInfo(
        "share of items whose cluster stands for their label (clusters and labels paired "
        "one to one)",
        "higher",
        "0 to 1",
    ),
    "purity": ScoreInfo(
        "share of items in their cluster's majority label",
        "higher",
        "0 to 1; rises with k (1 with one cluster per item)",
    ),
    "ari": ScoreInfo(
        "adjusted Rand index: pairs of items put together or apart as the labels do",
        "higher",
        "-0.5 to 1; 0 is chance, 1 the labels exactly",
    ),
    "ami": ScoreInfo(
        "adjusted mutual information between clusters and labels",
        "higher",
        "0 to 1; 0 is chance",
    ),
    "nmi": ScoreInfo(
        "normalized mutual information between clusters and labels",
        "higher",
        "0 to 1",
    ),
    "homogeneity": ScoreInfo("each cluster holds items of one label only", "higher", "0 to 1"),
    "completeness": ScoreInfo("the items of each label sit in one cluster", "higher", "0 to 1"),
    "v_measure": ScoreInfo(
        "the mean of homogeneity and completeness (harmonic; equals NMI)",
        "higher",
        "0 to 1",
    ),
    "n_classes": ScoreInfo("labels among the items", None, "a count"),
    "n_clusters": ScoreInfo("clusters that hold items", None, "a count"),
}


def describe_score(name: str) -> str:
    """One line on the score ``name``: its meaning, the good direction and its range
    (an empty string for a name kmeanskit does not write).

    Examples
    --------
    >>> describe_score("davies_bouldin")  # doctest: +NORMALIZE_WHITESPACE
    'how alike each cluster is to its most alike neighbour (mean); lower is better;
     0 and up; below 1 is good'
    """
    info = SCORES.get(name)
    if info is None:
        return ""
    better = f"; {info.better} is better" if info.better else ""
    return f"{info.meaning}{better}; {info.range}"


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
