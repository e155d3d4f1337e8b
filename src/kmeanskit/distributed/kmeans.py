"""``kmeanskit.distributed.KMeans``: Lloyd's k-means over a ``dask.array``.

Each iteration sends the centres to every block; a block assigns its rows with the
kernels of :mod:`kmeanskit._engine` and returns its per-cluster weighted sums and
weights, its objective and its farthest rows (for the empty-cluster rule); the client
adds them up and moves the centres. Seeding is k-means|| (Bahmani et al. 2012): a few
passes that each oversample about ``2 k`` candidates by squared distance, then a
weighted k-means++ and Lloyd on the candidates, in memory.
"""

from __future__ import annotations

import logging
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
from sklearn.utils.validation import check_is_fitted

from .. import _engine
from .._engine import blockwise
from .._engine._common import ColumnStats, gemm_shift
from .._engine.lloyd import update
from ._checks import (
    check_block,
    check_dtype,
    check_moments,
    check_weights,
    dask_weights,
    weight_stats,
)

logger = logging.getLogger(__name__)

__all__ = ["KMeans"]


def _require_dask():
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - the dask extra is installed in CI
        raise ImportError(
            "kmeanskit.distributed needs Dask: pip install 'kmeanskit[dask]'"
        ) from exc
    return dask, da


#: block calls whose results add up (a group of blocks returns their sum)
_ADDITIVE = frozenset({"moments", "seed_distances", "seed_weights", "step", "inertia"})


def _add(a, b):
    return tuple(_add(x, y) for x, y in zip(a, b, strict=True)) if isinstance(a, tuple) else a + b


def _call_group(blocks, method: str, args: tuple, each: list, xs=None, n_threads=1) -> list:
    """Call one :class:`~kmeanskit._engine.blockwise.Block` method on each of a group of
    blocks, in turn, on ``n_threads`` numba threads (one task on a worker). Results that
    add up come back summed over the group (one ``k x d`` array per worker, not per
    block)."""
    kws = [{}] * len(blocks) if xs is None else [{"X": x} for x in xs]
    out = []
    for block, extra, kw in zip(blocks, each, kws, strict=True):
        block.n_threads = n_threads
        out.append(getattr(block, method)(*args, *extra, **kw))
    if method in _ADDITIVE and out:
        total = out[0]
        for part in out[1:]:
            total = _add(total, part)
        return [total]
    return out


def _active_client():
    """The distributed Client that dask.compute would use, or None."""
    try:
        from distributed import default_client

        return default_client()
    except (ImportError, ValueError):
        return None


def _nearest(block, centers, block_info=None):
    """The nearest centre of each row of a block (predict, on a worker)."""
    check_block(block, block_info)
    return _engine.assign(np.ascontiguousarray(block, dtype=centers.dtype), centers)[0]


def _sqdist(block, centers, block_info=None):
    """The squared distance of each row of a block to its nearest centre."""
    check_block(block, block_info)
    return _engine.assign(np.ascontiguousarray(block, dtype=centers.dtype), centers)[1]


def _distances(block, centers, block_info=None):
    """Euclidean distances of each row of a block to every centre (float64)."""
    check_block(block, block_info)
    b = np.asarray(block, dtype=np.float64)
    d2 = (b * b).sum(1)[:, None] - 2 * b @ centers.T + (centers * centers).sum(1)
    return np.sqrt(np.maximum(d2, 0))


class _Runner:
    """Runs block calls on its worker, called by the client directly (a Dask actor: no
    scheduler between the client and the worker, about 3 ms a call on a LocalCluster
    against 15-20 ms for a task). It finds the blocks in its worker's memory, where
    Dask keeps them as ordinary results, so a lost worker's blocks are rebuilt by Dask
    as any result would be, and the task path takes over."""

    def call(self, keys, method, args, each, n_threads):
        from distributed import get_worker

        data = get_worker().data
        return _call_group([data[key] for key in keys], method, args, each, None, n_threads)


