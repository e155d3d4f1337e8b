"""``kmeanskit.distributed.MiniBatchKMeans``: mini-batch k-means over a ``dask.array``.

The in-memory :class:`kmeanskit.MiniBatchKMeans` does every step, driven through its
public API: its ``fit`` on a random sample of rows makes the start, then each epoch
visits the blocks in a random order, each computed by Dask a few blocks ahead of use
(on the active ``distributed.Client``, else on the threaded scheduler) and fed,
shuffled, in batches to its ``partial_fit``.
"""

from __future__ import annotations

import logging
import threading
import typing
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .. import _engine
from ..estimators import MiniBatchKMeans as LocalMiniBatchKMeans
from ._checks import check_weights, dask_weights, located, weight_stats
from .kmeans import KMeans, _active_client, _require_dask

__all__ = ["MiniBatchKMeans"]

logger = logging.getLogger(__name__)

_MAX_SEED = np.iinfo(np.int32).max
#: the parameters passed on to the in-memory estimator as they are
_SHARED = (
    "n_clusters",
    "init",
    "n_init",
    "init_size",
    "batch_size",
    "max_iter",
    "max_no_improvement",
    "tol",
    "reassignment_ratio",
    "half_life",
    "n_threads",
)
_background: list = []  # the one thread that asks the threaded scheduler for blocks ahead
_background_lock = threading.Lock()


def _pair(x, w):
    return x, w


def _parts(X, w) -> list:
    """One delayed ``(rows, weights or None)`` per block of rows of X."""
    dask, _ = _require_dask()
    xs = X.to_delayed().ravel().tolist()
    ws = [None] * len(xs) if w is None else w.to_delayed().ravel().tolist()
    return [dask.delayed(_pair, pure=True)(x, wt) for x, wt in zip(xs, ws, strict=True)]


def _computed(parts: list, schedule, prefetch: int):
    """Yield ``(tag, (rows, weights))`` for every ``(tag, i)`` of ``schedule``, block
    ``i`` being computed while the ``prefetch`` blocks before it are used: Dask holds at
    most ``prefetch + 1`` blocks at a time (the caller holds the one it uses)."""
    dask, _ = _require_dask()
    client = _active_client()
    if client is None:
        with _background_lock:  # one thread for the process: Dask keeps a pool per thread
            if not _background:
                _background.append(ThreadPoolExecutor(1, thread_name_prefix="kmeanskit"))

        def submit(i):
            return _background[0].submit(lambda: dask.compute(parts[i])[0])
    else:

        def submit(i):
            return client.compute(parts[i])

    ahead: deque = deque()
    schedule = iter(schedule)
    try:
        while True:
            while len(ahead) <= prefetch and (item := next(schedule, None)) is not None:
                ahead.append((item[0], submit(item[1])))
            if not ahead:
                return
            tag, future = ahead.popleft()
            block = future.result()
            del future  # released before the next block is asked for
            yield tag, block
    finally:  # stopped early: the blocks asked for ahead are not needed
        for _, future in ahead:
            future.cancel()
        ahead.clear()


