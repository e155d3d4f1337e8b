"""Scores of a clustering against known classes."""

from __future__ import annotations

from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    normalized_mutual_info_score,
    v_measure_score,
)
from sklearn.metrics.cluster import contingency_matrix

__all__ = ["cluster_accuracy", "external_scores"]


def cluster_accuracy(y_true, y_pred) -> float:
    """Accuracy after mapping clusters to classes one to one (Hungarian method).

    Examples
    --------
    >>> cluster_accuracy([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    """
    table = contingency_matrix(y_true, y_pred)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / table.sum())


def external_scores(y_true, y_pred) -> dict[str, float]:
    """ACC, NMI, ARI and v-measure of ``y_pred`` against ``y_true``.

    Examples
    --------
    >>> external_scores([0, 0, 1, 1], [1, 1, 0, 0])["ari"]
    1.0
    """
    return {
        "acc": cluster_accuracy(y_true, y_pred),
        "nmi": float(normalized_mutual_info_score(y_true, y_pred)),
        "ari": float(adjusted_rand_score(y_true, y_pred)),
        "v_measure": float(v_measure_score(y_true, y_pred)),
    }
