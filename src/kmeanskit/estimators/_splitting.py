"""The loop shared by X-means and G-means: grow k by splitting clusters that fail a test.

Every round, each cluster with enough points is split in two along its principal axis
(children at ``c +- v sqrt(2 lambda / pi)``, then 2-means on the cluster's points, as
G-means does), the subclass's test scores the split and says whether it passes, and the
passing splits, strongest first, start a k-means on all the data.

The papers split every passing cluster at once. We split ``splits_per_round`` (default
one) per round: after many simultaneous splits the global k-means often settles with
two centres in one true cluster and one centre over two, and the halves of a Gaussian
fail the normality test, so G-means then keeps splitting (measured on Fränti's a1: 25
clusters with every split at once, 20 one at a time). A cluster's test is cached while
its members stay the same, so a round costs one 2-means per changed cluster.
"""

from __future__ import annotations

import typing
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _engine
from ._transform import TRANSFORM_MODES, from_sqdist
from ._validation import N_THREADS, check_sample_weight, check_values
from .kmeans import KMeans

#: clusters with fewer points are never split
MIN_SPLIT_SIZE = 8


def principal_axis(Xc: np.ndarray, w: np.ndarray, random_state, n_iter: int = 20):
    """Unit principal axis and its variance of centred rows ``Xc`` (power iteration)."""
    v = random_state.normal(size=Xc.shape[1])
    v /= np.linalg.norm(v)
    for _ in range(n_iter):
        u = Xc.T @ (w * (Xc @ v))
        norm = np.linalg.norm(u)
        if norm == 0:
            return v, 0.0
        v = u / norm
    proj = Xc @ v
    return v, float((w * proj**2).sum() / w.sum())