class _Blocks:
    """The fit's blocks, as Dask keeps them: one persisted engine ``Block`` per chunk of
    rows (holding its rows, or only its per-row state when ``persist`` is false, the
    rows being read from their source at every call).

    On a distributed cluster each block is built on the worker holding its rows (as
    many blocks per thread on every worker), and a call on every block is one call per
    worker, over its blocks, on all its threads: through an actor on each worker while
    every worker lives, else (a worker lost, or ``persist=False``) as one task per
    worker, which Dask reschedules and whose lost blocks it rebuilds."""

    def __init__(self, X, w, persist: bool):
        dask, _ = _require_dask()
        xs = X.to_delayed().ravel().tolist()
        ws = w.to_delayed().ravel().tolist()
        make = dask.delayed(blockwise.Block, pure=False)
        self.xs = None if persist else xs
        self.offsets = np.r_[0, np.cumsum(X.chunks[0])]
        self.client = _active_client()
        if self.client is None:
            self.blocks = list(
                dask.persist(
                    *[make(x if persist else None, wt) for x, wt in zip(xs, ws, strict=True)]
                )
            )
            return
        # each block built on the worker that holds its rows (or, for rows still to be
        # read, on the workers in turn, contiguous runs weighted by their threads)
        self.threads = self.client.nthreads()
        where = self._placement(xs)
        tasks = []
        for x, wt, addr in zip(xs, ws, where, strict=True):
            with dask.annotate(workers=[addr], allow_other_workers=True):
                tasks.append(make(x if persist else None, wt))
        self.blocks = self.client.compute(tasks)
        self.groups = self._group(where)
        self.runners = None
        self.recovered = False
        if persist:
            self._start_runners()

    def _start_runners(self) -> None:
        """One actor per worker holding blocks, the groups as the blocks landed."""
        from distributed import wait

        client = self.client
        wait(self.blocks)
        who = client.who_has(self.blocks)
        self.groups = self._group([(who.get(f.key) or [None])[0] for f in self.blocks])
        if any(addr is None for addr, _ in self.groups):
            return
        self.runners = {
            addr: client.submit(_Runner, actor=True, workers=[addr], allow_other_workers=False)
            for addr, _ in self.groups
        }
        self.runners = {addr: f.result() for addr, f in self.runners.items()}

    def _placement(self, xs) -> list:
        """A worker for each block: as many blocks per worker thread everywhere (the
        slowest worker sets the pace of every iteration), each on the worker that holds
        its rows while that worker has room, the others in contiguous runs."""
        from distributed import futures_of

        addrs = sorted(self.threads)
        shares = np.array([self.threads[a] for a in addrs], dtype=float)
        room = dict(
            zip(
                addrs,
                np.diff(np.round(np.r_[0, np.cumsum(shares)] / shares.sum() * len(xs)).astype(int)),
                strict=True,
            )
        )
        held = [f for x in xs for f in futures_of(x)]
        who = self.client.who_has(held) if held else {}
        out: list = [None] * len(xs)
        for i, x in enumerate(xs):
            have = [a for f in futures_of(x) for a in who.get(f.key, ()) if room.get(a, 0) > 0]
            if have:
                out[i] = have[0]
                room[have[0]] -= 1
        for i in range(len(xs)):
            if out[i] is None:
                out[i] = next(a for a in addrs if room[a] > 0)
                room[out[i]] -= 1
        return out

    def _group(self, where) -> list:
        """``(worker, block numbers)``: one group per worker, over the blocks on that
        worker (run on all its threads); a block whose worker is gone (None) is a group
        of its own."""
        by_worker: dict = {}
        for i, addr in enumerate(where):
            by_worker.setdefault(addr if addr in self.threads else None, []).append(i)
        groups = [(None, [i]) for i in by_worker.pop(None, [])]
        return groups + list(by_worker.items())

    def map(self, method: str, *args, each=None):
        """Call ``method(*args, *each[i])`` on every block ``i``: the results in block
        order, or, for a method whose results add up, their sum."""
        dask, _ = _require_dask()
        n = len(self.blocks)
        each = [()] * n if each is None else [tuple(e) for e in each]
        if self.client is not None and self.xs is None:
            return self._map_on_workers(method, args, each)
        threads = dask.config.get("num_workers", None) or dask.system.CPU_COUNT
        groups = np.array_split(np.arange(n), min(n, threads * 2))
        call = dask.delayed(_call_group, pure=False)
        tasks = [
            call(
                [self.blocks[i] for i in g],
                method,
                args,
                [each[i] for i in g],
                None if self.xs is None else [self.xs[i] for i in g],
            )
            for g in groups
        ]
        return self._collect(method, groups, dask.compute(*tasks))

    def _collect(self, method, groups, parts):
        if method in _ADDITIVE:
            total = parts[0][0]
            for part in parts[1:]:
                total = _add(total, part[0])
            return total
        out = [None] * len(self.blocks)
        for g, part in zip(groups, parts, strict=True):
            for i, r in zip(g, part, strict=True):
                out[i] = r
        return out

    def _map_on_workers(self, method, args, each) -> list:
        if self.runners is not None:
            try:
                calls = [
                    self.runners[addr].call(
                        [self.blocks[i].key for i in g],
                        method,
                        args,
                        [each[i] for i in g],
                        self.threads[addr],
                    )
                    for addr, g in self.groups
                ]
                return self._collect(
                    method, [g for _, g in self.groups], [c.result() for c in calls]
                )
            except Exception as exc:  # a worker was lost (or a block moved): tasks go on
                logger.info(
                    "block calls through tasks from now on (%s: %s)", type(exc).__name__, exc
                )
                self.runners = None
                # the blocks whose call went through count no label change when called
                # again: this call's count of changes is not to be trusted
                self.recovered = True
        client = self.client
        threads = client.nthreads()
        if threads != self.threads:  # a worker was lost or added: where are the blocks?
            self.threads = threads
            who = client.who_has(self.blocks)
            self.groups = self._group([(who.get(f.key) or [None])[0] for f in self.blocks])
        # one message to the scheduler for all the groups (a client sends at most one
        # message every 10 ms: a task per submit() call would start 10 ms late)
        dask, _ = _require_dask()
        call = dask.delayed(_call_group, pure=False)
        tasks = []
        for addr, g in self.groups:
            where = {} if addr is None else {"workers": [addr], "allow_other_workers": True}
            with dask.annotate(**where):
                tasks.append(
                    call(
                        [self.blocks[i] for i in g],
                        method,
                        args,
                        [each[i] for i in g],
                        None,
                        1 if addr is None else threads[addr],
                    )
                )
        futures = client.compute(tasks, optimize_graph=False)
        # the last call's futures are released only now, after this call's tasks went
        # out: their release message would otherwise hold the tasks back
        self._last = futures
        return self._collect(method, [g for _, g in self.groups], client.gather(futures))


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """Exact Lloyd k-means over a Dask array (rows in blocks), as
    :class:`kmeanskit.KMeans` computes it in memory: the same parameters' meaning, the
    same tolerance rule, empty-cluster rule and inertia, from k-means|| seeding.

    Parameters
    ----------
    n_clusters : int, default=8
    init : {'k-means||', 'k-means++'} or array-like of shape (n_clusters, n_features)
        'k-means||': ``init_rounds`` oversampling passes over the blocks;
        'k-means++': the in-memory seeding on a sample of ``init_sample`` rows; or the
        centres.
    n_init : int, default=1
    max_iter : int, default=300
    tol : float, default=1e-4
        As in :class:`kmeanskit.KMeans`: stop when the summed squared centre shift falls
        to ``tol`` times the mean feature variance.
    init_rounds : int, default=5
    oversampling : float, default=2.0
        k-means|| draws about ``oversampling * n_clusters`` candidates per round.
    init_sample : int, default=100000
    persist : bool, default=True
        Keep X in (distributed) memory during the fit instead of recomputing it from its
        source (a zarr store, say) at every pass.
    random_state : int, RandomState instance or None, default=None

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
    labels_ : dask array of shape (n_samples,)
        Lazy: the nearest centre of every row, computed block by block on demand.
    inertia_ : float
    n_iter_ : int
    inertia_history_ : ndarray

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> X = da.from_array(np.array([[0.0], [1.0], [10.0], [11.0]] * 25), chunks=(30, 1))
    >>> km = KMeans(2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.ravel().tolist()), km.inertia_
    ([0.5, 10.5], 25.0)
    >>> km.predict(X).compute()[:4].tolist() == km.labels_[:4].compute().tolist()
    True
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means||", "k-means++"}), "array-like"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init_rounds": [Interval(Integral, 1, None, closed="left")],
        "oversampling": [Interval(Real, 0, None, closed="neither")],
        "init_sample": [Interval(Integral, 1, None, closed="left")],
        "persist": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means||",
        n_init=1,
        max_iter=300,
        tol=1e-4,
        init_rounds=5,
        oversampling=2.0,
        init_sample=100000,
        persist=True,
        random_state=None,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.init_rounds = init_rounds
        self.oversampling = oversampling
        self.init_sample = init_sample
        self.persist = persist
        self.random_state = random_state

    # -- input ------------------------------------------------------------------
    def _dask_input(self, X, reset: bool):
        _, da = _require_dask()
        if not isinstance(X, da.Array):
            X = da.from_array(np.asarray(X), chunks=(max(1, min(len(X), 100_000)), -1))
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (samples x features); got shape {X.shape}")
        check_dtype(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        X = X.rechunk({1: -1})
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                f"{self.n_features_in_} features as input"
            )
        return X

    # -- seeding -------------------------------------------------------------------
    def _seed(self, X, w, blocks, rs, dtype):
        k = self.n_clusters
        if not isinstance(self.init, str):
            centers = np.asarray(self.init, dtype=dtype)
            if centers.shape != (k, X.shape[1]):
                raise ValueError(f"init must have shape ({k}, {X.shape[1]}); got {centers.shape}")
            return np.ascontiguousarray(centers)
        n = X.shape[0]
        if self.init == "k-means++":
            rows = np.sort(rs.choice(n, size=min(n, self.init_sample), replace=False))
            sample = np.ascontiguousarray(X[rows].compute(), dtype=dtype)
            ws = np.ascontiguousarray(w[rows].compute(), dtype=dtype)
            return _engine.kmeans_plusplus(sample, k, ws, rs)[0]
        # k-means||: each block keeps its rows' distance to the nearest candidate, so a
        # round compares the rows with that round's new candidates only
        first = int(rs.randint(n))
        cand = np.ascontiguousarray(X[first : first + 1].compute(), dtype=dtype)
        ell = self.oversampling * k
        for _ in range(self.init_rounds):
            phi = blocks.map("seed_distances", cand)
            if phi <= 0:
                break
            seeds = rs.randint(0, 2**31 - 1, size=len(blocks.blocks))
            new = blocks.map("seed_sample", ell, phi, cand, each=[(int(s),) for s in seeds])
            cand = np.ascontiguousarray(np.vstack([cand, *new]), dtype=dtype)
        logger.debug("k-means||: %d candidates", len(cand))
        weights = blocks.map("seed_weights", cand)
        if len(cand) <= k:
            extra = X[np.sort(rs.choice(n, size=k - len(cand) + 1, replace=False))].compute()
            cand = np.vstack([cand, extra]).astype(dtype)
            weights = np.r_[weights, np.ones(len(extra))]
        cw = np.ascontiguousarray(np.maximum(weights, 1e-12), dtype=dtype)
        centers = _engine.kmeans_plusplus(cand, k, cw, rs)[0]
        return _engine.lloyd(cand, cw, centers, max_iter=100).centers

    # -- fit ----------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute k-means over the blocks of X.

        Parameters
        ----------
        X : dask array or array-like of shape (n_samples, n_features)
        y : Ignored
        sample_weight : dask array or array-like of shape (n_samples,), optional

        Returns
        -------
        self : KMeans
        """
        dask, da = _require_dask()
        X = self._dask_input(X, reset=True)
        n, k = X.shape[0], self.n_clusters
        if n < k:
            raise ValueError(f"n_samples={n} should be >= n_clusters={k}.")
        w = dask_weights(sample_weight, X)
        x0, stats = dask.compute(X[0], () if w is None else weight_stats(w))
        if stats:
            check_weights(stats, w)
        x0 = np.asarray(x0, dtype=np.float64)
        w = da.ones(n, chunks=(X.chunks[0],), dtype=X.dtype) if w is None else w
        blocks = _Blocks(X, w, self.persist)
        _, part_sum, part_sq = blocks.map("moments", x0)
        # NaN, infinity or values out of range: refused (part_sq not finite, or large)
        check_moments(X, x0, part_sq, blocks.offsets)
        mean_u = part_sum / n
        var = np.maximum(part_sq / n - mean_u**2, 0.0)
        shift = gemm_shift(ColumnStats(x0 + mean_u, var))
        tol = self.tol * float(np.mean(var))
        rs = check_random_state(self.random_state)
        best = None
        for _ in range(self.n_init):
            centers = self._seed(X, w, blocks, rs, X.dtype)
            run = self._lloyd(blocks, centers, tol, shift)
            if best is None or run[1] < best[1]:
                best = run
        self.cluster_centers_, self.inertia_, self.n_iter_, history = best
        self.inertia_history_ = np.asarray(history)
        self.labels_ = self.predict(X)
        self._n_features_out = k
        return self

    def _lloyd(self, blocks, centers, tol, shift):
        """Lloyd's loop of :func:`kmeanskit._engine.hamerly.hamerly`, over the blocks."""
        centers = np.array(centers, order="C")
        move = np.zeros(self.n_clusters)
        history = []
        n_iter, strict = 0, False
        while n_iter < self.max_iter:
            n_iter += 1
            sums, wsum, objective, changed = blocks.map(
                "step", centers, blockwise.half_gaps(centers), shift
            )
            history.append(float(objective))
            moved = self._relocate_empty(blocks, sums, wsum, centers, shift)
            update(sums, wsum, centers, move)
            logger.debug(
                "iteration %d: objective %.6g, %d labels changed", n_iter, history[-1], changed
            )
            recovered, blocks.recovered = getattr(blocks, "recovered", False), False
            strict = n_iter > 1 and changed == 0 and not moved and not recovered
            if strict or float((move**2).sum()) <= tol:
                break
        # the final assignment, where the centres moved since the last one
        inertia = float(blocks.map("inertia", centers, blockwise.half_gaps(centers), shift))
        return centers, inertia, n_iter, history

    @staticmethod
    def _relocate_empty(blocks, sums, wsum, centers, shift) -> int:
        """Give each empty cluster one of the rows farthest from their centres (over
        all blocks: farthest first, ties by row index), as the in-memory engine does."""
        empty = np.flatnonzero(wsum == 0)
        if empty.size == 0:
            return 0
        far = []
        for offset, (dist, idx, rows, wts, labs) in zip(
            blocks.offsets,
            blocks.map("farthest", empty.size, centers, blockwise.half_gaps(centers), shift),
            strict=False,
        ):
            far += zip(dist, idx + offset, rows, wts, labs, strict=True)
        far.sort(key=lambda f: (-f[0], f[1]))
        for j, (_, _, row, wt, lab) in zip(empty, far, strict=False):
            sums[lab] -= row * wt
            wsum[lab] -= wt
            sums[j] = row * wt
            wsum[j] = wt
        return min(empty.size, len(far))

    # -- use ------------------------------------------------------------------------
    def predict(self, X):
        """The nearest centre of every row, as a lazy dask array (computed block by
        block)."""
        check_is_fitted(self)
        X = self._dask_input(X, reset=False)
        return X.map_blocks(_nearest, centers=self.cluster_centers_, drop_axis=1, dtype=np.int32)

    def transform(self, X):
        """Euclidean distances of every row to every centre, as a lazy dask array."""
        check_is_fitted(self)
        X = self._dask_input(X, reset=False)
        return X.map_blocks(
            _distances,
            centers=self.cluster_centers_.astype(np.float64),
            chunks=(X.chunks[0], (self.n_clusters,)),
            dtype=np.float64,
        )

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) sum of squared distances of X to the nearest
        centres."""
        check_is_fitted(self)
        _, da = _require_dask()
        X = self._dask_input(X, reset=False)
        d2 = X.map_blocks(_sqdist, centers=self.cluster_centers_, drop_axis=1, dtype=np.float64)
        if sample_weight is not None:
            d2 = d2 * da.asarray(sample_weight).rechunk((X.chunks[0],))
        return -float(d2.sum().compute())
