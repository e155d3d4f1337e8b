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


def _largest_other(move: np.ndarray) -> np.ndarray:
    """For each j, the largest ``move`` among the other centres."""
    if move.size == 1:
        return np.zeros(1)
    top = int(np.argmax(move))
    others = np.full(move.size, move[top])
    others[top] = np.max(np.delete(move, top))
    return others


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

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> res = hamerly(X, np.ones(4), np.array([[0.0], [10.0]]))
    >>> res.centers.ravel().tolist(), res.labels.tolist(), res.inertia
    ([0.5, 10.5], [0, 0, 1, 1], 1.0)
    """
    n, d = X.shape
    dtype = X.dtype
    # relative slack of the float32 bounds: covers their rounding and, for float32
    # data, distances summed in float32
    margin = 1e-5 if dtype == np.float32 else 1e-6
    use_gemm = d >= GEMM_MIN_FEATURES
    shift = gemm_shift(column_stats(X) if stats is None else stats) if use_gemm else None
    centre = shift is not None
    shift = np.zeros(d, dtype=dtype) if shift is None else shift.astype(dtype)
    centers = np.array(centers_init, dtype=dtype, order="C", copy=True)

    labels = np.zeros(n, dtype=np.int32)
    upper = np.full(n, np.inf, dtype=np.float32)
    lower = np.zeros(n, dtype=np.float32)

    with thread_limits(n_threads):
        threads = numba.get_num_threads()
        bufs = np.empty((threads, CHUNK, d if use_gemm else 0), dtype=dtype)
        idxbufs = np.empty((threads, CHUNK), dtype=np.int64)

        def step(n_iter: int, move: np.ndarray) -> None:
            if n_iter > 1:
                _hk.hamerly_move_bounds(labels, upper, lower, move, _largest_other(move), margin)
            shifted = centers - shift
            ct = np.ascontiguousarray(shifted.T)
            csq = np.einsum("ij,ij->i", shifted, shifted, dtype=np.float64)
            _hk.hamerly_assign_dense(
                X, centers, ct, csq, shift, centre, use_gemm, _half_gaps(centers), CHUNK,
                margin, bufs, idxbufs, labels, upper, lower,
            )  # fmt: skip

        return iterate(
            X, sample_weight, centers, labels, shift, step, max_iter=max_iter, tol=tol,
            frozen=frozen, normalize=normalize,
        )  # fmt: skip
