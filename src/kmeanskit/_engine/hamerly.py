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
    CHUNK,
    GEMM_MIN_FEATURES,
    ColumnStats,
    column_stats,
    gemm_shift,
    thread_limits,
)
from .lloyd import LloydResult

logger = logging.getLogger(__name__)


def _half_gaps(centers: np.ndarray) -> np.ndarray:
    """Half the distance from each centre to its nearest other centre."""
    gaps = np.empty(centers.shape[0])
    _kernels.center_gaps(centers, gaps)
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


class HamerlyState:
    """Labels, runners-up and bounds of Hamerly's steps over one array, and the
    buffers of its kernel; :meth:`step` assigns against new centres.

    ``full_share``: a step after which more than this share of the rows needed a full
    scan is followed by a full step (every row through BLAS, the bounds reset), which
    costs less than testing bounds that no longer prune.
    """

    def __init__(self, X: np.ndarray, shift: np.ndarray | None, full_share: float = 0.7):
        n, d = X.shape
        self.X = X
        self.use_gemm = d >= GEMM_MIN_FEATURES
        self.centre = self.use_gemm and shift is not None
        self.shift = (np.asarray(shift, dtype=X.dtype) if self.centre
                      else np.zeros(d, dtype=X.dtype))  # fmt: skip
        # relative slack of the float32 bounds: covers their rounding and, for float32
        # data, distances summed in float32
        self.margin = 1e-5 if X.dtype == np.float32 else 1e-6
        self.err_scale = err_scale(X.dtype, d)
        self.full_share = full_share
        self.labels = np.zeros(n, dtype=np.int32)
        self.second = np.full(n, -1, dtype=np.int32)
        self.upper = np.full(n, np.inf, dtype=np.float32)
        self.lower = np.zeros(n, dtype=np.float32)
        self.rest = np.zeros(n, dtype=np.float32)
        self.work = np.zeros(max(1, -(-n // CHUNK)), dtype=np.int64)
        self.started = False
        self.last_share = 1.0
        self.full_steps = 0

    def step(
        self, centers: np.ndarray, move: np.ndarray, half_gap: np.ndarray | None = None
    ) -> float:
        """Assign against ``centers``, which moved by ``move`` since the last step;
        returns the share of the rows that needed a full scan. ``half_gap``: half the
        distance from each centre to its nearest other one, when the caller has it."""
        X = self.X
        n, d = X.shape
        k = centers.shape[0]
        full = not self.started or self.last_share > self.full_share
        if half_gap is None:
            half_gap = _half_gaps(centers)
        shifted = centers - self.shift
        csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64)
        top_v, top_id = largest_moves(move)
        moved = np.flatnonzero(move > 0)
        # a failing point is compared with the moved centres one by one (direct
        # distances) when that costs less than its full scan through BLAS
        direct, product = d / 16.0 + 8.0, d / 24.0 + 1.0
        n_moved = len(moved) if len(moved) * direct < 0.5 * k * product else -1
        threads = numba.get_num_threads()
        width = d if self.use_gemm else 0
        _hk.hamerly_step_dense(
            X, centers, np.ascontiguousarray(shifted.T), csq.astype(X.dtype),
            float(csq.max()), self.shift, self.centre, self.use_gemm,
            np.asarray(half_gap, dtype=np.float64),
            np.asarray(move, dtype=np.float64), top_v, top_id, moved, n_moved, CHUNK,
            self.margin,
            self.err_scale, full, np.empty((threads, CHUNK, width), dtype=X.dtype),
            np.empty((threads, CHUNK), dtype=np.int64), np.empty((threads, CHUNK)),
            self.labels, self.second, self.upper, self.lower, self.rest, self.work,
        )  # fmt: skip
        self.started = True
        self.full_steps += int(full)
        share = float(self.work.sum()) / max(n, 1)
        # a full step resets the bounds: the next one tries them again
        self.last_share = 0.0 if full else share
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
    scan, the next step scans every point through BLAS (a Lloyd pass that also resets
    the bounds), so the run never costs much more than Lloyd's.

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
        state = HamerlyState(X, shift)

        def step(n_iter: int, move: np.ndarray) -> None:
            share = state.step(centers, move)
            logger.debug("iteration %d: %.1f%% of the rows scanned in full", n_iter, 100 * share)

        return iterate(
            X, sample_weight, centers, state.labels, state.shift, step, max_iter=max_iter,
            tol=tol, frozen=frozen, normalize=normalize,
        )  # fmt: skip
