"""Stable cluster ids: canonical order and alignment to a reference."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs

from kmeanskit import KMeans, align_clusters, canonical_order, permute_clusters


def test_size_order_breaks_ties_by_coordinates():
    centers = np.array([[3.0, 0.0], [1.0, 5.0], [1.0, 2.0]])
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    # cluster 2 is largest; clusters 0 and 1 tie on size, 1 has the smaller first coordinate
    assert_array_equal(canonical_order(centers, labels), [2, 1, 0])
    assert_array_equal(canonical_order(centers, labels, by="coordinates"), [2, 1, 0])


def test_size_order_uses_weights():
    order = canonical_order([[0.0], [1.0]], [0, 1, 1], sample_weight=[5.0, 1.0, 1.0])
    assert_array_equal(order, [0, 1])


def test_unknown_order_is_refused():
    message = "by must be one of ('size', 'coordinates'); got 'x'"
    with pytest.raises(ValueError, match=re.escape(message)):
        canonical_order([[0.0]], [0], by="x")


def test_permute_keeps_membership():
    centers = np.array([[0.0], [10.0], [20.0]])
    labels = np.array([2, 0, 1, 2])
    new_centers, new_labels = permute_clusters([2, 0, 1], centers, labels)
    assert_allclose(new_centers[new_labels], centers[labels])


def test_align_renumbers_a_new_run_like_the_reference():
    X, _ = make_blobs(600, centers=5, cluster_std=0.3, center_box=(-20, 20), random_state=1)
    ref = KMeans(5, random_state=0).fit(X)
    new = KMeans(5, random_state=11).fit(X)
    assert not np.array_equal(new.labels_, ref.labels_)  # seeds gave other ids
    centers, labels, order = align_clusters(new.cluster_centers_, ref.cluster_centers_, new.labels_)
    assert_array_equal(labels, ref.labels_)
    assert_allclose(centers, ref.cluster_centers_)
    assert_array_equal(np.sort(order), np.arange(5))


@pytest.mark.parametrize(
    "k_new, expected",
    [
        # 31 matches reference id 3, which does not exist among 3 ids: it takes the free 1
        (3, [-1.0, 31.0, 19.0]),
        # four matched; 50 and 100 take the free ids 4 and 5 in their old order
        (6, [-1.0, 11.0, 19.0, 31.0, 50.0, 100.0]),
    ],
)
def test_align_with_another_number_of_clusters(k_new, expected):
    ref = np.array([[0.0], [10.0], [20.0], [30.0]])
    new = np.array([[31.0], [-1.0], [19.0], [50.0], [11.0], [100.0]])[:k_new]
    centers, _, order = align_clusters(new, ref)
    assert_array_equal(np.sort(order), np.arange(k_new))
    assert_allclose(centers.ravel(), expected)


def test_align_refuses_mismatched_features():
    with pytest.raises(ValueError, match=re.escape("got shapes (2, 2) and (2, 3)")):
        align_clusters(np.zeros((2, 2)), np.zeros((2, 3)))
