"""KMedoids: swap-local optima by brute force, PAM against FasterPAM, metrics, CLARA."""

import re

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import pairwise_distances

from kmeanskit import KMedoids
from kmeanskit._engine import kmedoids as engine


def small_sets(count=30):
    for seed in range(count):
        rng = np.random.RandomState(seed)
        X = rng.randn(25 + seed % 10, 2) * rng.uniform(0.5, 3, 2)
        yield X, 2 + seed % 4, seed


def no_swap_improves(D, medoids) -> bool:
    best = engine.loss(D, medoids)
    for i in range(len(medoids)):
        for x in range(D.shape[0]):
            if x in medoids:
                continue
            trial = np.array(medoids)
            trial[i] = x
            if engine.loss(D, trial) < best - 1e-9:
                return False
    return True


@pytest.mark.parametrize("method", ["fasterpam", "pam"])
def test_swap_local_optimum_by_brute_force(method):
    for X, k, seed in small_sets():
        km = KMedoids(k, method=method, random_state=seed).fit(X)
        D = pairwise_distances(X)
        assert no_swap_improves(D, km.medoid_indices_), seed
        assert km.inertia_ == pytest.approx(engine.loss(D, km.medoid_indices_))
        assert (km.labels_ == D[:, km.medoid_indices_].argmin(axis=1)).all()


def test_fasterpam_against_pam():
    """Both stop at swap-local optima; from the same BUILD start they reach the same
    loss on most small sets, and FasterPAM is no worse on average."""
    same, fast, slow = 0, [], []
    for X, k, _ in small_sets(40):
        D = pairwise_distances(X)
        start = engine.build(D, k)
        f = engine.loss(D, engine.fasterpam(D, start)[0])
        p = engine.loss(D, engine.pam(D, start)[0])
        same += abs(f - p) <= 1e-9 * p
        fast.append(f)
        slow.append(p)
    assert same >= 36  # measured: 37 of 40 (FasterPAM lower on 1, PAM on 2)
    assert np.mean(fast) <= np.mean(slow) * 1.005


def test_metrics_and_precomputed_agree():
    X, _ = make_blobs(300, centers=4, n_features=3, random_state=0)
    VI = np.linalg.inv(np.cov(X.T))
    for metric, params in [
        ("manhattan", None),
        ("cosine", None),
        ("correlation", None),
        ("mahalanobis", {"VI": VI}),
        (lambda a, b: np.abs(a - b).max(), None),
    ]:
        km = KMedoids(4, metric=metric, metric_params=params, init="build").fit(X)
        D = pairwise_distances(X, metric=metric, **(params or {}))
        pre = KMedoids(4, metric="precomputed", init="build").fit(D)
        assert (km.medoid_indices_ == pre.medoid_indices_).all()
        assert km.inertia_ == pytest.approx(pre.inertia_)
        np.testing.assert_array_equal(km.cluster_centers_, X[km.medoid_indices_])
        assert pre.cluster_centers_ is None
        # predict: features for the computed metric, distances for the precomputed one
        assert (km.predict(X[:20]) == pre.predict(D[:20])).all()
        assert (pre.predict(D[:20][:, pre.medoid_indices_]) == km.labels_[:20]).all()


def test_asymmetric_precomputed():
    rng = np.random.RandomState(0)
    D = rng.uniform(1, 10, (40, 40))
    np.fill_diagonal(D, 0)
    km = KMedoids(3, metric="precomputed", random_state=0).fit(D)
    assert no_swap_improves(D, km.medoid_indices_)


def test_alternate_and_clara():
    X, _ = make_blobs(3000, centers=6, n_features=4, random_state=1)
    full = KMedoids(6, random_state=0).fit(X)
    alt = KMedoids(6, method="alternate", init="build").fit(X)
    assert alt.inertia_ >= full.inertia_ * (1 - 1e-9) and alt.inertia_ <= full.inertia_ * 1.05
    clara = KMedoids(6, method="clara", sample_size=200, random_state=0).fit(X)
    assert clara.inertia_ <= full.inertia_ * 1.05
    assert clara.inertia_ == pytest.approx(
        pairwise_distances(X, X[clara.medoid_indices_]).min(axis=1).sum()
    )
    D = pairwise_distances(X)
    pre = KMedoids(6, metric="precomputed", method="clara", sample_size=200, random_state=0)
    assert (pre.fit(D).medoid_indices_ == clara.medoid_indices_).all()


@pytest.mark.parametrize(
    "kwargs, X, message",
    [
        ({"metric": "precomputed"}, np.zeros((4, 3)), "needs a square matrix; got shape (4, 3)"),
        ({"metric": "precomputed"}, -np.ones((4, 4)), "dissimilarities must be non-negative"),
        ({"init": [0, 0]}, np.arange(8.0).reshape(4, 2), "must be distinct and in [0, 4)"),
        ({"init": [0.5, 1]}, np.arange(8.0).reshape(4, 2), "init as medoid indices needs 2"),
        ({"n_clusters": 5}, np.arange(8.0).reshape(4, 2), "n_samples=4 should be >= n_clusters=5"),
    ],
)
def test_bad_input(kwargs, X, message):
    params = {"n_clusters": 2, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        KMedoids(**params).fit(X)


def test_precomputed_predict_shape():
    D = pairwise_distances(np.arange(10.0)[:, None])
    km = KMedoids(2, metric="precomputed", random_state=0).fit(D)
    with pytest.raises(ValueError, match=r"must have 10 columns .* or 2"):
        km.predict(np.zeros((3, 5)))