def _batches(blocks, rs, batch: int):
    """``(tag, rows, weights)``: every block shuffled and cut into batches of at most
    ``batch`` rows (those of no weight left out: nothing to learn from them)."""
    for tag, (xb, wb) in blocks:
        perm = rs.permutation(len(xb))
        for piece in np.array_split(perm, -(-len(xb) // batch)) if len(xb) else ():
            wp = None if wb is None else wb[piece]
            if wp is None or wp.any():
                yield tag, xb[piece], wp


def _objective(part, centers) -> float:
    x, w = part
    x = np.ascontiguousarray(x, dtype=centers.dtype)
    return _engine.assign(x, centers, None if w is None else np.ascontiguousarray(w, x.dtype))[2]


class _Steps:
    """In-memory ``partial_fit`` steps under the stopping rules of the in-memory ``fit``:
    a squared centre shift at most ``tol``, or no improvement of the smoothed batch
    objective (measured before the step: one more assignment) for ``patience`` steps."""

    def __init__(self, local, n: int, batch: int, tol: float, patience):
        self.local, self.tol, self.patience = local, tol, patience
        self.alpha = min(1.0, 2.0 * batch / (n + 1))
        self.ewa, self.best, self.stale = None, np.inf, 0

    def __call__(self, xp, wp) -> str | None:
        """One step; why to stop, or None."""
        local, alpha = self.local, self.alpha
        started = hasattr(local, "cluster_centers_")  # not before a warm start's first
        before = local.cluster_centers_.astype(np.float64) if self.tol and started else None
        watch = self.patience is not None and started
        objective = -local.score(xp, sample_weight=wp) if watch else None
        local.partial_fit(xp, sample_weight=wp)
        if before is not None and ((local.cluster_centers_ - before) ** 2).sum() <= self.tol:
            return "tol"
        if objective is None:
            return None
        mean = objective / max(len(xp) if wp is None else float(wp.sum()), 1e-300)
        ewa = self.ewa = mean if self.ewa is None else self.ewa * (1 - alpha) + mean * alpha
        self.best, self.stale = (ewa, 0) if ewa < self.best else (self.best, self.stale + 1)
        return "max_no_improvement" if self.stale >= self.patience else None


class MiniBatchKMeans(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator
):
    """Mini-batch k-means over a Dask array, one block in memory at a time: the steps of
    :class:`kmeanskit.MiniBatchKMeans`, fed from the blocks.

    The start is the in-memory ``fit`` on ``init_sample`` rows drawn at random from the
    whole array, its counts then reset to the weight of the sample's rows per cluster
    (the sample counts once). Each epoch visits the blocks in a random order; each
    block, computed ``prefetch`` blocks ahead of use, is shuffled and fed in batches of
    at most ``batch_size`` rows to the in-memory ``partial_fit``. The fit stops after
    ``max_iter`` epochs or earlier by the in-memory rules of ``max_no_improvement``
    (which costs one more assignment per batch) and ``tol``. The batches come from one
    block at a time: blocks of one kind of rows each pull the centres toward their kind,
    by steps that shrink as the counts grow.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means++', 'random'}, callable, array-like of shape (n_clusters, n_features) \
or a fitted k-means estimator, default='k-means++'
        How the sample fit starts; a fitted estimator is a warm start instead (no sample
        fit: its centres and ``counts_`` go on).
    n_init, init_size, batch_size, max_no_improvement, tol, reassignment_ratio, half_life
        As in :class:`kmeanskit.MiniBatchKMeans` (``n_init`` and ``init_size``: of the
        sample fit; ``tol`` is relative to the sample's mean feature variance).
    max_iter : int, default=100
        Passes over the blocks (epochs) at most; and over the sample in its fit.
    init_sample : int, default=100000
        Rows drawn for the start (one pass over X).
    compute_labels : bool, default=True
        Compute ``inertia_`` at the end of ``fit`` (one more pass over the blocks).
    prefetch : int, default=2
        Blocks computed ahead of the one in use.
    random_state : int, RandomState instance or None, default=None
    n_threads : int or None, default=None
        Engine threads of the steps.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    counts_ : ndarray of shape (n_clusters,)
        Weight absorbed by each centre (of the sample, then of the steps).
    labels_ : dask array of shape (n_samples,)
        Lazy: ``predict(X)``.
    inertia_ : float
        Weighted sum of squared distances of the rows to their nearest centres.
    n_iter_ : int
        Epochs begun.
    n_steps_ : int
        Steps over the blocks (those of the sample fit not counted).
    n_features_in_ : int

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> rng = np.random.RandomState(0)
    >>> X = rng.permutation(np.vstack([rng.randn(500, 2), rng.randn(500, 2) + 10]))
    >>> X = da.from_array(X, chunks=(300, 2))
    >>> mbk = MiniBatchKMeans(2, batch_size=100, init_sample=200, random_state=0).fit(X)
    >>> sorted((mbk.cluster_centers_.round() + 0.0).tolist())
    [[0.0, 0.0], [10.0, 10.0]]
    >>> bool((mbk.predict(X).compute() == mbk.labels_.compute()).all())
    True
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        **{
            p: LocalMiniBatchKMeans._parameter_constraints[p]
            for p in (*_SHARED, "compute_labels", "random_state")
        },
        "init_sample": [Interval(Integral, 1, None, closed="left")],
        "prefetch": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        n_init="auto",
        init_size=None,
        init_sample=100_000,
        batch_size=1024,
        max_iter=100,
        max_no_improvement=10,
        tol=0.0,
        reassignment_ratio=0.01,
        half_life=None,
        compute_labels=True,
        prefetch=2,
        random_state=None,
        n_threads=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.init_size = init_size
        self.init_sample = init_sample
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.max_no_improvement = max_no_improvement
        self.tol = tol
        self.reassignment_ratio = reassignment_ratio
        self.half_life = half_life
        self.compute_labels = compute_labels
        self.prefetch = prefetch
        self.random_state = random_state
        self.n_threads = n_threads

    # -- input; predict, transform and score: distributed.KMeans's, lazy over blocks ------
    def _dask_input(self, X, reset: bool):
        if np.ndim(X) != 2:  # before dask.array.from_array's own complaint about chunks
            raise ValueError(f"X must be 2-D (samples x features); got shape {np.shape(X)}")
        X = KMeans._dask_input(self, X, reset)
        if np.isnan(X.shape[0]):
            raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
        return X

    predict = KMeans.predict
    transform = KMeans.transform
    score = KMeans.score

    @staticmethod
    def _weights(sample_weight, X):
        return dask_weights(sample_weight, X)

    # -- the in-memory estimator ------------------------------------------------------
    def _local(self, rs) -> LocalMiniBatchKMeans:
        return LocalMiniBatchKMeans(
            **{p: getattr(self, p) for p in _SHARED},
            compute_labels=False,
            random_state=int(rs.randint(_MAX_SEED)),
        )

    def _start(self, X, w, rs):
        """The in-memory estimator fitted on the sample (left unfitted for a warm start:
        its first ``partial_fit`` starts it), and ``tol`` in absolute terms."""
        dask, _ = _require_dask()
        n, k, init = X.shape[0], self.n_clusters, self.init
        warm = not (isinstance(init, str) or callable(init)) and hasattr(init, "cluster_centers_")
        rows = None
        if not warm or self.tol > 0:
            if self.init_sample < k:
                raise ValueError(f"init_sample={self.init_sample} should be >= n_clusters={k}.")
            if self.init_sample < n:
                rows = np.sort(rs.choice(n, size=self.init_sample, replace=False))
        local = self._local(rs)
        if warm and self.tol == 0:
            return local, 0.0
        Xs, ws = dask.compute(
            X if rows is None else X[rows], None if w is None else w if rows is None else w[rows]
        )
        Xs = np.ascontiguousarray(Xs)
        if not warm:
            with located(np.r_[0, np.cumsum(X.chunks[0])], rows=rows, values=Xs):
                local.set_params(compute_labels=True).fit(Xs, sample_weight=ws)
            local.counts_ = np.bincount(local.labels_, weights=ws, minlength=k).astype(np.float64)
            local.set_params(compute_labels=False)
        return local, _engine.tolerance(Xs, self.tol)

    def _fitted_from(self, local):
        # copies: the steps move the in-memory arrays in place, and a lazy labels_ must
        # keep the centres it was made with
        self.cluster_centers_ = local.cluster_centers_.copy()
        self.counts_ = local.counts_.copy()
        self._n_features_out = self.n_clusters

    # -- fit ----------------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Mini-batch k-means over the blocks of X.

        Parameters
        ----------
        X : dask array or array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask array or array-like of shape (n_samples,), optional

        Returns
        -------
        self : MiniBatchKMeans
        """
        dask, _ = _require_dask()
        X = self._dask_input(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        w = self._weights(sample_weight, X)
        if w is not None:
            check_weights(dask.compute(weight_stats(w))[0], w)
        rs = check_random_state(self.random_state)
        local, tol = self._start(X, w, rs)
        # the blocks' order (drawn ahead of use) and their shuffles from streams of their
        # own: the same batches whatever ``prefetch``
        order_rs, shuffle_rs = (np.random.RandomState(s) for s in rs.randint(_MAX_SEED, size=2))
        parts = _parts(X, w)
        schedule = (
            ((epoch, int(i)), int(i))
            for epoch in range(self.max_iter)
            for i in order_rs.permutation(len(parts))
        )
        batch = min(self.batch_size, n)
        step = _Steps(local, n, batch, tol, self.max_no_improvement)
        why, self.n_steps_ = "max_iter", 0
        with closing(_computed(parts, schedule, self.prefetch)) as blocks:
            for (epoch, i), xp, wp in _batches(blocks, shuffle_rs, batch):
                self.n_iter_, self.n_steps_ = epoch + 1, self.n_steps_ + 1
                with located(np.r_[0, np.cumsum(X.chunks[0])], block=i):
                    stop = step(xp, wp)
                if stop is not None:
                    why = stop
                    break
        logger.debug("stopped by %s after %d steps (epoch %d)", why, self.n_steps_, self.n_iter_)
        self._local_model = local
        self._fitted_from(local)
        self.labels_ = self.predict(X)
        if self.compute_labels:
            objective = dask.delayed(_objective, pure=True)
            parts = dask.compute(*[objective(p, self.cluster_centers_) for p in parts])
            self.inertia_ = float(sum(parts))
        return self

    def partial_fit(self, X, y=None, sample_weight=None):
        """One in-memory ``partial_fit`` per block of X, in order (the first call starts
        the centres from its first block, as the in-memory one does). A numpy X is one
        block. Drops ``labels_`` and ``inertia_`` (of the data of ``fit``).

        Parameters
        ----------
        X : dask array or array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask array or array-like of shape (n_samples,), optional

        Returns
        -------
        self : MiniBatchKMeans
        """
        _, da = _require_dask()
        first = not hasattr(self, "cluster_centers_")
        if first:
            self._validate_params()
        one_block = not isinstance(X, da.Array)
        X = self._dask_input(X, reset=first)
        X = X.rechunk({0: -1}) if one_block else X
        w = self._weights(sample_weight, X)
        if first:
            self._local_model = self._local(check_random_state(self.random_state))
            self.n_steps_ = self.n_iter_ = 0
        local = self._local_model
        parts = _parts(X, w)
        with closing(_computed(parts, ((i, i) for i in range(len(parts))), self.prefetch)) as it:
            for i, (xb, wb) in it:
                if len(xb):
                    steps = getattr(local, "n_steps_", 0)
                    with located(np.r_[0, np.cumsum(X.chunks[0])], block=i):
                        local.partial_fit(xb, sample_weight=wb)
                    self.n_steps_ += local.n_steps_ - steps
        self._fitted_from(local)
        for name in ("labels_", "inertia_"):
            self.__dict__.pop(name, None)
        return self
