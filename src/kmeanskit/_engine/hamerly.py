"""Hamerly's exact k-means (Hamerly 2010): the single-run driver for dense data.

The same iteration as :func:`~kmeanskit._engine.lloyd.lloyd` (same assignments up to
floating-point ties, same means, same relocation of empty clusters, same stopping
rules), with distance bounds that let most points skip most iterations.
"""

from __future__ import annotations

import logging

import numba
import numpy as np

from . import _hamerly_kernels as _hk
from . import _kernels
from ._bounded import iterate
from ._common import (
    GEMM_MIN_FEATURES,
    ColumnStats,
    column_stats,
    gemm_shift,
    rows_per_chunk,
    thread_limits,
)
from ._hamerly_kernels import BOUNDED, FULL, LABELS_ONLY
from .lloyd import LloydResult

logger = logging.getLogger(__name__)


def _half_gaps(centers: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to its nearest other centre."""
    k, d = centers.shape
    gaps = np.empty(k)
    _kernels.center_gaps(centers, rows_per_chunk(k), err_scale(centers.dtype, d), gaps)
    return 0.5 * gaps


def largest_moves(move: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The three largest of ``move`` (decreasing, zeros past k) and their centres (-1)."""
    top_v = np.zeros(3)
    top_id = np.full(3, -1, dtype=np.int64)
    m = min(3, move.size)
    if m:
        top = np.argpartition(-move, m - 1)[:m] if move.size > m else np.arange(m)
        top = top[np.argsort(-move[top], kind="stable")]
        top_v[:m] = move[top]
        top_id[:m] = top
    return top_v, top_id


def err_scale(dtype, n_features: int) -> float:
    """Rounding of ``|x|^2 + |c|^2 - 2 x.c`` in ``dtype``, relative to ``|x|^2 + |c|^2``
    (accumulated over ``n_features`` products, with room to spare)."""
    return max(64.0, 2.0 * np.sqrt(n_features)) * float(np.finfo(dtype).eps)


#: working memory of a fit may take this share of X's bytes
MEMORY_SHARE = 0.25
#: bytes a row of Hamerly's state without a runner-up: upper and lower bounds, and the
#: labels the kept sums follow
STATE_BYTES = 12
#: the half gaps between centres (k^2 d flops) are computed while k is at most this
#: share of n (their cost, next to a pass of n k d flops)
GAPS_MAX_SHARE = 1 / 16


class HamerlyState:
    """Labels, runners-up and bounds of Hamerly's steps over one array, and the
    buffers of its kernel; :meth:`step` assigns against new centres.

    The runner-up and its bound are kept when they fit in memory (``MEMORY_SHARE``: from
    about 20 float32 features). The pruning is measured as it runs: a bounded step
    after which more than ``full_share`` of the rows needed a full scan costs about what
    a full pass costs, so the next steps are plain Lloyd passes (labels only, no bounds
    to keep), then a full step sets the bounds again and a bounded step tries them.
    Each failed try doubles the number of Lloyd passes before the next one (up to
    ``max_backoff``), so on data where the bounds never prune the run costs a Lloyd run
    plus a few percent, and where they prune it is Hamerly's. ``labels``: the array to
    fill (a new one by default).
    """

    def __init__(
        self,
        X: np.ndarray,
        shift: np.ndarray | None,
        n_clusters: int,
        full_share: float = 0.7,
        max_backoff: int = 16,
        labels: np.ndarray | None = None,
    ):
        n, d = X.shape
        self.X = X
        self.chunk = rows_per_chunk(n_clusters, n)
        self.use_gemm = d >= GEMM_MIN_FEATURES
        self.subtract_shift = self.use_gemm and shift is not None
        self.shift = (
            np.asarray(shift, dtype=X.dtype) if self.subtract_shift else np.zeros(d, dtype=X.dtype)
        )
        # relative slack of the float32 bounds: covers their rounding and, for float32
        # data, distances summed in float32
        self.margin = 1e-5 if X.dtype == np.float32 else 1e-6
        self.err_scale = err_scale(X.dtype, d)
        self.full_share = full_share
        self.max_backoff = max_backoff
        self.labels = np.zeros(n, dtype=np.int32) if labels is None else labels
        # the runner-up and its bound take 8 bytes a row: kept while the state stays
        # within a quarter of X's bytes (with the bounds and the kept sums' labels)
        runner_up = STATE_BYTES + 8 <= MEMORY_SHARE * d * X.dtype.itemsize
        m = n if runner_up else 0
        self.second = np.full(m, -1, dtype=np.int32)
        self.upper = np.full(n, np.inf, dtype=np.float32)
        self.lower = np.zeros(n, dtype=np.float32)
        self.rest = np.zeros(m, dtype=np.float32)
        self.work = np.zeros(max(1, -(-n // self.chunk)), dtype=np.int64)
        self.next = FULL
        self.backoff = 1
        self.lloyd_left = 0
        #: steps taken, by kind (the kernel's ``mode``)
        self.steps = {BOUNDED: 0, FULL: 0, LABELS_ONLY: 0}

    def adopt(self, upper: np.ndarray, lower: np.ndarray) -> None:
        """Start from bounds another algorithm kept on the same labels (``upper`` on the
        distance to each row's centre, ``lower`` on that to every other centre): the
        next step tests them instead of scanning every row."""
        self.upper[:] = upper
        self.lower[:] = lower
        if self.second.size:
            self.second[:] = -1  # no runner-up known: its test is skipped
            self.rest[:] = 0.0
        self.next = BOUNDED

    def _plan(self, share: float, mode: int) -> None:
        """The kind of the next step, from the share of full scans of this one."""
        if mode == FULL:
            self.next = BOUNDED
        elif mode == LABELS_ONLY:
            self.lloyd_left -= 1
            self.next = LABELS_ONLY if self.lloyd_left > 0 else FULL
        elif share > self.full_share:  # the bounds no longer prune
            self.lloyd_left = self.backoff
            self.backoff = min(2 * self.backoff, self.max_backoff)
            self.next = LABELS_ONLY
        else:
            self.backoff = 1
            self.next = BOUNDED

    def step(
        self, centers: np.ndarray, move: np.ndarray, half_gap: np.ndarray | None = None
    ) -> float:
        """Assign against ``centers``, which moved by ``move`` since the last step;
        returns the share of the rows that needed a full scan. ``half_gap``: half the
        distance from each centre to its nearest other one, when the caller has it."""
        X = self.X
        n, d = X.shape
        k = centers.shape[0]
        mode = self.next
        if half_gap is None:
            # the gaps cost k^2 d: worth it while that is small next to a pass, n k d
            gaps = mode == BOUNDED and GAPS_MAX_SHARE * n >= k
            half_gap = _half_gaps(centers) if gaps else np.zeros(k)
        shifted = centers - self.shift
        csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64)
        top_v, top_id = largest_moves(move)
        threads = numba.get_num_threads()
        width = d if self.use_gemm else 0
        _hk.hamerly_step_dense(
            X=X,
            centers=centers,
            ct=shifted.T,
            csq=csq.astype(X.dtype),
            cmax=float(csq.max()),
            shift=self.shift,
            subtract_shift=self.subtract_shift,
            use_gemm=self.use_gemm,
            half_gap=np.asarray(half_gap, dtype=np.float64),
            move=np.asarray(move, dtype=np.float64),
            top_v=top_v,
            top_id=top_id,
            chunk=self.chunk,
            margin=self.margin,
            err_scale=self.err_scale,
            mode=mode,
            bufs=np.empty((threads, self.chunk, width), dtype=X.dtype),
            idxbufs=np.empty((threads, self.chunk), dtype=np.int64),
            xsqbufs=np.empty((threads, self.chunk)),
            labels=self.labels,
            second=self.second,
            upper=self.upper,
            lower=self.lower,
            rest=self.rest,
            work=self.work,
        )
        self.steps[mode] += 1
        share = float(self.work.sum()) / max(n, 1)
        self._plan(share, mode)
        return share


def hamerly(
    X: np.ndarray,
    sample_weight: np.ndarray,
    centers_init: np.ndarray,
    *,
    max_iter: int = 300,
    tol: float = 0.0,
    n_threads: int | None = None,
    stats: ColumnStats | None = None,
    frozen: np.ndarray | None = None,
    normalize: bool = False,
) -> LloydResult:
    """Run exact k-means with Hamerly's bounds from ``centers_init``.

    Parameters and result as for :func:`~kmeanskit._engine.lloyd.lloyd` (dense ``X``
    only). ``history[i]`` is the objective of the labels of iteration ``i`` against the
    centres they were assigned to.

    Each point also keeps its runner-up centre and a bound on every other centre, so a
    point on the border of two clusters is settled with two distances instead of a
    full scan. The pruning is measured at every step: when most points needed a full
    scan, Lloyd passes take over for a while (see :class:`HamerlyState`), so the run
    never costs much more than Lloyd's.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = hamerly(X, np.ones(4), np.array([[0.0], [10.0]]))
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    d = X.shape[1]
    dtype = X.dtype
    use_gemm = d >= GEMM_MIN_FEATURES
    shift = gemm_shift(column_stats(X) if stats is None else stats) if use_gemm else None
    centers = np.array(centers_init, dtype=dtype, order="C", copy=True)
    with thread_limits(n_threads):
        state = HamerlyState(X, shift, centers.shape[0])

        def step(n_iter: int, move: np.ndarray) -> None:
            share = state.step(centers, move)
            logger.debug("iteration %d: %.1f%% of the rows scanned in full", n_iter, 100 * share)

        return iterate(
            X,
            sample_weight,
            centers,
            state.labels,
            state.shift,
            step,
            max_iter=max_iter,
            tol=tol,
            frozen=frozen,
            normalize=normalize,
        )
