"""External scores, the cluster-to-class mapper and the centroid index."""

import itertools

import numpy as np
import pytest
from sklearn import metrics as skm

from kmeanskit.metrics import (
    ClusterLabelMapper,
    centroid_index,
    cluster_accuracy,
    evaluate,
    purity,
)


def brute_force_accuracy(y_true, y_pred):
    """Best one-to-one mapping by trying every injection of clusters into classes
    (clusters beyond the classes map to nothing)."""
    classes = sorted(set(y_true))
    clusters = sorted(set(y_pred))
    slots = classes + [None] * max(0, len(clusters) - len(classes))
    best = 0
    for perm in itertools.permutations(slots, len(clusters)):
        mapping = dict(zip(clusters, perm, strict=True))
        best = max(best, sum(mapping[p] == t for t, p in zip(y_true, y_pred, strict=True)))
    return best / len(y_true)


@pytest.mark.parametrize("n_classes,n_clusters", [(3, 3), (4, 2), (2, 4), (3, 5)])
def test_accuracy_equals_brute_force(n_classes, n_clusters):
    rng = np.random.RandomState(n_classes * 10 + n_clusters)
    for _ in range(5):
        y_true = rng.randint(n_classes, size=40).tolist()
        y_pred = rng.randint(n_clusters, size=40).tolist()
        assert cluster_accuracy(y_true, y_pred) == pytest.approx(
            brute_force_accuracy(y_true, y_pred), abs=1e-12
        )


def test_evaluate_reproduces_sklearn_exactly():
    rng = np.random.RandomState(0)
    y_true = rng.choice(["cat", "dog", "owl"], size=200)
    y_pred = rng.randint(5, size=200)
    got = evaluate(y_true, y_pred)
    expected = {
        "ari": skm.adjusted_rand_score(y_true, y_pred),
        "ami": skm.adjusted_mutual_info_score(y_true, y_pred),
        "nmi": skm.normalized_mutual_info_score(y_true, y_pred),
        "homogeneity": skm.homogeneity_score(y_true, y_pred),
        "completeness": skm.completeness_score(y_true, y_pred),
        "v_measure": skm.v_measure_score(y_true, y_pred),
    }
    for name, value in expected.items():
        assert got[name] == value, name
    assert got["accuracy"] == cluster_accuracy(y_true, y_pred)
    assert got["n_classes"] == 3 and got["n_clusters"] == 5


def test_purity_by_hand():
    # clusters: {a, a, b} -> 2, {b, b} -> 2, {c} -> 1
    assert purity(list("aabbbc"), [0, 0, 0, 1, 1, 2]) == pytest.approx(5 / 6)
    assert purity([1, 2, 3], [0, 0, 0]) == pytest.approx(1 / 3)


def test_bad_label_arrays_are_named():
    with pytest.raises(ValueError, match="same length; got 3 and 2"):
        evaluate([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_pred must be one-dimensional"):
        purity([0, 1], [[0, 1]])
    with pytest.raises(ValueError, match="empty"):
        cluster_accuracy([], [])


def test_mapper_one_to_one_with_strings():
    clusters = [2, 2, 2, 0, 0, 1, 1, 1]
    classes = ["cat", "cat", "dog", "dog", "dog", "owl", "owl", "cat"]
    mapper = ClusterLabelMapper().fit(clusters, classes)
    assert mapper.mapping_ == {0: "dog", 1: "owl", 2: "cat"}
    assert mapper.predict([1, 0]).tolist() == ["owl", "dog"]
    assert mapper.score(clusters, classes) == pytest.approx(cluster_accuracy(classes, clusters))


def test_mapper_more_clusters_than_classes_is_many_to_one():
    clusters = [0, 0, 1, 1, 1, 2, 2, 3, 3]
    classes = [0, 0, 0, 0, 1, 1, 1, 1, 1]
    mapper = ClusterLabelMapper().fit(clusters, classes)
    assert mapper.mapping_ == {0: 0, 1: 0, 2: 1, 3: 1}
    hung = ClusterLabelMapper(mapping="hungarian").fit(clusters, classes)
    assert hung.mapping_ == mapper.mapping_  # the extra clusters take their majority
    assert mapper.score(clusters, classes) == pytest.approx(8 / 9)


def test_mapper_fewer_clusters_than_classes():
    mapper = ClusterLabelMapper().fit([0, 0, 1, 1, 1], ["a", "b", "c", "c", "b"])
    assert set(mapper.mapping_.values()) <= {"a", "b", "c"}
    assert mapper.mapping_[1] == "c"
    assert len(set(mapper.mapping_.values())) == 2  # one to one


def test_mapper_errors_are_clear():
    mapper = ClusterLabelMapper().fit([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match=r"cluster ids \[7\] were not seen in fit"):
        mapper.predict([0, 7])
    with pytest.raises(ValueError, match=r"classes \['z'\] were not seen in fit"):
        mapper.score([0, 1], ["a", "z"])
    with pytest.raises(ValueError, match="mapping must be"):
        ClusterLabelMapper(mapping="best").fit([0], ["a"])


def test_centroid_index_by_hand():
    truth = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
    assert centroid_index(truth + 0.1, truth) == 0
    # two centres in one true cluster, none in another: one cluster missed
    found = truth.copy()
    found[3] = [0.2, 0.1]
    assert centroid_index(found, truth) == 1
    # fewer centres than true clusters: the orphans of the true side count
    assert centroid_index(truth[:2], truth) == 2
    with pytest.raises(ValueError, match="features"):
        centroid_index(truth[:, :1], truth)


def test_centroid_index_on_sipu_ground_truth(shared_data):
    truth = np.loadtxt(shared_data / "sipu" / "s1-gt.txt")
    assert centroid_index(truth, truth) == 0
    moved = truth.copy()
    moved[0] = truth[1] + 1.0
    assert centroid_index(moved, truth) == 1
