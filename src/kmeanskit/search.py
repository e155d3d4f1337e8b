"""Hyper-parameter search for clusterers without cross-validation.

Clustering has no held-out labels to score, so every candidate is fitted on all the
data and scored with an internal index (scikit-learn's silhouette, Calinski-Harabasz or
Davies-Bouldin, or any ``score(X, labels)``). Works with any scikit-learn clusterer.
"""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import ParameterGrid
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from .choose_k import INTERNAL_SCORES

__all__ = ["ClusterSearch"]

logger = logging.getLogger(__name__)

#: name -> (score(X, labels, random_state, max_samples), greater is better): the
#: internal indices of :mod:`kmeanskit.choose_k`
SCORERS = INTERNAL_SCORES


def _labels_of(estimator, X) -> np.ndarray:
    if hasattr(estimator, "fit_predict"):
        return np.asarray(estimator.fit_predict(X))
    return np.asarray(estimator.fit(X).labels_)


class ClusterSearch(BaseEstimator):
    """Fit every parameter combination on all the data; keep the best internal score.

    Parameters
    ----------
    estimator : scikit-learn clusterer
        Anything with ``fit_predict`` or ``fit`` and ``labels_``.
    param_grid : dict or list of dicts
        As for :class:`sklearn.model_selection.ParameterGrid`.
    scoring : {'silhouette', 'calinski_harabasz', 'davies_bouldin'} or callable, \
default='silhouette'
        A callable is called as ``scoring(X, labels)`` and must be greater-is-better.
        Davies-Bouldin is smaller-is-better and ranked so.
    silhouette_max_samples : int, default=5000
        Above this many rows the silhouette is computed on a random sample of this size.
    random_state : int, RandomState instance or None
        For the silhouette's sample.

    Attributes
    ----------
    results_ : dict of lists
        ``params``, ``score``, ``n_clusters``, ``status`` (``'ok'`` or why the candidate
        could not be scored: one cluster, every point alone, or the error it raised) and
        ``fit_time``, one entry per candidate.
    best_index_, best_params_, best_score_ : the winner
    best_estimator_ : the winning estimator, fitted on all the data
    labels_ : its labels

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> from kmeanskit import KMeans
    >>> X, _ = make_blobs(300, centers=3, random_state=0)
    >>> search = ClusterSearch(KMeans(random_state=0), {"n_clusters": [1, 2, 3, 4]}).fit(X)
    >>> search.best_params_, search.results_["status"][0]
    ({'n_clusters': 3}, 'degenerate: 1 cluster')
    """

    def __init__(
        self,
        estimator,
        param_grid,
        scoring="silhouette",
        *,
        silhouette_max_samples=5000,
        random_state=None,
    ):
        self.estimator = estimator
        self.param_grid = param_grid
        self.scoring = scoring
        self.silhouette_max_samples = silhouette_max_samples
        self.random_state = random_state

    def _scorer(self):
        if callable(self.scoring):
            return (lambda X, labels, rs, m: self.scoring(X, labels)), True
        if self.scoring not in SCORERS:
            raise ValueError(
                f"scoring must be one of {sorted(SCORERS)} or a callable; got {self.scoring!r}"
            )
        return SCORERS[self.scoring]

    def fit(self, X, y=None):
        """Fit and score every candidate on ``X``."""
        score, greater_is_better = self._scorer()
        X = check_array(X, accept_sparse="csr", input_name="X")
        rs = check_random_state(self.random_state)
        results = {"params": [], "score": [], "n_clusters": [], "status": [], "fit_time": []}
        fitted = []
        for params in ParameterGrid(self.param_grid):
            est = clone(self.estimator).set_params(**params)
            start = time.perf_counter()
            value, n_clusters, status = np.nan, 0, "ok"
            try:
                labels = _labels_of(est, X)
            except Exception as exc:  # a candidate may be invalid: record it, go on
                status = f"error: {type(exc).__name__}: {exc}"
                labels = None
            if labels is not None:
                n_clusters = int(np.unique(labels).size)
                if n_clusters < 2:
                    status = "degenerate: 1 cluster"
                elif n_clusters >= X.shape[0]:
                    status = "degenerate: every point is its own cluster"
                else:
                    value = float(score(X, labels, rs, self.silhouette_max_samples))
            logger.info("%s: %s (%s)", params, value, status)
            results["params"].append(params)
            results["score"].append(value)
            results["n_clusters"].append(n_clusters)
            results["status"].append(status)
            results["fit_time"].append(time.perf_counter() - start)
            fitted.append((est, labels))
        scores = np.array(results["score"], dtype=np.float64)
        if np.isnan(scores).all():
            raise ValueError(
                "no candidate could be scored: "
                + "; ".join(
                    f"{p}: {s}" for p, s in zip(results["params"], results["status"], strict=True)
                )
            )
        best = int(np.nanargmax(scores) if greater_is_better else np.nanargmin(scores))
        self.results_ = results
        self.best_index_ = best
        self.best_params_ = results["params"][best]
        self.best_score_ = float(scores[best])
        self.best_estimator_, self.labels_ = fitted[best]
        return self

    def fit_predict(self, X, y=None):
        """Fit, then return the best candidate's labels."""
        return self.fit(X).labels_

    def predict(self, X):
        """The best estimator's ``predict`` (for clusterers that have one)."""
        check_is_fitted(self, "best_estimator_")
        if not hasattr(self.best_estimator_, "predict"):
            raise AttributeError(
                f"{type(self.best_estimator_).__name__} cannot label new data (no predict)"
            )
        return self.best_estimator_.predict(X)
