"""``kmeanskit.KMeansConstrained``: k-means with bounds on the cluster sizes, or with
capacities for weighted demands (cluster first, route second)."""

from __future__ import annotations

import typing
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.metrics import euclidean_distances
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _engine
from .._engine.constrained import assign_bounded, assign_demands
from ._transform import TRANSFORM_MODES, default_temperature
from ._validation import (
    N_THREADS,
    check_init_array,
    check_n_samples,
    check_sample_weight,
    check_values,
    warn_if_few_clusters,
)
from .kmeans import KMeans

__all__ = ["KMeansConstrained"]


def _bounds(value, k: int, name: str, default) -> np.ndarray:
    if value is None:
        return np.full(k, default, dtype=np.float64)
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(k, float(arr))
    if arr.shape != (k,) or not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(
            f"{name} must be a non-negative number or one per cluster ({k}); got {value!r:.80}"
        )
    return arr


class KMeansConstrained(KMeans):
    """k-means where every cluster's size stays within bounds.

    Lloyd's alternation, with an assignment step that solves the size-bounded
    transportation problem exactly (:func:`~kmeanskit._engine.constrained.assign_bounded`:
    min-cost flow by negative-cycle cancelling on the k-node graph of cluster-to-cluster
    moves; no LP solver, no OR-Tools), warm-started from the previous assignment. Every
    bound holds exactly on every result.

    With ``sample_weight``, the weights are demands and the bounds capacities in demand
    units (``size_min <= sum of the demands in a cluster <= size_max``), the routing
    case. That problem is NP-hard: the assignment is then a heuristic (regret-ordered
    greedy filling, then improving moves and exchanges within the capacities), and
    ``size_min`` is not supported with weights.

    Parameters
    ----------
    n_clusters : int, default=8
    size_min, size_max : int, float, array-like of shape (n_clusters,) or None
        Bounds on each cluster's size (or demand); None: 0 and unbounded.
    init, n_init, max_iter, tol, random_state, n_threads, transform_mode, temperature
        As in :class:`~kmeanskit.KMeans` (``n_init='auto'`` gives 3 runs here).

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_iter_, temperature_
        As in :class:`~kmeanskit.KMeans`.
    exact_ : bool
        Whether every assignment step was solved to optimality (always for unweighted
        samples unless a safety limit ran out; False with demands).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [0.3], [10.0], [10.1]])
    >>> km = KMeansConstrained(2, size_min=3, random_state=0).fit(X)
    >>> sorted(np.bincount(km.labels_).tolist())
    [3, 3]
    >>> bool(km.labels_[3] == km.labels_[0])  # 0.3 fills the far cluster up to 3
    False
    >>> bool(km.predict([[0.3]])[0] == km.labels_[0])  # predict: the nearest centre
    True
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "size_min": [Interval(Real, 0, None, closed="left"), "array-like", None],
        "size_max": [Interval(Real, 0, None, closed="left"), "array-like", None],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "n_threads": N_THREADS,
        "transform_mode": [StrOptions(set(TRANSFORM_MODES))],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        size_min=None,
        size_max=None,
        init="k-means++",
        n_init="auto",
        max_iter=300,
        tol=1e-4,
        random_state=None,
        n_threads=None,
        transform_mode="distance",
        temperature=None,
    ):
        self.n_clusters = n_clusters
        self.size_min = size_min
        self.size_max = size_max
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_threads = n_threads
        self.transform_mode = transform_mode
        self.temperature = temperature

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _check_bounds(self, n_or_total: float, weighted: bool):
        k = self.n_clusters
        lo = _bounds(self.size_min, k, "size_min", 0.0)
        hi = _bounds(self.size_max, k, "size_max", np.inf)
        if (lo > hi).any():
            j = int(np.flatnonzero(lo > hi)[0])
            raise ValueError(f"size_min > size_max for cluster {j}: {lo[j]:g} > {hi[j]:g}")
        if weighted:
            if lo.any():
                raise ValueError("size_min is not supported with sample_weight (demands)")
            if hi.sum() < n_or_total:
                raise ValueError(
                    f"the capacities (size_max, summed {hi.sum():g}) cannot hold "
                    f"the total demand {n_or_total:g}"
                )
            return lo, hi
        if lo.sum() > n_or_total or hi.sum() < n_or_total:
            raise ValueError(
                f"no assignment of {int(n_or_total)} samples fits the bounds: size_min sums "
                f"to {lo.sum():g} and size_max to {hi.sum():g}"
            )
        if (lo != np.floor(lo)).any() or (np.isfinite(hi) & (hi != np.floor(hi))).any():
            raise ValueError("size_min and size_max must be whole numbers without sample_weight")
        return lo.astype(np.int64), np.minimum(hi, n_or_total).astype(np.int64)

    def _assign(self, X, centers, w, lo, hi, weighted, labels):
        C = euclidean_distances(X, centers, squared=True)
        if weighted:
            return assign_demands(C, w, hi), False
        return assign_bounded(C, lo, hi, labels)

    def _check_data(self, X, reset: bool, copy: bool = False):
        X = validate_data(self, X, reset=reset, dtype=[np.float64, np.float32], order="C")
        return check_values(X, fit=reset)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the size-constrained clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional
            Demands (the bounds are then capacities in demand units).

        Returns
        -------
        self : KMeansConstrained
        """
        X = self._check_data(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        check_n_samples(X, k)
        weighted = sample_weight is not None
        w = check_sample_weight(sample_weight, X).astype(np.float64)
        lo, hi = self._check_bounds(float(w.sum()) if weighted else n, weighted)
        rs = check_random_state(self.random_state)
        given = not isinstance(self.init, str) and not callable(self.init)
        n_init = 1 if given else (3 if self.n_init == "auto" else self.n_init)
        tol = _engine.tolerance(X, self.tol)
        best = None
        for _ in range(n_init):
            centers = (
                check_init_array(self.init, X, k) if given else self._seed(X, w.astype(X.dtype), rs)
            ).astype(np.float64)
            labels, exact, n_iter = None, True, 0
            while n_iter < self.max_iter:
                n_iter += 1
                new, ok = self._assign(X, centers, w, lo, hi, weighted, labels)
                exact &= ok
                member = sp.csr_matrix((w, (new, np.arange(n))), shape=(k, n))
                sums = np.asarray(member @ X, dtype=np.float64)
                mass = np.bincount(new, weights=w, minlength=k)
                moved = np.where(
                    mass[:, None] > 0, sums / np.maximum(mass, 1e-300)[:, None], centers
                )
                shift = float(((moved - centers) ** 2).sum())
                centers = moved
                stable = labels is not None and np.array_equal(new, labels)
                labels = new
                if stable or shift <= tol:
                    break
            if not stable:  # the centres moved after the last assignment
                labels, ok = self._assign(X, centers, w, lo, hi, weighted, labels)
                exact &= ok
            inertia = _engine.assigned_objective(
                X, w.astype(X.dtype), centers.astype(X.dtype), np.asarray(labels, dtype=np.int32)
            )
            if best is None or inertia < best[0]:
                best = (inertia, centers, labels, n_iter, exact)
        inertia, centers, labels, n_iter, exact = best
        self.cluster_centers_ = np.ascontiguousarray(centers, dtype=X.dtype)
        self.labels_ = np.asarray(labels, dtype=np.int32)
        warn_if_few_clusters(self.labels_, self.n_clusters)
        self.inertia_ = inertia
        self.n_iter_ = n_iter
        self.exact_ = bool(exact)
        self.inertia_history_ = np.array([inertia])
        self.temperature_ = default_temperature(inertia, float(w.sum()))
        self._fitted_bounds = (lo, hi, weighted)
        self._n_features_out = k
        return self

    def predict(self, X, constrained: bool = False, sample_weight=None):
        """The nearest centre of each sample; with ``constrained=True``, the
        assignment of X as a whole under the fitted bounds (X's size or demand must fit
        them).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        constrained : bool, default=False
        sample_weight : array-like of shape (n_samples,), optional
            Demands, for ``constrained=True`` on a model fitted with them.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        if not constrained:
            return super().predict(X)
        X = self._check_data(X, reset=False)
        lo, hi, weighted = self._fitted_bounds
        w = check_sample_weight(sample_weight, X).astype(np.float64)
        if not weighted:
            n = X.shape[0]
            if lo.sum() > n or hi.sum() < n:
                raise ValueError(
                    f"constrained=True: {n} samples do not fit the size bounds "
                    f"(size_min sums to {lo.sum()}, size_max to {hi.sum()})"
                )
        labels, _ = self._assign(
            X, self.cluster_centers_.astype(np.float64), w, lo, hi, weighted, None
        )
        return np.asarray(labels, dtype=np.int32)

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_`` (which satisfy the bounds)."""
        return self.fit(X, sample_weight=sample_weight).labels_
