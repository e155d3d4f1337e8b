"""``kmeanskit.MiniBatchKMeans``: k-means on batches, with ``partial_fit`` for data that
arrives over time (or does not fit in memory) and a half-life for data that drifts."""

from __future__ import annotations

import logging
import math
import typing
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from .. import _engine
from ..relabel import ORDERS, canonical_order
from ._transform import TRANSFORM_MODES, default_temperature
from ._validation import (
    N_THREADS,
    check_init_array,
    check_n_samples,
    check_sample_weight,
    warn_if_few_clusters,
)
from .kmeans import KMeans

__all__ = ["MiniBatchKMeans"]

logger = logging.getLogger(__name__)

#: Lloyd iterations that polish each initial candidate on its sample
INIT_LLOYD_ITER = 30
#: steps between two checks for starved centres
REASSIGN_EVERY = 10


class MiniBatchKMeans(KMeans):
    """Mini-batch k-means (Sculley 2010) on the kmeanskit engine.

    Each step assigns a random batch to the nearest centres and moves every centre
    toward the mean of its batch members, with a learning rate of one over the weight
    it has seen so far (each centre is the running mean of what it received).

    Compared with :class:`sklearn.cluster.MiniBatchKMeans`: the start is the best of
    ``n_init`` candidates, each seeded on its own sample of ``init_size`` rows *and
    polished by Lloyd iterations on it* (scikit-learn seeds once, from one sample,
    without iterating); starved clusters are re-seeded where k-means++ would put a new
    centre (far points), not at uniformly drawn ones; ``half_life`` forgets old data
    so that the centres follow a stream that drifts; and a fitted model (or centres)
    passed as ``init`` continues from where it stopped (warm start).

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'}, callable, array-like of shape (n_clusters, n_features) \
or a fitted k-means estimator, default='k-means++'
        A fitted :class:`MiniBatchKMeans` passes on its centres and counts, so training
        goes on as if it had never stopped; any other fitted estimator with
        ``cluster_centers_`` passes on its centres.
    n_init : 'auto' or int, default='auto'
        Initial candidates (3 with 'auto'; 1 for given centres, with a RuntimeWarning
        as in scikit-learn when an int other than 1 is given); the one of lowest
        inertia on a common validation sample is kept.
    init_size : int, default=None
        Rows each candidate is seeded and polished on: ``max(3 * batch_size,
        3 * n_clusters)`` capped at the number of samples. A value below
        ``n_clusters`` warns (RuntimeWarning, as scikit-learn) and becomes
        ``3 * n_clusters``.
    batch_size : int, default=1024
    max_iter : int, default=100
        Passes over the data (epochs) at most.
    max_no_improvement : int or None, default=10
        Stop when the smoothed batch inertia has not improved for this many steps;
        None: never stop early on it.
    tol : float, default=0.0
        Stop when the squared centre shift of a step falls below ``tol`` times the mean
        feature variance (0: off).
    reassignment_ratio : float, default=0.01
        Every 10 steps, centres that have absorbed less than this fraction of the
        largest count move onto far points of the batch (0: never).
    half_life : float or None, default=None
        Sample weight after which past data counts half: before each step the counts
        are multiplied by ``0.5 ** (batch weight / half_life)``. None remembers all.
    compute_labels : bool, default=True
        Compute ``labels_`` and ``inertia_`` over the whole data at the end of ``fit``
        (of the batch, for ``partial_fit``).
    verbose, random_state, n_threads, cluster_order, transform_mode, temperature
        As in :class:`~kmeanskit.KMeans`.

    Attributes
    ----------
    cluster_centers_, labels_, inertia_, n_features_in_, feature_names_in_, temperature_
        As in :class:`~kmeanskit.KMeans`.
    counts_ : ndarray of shape (n_clusters,)
        Weight absorbed by each centre (after the decay of ``half_life``).
    n_steps_ : int
        Mini-batch steps taken (``partial_fit`` calls count one each).
    n_iter_ : int
        Passes over the data that the steps of ``fit`` add up to.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.randn(500, 2), rng.randn(500, 2) + 10])
    >>> mbk = MiniBatchKMeans(2, batch_size=100, random_state=0, cluster_order="coordinates")
    >>> (mbk.fit(X).cluster_centers_.round() + 0.0).tolist()
    [[0.0, 0.0], [10.0, 10.0]]
    >>> for batch in np.array_split(rng.permutation(X), 10):
    ...     _ = mbk.partial_fit(batch)
    >>> mbk.predict([[9.0, 9.5]]).tolist()
    [1]
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [
            StrOptions({"k-means++", "random"}),
            callable,
            "array-like",
            HasMethods(["fit", "predict"]),
        ],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "init_size": [Interval(Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "reassignment_ratio": [Interval(Real, 0, None, closed="left")],
        "half_life": [Interval(Real, 0, None, closed="neither"), None],
        "compute_labels": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "n_threads": N_THREADS,
        "cluster_order": [StrOptions(set(ORDERS)), None],
        "transform_mode": [StrOptions(set(TRANSFORM_MODES))],
        "temperature": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        init_size=None,
        batch_size=1024,
        max_iter=100,
        max_no_improvement=10,
        tol=0.0,
        reassignment_ratio=0.01,
        half_life=None,
        compute_labels=True,
        verbose=0,
        random_state=None,
        n_threads=None,
        cluster_order=None,
        transform_mode="distance",
        temperature=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.init_size = init_size
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_no_improvement = max_no_improvement
        self.tol = tol
        self.reassignment_ratio = reassignment_ratio
        self.half_life = half_life
        self.compute_labels = compute_labels
        self.verbose = verbose
        self.random_state = random_state
        self.n_threads = n_threads
        self.cluster_order = cluster_order
        self.transform_mode = transform_mode
        self.temperature = temperature

    # -- the start ------------------------------------------------------------------
    def _warm(self):
        """(centres, counts) of a fitted estimator given as ``init``, else None."""
        init = self.init
        if isinstance(init, str) or callable(init) or not hasattr(init, "cluster_centers_"):
            return None
        centers = np.asarray(init.cluster_centers_, dtype=np.float64)
        counts = getattr(init, "counts_", None)
        counts = np.zeros(len(centers)) if counts is None else np.array(counts, np.float64)
        return centers, counts

    def _start(self, X, w, rs):
        """The initial centres and counts: a warm start, given centres, or the best of
        ``n_init`` candidates seeded and polished on samples."""
        k, n = self.n_clusters, X.shape[0]
        warm = self._warm()
        if warm is not None:
            centers = check_init_array(warm[0], X, k)
            return centers, warm[1]
        size = self.init_size or max(3 * self.batch_size, 3 * k)
        if self.init_size is not None and self.init_size < k:  # as scikit-learn
            warnings.warn(
                f"init_size={self.init_size} should be larger than n_clusters={k}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=3,
            )
            size = 3 * k
        size = min(max(size, k), n)
        given = not isinstance(self.init, str) and not callable(self.init)
        n_init = 3 if self.n_init == "auto" else self.n_init
        if given and self.n_init != "auto" and n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{type(self).__name__} instead of n_init={n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
        if given:
            n_init = 1
        valid = rs.choice(n, size=size, replace=False) if size < n else np.arange(n)
        best = None
        for _ in range(n_init):
            rows = np.sort(rs.choice(n, size=size, replace=False)) if size < n else valid
            Xs, ws = X[rows], w[rows]
            seeds = check_init_array(self.init, X, k) if given else self._seed(Xs, ws, rs)
            res = _engine.lloyd(Xs, ws, seeds, max_iter=INIT_LLOYD_ITER, n_threads=self.n_threads)
            _, _, score = _engine.assign(X[valid], res.centers, w[valid], self.n_threads)
            if best is None or score < best[0]:
                best = (score, res, Xs, ws)
        # the kept candidate: one centre too many in a group and one too few elsewhere
        # is the usual defect of k-means++ with many clusters; swaps repair it
        _, res, Xs, ws = best
        res, _ = _engine.targeted_swaps(
            Xs, ws, res, max_iter=INIT_LLOYD_ITER, n_threads=self.n_threads
        )
        counts = np.bincount(res.labels, weights=ws, minlength=k).astype(np.float64)
        return np.ascontiguousarray(res.centers, dtype=X.dtype), counts

    # -- steps ----------------------------------------------------------------------
    def _decay(self, batch_weight: float) -> float:
        return 1.0 if self.half_life is None else 0.5 ** (batch_weight / self.half_life)

    def _step(self, Xb, wb, rs) -> tuple[np.ndarray, float, float]:
        centers, counts = self.cluster_centers_, self.counts_
        labels, objective, shift = _engine.minibatch_step(
            Xb,
            wb,
            centers,
            counts,
            decay=self._decay(float(wb.sum())),
            n_threads=self.n_threads,
            stats=self._stats,
        )
        self.n_steps_ += 1
        if self.reassignment_ratio > 0 and self.n_steps_ % REASSIGN_EVERY == 0:
            moved = _engine.reassign_starved(
                Xb, wb, centers, counts, labels, self.reassignment_ratio, rs
            )
            if moved and self.verbose:
                self._log("step %d: %d starved centres reseeded", self.n_steps_, moved)
        return labels, objective, shift

    def _log(self, *args):
        logger.info(*args)

    def _finish(self, X, w):
        if self.compute_labels:
            labels, _, inertia = _engine.assign(X, self.cluster_centers_, w, self.n_threads)
            self.labels_, self.inertia_ = labels, inertia
            warn_if_few_clusters(labels, self.n_clusters)
            self.temperature_ = default_temperature(inertia, float(w.sum()))
        elif not hasattr(self, "temperature_"):
            self.temperature_ = 1.0
        self._n_features_out = self.n_clusters

    # -- fit ------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centres from random batches of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : MiniBatchKMeans
        """
        X = self._check_data(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        check_n_samples(X, k)
        w = check_sample_weight(sample_weight, X)
        rs = self._rs = check_random_state(self.random_state)
        # the data's column statistics once, for every step's centring (not per batch)
        self._stats = _engine.column_stats(X)
        self.cluster_centers_, self.counts_ = self._start(X, w, rs)
        self.n_steps_ = 0
        batch = min(self.batch_size, n)
        n_steps = self.max_iter * n // batch  # scikit-learn's count (the floor)
        tol = _engine.tolerance(X, self.tol) if self.tol > 0 else 0.0
        alpha = min(1.0, 2.0 * batch / (n + 1))
        ewa, best, stale = None, np.inf, 0
        for _ in range(n_steps):
            rows = rs.randint(0, n, batch)
            wb = w[rows]
            _, objective, shift = self._step(X[rows], wb, rs)
            if tol and shift <= tol:
                break
            mean = objective / max(float(wb.sum()), 1e-300)
            ewa = mean if ewa is None else ewa * (1 - alpha) + mean * alpha
            if ewa < best:
                best, stale = ewa, 0
            else:
                stale += 1
            if self.max_no_improvement is not None and stale >= self.max_no_improvement:
                break
        self.n_iter_ = math.ceil(self.n_steps_ * batch / n)
        if self.cluster_order is not None:
            order = canonical_order(
                self.cluster_centers_,
                _engine.assign(X, self.cluster_centers_, w, self.n_threads)[0],
                w,
                by=self.cluster_order,
            )
            self.cluster_centers_ = np.ascontiguousarray(self.cluster_centers_[order])
            self.counts_ = self.counts_[order]
        self._finish(X, w)
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        """One mini-batch step on X (the first call also initialises from X).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self : MiniBatchKMeans
        """
        first = not hasattr(self, "cluster_centers_")
        if first:
            self._validate_params()
        X = self._check_data(X, reset=first)
        w = check_sample_weight(sample_weight, X)
        if first:
            if X.shape[0] < self.n_clusters and self._warm() is None:
                raise ValueError(
                    f"n_samples={X.shape[0]} should be >= n_clusters={self.n_clusters} "
                    "in the first partial_fit call (it initialises the centres)."
                )
            self._rs = check_random_state(self.random_state)
            self._stats = _engine.column_stats(X)  # from the first batch, kept
            self.cluster_centers_, self.counts_ = self._start(X, w, self._rs)
            self.n_steps_ = 0
            self.n_iter_ = 0
            if self._warm() is not None:  # centres from elsewhere: this batch is new data
                self._step(X, w, self._rs)
        else:
            self._step(X, w, self._rs)
        self._finish(X, w)
        return self
