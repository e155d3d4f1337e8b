"""``kmeanskit.BisectingKMeans``: top-down 2-means splits, keeping the tree so that it
can be cut at any k without refitting."""

from __future__ import annotations

import typing
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import _engine
from ._transform import TRANSFORM_MODES, default_temperature
from ._validation import N_THREADS, check_n_samples, check_sample_weight
from .kmeans import KMeans

__all__ = ["BisectingKMeans", "Cut"]


@dataclass
class Cut:
    """The clustering at one k of a fitted :class:`BisectingKMeans`.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,)
        Cluster of each training sample.
    centers : ndarray of shape (k, n_features)
    inertia : float
        Weighted sum of squared distances of the training samples to their centres.
    nodes : ndarray of shape (k,)
        The tree node of each cluster.
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    nodes: np.ndarray


class BisectingKMeans(KMeans):
    """Bisecting k-means: start from one cluster and split one cluster in two by
    2-means until there are ``n_clusters``, keeping every split.

    As :class:`sklearn.cluster.BisectingKMeans` (the same strategies; 2-means on the
    kmeanskit engine), plus the tree: :meth:`cut` gives the clustering at any
    ``k <= n_clusters`` (labels, centres, inertia) from the fitted splits, and
    :meth:`predict` takes ``k`` too. Each sample goes down the tree to the nearer
    child at every split, so ``labels_`` equals ``predict`` on the training data.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'} or callable, default='random'
        Seeding of each 2-means split.
    n_init : int, default=1
        2-means runs per split; the lowest inertia is kept.
    max_iter, tol, algorithm, random_state, n_threads, verbose, transform_mode, temperature
        As in :class:`~kmeanskit.KMeans` (``max_iter`` and ``tol`` per split).
    bisecting_strategy : {'biggest_inertia', 'largest_cluster'}, default='biggest_inertia'
        Which cluster to split next: the one of largest sum of squared distances, or
        the one with the most points (as scikit-learn: counted, not weighted).

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, temperature_, n_features_in_, feature_names_in_
        As in :class:`~kmeanskit.KMeans`.
    tree_parent_ : ndarray of shape (n_nodes,)
        Parent of each node (-1 for the root, node 0). Node ``2 t + 1`` and ``2 t + 2``
        are the children made by split ``t``.
    tree_children_ : ndarray of shape (n_nodes, 2)
        Children of each node (-1 for leaves).
    tree_centers_ : ndarray of shape (n_nodes, n_features)
    tree_weight_ : ndarray of shape (n_nodes,)
        Weight (number of samples, unweighted) in each node.
    tree_inertia_ : ndarray of shape (n_nodes,)
        Sum of weighted squared distances of each node's samples to its centre.
    split_nodes_ : ndarray of shape (n_clusters - 1,)
        The node split at each step.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.5], [10.0], [10.5], [30.0], [30.5]])
    >>> bkm = BisectingKMeans(3, random_state=0).fit(X)
    >>> bkm.labels_.tolist()  # clusters numbered as their nodes were made
    [1, 1, 2, 2, 0, 0]
    >>> bkm.cut(2).labels.tolist()
    [0, 0, 0, 0, 1, 1]
    >>> bkm.predict([[9.0]], k=2).tolist(), bkm.predict([[9.0]]).tolist()
    ([0], [2])
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "algorithm": [StrOptions(set(_engine.DRIVERS) | {"elkan"})],
        "bisecting_strategy": [StrOptions({"biggest_inertia", "largest_cluster"})],
        "n_threads": N_THREADS,
        "transform_mode": [StrOptions(set(TRANSFORM_MODES))],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="random",
        n_init=1,
        max_iter=300,
        tol=1e-4,
        verbose=0,
        random_state=None,
        algorithm="auto",
        bisecting_strategy="biggest_inertia",
        n_threads=None,
        transform_mode="distance",
        temperature=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.algorithm = algorithm
        self.bisecting_strategy = bisecting_strategy
        self.n_threads = n_threads
        self.transform_mode = transform_mode
        self.temperature = temperature

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Split until there are ``n_clusters`` clusters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : BisectingKMeans
        """
        X = self._check_data(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        check_n_samples(X, k)
        w = check_sample_weight(sample_weight, X)
        rs = check_random_state(self.random_state)
        n_nodes = 2 * k - 1
        d = X.shape[1]
        parent = np.full(n_nodes, -1, dtype=np.intp)
        children = np.full((n_nodes, 2), -1, dtype=np.intp)
        centers = np.zeros((n_nodes, d), dtype=X.dtype)
        weight = np.zeros(n_nodes)
        inertia = np.zeros(n_nodes)
        members = {0: np.arange(n)}
        centers[0] = (
            (w @ X) / w.sum()
            if not hasattr(X, "toarray")
            else (np.asarray(X.T @ w).ravel() / w.sum())
        )
        weight[0] = float(w.sum())
        inertia[0] = _engine.assign(X, centers[:1], w, self.n_threads)[2]
        splits: list[int] = []
        stuck: set[int] = set()  # leaves whose 2-means left one side empty (duplicates)
        t = 0
        while t < k - 1:
            leaves = [j for j in members if members[j].size >= 2 and j not in stuck]
            if not leaves:
                raise ValueError(
                    f"cannot make {k} clusters: X has only {t + 1} distinct groups of rows"
                )
            if self.bisecting_strategy == "biggest_inertia":
                node = max(leaves, key=lambda j: (inertia[j], -j))
            else:  # the most points, as scikit-learn (not the most sample weight)
                node = max(leaves, key=lambda j: (members[j].size, -j))
            rows = members[node]
            km = KMeans(
                2,
                init=self.init,
                n_init=self.n_init,
                max_iter=self.max_iter,
                tol=self.tol,
                algorithm=self.algorithm,
                random_state=rs,
                n_threads=self.n_threads,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)  # duplicate rows
                km.fit(X[rows], sample_weight=w[rows])
            if np.bincount(km.labels_, minlength=2).min() == 0:
                stuck.add(node)
                continue
            del members[node]
            # children in a fixed order (by their centres' coordinates): reproducible ids
            first = 0 if tuple(km.cluster_centers_[0]) <= tuple(km.cluster_centers_[1]) else 1
            km.cluster_centers_ = km.cluster_centers_[[first, 1 - first]]
            km.labels_ = (km.labels_ != first).astype(np.int32)
            a, b = 2 * t + 1, 2 * t + 2
            children[node] = (a, b)
            for child, side in ((a, 0), (b, 1)):
                part = rows[km.labels_ == side]
                parent[child] = node
                centers[child] = km.cluster_centers_[side]
                members[child] = part
                weight[child] = float(w[part].sum())
                inertia[child] = _engine.assign(
                    X[part], km.cluster_centers_[side : side + 1], w[part], self.n_threads
                )[2]
            splits.append(node)
            t += 1
        self.tree_parent_, self.tree_children_ = parent, children
        self.tree_centers_, self.tree_weight_, self.tree_inertia_ = centers, weight, inertia
        self.split_nodes_ = np.array(splits, dtype=np.intp)
        self._leaf_of_sample = np.empty(n, dtype=np.intp)
        for leaf, rows in members.items():
            self._leaf_of_sample[rows] = leaf
        full = self.cut(k)
        self.cluster_centers_ = full.centers
        self.labels_ = full.labels
        self.inertia_ = full.inertia
        self.temperature_ = default_temperature(full.inertia, float(w.sum()))
        self._n_features_out = k
        return self

    def _descend(self, X, n_splits: int) -> np.ndarray:
        """The node each row reaches after the first ``n_splits`` splits."""
        node = np.zeros(X.shape[0], dtype=np.intp)
        for t in range(n_splits):
            s = self.split_nodes_[t]
            rows = np.flatnonzero(node == s)
            if rows.size == 0:
                continue
            pair = self.tree_children_[s]
            labels, _, _ = _engine.assign(X[rows], self.tree_centers_[pair], None, self.n_threads)
            node[rows] = pair[labels]
        return node

    def _leaves(self, k: int) -> np.ndarray:
        made = np.arange(2 * k - 1)
        split = set(self.split_nodes_[: k - 1].tolist())
        return np.array([j for j in made if j not in split], dtype=np.intp)

    def _check_k(self, k) -> int:
        if k is None:
            return self.n_clusters
        if not isinstance(k, Integral) or not 1 <= k <= self.n_clusters:
            raise ValueError(
                f"k must be an integer in [1, n_clusters={self.n_clusters}]; got {k!r}"
            )
        return int(k)

    def cut(self, k) -> Cut:
        """The clustering of the training data at ``k`` clusters: after the first
        ``k - 1`` splits. No refitting; clusters are numbered in the order their nodes
        were made.

        Parameters
        ----------
        k : int, 1 <= k <= n_clusters

        Returns
        -------
        Cut
        """
        check_is_fitted(self, "split_nodes_")
        k = self._check_k(k)
        leaves = self._leaves(k)
        alive = np.zeros(2 * self.n_clusters - 1, dtype=bool)
        alive[leaves] = True
        index = np.full(alive.size, -1, dtype=np.intp)
        index[leaves] = np.arange(k)
        ancestor = np.arange(alive.size)  # each node's ancestor that is a leaf at k
        for j in range(alive.size):
            a = j
            while a >= 0 and not alive[a]:
                a = self.tree_parent_[a]
            ancestor[j] = a
        labels = index[ancestor[self._leaf_of_sample]].astype(np.int32)
        inertia = float(self.tree_inertia_[leaves].sum())
        return Cut(labels, self.tree_centers_[leaves].copy(), inertia, leaves)

    def predict(self, X, k=None):
        """The cluster of each sample at ``k`` clusters (default ``n_clusters``), by
        going down the tree to the nearer child at each split.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        k : int, optional

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        X = self._check_data(X, reset=False)
        k = self._check_k(k)
        index = np.full(2 * self.n_clusters - 1, -1, dtype=np.intp)
        index[self._leaves(k)] = np.arange(k)
        return index[self._descend(X, k - 1)].astype(np.int32)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted squared distances of X to the centres of the
        clusters :meth:`predict` gives."""
        check_is_fitted(self)
        X = self._check_data(X, reset=False)
        w = check_sample_weight(sample_weight, X)
        labels = self.predict(X)
        sqdist = self._sqdist(X)[np.arange(X.shape[0]), labels]
        return -float(w @ sqdist)
