"""runs/quality.py: per-cluster silhouette, neighbour, majority and purity, against a
plain numpy / scikit-learn reference."""

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import silhouette_samples

from kmeanskit.runs.quality import cluster_quality


def _reference(X, labels, k):
    """Per cluster: mean silhouette (sklearn) and the other cluster most members are
    nearest to (mean distances, plain numpy)."""
    s = silhouette_samples(X, labels)
    d = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    out = []
    for j in range(k):
        mine = labels == j
        if not mine.any():
            out.append((None, None))
            continue
        means = np.full((mine.sum(), k), np.inf)
        for c in range(k):
            if c != j and (labels == c).any():
                means[:, c] = d[mine][:, labels == c].mean(axis=1)
        nearest = Counter(means.argmin(axis=1)).most_common()
        best = max(n for _, n in nearest)
        out.append((s[mine].mean(), min(c for c, n in nearest if n == best)))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouette_and_neighbour_match_the_reference(seed):
    rng = np.random.RandomState(seed)
    X = np.concatenate([rng.normal(c, 1.0, (40, 3)) for c in (0, 3, 6, 9)])
    labels = rng.randint(0, 5, len(X))
    labels[labels == 2] = 1  # cluster 2 empty
    labels[7] = 4 if (labels == 4).sum() == 0 else labels[7]
    q = cluster_quality(X, labels, 5, sample=None)
    for j, (sil, near) in enumerate(_reference(X, labels, 5)):
        assert q[j]["cluster"] == j and q[j]["size"] == int((labels == j).sum())
        if sil is None:
            assert q[j]["silhouette"] is None and q[j]["neighbour"] is None
        else:
            assert q[j]["silhouette"] == pytest.approx(sil, abs=1e-4)
            assert q[j]["neighbour"] == near


def test_majority_and_purity():
    X = np.arange(10.0)[:, None]
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    true = ["a", "a", "b", "a", "c", "b", "b", "x", "y", "z"]
    q = cluster_quality(X, labels, 3, true_labels=true)
    assert [(c["majority"], c["majority_count"], c["purity"]) for c in q] == [
        ("a", 3, 0.75),
        ("b", 2, 0.6667),
        ("x", 1, 0.3333),  # a tie: the smallest name
    ]


def test_a_singleton_scores_zero_and_one_cluster_has_no_silhouette():
    X = np.array([[0.0], [0.1], [5.0]])
    q = cluster_quality(X, [0, 0, 1], 2)
    assert q[1]["silhouette"] == 0.0 and q[1]["size"] == 1
    q = cluster_quality(X, [0, 0, 0], 1)
    assert q[0]["silhouette"] is None and q[0]["size"] == 3


def test_the_sample_is_stratified_and_close_to_the_full_score():
    rng = np.random.RandomState(0)
    centres = rng.normal(0, 4, (20, 8))
    labels = np.repeat(np.arange(20), [400] + [100] * 19)
    X = centres[labels] + rng.normal(0, 1.0, (len(labels), 8))
    full = cluster_quality(X, labels, 20, sample=None)
    part = cluster_quality(X, labels, 20, sample=600, random_state=3)
    assert all(c["sampled"] == 30 for c in part)  # 600 // 20 of each cluster
    assert part == cluster_quality(X, labels, 20, sample=600, random_state=3)  # seeded
    for f, p in zip(full, part, strict=True):
        assert p["silhouette"] == pytest.approx(f["silhouette"], abs=0.08)
        assert p["size"] == f["size"]


def test_a_memory_mapped_array_is_read_in_its_sampled_rows(tmp_path):
    rng = np.random.RandomState(1)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    labels = rng.randint(0, 3, 300)
    np.save(tmp_path / "f.npy", X)
    mapped = np.load(tmp_path / "f.npy", mmap_mode="r")
    assert cluster_quality(mapped, labels, 3, sample=90) == cluster_quality(X, labels, 3, sample=90)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="range"):
        cluster_quality(np.zeros((2, 1)), [0, 2], 2)
    with pytest.raises(ValueError, match="disagree"):
        cluster_quality(np.zeros((2, 1)), [0], 2)