class SplittingKMeans(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Base of the estimators that choose k by splitting; see XMeans and GMeans."""

    _parameter_constraints: typing.ClassVar[dict] = {
        "k_min": [Interval(Integral, 1, None, closed="left")],
        "k_max": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "algorithm": [StrOptions(set(_engine.DRIVERS) | {"elkan"})],
        "random_state": ["random_state"],
        "splits_per_round": [Interval(Integral, 1, None, closed="left"), None],
        "n_threads": N_THREADS,
        "transform_mode": [StrOptions(set(TRANSFORM_MODES))],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        k_min=1,
        k_max=50,
        *,
        splits_per_round=1,
        max_iter=300,
        tol=1e-4,
        algorithm="auto",
        random_state=None,
        n_threads=None,
        transform_mode="distance",
        temperature=None,
    ):
        self.k_min = k_min
        self.k_max = k_max
        self.splits_per_round = splits_per_round
        self.max_iter = max_iter
        self.tol = tol
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_threads = n_threads
        self.transform_mode = transform_mode
        self.temperature = temperature

    # -- the subclass's part ---------------------------------------------------
    def _split_score(self, X, w, center, children, labels) -> tuple[float, bool]:
        """How strongly the cluster ``X`` (centre ``center``) should become ``children``
        (``labels``: which child each row went to), and whether the test accepts it."""
        raise NotImplementedError

    #: whether rounds in which no split passes make the best-scoring splits anyway, as
    #: long as no split has passed yet (X-means: see its docstring)
    _split_until_a_test_passes = False

    def _test(self, X, w, center):
        """``(score, accepted, children)`` for splitting cluster ``X``, or None when it
        cannot be split."""
        split = self._split(X, w, center)
        if split is None:
            return None
        score, accepted = self._split_score(X, w, center, *split)
        return score, accepted, split[0]

    def _check_params(self):
        """Checks beyond the parameter constraints (run first in ``fit``)."""

    def _choose(self, models: list[KMeans], X, w) -> KMeans:
        """The model to keep among those of every round (default: the last)."""
        return models[-1]

    # -- the loop ----------------------------------------------------------------
    def _kmeans(self, k, init, n_init=1):
        return KMeans(
            n_clusters=k,
            init=init,
            n_init=n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            algorithm=self.algorithm,
            random_state=self._rs,
            n_threads=self.n_threads,
        )

    def _split(self, X, w, center):
        v, var = principal_axis(X - center, w, self._rs)
        step = v * np.sqrt(2.0 * var / np.pi)
        if not np.any(step):
            return None
        km = self._kmeans(2, np.vstack([center + step, center - step])).fit(X, sample_weight=w)
        if np.bincount(km.labels_, minlength=2).min() == 0:
            return None
        return km.cluster_centers_, km.labels_

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Grow k from ``k_min`` by accepted splits until none is accepted or
        ``k_max`` is reached.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional
        """
        self._check_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        X = check_values(X, fit=True)
        if self.k_min > self.k_max:
            raise ValueError(f"k_min={self.k_min} must not exceed k_max={self.k_max}")
        if X.shape[0] < self.k_min:
            raise ValueError(f"n_samples={X.shape[0]} should be >= k_min={self.k_min}.")
        w = check_sample_weight(sample_weight, X)
        self._rs = check_random_state(self.random_state)
        k_max = min(self.k_max, X.shape[0])
        model = self._kmeans(self.k_min, "k-means++", n_init=3).fit(X, sample_weight=w)
        models = [model]
        per_round = k_max if self.splits_per_round is None else self.splits_per_round
        cache: dict = {}  # a cluster's members -> its test, while they stay the same
        passed = False  # whether any split has passed its test yet
        while model.n_clusters < k_max:
            centers, labels = model.cluster_centers_, model.labels_
            tests = []  # (score, accepted, cluster, children)
            for j in range(centers.shape[0]):
                members = np.flatnonzero(labels == j)
                if members.size < MIN_SPLIT_SIZE:
                    continue
                key = hash(members.tobytes())
                if key not in cache:
                    cache[key] = self._test(X[members], w[members], centers[j])
                if cache[key] is not None:
                    tests.append((*cache[key][:2], j, cache[key][2]))
            chosen = [t for t in tests if t[1]]
            if chosen:
                passed = True
            elif self._split_until_a_test_passes and not passed:
                chosen = tests  # no split has passed yet: take the least bad (X-means)
            if not chosen:
                break
            chosen.sort(key=lambda t: -t[0])
            chosen = chosen[: min(k_max - centers.shape[0], per_round)]
            split_ids = {t[2] for t in chosen}
            kept = [centers[j] for j in range(centers.shape[0]) if j not in split_ids]
            start = np.vstack(kept + [t[3] for t in chosen])
            model = self._kmeans(start.shape[0], start).fit(X, sample_weight=w)
            models.append(model)
        best = self._choose(models, X, w)
        self.kmeans_ = best
        self.cluster_centers_ = best.cluster_centers_
        self.labels_ = best.labels_
        self.inertia_ = best.inertia_
        self.n_clusters_ = best.n_clusters
        self.n_iter_ = best.n_iter_
        self.n_rounds_ = len(models)
        self.k_history_ = np.array([m.n_clusters for m in models])
        self._n_features_out = self.n_clusters_
        del self._rs
        return self

    # -- use ---------------------------------------------------------------------
    def _check(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], order="C")
        return check_values(X)

    def predict(self, X):
        """The index of the nearest centre of each sample."""
        X = self._check(X)
        return self.kmeans_.predict(X)

    def transform(self, X):
        """Features against every centre: Euclidean distances by default, or as
        ``transform_mode`` says (see :class:`~kmeanskit.KMeans`)."""
        X = self._check(X)
        t = self.kmeans_.temperature_ if self.temperature is None else self.temperature
        return from_sqdist(self.kmeans_._sqdist(X), self.transform_mode, t)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted sum of squared distances to the nearest centres."""
        X = self._check(X)
        return self.kmeans_.score(X, sample_weight=sample_weight)
