"""Choosing k: the sweep, the scores against their references, and the recommendation."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.cluster import KMeans as SkKMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from conftest import load_sipu
from kmeanskit import KMeans, choose_k, score_sweep, sweep
from kmeanskit._gap import gap_statistic, reference_data
from kmeanskit.choose_k import kneedle
from kmeanskit.estimators._bic import bic_score

SIPU_K = {"s1": 15, "s2": 15, "s3": 15, "s4": 15, "a1": 20, "a2": 35, "a3": 50, "unbalance": 8}


@pytest.fixture(scope="module")
def blobs5():
    X, _ = make_blobs(800, centers=5, n_features=3, cluster_std=0.6, random_state=3)
    return X


def test_sweep_fits_every_k_like_kmeans(blobs5):
    result = sweep(blobs5, [5, 2, 3], n_init=2, random_state=0, distances=True)
    assert result.k.tolist() == [2, 3, 5]
    for k, inertia in zip(result.k, result.inertia, strict=True):
        model = result.models[int(k)]
        assert model.cluster_centers_.shape == (k, 3)
        # each kept fit is a k-means fixed point: one more Lloyd run does not move it
        again = KMeans(int(k), init=model.cluster_centers_, n_init=1).fit(blobs5)
        assert again.inertia_ == pytest.approx(inertia, rel=1e-9)
        assert_allclose(result.distances[int(k)], model.transform(blobs5))
    assert result.transform(blobs5).shape == (800, 10)
    assert result.labels(5).shape == (800,)
    with pytest.raises(KeyError, match="k=4 was not in the sweep"):
        result.centers(4)


def test_sweep_is_repeatable_and_no_worse_than_fresh_fits(blobs5):
    a = sweep(blobs5, range(2, 8), random_state=1)
    b = sweep(blobs5, range(2, 8), random_state=1)
    assert_allclose(a.inertia, b.inertia)
    fresh = [SkKMeans(k, n_init=10, random_state=0).fit(blobs5).inertia_ for k in range(2, 8)]
    assert (a.inertia <= np.array(fresh) * 1.01).all()


def test_grow_keeps_the_old_centres():
    from kmeanskit.sweep import _grow

    X = np.random.RandomState(0).normal(size=(200, 4))
    start = X[:3].copy()
    grown = _grow(X, np.ones(200), start, 7, np.random.RandomState(0))
    assert grown.shape == (7, 4)
    assert_allclose(grown[:3], start)
    assert len({tuple(r) for r in grown.round(12)}) == 7


@pytest.mark.parametrize(
    "k, message",
    [
        ([], "non-empty sequence of integers"),
        ([0, 3], "between 1 and n_samples"),
        ([2.5], "integers"),
        ([2, 900], "between 1 and n_samples=800"),
    ],
)
def test_sweep_bad_k_names_it(blobs5, k, message):
    with pytest.raises(ValueError, match=message):
        sweep(blobs5, k)


def test_kneedle_by_hand():
    assert kneedle([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8]) == 3
    # a straight line has no knee beyond rounding: any k is as good; flat gives the first
    assert kneedle([1, 2, 3], [5, 5, 5]) == 1
    assert kneedle([2, 3], [10, 1]) == 3


def test_bic_by_hand():
    """The formula of the docstring, computed term by term on a tiny case."""
    X = np.array([[0.0], [1.0], [10.0], [12.0]])
    labels = np.array([0, 0, 1, 1])
    centers = np.array([[0.5], [11.0]])
    n, d, k = 4, 1, 2
    inertia = 0.25 * 2 + 1.0 * 2
    s2 = inertia / (d * (n - k))
    loglik = 2 * np.log(2 / 4) * 2 - n * d / 2 * np.log(2 * np.pi * s2) - d * (n - k) / 2
    expected = loglik - (k - 1 + k * d + 1) / 2 * np.log(n)
    assert bic_score(X, labels, centers) == pytest.approx(expected, rel=1e-12)
    assert bic_score(X, labels, X[[0, 2]] * 0 + centers) == pytest.approx(expected)


def test_internal_scores_equal_sklearn(blobs5):
    result = sweep(blobs5, [2, 4, 5], random_state=0)
    choice = score_sweep(
        blobs5, result, ("silhouette", "calinski_harabasz", "davies_bouldin"), random_state=0
    )
    for i, k in enumerate(result.k):
        labels = result.labels(int(k))
        assert choice.scores["silhouette"][i] == pytest.approx(silhouette_score(blobs5, labels))
        assert choice.scores["calinski_harabasz"][i] == calinski_harabasz_score(blobs5, labels)
        assert choice.scores["davies_bouldin"][i] == davies_bouldin_score(blobs5, labels)
    assert (choice.errors["silhouette"] == 0).all()  # exact: every row scored


def test_sampled_silhouette_states_its_error(blobs5):
    result = sweep(blobs5, [3, 5], random_state=0)
    choice = score_sweep(
        blobs5, result, ("silhouette",), silhouette_max_samples=300, random_state=0
    )
    exact = [silhouette_score(blobs5, result.labels(k)) for k in (3, 5)]
    err = choice.errors["silhouette"]
    assert (err > 0).all()
    assert (np.abs(choice.scores["silhouette"] - exact) < 4 * err).all()


def test_gap_statistic_follows_the_paper():
    """gap = mean log W* - log W; s = sd sqrt(1 + 1/B); both rules on a known curve."""
    X, _ = make_blobs(300, centers=3, cluster_std=0.4, random_state=0)
    result = sweep(X, range(1, 7), random_state=0)
    gap, s, k = gap_statistic(X, result, n_refs=4, random_state=5)
    rs = np.random.RandomState(5)
    ref = np.array(
        [
            np.log(sweep(reference_data(X, rs), range(1, 7), random_state=rs).inertia)
            for _ in range(4)
        ]
    )
    assert_allclose(gap, ref.mean(axis=0) - np.log(result.inertia))
    assert_allclose(s, ref.std(axis=0) * np.sqrt(1 + 1 / 4))
    assert k == 3
    assert gap_statistic(X, result, n_refs=4, rule="Tibs2001SEmax", random_state=5)[2] == 3
    with pytest.raises(ValueError, match="rule must be one of"):
        gap_statistic(X, result, rule="max")


def test_reference_data_stays_in_the_box():
    X = np.random.RandomState(0).normal(size=(400, 3)) * [1, 5, 0.1]
    Z = reference_data(X, np.random.RandomState(0), "box")
    assert (Z.min(axis=0) >= X.min(axis=0)).all() and (Z.max(axis=0) <= X.max(axis=0)).all()
    with pytest.raises(ValueError, match="reference must be"):
        reference_data(X, np.random.RandomState(0), "gauss")


@pytest.mark.parametrize("k_true", [3, 6, 9])
def test_blobs_with_known_k_are_exact(k_true):
    X, _ = make_blobs(
        150 * k_true,
        centers=k_true,
        n_features=4,
        cluster_std=0.5,
        center_box=(-20, 20),
        random_state=k_true,
    )
    choice = choose_k(X, range(2, 13), n_refs=3, random_state=0)
    assert choice.recommended == k_true, choice.explanation
    assert choice.explanation.startswith(f"k={k_true} chosen: ")


def test_unknown_method_is_named(blobs5):
    with pytest.raises(ValueError, match="methods must be a non-empty subset"):
        score_sweep(blobs5, sweep(blobs5, [2, 3]), ("elbow", "aic"))


def test_sipu_recommendation_matches_the_true_k(shared_data):
    """The acceptance case: k = 2..60 on the eight Fränti sets; at least 7 of 8 exact."""
    hits = {}
    for name, k_true in SIPU_K.items():
        X, _, _ = load_sipu(shared_data, name)
        choice = choose_k(X, range(2, 61), n_refs=3, silhouette_max_samples=1500, random_state=0)
        hits[name] = (choice.recommended, k_true)
    assert sum(got == want for got, want in hits.values()) >= 7, hits


def test_methods_at_the_top_of_the_range_do_not_vote():
    """On well-separated embeddings Calinski-Harabasz, BIC and the gap grow with k: their
    best is the top of the range, which says "no optimum inside it", not "k = top"."""
    from kmeanskit.choose_k import _vote

    ks = np.arange(2, 51)
    best = dict(elbow=17, silhouette=19, davies_bouldin=19, calinski_harabasz=50, gap=50, bic=50)
    k, text = _vote(best, ks, None)
    assert k == 19 and text.startswith(
        "k=19 chosen: silhouette and Davies-Bouldin agree (2 of 6 methods); the elbow prefers 17."
    )
    assert (
        "Calinski-Harabasz, the gap statistic and BIC are best at the top of the range (k=50)"
        in text
    )
    assert "Warning" not in text
    # every method at the top: that is the answer, with a warning and a suggestion
    k, text = _vote({"elbow": 50, "bic": 50}, ks, None)
    assert k == 50 and "Warning: k=50 is the top of the range" in text and "k='50:100'" in text
    # a short range is taken as it is
    assert _vote({"bic": 4, "elbow": 4, "silhouette": 3}, np.arange(2, 5), None)[0] == 4


def test_the_auto_range_grows_with_the_rows():
    from kmeanskit.choose_k import AUTO_MAX, auto_ks, parse_k

    assert parse_k("auto", 500) == list(range(2, 51))
    big = auto_ks(7200)  # 100 objects of 72 views: the answer lies inside the range
    assert (
        big[:49] == list(range(2, 51))
        and big[-1] == 180
        and 95 <= min(big[49:], key=lambda k: abs(k - 100)) <= 105
    )
    steps = np.diff(big[48:]) / np.array(big[48:-1])
    assert steps.max() <= 0.08 and len(big) < 80  # 6 %, rounded up
    assert auto_ks(10**6)[-1] == AUTO_MAX
