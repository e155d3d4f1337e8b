"""ClusterSearch: any clusterer, internal scores, degenerate candidates."""

import numpy as np
import pytest
from sklearn.cluster import DBSCAN, AgglomerativeClustering
from sklearn.datasets import make_blobs
from sklearn.metrics import davies_bouldin_score, silhouette_score

from kmeanskit import KMeans
from kmeanskit.search import ClusterSearch


@pytest.fixture(scope="module")
def data():
    X, _ = make_blobs(400, centers=4, cluster_std=0.7, random_state=2)
    return X


def test_kmeans_grid_picks_the_true_k(data):
    search = ClusterSearch(KMeans(random_state=0), {"n_clusters": [2, 3, 4, 5, 6]}).fit(data)
    assert search.best_params_ == {"n_clusters": 4}
    labels = KMeans(4, random_state=0).fit_predict(data)
    assert search.best_score_ == pytest.approx(silhouette_score(data, labels))
    assert (search.predict(data) == search.labels_).all()
    assert search.results_["status"] == ["ok"] * 5


def test_davies_bouldin_is_minimised(data):
    search = ClusterSearch(
        AgglomerativeClustering(), {"n_clusters": [2, 4, 8]}, scoring="davies_bouldin"
    ).fit(data)
    scores = search.results_["score"]
    assert search.best_score_ == min(scores)
    labels = AgglomerativeClustering(n_clusters=search.best_params_["n_clusters"]).fit_predict(data)
    assert search.best_score_ == davies_bouldin_score(data, labels)
    with pytest.raises(AttributeError, match="no predict"):
        search.predict(data)


def test_degenerate_and_failing_candidates_get_a_status(data):
    grid = {"eps": [1e-6, 0.8, 1e6], "min_samples": [5]}
    search = ClusterSearch(DBSCAN(), grid).fit(data)
    status = search.results_["status"]
    assert status[0] == "degenerate: 1 cluster"  # all noise
    assert status[2] == "degenerate: 1 cluster"  # one cluster
    assert status[1] == "ok" and search.best_index_ == 1
    assert np.isnan(search.results_["score"][0])
    bad = ClusterSearch(KMeans(), {"n_clusters": [0, 3]}).fit(data)
    assert bad.results_["status"][0].startswith("error: InvalidParameterError")
    assert bad.best_params_ == {"n_clusters": 3}


def test_nothing_scorable_is_a_clear_error(data):
    with pytest.raises(ValueError, match="no candidate could be scored"):
        ClusterSearch(KMeans(), {"n_clusters": [1]}).fit(data)
    with pytest.raises(ValueError, match="scoring must be one of"):
        ClusterSearch(KMeans(), {"n_clusters": [2]}, scoring="accuracy").fit(data)


def test_callable_scoring(data):
    search = ClusterSearch(
        KMeans(random_state=0), {"n_clusters": [2, 3]}, scoring=lambda X, labels: -len(set(labels))
    ).fit(data)
    assert search.best_params_ == {"n_clusters": 2}
